package bot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"reportbot/flows"
)

// The scheduler sends the reminder rounds and the office digests.
//
// What is due when is the campaign's pure schedule (flows/schedule.go),
// asked with the effective deadline at every tick; cron (pinned to the
// campaign's zone, each job wrapped in SkipIfStillRunning and Recover) only
// provides the minute tick. A round missed while the bot was down is
// therefore caught up by the first tick after start — Start runs one at
// once — when it is still meaningful (same day, not in the quiet hours; the
// final digest within a day), and a moved deadline moves the plan at the
// next tick. The last fire of each job is kept in the store's settings.
//
// # Exactly once, with several replicas and restarts
//
// A round is guarded by a lock keyed by the job and the round's scheduled
// time (Store.Lock with a random token per run): the replica that gets it
// runs the round, the others skip it. The lock is a lease (4 minutes)
// renewed while the round runs; when the round is complete it is extended
// to 40 days, which marks the round done for every replica. A run that
// stops early (shutdown) releases it, and a run that crashes lets it
// expire, so that the next tick of any replica (or the restarted one)
// resumes the round the same day.
//
// The lock is for efficiency; correctness comes from one marker per
// recipient and round, "remind:<round>:<unit>:<user>". Store.Once cannot
// say "being sent" apart from "sent", so the marker is a Store.Lock used
// as a marker with two states, told apart by their lifetime:
//
//  1. claim: Lock(marker, token, 3 minutes) — only one run can hold it;
//  2. send the reminder (bounded by 2 minutes, the Sender's retries included);
//  3. sent: Lock(marker, token, 40 days) — the same token extends it to a
//     long life. If the send failed, Unlock releases the claim.
//
// A crash between 1 and 2 leaves a claim that expires after 3 minutes, and
// a resumed run sends that reminder: nothing is skipped silently. A crash
// between 2 and 3 (one store round trip after Telegram answered) also
// expires, and that one recipient gets the reminder twice. That is the
// trade chosen: Telegram's sendMessage has no idempotency key, so either
// the marker is taken before the send (a crash can lose a reminder without
// trace) or after it (a crash can repeat one); a repeated reminder is a
// nuisance, a lost one defeats the purpose.
//
// A resuming run treats a marker it cannot take as sent. That is sound
// because a run renews the round lock before each claim once 30 seconds
// have passed, so every claim of a dead run expires before its round lock
// does (30 s + 3 min < 4 min), and a run that stops on purpose releases its
// claims before the round lock (if a release fails, it lets the round lock
// expire instead of releasing it).
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

// Panics. A panic in a goroutine the scheduler starts (a catch-up run, a
// tick's job, a round's worker, an admin's round) is recovered there: it
// is logged with its stack and counted (SchedulerOptions.OnPanic), and it
// does not end the process. A unit whose reminder panicked counts as
// failed and the round goes on with the others; a round that panicked
// (in a unit or as a whole) is marked in the store's settings and reported
// to the office group, and a later run of that round — a catch-up after a
// restart, another replica — skips it as "panicked" instead of running into
// the same panic again. The office can send the round again with /remind.
// A digest whose posting panicked counts as a failed post (not retried).

// errPanicked is the error of work that panicked (recovered).
var errPanicked = errors.New("panicked (recovered; see the log)")

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Now is the clock of the ticks and the catch-up on Start; default the
	// service's clock.
	Now func() time.Time
	// Workers is how many reminders of a round are in flight at once (the
	// Sender paces them to the limits); default 16.
	Workers int
	// OnReminder is called once per reminder sent (metrics).
	OnReminder func()
	// OnPanic is called once per panic recovered in the scheduler's
	// goroutines, with where it happened: "reminders" or "digest" (a
	// tick's job), "catch_up", "round", "round_worker", "remind_unit",
	// "admin_round", "digest_post" (metrics).
	OnPanic func(where string)
}

// Scheduler runs the reminder rounds and the digests of a Bot.
type Scheduler struct {
	b          *Bot
	log        *slog.Logger
	now        func() time.Time
	workers    int
	onReminder func()
	onPanic    func(where string)
	leaseNow   func() time.Time // the clock of lock leases: the store's, real time
	lease      leases

	ctx    context.Context // the jobs' context, cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup // catch-up runs and admin rounds

	mu       sync.Mutex
	cron     *cron.Cron
	stopped  bool
	caughtUp chan struct{} // closed when Start's catch-up runs are done (tests wait for it)
}

// NewScheduler makes the scheduler of b and hands it to b for the admin
// commands (/remind, /digest). Call Start to run it.
func NewScheduler(b *Bot, opts SchedulerOptions) *Scheduler {
	if opts.Now == nil {
		opts.Now = b.svc.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.OnReminder == nil {
		opts.OnReminder = func() {}
	}
	if opts.OnPanic == nil {
		opts.OnPanic = func(string) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		b:          b,
		log:        b.log.With("component", "scheduler"),
		now:        opts.Now,
		workers:    opts.Workers,
		onReminder: opts.OnReminder,
		onPanic:    opts.OnPanic,
		leaseNow:   time.Now,
		lease:      defaultLeases,
		ctx:        ctx,
		cancel:     cancel,
	}
	b.sched.Store(s)
	return s
}

// cronLogger adapts slog to cron's logger; cron's routine messages (a tick
// skipped because the previous one still runs) are debug.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}

// Start catches up what was missed while the bot was down (in the
// background) and starts the minute ticks. The jobs run under the
// scheduler's own context until Stop, not under ctx: shutdown stops intake
// and drains the handlers first, then the scheduler.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("start scheduler: already stopped")
	}
	if s.cron != nil {
		return errors.New("start scheduler: already started")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	logger := cronLogger{s.log}
	c := cron.New(cron.WithLocation(s.b.camp.Location), cron.WithLogger(logger))
	// Skip wraps Recover, not the other way round: a panic must not escape
	// SkipIfStillRunning, or it would never hand its token back and the job
	// would be skipped for ever.
	chain := cron.NewChain(cron.SkipIfStillRunning(logger), cron.Recover(logger))
	jobs := []cron.Job{
		chain.Then(cron.FuncJob(func() { s.tick("reminders", s.runReminders) })),
		chain.Then(cron.FuncJob(func() { s.tick("digest", s.runDigest) })),
	}
	for _, j := range jobs {
		if _, err := c.AddJob("* * * * *", j); err != nil {
			return fmt.Errorf("schedule job: %w", err)
		}
	}
	// Catch up now, in the background: a missed round of thousands of
	// units takes minutes. The ticks skip a job while its catch-up runs.
	var catchUp sync.WaitGroup
	for _, j := range jobs {
		catchUp.Add(1)
		s.wg.Go(func() {
			defer catchUp.Done()
			defer s.recoverAs("catch_up")
			j.Run()
		})
	}
	s.caughtUp = make(chan struct{})
	s.wg.Go(func() {
		defer s.recoverAs("catch_up")
		catchUp.Wait()
		close(s.caughtUp)
	})
	c.Start()
	s.cron = c
	s.log.Info("scheduler started", "zone", s.b.camp.Location.String(), "remind_at", s.b.camp.Schedule.RemindAt, "digest_at", s.b.camp.Schedule.DigestAt)
	return nil
}

// Stop stops the ticks, interrupts a running round (it is resumed by the
// next start or by another replica, the same day) and waits for the jobs.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.stopped = true
	c := s.cron
	s.mu.Unlock()
	s.cancel()
	if c != nil {
		<-c.Stop().Done()
	}
	s.wg.Wait()
}

func (s *Scheduler) runReminders(ctx context.Context, now time.Time) (string, error) {
	res, err := s.RunReminders(ctx, now)
	if res.Skip == "busy" || res.Skip == "reminders off" {
		// Another replica runs it, or the office stopped the reminders:
		// every tick of the day says so, which is not news.
		s.log.Debug("round skipped", "job", "reminders", "round", res.Round.Key(), "reason", res.Skip)
		return "", err
	}
	return res.String(), err
}

func (s *Scheduler) runDigest(ctx context.Context, now time.Time) (string, error) {
	res, err := s.RunDigest(ctx, now)
	if res.Skip == "busy" {
		s.log.Debug("digest busy elsewhere", "job", "digest", "digest", res.Digest.Key())
		return "", err
	}
	return res.String(), err
}

// tick runs one job at the scheduler's clock and logs what it did.
// A panic is recovered here (cron.Recover is the last resort, and counts
// nothing).
func (s *Scheduler) tick(job string, run func(context.Context, time.Time) (string, error)) {
	defer s.recoverAs(job)
	if s.ctx.Err() != nil {
		return
	}
	start := time.Now()
	what, err := run(s.ctx, s.now())
	switch {
	case err != nil && s.ctx.Err() != nil:
		s.log.Warn("job interrupted by shutdown; it resumes on the next start", "job", job, "err", err)
	case err != nil:
		s.log.Error("job failed", "job", job, "err", s.b.redact(err))
	case what != "":
		s.log.Info("job ran", "job", job, "result", what, "duration", time.Since(start))
	}
}

// RoundResult tells what RunReminders or an admin's round did.
type RoundResult struct {
	Round flows.Round
	// Ran is true when this call ran the round to its end.
	Ran bool
	// Skip says why a due round did not run: "done" (it ran before),
	// "busy" (another replica holds it), "reminders off", "panicked" (this
	// or an earlier run of the round panicked: it is marked and not run
	// again), "" when it ran or when nothing was due (Round is zero).
	Skip  string
	Tally flows.RoundTally
	// Panics counts the units whose reminder panicked (they count as
	// Failed too) and a panic of the round itself.
	Panics int
}

// String is a short description for logs.
func (r RoundResult) String() string {
	switch {
	case r.Round.At.IsZero():
		return ""
	case r.Skip == "done":
		return "" // the normal state of every tick after a round: not worth a log line
	case r.Skip != "":
		return fmt.Sprintf("round %s skipped: %s", r.Round.Key(), r.Skip)
	}
	t := r.Tally
	s := fmt.Sprintf("round %s: %d units, %d reached, %d unreachable, %d unbound, %d failed, %d submitted meanwhile, %d reminders sent",
		r.Round.Key(), t.Units, t.Sent, t.Unreachable, t.NoContact, t.Failed, t.Submitted, t.Messages)
	if r.Panics > 0 {
		s += fmt.Sprintf(", %d panicked (round marked)", r.Panics)
	}
	return s
}

// RunReminders runs the ladder's reminder round due at now, if any and not
// run before: the cron tick, the catch-up on start and `reportbot run
// reminders` all call it.
func (s *Scheduler) RunReminders(ctx context.Context, now time.Time) (RoundResult, error) {
	deadline, err := s.b.svc.Deadline(ctx)
	if err != nil {
		return RoundResult{}, err
	}
	r, ok := s.b.camp.DueRound(deadline, now)
	if !ok {
		return RoundResult{}, nil
	}
	res := RoundResult{Round: r}
	last, err := s.lastFire(ctx, settingLastReminders)
	if err != nil {
		return res, err
	}
	if !last.Before(r.At) {
		res.Skip = "done"
		return res, nil
	}
	if r.Kind == flows.RoundAfter {
		off, err := s.b.remindersOff(ctx)
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
	return res, s.putLastFire(ctx, settingLastReminders, r.At)
}

func (s *Scheduler) lastFire(ctx context.Context, key string) (time.Time, error) {
	v, err := s.b.store.Setting(ctx, key)
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
	if err := s.b.store.PutSetting(ctx, key, at.Format(time.RFC3339)); err != nil {
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

// roundLock keeps a round lock alive while a round runs.
type roundLock struct {
	s          *Scheduler
	key, token string

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
	ok, err := l.s.b.store.Lock(ctx, l.key, l.token, l.s.lease.round)
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

// RunRound runs one reminder round to its end (or resumes it): every
// contact of every unit without a standing version, checked at send time,
// gets the round's reminder once; then the office group gets one line. It
// returns Skip "busy" when another run holds the round or it was completed
// before (the lock does not tell the two apart), and Skip "panicked" when
// a run of the round panicked (see Panics above).
func (s *Scheduler) RunRound(ctx context.Context, r flows.Round, deadline time.Time) (res RoundResult, err error) {
	res = RoundResult{Round: r}
	st := s.b.store
	lockKey := "remind:" + r.Key()
	if marked, err := s.roundPanicked(ctx, r); err != nil || marked {
		if marked {
			res.Skip = "panicked"
			s.log.Info("round was marked panicked by an earlier run; not run again", "round", r.Key())
		}
		return res, err
	}
	token := newToken()
	ok, err := st.Lock(ctx, lockKey, token, s.lease.round)
	if err != nil {
		return res, fmt.Errorf("lock round %s: %w", r.Key(), err)
	}
	if !ok {
		res.Skip = "busy"
		return res, nil
	}
	l := &roundLock{s: s, key: lockKey, token: token, last: s.leaseNow()}
	var releaseFailed atomic.Bool // a claim may outlive the round lock: let the lock expire instead
	completed := false
	defer func() {
		if completed || releaseFailed.Load() {
			return
		}
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := st.Unlock(uctx, lockKey, token); err != nil {
			s.log.Warn("release round lock", "round", r.Key(), "err", err)
		}
	}()
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

	units, err := st.Units(ctx)
	if err != nil {
		return res, fmt.Errorf("round %s: list units: %w", r.Key(), err)
	}
	drafts, err := s.b.draftsByUnit(ctx)
	if err != nil {
		return res, fmt.Errorf("round %s: %w", r.Key(), err)
	}
	var todo []flows.Unit
	for _, u := range units {
		if !u.Removed && flows.NeedsReminder(drafts[u.ID]) {
			todo = append(todo, u)
		}
	}
	res.Tally.Units = len(todo)

	if len(todo) > 0 {
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
					out, sent, err := s.remindUnitSafely(rctx, l, r, u, deadline, token, &releaseFailed)
					if err != nil {
						fail(err)
						continue
					}
					mu.Lock()
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
			return res, fmt.Errorf("round %s interrupted: %w", r.Key(), firstErr)
		}
		text := s.b.camp.RoundReportText(r, res.Tally)
		if res.Panics > 0 {
			if err := s.putPanicked(ctx, r); err != nil {
				s.log.Warn("mark round panicked", "round", r.Key(), "err", err)
			}
			text += "\n" + s.panicNote(r, res.Panics)
		}
		s.postLine(ctx, text)
	}

	// Done: the lock lives on as the round's "completed" marker.
	if ok, err := st.Lock(ctx, lockKey, token, s.lease.retain); err != nil || !ok {
		if err == nil {
			err = errLockLost
		}
		return res, fmt.Errorf("mark round %s done: %w", r.Key(), err)
	}
	completed = true
	res.Ran = true
	return res, nil
}

// remindUnitSafely renews the round lock and reminds one unit; a panic is
// recovered, logged, counted and returned as unitPanicked, so that the
// round goes on with the other units.
func (s *Scheduler) remindUnitSafely(ctx context.Context, l *roundLock, r flows.Round, u flows.Unit, deadline time.Time, token string, releaseFailed *atomic.Bool) (out unitOutcome, sent int, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.panicked("remind_unit", v, "round", r.Key(), "unit", u.ID)
			out, err = unitPanicked, nil
		}
	}()
	if err := l.keep(ctx); err != nil {
		return 0, 0, err
	}
	return s.remindUnit(ctx, r, u, deadline, token, releaseFailed)
}

// panicked logs a recovered panic with its stack and counts it.
func (s *Scheduler) panicked(where string, v any, kv ...any) {
	args := append([]any{"where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack())}, kv...)
	s.log.Error("panic in scheduler (recovered)", args...)
	s.onPanic(where)
}

// recoverAs, deferred, recovers a panic of a goroutine the scheduler
// started and reports it as where.
func (s *Scheduler) recoverAs(where string) {
	if v := recover(); v != nil {
		s.panicked(where, v)
	}
}

// roundPanicked reports whether a run of the round panicked (the mark).
func (s *Scheduler) roundPanicked(ctx context.Context, r flows.Round) (bool, error) {
	_, err := s.b.store.Setting(ctx, settingPanicked+r.Key())
	switch {
	case errors.Is(err, flows.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("load panic mark of round %s: %w", r.Key(), err)
	}
	return true, nil
}

// putPanicked marks the round as panicked. The mark is a setting: the
// store has no lock or once-marker that can be read without taking it. It
// is small, and written only when something panicked.
func (s *Scheduler) putPanicked(ctx context.Context, r flows.Round) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.b.store.PutSetting(ctx, settingPanicked+r.Key(), s.now().Format(time.RFC3339))
}

// markPanicked marks a round whose run panicked as a whole, and keeps its
// lock as "done" for the retention. It reports whether the lock is kept
// (else the caller releases it).
func (s *Scheduler) markPanicked(ctx context.Context, r flows.Round, lockKey, token string) bool {
	if err := s.putPanicked(ctx, r); err != nil {
		s.log.Warn("mark round panicked", "round", r.Key(), "err", err)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ok, err := s.b.store.Lock(mctx, lockKey, token, s.lease.retain)
	if err != nil || !ok {
		s.log.Warn("keep lock of a panicked round", "round", r.Key(), "ok", ok, "err", err)
		return false
	}
	return true
}

// panicNote tells the office that a round (units > 0: so many of its
// units) failed on an internal error and will not be sent again by itself.
func (s *Scheduler) panicNote(r flows.Round, units int) string {
	what := "本轮提醒因程序内部错误中断"
	if units > 0 {
		what = fmt.Sprintf("其中 %d 个单位因程序内部错误未能提醒", units)
	}
	return "⚠️ " + what + "（" + r.Key() + "），已记录，本轮不会自动重发。如需补发，请使用 /remind。"
}

// remindUnit sends the round's reminder to every reachable contact of one
// unit that has not submitted at this moment. It returns an error only
// when the store fails; send failures are outcomes.
func (s *Scheduler) remindUnit(ctx context.Context, r flows.Round, u flows.Unit, deadline time.Time, token string, releaseFailed *atomic.Bool) (unitOutcome, int, error) {
	st := s.b.store
	d, err := st.Draft(ctx, u.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("load draft of unit %d: %w", u.ID, err)
	}
	if !flows.NeedsReminder(d) {
		return unitSubmitted, 0, nil
	}
	cts, err := st.Contacts(ctx, u.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("contacts of unit %d: %w", u.ID, err)
	}
	if len(cts) == 0 {
		return unitNoContact, 0, nil
	}
	reply := s.b.camp.ReminderText(u, d, r, deadline)
	reached, failed, sent := 0, 0, 0
	for _, ct := range cts {
		if ct.Unreachable {
			continue
		}
		marker := fmt.Sprintf("remind:%s:%d:%d", r.Key(), u.ID, ct.UserID)
		ok, err := st.Lock(ctx, marker, token, s.lease.unit)
		if err != nil {
			return 0, sent, fmt.Errorf("claim reminder %s: %w", marker, err)
		}
		if !ok {
			reached++ // sent by an earlier run of this round
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, s.lease.send)
		err = s.b.sendNow(sctx, flows.Outgoing{Chat: ct.ChatID, Kind: flows.OutText, Text: reply.Text, Buttons: reply.Buttons}) // a 403 marks the contact unreachable
		cancel()
		if err == nil {
			sent++
			reached++
			s.onReminder()
			if ok, err := st.Lock(context.WithoutCancel(ctx), marker, token, s.lease.retain); err != nil || !ok {
				s.log.Warn("reminder sent but not marked; a resumed round may repeat it", "unit", u.ID, "chat_id", ct.ChatID, "round", r.Key(), "err", err)
			}
			continue
		}
		uctx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if uerr := st.Unlock(uctx, marker, token); uerr != nil {
			releaseFailed.Store(true)
			s.log.Warn("release reminder claim", "unit", u.ID, "round", r.Key(), "err", uerr)
		}
		ucancel()
		if ctx.Err() != nil {
			return 0, sent, ctx.Err()
		}
		if !errors.Is(err, ErrBlocked) {
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

// postLine sends a text to the office group, if one is set, following a
// migration to a supergroup.
func (s *Scheduler) postLine(ctx context.Context, text string) {
	if err := s.postGroup(ctx, []string{text}); err != nil {
		s.log.Warn("post to office group", "err", s.b.redact(err))
	}
}

// errNoGroup: no office group is set (/setgroup).
var errNoGroup = errors.New("no office group set")

// postGroup sends texts to the office group in order.
func (s *Scheduler) postGroup(ctx context.Context, texts []string) error {
	group, err := s.b.officeGroup(ctx)
	if err != nil {
		return err
	}
	if group == 0 {
		return errNoGroup
	}
	for _, text := range texts {
		// The outbox follows a migration to a supergroup by itself.
		if err := s.b.send(ctx, group, flows.Reply{Text: text}); err != nil {
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
	deadline, err := s.b.svc.Deadline(ctx)
	if err != nil {
		return DigestResult{}, err
	}
	dg, ok := s.b.camp.DueDigest(deadline, now)
	if !ok {
		return DigestResult{}, nil
	}
	res := DigestResult{Digest: dg}
	last, err := s.lastFire(ctx, settingLastDigest)
	if err != nil {
		return res, err
	}
	if !last.Before(dg.At) {
		res.Skip = "done"
		return res, nil
	}
	group, err := s.b.officeGroup(ctx)
	if err != nil {
		return res, err
	}
	if group == 0 {
		res.Skip = "no office group"
		return res, s.putLastFire(ctx, settingLastDigest, dg.At)
	}
	st := s.b.store
	lockKey := "digest:" + dg.Key()
	token := newToken()
	ok, err = st.Lock(ctx, lockKey, token, s.lease.digest)
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
		_ = st.Unlock(uctx, lockKey, token)
		return res, err
	}
	if err != nil {
		// Posting failed after the Sender's retries: logged, not retried
		// every minute for the rest of the day (an admin can /digest).
		s.log.Error("post digest", "digest", dg.Key(), "err", s.b.redact(err))
	}
	if _, lerr := st.Lock(ctx, lockKey, token, s.lease.retain); lerr != nil {
		s.log.Warn("mark digest done", "digest", dg.Key(), "err", lerr)
	}
	res.Posted = err == nil
	return res, s.putLastFire(ctx, settingLastDigest, dg.At)
}

// postDigest renders a digest from the store's current state and posts it.
func (s *Scheduler) postDigest(ctx context.Context, dg flows.Digest, deadline, now time.Time) error {
	o, err := flows.LoadOverview(ctx, s.b.store, s.b.camp, deadline, now)
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
	deadline, err := s.b.svc.Deadline(ctx)
	if err != nil {
		return err
	}
	since, err := s.lastFire(ctx, settingLastDigest)
	if err != nil {
		return err
	}
	if since.IsZero() || !since.Before(now) || now.Sub(since) > 7*24*time.Hour {
		since = now.Add(-24 * time.Hour)
	}
	return s.postDigest(ctx, flows.Digest{At: now, Since: since, Final: !now.Before(deadline)}, deadline, now)
}

// goRound runs an admin's round in the background (a round of thousands
// of units takes minutes, longer than an update may take) and calls done
// with its result. Stop interrupts and waits for it.
func (s *Scheduler) goRound(r flows.Round, deadline time.Time, done func(ctx context.Context, res RoundResult, err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done(ctx, RoundResult{Round: r}, errors.New("scheduler stopped"))
		return
	}
	s.wg.Go(func() {
		defer s.recoverAs("admin_round")
		res, err := s.RunRound(s.ctx, r, deadline)
		if err != nil {
			s.log.Error("admin round failed", "round", r.Key(), "err", s.b.redact(err))
		} else if line := res.String(); line != "" {
			s.log.Info("admin round ran", "result", line)
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), time.Minute)
		defer cancel()
		done(ctx, res, err)
	})
}
