package flows

import (
	"fmt"
	"time"
)

// File is an uploaded Telegram file (document or photo).
type File struct {
	ID       string `json:"id"`             // Telegram file_id, reusable for resending
	UniqueID string `json:"uid,omitempty"`  // Telegram file_unique_id
	Name     string `json:"name,omitempty"` // original file name
	MIME     string `json:"mime,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Photo    bool   `json:"photo,omitempty"` // sent as a Telegram photo
}

// Answer is the answer to one question. Which fields are used depends on the
// question type: Num for integer and money (money in hundredths of 万元, so
// 1.25 万元 is 125), Text for text, phone and choice (the option id), Picks for
// multichoice (option ids in option order), Files for document and photos.
// Skipped marks an optional question the contact skipped.
type Answer struct {
	Num     int64    `json:"n,omitempty"`
	Text    string   `json:"t,omitempty"`
	Picks   []string `json:"p,omitempty"`
	Files   []File   `json:"f,omitempty"`
	Skipped bool     `json:"s,omitempty"`
}

// Status is where a unit's report stands.
type Status string

// Where the contact stands within a status is told by Draft.Cursor: a
// question id, or "" for the summary.
const (
	StatusNew       Status = ""          // never started
	StatusFilling   Status = "filling"   // first version being filled in
	StatusSubmitted Status = "submitted" // a version is submitted and the draft equals it
	StatusRevising  Status = "revising"  // submitted before, now being changed by the contact
	StatusReturned  Status = "returned"  // returned for correction (退回修改) by the office
)

// Draft is the state of one unit's report: the answers so far, where the
// contact is, and how many versions were submitted. There is one draft per
// unit, whichever of its contacts works on it.
type Draft struct {
	UnitID  int64             `json:"u"`
	Rev     int64             `json:"r"` // store revision; a transition from Rev n writes Rev n+1
	Status  Status            `json:"st,omitempty"`
	Cursor  string            `json:"c,omitempty"` // current question id; "" at the summary (or when not started / submitted)
	Editing bool              `json:"e,omitempty"` // changing one answer from the summary
	Answers map[string]Answer `json:"a,omitempty"`
	// Pending collects a multichoice selection or photos before 完成.
	Pending *Answer `json:"pd,omitempty"`
	// Prev is the unit's figures in the previous campaign, read once when
	// the draft starts; nil when there are none.
	Prev *Previous `json:"pv,omitempty"`
	// Confirmed lists the questions whose answer was far from the previous
	// value (or beyond TypicalMax) and which the contact confirmed.
	Confirmed []string `json:"ok,omitempty"`

	Version     int       `json:"v,omitempty"` // number of submitted versions
	Receipt     string    `json:"rc,omitempty"`
	SubmittedAt time.Time `json:"sa,omitzero"`
	Returned    *Return   `json:"rt,omitempty"`
	StartedAt   time.Time `json:"t0,omitzero"`
	UpdatedAt   time.Time `json:"t,omitzero"`
}

// Return records that the office returned a submitted report for correction.
type Return struct {
	Reason   string    `json:"reason"`
	Question string    `json:"q,omitempty"` // flagged question id, if any
	By       int64     `json:"by,omitempty"`
	At       time.Time `json:"at"`
}

// Report is one submitted version of a unit's report. Versions are kept.
type Report struct {
	UnitID      int64             `json:"unit_id"`
	Version     int               `json:"version"`
	Receipt     string            `json:"receipt"`
	SubmittedAt time.Time         `json:"submitted_at"`
	SubmittedBy int64             `json:"submitted_by"`
	Answers     map[string]Answer `json:"answers"`
	// Outliers are the questions whose answer was far from the previous
	// value and which the contact confirmed (Draft.Confirmed at submission).
	Outliers []string `json:"outliers,omitempty"`
}

// Transition is one atomic change of a unit's draft, computed by the engine
// from the draft at FromRev. A store applies it only if the stored draft is
// still at FromRev (else ErrConflict), UpdateID was not applied to this unit
// before (else ErrDuplicate) and, when UserID is non-zero, the user is still a
// contact of the unit (else ErrNotContact). When Report is set it is appended
// to the unit's versions in the same transaction.
type Transition struct {
	Campaign string // the campaign's store key (see Store.Draft)
	UnitID   int64
	UpdateID int64 // Telegram update id, or another id unique per input; 0 = no dedupe
	UserID   int64
	FromRev  int64
	Draft    Draft // the new draft; its Rev must be FromRev+1
	Report   *Report
	// Outbox are the messages the change produces (replies, the office
	// group's post), written in the same atomic write as the draft and
	// delivered later by the sender. Stores assign their IDs in place
	// (t.Outbox[i].ID), so that the caller can hand the written messages
	// to a sender in the same process.
	Outbox []Outgoing
}

// Check rejects a transition the engine never produces (a draft of
// another unit, a revision that is not FromRev+1) and fills in unit ids
// left zero. Stores call it before applying.
func (t *Transition) Check() error {
	if t.Draft.UnitID == 0 {
		t.Draft.UnitID = t.UnitID
	}
	if t.Draft.UnitID != t.UnitID {
		return fmt.Errorf("draft is of unit %d, transition of unit %d", t.Draft.UnitID, t.UnitID)
	}
	if t.Draft.Rev != t.FromRev+1 {
		return fmt.Errorf("draft rev %d, want from rev %d + 1", t.Draft.Rev, t.FromRev)
	}
	if t.Report != nil {
		if t.Report.UnitID == 0 {
			r := *t.Report
			r.UnitID = t.UnitID
			t.Report = &r
		}
		if t.Report.UnitID != t.UnitID {
			return fmt.Errorf("report is of unit %d, transition of unit %d", t.Report.UnitID, t.UnitID)
		}
	}
	return nil
}
