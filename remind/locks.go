package remind

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"reportbot/flows"
)

// leases are the lifetimes of the locks and markers (see the package
// documentation: exactly once).
type leases struct {
	round  time.Duration // the round lock while a round runs
	unit   time.Duration // a recipient's claim while its reminder is sent
	send   time.Duration // bound of one reminder's send, retries included (< unit)
	renew  time.Duration // the round lock is renewed when this much has passed (unit+renew < round)
	retain time.Duration // life of a "sent" marker and of a "done" round or digest
	digest time.Duration // the digest lock while a digest is posted
}

var defaultLeases = leases{
	round:  4 * time.Minute,
	unit:   3 * time.Minute,
	send:   2 * time.Minute,
	renew:  30 * time.Second,
	retain: 40 * 24 * time.Hour,
	digest: 5 * time.Minute,
}

// Settings keys of the scheduler: the scheduled time (RFC 3339) of the last
// completed fire of each job, and the mark of a round that panicked
// (settingPanicked + round key; the value is when).
const (
	settingLastReminders = "sched:last:reminders"
	settingLastDigest    = "sched:last:digest"
	settingPanicked      = "sched:panicked:"
)

func (s *Scheduler) lastFire(ctx context.Context, key string) (time.Time, error) {
	v, err := s.store.Setting(ctx, key)
	if errors.Is(err, flows.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load %s: %w", key, err)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse %s %q: %w", key, v, err)
	}
	return t, nil
}

// putLastFire records a completed fire; it never moves the record back
// (a slower replica finishing an older fire).
func (s *Scheduler) putLastFire(ctx context.Context, key string, at time.Time) error {
	last, err := s.lastFire(ctx, key)
	if err != nil {
		return err
	}
	if !last.Before(at) {
		return nil
	}
	if err := s.store.PutSetting(ctx, key, at.Format(time.RFC3339)); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// newToken returns a random lock token.
func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// errLockLost means another run took the round over (this one stalled
// longer than its lease).
var errLockLost = errors.New("round lock lost to another run")

// errCampaignSwitched stops a round whose campaign was closed while it ran
// (an admin opened the next one): its remaining units are not reminded of
// the new campaign under the old round's name. The next tick asks the new
// campaign's schedule.
var errCampaignSwitched = errors.New("the campaign was switched while the round ran")

// roundLock keeps a round lock alive while a round runs.
type roundLock struct {
	s          *Scheduler
	key, token string
	campaign   string // id of the campaign the round belongs to

	mu   sync.Mutex
	last time.Time // last renewal, on s.leaseNow's clock
	lost bool
}

// keep renews the lock if lease.renew has passed since the last renewal.
// It is called before each claim, so that every claim expires before the
// round lock does (lease.renew + lease.unit < lease.round).
func (l *roundLock) keep(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return errLockLost
	}
	if l.s.leaseNow().Sub(l.last) < l.s.lease.renew {
		return nil
	}
	ok, err := l.s.store.Lock(ctx, l.key, l.token, l.s.lease.round)
	if err != nil {
		return fmt.Errorf("renew lock %s: %w", l.key, err)
	}
	if !ok {
		l.lost = true
		return errLockLost
	}
	l.last = l.s.leaseNow()
	return nil
}

// release, deferred, gives the round lock back unless the round completed
// (the lock lives on as its "done" marker) or a claim may outlive it
// (a release failed: the lock is left to expire).
func (l *roundLock) release(ctx context.Context, r flows.Round, completed *bool, releaseFailed *atomic.Bool) {
	if *completed || releaseFailed.Load() {
		return
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := l.s.store.Unlock(uctx, l.key, l.token); err != nil {
		l.s.log.Warn("release round lock", "round", r.Key(), "err", err)
	}
}
