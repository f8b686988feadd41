package flows

import (
	"context"
	"errors"
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

	// Drafts and reports belong to a campaign. campaign is the campaign's
	// store key (CampaignKey): "" for the first campaign of a store — the
	// keys a store had before it held several campaigns, so that a store
	// written by an earlier release opens as that campaign unchanged — and
	// the campaign's id for every later one. One campaign's drafts and
	// reports are never visible under another's key.
	//
	// Draft returns the unit's draft; a unit never started has a zero Draft
	// with UnitID set and Rev 0.
	Draft(ctx context.Context, campaign string, unitID int64) (Draft, error)
	// Drafts returns the drafts of all units that have one in the campaign.
	Drafts(ctx context.Context, campaign string) ([]Draft, error)
	// Apply applies a transition atomically (see Transition), in the
	// campaign t.Campaign.
	Apply(ctx context.Context, t Transition) error
	// Reports returns every submitted version of the unit in the campaign,
	// oldest first.
	Reports(ctx context.Context, campaign string, unitID int64) ([]Report, error)

	// Settings are small campaign-wide values (office group chat id, deadline
	// override, reminders on/off…). ErrNotFound when unset.
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error

	// Seen records a processed update id that touched no unit; it returns
	// false if the id was already recorded. Ids older than a few days may
	// be forgotten. (The bot no longer calls it: a command runs once
	// through Claim and Commit, a unit's update through Apply's UpdateID.)
	Seen(ctx context.Context, updateID int64) (first bool, err error)
	// Processed reports whether Seen recorded the id (without recording it).
	Processed(ctx context.Context, updateID int64) (bool, error)

	// Once is a marker for exactly-once work: it returns true to the first
	// caller for key, false after. (The bot's reminders need a marker with
	// two states, being sent and sent, and use Lock instead.)
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Lock takes a lock (key, token) for ttl; Unlock releases it only if the
	// token still holds it. Taking it again with the same token extends it.
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
