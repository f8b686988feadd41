package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"reportbot/bot"
	"reportbot/flows"
	"reportbot/remind"
)

// scheduler is the reminder and digest scheduler as serve runs it: made by
// bot.New (make is its Config.Scheduler), started once the bot is set up
// (the catch-up, then a cron tick of every job each minute, in the
// campaign's zone), stopped after the bot.
type scheduler struct {
	svc  *flows.Service
	log  *slog.Logger
	opts remind.Options
	s    *remind.Scheduler // set by make
	cron *cron.Cron        // set by Start
}

// newScheduler configures the scheduler of svc's campaign; every reminder
// sent counts in reportbot_reminders_sent_total, every panic it recovers
// in reportbot_panics_total{where}. The ticks run on now.
func newScheduler(svc *flows.Service, logger *slog.Logger, now func() time.Time, m *metrics) *scheduler {
	return &scheduler{svc: svc, log: logger, opts: remind.Options{Now: now, OnReminder: m.reminders.Inc, OnPanic: m.panicHook}}
}

// make makes the scheduler, which reaches Telegram through n (the bot's
// Config.Scheduler).
func (s *scheduler) make(n bot.Notifier) bot.Scheduler {
	s.s = remind.New(s.svc, n, s.log, s.opts)
	return s.s
}

// cronLogger adapts slog to cron's logger; cron's routine messages are
// debug.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}

// Start catches up missed rounds (in the background) and starts the minute
// ticks. What is due when is the campaign's schedule, asked at each tick
// (remind.Scheduler.Tick, which also skips a job still running and
// recovers its panics; cron.Recover is the last resort).
func (s *scheduler) Start(ctx context.Context) {
	if err := s.s.Start(ctx); err != nil {
		s.log.Error("start scheduler", "err", err)
		return
	}
	logger := cronLogger{s.log.With("component", "scheduler")}
	c := cron.New(cron.WithLocation(s.svc.Campaign().Location), cron.WithLogger(logger))
	chain := cron.NewChain(cron.Recover(logger))
	for _, job := range remind.Jobs() {
		if _, err := c.AddJob("* * * * *", chain.Then(cron.FuncJob(func() { s.s.Tick(job) }))); err != nil {
			s.log.Error("start scheduler", "job", job, "err", err)
			return
		}
	}
	c.Start()
	s.cron = c
}

// Stop stops the ticks, interrupts a running round (resumed on the next
// start) and waits for the jobs.
func (s *scheduler) Stop() {
	var ticks context.Context
	if s.cron != nil {
		ticks = s.cron.Stop() // no new ticks
	}
	s.s.Stop()
	if ticks != nil {
		<-ticks.Done()
	}
}

// runJob runs one scheduled job once, as the cron tick would:
//
//	reportbot run reminders [-at "2022-02-07 09:00"]
//	reportbot run digest    [-at TIME]
//
// It does what is due at that time (China Standard Time, or the
// campaign's zone) and has not run yet, with the same locks and markers as
// a running bot, so it is safe next to one (on Redis; the embedded store is
// locked by a running bot).
func runJob(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	at := fs.String("at", "", `the time to run at, "2006-01-02 15:04" in the campaign's zone (default now)`)
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	var job string
	rest := fs.Args()
	if len(rest) > 0 {
		job, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 { // flags after the job's name
		if err := fs.Parse(rest); err != nil {
			return errReported
		}
		rest = fs.Args()
	}
	if len(rest) != 0 || (job != "reminders" && job != "digest") {
		fmt.Fprint(stderr, "usage: reportbot run reminders|digest [-at \"2006-01-02 15:04\"]\n")
		return errReported
	}
	cfg, logger, camp, err := prepare(getenv, stderr)
	if err != nil {
		return err
	}
	now := time.Now().In(camp.Location)
	if *at != "" {
		now, err = time.ParseInLocation("2006-01-02 15:04", *at, camp.Location)
		if err != nil {
			fmt.Fprintf(stderr, "-at %q: use the form 2022-02-07 09:00\n", *at)
			return errReported
		}
	}
	store, _, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := flows.NewService(store, camp, func() time.Time { return now })
	if err := startCampaign(ctx, cfg, svc, camp, logger); err != nil {
		return err
	}
	var s *remind.Scheduler
	b, err := bot.New(ctx, bot.Config{Token: cfg.Token, APIURL: cfg.APIURL, AdminIDs: cfg.AdminIDs, Limits: cfg.Limits, Scheduler: func(n bot.Notifier) bot.Scheduler {
		s = remind.New(svc, n, logger, remind.Options{Now: svc.Now})
		return s
	}}, svc, logger, bot.Hooks{})
	if err != nil {
		return err
	}
	defer b.Close()
	var what string
	switch job {
	case "reminders":
		res, err := s.RunReminders(ctx, now)
		if err != nil {
			return err
		}
		what = res.String()
		if what == "" && !res.Round.At.IsZero() {
			what = "round " + res.Round.Key() + " already ran"
		}
	case "digest":
		res, err := s.RunDigest(ctx, now)
		if err != nil {
			return err
		}
		what = res.String()
		if what == "" && !res.Digest.At.IsZero() {
			what = "digest " + res.Digest.Key() + " already posted"
		}
	}
	if what == "" {
		what = "nothing due at " + flows.FormatTime(now, camp.Location)
	}
	fmt.Fprintln(stdout, what)
	return nil
}
