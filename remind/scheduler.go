package remind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"reportbot/flows"
)

// Options configure a Scheduler.
type Options struct {
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

// Scheduler runs the reminder rounds and the digests of a campaign.
type Scheduler struct {
	svc        *flows.Service
	store      flows.Store
	notify     Notifier
	log        *slog.Logger
	now        func() time.Time
	workers    int
	onReminder func()
	onPanic    func(where string)
	leaseNow   func() time.Time // the clock of lock leases: the store's, real time
	lease      leases

	ctx    context.Context // the jobs' context, cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup          // catch-up runs, ticks and admin rounds
	busy   map[string]*atomic.Bool // by job: it is running

	mu       sync.Mutex
	stopped  bool
	caughtUp chan struct{} // closed when Start's catch-up runs are done (tests wait for it)
}

// New makes the scheduler of svc's campaign, which reaches Telegram
// through n. Call Start to run it; the admin commands (/remind, /digest)
// can use it at once.
func New(svc *flows.Service, n Notifier, logger *slog.Logger, opts Options) *Scheduler {
	if opts.Now == nil {
		opts.Now = svc.Now
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
	return &Scheduler{
		svc:        svc,
		store:      svc.Store,
		notify:     n,
		log:        logger.With("component", "scheduler"),
		now:        opts.Now,
		workers:    opts.Workers,
		onReminder: opts.OnReminder,
		onPanic:    opts.OnPanic,
		leaseNow:   time.Now,
		lease:      defaultLeases,
		ctx:        ctx,
		cancel:     cancel,
		busy:       map[string]*atomic.Bool{"reminders": {}, "digest": {}},
	}
}

// Jobs are the scheduled jobs, by the names Tick takes: the reminder round
// and the digest due at the tick, if any.
func Jobs() []string { return []string{"reminders", "digest"} }

// Start catches up what was missed while the bot was down: it runs every
// job once, in the background (a missed round of thousands of units takes
// minutes). The minute ticks are the caller's (Tick). The jobs run under
// the scheduler's own context until Stop, not under ctx: shutdown stops
// intake and drains the handlers first, then the scheduler.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("start scheduler: already stopped")
	}
	if s.caughtUp != nil {
		return errors.New("start scheduler: already started")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	var catchUp sync.WaitGroup
	for _, job := range Jobs() {
		catchUp.Add(1)
		s.wg.Go(func() {
			defer catchUp.Done()
			defer s.recoverAs("catch_up")
			s.runJob(job)
		})
	}
	s.caughtUp = make(chan struct{})
	s.wg.Go(func() {
		defer s.recoverAs("catch_up")
		catchUp.Wait()
		close(s.caughtUp)
	})
	s.log.Info("scheduler started", "zone", s.camp().Location.String(), "remind_at", s.camp().Schedule.RemindAt, "digest_at", s.camp().Schedule.DigestAt)
	return nil
}

// Tick runs one job (see Jobs) at the scheduler's clock, as the minute
// tick does: what is due and has not run yet. A job still running (its
// catch-up, or the previous tick's long round) is not run again; a panic
// is recovered, logged and counted. Stop interrupts and waits for it;
// after Stop, Tick does nothing.
func (s *Scheduler) Tick(job string) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.runJob(job)
}

// runJob runs one job unless it is still running.
func (s *Scheduler) runJob(job string) {
	var run func(context.Context, time.Time) (string, error)
	switch job {
	case "reminders":
		run = s.runReminders
	case "digest":
		run = s.runDigest
	default:
		s.log.Error("no such job", "job", job)
		return
	}
	busy := s.busy[job]
	if !busy.CompareAndSwap(false, true) {
		s.log.Debug("job still running; tick skipped", "job", job)
		return
	}
	defer busy.Store(false)
	s.tick(job, run)
}

// Stop interrupts a running job or round (it is resumed by the next start
// or by another replica, the same day) and waits for the jobs; the caller
// stops its ticks.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.cancel()
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
// A panic is recovered here (the caller's tick may have a last resort,
// which counts nothing).
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
		s.log.Error("job failed", "job", job, "err", s.notify.Redact(err))
	case what != "":
		s.log.Info("job ran", "job", job, "result", what, "duration", time.Since(start))
	}
}

// camp is the campaign open for filling, read at each use: a round or a
// digest works on the campaign open when it runs.
func (s *Scheduler) camp() *flows.Campaign { return s.svc.Campaign() }

// scoped is the name of a setting, lock or marker of the open campaign
// (flows.Campaign.ScopedKey: the store's first campaign keeps the names
// it had before campaigns existed).
func (s *Scheduler) scoped(name string) string { return s.camp().ScopedKey(name) }
