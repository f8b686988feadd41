// Package flows is reportbot's domain: campaigns and their forms, the step
// engine that walks a unit's contact through the report, validation,
// summaries, totals, and the interfaces the domain needs from the outside
// world (Store). It does no I/O of its own and imports neither Telegram nor
// Redis nor bbolt.
package flows
