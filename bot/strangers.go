package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// strangers keeps users who are not contacts from costing much: anyone can
// write to the bot (its name is in every invite link). A stranger who sends
// more than strangerBurst messages at strangerRate is ignored — no store
// access, no reply — for strangerQuiet.
type strangers struct {
	mu      sync.Mutex
	users   map[int64]*strangerState
	rate    rate.Limit
	burst   int
	quiet   time.Duration
	maxSize int
}

type strangerState struct {
	lim     *rate.Limiter
	ignored time.Time // ignored until then
}

const (
	strangerBurst = 20
	strangerQuiet = 10 * time.Minute
)

var strangerRate = rate.Every(3 * time.Second) // 20 a minute

func newStrangers() *strangers {
	return &strangers{users: map[int64]*strangerState{}, rate: strangerRate, burst: strangerBurst, quiet: strangerQuiet, maxSize: 10000}
}

// flooding counts a message of a stranger and reports whether to ignore it.
func (s *strangers) flooding(userID int64, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.users[userID]
	if st == nil {
		if len(s.users) >= s.maxSize {
			s.sweepLocked(now)
		}
		st = &strangerState{lim: rate.NewLimiter(s.rate, s.burst)}
		s.users[userID] = st
	}
	if now.Before(st.ignored) {
		return true
	}
	if !st.lim.AllowN(now, 1) {
		st.ignored = now.Add(s.quiet)
		return true
	}
	return false
}

// sweepLocked forgets strangers who are quiet again (a full bucket, no
// ignore in force); if that frees nothing, it forgets everyone.
func (s *strangers) sweepLocked(now time.Time) {
	for id, st := range s.users {
		if now.After(st.ignored) && st.lim.TokensAt(now) >= float64(s.burst) {
			delete(s.users, id)
		}
	}
	if len(s.users) >= s.maxSize {
		clear(s.users)
	}
}

// doneIDs remembers the update ids this process handled lately, so that a
// batch that comes back (its offset was not confirmed yet) is not handled
// twice: no chat gets its question again. The store recognises
// redeliveries too; this spares it the work and covers best-effort replies.
type doneIDs struct {
	mu   sync.Mutex
	set  map[int64]struct{}
	ring []int64
	next int
}

func newDoneIDs(n int) *doneIDs {
	return &doneIDs{set: make(map[int64]struct{}, n), ring: make([]int64, n)}
}

func (d *doneIDs) has(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.set[id]
	return ok
}

func (d *doneIDs) add(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.set[id]; ok {
		return
	}
	if old := d.ring[d.next]; old != 0 {
		delete(d.set, old)
	}
	d.ring[d.next] = id
	d.set[id] = struct{}{}
	d.next = (d.next + 1) % len(d.ring)
}
