package outbox

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock for sequential tests: sleeping advances it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// With an injected clock the limits are exact. Right after a start every
// bucket is empty (Telegram's window does not restart with us): n sends
// take n/rate. Past the chat's window (a second for a private chat, a
// minute for a group), its burst goes at once again: (n-burst)/rate.
func TestLimiterRates(t *testing.T) {
	tests := []struct {
		name  string
		lim   Limits
		after time.Duration // since the start when the sends begin
		n     int
		chat  func(i int) int64
		want  time.Duration
	}{
		{"private 20/s, at start", Limits{PerChat: 20}, 0, 60, func(int) int64 { return 1 }, 60 * 50 * time.Millisecond},
		{"private 1/s burst 3, at start", Limits{PerChat: 1, ChatBurst: 3}, 0, 10, func(int) int64 { return 1 }, 10 * time.Second},
		{"private 1/s burst 3, 2 s after the start", Limits{PerChat: 1, ChatBurst: 3}, 2 * time.Second, 10, func(int) int64 { return 1 }, 7 * time.Second},
		{"group 20/min, 30 s after the start", Limits{PerGroupMinute: 20, ChatBurst: 3}, 30 * time.Second, 4, func(int) int64 { return -5 }, (groupStartDebt+3)*groupGap - 30*time.Second},
		{"private 1/s burst 3, later", Limits{PerChat: 1, ChatBurst: 3}, 2 * time.Minute, 10, func(int) int64 { return 1 }, 7 * time.Second},
		{"group 20/min, at start (as if an album had just gone)", Limits{PerGroupMinute: 20}, 0, 5, func(int) int64 { return -5 }, (groupStartDebt + 4) * groupGap},
		{"group 20/min, later (burst 1 for groups)", Limits{PerGroupMinute: 20, ChatBurst: 3}, 2 * time.Minute, 5, func(int) int64 { return -5 }, 4 * groupGap},
		{"group not under the private limit", Limits{PerChat: 1}, 0, 10, func(int) int64 { return -5 }, 0},
		{"private not under the group limit", Limits{PerGroupMinute: 1}, 0, 10, func(int) int64 { return 5 }, 0},
		{"global 50/s over 100 chats, later", Limits{Global: 50, PerChat: 1}, 2 * time.Minute, 100, func(i int) int64 { return int64(i + 1) }, 99 * 20 * time.Millisecond},
		{"all off", Limits{}, 0, 1000, func(int) int64 { return 1 }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := newLimiter(tt.lim, clock.now, clock.sleep)
			clock.advance(tt.after)
			start := clock.now()
			for i := range tt.n {
				if err := l.wait(context.Background(), tt.chat(i), 1); err != nil {
					t.Fatalf("wait #%d = %v", i, err)
				}
			}
			got := clock.now().Sub(start)
			if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("%d sends with %+v, %s after the start, took %s, want %s", tt.n, tt.lim, tt.after, got, tt.want)
			}
		})
	}
}

// An album of n counts as n messages.
func TestLimiterAlbumCountsEach(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(Limits{PerGroupMinute: 20, ChatBurst: 3}, clock.now, clock.sleep)
	clock.advance(2 * time.Minute)
	start := clock.now()
	if err := l.wait(context.Background(), -7, 10); err != nil {
		t.Fatal(err)
	}
	if got, want := clock.now().Sub(start), 9*groupGap; got.Round(time.Millisecond) != want.Round(time.Millisecond) {
		t.Errorf("an album of 10 to a fresh group waited %s, want %s (one at once, then one each 60/19 s)", got, want)
	}
}

// groupGap is the time between two messages to a group at 20 a minute:
// 60/19 s, so that burst 1 plus the rate never exceed 20 in a minute.
const groupGap = time.Minute / 19

// A group never gets more than 20 messages in any sliding minute, albums
// counted per document (Telegram's rule; a token bucket with a burst let
// 23 through and earned a 429).
func TestLimiterGroupSlidingMinute(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(DefaultLimits(), clock.now, clock.sleep)
	clock.advance(2 * time.Minute)
	var sent []time.Time
	for i := range 40 {
		n := 1
		if i%4 == 3 {
			n = 10 // an album
		}
		if err := l.wait(context.Background(), -3, n); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			l.charge(-3, n-1) // as the album call does once it went
		}
		for range n {
			sent = append(sent, clock.now())
		}
		clock.advance(time.Duration(i%3) * 700 * time.Millisecond) // irregular arrivals
	}
	for i := range sent {
		n := 0
		for _, at := range sent[i:] {
			if at.Sub(sent[i]) < time.Minute {
				n++
			}
		}
		if n > 20 {
			t.Fatalf("%d messages in the minute from %s, want ≤ 20", n, sent[i].Format("15:04:05.000"))
		}
	}
}

// allow takes a slot only when one is free now, and gives it back otherwise.
func TestLimiterAllow(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(Limits{Global: 10, PerChat: 1, ChatBurst: 2}, clock.now, clock.sleep)
	if l.allow(1) {
		t.Fatal("allow right after the start = true, want false (buckets start empty)")
	}
	clock.advance(2 * time.Minute)
	if !l.allow(1) {
		t.Fatal("allow after the start window = false, want true")
	}
	clock.advance(200 * time.Millisecond)
	if !l.allow(1) {
		t.Fatal("second allow within the burst = false, want true")
	}
	clock.advance(200 * time.Millisecond)
	if l.allow(1) {
		t.Fatal("third allow past the burst = true, want false")
	}
	if !l.allow(2) {
		t.Fatal("allow for another chat = false; a refused allow must give the global slot back")
	}
	l.pause(time.Minute)
	clock.advance(5 * time.Second)
	if l.allow(3) {
		t.Fatal("allow during a 429 pause = true, want false")
	}
}

// Buckets of idle chats are dropped, so 10,000 chats do not mean 10,000
// buckets, but a chat that is still limited keeps its bucket.
func TestLimiterSweepsIdleChats(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(Limits{PerChat: 1, PerGroupMinute: 20, ChatBurst: 3}, clock.now, clock.sleep)
	clock.advance(2 * time.Minute)
	ctx := context.Background()
	peak := 0
	for i := range 10_000 {
		chat := int64(i + 1)
		if i%2 == 1 {
			chat = -chat
		}
		if err := l.wait(ctx, chat, 1); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, l.chatBuckets())
		clock.advance(10 * time.Millisecond)
	}
	if peak > 2*sweepMin {
		t.Errorf("10,000 chats kept up to %d buckets, want ≤ %d", peak, 2*sweepMin)
	}
	clock.advance(time.Hour)
	if err := l.wait(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	if got := l.chatBuckets(); got != 1 {
		t.Errorf("after an idle hour %d buckets are kept, want 1", got)
	}
}

func TestBackoffGrows(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{1, 250 * time.Millisecond, 500 * time.Millisecond},
		{2, 500 * time.Millisecond, time.Second},
		{4, 2 * time.Second, 4 * time.Second},
		{60, 15 * time.Second, 30 * time.Second},
	} {
		for range 50 {
			if d := backoff(tt.attempt); d < tt.lo || d >= tt.hi {
				t.Fatalf("backoff(%d) = %s, want in [%s, %s)", tt.attempt, d, tt.lo, tt.hi)
			}
		}
	}
}

// A takeover restarts the windows: nothing may go at once afterwards.
func TestLimiterRestart(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(Limits{Global: 10, PerChat: 1, PerGroupMinute: 20, ChatBurst: 3}, clock.now, clock.sleep)
	clock.advance(2 * time.Minute)
	if !l.allow(-9) {
		t.Fatal("allow long after the start = false, want true")
	}
	l.restart()
	clock.advance(200 * time.Millisecond)
	if l.allow(-9) {
		t.Error("allow to a group right after a restart = true, want false (its window may be used up)")
	}
	if l.allow(1) {
		t.Error("allow to a private chat right after a restart = true, want false")
	}
}
