// Package storetest is the conformance suite that every flows.Store
// implementation passes (storage/bolt, storage/redis), plus helpers for store
// benchmarks.
//
// Besides the contract written in flows/store.go, the suite pins down these
// details, which both stores implement the same way:
//
//   - AddUnit ignores the ID it is given and fills a zero Created with the
//     current time; a failed AddUnit or AddUnits leaves no gap in the IDs.
//   - A removed unit keeps its name (reports are kept); a renamed one frees
//     its old name.
//   - Contacts and Invites of a unit come back ordered by user id and by
//     (Created, Hash); Drafts by unit id. Unknown units give empty lists.
//   - Bind fills Contact.UnitID and a zero BoundAt (with now). A second Bind of
//     the same invite by the same user is idempotent only while that user is
//     still a contact of the unit: once removed, the old link is ErrInviteUsed
//     (an admin's removal must not be undone by clicking an old link). Binding
//     a user who is already a contact of the same unit is allowed.
//   - PutContact and RemoveContact return ErrNotFound for a user who is not a
//     contact; PutContact never moves a contact to another unit.
//   - Apply checks in this order: duplicate update id, stale revision,
//     contact; it rejects (with a non-sentinel error) a Draft whose Rev is not
//     FromRev+1 or whose UnitID is not the transition's.
//   - Lock by the token that already holds the lock succeeds and extends it.
//   - Once with ttl ≤ 0 marks for ever; Lock needs a token and ttl > 0.
//   - Apply and Commit set the IDs of the messages they are given (the
//     caller's slice: Transition.Outbox, msgs) when they write them, and
//     empty them when they write nothing (a rejected Apply, a Commit of a
//     done key). IDs are unique and sort in the order of writing within
//     one store; Outbox lists messages as they were given, with their IDs.
//   - Commit with keep ≤ 0 marks the key done for ever; Claim needs a key,
//     a token and ttl > 0; Commit of key "" with no messages does nothing
//     and returns true.
//   - Outbox(false) of a store only one process can open (no Second
//     option) returns none.
//   - Drafts and reports are kept per campaign key, each campaign with its
//     own revisions; units, contacts, invites, settings, markers, the
//     outbox and Apply's update dedupe are shared by all campaigns (an
//     update id applied to a unit in one campaign is a duplicate in
//     another).
package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/flows"
)

// t0 is the suite's fixed clock. UTC, so values survive a JSON round trip
// unchanged under reflect.DeepEqual.
var t0 = time.Date(2022, 1, 10, 9, 0, 0, 0, time.UTC)

// Option configures Run.
type Option func(*config)

type config struct {
	second func(t *testing.T) flows.Store
}

// Second gives the suite a second store on the data of the store most
// recently returned by open(t), while that one stays open: another
// process's connection to the same Redis. second closes its store in
// t.Cleanup. Without it the store is taken to be one that only one process
// can open (a bbolt file), whose Outbox(false) returns none.
func Second(second func(t *testing.T) flows.Store) Option {
	return func(c *config) { c.second = second }
}

// Run runs the conformance suite.
//
// open returns a new, empty store for t and closes it in t.Cleanup; the suite
// may close the store itself first, so that cleanup must tolerate a closed
// store. reopen returns a new store on the same data as the store most
// recently returned by open(t) (same file, same Redis), which the suite has
// closed before calling it; it also closes its store in t.Cleanup.
//
// Subtests call t.Parallel, so open, reopen and the Second option's
// function must be safe for concurrent use with different t.
func Run(t *testing.T, open, reopen func(t *testing.T) flows.Store, opts ...Option) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) flows.Store)
	}{
		{"AddUnit", testAddUnit},
		{"AddUnits", testAddUnits},
		{"UnitByName", testUnitByName},
		{"PutUnit", testPutUnit},
		{"PutUnitConflict", testPutUnitConflict},
		{"Invites", testInvites},
		{"Bind", testBind},
		{"BindHandover", testBindHandover},
		{"BindConcurrent", testBindConcurrent},
		{"BindRemovedUnit", testBindRemovedUnit},
		{"RevokeInvites", testRevokeInvites},
		{"Contacts", testContacts},
		{"DraftFresh", testDraftFresh},
		{"Apply", testApply},
		{"ApplyConflict", testApplyConflict},
		{"ApplyDuplicate", testApplyDuplicate},
		{"ApplyNotContact", testApplyNotContact},
		{"ApplyInvalid", testApplyInvalid},
		{"ApplyReports", testApplyReports},
		{"ApplyConcurrent", testApplyConcurrent},
		{"Drafts", testDrafts},
		{"CampaignsApart", testCampaignsApart},
		{"CampaignSwitch", testCampaignSwitch},
		{"Settings", testSettings},
		{"Seen", testSeen},
		{"Once", testOnce},
		{"Lock", testLock},
		{"Ping", testPing},
		{"OutboxApply", testOutboxApply},
		{"OutboxRejected", testOutboxRejected},
		{"OutboxFields", testOutboxFields},
		{"Claim", testClaim},
		{"ClaimExpiry", testClaimExpiry},
		{"Commit", testCommit},
		{"CommitConcurrent", testCommitConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
	t.Run("Restart", func(t *testing.T) {
		t.Parallel()
		testRestart(t, open, reopen)
	})
	t.Run("CampaignsRestart", func(t *testing.T) {
		t.Parallel()
		testCampaignsRestart(t, open, reopen)
	})
	t.Run("OutboxOthers", func(t *testing.T) {
		t.Parallel()
		testOutboxOthers(t, open, cfg.second)
	})
}

// Hash returns the hex SHA-256 of an invite token, as flows.Invite.Hash is.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func mustAddUnit(t *testing.T, s flows.Store, name, category string) flows.Unit {
	t.Helper()
	u, err := s.AddUnit(t.Context(), flows.Unit{Name: name, Category: category, Created: t0})
	if err != nil {
		t.Fatalf("AddUnit(%q) error: %v", name, err)
	}
	return u
}

func mustPutInvite(t *testing.T, s flows.Store, inv flows.Invite) {
	t.Helper()
	if inv.Created.IsZero() {
		inv.Created = t0
	}
	if inv.Expires.IsZero() {
		inv.Expires = t0.Add(72 * time.Hour)
	}
	if err := s.PutInvite(t.Context(), inv); err != nil {
		t.Fatalf("PutInvite(unit %d, hash %.8s) error: %v", inv.UnitID, inv.Hash, err)
	}
}

// mustBind makes a new invite for the unit and binds the user with it.
func mustBind(t *testing.T, s flows.Store, unitID, userID int64) flows.Contact {
	t.Helper()
	h := Hash(fmt.Sprintf("bind-%d-%d", unitID, userID))
	mustPutInvite(t, s, flows.Invite{Hash: h, UnitID: unitID})
	c := flows.Contact{UserID: userID, ChatID: userID, Name: fmt.Sprintf("联系人%d", userID)}
	if _, err := s.Bind(t.Context(), h, c, t0.Add(time.Hour)); err != nil {
		t.Fatalf("Bind(user %d to unit %d) error: %v", userID, unitID, err)
	}
	c.UnitID = unitID
	c.BoundAt = t0.Add(time.Hour)
	return c
}

func unitNames(us []flows.Unit) []string {
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = u.Name
	}
	return names
}

func mustUnits(t *testing.T, s flows.Store) []flows.Unit {
	t.Helper()
	us, err := s.Units(t.Context())
	if err != nil {
		t.Fatalf("Units() error: %v", err)
	}
	return us
}

func testAddUnit(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	var want []flows.Unit
	for i, name := range []string{"离石区双拥工作领导小组", "市民政局", "吕梁军分区"} {
		in := flows.Unit{ID: 77, Name: name, Category: "county", Note: "备注", Created: t0}
		u, err := s.AddUnit(ctx, in)
		if err != nil {
			t.Fatalf("AddUnit(%q) error: %v", name, err)
		}
		in.ID = int64(i + 1)
		if !reflect.DeepEqual(u, in) {
			t.Errorf("AddUnit(%q) = %+v, want %+v", name, u, in)
		}
		want = append(want, in)
	}

	_, err := s.AddUnit(ctx, flows.Unit{Name: "市民政局", Category: "department"})
	if !errors.Is(err, flows.ErrExists) {
		t.Errorf("AddUnit of a taken name error = %v, want ErrExists", err)
	}

	u, err := s.AddUnit(ctx, flows.Unit{Name: "市总工会", Category: "organization"})
	if err != nil {
		t.Fatalf("AddUnit(%q) error: %v", "市总工会", err)
	}
	if u.ID != 4 {
		t.Errorf("AddUnit after a failed AddUnit: ID %d, want 4 (no gap)", u.ID)
	}
	if u.Created.IsZero() {
		t.Errorf("AddUnit with zero Created: Created is still zero, want the current time")
	}
	want = append(want, u)

	for _, w := range want {
		got, err := s.Unit(ctx, w.ID)
		if err != nil {
			t.Fatalf("Unit(%d) error: %v", w.ID, err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("Unit(%d) = %+v, want %+v", w.ID, got, w)
		}
	}
	if _, err := s.Unit(ctx, 99); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Unit(99) of 4 units error = %v, want ErrNotFound", err)
	}
	if got := mustUnits(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("Units() = %+v, want %+v", got, want)
	}
}

func testAddUnits(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	mustAddUnit(t, s, "市民政局", "department")

	type in struct{ name, category string }
	steps := []struct {
		desc      string
		units     []in
		wantAdded []string
		wantErr   string // a name the ErrExists message must contain; "" = no error
		wantAll   []string
	}{
		{
			desc:      "import two new units",
			units:     []in{{"离石区双拥工作领导小组", "county"}, {"市财政局", "department"}},
			wantAdded: []string{"离石区双拥工作领导小组", "市财政局"},
			wantAll:   []string{"市民政局", "离石区双拥工作领导小组", "市财政局"},
		},
		{
			desc:    "re-import the same file",
			units:   []in{{"离石区双拥工作领导小组", "county"}, {"市财政局", "department"}},
			wantAll: []string{"市民政局", "离石区双拥工作领导小组", "市财政局"},
		},
		{
			desc:    "a taken name with another category adds nothing",
			units:   []in{{"孝义市双拥工作领导小组", "county"}, {"市民政局", "county"}},
			wantErr: "市民政局",
			wantAll: []string{"市民政局", "离石区双拥工作领导小组", "市财政局"},
		},
		{
			desc:    "a name twice in one file with two categories adds nothing",
			units:   []in{{"汾阳市双拥工作领导小组", "county"}, {"汾阳市双拥工作领导小组", "department"}},
			wantErr: "汾阳市双拥工作领导小组",
			wantAll: []string{"市民政局", "离石区双拥工作领导小组", "市财政局"},
		},
		{
			desc:      "a name twice in one file with one category is added once",
			units:     []in{{"中阳县双拥工作领导小组", "county"}, {"中阳县双拥工作领导小组", "county"}},
			wantAdded: []string{"中阳县双拥工作领导小组"},
			wantAll:   []string{"市民政局", "离石区双拥工作领导小组", "市财政局", "中阳县双拥工作领导小组"},
		},
		{
			desc:      "present units are skipped, new ones added",
			units:     []in{{"市民政局", "department"}, {"吕梁军分区", "military"}},
			wantAdded: []string{"吕梁军分区"},
			wantAll:   []string{"市民政局", "离石区双拥工作领导小组", "市财政局", "中阳县双拥工作领导小组", "吕梁军分区"},
		},
	}
	for _, st := range steps {
		var us []flows.Unit
		for _, u := range st.units {
			us = append(us, flows.Unit{Name: u.name, Category: u.category, Created: t0})
		}
		added, err := s.AddUnits(ctx, us)
		switch {
		case st.wantErr != "":
			if !errors.Is(err, flows.ErrExists) || !strings.Contains(err.Error(), st.wantErr) {
				t.Errorf("%s: AddUnits error = %v, want ErrExists naming %q", st.desc, err, st.wantErr)
			}
			if len(added) != 0 {
				t.Errorf("%s: AddUnits failed but returned added %v, want none", st.desc, unitNames(added))
			}
		case err != nil:
			t.Errorf("%s: AddUnits error: %v", st.desc, err)
		default:
			if got := unitNames(added); !reflect.DeepEqual(got, st.wantAdded) && len(got)+len(st.wantAdded) > 0 {
				t.Errorf("%s: AddUnits added %q, want %q", st.desc, got, st.wantAdded)
			}
			for _, a := range added {
				got, err := s.Unit(ctx, a.ID)
				if err != nil || !reflect.DeepEqual(got, a) {
					t.Errorf("%s: Unit(%d) = %+v, %v; want %+v as returned by AddUnits", st.desc, a.ID, got, err, a)
				}
			}
		}
		all := mustUnits(t, s)
		if got := unitNames(all); !reflect.DeepEqual(got, st.wantAll) {
			t.Fatalf("%s: Units() after AddUnits = %q, want %q", st.desc, got, st.wantAll)
		}
		for i, u := range all {
			if u.ID != int64(i+1) {
				t.Errorf("%s: Units()[%d].ID = %d, want %d (IDs 1, 2, 3… without gaps)", st.desc, i, u.ID, i+1)
			}
		}
	}
}

func testUnitByName(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	for _, w := range []flows.Unit{a, b} {
		got, err := s.UnitByName(ctx, w.Name)
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("UnitByName(%q) = %+v, %v; want %+v", w.Name, got, err, w)
		}
	}
	for _, name := range []string{"市民政", "", "市民政局 "} {
		if _, err := s.UnitByName(ctx, name); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("UnitByName(%q) error = %v, want ErrNotFound", name, err)
		}
	}
}

func testPutUnit(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")

	// Rename: the new name finds it, the old one is free.
	renamed := a
	renamed.Name = "离石区双拥办"
	renamed.Note = "改名"
	if err := s.PutUnit(ctx, renamed); err != nil {
		t.Fatalf("PutUnit(rename %q to %q) error: %v", a.Name, renamed.Name, err)
	}
	renamed.Rev++ // stored at the next revision
	if got, err := s.Unit(ctx, a.ID); err != nil || !reflect.DeepEqual(got, renamed) {
		t.Errorf("Unit(%d) after rename = %+v, %v; want %+v", a.ID, got, err, renamed)
	}
	if got, err := s.UnitByName(ctx, renamed.Name); err != nil || got.ID != a.ID {
		t.Errorf("UnitByName(%q) after rename = %+v, %v; want unit %d", renamed.Name, got, err, a.ID)
	}
	if _, err := s.UnitByName(ctx, a.Name); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("UnitByName(old name %q) after rename error = %v, want ErrNotFound", a.Name, err)
	}

	// Clash: renaming to another unit's name fails and changes nothing.
	clash := renamed
	clash.Name = b.Name
	if err := s.PutUnit(ctx, clash); !errors.Is(err, flows.ErrExists) {
		t.Errorf("PutUnit(rename to taken %q) error = %v, want ErrExists", b.Name, err)
	}
	if got, _ := s.Unit(ctx, a.ID); !reflect.DeepEqual(got, renamed) {
		t.Errorf("Unit(%d) after a failed rename = %+v, want unchanged %+v", a.ID, got, renamed)
	}
	if got, _ := s.UnitByName(ctx, b.Name); got.ID != b.ID {
		t.Errorf("UnitByName(%q) after a failed rename = unit %d, want %d", b.Name, got.ID, b.ID)
	}

	// Remove: archived, still listed and found by name.
	removed := b
	removed.Removed = true
	if err := s.PutUnit(ctx, removed); err != nil {
		t.Fatalf("PutUnit(remove %q) error: %v", b.Name, err)
	}
	removed.Rev++
	if got := mustUnits(t, s); !reflect.DeepEqual(got, []flows.Unit{renamed, removed}) {
		t.Errorf("Units() after remove = %+v, want %+v", got, []flows.Unit{renamed, removed})
	}
	if got, err := s.UnitByName(ctx, b.Name); err != nil || !got.Removed {
		t.Errorf("UnitByName(removed %q) = %+v, %v; want the removed unit", b.Name, got, err)
	}

	// The old name of a renamed unit can be used again.
	if c, err := s.AddUnit(ctx, flows.Unit{Name: a.Name, Category: "county"}); err != nil || c.ID != 3 {
		t.Errorf("AddUnit(freed name %q) = unit %d, %v; want unit 3", a.Name, c.ID, err)
	}

	if err := s.PutUnit(ctx, flows.Unit{ID: 42, Name: "不存在"}); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("PutUnit(unknown id 42) error = %v, want ErrNotFound", err)
	}
}

// testPutUnitConflict: PutUnit is a compare-and-set on the unit's revision,
// so edits computed from the same read cannot both land (a rename racing a
// removal must not bring the unit back).
func testPutUnitConflict(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "市民政局", "department")
	if a.Rev != 0 {
		t.Errorf("AddUnit(%q).Rev = %d, want 0", a.Name, a.Rev)
	}

	// Two concurrent edits from the same read: exactly one wins.
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := a
			u.Name = fmt.Sprintf("市民政局%d", i)
			errs <- s.PutUnit(ctx, u)
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, flows.ErrConflict):
			t.Errorf("concurrent PutUnit from revision 0 error = %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent PutUnit from the same read: %d succeeded, want exactly 1", n, won)
	}
	got, err := s.Unit(ctx, a.ID)
	if err != nil || got.Rev != 1 {
		t.Fatalf("Unit(%d) after concurrent renames = %+v, %v; want revision 1", a.ID, got, err)
	}
	if byName, err := s.UnitByName(ctx, got.Name); err != nil || byName.ID != a.ID {
		t.Errorf("UnitByName(winner %q) = %+v, %v; want unit %d", got.Name, byName, err, a.ID)
	}
	if us := mustUnits(t, s); len(us) != 1 {
		t.Errorf("Units() after concurrent renames = %q, want one unit", unitNames(us))
	}

	// A removal, then a rename computed from before it: ErrConflict, and
	// the unit stays removed under the name it had.
	stale := got
	removed := got
	removed.Removed = true
	if err := s.PutUnit(ctx, removed); err != nil {
		t.Fatalf("PutUnit(remove %q at revision %d) error: %v", removed.Name, removed.Rev, err)
	}
	stale.Name = "市民政局（新）"
	if err := s.PutUnit(ctx, stale); !errors.Is(err, flows.ErrConflict) {
		t.Errorf("PutUnit(rename from revision %d after a removal) error = %v, want ErrConflict", stale.Rev, err)
	}
	removed.Rev++
	if got, err := s.Unit(ctx, a.ID); err != nil || !reflect.DeepEqual(got, removed) {
		t.Errorf("Unit(%d) after a stale rename = %+v, %v; want still removed %+v", a.ID, got, err, removed)
	}
	if _, err := s.UnitByName(ctx, stale.Name); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("UnitByName(%q) of the refused rename error = %v, want ErrNotFound", stale.Name, err)
	}

	// A stale write of the same content is refused too, and a fresh read
	// can write again.
	if err := s.PutUnit(ctx, got); !errors.Is(err, flows.ErrConflict) {
		t.Errorf("PutUnit(unit at revision %d, stored %d) error = %v, want ErrConflict", got.Rev, removed.Rev, err)
	}
	fresh, err := s.Unit(ctx, a.ID)
	if err != nil {
		t.Fatalf("Unit(%d) error: %v", a.ID, err)
	}
	fresh.Note = "备注"
	if err := s.PutUnit(ctx, fresh); err != nil {
		t.Errorf("PutUnit(fresh read at revision %d) error: %v", fresh.Rev, err)
	}
}

func testInvites(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	i1 := flows.Invite{Hash: Hash("a1"), UnitID: a.ID, Created: t0, Expires: t0.Add(72 * time.Hour), CreatedBy: 7}
	i2 := flows.Invite{Hash: Hash("a2"), UnitID: a.ID, Created: t0.Add(time.Minute), Expires: t0.Add(72 * time.Hour), Handover: 5}
	i3 := flows.Invite{Hash: Hash("b1"), UnitID: b.ID, Created: t0, Expires: t0.Add(time.Hour)}
	for _, inv := range []flows.Invite{i2, i1, i3} {
		mustPutInvite(t, s, inv)
	}
	if err := s.PutInvite(ctx, flows.Invite{Hash: Hash("x"), UnitID: 99, Created: t0, Expires: t0.Add(time.Hour)}); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("PutInvite(unknown unit 99) error = %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		unit int64
		want []flows.Invite
	}{
		{a.ID, []flows.Invite{i1, i2}},
		{b.ID, []flows.Invite{i3}},
		{99, nil},
	} {
		got, err := s.Invites(ctx, tc.unit)
		if err != nil {
			t.Fatalf("Invites(%d) error: %v", tc.unit, err)
		}
		if len(got)+len(tc.want) > 0 && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Invites(%d) = %+v, want %+v", tc.unit, got, tc.want)
		}
	}
}

func testBind(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	now := t0.Add(time.Hour)
	mustPutInvite(t, s, flows.Invite{Hash: Hash("a1"), UnitID: a.ID})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("a2"), UnitID: a.ID})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("a-old"), UnitID: a.ID, Expires: now.Add(-time.Minute)})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("a-now"), UnitID: a.ID, Expires: now})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("b1"), UnitID: b.ID})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("b2"), UnitID: b.ID})

	steps := []struct {
		desc     string
		token    string
		user     int64
		wantUnit int64
		wantErr  error
	}{
		{"first use", "a1", 101, a.ID, nil},
		{"same user again (idempotent)", "a1", 101, a.ID, nil},
		{"another user", "a1", 102, 0, flows.ErrInviteUsed},
		{"unknown token", "nope", 103, 0, flows.ErrNotFound},
		{"expired", "a-old", 104, 0, flows.ErrInviteExpired},
		{"expires exactly now", "a-now", 104, 0, flows.ErrInviteExpired},
		{"contact of another unit", "b1", 101, 0, flows.ErrAlreadyBound},
		{"invite left unused by a failed bind", "b1", 105, b.ID, nil},
		{"second invite of the own unit", "a2", 101, a.ID, nil},
	}
	for _, st := range steps {
		c := flows.Contact{UserID: st.user, ChatID: st.user + 1000, Name: "张三"}
		u, err := s.Bind(ctx, Hash(st.token), c, now)
		if st.wantErr != nil {
			if !errors.Is(err, st.wantErr) {
				t.Errorf("%s: Bind(%q, user %d) error = %v, want %v", st.desc, st.token, st.user, err, st.wantErr)
			}
			continue
		}
		if err != nil || u.ID != st.wantUnit {
			t.Errorf("%s: Bind(%q, user %d) = unit %d, %v; want unit %d", st.desc, st.token, st.user, u.ID, err, st.wantUnit)
		}
	}

	want := flows.Contact{UserID: 101, UnitID: a.ID, ChatID: 1101, Name: "张三", BoundAt: now}
	if got, err := s.Contact(ctx, 101); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Contact(101) after Bind = %+v, %v; want %+v", got, err, want)
	}
	for _, uid := range []int64{102, 103, 104} {
		if _, err := s.Contact(ctx, uid); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("Contact(%d) after a failed Bind error = %v, want ErrNotFound", uid, err)
		}
	}
	invs, err := s.Invites(ctx, a.ID)
	if err != nil {
		t.Fatalf("Invites(%d) error: %v", a.ID, err)
	}
	for _, inv := range invs {
		if inv.Hash == Hash("a1") && (inv.UsedBy != 101 || !inv.UsedAt.Equal(now)) {
			t.Errorf("Invites(%d): used invite has UsedBy %d, UsedAt %v; want 101, %v", a.ID, inv.UsedBy, inv.UsedAt, now)
		}
		if inv.Hash == Hash("a-old") && inv.UsedBy != 0 {
			t.Errorf("Invites(%d): expired invite has UsedBy %d, want 0", a.ID, inv.UsedBy)
		}
	}

	// A removed contact cannot come back with the link it used.
	if err := s.RemoveContact(ctx, 105); err != nil {
		t.Fatalf("RemoveContact(105) error: %v", err)
	}
	if _, err := s.Bind(ctx, Hash("b1"), flows.Contact{UserID: 105}, now); !errors.Is(err, flows.ErrInviteUsed) {
		t.Errorf("Bind(used link, by its removed user) error = %v, want ErrInviteUsed", err)
	}
	// …but with a new one.
	if u, err := s.Bind(ctx, Hash("b2"), flows.Contact{UserID: 105}, now); err != nil || u.ID != b.ID {
		t.Errorf("Bind(new link, removed user) = unit %d, %v; want unit %d", u.ID, err, b.ID)
	}
}

func testBindRemovedUnit(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "示例企业甲（国有大型）", "enterprise")
	mustPutInvite(t, s, flows.Invite{Hash: Hash("gone"), UnitID: a.ID})
	a.Removed = true
	if err := s.PutUnit(ctx, a); err != nil {
		t.Fatalf("PutUnit(%d, removed) error: %v", a.ID, err)
	}
	if _, err := s.Bind(ctx, Hash("gone"), flows.Contact{UserID: 401, ChatID: 401}, t0.Add(time.Hour)); !errors.Is(err, flows.ErrUnitRemoved) {
		t.Errorf("Bind(invite of a removed unit) error = %v, want ErrUnitRemoved", err)
	}
	if _, err := s.Contact(ctx, 401); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(401) after Bind to a removed unit error = %v, want ErrNotFound", err)
	}
	if cs, err := s.Contacts(ctx, a.ID); err != nil || len(cs) != 0 {
		t.Errorf("Contacts(%d) after Bind to a removed unit = %+v, %v; want none", a.ID, cs, err)
	}
}

func testRevokeInvites(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "市财政局", "department")
	b := mustAddUnit(t, s, "市民政局", "department")
	now := t0.Add(time.Hour)
	mustPutInvite(t, s, flows.Invite{Hash: Hash("open1"), UnitID: a.ID})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("open2"), UnitID: a.ID})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("used"), UnitID: a.ID})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("expired"), UnitID: a.ID, Expires: now.Add(-time.Minute)})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("other"), UnitID: b.ID})
	mustPutInvite(t, s, flows.Invite{Hash: Hash("newer"), UnitID: a.ID, Created: now.Add(time.Second)})
	if _, err := s.Bind(ctx, Hash("used"), flows.Contact{UserID: 501, ChatID: 501}, now); err != nil {
		t.Fatalf("Bind(used, user 501) error: %v", err)
	}

	if n, err := s.RevokeInvites(ctx, a.ID, now); err != nil || n != 2 {
		t.Fatalf("RevokeInvites(%d) = %d, %v; want 2 (the two open invites)", a.ID, n, err)
	}
	if n, err := s.RevokeInvites(ctx, a.ID, now); err != nil || n != 0 {
		t.Errorf("RevokeInvites(%d) again = %d, %v; want 0", a.ID, n, err)
	}
	if n, err := s.RevokeInvites(ctx, 99, now); err != nil || n != 0 {
		t.Errorf("RevokeInvites(unknown unit 99) = %d, %v; want 0, nil", n, err)
	}

	for _, tok := range []string{"open1", "open2"} {
		if _, err := s.Bind(ctx, Hash(tok), flows.Contact{UserID: 502, ChatID: 502}, now); !errors.Is(err, flows.ErrInviteRevoked) {
			t.Errorf("Bind(revoked invite %q) error = %v, want ErrInviteRevoked", tok, err)
		}
	}
	if _, err := s.Contact(ctx, 502); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(502) after Binds of revoked invites error = %v, want ErrNotFound", err)
	}
	// The used invite is unaffected: its contact stays and binding again
	// with it is still the same Bind.
	if u, err := s.Bind(ctx, Hash("used"), flows.Contact{UserID: 501, ChatID: 501}, now); err != nil || u.ID != a.ID {
		t.Errorf("Bind(used invite, its user) after RevokeInvites = unit %d, %v; want unit %d", u.ID, err, a.ID)
	}
	if _, err := s.Contact(ctx, 501); err != nil {
		t.Errorf("Contact(501) after RevokeInvites error: %v", err)
	}
	invs, err := s.Invites(ctx, a.ID)
	if err != nil {
		t.Fatalf("Invites(%d) error: %v", a.ID, err)
	}
	for _, inv := range invs {
		if inv.Hash == Hash("newer") {
			continue
		}
		revoked := inv.Hash == Hash("open1") || inv.Hash == Hash("open2")
		if revoked != inv.Revoked.Equal(now) || !revoked && !inv.Revoked.IsZero() {
			t.Errorf("Invites(%d): invite %.8s has Revoked %v (UsedBy %d); want revoked: %v", a.ID, inv.Hash, inv.Revoked, inv.UsedBy, revoked)
		}
	}
	// Another unit's invites are untouched.
	if u, err := s.Bind(ctx, Hash("other"), flows.Contact{UserID: 503, ChatID: 503}, now); err != nil || u.ID != b.ID {
		t.Errorf("Bind(invite of another unit) after RevokeInvites = unit %d, %v; want unit %d", u.ID, err, b.ID)
	}
	// An invite created after the cutoff is neither revoked nor counted.
	if u, err := s.Bind(ctx, Hash("newer"), flows.Contact{UserID: 504, ChatID: 504}, now.Add(time.Minute)); err != nil || u.ID != a.ID {
		t.Errorf("Bind(invite created after RevokeInvites' now) = unit %d, %v; want unit %d", u.ID, err, a.ID)
	}
}

func testBindHandover(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	mustBind(t, s, a.ID, 201)
	keep := mustBind(t, s, a.ID, 203)

	mustPutInvite(t, s, flows.Invite{Hash: Hash("handover"), UnitID: a.ID, Handover: 201, CreatedBy: 201})
	now := t0.Add(2 * time.Hour)
	if u, err := s.Bind(ctx, Hash("handover"), flows.Contact{UserID: 202, ChatID: 202}, now); err != nil || u.ID != a.ID {
		t.Fatalf("Bind(handover invite, user 202) = unit %d, %v; want unit %d", u.ID, err, a.ID)
	}
	if _, err := s.Contact(ctx, 201); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(201) after handing over error = %v, want ErrNotFound", err)
	}
	want := []flows.Contact{{UserID: 202, UnitID: a.ID, ChatID: 202, BoundAt: now}, keep} // by user id
	if got, err := s.Contacts(ctx, a.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Contacts(%d) after handover = %+v, %v; want %+v", a.ID, got, err, want)
	}
	d := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "李四")
	err := s.Apply(ctx, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: 201, FromRev: 0, Draft: d})
	if !errors.Is(err, flows.ErrNotContact) {
		t.Errorf("Apply by the user who handed over error = %v, want ErrNotContact", err)
	}
	// The old contact is free to join another unit.
	if u := mustBind(t, s, b.ID, 201); u.UnitID != b.ID {
		t.Errorf("Bind(user 201 to unit %d) after handover: unit %d", b.ID, u.UnitID)
	}
}

func testBindConcurrent(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	mustPutInvite(t, s, flows.Invite{Hash: Hash("race"), UnitID: a.ID})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Bind(ctx, Hash("race"), flows.Contact{UserID: int64(300 + i)}, t0.Add(time.Hour))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, flows.ErrInviteUsed):
			t.Errorf("concurrent Bind by user %d error = %v, want nil or ErrInviteUsed", 300+i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent Binds of one invite: %d succeeded, want exactly 1", n, wins)
	}
	if cs, err := s.Contacts(ctx, a.ID); err != nil || len(cs) != 1 {
		t.Errorf("Contacts(%d) after concurrent Binds = %+v, %v; want 1 contact", a.ID, cs, err)
	}
}

func testContacts(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	c3 := mustBind(t, s, a.ID, 3)
	c1 := mustBind(t, s, a.ID, 1)
	c2 := mustBind(t, s, b.ID, 2)
	big := mustBind(t, s, a.ID, 8_123_456_789) // user ids exceed 32 bits

	for _, tc := range []struct {
		unit int64
		want []flows.Contact
	}{
		{a.ID, []flows.Contact{c1, c3, big}},
		{b.ID, []flows.Contact{c2}},
		{99, nil},
	} {
		got, err := s.Contacts(ctx, tc.unit)
		if err != nil {
			t.Fatalf("Contacts(%d) error: %v", tc.unit, err)
		}
		if len(got)+len(tc.want) > 0 && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Contacts(%d) = %+v, want %+v", tc.unit, got, tc.want)
		}
	}

	// Mark unreachable.
	un := c1
	un.Unreachable = true
	if err := s.PutContact(ctx, un); err != nil {
		t.Fatalf("PutContact(unreachable %d) error: %v", un.UserID, err)
	}
	if got, err := s.Contact(ctx, un.UserID); err != nil || !reflect.DeepEqual(got, un) {
		t.Errorf("Contact(%d) after PutContact = %+v, %v; want %+v", un.UserID, got, err, un)
	}
	if got, _ := s.Contacts(ctx, a.ID); len(got) == 0 || !reflect.DeepEqual(got[0], un) {
		t.Errorf("Contacts(%d)[0] after PutContact = %+v, want %+v", a.ID, got, un)
	}
	if err := s.PutContact(ctx, flows.Contact{UserID: 77, UnitID: a.ID}); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("PutContact(non-contact 77) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Contact(ctx, 77); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(77) after a failed PutContact error = %v, want ErrNotFound", err)
	}

	// Remove.
	if err := s.RemoveContact(ctx, c3.UserID); err != nil {
		t.Fatalf("RemoveContact(%d) error: %v", c3.UserID, err)
	}
	if _, err := s.Contact(ctx, c3.UserID); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(%d) after RemoveContact error = %v, want ErrNotFound", c3.UserID, err)
	}
	if got, _ := s.Contacts(ctx, a.ID); !reflect.DeepEqual(got, []flows.Contact{un, big}) {
		t.Errorf("Contacts(%d) after RemoveContact = %+v, want %+v", a.ID, got, []flows.Contact{un, big})
	}
	if err := s.RemoveContact(ctx, c3.UserID); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("RemoveContact(%d) twice error = %v, want ErrNotFound", c3.UserID, err)
	}
	d := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "王五")
	if err := s.Apply(ctx, flows.Transition{UnitID: a.ID, UserID: c3.UserID, Draft: d}); !errors.Is(err, flows.ErrNotContact) {
		t.Errorf("Apply by removed contact error = %v, want ErrNotContact", err)
	}
	// A removed contact may join another unit.
	mustBind(t, s, b.ID, c3.UserID)
}

// nextDraft returns the draft after d with one more answer: Rev+1, the
// answer set, the cursor moved.
func nextDraft(d flows.Draft, q, text string) flows.Draft {
	n := d
	n.Rev = d.Rev + 1
	n.Status = flows.StatusFilling
	n.Answers = make(map[string]flows.Answer, len(d.Answers)+1)
	for k, v := range d.Answers {
		n.Answers[k] = v
	}
	n.Answers[q] = flows.Answer{Text: text}
	n.Cursor = q + "_next"
	if n.StartedAt.IsZero() {
		n.StartedAt = t0
	}
	n.UpdatedAt = t0.Add(time.Duration(n.Rev) * time.Minute)
	return n
}

func mustDraft(t *testing.T, s flows.Store, unitID int64) flows.Draft {
	t.Helper()
	d, err := s.Draft(t.Context(), "", unitID)
	if err != nil {
		t.Fatalf("Draft(%d) error: %v", unitID, err)
	}
	return d
}

func mustApply(t *testing.T, s flows.Store, tr flows.Transition) {
	t.Helper()
	if err := s.Apply(t.Context(), tr); err != nil {
		t.Fatalf("Apply(unit %d, update %d, from rev %d) error: %v", tr.UnitID, tr.UpdateID, tr.FromRev, err)
	}
}

func mustReports(t *testing.T, s flows.Store, unitID int64) []flows.Report {
	t.Helper()
	rs, err := s.Reports(t.Context(), "", unitID)
	if err != nil {
		t.Fatalf("Reports(%d) error: %v", unitID, err)
	}
	return rs
}

func testDraftFresh(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	if got, want := mustDraft(t, s, a.ID), (flows.Draft{UnitID: a.ID}); !reflect.DeepEqual(got, want) {
		t.Errorf("Draft(%d) of a fresh unit = %+v, want %+v", a.ID, got, want)
	}
	if ds, err := s.Drafts(t.Context(), ""); err != nil || len(ds) != 0 {
		t.Errorf("Drafts() with no draft = %+v, %v; want none", ds, err)
	}
	if rs := mustReports(t, s, a.ID); len(rs) != 0 {
		t.Errorf("Reports(%d) of a fresh unit = %+v, want none", a.ID, rs)
	}
}

func testApply(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	c := mustBind(t, s, a.ID, 11)
	d := mustDraft(t, s, a.ID)
	for i, q := range []string{"filler_name", "filler_phone", "essays"} {
		next := nextDraft(d, q, fmt.Sprintf("答%d", i))
		next.Pending = &flows.Answer{Picks: []string{"industry"}}
		mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: int64(1000 + i), UserID: c.UserID, FromRev: d.Rev, Draft: next})
		got := mustDraft(t, s, a.ID)
		if !reflect.DeepEqual(got, next) {
			t.Fatalf("Draft(%d) after Apply from rev %d = %+v, want %+v", a.ID, d.Rev, got, next)
		}
		d = got
	}
	if d.Rev != 3 {
		t.Errorf("Draft(%d).Rev after 3 transitions = %d, want 3", a.ID, d.Rev)
	}
	// UserID 0 (an office action, e.g. returning a report) skips the contact check;
	// UpdateID 0 skips the dedupe.
	for range 2 {
		next := nextDraft(d, "columns", "7")
		mustApply(t, s, flows.Transition{UnitID: a.ID, FromRev: d.Rev, Draft: next})
		d = mustDraft(t, s, a.ID)
	}
	if d.Rev != 5 {
		t.Errorf("Draft(%d).Rev after 2 transitions without update id = %d, want 5", a.ID, d.Rev)
	}
}

func testApplyConflict(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	d1 := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, Draft: d1})
	d2 := nextDraft(d1, "filler_phone", "13800000000")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 2, FromRev: 1, Draft: d2})

	for _, from := range []int64{0, 1, 3, 7} {
		stale := nextDraft(flows.Draft{UnitID: a.ID, Rev: from}, "essays", "stale")
		rep := &flows.Report{UnitID: a.ID, Version: 1, Receipt: "SY-2022-0001", SubmittedAt: t0}
		err := s.Apply(ctx, flows.Transition{UnitID: a.ID, UpdateID: 100 + from, FromRev: from, Draft: stale, Report: rep})
		if !errors.Is(err, flows.ErrConflict) {
			t.Errorf("Apply(from rev %d, stored rev 2) error = %v, want ErrConflict", from, err)
		}
	}
	if got := mustDraft(t, s, a.ID); !reflect.DeepEqual(got, d2) {
		t.Errorf("Draft(%d) after conflicting Applies = %+v, want unchanged %+v", a.ID, got, d2)
	}
	if rs := mustReports(t, s, a.ID); len(rs) != 0 {
		t.Errorf("Reports(%d) after conflicting Applies with a report = %d versions, want 0", a.ID, len(rs))
	}
	// The update ids of the failed transitions were not recorded: a retry
	// computed from the fresh draft goes through.
	d3 := nextDraft(d2, "essays", "fresh")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 101, FromRev: 2, Draft: d3})
}

func testApplyDuplicate(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	d1 := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 500, Draft: d1})

	for _, tc := range []struct {
		desc string
		from int64
	}{
		{"redelivered, computed from the current draft", 1},
		{"redelivered, computed from the old draft", 0},
	} {
		again := nextDraft(flows.Draft{UnitID: a.ID, Rev: tc.from}, "filler_name", "again")
		rep := &flows.Report{UnitID: a.ID, Version: 1, Receipt: "SY-2022-0001", SubmittedAt: t0}
		err := s.Apply(ctx, flows.Transition{UnitID: a.ID, UpdateID: 500, FromRev: tc.from, Draft: again, Report: rep})
		if !errors.Is(err, flows.ErrDuplicate) {
			t.Errorf("%s: Apply(update 500 twice, from rev %d) error = %v, want ErrDuplicate", tc.desc, tc.from, err)
		}
	}
	if got := mustDraft(t, s, a.ID); !reflect.DeepEqual(got, d1) {
		t.Errorf("Draft(%d) after duplicate Applies = %+v, want unchanged %+v", a.ID, got, d1)
	}
	if rs := mustReports(t, s, a.ID); len(rs) != 0 {
		t.Errorf("Reports(%d) after a duplicate Apply with a report = %d versions, want 0", a.ID, len(rs))
	}
	// Dedupe is per unit.
	db := nextDraft(flows.Draft{UnitID: b.ID}, "filler_name", "李四")
	if err := s.Apply(ctx, flows.Transition{UnitID: b.ID, UpdateID: 500, Draft: db}); err != nil {
		t.Errorf("Apply(update 500 to another unit) error = %v, want nil", err)
	}
}

func testApplyNotContact(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	mustBind(t, s, a.ID, 21)
	other := mustBind(t, s, b.ID, 22)
	for _, tc := range []struct {
		desc string
		user int64
	}{
		{"nobody", 999},
		{"contact of another unit", other.UserID},
	} {
		d := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
		err := s.Apply(ctx, flows.Transition{UnitID: a.ID, UpdateID: 7, UserID: tc.user, Draft: d})
		if !errors.Is(err, flows.ErrNotContact) {
			t.Errorf("Apply by %s (user %d) error = %v, want ErrNotContact", tc.desc, tc.user, err)
		}
	}
	if got, want := mustDraft(t, s, a.ID), (flows.Draft{UnitID: a.ID}); !reflect.DeepEqual(got, want) {
		t.Errorf("Draft(%d) after Applies by non-contacts = %+v, want unchanged %+v", a.ID, got, want)
	}
	// The update id was not recorded.
	d := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 7, UserID: 21, Draft: d})
}

func testApplyInvalid(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	good := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	for _, tc := range []struct {
		desc string
		tr   flows.Transition
	}{
		{"rev not FromRev+1", flows.Transition{UnitID: a.ID, Draft: func() flows.Draft { d := good; d.Rev = 5; return d }()}},
		{"draft of another unit", flows.Transition{UnitID: b.ID, Draft: good}},
		{"report of another unit", flows.Transition{UnitID: a.ID, Draft: good, Report: &flows.Report{UnitID: b.ID, Version: 1}}},
	} {
		err := s.Apply(ctx, tc.tr)
		if err == nil {
			t.Errorf("Apply(%s) error = nil, want an error", tc.desc)
		}
		for _, sentinel := range []error{flows.ErrConflict, flows.ErrDuplicate, flows.ErrNotContact} {
			if errors.Is(err, sentinel) {
				t.Errorf("Apply(%s) error = %v, want a non-sentinel error (a caller bug)", tc.desc, err)
			}
		}
	}
	for _, u := range []int64{a.ID, b.ID} {
		if got := mustDraft(t, s, u); got.Rev != 0 {
			t.Errorf("Draft(%d) after invalid Applies: Rev %d, want 0", u, got.Rev)
		}
	}
}

func testApplyReports(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	c := mustBind(t, s, a.ID, 31)
	d := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: c.UserID, Draft: d})

	var want []flows.Report
	for v := 1; v <= 3; v++ {
		next := nextDraft(d, "summary_text", fmt.Sprintf("第%d版", v))
		next.Status = flows.StatusSubmitted
		next.Cursor = ""
		next.Version = v
		next.Receipt = fmt.Sprintf("SY-2022-0001-%d", v)
		next.SubmittedAt = t0.Add(time.Duration(v) * time.Hour)
		rep := flows.Report{
			UnitID: a.ID, Version: v, Receipt: next.Receipt, SubmittedAt: next.SubmittedAt,
			SubmittedBy: c.UserID, Answers: next.Answers,
		}
		mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: int64(10 + v), UserID: c.UserID, FromRev: d.Rev, Draft: next, Report: &rep})
		want = append(want, rep)
		if got := mustReports(t, s, a.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("Reports(%d) after submitting version %d = %+v, want %+v", a.ID, v, got, want)
		}
		d = mustDraft(t, s, a.ID)
		if d.Version != v {
			t.Errorf("Draft(%d).Version after submitting version %d = %d", a.ID, v, d.Version)
		}
	}
	// A draft change without a report keeps the versions.
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 20, UserID: c.UserID, FromRev: d.Rev, Draft: nextDraft(d, "essays", "5")})
	if got := mustReports(t, s, a.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("Reports(%d) after a change without a report = %d versions, want the %d submitted", a.ID, len(got), len(want))
	}
	if rs, err := s.Reports(ctx, "", 99); err != nil || len(rs) != 0 {
		t.Errorf("Reports(99) of an unknown unit = %+v, %v; want none", rs, err)
	}
}

func testApplyConcurrent(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	c1 := mustBind(t, s, a.ID, 41)
	c2 := mustBind(t, s, a.ID, 42)
	base := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: c1.UserID, Draft: base})

	const n = 16
	drafts := make([]flows.Draft, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		drafts[i] = nextDraft(base, "essays", fmt.Sprintf("%d", i))
		user := c1.UserID
		if i%2 == 1 {
			user = c2.UserID
		}
		var rep *flows.Report
		if i%3 == 0 {
			rep = &flows.Report{UnitID: a.ID, Version: 1, Receipt: fmt.Sprintf("R%d", i), SubmittedAt: t0, SubmittedBy: user}
		}
		tr := flows.Transition{UnitID: a.ID, UpdateID: int64(100 + i), UserID: user, FromRev: base.Rev, Draft: drafts[i], Report: rep}
		wg.Go(func() {
			<-start
			errs[i] = s.Apply(t.Context(), tr)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("concurrent Apply from rev %d: goroutines %d and %d both won, want exactly one", base.Rev, winner, i)
			}
			winner = i
		case !errors.Is(err, flows.ErrConflict):
			t.Errorf("concurrent Apply %d from rev %d error = %v, want nil or ErrConflict", i, base.Rev, err)
		}
	}
	if winner < 0 {
		t.Fatalf("concurrent Apply from rev %d: no goroutine won, want exactly one", base.Rev)
	}
	if got := mustDraft(t, s, a.ID); !reflect.DeepEqual(got, drafts[winner]) {
		t.Errorf("Draft(%d) after the race = %+v, want the winner's %+v", a.ID, got, drafts[winner])
	}
	wantReports := 0
	if winner%3 == 0 {
		wantReports = 1
	}
	if rs := mustReports(t, s, a.ID); len(rs) != wantReports {
		t.Errorf("Reports(%d) after the race = %d versions, want %d (only the winner's)", a.ID, len(rs), wantReports)
	}
}

func testDrafts(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	mustAddUnit(t, s, "市财政局", "department") // never started
	b := mustAddUnit(t, s, "市民政局", "department")
	db := nextDraft(flows.Draft{UnitID: b.ID}, "filler_name", "李四")
	mustApply(t, s, flows.Transition{UnitID: b.ID, UpdateID: 1, Draft: db})
	da := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 2, Draft: da})
	da2 := nextDraft(da, "filler_phone", "0358-8498917")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 3, FromRev: 1, Draft: da2})

	got, err := s.Drafts(t.Context(), "")
	if err != nil {
		t.Fatalf("Drafts() error: %v", err)
	}
	if want := []flows.Draft{da2, db}; !reflect.DeepEqual(got, want) {
		t.Errorf("Drafts() = %+v, want %+v", got, want)
	}
}

func testSettings(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	if _, err := s.Setting(ctx, "office_chat"); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Setting(unset) error = %v, want ErrNotFound", err)
	}
	steps := []struct{ key, value string }{
		{"office_chat", "-1001234567890"},
		{"deadline", "2022-02-15 18:00"},
		{"office_chat", "-1009999"},
		{"empty", ""},
	}
	want := map[string]string{}
	for _, st := range steps {
		if err := s.PutSetting(ctx, st.key, st.value); err != nil {
			t.Fatalf("PutSetting(%q, %q) error: %v", st.key, st.value, err)
		}
		want[st.key] = st.value
		for k, v := range want {
			if got, err := s.Setting(ctx, k); err != nil || got != v {
				t.Errorf("Setting(%q) after PutSetting(%q, %q) = %q, %v; want %q", k, st.key, st.value, got, err, v)
			}
		}
	}
}

func testSeen(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	for _, st := range []struct {
		call string // "seen" or "processed"
		id   int64
		want bool
	}{
		{"processed", 100, false},
		{"seen", 100, true},
		{"processed", 100, true},
		{"seen", 100, false},
		{"processed", 101, false},
		{"processed", 101, false}, // Processed records nothing
		{"seen", 101, true},
		{"seen", 100, false},
		{"seen", 101, false},
		{"seen", 99, true},
		{"processed", 99, true},
		{"processed", 98, false},
	} {
		var got bool
		var err error
		if st.call == "seen" {
			got, err = s.Seen(ctx, st.id)
		} else {
			got, err = s.Processed(ctx, st.id)
		}
		if err != nil || got != st.want {
			t.Errorf("%s(%d) = %v, %v; want %v", st.call, st.id, got, err, st.want)
		}
	}
}

// eventually calls f until it returns true or the deadline passes.
func eventually(t *testing.T, within time.Duration, f func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testOnce(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	for _, st := range []struct {
		key  string
		want bool
	}{
		{"remind:1:2022-02-03", true},
		{"remind:1:2022-02-03", false},
		{"remind:2:2022-02-03", true},
		{"remind:1:2022-02-07", true},
		{"remind:2:2022-02-03", false},
	} {
		got, err := s.Once(ctx, st.key, time.Hour)
		if err != nil || got != st.want {
			t.Errorf("Once(%q) = %v, %v; want %v", st.key, got, err, st.want)
		}
	}

	const ttl = 80 * time.Millisecond
	if got, err := s.Once(ctx, "short", ttl); err != nil || !got {
		t.Fatalf("Once(short) first = %v, %v; want true", got, err)
	}
	if got, err := s.Once(ctx, "short", ttl); err != nil || got {
		t.Errorf("Once(short) before its ttl = %v, %v; want false", got, err)
	}
	if !eventually(t, 3*time.Second, func() bool {
		got, err := s.Once(ctx, "short", ttl)
		if err != nil {
			t.Fatalf("Once(short) error: %v", err)
		}
		return got
	}) {
		t.Errorf("Once(short) never returned true again after its ttl of %v", ttl)
	}
}

func testLock(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	lock := func(key, token string, ttl time.Duration, want bool) {
		t.Helper()
		got, err := s.Lock(ctx, key, token, ttl)
		if err != nil || got != want {
			t.Errorf("Lock(%q, %q) = %v, %v; want %v", key, token, got, err, want)
		}
	}
	unlock := func(key, token string) {
		t.Helper()
		if err := s.Unlock(ctx, key, token); err != nil {
			t.Errorf("Unlock(%q, %q) error: %v", key, token, err)
		}
	}
	const job = "digest@2022-02-03T18:00"
	lock(job, "a", time.Minute, true)
	lock(job, "b", time.Minute, false)
	lock(job, "a", time.Minute, true) // the holder may extend
	lock("other", "b", time.Minute, true)
	unlock(job, "b") // not the holder: no effect
	lock(job, "c", time.Minute, false)
	unlock(job, "a")
	lock(job, "c", time.Minute, true)
	unlock("never-locked", "x")

	// Expiry.
	const ttl = 80 * time.Millisecond
	lock("short", "a", ttl, true)
	lock("short", "b", ttl, false)
	if !eventually(t, 3*time.Second, func() bool {
		ok, err := s.Lock(ctx, "short", "b", time.Minute)
		if err != nil {
			t.Fatalf("Lock(short, b) error: %v", err)
		}
		return ok
	}) {
		t.Fatalf("Lock(short, b) never succeeded after a's ttl of %v", ttl)
	}
	unlock("short", "a") // expired holder: must not release b's lock
	lock("short", "c", time.Minute, false)
}

func testPing(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() error: %v", err)
	}
}

func testRestart(t *testing.T, open, reopen func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	removed := b
	removed.Removed = true
	if err := s.PutUnit(ctx, removed); err != nil {
		t.Fatalf("PutUnit error: %v", err)
	}
	removed.Rev++
	c := mustBind(t, s, a.ID, 51)
	inv := flows.Invite{Hash: Hash("open"), UnitID: a.ID, Created: t0, Expires: t0.Add(72 * time.Hour)}
	mustPutInvite(t, s, inv)
	d1 := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	d1.Status = flows.StatusSubmitted
	d1.Version = 1
	rep := flows.Report{UnitID: a.ID, Version: 1, Receipt: "SY-2022-0001", SubmittedAt: t0, SubmittedBy: c.UserID, Answers: d1.Answers}
	out := []flows.Outgoing{
		{Chat: c.ChatID, Kind: flows.OutText, Text: "已提交，回执编号 SY-2022-0001。", At: t0},
		{Chat: flows.OfficeGroup, Kind: flows.OutText, Text: "📬 离石区双拥工作领导小组 提交了第 1 版", Post: true, At: t0},
	}
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 900, UserID: c.UserID, Draft: d1, Report: &rep, Outbox: out})
	cmd := []flows.Outgoing{{Chat: c.ChatID, Kind: flows.OutText, Text: "导出完成", At: t0}}
	mustCommit(t, s, "cmd:export", time.Hour, cmd, true)
	mustClaim(t, s, "cmd:running", "tok", time.Hour, flows.Claimed)
	if err := s.Delivered(ctx, []string{out[0].ID}); err != nil {
		t.Fatalf("Delivered(%s) error: %v", out[0].ID, err)
	}
	pending := []flows.Outgoing{out[1], cmd[0]}
	if err := s.PutSetting(ctx, "office_chat", "-100123"); err != nil {
		t.Fatalf("PutSetting error: %v", err)
	}
	if first, err := s.Seen(ctx, 77); err != nil || !first {
		t.Fatalf("Seen(77) = %v, %v; want true", first, err)
	}
	if first, err := s.Once(ctx, "remind:1", time.Hour); err != nil || !first {
		t.Fatalf("Once(remind:1) = %v, %v; want true", first, err)
	}
	if ok, err := s.Lock(ctx, "job", "tok", time.Hour); err != nil || !ok {
		t.Fatalf("Lock(job) = %v, %v; want true", ok, err)
	}
	invs, err := s.Invites(ctx, a.ID)
	if err != nil {
		t.Fatalf("Invites(%d) error: %v", a.ID, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error: %v", err)
	}

	s = reopen(t)
	if got := mustUnits(t, s); !reflect.DeepEqual(got, []flows.Unit{a, removed}) {
		t.Errorf("Units() after reopen = %+v, want %+v", got, []flows.Unit{a, removed})
	}
	if got, err := s.UnitByName(ctx, a.Name); err != nil || got.ID != a.ID {
		t.Errorf("UnitByName(%q) after reopen = %+v, %v; want unit %d", a.Name, got, err, a.ID)
	}
	if got, err := s.Invites(ctx, a.ID); err != nil || !reflect.DeepEqual(got, invs) {
		t.Errorf("Invites(%d) after reopen = %+v, %v; want %+v", a.ID, got, err, invs)
	}
	if got, err := s.Contact(ctx, c.UserID); err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("Contact(%d) after reopen = %+v, %v; want %+v", c.UserID, got, err, c)
	}
	if got, err := s.Contacts(ctx, a.ID); err != nil || !reflect.DeepEqual(got, []flows.Contact{c}) {
		t.Errorf("Contacts(%d) after reopen = %+v, %v; want [%+v]", a.ID, got, err, c)
	}
	if got := mustDraft(t, s, a.ID); !reflect.DeepEqual(got, d1) {
		t.Errorf("Draft(%d) after reopen = %+v, want %+v", a.ID, got, d1)
	}
	if got, err := s.Drafts(ctx, ""); err != nil || !reflect.DeepEqual(got, []flows.Draft{d1}) {
		t.Errorf("Drafts() after reopen = %+v, %v; want [%+v]", got, err, d1)
	}
	if got := mustReports(t, s, a.ID); !reflect.DeepEqual(got, []flows.Report{rep}) {
		t.Errorf("Reports(%d) after reopen = %+v, want [%+v]", a.ID, got, rep)
	}
	if got, err := s.Setting(ctx, "office_chat"); err != nil || got != "-100123" {
		t.Errorf("Setting(office_chat) after reopen = %q, %v; want %q", got, err, "-100123")
	}
	if done, err := s.Processed(ctx, 77); err != nil || !done {
		t.Errorf("Processed(77) after reopen = %v, %v; want true", done, err)
	}
	if first, err := s.Seen(ctx, 77); err != nil || first {
		t.Errorf("Seen(77) after reopen = %v, %v; want false", first, err)
	}
	if first, err := s.Once(ctx, "remind:1", time.Hour); err != nil || first {
		t.Errorf("Once(remind:1) after reopen = %v, %v; want false", first, err)
	}
	if ok, err := s.Lock(ctx, "job", "other", time.Hour); err != nil || ok {
		t.Errorf("Lock(job, other) after reopen = %v, %v; want false (still held)", ok, err)
	}
	// Writing goes on where it stopped.
	if u, err := s.AddUnit(ctx, flows.Unit{Name: "吕梁军分区", Category: "military"}); err != nil || u.ID != 3 {
		t.Errorf("AddUnit after reopen = unit %d, %v; want unit 3", u.ID, err)
	}
	dup := nextDraft(d1, "essays", "1")
	if err := s.Apply(ctx, flows.Transition{UnitID: a.ID, UpdateID: 900, UserID: c.UserID, FromRev: 1, Draft: dup}); !errors.Is(err, flows.ErrDuplicate) {
		t.Errorf("Apply(update 900 again) after reopen error = %v, want ErrDuplicate", err)
	}
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 901, UserID: c.UserID, FromRev: 1, Draft: dup})

	// The outbox, done marks and claims survive; new messages get new IDs.
	if got := mustOutbox(t, s, true); !reflect.DeepEqual(got, pending) {
		t.Errorf("Outbox(true) after reopen = %v, want the undelivered %v", got, pending)
	}
	mustClaim(t, s, "cmd:export", "other", time.Hour, flows.Done)
	mustClaim(t, s, "cmd:running", "other", time.Hour, flows.Busy)
	mustCommit(t, s, "cmd:export", time.Hour, []flows.Outgoing{{Chat: c.ChatID, Kind: flows.OutText, Text: "again"}}, false)
	more := []flows.Outgoing{{Chat: c.ChatID, Kind: flows.OutText, Text: "重启后"}}
	mustCommit(t, s, "", time.Hour, more, true)
	for _, m := range append(out, cmd...) {
		if more[0].ID == m.ID {
			t.Errorf("Commit after reopen assigned ID %s, which a message had before", m.ID)
		}
	}
	if got := mustOutbox(t, s, true); len(got) != 3 {
		t.Errorf("Outbox(true) after reopen and a Commit = %v, want 3 messages", got)
	}
}
