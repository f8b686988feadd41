package flows

import (
	"fmt"
	"strings"
	"time"
)

// The outbox: every message a committed change produces is written to the
// store in the same atomic write as the change (Transition.Outbox, or
// Store.Commit for work that changes no draft), and delivered afterwards by
// one sender that drains the outbox (bot/outbox). Intake therefore never
// waits on Telegram, and a crash after the write loses no message: the
// sender finds it in the store when it starts again.

// OfficeGroup as an Outgoing's Chat stands for the office group, whatever
// its chat id is when the message is delivered (none set: dropped).
const OfficeGroup int64 = 0

// OutKind is what a queued message asks of Telegram.
type OutKind string

const (
	// OutText sends Text (split at line breaks when it is too long for one
	// message) with Buttons under the last part.
	OutText OutKind = "text"
	// OutEdit replaces the text and buttons of message MsgID; when that
	// fails (the message is too old, or gone) it is sent as a new message.
	OutEdit OutKind = "edit"
	// OutUnbutton strips message MsgID of its buttons, so that a pressed
	// keyboard cannot be pressed twice.
	OutUnbutton OutKind = "unbutton"
	// OutFile sends File (by its Telegram file id, as a photo when
	// File.Photo) or, when Upload is set, uploads Upload as File.Name; Text
	// is the caption.
	OutFile OutKind = "file"
)

// Outgoing is one queued message for Telegram: one Bot API call (or, for a
// long text, a few), delivered at least once and, in a run without
// crashes, exactly once.
type Outgoing struct {
	// ID is assigned by the store when the message is written: unique, and
	// in the order of writing within one process (Outbox lists by it).
	ID      string     `json:"id,omitempty"`
	Chat    int64      `json:"c,omitempty"` // OfficeGroup (0) for the office group
	Kind    OutKind    `json:"k"`
	MsgID   int        `json:"m,omitempty"` // OutEdit, OutUnbutton
	Text    string     `json:"t,omitempty"` // text, or a file's caption
	Buttons [][]Button `json:"b,omitempty"`
	File    *File      `json:"f,omitempty"`
	Upload  []byte     `json:"u,omitempty"`
	// Post marks a submission post for the office group: when posts queue
	// up faster than the group's limit allows, the sender merges them into
	// one message (see MergePosts), and their documents into albums.
	Post bool      `json:"p,omitempty"`
	At   time.Time `json:"at,omitzero"` // when the change was made
}

// String is a short description for logs (never the text: it may hold a
// link with an invite token).
func (o Outgoing) String() string {
	return fmt.Sprintf("%s to chat %d (id %s)", o.Kind, o.Chat, o.ID)
}

// PlanReplies turns the engine's replies to an input in chat into queued
// messages. When the input was a pressed button (pressed is its message id,
// 0 otherwise), the pressed message is edited by the first Edit reply, or
// stripped of its buttons, so that they cannot be pressed twice.
func PlanReplies(chat int64, pressed int, rs []Reply, at time.Time) []Outgoing {
	out := make([]Outgoing, 0, len(rs)+1)
	handled := pressed == 0
	for _, r := range rs {
		if !handled && r.Edit {
			out = append(out, Outgoing{Chat: chat, Kind: OutEdit, MsgID: pressed, Text: r.Text, Buttons: r.Buttons, At: at})
			handled = true
			continue
		}
		if !handled {
			out = append(out, Outgoing{Chat: chat, Kind: OutUnbutton, MsgID: pressed, At: at})
			handled = true
		}
		out = append(out, Outgoing{Chat: chat, Kind: OutText, Text: r.Text, Buttons: r.Buttons, At: at})
	}
	if !handled {
		out = append(out, Outgoing{Chat: chat, Kind: OutUnbutton, MsgID: pressed, At: at})
	}
	return out
}

// SubmissionPost is what the office group is told of a submitted version:
// the post with the unit, version, receipt and key figures, then every
// document of the report (resent by file id).
func (c *Campaign) SubmissionPost(u Unit, r Report) []Outgoing {
	return c.SubmissionPostBeside(u, r, nil)
}

// SubmissionPostBeside is SubmissionPost with the unit's previous figures
// (the draft's Prev), so that confirmed outliers show last year's value.
func (c *Campaign) SubmissionPostBeside(u Unit, r Report, prev *Previous) []Outgoing {
	out := []Outgoing{{Chat: OfficeGroup, Kind: OutText, Text: c.SubmissionTextBeside(u, r, prev), Post: true, At: r.SubmittedAt}}
	for _, q := range c.Questions() {
		if q.Type != TypeDocument {
			continue
		}
		for _, f := range r.Answers[q.ID].Files {
			caption := fmt.Sprintf("%s · %s · 第 %d 版", u.Name, strings.TrimSuffix(q.Prompt, "："), r.Version)
			out = append(out, Outgoing{Chat: OfficeGroup, Kind: OutFile, File: &f, Text: TruncateRunes(caption, 1000), Post: true, At: r.SubmittedAt})
		}
	}
	return out
}

// MergePosts joins the texts of several submission posts into one message
// for the office group, when they come faster than the group may be sent
// messages. Each post keeps its unit, version, receipt and key figures.
func MergePosts(texts []string) string {
	if len(texts) == 1 {
		return texts[0]
	}
	return fmt.Sprintf("📬 以下 %d 份报告刚刚提交（合并发送）：\n\n", len(texts)) + strings.Join(texts, "\n\n")
}

// TruncateRunes cuts s to at most n runes, marking a cut with "…".
func TruncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ClaimState is the answer of Store.Claim.
type ClaimState int

const (
	// Claimed: the caller holds the claim and should do the work, then
	// Commit with the same key.
	Claimed ClaimState = iota
	// Done: the work was committed before; do nothing.
	Done
	// Busy: another run holds the claim (on another replica, or a crashed
	// run whose claim has not expired yet); try again later.
	Busy
)

// String names the state, for logs and test failures.
func (s ClaimState) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Done:
		return "done"
	case Busy:
		return "busy"
	}
	return fmt.Sprintf("ClaimState(%d)", int(s))
}
