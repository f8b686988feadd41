package redis

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/storage/redis/redistest"
	"reportbot/storage/storetest"
)

// mustOpen opens a store on url and closes it in tb.Cleanup.
func mustOpen(tb testing.TB, url string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("Open(%s) error: %v", url, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() error: %v", err)
		}
	})
	return s
}

// runSuite runs the conformance suite with one redis-server per subtest;
// reopen restarts the server (its AOF keeps the data, its script cache is
// emptied) and connects a new client; the second store (another process)
// is a new client of the same server.
func runSuite(t *testing.T, opts redistest.Options, scheme string) {
	opts.AppendOnly = true
	var mu sync.Mutex
	servers := map[*testing.T]*redistest.Server{}
	url := func(srv *redistest.Server) string {
		return strings.Replace(srv.URL, "redis://", scheme+"://", 1)
	}
	// Start a server per subtest up front, all at once: a cluster node
	// takes 2 s to become writable.
	pool := make(chan *redistest.Server, 32)
	for _, srv := range redistest.StartServers(t, cap(pool), opts) {
		pool <- srv
	}
	open := func(t *testing.T) flows.Store {
		var srv *redistest.Server
		select {
		case srv = <-pool:
		default:
			srv = redistest.StartServer(t, opts)
		}
		mu.Lock()
		servers[t] = srv
		mu.Unlock()
		return mustOpen(t, url(srv))
	}
	reopen := func(t *testing.T) flows.Store {
		mu.Lock()
		srv := servers[t]
		mu.Unlock()
		if srv == nil {
			t.Fatal("reopen called before open")
		}
		srv.Restart(t)
		return mustOpen(t, url(srv))
	}
	second := func(t *testing.T) flows.Store {
		mu.Lock()
		srv := servers[t]
		mu.Unlock()
		if srv == nil {
			t.Fatal("second store asked for before open")
		}
		return mustOpen(t, url(srv))
	}
	storetest.Run(t, open, reopen, storetest.Second(second))
}

func TestStore(t *testing.T) {
	runSuite(t, redistest.Options{}, "redis")
}

// TestStoreCluster runs the suite on a one-node Redis Cluster, which
// rejects any script whose keys are in different slots: it checks the
// hash tags of the key schema.
func TestStoreCluster(t *testing.T) {
	runSuite(t, redistest.Options{Cluster: true}, "redis+cluster")
}

// unitWithContact adds a unit with one bound contact.
func unitWithContact(t *testing.T, s *Store, userID int64) flows.Unit {
	t.Helper()
	ctx := context.Background()
	u, err := s.AddUnit(ctx, flows.Unit{Name: "离石区双拥工作领导小组", Category: "county"})
	if err != nil {
		t.Fatalf("AddUnit error: %v", err)
	}
	h := storetest.Hash("invite")
	if err := s.PutInvite(ctx, flows.Invite{Hash: h, UnitID: u.ID, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("PutInvite error: %v", err)
	}
	if _, err := s.Bind(ctx, h, flows.Contact{UserID: userID}, time.Now()); err != nil {
		t.Fatalf("Bind error: %v", err)
	}
	return u
}

// delta returns the commands counted in after but not in before, without
// the INFO of redistest.Commands itself.
func delta(before, after map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, v := range after {
		if n := v - before[k]; n > 0 && k != "info" {
			d[k] = n
		}
	}
	return d
}

func TestApplyOneRoundTrip(t *testing.T) {
	url := redistest.Start(t)
	s := mustOpen(t, url)
	ctx := context.Background()
	u := unitWithContact(t, s, 7)
	d := flows.Draft{UnitID: u.ID, Rev: 1, Status: flows.StatusFilling, Cursor: "essays",
		Answers: map[string]flows.Answer{"filler_name": {Text: "张三"}}}
	rep := &flows.Report{UnitID: u.ID, Version: 1, Receipt: "SY-2022-0001"}

	before, trips := redistest.Commands(t, url), s.RoundTrips()
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 1, UserID: 7, Draft: d, Report: rep}); err != nil {
		t.Fatalf("Apply error: %v", err)
	}
	if n := s.RoundTrips() - trips; n != 1 {
		t.Errorf("Apply took %d round trips, want 1", n)
	}
	// commandstats also counts the commands the script ran.
	if got := delta(before, redistest.Commands(t, url)); got["evalsha"] != 1 || got["eval"] != 0 || got["script|load"] != 0 {
		t.Errorf("Apply made Redis run %v, want exactly one evalsha (and the script's commands)", got)
	}

	// A rejected Apply is one round trip too.
	trips = s.RoundTrips()
	err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 1, UserID: 7, Draft: d})
	if !errors.Is(err, flows.ErrDuplicate) {
		t.Errorf("Apply(same update) error = %v, want ErrDuplicate", err)
	}
	if n := s.RoundTrips() - trips; n != 1 {
		t.Errorf("a duplicate Apply took %d round trips, want 1", n)
	}

	trips = s.RoundTrips()
	if _, err := s.Draft(ctx, "", u.ID); err != nil {
		t.Fatalf("Draft error: %v", err)
	}
	if n := s.RoundTrips() - trips; n != 1 {
		t.Errorf("Draft took %d round trips, want 1", n)
	}

	// With outbox messages: the script and the dirty mark, pipelined.
	d2 := d
	d2.Rev = 2
	out := []flows.Outgoing{{Chat: 7, Kind: flows.OutUnbutton, MsgID: 3}, {Chat: 7, Kind: flows.OutText, Text: "第 2 题"}}
	before, trips = redistest.Commands(t, url), s.RoundTrips()
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 2, UserID: 7, FromRev: 1, Draft: d2, Outbox: out}); err != nil {
		t.Fatalf("Apply with messages error: %v", err)
	}
	if n := s.RoundTrips() - trips; n != 1 {
		t.Errorf("Apply with messages took %d round trips, want 1", n)
	}
	if got := delta(before, redistest.Commands(t, url)); got["evalsha"] != 1 || got["eval"] != 0 || got["sadd"] != 1 || got["hset"] != 3 {
		t.Errorf("Apply with 2 messages made Redis run %v, want one evalsha (with 3 hset) and one sadd", got)
	}

	for _, call := range []struct {
		desc string
		fn   func() error
	}{
		{"Commit with a message", func() error {
			_, err := s.Commit(ctx, "cmd:1", time.Hour, []flows.Outgoing{{Chat: 7, Kind: flows.OutText, Text: "ok"}})
			return err
		}},
		{"Claim", func() error { _, err := s.Claim(ctx, "cmd:2", "tok", time.Minute); return err }},
		{"Delivered of messages in two hashes", func() error {
			msgs, err := s.Outbox(ctx, true)
			if err != nil {
				return err
			}
			trips = s.RoundTrips() // not counting the Outbox
			return s.Delivered(ctx, []string{msgs[0].ID, msgs[len(msgs)-1].ID, "junk"})
		}},
	} {
		trips = s.RoundTrips()
		if err := call.fn(); err != nil {
			t.Fatalf("%s error: %v", call.desc, err)
		}
		if n := s.RoundTrips() - trips; n != 1 {
			t.Errorf("%s took %d round trips, want 1", call.desc, n)
		}
	}
}

// TestScriptCacheFlushed: after SCRIPT FLUSH (as after a Redis restart),
// Apply still works, with one fallback to EVAL.
func TestScriptCacheFlushed(t *testing.T) {
	url := redistest.Start(t)
	s := mustOpen(t, url)
	ctx := context.Background()
	u := unitWithContact(t, s, 7)
	if err := s.c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH error: %v", err)
	}
	before := redistest.Commands(t, url)
	d := flows.Draft{UnitID: u.ID, Rev: 1}
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 1, UserID: 7, Draft: d}); err != nil {
		t.Fatalf("Apply after SCRIPT FLUSH error: %v", err)
	}
	if got := delta(before, redistest.Commands(t, url)); got["eval"] != 1 {
		t.Errorf("Apply after SCRIPT FLUSH sent %v, want one eval after the failed evalsha", got)
	}
	if got, err := s.Draft(ctx, "", u.ID); err != nil || got.Rev != 1 {
		t.Errorf("Draft after Apply = rev %d, %v; want rev 1", got.Rev, err)
	}

	// The pipeline of an Apply with messages and their dirty mark falls
	// back to EVAL too, and marks the hash after the write.
	if err := s.c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH error: %v", err)
	}
	if _, err := s.Outbox(ctx, false); err != nil { // empty the dirty set
		t.Fatal(err)
	}
	before = redistest.Commands(t, url)
	out := []flows.Outgoing{{Chat: 7, Kind: flows.OutText, Text: "第 2 题"}}
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 2, UserID: 7, FromRev: 1, Draft: flows.Draft{Rev: 2}, Outbox: out}); err != nil {
		t.Fatalf("Apply with messages after SCRIPT FLUSH error: %v", err)
	}
	if got := delta(before, redistest.Commands(t, url)); got["eval"] != 1 || got["sadd"] != 2 {
		t.Errorf("Apply with messages after SCRIPT FLUSH sent %v, want one eval and two sadd (one per pipeline)", got)
	}
	if got, err := s.Outbox(ctx, false); err != nil || len(got) != 1 || got[0].ID != out[0].ID {
		t.Errorf("Outbox(false) after an Apply through EVAL = %v, %v; want its message %s", got, err, out[0].ID)
	}
}

// TestScriptsSurviveRetry runs each state-changing script twice with the
// same arguments, as go-redis does when a reply is lost after Redis ran the
// command: the second run must answer as the first and change nothing.
func TestScriptsSurviveRetry(t *testing.T) {
	url := redistest.Start(t)
	s := mustOpen(t, url)
	ctx := context.Background()
	u := unitWithContact(t, s, 7)

	t.Run("apply", func(t *testing.T) {
		out := unitKey(u.ID, "out")
		keys := []string{unitKey(u.ID, "draft"), unitKey(u.ID, "seen"), unitKey(u.ID, "contacts"), unitKey(u.ID, "reports"), out}
		now := time.Now()
		args := []any{0, 55, 7, `{"u":1,"r":1}`, `{"unit_id":1,"version":1}`, s.op(),
			unixMS(now), "(" + itoa(unixMS(now.Add(-seenKeep))), ms(seenKeep)}
		msgs := []flows.Outgoing{{Chat: 7, Kind: flows.OutText, Text: "a"}, {Chat: 7, Kind: flows.OutText, Text: "b"}}
		args, err := s.appendOutgoing(args, unitTag(u.ID), msgs)
		if err != nil {
			t.Fatal(err)
		}
		for run := 1; run <= 2; run++ {
			res, err := applyScript.Run(ctx, s.c, keys, args...).Text()
			if err != nil || res != "ok" {
				t.Errorf("apply script run %d = %q, %v; want ok", run, res, err)
			}
			if run == 1 {
				// The sender delivers a message before the retry.
				if err := s.Delivered(ctx, []string{msgs[0].ID}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if ids := s.c.HKeys(ctx, out).Val(); len(ids) != 1 || ids[0] != msgs[1].ID {
			t.Errorf("messages after two runs of one Apply (the first delivered in between): %q, want only %q", ids, msgs[1].ID)
		}
		if n := s.c.LLen(ctx, unitKey(u.ID, "reports")).Val(); n != 1 {
			t.Errorf("reports after two runs of one Apply: %d, want 1", n)
		}
		if d, _ := s.Draft(ctx, "", u.ID); d.Rev != 1 {
			t.Errorf("draft rev after two runs of one Apply: %d, want 1", d.Rev)
		}
		// A new call with the same update id is a duplicate.
		args[5] = s.op()
		if res, _ := applyScript.Run(ctx, s.c, keys, args...).Text(); res != "duplicate" {
			t.Errorf("apply script, same update id, new call = %q, want duplicate", res)
		}
	})

	t.Run("commit", func(t *testing.T) {
		for _, key := range []string{"cmd:retry", ""} {
			op := s.op()
			tag := bucketTag(key)
			if key == "" {
				tag = bucketTag(op)
			}
			now := time.Now()
			msgs := []flows.Outgoing{{Chat: 7, Kind: flows.OutText, Text: "a"}, {Chat: 7, Kind: flows.OutText, Text: "b"}}
			args, err := s.appendOutgoing([]any{key, itoa(unixMS(now.Add(time.Hour))), op, unixMS(now), unixMS(now.Add(opKeep))}, tag, msgs)
			if err != nil {
				t.Fatal(err)
			}
			keys := []string{tagKey(tag, "out"), tagKey(tag, "done"), tagKey(tag, "ops"), tagKey(tag, "claim:"+key)}
			for run := 1; run <= 2; run++ {
				if n, err := commitScript.Run(ctx, s.c, keys, args...).Int(); err != nil || n != 1 {
					t.Errorf("commit script (key %q) run %d = %d, %v; want 1", key, run, n, err)
				}
				if run == 1 {
					if err := s.Delivered(ctx, []string{msgs[0].ID}); err != nil {
						t.Fatal(err)
					}
				}
			}
			ids := s.c.HKeys(ctx, tagKey(tag, "out")).Val()
			if slices.Contains(ids, msgs[0].ID) || !slices.Contains(ids, msgs[1].ID) {
				t.Errorf("messages after two runs of one Commit (key %q, the first delivered in between): %q, want %q and not %q", key, ids, msgs[1].ID, msgs[0].ID)
			}
		}
		// A new call with the same key finds it done.
		if first, err := s.Commit(ctx, "cmd:retry", time.Hour, nil); err != nil || first {
			t.Errorf("Commit(cmd:retry) after the script ran = %v, %v; want false", first, err)
		}
	})

	t.Run("claim", func(t *testing.T) {
		tag := bucketTag("cmd:claim")
		keys := []string{tagKey(tag, "done"), tagKey(tag, "claim:cmd:claim")}
		for run := 1; run <= 2; run++ {
			if res, err := claimWorkScript.Run(ctx, s.c, keys, "cmd:claim", "tok", 60000, unixMS(time.Now())).Text(); err != nil || res != "claimed" {
				t.Errorf("claim script run %d = %q, %v; want claimed", run, res, err)
			}
		}
	})

	t.Run("add units", func(t *testing.T) {
		op := s.op()
		keys := []string{keyUnitNames, keyUnits, keyUnitSeq, keyUnitOps}
		var first []any
		for run := 1; run <= 2; run++ {
			res, err := addUnitsScript.Run(ctx, s.c, keys, op, "", "市民政局", "department", `{"name":"市民政局","category":"department"}`,
				"市财政局", "department", `{"name":"市财政局","category":"department"}`).Slice()
			if err != nil {
				t.Fatalf("add units script run %d error: %v", run, err)
			}
			if run == 1 {
				first = res
			} else if len(res) != len(first) || len(res) != 5 || res[2] != first[2] || res[4] != first[4] {
				t.Errorf("add units script second run = %v, want the first run's %v", res, first)
			}
		}
		if units, _ := s.Units(ctx); len(units) != 3 {
			t.Errorf("units after two runs of one AddUnits: %d, want 3", len(units))
		}
	})

	t.Run("seen", func(t *testing.T) {
		token := s.op()
		for run := 1; run <= 2; run++ {
			if n, err := claimKeyScript.Run(ctx, s.c, []string{seenKey(9)}, token, ms(seenKeep)).Int(); err != nil || n != 1 {
				t.Errorf("seen script run %d = %d, %v; want 1", run, n, err)
			}
		}
		if first, _ := s.Seen(ctx, 9); first {
			t.Errorf("Seen(9) after the script ran = true, want false")
		}
	})

	t.Run("bind", func(t *testing.T) {
		h := storetest.Hash("retry")
		inv := flows.Invite{Hash: h, UnitID: u.ID, Expires: time.Now().Add(time.Hour)}
		if err := s.PutInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
		old := s.c.HGet(ctx, unitKey(u.ID, "invites"), h).Val()
		keys := []string{unitKey(u.ID, "invites"), unitKey(u.ID, "contacts")}
		for run := 1; run <= 2; run++ {
			res, err := bindScript.Run(ctx, s.c, keys, h, old, `{"used_by":8}`, "8", `{"user_id":8}`, "").Text()
			if err != nil || res != "ok" {
				t.Errorf("bind script run %d = %q, %v; want ok", run, res, err)
			}
		}
	})
}

// TestBindStaleIndex: a crash can leave rb:user:<id> naming a unit the user
// is not a contact of; Contact ignores it and Bind takes it over. A pending
// claim (a Bind in progress) blocks a Bind to another unit.
func TestBindStaleIndex(t *testing.T) {
	url := redistest.Start(t)
	s := mustOpen(t, url)
	ctx := context.Background()
	a, err := s.AddUnit(ctx, flows.Unit{Name: "A", Category: "county"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddUnit(ctx, flows.Unit{Name: "B", Category: "county"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.c.Set(ctx, userKey(60), a.ID, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Contact(ctx, 60); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(60) with a stale index entry error = %v, want ErrNotFound", err)
	}
	h := storetest.Hash("b")
	if err := s.PutInvite(ctx, flows.Invite{Hash: h, UnitID: b.ID}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Bind(ctx, h, flows.Contact{UserID: 60}, time.Now()); err != nil || u.ID != b.ID {
		t.Fatalf("Bind(user 60 with a stale index entry) = unit %d, %v; want unit %d", u.ID, err, b.ID)
	}
	if c, err := s.Contact(ctx, 60); err != nil || c.UnitID != b.ID {
		t.Errorf("Contact(60) after Bind = %+v, %v; want unit %d", c, err, b.ID)
	}
	if ttl := s.c.PTTL(ctx, userKey(60)).Val(); ttl != -1 {
		t.Errorf("contact index after Bind has ttl %v, want none", ttl)
	}

	// A pending claim for A blocks a Bind of user 61 to B.
	if err := s.c.Set(ctx, userKey(61), a.ID, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	h2 := storetest.Hash("b2")
	if err := s.PutInvite(ctx, flows.Invite{Hash: h2, UnitID: b.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bind(ctx, h2, flows.Contact{UserID: 61}, time.Now()); !errors.Is(err, flows.ErrAlreadyBound) {
		t.Errorf("Bind(user 61, being bound to another unit) error = %v, want ErrAlreadyBound", err)
	}
}

// TestSeenTrim moves the store's clock past seenKeep: the unit's applied
// update ids are trimmed inside Apply, and the key expires.
func TestSeenTrim(t *testing.T) {
	url := redistest.Start(t)
	s := mustOpen(t, url)
	ctx := context.Background()
	now := time.Date(2022, 1, 10, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	u, err := s.AddUnit(ctx, flows.Unit{Name: "A", Category: "county"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(3) {
		if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 100 + i, FromRev: i, Draft: flows.Draft{Rev: i + 1}}); err != nil {
			t.Fatalf("Apply(update %d) error: %v", 100+i, err)
		}
	}
	now = now.Add(seenKeep + time.Minute)
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: 100, FromRev: 3, Draft: flows.Draft{Rev: 4}}); err != nil {
		t.Errorf("Apply(update 100) after %v error = %v, want nil (forgotten)", seenKeep, err)
	}
	if n := s.c.ZCard(ctx, unitKey(u.ID, "seen")).Val(); n != 1 {
		t.Errorf("applied update ids kept after %v: %d, want 1", seenKeep, n)
	}
	if ttl := s.c.PTTL(ctx, unitKey(u.ID, "seen")).Val(); ttl <= 0 || ttl > seenKeep {
		t.Errorf("ttl of the unit's seen set = %v, want (0, %v]", ttl, seenKeep)
	}
	if _, err := s.Seen(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if ttl := s.c.PTTL(ctx, seenKey(5)).Val(); ttl <= seenKeep-time.Minute || ttl > seenKeep {
		t.Errorf("ttl of a Seen marker = %v, want %v", ttl, seenKeep)
	}
}

// TestDirtyMarkFirst: a Cluster client runs a pipeline's commands on
// different nodes concurrently, so a writer's dirty mark can land before
// its script writes the messages, and Outbox(false) can pop the mark in
// between. Outbox(false) then reads the hash again on its next calls
// (dirtyGrace) and finds the message. The test plays the writer by hand
// on one server, with the store taken for a Cluster client.
func TestDirtyMarkFirst(t *testing.T) {
	s := mustOpen(t, redistest.Start(t))
	ctx := context.Background()
	s.cluster = true
	out := unitKey(1, "out")
	if err := s.c.SAdd(ctx, keyOutDirty, out).Err(); err != nil { // the mark first…
		t.Fatal(err)
	}
	if got, err := s.Outbox(ctx, false); err != nil || len(got) != 0 {
		t.Fatalf("Outbox(false) with a mark and no message = %v, %v; want none", got, err)
	}
	msg := []flows.Outgoing{{Chat: 7, Kind: flows.OutText, Text: "late"}}
	args, err := s.appendOutgoing(nil, unitTag(1), msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.c.HSet(ctx, out, args...).Err(); err != nil { // …then the script's write
		t.Fatal(err)
	}
	if got, err := s.Outbox(ctx, false); err != nil || len(got) != 1 || got[0].ID != msg[0].ID {
		t.Errorf("Outbox(false) after the message followed its popped mark = %v, %v; want %s", got, err, msg[0].ID)
	}
	if n := s.c.SCard(ctx, keyOutDirty).Val(); n != 0 {
		t.Errorf("dirty set after Outbox(false): %d marks, want 0", n)
	}
}

// TestCommitTrim moves the store's clock: expired done marks and Commit
// call ids are trimmed by the next Commit in their bucket.
func TestCommitTrim(t *testing.T) {
	s := mustOpen(t, redistest.Start(t))
	ctx := context.Background()
	now := time.Date(2022, 1, 10, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	// Keys of one bucket.
	var keys []string
	for i := 0; len(keys) < 3; i++ {
		k := "upd:" + itoa(int64(i))
		if bucketTag(k) == bucketTag("upd:0") {
			keys = append(keys, k)
		}
	}
	tag := bucketTag(keys[0])
	for _, k := range keys[:2] {
		if first, err := s.Commit(ctx, k, time.Hour, nil); err != nil || !first {
			t.Fatalf("Commit(%s) = %v, %v; want true", k, first, err)
		}
	}
	if first, err := s.Commit(ctx, "forever", 0, nil); err != nil || !first {
		t.Fatalf("Commit(forever) = %v, %v; want true", first, err)
	}
	now = now.Add(2 * time.Hour)
	if st, err := s.Claim(ctx, keys[0], "tok", time.Minute); err != nil || st != flows.Claimed {
		t.Errorf("Claim(%s) after its keep = %v, %v; want claimed", keys[0], st, err)
	}
	if st, err := s.Claim(ctx, "forever", "tok", time.Minute); err != nil || st != flows.Done {
		t.Errorf("Claim(forever) 2 h after a Commit with keep 0 = %v, %v; want done", st, err)
	}
	if first, err := s.Commit(ctx, keys[2], time.Hour, nil); err != nil || !first {
		t.Fatalf("Commit(%s) = %v, %v; want true", keys[2], first, err)
	}
	if got := s.c.ZRange(ctx, tagKey(tag, "done"), 0, -1).Val(); !slices.Equal(got, keys[2:]) {
		t.Errorf("done marks of bucket %s after the others expired = %q, want %q", tag, got, keys[2:])
	}
	if n := s.c.ZCard(ctx, tagKey(tag, "ops")).Val(); n != 1 {
		t.Errorf("Commit call ids kept in bucket %s after %v: %d, want 1", tag, opKeep, n)
	}
}

func TestOpenErrors(t *testing.T) {
	url := redistest.Start(t)
	port := url[strings.LastIndex(url, ":")+1:]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const secret = "s3cret-pass"
	// A server with a password, for the wrong-password cases.
	lockedURL := redistest.Start(t)
	lockedPort := lockedURL[strings.LastIndex(lockedURL, ":")+1:]
	if err := mustOpen(t, lockedURL).c.ConfigSet(ctx, "requirepass", "right-pass").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc string
		url  string
	}{
		{"wrong password", "redis://:" + secret + "@127.0.0.1:" + lockedPort},
		{"no password", "redis://127.0.0.1:" + lockedPort},
		{"wrong user and password", "redis://bob:" + secret + "@127.0.0.1:" + port + "/0"},
		{"nobody listening", "redis://:" + secret + "@127.0.0.1:1?dial_timeout=1s&max_retries=-1"},
		{"bad scheme", "http://:" + secret + "@127.0.0.1:" + port},
		{"bad mode", "redis+ring://:" + secret + "@127.0.0.1:" + port},
		{"bad path", "redis://:" + secret + "@127.0.0.1:" + port + "/a/b"},
		{"bad port", "redis://:" + secret + "@127.0.0.1:x"},
		{"bad escape", "redis://:" + secret + "%zz@127.0.0.1:" + port},
		{"unknown option", "redis://:" + secret + "@127.0.0.1:" + port + "?frobnicate=1"},
		{"sentinel without master", "redis+sentinel://:" + secret + "@127.0.0.1:" + port},
	} {
		s, err := Open(ctx, tc.url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded, want an error", tc.desc)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open(%s) error %q contains the password", tc.desc, err)
		}
	}
	for _, u := range []string{url, url + "/3", "redis://:right-pass@127.0.0.1:" + lockedPort, url + "?dial_timeout=2s", strings.Replace(url, "redis://", "redis+cluster://", 1)} {
		if strings.HasPrefix(u, "redis+cluster") {
			// A plain server is no cluster: the cluster client connects but
			// cannot load its slots; Open must fail, not hang.
			if s, err := Open(ctx, u); err == nil {
				s.Close()
				t.Errorf("Open(%s) on a plain server succeeded, want an error", u)
			}
			continue
		}
		s, err := Open(ctx, u)
		if err != nil {
			t.Errorf("Open(%s) error: %v", u, err)
			continue
		}
		s.Close()
	}
}

// BenchmarkStep is one form step through the store: Draft + Apply of a
// draft with storetest.Answers answers. roundtrips/op counts commands sent;
// bytes/draft is the size of the stored draft hash's values at the summary
// (every answer of the form), redis-bytes/draft what Redis says it uses for
// the key (MEMORY USAGE), seen-bytes/form the unit's dedupe set after 80
// updates.
func BenchmarkStep(b *testing.B) {
	url := redistest.Start(b)
	s := mustOpen(b, url)
	ctx := context.Background()
	st := storetest.NewStepper(b, s)
	trips := s.RoundTrips()
	n := 0
	for b.Loop() {
		if err := st.Step(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	b.ReportMetric(float64(s.RoundTrips()-trips)/float64(n), "roundtrips/op")
	if err := st.Summary(ctx); err != nil {
		b.Fatal(err)
	}
	key := unitKey(st.UnitID(), "draft")
	var size int
	for _, f := range []string{"rev", "data", "op"} {
		size += len(f) + int(s.c.HStrLen(ctx, key, f).Val())
	}
	b.ReportMetric(float64(size), "bytes/draft")
	b.ReportMetric(float64(s.c.MemoryUsage(ctx, key).Val()), "redis-bytes/draft")

	// The dedupe set of a unit whose contact sends a whole form's worth of
	// updates (80) within seenKeep.
	form := storetest.NewStepper(b, s)
	for range 80 {
		if err := form.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.c.MemoryUsage(ctx, unitKey(form.UnitID(), "seen")).Val()), "seen-bytes/form")
}

// TestServiceStepOneRoundTrip: a form step through flows.Service, its
// caches warm, is one round trip in the store's first campaign and in a
// later one alike (the campaign's keys share the unit's hash tag, so the
// step is still one script, pipelined with its dirty mark).
func TestServiceStepOneRoundTrip(t *testing.T) {
	s := mustOpen(t, redistest.Start(t))
	ctx := context.Background()
	for _, campaign := range []string{"", "2023"} {
		st := storetest.NewServiceStepperIn(t, s, campaign)
		if err := st.Step(ctx); err != nil { // warm the caches
			t.Fatal(err)
		}
		trips := s.RoundTrips()
		for range 10 {
			if err := st.Step(ctx); err != nil {
				t.Fatalf("campaign %q: Step error: %v", campaign, err)
			}
		}
		if n := s.RoundTrips() - trips; n != 10 {
			t.Errorf("10 service steps in campaign %q took %d round trips, want 10", campaign, n)
		}
	}
	u, err := s.Units(ctx)
	if err != nil || len(u) != 2 {
		t.Fatalf("Units() = %d, %v; want the 2 steppers' units", len(u), err)
	}
	if d, err := s.Draft(ctx, "2023", u[1].ID); err != nil || d.Rev < 10 {
		t.Errorf("Draft(2023, %d) = rev %d, %v; want the steps stored in campaign 2023", u[1].ID, d.Rev, err)
	}
	if d, err := s.Draft(ctx, "", u[1].ID); err != nil || d.Rev != 0 {
		t.Errorf("Draft(\"\", %d) = rev %d, %v; want none (the steps were in 2023)", u[1].ID, d.Rev, err)
	}
}

// BenchmarkServiceStep is one form step as the bot makes it, through
// flows.Service with its caches warm: roundtrips/op is what a step costs
// in production (target: one: the draft, the replies in the outbox and
// their dirty mark in one pipeline); msgs/op the replies written.
func BenchmarkServiceStep(b *testing.B) {
	s := mustOpen(b, redistest.Start(b))
	ctx := context.Background()
	st := storetest.NewServiceStepper(b, s)
	if err := st.Step(ctx); err != nil { // warm the caches
		b.Fatal(err)
	}
	trips, msgs := s.RoundTrips(), st.Messages
	n := 0
	for b.Loop() {
		if err := st.Step(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(s.RoundTrips()-trips)/float64(n), "roundtrips/op")
	b.ReportMetric(float64(st.Messages-msgs)/float64(n), "msgs/op")
}

// BenchmarkServiceStepLaterCampaign is BenchmarkServiceStep in a campaign
// with its own keys (store key "2023").
func BenchmarkServiceStepLaterCampaign(b *testing.B) {
	s := mustOpen(b, redistest.Start(b))
	ctx := context.Background()
	st := storetest.NewServiceStepperIn(b, s, "2023")
	if err := st.Step(ctx); err != nil { // warm the caches
		b.Fatal(err)
	}
	trips := s.RoundTrips()
	n := 0
	for b.Loop() {
		if err := st.Step(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(s.RoundTrips()-trips)/float64(n), "roundtrips/op")
}
