package remind

import (
	"context"
	"errors"
	"fmt"
	"time"

	"reportbot/flows"
)

// postLine sends a text to the office group, if one is set, following a
// migration to a supergroup.
func (s *Scheduler) postLine(ctx context.Context, text string) {
	if err := s.postGroup(ctx, []string{text}); err != nil {
		s.log.Warn("post to office group", "err", s.notify.Redact(err))
	}
}

// errNoGroup: no office group is set (/setgroup).
var errNoGroup = errors.New("no office group set")

// postGroup sends texts to the office group in order.
func (s *Scheduler) postGroup(ctx context.Context, texts []string) error {
	group, err := s.svc.OfficeGroup(ctx)
	if err != nil {
		return err
	}
	if group == 0 {
		return errNoGroup
	}
	for _, text := range texts {
		// The outbox follows a migration to a supergroup by itself.
		if err := s.notify.Send(ctx, flows.Outgoing{Chat: group, Kind: flows.OutText, Text: text}); err != nil {
			return fmt.Errorf("send to office group: %w", err)
		}
	}
	return nil
}

// DigestResult tells what RunDigest did.
type DigestResult struct {
	Digest flows.Digest
	Posted bool
	Skip   string // "done", "busy", "no office group"
}

// String is a short description for logs.
func (r DigestResult) String() string {
	switch {
	case r.Digest.At.IsZero(), r.Skip == "done":
		return ""
	case r.Skip != "":
		return fmt.Sprintf("digest %s skipped: %s", r.Digest.Key(), r.Skip)
	}
	return "digest " + r.Digest.Key() + " posted"
}

// RunDigest posts the digest due at now, if any and not posted before.
func (s *Scheduler) RunDigest(ctx context.Context, now time.Time) (DigestResult, error) {
	deadline, err := s.svc.Deadline(ctx)
	if err != nil {
		return DigestResult{}, err
	}
	dg, ok := s.camp().DueDigest(deadline, now)
	if !ok {
		return DigestResult{}, nil
	}
	res := DigestResult{Digest: dg}
	last, err := s.lastFire(ctx, s.scoped(settingLastDigest))
	if err != nil {
		return res, err
	}
	if !last.Before(dg.At) {
		res.Skip = "done"
		return res, nil
	}
	group, err := s.svc.OfficeGroup(ctx)
	if err != nil {
		return res, err
	}
	if group == 0 {
		res.Skip = "no office group"
		return res, s.putLastFire(ctx, s.scoped(settingLastDigest), dg.At)
	}
	return s.postDigestOnce(ctx, res, deadline, now)
}

// postDigestOnce posts a due digest under its lock, unless another run
// holds it, and records the fire.
func (s *Scheduler) postDigestOnce(ctx context.Context, res DigestResult, deadline, now time.Time) (DigestResult, error) {
	dg := res.Digest
	lockKey := s.scoped("digest:" + dg.Key())
	token := newToken()
	ok, err := s.store.Lock(ctx, lockKey, token, s.lease.digest)
	if err != nil {
		return res, fmt.Errorf("lock digest %s: %w", dg.Key(), err)
	}
	if !ok {
		res.Skip = "busy"
		return res, nil
	}
	err = s.postDigestSafely(ctx, dg, deadline, now)
	if err != nil && ctx.Err() != nil {
		// Interrupted: let the next start post it.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = s.store.Unlock(uctx, lockKey, token)
		return res, err
	}
	if err != nil {
		// Posting failed after the Sender's retries: logged, not retried
		// every minute for the rest of the day (an admin can /digest).
		s.log.Error("post digest", "digest", dg.Key(), "err", s.notify.Redact(err))
	}
	if _, lerr := s.store.Lock(ctx, lockKey, token, s.lease.retain); lerr != nil {
		s.log.Warn("mark digest done", "digest", dg.Key(), "err", lerr)
	}
	res.Posted = err == nil
	return res, s.putLastFire(ctx, s.scoped(settingLastDigest), dg.At)
}

// postDigest renders a digest from the store's current state and posts it.
func (s *Scheduler) postDigest(ctx context.Context, dg flows.Digest, deadline, now time.Time) error {
	o, err := flows.LoadOverview(ctx, s.store, s.camp(), deadline, now)
	if err != nil {
		return fmt.Errorf("digest %s: %w", dg.Key(), err)
	}
	return s.postGroup(ctx, flows.DigestTexts(o, dg))
}

// postDigestSafely is postDigest with a panic recovered as an error (a
// failed post: logged, marked done, not retried every minute).
func (s *Scheduler) postDigestSafely(ctx context.Context, dg flows.Digest, deadline, now time.Time) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.panicked("digest_post", v, "digest", dg.Key())
			err = fmt.Errorf("digest %s: %w", dg.Key(), errPanicked)
		}
	}()
	return s.postDigest(ctx, dg, deadline, now)
}

// DigestNow posts a digest at once (/digest): the submissions since the
// last scheduled digest (or the last day), progress, totals and the
// missing units.
func (s *Scheduler) DigestNow(ctx context.Context, now time.Time) error {
	deadline, err := s.svc.Deadline(ctx)
	if err != nil {
		return err
	}
	since, err := s.lastFire(ctx, s.scoped(settingLastDigest))
	if err != nil {
		return err
	}
	if since.IsZero() || !since.Before(now) || now.Sub(since) > 7*24*time.Hour {
		since = now.Add(-24 * time.Hour)
	}
	return s.postDigest(ctx, flows.Digest{At: now, Since: since, Final: !now.Before(deadline)}, deadline, now)
}
