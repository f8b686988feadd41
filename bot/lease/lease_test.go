package lease_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reportbot/bot/lease"
	"reportbot/storage/redis"
	"reportbot/storage/redis/redistest"
)

// The tests run Run loops against a real Redis store with short leases:
// ttl 600 ms, renewed every 200 ms (TTL/3, the default ratio).
const (
	ttl   = 600 * time.Millisecond
	every = ttl / 3
)

// mustOpenStore starts a private redis-server and opens the store on it.
func mustOpenStore(tb testing.TB) *redis.Store {
	tb.Helper()
	url := redistest.Start(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, url)
	if err != nil {
		tb.Fatalf("redis.Open(%s): %v", url, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// event is a change of who works.
type event struct {
	name   string
	active bool
	at     time.Time
}

// tracker records which Run loops' work runs, and the most that ran at
// once.
type tracker struct {
	mu      sync.Mutex
	running map[string]bool
	most    int
	events  []event
	changed chan struct{}
}

func newTracker() *tracker {
	return &tracker{running: map[string]bool{}, changed: make(chan struct{})}
}

// work is a Run loop's work: it runs until its context ends.
func (tr *tracker) work(name string) func(context.Context) {
	return func(ctx context.Context) {
		tr.set(name, true)
		<-ctx.Done()
		tr.set(name, false)
	}
}

func (tr *tracker) set(name string, active bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.running[name] = active
	n := 0
	for _, r := range tr.running {
		if r {
			n++
		}
	}
	tr.most = max(tr.most, n)
	tr.events = append(tr.events, event{name, active, time.Now()})
	close(tr.changed)
	tr.changed = make(chan struct{})
}

// active lists the loops whose work runs now.
func (tr *tracker) active() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for n, r := range tr.running {
		if r {
			out = append(out, n)
		}
	}
	return out
}

// waitFor waits until name's work runs (active) or does not, and returns
// when that happened.
func (tr *tracker) waitFor(t *testing.T, name string, active bool, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		tr.mu.Lock()
		if tr.running[name] == active {
			at := time.Now()
			for i := len(tr.events) - 1; i >= 0; i-- {
				if e := tr.events[i]; e.name == name {
					at = e.at
					break
				}
			}
			tr.mu.Unlock()
			return at
		}
		ch := tr.changed
		tr.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the work of %s did not become active=%v within %v; events: %s", name, active, timeout, tr.describe())
		}
	}
}

func (tr *tracker) mostAtOnce() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.most
}

func (tr *tracker) describe() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var parts []string
	for _, e := range tr.events {
		parts = append(parts, fmt.Sprintf("%s %s active=%v", e.at.Format("15:04:05.000"), e.name, e.active))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// startRun runs lease.Run in the background until the returned stop is
// called (which waits for Run to return); the test's cleanup stops it too.
func startRun(t *testing.T, l lease.Locker, cfg lease.Config, tr *tracker, name string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		lease.Run(ctx, l, cfg, slog.New(slog.DiscardHandler), tr.work(name))
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("lease.Run of %s did not return within 10 s of its ctx ending", name)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// cutLocker is a Locker whose holder stops reaching the store once cut is
// set: Lock and Unlock fail like an unreachable Redis (a partitioned or
// frozen process), so the lease can only expire.
type cutLocker struct {
	lease.Locker
	cut atomic.Bool
	// slow is how long a call takes to fail once cut (a store that times
	// out rather than refuses).
	slow time.Duration
	// reply delays the answer of a call that reached the store (the way
	// back of a round trip).
	reply time.Duration

	mu                sync.Mutex
	lastOK, lastOKEnd time.Time // start and end of the last Lock that took or renewed
}

var errCut = errors.New("store unreachable (cut by the test)")

func (c *cutLocker) Lock(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	if c.cut.Load() {
		select {
		case <-time.After(c.slow):
		case <-ctx.Done():
		}
		return false, errCut
	}
	start := time.Now()
	ok, err := c.Locker.Lock(ctx, key, token, ttl)
	time.Sleep(c.reply)
	if ok {
		c.mu.Lock()
		c.lastOK, c.lastOKEnd = start, time.Now()
		c.mu.Unlock()
	}
	return ok, err
}

// lastRenewal is when the last successful Lock began and ended: Redis
// set the lease's expiry between the two.
func (c *cutLocker) lastRenewal() (start, end time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastOK, c.lastOKEnd
}

func (c *cutLocker) Unlock(ctx context.Context, key, token string) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Locker.Unlock(ctx, key, token)
}

// TestRunOneActive: of two Run loops on one store, exactly one works, and
// it keeps the lease across many renewals while the other waits.
func TestRunOneActive(t *testing.T) {
	store := mustOpenStore(t)
	tr := newTracker()
	startRun(t, store, lease.Config{Key: "active", TTL: ttl, Token: "a"}, tr, "a")
	tr.waitFor(t, "a", true, 2*time.Second)
	startRun(t, store, lease.Config{Key: "active", TTL: ttl, Token: "b"}, tr, "b")

	// Five lease lifetimes: about fifteen renewals by a, fifteen tries by b.
	time.Sleep(5 * ttl)
	if got := tr.active(); len(got) != 1 || got[0] != "a" {
		t.Errorf("after %v the active loops are %v, want [a]; events: %s", 5*ttl, got, tr.describe())
	}
	if n := tr.mostAtOnce(); n != 1 {
		t.Errorf("%d loops worked at once, want 1; events: %s", n, tr.describe())
	}
	tr.mu.Lock()
	nEvents := len(tr.events)
	tr.mu.Unlock()
	if nEvents != 1 {
		t.Errorf("the work changed hands %d times, want once (a took it); events: %s", nEvents, tr.describe())
	}
}

// TestRunTakeoverOnRelease: when the holder's ctx ends it releases the
// lease, and the standby takes over at its next try — not after the lease
// would have expired. The lease here lives 10 s and the standby tries
// every 100 ms, so a takeover under 5 s can only come from the release
// (the bound is loose for loaded machines; it is typically ~100 ms).
func TestRunTakeoverOnRelease(t *testing.T) {
	store := mustOpenStore(t)
	tr := newTracker()
	cfg := lease.Config{Key: "active", TTL: 10 * time.Second, Every: 100 * time.Millisecond}
	cfg.Token = "a"
	stopA := startRun(t, store, cfg, tr, "a")
	tr.waitFor(t, "a", true, 2*time.Second)
	cfg.Token = "b"
	startRun(t, store, cfg, tr, "b")
	time.Sleep(300 * time.Millisecond) // b has tried and waits

	start := time.Now()
	stopA() // returns after Run released the lease
	took := tr.waitFor(t, "b", true, 8*time.Second).Sub(start)
	t.Logf("takeover after release: %v", took)
	if took > 5*time.Second {
		t.Errorf("b took over %v after a's ctx ended, want < 5 s (release, not expiry of the 10 s lease)", took)
	}
	if n := tr.mostAtOnce(); n != 1 {
		t.Errorf("%d loops worked at once, want 1; events: %s", n, tr.describe())
	}
}

// expiry is what happened after a holder's renewals began to fail.
type expiry struct {
	stoppedA, tookB time.Duration // since the cut
	// a's lease expired between these two, since the cut: Redis set it
	// to expire ttl after it ran a's last renewal.
	expiresFrom, expiresBy time.Duration
	mostAtOnce             int
	events                 string
}

// cutHolder runs a (renewing every aEvery; its store answers after reply)
// and b (trying every bEvery) with leases of ttl, then makes a's store
// unreachable — its calls fail after slow — and reports when a stopped
// working and b took over.
func cutHolder(t *testing.T, aEvery, bEvery, reply, slow time.Duration) expiry {
	t.Helper()
	store := mustOpenStore(t)
	tr := newTracker()
	cutA := &cutLocker{Locker: store, slow: slow, reply: reply}
	startRun(t, cutA, lease.Config{Key: "active", TTL: ttl, Every: aEvery, Token: "a"}, tr, "a")
	tr.waitFor(t, "a", true, 2*time.Second)
	startRun(t, store, lease.Config{Key: "active", TTL: ttl, Every: bEvery, Token: "b"}, tr, "b")
	time.Sleep(2 * ttl) // a renews a few times; b waits

	cut := time.Now()
	cutA.cut.Store(true)
	stoppedA := tr.waitFor(t, "a", false, 3*ttl)
	tookB := tr.waitFor(t, "b", true, 5*ttl)
	renewStart, renewEnd := cutA.lastRenewal()
	e := expiry{
		stoppedA: stoppedA.Sub(cut), tookB: tookB.Sub(cut),
		expiresFrom: renewStart.Add(ttl).Sub(cut), expiresBy: renewEnd.Add(ttl).Sub(cut),
		mostAtOnce: tr.mostAtOnce(), events: tr.describe(),
	}
	t.Logf("after the cut: a stopped after %v, b took over after %v; a's lease expired %v–%v after the cut (ttl %v, a renews every %v, b tries every %v, a's store answers after %v, fails after %v)",
		e.stoppedA, e.tookB, e.expiresFrom, e.expiresBy, ttl, cmp.Or(aEvery, ttl/3), bEvery, reply, slow)
	return e
}

// TestRunTakeoverOnExpiry: a holder that can no longer renew (its store is
// unreachable; it cannot release either) stops its work before its lease
// can have expired, and the standby takes over once it has, within one
// try — never both at once.
//
// a renews every 250 ms, not the default ttl/3 (200 ms): with the default,
// a's last check falls on its lease's expiry (see
// TestRunStopsBeforeExpiryDefaultPeriod).
func TestRunTakeoverOnExpiry(t *testing.T) {
	e := cutHolder(t, 250*time.Millisecond, every, 0, 0)
	if e.stoppedA >= e.expiresFrom {
		t.Errorf("a stopped working %v after its lease could have expired, want before", e.stoppedA-e.expiresFrom)
	}
	if e.tookB < e.stoppedA {
		t.Errorf("b took over %v before a stopped", e.stoppedA-e.tookB)
	}
	if e.tookB < e.expiresFrom {
		t.Errorf("b took over %v before a's lease expired", e.expiresFrom-e.tookB)
	}
	// b tries every period: it takes the lease at its first try after
	// the expiry (the slack beyond one period is room for a loaded
	// machine).
	if slack := every + 600*time.Millisecond; e.tookB > e.expiresBy+slack {
		t.Errorf("b took over %v after a's lease expired, want ≤ %v (one try)", e.tookB-e.expiresBy, slack)
	}
	if e.mostAtOnce != 1 {
		t.Errorf("%d loops worked at once, want 1; events: %s", e.mostAtOnce, e.events)
	}
}

// TestRunStopsBeforeExpiryDefaultPeriod: with the default period (TTL/3),
// a holder that cannot renew stops before its lease can expire, so that it
// has stopped when a standby takes over. Two ways it once did not (both
// failed this test before the fix):
//
//   - fast failures: the renewal time was taken when a successful Lock
//     returned, after Redis set the expiry, so at the second failed tick
//     "time since renewal + period < TTL" still held and the holder worked
//     on until the third tick — the very moment its lease expired. (Here
//     the store answers after 20 ms, so that the ticker's jitter cannot
//     hide it.)
//   - hanging failures: a renewal call was not bounded by the lease's
//     remaining time; one that takes longer than 2×period (go-redis's
//     default timeouts make a Lock against an unresponsive Redis take about
//     10 s) returned after the expiry, while the standby already worked.
func TestRunStopsBeforeExpiryDefaultPeriod(t *testing.T) {
	t.Run("fast failures", func(t *testing.T) {
		e := cutHolder(t, 0, every, 20*time.Millisecond, 0)
		if want := e.expiresFrom - every/2; e.stoppedA > want {
			t.Errorf("a stopped working %v after the cut, %v before its lease could expire; want ≥ %v before", e.stoppedA, e.expiresFrom-e.stoppedA, every/2)
		}
	})
	t.Run("hanging failures", func(t *testing.T) {
		e := cutHolder(t, 0, 10*time.Millisecond, 0, 2*every+50*time.Millisecond)
		if e.stoppedA >= e.expiresFrom {
			t.Errorf("a stopped working %v after its lease could have expired, want before", e.stoppedA-e.expiresFrom)
		}
		if e.mostAtOnce != 1 {
			t.Errorf("%d loops worked at once (b took over %v before a stopped), want 1; events: %s", e.mostAtOnce, e.stoppedA-e.tookB, e.events)
		}
	})
}

// TestRunSameTokenReclaims: a process restarted in a dead one's place
// (same token) takes its lease back at once, while one with another token
// keeps waiting for it to expire.
func TestRunSameTokenReclaims(t *testing.T) {
	store := mustOpenStore(t)
	ctx := context.Background()
	// The dead process's lease: held for 10 s more, never released.
	if ok, err := store.Lock(ctx, "active", "host/127.0.0.1:8080", 10*time.Second); !ok || err != nil {
		t.Fatalf("Lock(active) = %v, %v; want true, nil", ok, err)
	}
	tr := newTracker()
	cfg := lease.Config{Key: "active", TTL: 10 * time.Second, Every: 100 * time.Millisecond}
	cfg.Token = "other-host/127.0.0.1:8080"
	startRun(t, store, cfg, tr, "other")
	time.Sleep(500 * time.Millisecond)
	if got := tr.active(); len(got) != 0 {
		t.Fatalf("with the dead process's lease unexpired, %v work, want none", got)
	}

	start := time.Now()
	cfg.Token = "host/127.0.0.1:8080"
	startRun(t, store, cfg, tr, "restarted")
	took := tr.waitFor(t, "restarted", true, 5*time.Second).Sub(start)
	t.Logf("the same token reclaimed the lease after %v", took)
	if took > 3*time.Second {
		t.Errorf("the restarted process took its lease back after %v, want at once (< 3 s, loose for loaded machines; the lease had 10 s left)", took)
	}
	time.Sleep(500 * time.Millisecond)
	if got := tr.active(); len(got) != 1 || got[0] != "restarted" {
		t.Errorf("active loops %v, want [restarted]; events: %s", got, tr.describe())
	}
}

// TestRunOnChangeOverlapsWork: OnChange(true) comes before the work
// starts and OnChange(false) before the work's ctx ends, whether the
// lease is lost (the store cut off) or given up (Run's ctx ends). A
// process's health reads "standing by" from OnChange and "running" from
// its work; with these overlaps it is never seen as neither.
func TestRunOnChangeOverlapsWork(t *testing.T) {
	store := mustOpenStore(t)
	for _, lose := range []string{"store cut", "ctx ended"} {
		t.Run(lose, func(t *testing.T) {
			locker := &cutLocker{Locker: store}
			var (
				mu  sync.Mutex
				log []string
			)
			note := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
			started := make(chan struct{}, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			cfg := lease.Config{Key: "overlap-" + lose, TTL: ttl, OnChange: func(active bool) { note(fmt.Sprintf("OnChange(%v)", active)) }}
			go func() {
				defer close(done)
				lease.Run(ctx, locker, cfg, slog.New(slog.DiscardHandler), func(wctx context.Context) {
					note("work started")
					started <- struct{}{}
					<-wctx.Done()
					note("work ctx ended")
				})
			}()
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				t.Fatal("the work did not start")
			}
			if lose == "store cut" {
				locker.cut.Store(true)
			} else {
				cancel()
			}
			deadline := time.After(5 * time.Second)
			for {
				mu.Lock()
				n := len(log)
				mu.Unlock()
				if n >= 4 {
					break
				}
				select {
				case <-deadline:
					t.Fatalf("after %s: %v, want four events", lose, log)
				case <-time.After(10 * time.Millisecond):
				}
			}
			cancel()
			<-done
			mu.Lock()
			defer mu.Unlock()
			want := []string{"OnChange(true)", "work started", "OnChange(false)", "work ctx ended"}
			if got := log[:4]; !slices.Equal(got, want) {
				t.Errorf("after %s the events were %v, want %v", lose, got, want)
			}
		})
	}
}
