package telegramtest

import (
	"math"
	"time"
)

// bucket is a token bucket; a zero bucket starts full.
type bucket struct {
	tokens  float64
	last    time.Time
	started bool
}

func (b *bucket) refill(now time.Time, rate, capacity float64) {
	if !b.started {
		b.tokens, b.last, b.started = capacity, now, true
		return
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(capacity, b.tokens+elapsed*rate)
		b.last = now
	}
}

// tokenSlack forgives the rounding of a sender that paces itself exactly
// at the limit (time.Second/30 truncates to 33,333,333 ns, which refills
// 0.99999999 of a token).
const tokenSlack = 1e-3

// wait is how long until the bucket holds need tokens. A need above the
// capacity is never reachable: such a sender waits for a full bucket
// instead, and taking its need then leaves the bucket in debt.
func (b *bucket) wait(now time.Time, rate, capacity, need float64) time.Duration {
	b.refill(now, rate, capacity)
	need = math.Min(need, capacity)
	if b.tokens >= need-tokenSlack {
		return 0
	}
	return time.Duration((need - b.tokens) / rate * float64(time.Second))
}

func capacityOf(rate float64, burst int) float64 {
	return math.Max(1, math.Floor(rate)) + float64(max(burst, 0))
}

// admitLocked applies Limits to a sending call in chat c and records it
// when accepted.
func (s *Server) admitLocked(c *chatState, method string) *apiError {
	return s.admitNLocked(c, method, 1)
}

// admitNLocked applies Limits to a call that puts n messages into chat c
// (an album of n is n messages, as on Telegram) and records them when
// accepted. The call is admitted whole or not at all: the 429's
// retry_after is how long until all n fit.
func (s *Server) admitNLocked(c *chatState, method string, n int) *apiError {
	now := s.now()
	l := s.opts.Limits
	var wait time.Duration
	if l.Global > 0 {
		wait = max(wait, s.global.wait(now, l.Global, capacityOf(l.Global, l.Burst), float64(n)))
	}
	if l.PerChat > 0 && c.chat.Type == ChatPrivate {
		wait = max(wait, c.bucket.wait(now, l.PerChat, capacityOf(l.PerChat, l.Burst), float64(n)))
	}
	if l.PerGroupPerMinute > 0 && c.isGroup() {
		i := 0
		for i < len(c.groupSends) && !c.groupSends[i].After(now.Add(-time.Minute)) {
			i++
		}
		c.groupSends = c.groupSends[i:]
		// The oldest k sends must leave the window first. More than the
		// limit at once (an album above it) needs an empty window.
		if k := min(len(c.groupSends), len(c.groupSends)+n-l.PerGroupPerMinute); k > 0 {
			wait = max(wait, c.groupSends[k-1].Add(time.Minute).Sub(now))
		}
	}
	if wait > 0 {
		s.stats.TooManyRequests++
		retry := max(1, int(math.Ceil(wait.Seconds())))
		return errTooManyRequests(retry)
	}
	if l.Global > 0 {
		s.global.tokens -= float64(n)
	}
	if l.PerChat > 0 && c.chat.Type == ChatPrivate {
		c.bucket.tokens -= float64(n)
	}
	for range n {
		if l.PerGroupPerMinute > 0 && c.isGroup() {
			c.groupSends = append(c.groupSends, now)
		}
		s.stats.Sends++
		s.stats.Accepted = append(s.stats.Accepted, Send{Time: now, ChatID: c.chat.ID, Method: method})
	}
	return nil
}
