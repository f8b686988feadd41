package remind

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"reportbot/flows"
)

// RunReminders runs the ladder's reminder round due at now, if any and not
// run before: the cron tick, the catch-up on start and `reportbot run
// reminders` all call it.
func (s *Scheduler) RunReminders(ctx context.Context, now time.Time) (flows.RoundResult, error) {
	deadline, err := s.svc.Deadline(ctx)
	if err != nil {
		return flows.RoundResult{}, err
	}
	r, ok := s.camp().DueRound(deadline, now)
	if !ok {
		return flows.RoundResult{}, nil
	}
	res := flows.RoundResult{Round: r}
	last, err := s.lastFire(ctx, s.scoped(settingLastReminders))
	if err != nil {
		return res, err
	}
	if !last.Before(r.At) {
		res.Skip = "done"
		return res, nil
	}
	if r.Kind == flows.RoundAfter {
		off, err := s.svc.RemindersOff(ctx)
		if err != nil {
			return res, err
		}
		if off {
			// Not recorded as fired: "/reminders on" later the same day
			// lets the next tick send today's round.
			res.Skip = "reminders off"
			return res, nil
		}
	}
	res, err = s.RunRound(ctx, r, deadline)
	if err != nil || !res.Ran && res.Skip != "panicked" {
		return res, err
	}
	// A round that panicked is recorded as fired too: the ticks of the
	// day and a catch-up do not run into the same panic again.
	return res, s.putLastFire(ctx, s.scoped(settingLastReminders), r.At)
}

// RunRound runs one reminder round to its end (or resumes it): every
// contact of every unit without a standing version, checked at send time,
// gets the round's reminder once; then the office group gets one line. It
// returns Skip "busy" when another run holds the round or it was completed
// before (the lock does not tell the two apart), and Skip "panicked" when
// a run of the round panicked (see the package documentation: panics).
func (s *Scheduler) RunRound(ctx context.Context, r flows.Round, deadline time.Time) (res flows.RoundResult, err error) {
	res = flows.RoundResult{Round: r}
	c := s.camp()
	lockKey := c.ScopedKey("remind:" + r.Key())
	if marked, err := s.roundPanicked(ctx, r); err != nil || marked {
		if marked {
			res.Skip = "panicked"
			s.log.Info("round was marked panicked by an earlier run; not run again", "round", r.Key())
		}
		return res, err
	}
	token := newToken()
	ok, err := s.store.Lock(ctx, lockKey, token, s.lease.round)
	if err != nil {
		return res, fmt.Errorf("lock round %s: %w", r.Key(), err)
	}
	if !ok {
		res.Skip = "busy"
		return res, nil
	}
	l := &roundLock{s: s, key: lockKey, token: token, campaign: c.ID, last: s.leaseNow()}
	var releaseFailed atomic.Bool // a claim may outlive the round lock: let the lock expire instead
	completed := false
	defer l.release(ctx, r, &completed, &releaseFailed)
	// Runs before the release above: a round that panicked is marked and
	// its lock kept as "done".
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		s.panicked("round", v, "round", r.Key())
		res.Panics++
		res.Ran, res.Skip, err = false, "panicked", nil
		completed = s.markPanicked(ctx, r, lockKey, token)
		s.postLine(context.WithoutCancel(ctx), s.panicNote(r, 0))
	}()

	todo, _, err := s.svc.UnitsToRemind(ctx)
	if err != nil {
		return res, fmt.Errorf("round %s: %w", r.Key(), err)
	}
	res.Tally.Units = len(todo)
	if len(todo) > 0 {
		if err := s.fanOut(ctx, l, r, todo, deadline, &res, &releaseFailed); err != nil {
			return res, err
		}
		s.reportRound(ctx, r, res)
	}

	// Done: the lock lives on as the round's "completed" marker.
	if ok, err := s.store.Lock(ctx, lockKey, token, s.lease.retain); err != nil || !ok {
		if err == nil {
			err = errLockLost
		}
		return res, fmt.Errorf("mark round %s done: %w", r.Key(), err)
	}
	completed = true
	res.Ran = true
	return res, nil
}

// fanOut reminds the units of a round with s.workers workers and tallies
// their outcomes in res. It returns the first store error (or the end of
// ctx): the round is interrupted, to be resumed.
func (s *Scheduler) fanOut(ctx context.Context, l *roundLock, r flows.Round, todo []flows.Unit, deadline time.Time, res *flows.RoundResult, releaseFailed *atomic.Bool) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		next     = make(chan flows.Unit)
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	for range min(s.workers, len(todo)) {
		wg.Go(func() {
			defer func() {
				// Not expected (a unit's panic is recovered below),
				// but a dead worker must not leave the feed blocked.
				if v := recover(); v != nil {
					s.panicked("round_worker", v, "round", r.Key())
					fail(errPanicked)
				}
			}()
			for u := range next {
				if s.camp().ID != l.campaign {
					fail(errCampaignSwitched)
					continue
				}
				out, sent, err := s.remindUnitSafely(rctx, l, r, u, deadline, releaseFailed)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				tally(res, out, sent)
				mu.Unlock()
			}
		})
	}
feed:
	for _, u := range todo {
		select {
		case next <- u:
		case <-rctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return fmt.Errorf("round %s interrupted: %w", r.Key(), firstErr)
	}
	return nil
}

// outcome of one unit in a round.
type unitOutcome int

const (
	unitReached unitOutcome = iota
	unitUnreachable
	unitNoContact
	unitSubmitted
	unitFailed
	unitPanicked // counted as failed
)

// tally counts one unit's outcome and the reminders sent to it.
func tally(res *flows.RoundResult, out unitOutcome, sent int) {
	res.Tally.Messages += sent
	switch out {
	case unitReached:
		res.Tally.Sent++
	case unitUnreachable:
		res.Tally.Unreachable++
	case unitNoContact:
		res.Tally.NoContact++
	case unitSubmitted:
		res.Tally.Submitted++
	case unitFailed:
		res.Tally.Failed++
	case unitPanicked:
		res.Tally.Failed++
		res.Panics++
	}
}

// reportRound posts the round's line to the office group; a round in
// which units panicked is marked, and the line says so.
func (s *Scheduler) reportRound(ctx context.Context, r flows.Round, res flows.RoundResult) {
	text := s.camp().RoundReportText(r, res.Tally)
	if res.Panics > 0 {
		if err := s.putPanicked(ctx, r); err != nil {
			s.log.Warn("mark round panicked", "round", r.Key(), "err", err)
		}
		text += "\n" + s.panicNote(r, res.Panics)
	}
	s.postLine(ctx, text)
}

// remindUnitSafely renews the round lock and reminds one unit; a panic is
// recovered, logged, counted and returned as unitPanicked, so that the
// round goes on with the other units.
func (s *Scheduler) remindUnitSafely(ctx context.Context, l *roundLock, r flows.Round, u flows.Unit, deadline time.Time, releaseFailed *atomic.Bool) (out unitOutcome, sent int, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.panicked("remind_unit", v, "round", r.Key(), "unit", u.ID)
			out, err = unitPanicked, nil
		}
	}()
	if err := l.keep(ctx); err != nil {
		return 0, 0, err
	}
	return s.remindUnit(ctx, r, u, deadline, l.token, releaseFailed)
}

// remindUnit sends the round's reminder to every reachable contact of one
// unit that has not submitted at this moment. It returns an error only
// when the store fails; send failures are outcomes.
func (s *Scheduler) remindUnit(ctx context.Context, r flows.Round, u flows.Unit, deadline time.Time, token string, releaseFailed *atomic.Bool) (unitOutcome, int, error) {
	d, err := s.store.Draft(ctx, s.camp().Key, u.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("load draft of unit %d: %w", u.ID, err)
	}
	if !flows.NeedsReminder(d) {
		return unitSubmitted, 0, nil
	}
	cts, err := s.store.Contacts(ctx, u.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("contacts of unit %d: %w", u.ID, err)
	}
	if len(cts) == 0 {
		return unitNoContact, 0, nil
	}
	reply := s.camp().ReminderText(u, d, r, deadline)
	reached, failed, sent := 0, 0, 0
	for _, ct := range cts {
		if ct.Unreachable {
			continue
		}
		out, err := s.remindContact(ctx, r, u, ct, reply, token, releaseFailed)
		if err != nil {
			return 0, sent, err
		}
		switch out {
		case contactMarked:
			reached++
		case contactSent:
			sent++
			reached++
		case contactFailed:
			failed++
		}
	}
	switch {
	case reached > 0:
		return unitReached, sent, nil
	case failed > 0:
		return unitFailed, sent, nil
	}
	return unitUnreachable, sent, nil
}

// outcome of one contact's reminder.
type contactOutcome int

const (
	contactMarked  contactOutcome = iota // sent by an earlier run of this round
	contactSent                          // sent by this run
	contactBlocked                       // the contact blocked the bot (now marked unreachable)
	contactFailed                        // the send failed after the Sender's retries
)

// remindContact sends one contact the round's reminder once: claim the
// marker, send, mark it sent (or release the claim if the send failed).
// It returns an error only when the store fails or ctx ends.
func (s *Scheduler) remindContact(ctx context.Context, r flows.Round, u flows.Unit, ct flows.Contact, reply flows.Reply, token string, releaseFailed *atomic.Bool) (contactOutcome, error) {
	marker := s.scoped(fmt.Sprintf("remind:%s:%d:%d", r.Key(), u.ID, ct.UserID))
	ok, err := s.store.Lock(ctx, marker, token, s.lease.unit)
	if err != nil {
		return 0, fmt.Errorf("claim reminder %s: %w", marker, err)
	}
	if !ok {
		return contactMarked, nil
	}
	sctx, cancel := context.WithTimeout(ctx, s.lease.send)
	err = s.notify.SendNow(sctx, flows.Outgoing{Chat: ct.ChatID, Kind: flows.OutText, Text: reply.Text, Buttons: reply.Buttons}) // a 403 marks the contact unreachable
	cancel()
	if err == nil {
		s.onReminder()
		if ok, err := s.store.Lock(context.WithoutCancel(ctx), marker, token, s.lease.retain); err != nil || !ok {
			s.log.Warn("reminder sent but not marked; a resumed round may repeat it", "unit", u.ID, "chat_id", ct.ChatID, "round", r.Key(), "err", err)
		}
		return contactSent, nil
	}
	uctx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	if uerr := s.store.Unlock(uctx, marker, token); uerr != nil {
		releaseFailed.Store(true)
		s.log.Warn("release reminder claim", "unit", u.ID, "round", r.Key(), "err", uerr)
	}
	ucancel()
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if s.notify.Blocked(err) {
		return contactBlocked, nil
	}
	return contactFailed, nil
}

// RemindNow runs an admin's round in the background (a round of thousands
// of units takes minutes, longer than an update may take) and calls done
// with its result. Stop interrupts and waits for it.
func (s *Scheduler) RemindNow(r flows.Round, deadline time.Time, done func(ctx context.Context, res flows.RoundResult, err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done(ctx, flows.RoundResult{Round: r}, errors.New("scheduler stopped"))
		return
	}
	s.wg.Go(func() {
		defer s.recoverAs("admin_round")
		res, err := s.RunRound(s.ctx, r, deadline)
		if err != nil {
			s.log.Error("admin round failed", "round", r.Key(), "err", s.notify.Redact(err))
		} else if line := res.String(); line != "" {
			s.log.Info("admin round ran", "result", line)
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), time.Minute)
		defer cancel()
		done(ctx, res, err)
	})
}
