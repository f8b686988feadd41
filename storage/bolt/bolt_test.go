package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"reportbot/flows"
	"reportbot/storage/storetest"
)

// MustOpen opens a store on a new file in tb.TempDir and closes it in
// tb.Cleanup.
func MustOpen(tb testing.TB) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "reportbot.db")
	return mustOpenPath(tb, path), path
}

func mustOpenPath(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatalf("Open(%s) error: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() error: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	var mu sync.Mutex
	paths := map[*testing.T]string{}
	open := func(t *testing.T) flows.Store {
		s, path := MustOpen(t)
		mu.Lock()
		paths[t] = path
		mu.Unlock()
		return s
	}
	reopen := func(t *testing.T) flows.Store {
		mu.Lock()
		path, ok := paths[t]
		mu.Unlock()
		if !ok {
			t.Fatal("reopen called before open")
		}
		return mustOpenPath(t, path)
	}
	storetest.Run(t, open, reopen)
}

func TestOpenLocked(t *testing.T) {
	_, path := MustOpen(t)
	start := time.Now()
	s, err := open(path, 100*time.Millisecond)
	if err == nil {
		s.Close()
		t.Fatalf("second Open(%s) of an open file succeeded, want an error", path)
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "database is locked by another process") {
		t.Errorf("second Open(%s) error = %v, want ErrLocked saying the database is locked", path, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open(%s) took %v, want it to give up after its timeout", path, d)
	}
}

func TestOpenDefaultTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for Open's 2 s timeout")
	}
	_, path := MustOpen(t)
	start := time.Now()
	if s, err := Open(path); !errors.Is(err, ErrLocked) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("second Open(%s) error = %v, want ErrLocked", path, err)
	}
	if d := time.Since(start); d < time.Second || d > 5*time.Second {
		t.Errorf("second Open(%s) gave up after %v, want about 2 s", path, d)
	}
}

// TestSeenExpiry moves the store's clock past seenKeep: old ids are
// forgotten and trimmed from the file.
func TestSeenExpiry(t *testing.T) {
	s, _ := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2022, 1, 10, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	u, err := s.AddUnit(ctx, flows.Unit{Name: "离石区双拥工作领导小组", Category: "county"})
	if err != nil {
		t.Fatalf("AddUnit error: %v", err)
	}
	for i := range int64(3) {
		if first, err := s.Seen(ctx, 100+i); err != nil || !first {
			t.Fatalf("Seen(%d) = %v, %v; want true", 100+i, first, err)
		}
		d := flows.Draft{UnitID: u.ID, Rev: i + 1}
		if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 100 + i, FromRev: i, Draft: d}); err != nil {
			t.Fatalf("Apply(update %d) error: %v", 100+i, err)
		}
	}
	if first, _ := s.Seen(ctx, 100); first {
		t.Errorf("Seen(100) within %v = true, want false", seenKeep)
	}
	// Another unit's old ids go too: the dedupe is trimmed oldest first,
	// whichever unit a step belongs to.
	u2, err := s.AddUnit(ctx, flows.Unit{Name: "中阳县双拥工作领导小组", Category: "county"})
	if err != nil {
		t.Fatalf("AddUnit error: %v", err)
	}
	if err := s.Apply(ctx, flows.Transition{UnitID: u2.ID, UpdateID: 99, Draft: flows.Draft{UnitID: u2.ID, Rev: 1}}); err != nil {
		t.Fatalf("Apply(unit 2) error: %v", err)
	}

	now = now.Add(seenKeep + time.Minute)
	if first, err := s.Seen(ctx, 100); err != nil || !first {
		t.Errorf("Seen(100) after %v = %v, %v; want true (forgotten)", seenKeep, first, err)
	}
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 101, FromRev: 3, Draft: flows.Draft{UnitID: u.ID, Rev: 4}}); err != nil {
		t.Errorf("Apply(update 101) after %v error = %v, want nil (forgotten)", seenKeep, err)
	}
	counts := map[string]int{}
	err = s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bSeen, bApplied} {
			counts[string(b)] = tx.Bucket(b).Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts[string(bSeen)] != 1 || counts[string(bApplied)] != 1 {
		t.Errorf("after %v: %d seen and %d applied ids kept, want 1 and 1 (old ones trimmed)", seenKeep, counts[string(bSeen)], counts[string(bApplied)])
	}
}

// draftSize is the number of bytes stored for the unit's draft.
func draftSize(tb testing.TB, s *Store, unitID int64) int {
	tb.Helper()
	var n int
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = len(tx.Bucket(bDrafts).Get(id(unitID)))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkStep is one form step through the store: Draft + Apply of a
// draft with storetest.Answers answers. bytes/draft is what the store keeps
// for a draft with every answer of the form, at the summary.
func BenchmarkStep(b *testing.B) {
	s, _ := MustOpen(b)
	ctx := context.Background()
	st := storetest.NewStepper(b, s)
	for b.Loop() {
		if err := st.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := st.Summary(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(draftSize(b, s, st.UnitID())), "bytes/draft")
}

// BenchmarkServiceStep is one form step as the bot makes it, through
// flows.Service with its caches warm (one Apply per step).
func BenchmarkServiceStep(b *testing.B) {
	s, _ := MustOpen(b)
	ctx := context.Background()
	st := storetest.NewServiceStepper(b, s)
	for b.Loop() {
		if err := st.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMigrateApplied: update ids stored before applied_ids (keyed unit id
// first) are moved on open, so an update redelivered after an upgrade is
// still refused as a duplicate.
func TestMigrateApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reportbot.db")
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.AddUnit(ctx, flows.Unit{Name: "柳林县双拥工作领导小组", Category: "county"})
	if err != nil {
		t.Fatalf("AddUnit error: %v", err)
	}
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 700, Draft: flows.Draft{UnitID: u.ID, Rev: 1}}); err != nil {
		t.Fatalf("Apply error: %v", err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		old, err := tx.CreateBucket([]byte("applied"))
		if err != nil {
			return err
		}
		return old.Put(id2(u.ID, 701), putTime(time.Now()))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenPath(t, path)
	err = s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 701, FromRev: 1, Draft: flows.Draft{UnitID: u.ID, Rev: 2}})
	if !errors.Is(err, flows.ErrDuplicate) {
		t.Errorf("Apply(update 701 stored before the upgrade) error = %v, want ErrDuplicate", err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("applied")) != nil {
			t.Error(`bucket "applied" still there after the move`)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 702, FromRev: 1, Draft: flows.Draft{UnitID: u.ID, Rev: 2}}); err != nil {
		t.Errorf("Apply(new update 702) error: %v", err)
	}
}

// TestOutboxOnOlderFile: a file written before the outbox has none of its
// buckets; opening it adds them.
func TestOutboxOnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reportbot.db")
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUnit(ctx, flows.Unit{Name: "柳林县双拥工作领导小组", Category: "county"}); err != nil {
		t.Fatalf("AddUnit error: %v", err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bOutbox, bDone, bDoneExpiry, bClaims} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenPath(t, path)
	if st, err := s.Claim(ctx, "upd:1", "tok", time.Minute); err != nil || st != flows.Claimed {
		t.Errorf("Claim on an older file = %v, %v; want claimed", st, err)
	}
	msgs := []flows.Outgoing{{Chat: 7, Kind: flows.OutText, Text: "你好"}}
	if first, err := s.Commit(ctx, "upd:1", time.Hour, msgs); err != nil || !first {
		t.Errorf("Commit on an older file = %v, %v; want true", first, err)
	}
	if got, err := s.Outbox(ctx, true); err != nil || len(got) != 1 || got[0].ID != msgs[0].ID {
		t.Errorf("Outbox(true) on an older file = %v, %v; want %s", got, err, msgs[0].ID)
	}
	if units, err := s.Units(ctx); err != nil || len(units) != 1 {
		t.Errorf("Units() on an older file = %v, %v; want the unit written before", units, err)
	}
}

// TestDoneExpiry moves the store's clock: done marks expire after their
// keep and are trimmed by later Commits; keep ≤ 0 lasts for ever.
func TestDoneExpiry(t *testing.T) {
	s, _ := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2022, 1, 10, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	commit := func(key string, keep time.Duration, want bool) {
		t.Helper()
		if first, err := s.Commit(ctx, key, keep, nil); err != nil || first != want {
			t.Errorf("Commit(%q, keep %v) = %v, %v; want %v", key, keep, first, err, want)
		}
	}
	commit("upd:1", time.Hour, true)
	commit("upd:2", 2*time.Hour, true)
	commit("forever", 0, true)
	commit("upd:1", time.Hour, false)

	now = now.Add(90 * time.Minute)
	commit("upd:1", time.Hour, true) // expired: done again, until 10:30 + 1 h
	commit("upd:2", time.Hour, false)
	now = now.Add(24 * time.Hour)
	commit("upd:3", time.Hour, true)
	commit("forever", time.Hour, false)

	counts := map[string]int{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bDone, bDoneExpiry} {
			counts[string(b)] = tx.Bucket(b).Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts[string(bDone)] != 2 || counts[string(bDoneExpiry)] != 1 {
		t.Errorf("after the marks expired: %d done marks and %d index entries, want 2 (forever, upd:3) and 1 (old ones trimmed)", counts[string(bDone)], counts[string(bDoneExpiry)])
	}
}

// TestUpgrade opens a file written by the release before campaigns
// (testdata/upgrade-9a709f1.db, made by
// storage/storetest/testdata/upgrade/make_fixtures_test.go) and finds
// everything that release read from it under campaign key "".
func TestUpgrade(t *testing.T) {
	fx := storetest.ReadUpgradeFixture(t, filepath.Join("testdata", "upgrade-9a709f1.json"))
	data, err := os.ReadFile(filepath.Join("testdata", "upgrade-9a709f1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "reportbot.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(the old file) error: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	// The locks expire by the store's clock: open it as if just after the
	// old release wrote it.
	s.now = func() time.Time { return fx.WrittenAt.Add(time.Minute) }
	storetest.Upgrade(t, s, fx)
}
