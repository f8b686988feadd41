package outbox

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limits are the sending rates the outbox keeps to. A zero field turns that
// limit off.
type Limits struct {
	Global         float64 // messages per second across all chats (Telegram: ~30; our default 25); 0 = off
	PerChat        float64 // messages per second per private chat (default 1); 0 = off
	PerGroupMinute float64 // messages per minute per group chat (default 20); 0 = off
	// ChatBurst is how many messages one chat may get back to back before
	// PerChat or PerGroupMinute applies (Telegram tolerates short bursts,
	// and a reply split into parts should not trickle out). Values below 1
	// mean 1.
	ChatBurst int
}

// DefaultLimits stays below Telegram's published limits.
func DefaultLimits() Limits {
	return Limits{Global: 25, PerChat: 1, PerGroupMinute: 20, ChatBurst: 3}
}

// limiter keeps the rates: a global bucket, one bucket per chat (groups
// have negative ids and a per-minute rate), and a pause after a 429 that
// holds every chat.
//
// A restarted process does not know what it sent in the last minute, and
// Telegram's window does not restart with it: every bucket made within a
// window of the start begins empty, as if its window were full.
type limiter struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	global   *rate.Limiter // nil when off
	perChat  rate.Limit    // 0 when off
	perGroup rate.Limit    // 0 when off
	burst    int
	started  time.Time

	pausedUntil atomic.Pointer[time.Time] // end of the last shared 429 pause

	mu        sync.Mutex
	chats     map[int64]*rate.Limiter // idle ones are swept
	lastSweep time.Time
	sweepAt   int
}

const (
	// A bucket made within its chat's window of the start begins empty:
	// a group's window is a minute (20 a minute), a private chat's a second.
	groupWindow   = time.Minute
	privateWindow = time.Second
	sweepEvery    = time.Minute // longest time between sweeps of idle chat buckets
	sweepMin      = 1024        // smallest map size that triggers a sweep
)

func newLimiter(lim Limits, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	l := &limiter{
		now: now, sleep: sleep,
		burst:   max(lim.ChatBurst, 1),
		chats:   map[int64]*rate.Limiter{},
		sweepAt: sweepMin,
	}
	l.started = now()
	l.lastSweep = l.started
	if lim.Global > 0 {
		// Burst 1: a burst on top of the full rate would overshoot
		// Telegram's per-second budget. Starts empty (see above).
		l.global = rate.NewLimiter(rate.Limit(lim.Global), 1)
		l.global.ReserveN(l.started, 1)
	}
	if lim.PerChat > 0 {
		l.perChat = rate.Limit(lim.PerChat)
	}
	if lim.PerGroupMinute > 0 {
		// Telegram counts a group's messages in a sliding minute. A token
		// bucket lets burst + rate·60 s through in any minute, so a group's
		// bucket has burst 1 and the rate of one message less: never more
		// than PerGroupMinute in a minute, albums (one token a document)
		// included.
		l.perGroup = rate.Limit(max(lim.PerGroupMinute-1, lim.PerGroupMinute/2) / 60)
	}
	return l
}

// groupStartDebt is how many messages' time a group's bucket owes when it
// is made at a start: the process before may have sent an album just
// before it stopped.
const groupStartDebt = 10

// charge counts n more messages to a group that already went: an album's
// documents were waited for one slot after another but arrive together,
// so the slots after it are owed. Without this, the minute after an album
// of 10 could see 10 + 19 messages.
func (l *limiter) charge(chat int64, n int) {
	if chat >= 0 || n <= 0 || l.perGroup == 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	owe(l.bucketLocked(chat, l.perGroup, now), now, n)
}

// owe takes n tokens from b now, one by one (ReserveN refuses more than
// the burst at once), so that later sends wait for them.
func owe(b *rate.Limiter, now time.Time, n int) {
	for range n {
		b.ReserveN(now, 1)
	}
}

// restart makes the limiter start again: the global bucket empty, and
// every chat's bucket made anew within its window of now (a takeover: the
// process that sent before may have used Telegram's windows up).
func (l *limiter) restart() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started = now
	clear(l.chats)
	if l.global != nil {
		l.global.ReserveN(now, 1)
	}
}

// wait returns when n messages may go to chat now: after the shared
// pause, the chat's bucket and the global one. The chat comes first so that
// a chat that must wait holds no global slot meanwhile.
func (l *limiter) wait(ctx context.Context, chat int64, n int) error {
	for i := 0; i < n; i++ {
		if err := l.waitOne(ctx, chat); err != nil {
			return err
		}
	}
	return nil
}

func (l *limiter) waitOne(ctx context.Context, chat int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := l.waitPause(ctx); err != nil {
		return err
	}
	for {
		if lim := l.chatLimit(chat); lim > 0 {
			now := l.now()
			if err := l.waitReservation(ctx, l.reserveChat(chat, lim, now), now); err != nil {
				return err
			}
		}
		if l.global != nil {
			now := l.now()
			if err := l.waitReservation(ctx, l.global.ReserveN(now, 1), now); err != nil {
				return err
			}
		}
		// A 429 may have come while we waited. Slots reserved before it
		// fell due during the pause: everyone holding one would send the
		// moment it ends, a burst that earns the next 429. Reserve again.
		paused, err := l.waitPause(ctx)
		if err != nil || !paused {
			return err
		}
	}
}

// allow takes a slot for one message to chat only if it is free right now
// (best-effort messages: dropped rather than queued).
func (l *limiter) allow(chat int64) bool {
	now := l.now()
	if p := l.pausedUntil.Load(); p != nil && now.Before(*p) {
		return false
	}
	var chatRes *rate.Reservation
	if lim := l.chatLimit(chat); lim > 0 {
		chatRes = l.reserveChat(chat, lim, now)
		if chatRes.DelayFrom(now) > 0 {
			chatRes.CancelAt(now)
			return false
		}
	}
	if l.global != nil {
		r := l.global.ReserveN(now, 1)
		if r.DelayFrom(now) > 0 {
			r.CancelAt(now)
			if chatRes != nil {
				chatRes.CancelAt(now)
			}
			return false
		}
	}
	return true
}

func (l *limiter) chatLimit(chat int64) rate.Limit {
	if chat < 0 {
		return l.perGroup
	}
	return l.perChat
}

func (l *limiter) waitReservation(ctx context.Context, r *rate.Reservation, now time.Time) error {
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := l.sleep(ctx, d); err != nil {
		r.CancelAt(l.now())
		return err
	}
	return nil
}

// reserveChat takes a token from chat's bucket, making the bucket if
// needed (empty, within a window of the start). Reserving under l.mu means
// a bucket is never used after a sweep dropped it.
func (l *limiter) reserveChat(chat int64, lim rate.Limit, now time.Time) *rate.Reservation {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bucketLocked(chat, lim, now).ReserveN(now, 1)
}

// bucketLocked returns chat's bucket, made if needed: private chats get
// ChatBurst, groups 1 (see newLimiter); a bucket made within its window of
// the start begins empty — a group's as if an album had just gone.
func (l *limiter) bucketLocked(chat int64, lim rate.Limit, now time.Time) *rate.Limiter {
	if b, ok := l.chats[chat]; ok {
		return b
	}
	if len(l.chats) >= l.sweepAt || now.Sub(l.lastSweep) >= sweepEvery {
		l.sweepLocked(now)
	}
	burst, window, debt := l.burst, privateWindow, l.burst
	if chat < 0 {
		burst, window, debt = 1, groupWindow, groupStartDebt
	}
	b := rate.NewLimiter(lim, burst)
	if now.Sub(l.started) < window {
		owe(b, l.started, debt) // owed since the start, not since now
	}
	l.chats[chat] = b
	return b
}

// sweepLocked drops buckets that are full again: such a bucket behaves
// exactly like a new one made after the start window.
func (l *limiter) sweepLocked(now time.Time) {
	for id, b := range l.chats {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.chats, id)
		}
	}
	l.lastSweep = now
	l.sweepAt = max(2*len(l.chats), sweepMin)
}

func (l *limiter) chatBuckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.chats)
}

// pause holds every chat until now+d (a 429 on the global budget).
func (l *limiter) pause(d time.Duration) {
	until := l.now().Add(d)
	for {
		cur := l.pausedUntil.Load()
		if cur != nil && !cur.Before(until) {
			return
		}
		if l.pausedUntil.CompareAndSwap(cur, &until) {
			return
		}
	}
}

// waitPause returns once no pause is in force, and whether it waited.
func (l *limiter) waitPause(ctx context.Context) (waited bool, err error) {
	for {
		until := l.pausedUntil.Load()
		if until == nil {
			return waited, nil
		}
		d := until.Sub(l.now())
		if d <= 0 {
			return waited, nil
		}
		if err := l.sleep(ctx, d); err != nil {
			return waited, err
		}
		waited = true
	}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
