package remind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

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
	camp       *flows.Campaign
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
	wg     sync.WaitGroup // catch-up runs and admin rounds

	mu       sync.Mutex
	cron     *cron.Cron
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
		camp:       svc.Campaign,
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
	}
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
	c := cron.New(cron.WithLocation(s.camp.Location), cron.WithLogger(logger))
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
	s.catchUp(jobs)
	c.Start()
	s.cron = c
	s.log.Info("scheduler started", "zone", s.camp.Location.String(), "remind_at", s.camp.Schedule.RemindAt, "digest_at", s.camp.Schedule.DigestAt)
	return nil
}

// catchUp runs the jobs once now, in the background: a missed round of
// thousands of units takes minutes. The ticks skip a job while its
// catch-up runs (the jobs are wrapped in SkipIfStillRunning).
func (s *Scheduler) catchUp(jobs []cron.Job) {
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
		s.log.Error("job failed", "job", job, "err", s.notify.Redact(err))
	case what != "":
		s.log.Info("job ran", "job", job, "result", what, "duration", time.Since(start))
	}
}
