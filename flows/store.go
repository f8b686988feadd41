// Package flows is reportbot's domain: campaigns and their forms, the step
// engine that walks a unit's contact through the report, validation,
// summaries, totals, and the interfaces the domain needs from the outside
// world (Store). It does no I/O of its own and imports neither Telegram nor
// Redis nor bbolt.
package flows

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by stores and the service. Check with errors.Is.
var (
	// ErrNotFound: the unit, contact, invite or setting does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a transition was computed from a stale draft (its FromRev
	// is not the stored revision), or PutUnit from a stale unit (its Rev).
	// Nothing was written; reload and retry.
	ErrConflict = errors.New("stale draft revision")
	// ErrDuplicate: this update id was already applied to this unit.
	// Nothing was written.
	ErrDuplicate = errors.New("update already applied")
	// ErrNotContact: the user is not (or no longer) a contact of the unit.
	ErrNotContact = errors.New("user is not a contact of the unit")
	// ErrExists: a unit with that name already exists.
	ErrExists = errors.New("already exists")
	// ErrInviteUsed, ErrInviteExpired: the invite token cannot bind anyone.
	ErrInviteUsed    = errors.New("invite already used")
	ErrInviteExpired = errors.New("invite expired")
	// ErrInviteRevoked: an admin revoked the invite (/revoke) before it was used.
	ErrInviteRevoked = errors.New("invite revoked")
	// ErrUnitRemoved: the invite's unit was removed (/rmunit); nobody can bind to it.
	ErrUnitRemoved = errors.New("unit removed")
	// ErrAlreadyBound: the user is already a contact of another unit.
	ErrAlreadyBound = errors.New("user is a contact of another unit")
)

// Unit is a reporting unit (填报单位), e.g. 离石区双拥工作领导小组.
type Unit struct {
	ID       int64     `json:"id"`       // assigned by the store, 1, 2, 3…; also the receipt's serial
	Name     string    `json:"name"`     // unique within the campaign
	Category string    `json:"category"` // a category id of the campaign, e.g. "county"
	Note     string    `json:"note,omitempty"`
	Created  time.Time `json:"created"`
	Removed  bool      `json:"removed,omitempty"` // archived by /rmunit; reports are kept
	// Rev is the store's revision of the unit: PutUnit writes only if the
	// stored Rev is still this one, and stores Rev+1. Units stored before
	// revisions existed have none, which reads as 0.
	Rev int64 `json:"rev,omitempty"`
}

// Contact is a Telegram user bound to a unit (填报联系人).
type Contact struct {
	UserID      int64     `json:"user_id"`
	UnitID      int64     `json:"unit_id"`
	ChatID      int64     `json:"chat_id"` // private chat with the bot
	Name        string    `json:"name,omitempty"`
	BoundAt     time.Time `json:"bound_at"`
	Unreachable bool      `json:"unreachable,omitempty"` // blocked the bot (403)
}

// Invite is a single-use invite link token for a unit. Only the hash of the
// token is stored.
type Invite struct {
	Hash      string    `json:"hash"` // hex SHA-256 of the token
	UnitID    int64     `json:"unit_id"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	UsedBy    int64     `json:"used_by,omitempty"`
	UsedAt    time.Time `json:"used_at,omitzero"`
	Handover  int64     `json:"handover,omitempty"` // user id that hands the unit over; loses access when the invite is used
	CreatedBy int64     `json:"created_by,omitempty"`
	Revoked   time.Time `json:"revoked_at,omitzero"` // revoked by an admin (/revoke); cannot bind
}

// Open reports whether the invite can still bind someone at now: unused,
// not revoked, not expired.
func (inv Invite) Open(now time.Time) bool {
	return inv.UsedBy == 0 && inv.Revoked.IsZero() && (inv.Expires.IsZero() || now.Before(inv.Expires))
}

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
}

// Transition is one atomic change of a unit's draft, computed by the engine
// from the draft at FromRev. A store applies it only if the stored draft is
// still at FromRev (else ErrConflict), UpdateID was not applied to this unit
// before (else ErrDuplicate) and, when UserID is non-zero, the user is still a
// contact of the unit (else ErrNotContact). When Report is set it is appended
// to the unit's versions in the same transaction.
type Transition struct {
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

// Store is everything the domain keeps. Implementations: storage/redis and
// storage/bolt; storage/storetest is the conformance suite both pass.
// All methods are safe for concurrent use.
type Store interface {
	// Units.
	// AddUnit creates a unit and assigns its ID; ErrExists if the name is taken.
	AddUnit(ctx context.Context, u Unit) (Unit, error)
	// AddUnits creates all units or none (ErrExists names the first taken
	// name in its message); names already present with the same category are
	// skipped, so re-importing a file changes nothing.
	AddUnits(ctx context.Context, us []Unit) (added []Unit, err error)
	Unit(ctx context.Context, id int64) (Unit, error)
	UnitByName(ctx context.Context, name string) (Unit, error)
	// Units lists units in ID order, removed ones included.
	Units(ctx context.Context) ([]Unit, error)
	// PutUnit updates an existing unit (rename, remove) read at revision
	// u.Rev: it writes only if the stored revision is still u.Rev (else
	// ErrConflict, nothing written) and stores the unit at u.Rev+1.
	// ErrExists if the new name is taken by another unit. AddUnit and
	// AddUnits store new units at revision 0.
	PutUnit(ctx context.Context, u Unit) error

	// Invites and contacts.
	PutInvite(ctx context.Context, inv Invite) error
	Invites(ctx context.Context, unitID int64) ([]Invite, error)
	// Bind consumes the invite with this hash for the contact (whose UnitID
	// is filled in from the invite) and returns the unit. A second Bind of
	// the same invite by the same user returns the same result (idempotent);
	// by another user ErrInviteUsed. ErrInviteExpired after Expires,
	// ErrNotFound for an unknown hash, ErrAlreadyBound if the user is a
	// contact of another unit, ErrInviteRevoked after RevokeInvites,
	// ErrUnitRemoved if the unit is removed. A handover invite removes the
	// handing-over contact in the same transaction.
	Bind(ctx context.Context, hash string, c Contact, now time.Time) (Unit, error)
	// RevokeInvites marks the unit's invites that are open at now (see
	// Invite.Open) and were created at or before now revoked at now, and
	// returns how many it revoked; used, expired, already revoked and
	// newer invites are left as they are, so a second call returns 0.
	RevokeInvites(ctx context.Context, unitID int64, now time.Time) (int, error)
	Contact(ctx context.Context, userID int64) (Contact, error)
	Contacts(ctx context.Context, unitID int64) ([]Contact, error)
	PutContact(ctx context.Context, c Contact) error // e.g. mark unreachable
	RemoveContact(ctx context.Context, userID int64) error

	// Drafts and reports.
	// Draft returns the unit's draft; a unit never started has a zero Draft
	// with UnitID set and Rev 0.
	Draft(ctx context.Context, unitID int64) (Draft, error)
	// Drafts returns the drafts of all units that have one.
	Drafts(ctx context.Context) ([]Draft, error)
	// Apply applies a transition atomically (see Transition).
	Apply(ctx context.Context, t Transition) error
	// Reports returns every submitted version of the unit, oldest first.
	Reports(ctx context.Context, unitID int64) ([]Report, error)

	// Settings are small campaign-wide values (office group chat id, deadline
	// override, reminders on/off…). ErrNotFound when unset.
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error

	// Seen records a processed update id that touched no unit (commands,
	// binds); it returns false if the id was already recorded. Ids older
	// than a few days may be forgotten. The bot records an update only
	// after its effects are stored, and checks Processed before handling a
	// command, so a redelivered command is not applied twice.
	Seen(ctx context.Context, updateID int64) (first bool, err error)
	// Processed reports whether Seen recorded the id (without recording it).
	Processed(ctx context.Context, updateID int64) (bool, error)

	// Once is a marker for exactly-once work (a reminder to one unit in one
	// round): it returns true to the first caller for key, false after.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Lock takes a lock (key, token) for ttl; Unlock releases it only if the
	// token still holds it.
	Lock(ctx context.Context, key, token string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, key, token string) error

	// The outbox (see flows/outbox.go). Messages are written by Apply
	// (Transition.Outbox) or Commit, listed by Outbox and removed by
	// Delivered once Telegram has them.
	//
	// Claim takes key for work that must be done once (a command): claim,
	// do the work, then Commit with the same key. It answers Claimed (held
	// by token for ttl), Done (committed before) or Busy (held by another
	// token). Claiming again with the same token extends the claim.
	Claim(ctx context.Context, key, token string, ttl time.Duration) (ClaimState, error)
	// Commit writes msgs to the outbox and, when key is not empty, marks
	// key done for keep (releasing its claim), atomically. If key is done
	// already, nothing is written and Commit returns false. Like Apply, it
	// assigns the messages' IDs in place (msgs[i].ID).
	Commit(ctx context.Context, key string, keep time.Duration, msgs []Outgoing) (bool, error)
	// Outbox lists undelivered messages, by ID. With all, every message
	// in the store (a sender starting or taking over); without, at least
	// the messages written since the previous call by other processes
	// (a sender's periodic look for work it was not handed in memory);
	// a store that only one process can open returns none.
	Outbox(ctx context.Context, all bool) ([]Outgoing, error)
	// Delivered removes delivered messages from the outbox; unknown ids
	// are ignored.
	Delivered(ctx context.Context, ids []string) error

	// Ping checks the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}
