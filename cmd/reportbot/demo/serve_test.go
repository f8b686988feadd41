package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"reportbot/bot"
	"reportbot/flows"
	"reportbot/remind"
	"reportbot/storage/bolt"
)

// serveForTest stands in for the command's serve in this package's tests,
// which cannot import package main. It wires what the demo uses as serve
// does, from the environment the demo gives it: the embedded store in
// DATA_DIR, the service and the scheduler on the demo clock, the bot
// polling TELEGRAM_API_URL without flood limits. It leaves out what the
// demo does not reach (the HTTP server, metrics, the lease);
// cmd/reportbot's TestDemoCommand runs the demo with serve itself.
func serveForTest(ctx context.Context, getenv func(string) string, _, stderr io.Writer, hooks Hooks) error {
	data, err := os.ReadFile(getenv("CAMPAIGN_FILE"))
	if err != nil {
		return err
	}
	camp, err := flows.ParseCampaign(data)
	if err != nil {
		return err
	}
	adminID, err := strconv.ParseInt(getenv("ADMIN_IDS"), 10, 64)
	if err != nil {
		return fmt.Errorf("ADMIN_IDS: %w", err)
	}
	store, err := bolt.Open(filepath.Join(getenv("DATA_DIR"), "reportbot.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	limits := bot.DefaultLimits()
	limits.Global, limits.PerChat, limits.PerGroupMinute = 0, 0, 0 // SEND_RATE_*=0
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := flows.NewService(store, camp, hooks.Now)
	if _, err := svc.StartCampaign(ctx, camp, data); err != nil {
		return err
	}
	var sched *remind.Scheduler
	b, err := bot.New(ctx, bot.Config{
		Token:       getenv("TELEGRAM_BOT_TOKEN"),
		APIURL:      getenv("TELEGRAM_API_URL"),
		AdminIDs:    []int64{adminID},
		Limits:      limits,
		OutageRetry: 10 * time.Minute,
		Scheduler: func(n bot.Notifier) bot.Scheduler {
			sched = remind.New(svc, n, logger, remind.Options{Now: hooks.Now})
			return sched
		},
	}, svc, logger, bot.Hooks{})
	if err != nil {
		return err
	}
	if err := b.Setup(ctx); err != nil {
		return err
	}
	if err := sched.Start(ctx); err != nil {
		return err
	}
	hooks.Started("", b)
	b.SetStandby(false)
	err = b.Run(ctx)
	b.Close()
	sched.Stop()
	return err
}
