package flows

import "time"

// Input is one thing a contact did in the private chat.
type Input struct {
	Text string // typed text (already trimmed of surrounding space)
	Data string // callback data of a pressed inline button
	File *File  // an uploaded document or photo
	// Cmd is a command the engine handles: "report" (start or resume),
	// "cancel", "status".
	Cmd string
}

// Button is an inline keyboard button. Data is ≤ 64 bytes (ids, not labels).
type Button struct {
	Text string
	Data string
}

// Reply is one message to send back to the contact.
type Reply struct {
	Text    string
	Buttons [][]Button
	// Edit asks to replace the message whose button was pressed (text and
	// keyboard) instead of sending a new message, e.g. toggling a
	// multichoice option.
	Edit bool
}

// Env is what a step needs to know besides the draft and the input.
type Env struct {
	Unit     Unit
	UserID   int64
	Now      time.Time
	Deadline time.Time // the effective deadline (an admin may have moved it)
}

// Result is what a step produced.
type Result struct {
	Draft   Draft   // the new draft; equal to the old one if nothing changed
	Changed bool    // the draft must be stored (Rev already incremented)
	Replies []Reply // messages to the contact, in order
	Report  *Report // a newly submitted version to keep, if any
	// Outbox is what Service.Handle wrote to the outbox for the replies
	// (and the office group's post), with their IDs; Step leaves it empty.
	Outbox []Outgoing
}
