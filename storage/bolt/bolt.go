// Package bolt implements flows.Store on a bbolt file: the embedded store
// for a single machine and a single process.
//
// Every method is one bbolt transaction, so every method is atomic and
// bbolt's single writer serialises all changes. Units, invites, contacts
// and reports are stored as JSON, drafts and outbox messages as CBOR (see
// storage/internal/codec); keys of ids are 8-byte big-endian with the sign
// bit flipped, so they sort numerically.
//
// Buckets:
//
//	units          id → Unit (NextSequence assigns ids)
//	unit_names     name → id
//	invites        hash → Invite
//	unit_invites   unit id ‖ hash → ∅ (index for Invites)
//	contacts       user id → Contact
//	unit_contacts  unit id ‖ user id → ∅ (index for Contacts and Apply's contact check)
//	drafts         unit id → rev (8 bytes) ‖ Draft (storage/internal/codec: CBOR, S2-compressed if large)
//	applied_ids    update id ‖ unit id → time (Apply's dedupe, kept seenKeep)
//	reports        unit id → bucket: seq → Report
//	settings       key → value
//	seen           update id → time (Seen, kept seenKeep)
//	once           key → expiry (0 = never)
//	locks          key → expiry ‖ token
//	outbox         seq (8 bytes, NextSequence) → flows.Outgoing without its ID (storage/internal/codec: CBOR)
//	done           key → expiry (Commit's done marks; 0 = never)
//	done_expiry    expiry ‖ key → ∅ (index by which Commit trims expired done marks)
//	claims         key → expiry ‖ token (Claim)
//	campaigns      campaign key → bucket: drafts, reports (below)
//
// Drafts and reports belong to a campaign (flows.Store.Draft). The drafts
// and reports buckets above are those of campaign key "" (a store's first
// campaign: a file written before campaigns existed is read as it is).
// Every other campaign has a bucket of its own under campaigns, created by
// its first Apply, holding buckets laid out as the top-level ones:
//
//	campaigns/<key>/drafts   unit id → rev ‖ Draft, as drafts
//	campaigns/<key>/reports  unit id → bucket: seq → Report, as reports
//
// Everything else is shared by all campaigns, Apply's dedupe (applied_ids)
// included: an update id is unique across campaigns.
//
// Buckets are created on open, so a file written by an older version
// gains the new ones (empty) when it is opened.
//
// # The outbox
//
// A message's ID is its outbox sequence number as 20 decimal digits, so
// IDs sort as strings in the order of writing, across restarts too. Apply
// writes its Transition.Outbox in the transaction of the draft; Commit
// writes its messages and the done mark in one transaction. Only one
// process can open the file, so Outbox(false) (messages written by other
// processes) returns none.
package bolt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"reportbot/flows"
	"reportbot/storage/internal/codec"
)

// ErrLocked is returned (wrapped) by Open when another process holds the file.
var ErrLocked = errors.New("database is locked by another process")

// seenKeep is how long update ids are remembered for dedupe.
const seenKeep = 72 * time.Hour

// trimBatch bounds the expired entries one call deletes, so that no single
// transaction does unbounded work.
const trimBatch = 64

var (
	bUnits        = []byte("units")
	bUnitNames    = []byte("unit_names")
	bInvites      = []byte("invites")
	bUnitInvites  = []byte("unit_invites")
	bContacts     = []byte("contacts")
	bUnitContacts = []byte("unit_contacts")
	bDrafts       = []byte("drafts")
	bApplied      = []byte("applied_ids")
	bReports      = []byte("reports")
	bSettings     = []byte("settings")
	bSeen         = []byte("seen")
	bOnce         = []byte("once")
	bLocks        = []byte("locks")
	bOutbox       = []byte("outbox")
	bDone         = []byte("done")
	bDoneExpiry   = []byte("done_expiry")
	bClaims       = []byte("claims")
	bCampaigns    = []byte("campaigns")

	allBuckets = [][]byte{bUnits, bUnitNames, bInvites, bUnitInvites, bContacts, bUnitContacts,
		bDrafts, bApplied, bReports, bSettings, bSeen, bOnce, bLocks,
		bOutbox, bDone, bDoneExpiry, bClaims, bCampaigns}
)

// Store is a flows.Store on a bbolt file. It is safe for concurrent use.
type Store struct {
	db       *bbolt.DB
	now      func() time.Time
	applying atomic.Int32 // Apply calls in flight

	closeOnce sync.Once
	closeErr  error
}

var _ flows.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path. If another
// process has it open, Open gives up after 2 seconds with an error wrapping
// ErrLocked.
func Open(path string) (*Store, error) {
	return open(path, 2*time.Second)
}

func open(path string, timeout time.Duration) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open bolt database: %w", err)
		}
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open bolt database %s: %w (gave up after %v: %w)", path, ErrLocked, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open bolt database %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return migrateApplied(tx)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open bolt database %s: %w", path, err)
	}
	// Apply's batches (see batch) wait this long for other chats' steps:
	// enough to gather the steps of a polled batch's chats, which the bot
	// handles at once, nothing next to a Telegram round trip. With
	// `reportbot loadtest` (200 contacts, BENCHMARKS.md) 2 ms gathers about
	// 8 steps per commit (0.26 fdatasyncs per step), 0.5 ms about 5
	// (0.43).
	db.MaxBatchDelay = 2 * time.Millisecond
	return &Store{db: db, now: time.Now}, nil
}

// migrateApplied moves Apply's update ids from the bucket "applied", keyed
// unit id ‖ update id before applied_ids, to applied_ids, so that an update
// Telegram redelivers after an upgrade is still recognised.
func migrateApplied(tx *bbolt.Tx) error {
	old := tx.Bucket([]byte("applied"))
	if old == nil {
		return nil
	}
	applied := tx.Bucket(bApplied)
	err := old.ForEach(func(k, v []byte) error {
		if len(k) != 16 {
			return nil
		}
		return applied.Put(id2(decodeID(k[8:]), decodeID(k[:8])), slices.Clone(v))
	})
	if err != nil {
		return fmt.Errorf("move applied update ids: %w", err)
	}
	return tx.DeleteBucket([]byte("applied"))
}

// Close closes the file. It may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close bolt database: %w", err)
		}
	})
	return s.closeErr
}

// Ping checks the database is open.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(*bbolt.Tx) error { return nil })
}

func (s *Store) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// batch is update for Apply and Commit, the writes of form steps: calls made
// while another is in flight share one transaction, so one commit (two
// fdatasyncs) serves several chats' steps; a lone call commits at once.
// fn may run more than once (bbolt reruns a call that failed on its own)
// and has no effect outside tx.
func (s *Store) batch(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.applying.Add(-1)
	if s.applying.Add(1) == 1 {
		return s.db.Update(fn)
	}
	return s.db.Batch(fn)
}

func (s *Store) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

// appendFill is how full bbolt fills pages of buckets whose keys only grow.
const appendFill = 0.95

// appendOnly sets a bucket whose new keys always sort last (sequence ids,
// update ids) to fill its pages: bbolt's default splits every page half
// full, as a page of random keys needs room, and a page that is only ever
// appended to would stay half empty, doubling the file and the memory its
// pages take once read.
func appendOnly(b *bbolt.Bucket) *bbolt.Bucket {
	b.FillPercent = appendFill
	return b
}

// id encodes an id as an order-preserving 8-byte key.
func id(n int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(n)^(1<<63))
}

func decodeID(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
}

// id2 is the key of a pair of ids, e.g. unit id ‖ user id.
func id2(a, b int64) []byte {
	return binary.BigEndian.AppendUint64(id(a), uint64(b)^(1<<63))
}

func putTime(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

func getTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)))
}

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return b.Put(key, data)
}

// getJSON decodes the value at key into v; ErrNotFound if there is none.
func getJSON(b *bbolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return flows.ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// Units.

func getUnit(tx *bbolt.Tx, unitID int64) (flows.Unit, error) {
	var u flows.Unit
	if err := getJSON(tx.Bucket(bUnits), id(unitID), &u); err != nil {
		return flows.Unit{}, err
	}
	return u, nil
}

// addUnit assigns the next id to u and stores it; the caller checked its name.
func addUnit(tx *bbolt.Tx, u *flows.Unit) error {
	units := appendOnly(tx.Bucket(bUnits))
	seq, err := units.NextSequence()
	if err != nil {
		return err
	}
	u.ID = int64(seq)
	u.Rev = 0
	if err := putJSON(units, id(u.ID), u); err != nil {
		return err
	}
	return tx.Bucket(bUnitNames).Put([]byte(u.Name), id(u.ID))
}

// AddUnit creates a unit; ErrExists if the name is taken.
func (s *Store) AddUnit(ctx context.Context, u flows.Unit) (flows.Unit, error) {
	if u.Name == "" {
		return flows.Unit{}, errors.New("add unit: empty name")
	}
	if u.Created.IsZero() {
		u.Created = s.now().UTC()
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bUnitNames).Get([]byte(u.Name)) != nil {
			return flows.ErrExists
		}
		return addUnit(tx, &u)
	})
	if err != nil {
		return flows.Unit{}, fmt.Errorf("add unit %q: %w", u.Name, err)
	}
	return u, nil
}

// AddUnits creates all new units or none; see flows.Store.
func (s *Store) AddUnits(ctx context.Context, us []flows.Unit) ([]flows.Unit, error) {
	now := s.now().UTC()
	var added []flows.Unit
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		added = added[:0]
		names := tx.Bucket(bUnitNames)
		for _, u := range us {
			if u.Name == "" {
				return errors.New("empty unit name")
			}
			// A unit added earlier in this batch is found here too.
			if v := names.Get([]byte(u.Name)); v != nil {
				old, err := getUnit(tx, decodeID(v))
				if err != nil {
					return fmt.Errorf("unit %q: %w", u.Name, err)
				}
				if old.Category != u.Category {
					return fmt.Errorf("unit %q (category %s, not %s): %w", u.Name, old.Category, u.Category, flows.ErrExists)
				}
				continue
			}
			if u.Created.IsZero() {
				u.Created = now
			}
			if err := addUnit(tx, &u); err != nil {
				return fmt.Errorf("unit %q: %w", u.Name, err)
			}
			added = append(added, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add units: %w", err)
	}
	return added, nil
}

// Unit returns the unit with this id.
func (s *Store) Unit(ctx context.Context, unitID int64) (flows.Unit, error) {
	var u flows.Unit
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		u, err = getUnit(tx, unitID)
		return err
	})
	if err != nil {
		return flows.Unit{}, fmt.Errorf("unit %d: %w", unitID, err)
	}
	return u, nil
}

// UnitByName returns the unit with this exact name.
func (s *Store) UnitByName(ctx context.Context, name string) (flows.Unit, error) {
	var u flows.Unit
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		v := tx.Bucket(bUnitNames).Get([]byte(name))
		if v == nil {
			return flows.ErrNotFound
		}
		u, err = getUnit(tx, decodeID(v))
		return err
	})
	if err != nil {
		return flows.Unit{}, fmt.Errorf("unit %q: %w", name, err)
	}
	return u, nil
}

// Units lists all units in id order.
func (s *Store) Units(ctx context.Context) ([]flows.Unit, error) {
	var us []flows.Unit
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bUnits).ForEach(func(_, v []byte) error {
			var u flows.Unit
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("decode unit: %w", err)
			}
			us = append(us, u)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return us, nil
}

// PutUnit updates an existing unit read at u.Rev and stores it at u.Rev+1;
// ErrConflict if the stored revision is another (a unit stored before
// revisions existed is at 0), ErrExists if its new name is taken.
func (s *Store) PutUnit(ctx context.Context, u flows.Unit) error {
	if u.Name == "" {
		return fmt.Errorf("put unit %d: empty name", u.ID)
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getUnit(tx, u.ID)
		if err != nil {
			return err
		}
		if old.Rev != u.Rev {
			return fmt.Errorf("read at revision %d, stored %d: %w", u.Rev, old.Rev, flows.ErrConflict)
		}
		u.Rev++
		if old.Name != u.Name {
			names := tx.Bucket(bUnitNames)
			if v := names.Get([]byte(u.Name)); v != nil {
				return fmt.Errorf("name %q: %w", u.Name, flows.ErrExists)
			}
			if err := names.Delete([]byte(old.Name)); err != nil {
				return err
			}
			if err := names.Put([]byte(u.Name), id(u.ID)); err != nil {
				return err
			}
		}
		if u.Created.IsZero() {
			u.Created = old.Created
		}
		return putJSON(tx.Bucket(bUnits), id(u.ID), u)
	})
	if err != nil {
		return fmt.Errorf("put unit %d: %w", u.ID, err)
	}
	return nil
}

// Invites and contacts.

// PutInvite stores an invite of an existing unit.
func (s *Store) PutInvite(ctx context.Context, inv flows.Invite) error {
	if inv.Hash == "" {
		return fmt.Errorf("put invite of unit %d: empty hash", inv.UnitID)
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		if _, err := getUnit(tx, inv.UnitID); err != nil {
			return fmt.Errorf("unit %d: %w", inv.UnitID, err)
		}
		invites := tx.Bucket(bInvites)
		var old flows.Invite
		if err := getJSON(invites, []byte(inv.Hash), &old); err == nil && old.UnitID != inv.UnitID {
			if err := tx.Bucket(bUnitInvites).Delete(append(id(old.UnitID), inv.Hash...)); err != nil {
				return err
			}
		}
		if err := putJSON(invites, []byte(inv.Hash), inv); err != nil {
			return err
		}
		return tx.Bucket(bUnitInvites).Put(append(id(inv.UnitID), inv.Hash...), nil)
	})
	if err != nil {
		return fmt.Errorf("put invite of unit %d: %w", inv.UnitID, err)
	}
	return nil
}

// Invites lists the unit's invites by creation time.
func (s *Store) Invites(ctx context.Context, unitID int64) ([]flows.Invite, error) {
	var invs []flows.Invite
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		invites := tx.Bucket(bInvites)
		prefix := id(unitID)
		c := tx.Bucket(bUnitInvites).Cursor()
		for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var inv flows.Invite
			if err := getJSON(invites, k[len(prefix):], &inv); err != nil {
				return fmt.Errorf("invite %.8s: %w", k[len(prefix):], err)
			}
			invs = append(invs, inv)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list invites of unit %d: %w", unitID, err)
	}
	slices.SortFunc(invs, func(a, b flows.Invite) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Hash, b.Hash))
	})
	return invs, nil
}

// RevokeInvites marks the unit's open invites revoked; see flows.Store.
func (s *Store) RevokeInvites(ctx context.Context, unitID int64, now time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0 // update may run fn again
		invites := tx.Bucket(bInvites)
		prefix := id(unitID)
		c := tx.Bucket(bUnitInvites).Cursor()
		for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			hash := k[len(prefix):]
			var inv flows.Invite
			if err := getJSON(invites, hash, &inv); err != nil {
				return fmt.Errorf("invite %.8s: %w", hash, err)
			}
			if !inv.Open(now) || inv.Created.After(now) {
				continue
			}
			inv.Revoked = now
			if err := putJSON(invites, hash, inv); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("revoke invites of unit %d: %w", unitID, err)
	}
	return n, nil
}

func getContact(tx *bbolt.Tx, userID int64) (flows.Contact, error) {
	var c flows.Contact
	if err := getJSON(tx.Bucket(bContacts), id(userID), &c); err != nil {
		return flows.Contact{}, err
	}
	return c, nil
}

func putContact(tx *bbolt.Tx, c flows.Contact) error {
	if err := putJSON(tx.Bucket(bContacts), id(c.UserID), c); err != nil {
		return err
	}
	return tx.Bucket(bUnitContacts).Put(id2(c.UnitID, c.UserID), nil)
}

func removeContact(tx *bbolt.Tx, c flows.Contact) error {
	if err := tx.Bucket(bContacts).Delete(id(c.UserID)); err != nil {
		return err
	}
	return tx.Bucket(bUnitContacts).Delete(id2(c.UnitID, c.UserID))
}

// Bind consumes an invite for the contact; see flows.Store.
func (s *Store) Bind(ctx context.Context, hash string, c flows.Contact, now time.Time) (flows.Unit, error) {
	var u flows.Unit
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		invites := tx.Bucket(bInvites)
		var inv flows.Invite
		if err := getJSON(invites, []byte(hash), &inv); err != nil {
			return fmt.Errorf("invite: %w", err)
		}
		var err error
		if u, err = getUnit(tx, inv.UnitID); err != nil {
			return fmt.Errorf("unit %d: %w", inv.UnitID, err)
		}
		if u.Removed {
			return fmt.Errorf("unit %d: %w", inv.UnitID, flows.ErrUnitRemoved)
		}
		old, err := getContact(tx, c.UserID)
		bound := err == nil
		if err != nil && !errors.Is(err, flows.ErrNotFound) {
			return err
		}
		if inv.UsedBy != 0 {
			if inv.UsedBy == c.UserID && bound && old.UnitID == inv.UnitID {
				return nil // the same Bind again
			}
			return flows.ErrInviteUsed
		}
		if !inv.Revoked.IsZero() {
			return flows.ErrInviteRevoked
		}
		if !inv.Expires.IsZero() && !now.Before(inv.Expires) {
			return flows.ErrInviteExpired
		}
		if bound && old.UnitID != inv.UnitID {
			return fmt.Errorf("unit %d: %w", old.UnitID, flows.ErrAlreadyBound)
		}
		if inv.Handover != 0 && inv.Handover != c.UserID {
			ho, err := getContact(tx, inv.Handover)
			if err == nil && ho.UnitID == inv.UnitID {
				if err := removeContact(tx, ho); err != nil {
					return err
				}
			}
		}
		c.UnitID = inv.UnitID
		if c.BoundAt.IsZero() {
			c.BoundAt = now
		}
		if err := putContact(tx, c); err != nil {
			return err
		}
		inv.UsedBy, inv.UsedAt = c.UserID, now
		return putJSON(invites, []byte(hash), inv)
	})
	if err != nil {
		return flows.Unit{}, fmt.Errorf("bind user %d: %w", c.UserID, err)
	}
	return u, nil
}

// Contact returns the contact with this Telegram user id.
func (s *Store) Contact(ctx context.Context, userID int64) (flows.Contact, error) {
	var c flows.Contact
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		c, err = getContact(tx, userID)
		return err
	})
	if err != nil {
		return flows.Contact{}, fmt.Errorf("contact %d: %w", userID, err)
	}
	return c, nil
}

// Contacts lists the unit's contacts by user id.
func (s *Store) Contacts(ctx context.Context, unitID int64) ([]flows.Contact, error) {
	var cs []flows.Contact
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := id(unitID)
		cur := tx.Bucket(bUnitContacts).Cursor()
		for k, _ := cur.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			c, err := getContact(tx, decodeID(k[len(prefix):]))
			if err != nil {
				return fmt.Errorf("contact %d: %w", decodeID(k[len(prefix):]), err)
			}
			cs = append(cs, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list contacts of unit %d: %w", unitID, err)
	}
	return cs, nil
}

// PutContact updates an existing contact (it stays with its unit).
func (s *Store) PutContact(ctx context.Context, c flows.Contact) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getContact(tx, c.UserID)
		if err != nil {
			return err
		}
		c.UnitID = old.UnitID
		return putJSON(tx.Bucket(bContacts), id(c.UserID), c)
	})
	if err != nil {
		return fmt.Errorf("put contact %d: %w", c.UserID, err)
	}
	return nil
}

// RemoveContact unbinds the user from their unit.
func (s *Store) RemoveContact(ctx context.Context, userID int64) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		c, err := getContact(tx, userID)
		if err != nil {
			return err
		}
		return removeContact(tx, c)
	})
	if err != nil {
		return fmt.Errorf("remove contact %d: %w", userID, err)
	}
	return nil
}

// Drafts and reports.

func decodeDraft(v []byte) (flows.Draft, error) {
	var d flows.Draft
	if len(v) < 8 {
		return d, errors.New("decode draft: short value")
	}
	if err := codec.DecodeDraft(v[8:], &d); err != nil {
		return d, err
	}
	d.Rev = int64(binary.BigEndian.Uint64(v))
	return d, nil
}

// campaignBucket returns the bucket named name (bDrafts or bReports) of the
// campaign with this store key: the top-level one for "", else the one
// under campaigns/<campaign>, created when create is set (in a writable
// transaction) and nil when absent otherwise.
func campaignBucket(tx *bbolt.Tx, campaign string, name []byte, create bool) (*bbolt.Bucket, error) {
	if campaign == "" {
		return tx.Bucket(name), nil
	}
	all := tx.Bucket(bCampaigns)
	if !create {
		if c := all.Bucket([]byte(campaign)); c != nil {
			return c.Bucket(name), nil
		}
		return nil, nil
	}
	c, err := all.CreateBucketIfNotExists([]byte(campaign))
	if err != nil {
		return nil, fmt.Errorf("create bucket of campaign %q: %w", campaign, err)
	}
	b, err := c.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s of campaign %q: %w", name, campaign, err)
	}
	return b, nil
}

// Draft returns the unit's draft, a zero one if it never started.
func (s *Store) Draft(ctx context.Context, campaign string, unitID int64) (flows.Draft, error) {
	d := flows.Draft{UnitID: unitID}
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		drafts, err := campaignBucket(tx, campaign, bDrafts, false)
		if err != nil || drafts == nil {
			return err
		}
		if v := drafts.Get(id(unitID)); v != nil {
			d, err = decodeDraft(v)
		}
		return err
	})
	if err != nil {
		return flows.Draft{}, fmt.Errorf("draft of unit %d: %w", unitID, err)
	}
	return d, nil
}

// Drafts returns every stored draft of the campaign in unit order.
func (s *Store) Drafts(ctx context.Context, campaign string) ([]flows.Draft, error) {
	var ds []flows.Draft
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		drafts, err := campaignBucket(tx, campaign, bDrafts, false)
		if err != nil || drafts == nil {
			return err
		}
		return drafts.ForEach(func(_, v []byte) error {
			d, err := decodeDraft(v)
			ds = append(ds, d)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	return ds, nil
}

// Apply applies a transition in one transaction: dedupe, revision check,
// contact check, draft write and report append.
func (s *Store) Apply(ctx context.Context, t flows.Transition) error {
	if err := t.Check(); err != nil {
		return fmt.Errorf("apply to unit %d: %w", t.UnitID, err)
	}
	data, err := codec.EncodeDraft(t.Draft)
	if err != nil {
		return fmt.Errorf("apply to unit %d: %w", t.UnitID, err)
	}
	value := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), uint64(t.Draft.Rev))
	value = append(value, data...)
	var report []byte
	if t.Report != nil {
		if report, err = json.Marshal(t.Report); err != nil {
			return fmt.Errorf("apply to unit %d: encode report: %w", t.UnitID, err)
		}
	}
	out, err := encodeOutgoing(t.Outbox)
	if err != nil {
		return fmt.Errorf("apply to unit %d: %w", t.UnitID, err)
	}
	err = s.batch(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		applied := appendOnly(tx.Bucket(bApplied))
		// Keyed by update id first: update ids grow with time, so a batch
		// of steps adds to the last page and trim deletes from the first,
		// instead of each step rewriting a page of its own unit's entries.
		dedupe := id2(t.UpdateID, t.UnitID)
		if t.UpdateID != 0 {
			if v := applied.Get(dedupe); v != nil && now.Sub(getTime(v)) < seenKeep {
				return flows.ErrDuplicate
			}
		}
		drafts, err := campaignBucket(tx, t.Campaign, bDrafts, true)
		if err != nil {
			return err
		}
		var rev int64
		if v := drafts.Get(id(t.UnitID)); v != nil {
			rev = int64(binary.BigEndian.Uint64(v))
		}
		if rev != t.FromRev {
			return fmt.Errorf("stored rev %d: %w", rev, flows.ErrConflict)
		}
		if t.UserID != 0 && tx.Bucket(bUnitContacts).Get(id2(t.UnitID, t.UserID)) == nil {
			return fmt.Errorf("user %d: %w", t.UserID, flows.ErrNotContact)
		}
		if err := drafts.Put(id(t.UnitID), value); err != nil {
			return err
		}
		if t.UpdateID != 0 {
			if err := trim(applied, nil, now); err != nil {
				return err
			}
			if err := applied.Put(dedupe, putTime(now)); err != nil {
				return err
			}
		}
		if report != nil {
			if err := appendReport(tx, t.Campaign, t.UnitID, report); err != nil {
				return err
			}
		}
		return putOutgoing(tx, t.Outbox, out)
	})
	if err != nil {
		clearIDs(t.Outbox)
		return fmt.Errorf("apply update %d to unit %d from rev %d: %w", t.UpdateID, t.UnitID, t.FromRev, err)
	}
	return nil
}

// appendReport appends an encoded report to the unit's versions in the
// campaign.
func appendReport(tx *bbolt.Tx, campaign string, unitID int64, report []byte) error {
	reports, err := campaignBucket(tx, campaign, bReports, true)
	if err != nil {
		return err
	}
	rb, err := reports.CreateBucketIfNotExists(id(unitID))
	if err != nil {
		return err
	}
	appendOnly(rb)
	seq, err := rb.NextSequence()
	if err != nil {
		return err
	}
	return rb.Put(id(int64(seq)), report)
}

// trim deletes up to trimBatch entries under prefix older than seenKeep,
// from the lowest key on, stopping at the first fresh one: update ids grow
// with time, so the oldest come first.
func trim(b *bbolt.Bucket, prefix []byte, now time.Time) error {
	var old [][]byte
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(old) < trimBatch; k, v = c.Next() {
		if now.Sub(getTime(v)) < seenKeep {
			break
		}
		old = append(old, slices.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Reports returns the unit's submitted versions, oldest first.
func (s *Store) Reports(ctx context.Context, campaign string, unitID int64) ([]flows.Report, error) {
	var rs []flows.Report
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		reports, err := campaignBucket(tx, campaign, bReports, false)
		if err != nil || reports == nil {
			return err
		}
		rb := reports.Bucket(id(unitID))
		if rb == nil {
			return nil
		}
		return rb.ForEach(func(_, v []byte) error {
			var r flows.Report
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode report: %w", err)
			}
			rs = append(rs, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reports of unit %d: %w", unitID, err)
	}
	return rs, nil
}

// Settings.

// Setting returns a setting; ErrNotFound when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var value string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bSettings).Get([]byte(key))
		if v == nil {
			return flows.ErrNotFound
		}
		value = string(v)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("setting %q: %w", key, err)
	}
	return value, nil
}

// PutSetting stores a setting.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return errors.New("put setting: empty key")
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bSettings).Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("put setting %q: %w", key, err)
	}
	return nil
}

// Markers and locks.

// Seen records an update id; false if it was recorded in the last
// seenKeep.
func (s *Store) Seen(ctx context.Context, updateID int64) (bool, error) {
	first := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		b := appendOnly(tx.Bucket(bSeen))
		if v := b.Get(id(updateID)); v != nil && now.Sub(getTime(v)) < seenKeep {
			return nil
		}
		first = true
		if err := trim(b, nil, now); err != nil {
			return err
		}
		return b.Put(id(updateID), putTime(now))
	})
	if err != nil {
		return false, fmt.Errorf("seen update %d: %w", updateID, err)
	}
	return first, nil
}

// Processed reports whether Seen recorded the update id in the last
// seenKeep, without recording it.
func (s *Store) Processed(ctx context.Context, updateID int64) (bool, error) {
	done := false
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bSeen).Get(id(updateID))
		done = v != nil && s.now().Sub(getTime(v)) < seenKeep
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("processed update %d: %w", updateID, err)
	}
	return done, nil
}

// Once returns true to the first caller for key; the marker lasts ttl (for
// ever if ttl ≤ 0).
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	first := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		b := tx.Bucket(bOnce)
		if v := b.Get([]byte(key)); len(v) == 8 {
			exp := int64(binary.BigEndian.Uint64(v))
			if exp == 0 || now.UnixNano() < exp {
				return nil
			}
		}
		first = true
		var exp int64
		if ttl > 0 {
			exp = now.Add(ttl).UnixNano()
		}
		return b.Put([]byte(key), binary.BigEndian.AppendUint64(nil, uint64(exp)))
	})
	if err != nil {
		return false, fmt.Errorf("once %q: %w", key, err)
	}
	return first, nil
}

// Lock takes the lock key for token for ttl, if it is free, expired or
// already held by token.
func (s *Store) Lock(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	if ttl <= 0 || token == "" {
		return false, fmt.Errorf("lock %q: need a token and a positive ttl", key)
	}
	ok := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		b := tx.Bucket(bLocks)
		if v := b.Get([]byte(key)); len(v) >= 8 {
			exp := int64(binary.BigEndian.Uint64(v))
			if now.UnixNano() < exp && string(v[8:]) != token {
				return nil
			}
		}
		ok = true
		v := binary.BigEndian.AppendUint64(nil, uint64(now.Add(ttl).UnixNano()))
		return b.Put([]byte(key), append(v, token...))
	})
	if err != nil {
		return false, fmt.Errorf("lock %q: %w", key, err)
	}
	return ok, nil
}

// Unlock releases the lock key if token holds it.
func (s *Store) Unlock(ctx context.Context, key, token string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bLocks)
		if v := b.Get([]byte(key)); len(v) >= 8 && string(v[8:]) == token {
			return b.Delete([]byte(key))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unlock %q: %w", key, err)
	}
	return nil
}

// The outbox.

// encodeOutgoing encodes messages for putOutgoing, outside the transaction.
func encodeOutgoing(msgs []flows.Outgoing) ([][]byte, error) {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		b, err := codec.EncodeOutgoing(m)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		out[i] = b
	}
	return out, nil
}

// putOutgoing writes the encoded messages to the outbox and sets the IDs
// of msgs. It may run more than once for one call (see batch): every run
// assigns the IDs again.
func putOutgoing(tx *bbolt.Tx, msgs []flows.Outgoing, encoded [][]byte) error {
	if len(msgs) == 0 {
		return nil
	}
	b := appendOnly(tx.Bucket(bOutbox))
	for i, data := range encoded {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), data); err != nil {
			return err
		}
		msgs[i].ID = outboxID(seq)
	}
	return nil
}

// clearIDs empties the IDs of messages that were not written.
func clearIDs(msgs []flows.Outgoing) {
	for i := range msgs {
		msgs[i].ID = ""
	}
}

// outboxID is the ID of the message at an outbox sequence number: 20
// digits, the width of the largest uint64, so that IDs sort as numbers.
func outboxID(seq uint64) string {
	return fmt.Sprintf("%020d", seq)
}

// parseOutboxID returns the key of an ID made by outboxID.
func parseOutboxID(s string) ([]byte, bool) {
	if len(s) != 20 {
		return nil, false
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(nil, seq), true
}

// expiry is the 8-byte expiry of a mark that lasts ttl from now (0: for
// ever, when ttl ≤ 0).
func expiry(now time.Time, ttl time.Duration) []byte {
	var exp int64
	if ttl > 0 {
		exp = now.Add(ttl).UnixNano()
	}
	return binary.BigEndian.AppendUint64(nil, uint64(exp))
}

// live reports whether an expiry made by expiry has not passed.
func live(v []byte, now time.Time) bool {
	if len(v) < 8 {
		return false
	}
	exp := int64(binary.BigEndian.Uint64(v))
	return exp == 0 || now.UnixNano() < exp
}

// Claim takes key for token for ttl; see flows.Store.
func (s *Store) Claim(ctx context.Context, key, token string, ttl time.Duration) (flows.ClaimState, error) {
	if key == "" || token == "" || ttl <= 0 {
		return flows.Busy, fmt.Errorf("claim %q: need a key, a token and a positive ttl", key)
	}
	state := flows.Claimed
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		if live(tx.Bucket(bDone).Get([]byte(key)), now) {
			state = flows.Done
			return nil
		}
		claims := tx.Bucket(bClaims)
		if v := claims.Get([]byte(key)); live(v, now) && string(v[8:]) != token {
			state = flows.Busy
			return nil
		}
		state = flows.Claimed
		return claims.Put([]byte(key), append(expiry(now, ttl), token...))
	})
	if err != nil {
		return flows.Busy, fmt.Errorf("claim %q: %w", key, err)
	}
	return state, nil
}

// Commit writes msgs and marks key done for keep (for ever if keep ≤ 0),
// in one transaction; see flows.Store.
func (s *Store) Commit(ctx context.Context, key string, keep time.Duration, msgs []flows.Outgoing) (bool, error) {
	if key == "" && len(msgs) == 0 {
		return true, nil
	}
	out, err := encodeOutgoing(msgs)
	if err != nil {
		return false, fmt.Errorf("commit %q: %w", key, err)
	}
	first := false
	// batch, as Apply: a step that changes no draft commits its replies.
	err = s.batch(ctx, func(tx *bbolt.Tx) error {
		first = false
		if key != "" {
			now := s.now()
			done := tx.Bucket(bDone)
			if err := trimDone(done, tx.Bucket(bDoneExpiry), now); err != nil {
				return err
			}
			if live(done.Get([]byte(key)), now) {
				return nil
			}
			exp := expiry(now, keep)
			if err := done.Put([]byte(key), exp); err != nil {
				return err
			}
			if keep > 0 {
				if err := tx.Bucket(bDoneExpiry).Put(append(exp, key...), nil); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bClaims).Delete([]byte(key)); err != nil {
				return err
			}
		}
		first = true
		return putOutgoing(tx, msgs, out)
	})
	if err != nil || !first {
		clearIDs(msgs)
	}
	if err != nil {
		return false, fmt.Errorf("commit %q: %w", key, err)
	}
	return first, nil
}

// trimDone deletes up to trimBatch expired done marks, oldest first. A
// mark whose key was committed again since (after it expired) has a newer
// expiry in done, and stays.
func trimDone(done, index *bbolt.Bucket, now time.Time) error {
	var old [][]byte
	c := index.Cursor()
	for k, _ := c.First(); k != nil && len(old) < trimBatch; k, _ = c.Next() {
		if live(k, now) {
			break
		}
		old = append(old, slices.Clone(k))
	}
	for _, k := range old {
		if err := index.Delete(k); err != nil {
			return err
		}
		if v := done.Get(k[8:]); v != nil && bytes.Equal(v, k[:8]) {
			if err := done.Delete(k[8:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Outbox lists the undelivered messages by ID. Only this process can
// write to the file, so there are never messages by other processes:
// without all it returns none.
func (s *Store) Outbox(ctx context.Context, all bool) ([]flows.Outgoing, error) {
	if !all {
		return nil, nil
	}
	var msgs []flows.Outgoing
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
			var m flows.Outgoing
			if len(k) != 8 {
				return fmt.Errorf("bad outbox key %x", k)
			}
			if err := codec.DecodeOutgoing(v, &m); err != nil {
				return fmt.Errorf("message %s: %w", outboxID(binary.BigEndian.Uint64(k)), err)
			}
			m.ID = outboxID(binary.BigEndian.Uint64(k))
			msgs = append(msgs, m)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return msgs, nil
}

// Delivered removes the messages from the outbox in one transaction;
// unknown IDs are ignored.
func (s *Store) Delivered(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	// In a batch: the acknowledgements share a commit (and its fsyncs)
	// with the form steps being written at the same time.
	err := s.batch(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bOutbox)
		for _, id := range ids {
			if k, ok := parseOutboxID(id); ok {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove %d delivered messages: %w", len(ids), err)
	}
	return nil
}
