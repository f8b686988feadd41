// Package flows is reportbot's domain: campaigns and their forms (read from
// a YAML campaign file and checked), the step engine that walks a unit's
// contact through the report in chat or by a filled-in template,
// validation, the texts of the form, the office's overview and totals, the
// reminder and digest schedule and their texts, the import of units, the
// outbox of messages to send, and the interface the domain needs from the
// outside world (Store), which Service runs the engine against. Apart from
// LoadCampaign reading a campaign file it does no I/O of its own, and it
// imports neither Telegram nor Redis nor bbolt.
package flows
