// Command reportbot is the Telegram bot that collects the units' reports
// for the city double-support office.
//
//	reportbot                 run the bot (configuration from the environment)
//	reportbot validate FILE   check a campaign file, print every problem
//	reportbot demo            everything in one process, with a web chat page
//	reportbot loadtest        measure and fault-test the bot
//	reportbot run JOB         run a scheduled job (reminders, digest) once
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"reportbot/bot"
	"reportbot/bot/lease"
	"reportbot/flows"
	"reportbot/storage/bolt"
	"reportbot/storage/redis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "reportbot:", err)
		}
		os.Exit(1)
	}
}

// errReported means the problem was already printed.
var errReported = errors.New("reported")

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "serve":
		return serve(ctx, getenv, stdout, stderr, nil)
	case "validate":
		return validate(args, stdout, stderr)
	case "demo":
		return runDemo(ctx, args, getenv, stdout, stderr)
	case "loadtest":
		return loadtest(ctx, args, getenv, stdout, stderr)
	case "run":
		return runJob(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, getenv, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return errReported
}

const usage = `usage:
  reportbot                 run the bot (configuration from the environment, see README)
  reportbot validate FILE   check a campaign file and print every problem with its line
  reportbot demo            try everything locally: fake Telegram + web chat page
  reportbot loadtest        measure the bot under load (see BENCHMARKS.md)
  reportbot run reminders|digest [-at "2022-02-07 09:00"]
                            run a scheduled job once, as the bot would at that time
`

// validate checks a campaign file.
func validate(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprint(stderr, "usage: reportbot validate FILE\n")
		return errReported
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "无法读取 %s：%v\n", args[0], err)
		return errReported
	}
	probs := flows.ValidateCampaign(data)
	if len(probs) == 0 {
		c, _ := flows.ParseCampaign(data)
		fmt.Fprintf(stdout, "%s：没有发现问题（%d 个部分，%d 道题，截止 %s）。\n", args[0], len(c.Sections), len(c.Questions()), flows.FormatTime(c.Deadline, c.Location))
		return nil
	}
	for _, p := range probs {
		fmt.Fprintf(stderr, "%s:%d: %s\n", args[0], p.Line, p.Msg)
	}
	fmt.Fprintf(stderr, "%s：发现 %d 个问题。\n", args[0], len(probs))
	return errReported
}

// newLogger builds the one logger of the process.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens Redis when REDIS_URL is set, else the embedded store.
func openStore(ctx context.Context, cfg config) (flows.Store, string, error) {
	if cfg.RedisURL != "" {
		s, err := redis.Open(ctx, cfg.RedisURL)
		if err != nil {
			return nil, "", fmt.Errorf("open redis (REDIS_URL): %w", err)
		}
		return s, "redis", nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, "", fmt.Errorf("create DATA_DIR %s: %w", cfg.DataDir, err)
	}
	s, err := bolt.Open(filepath.Join(cfg.DataDir, "reportbot.db"))
	if errors.Is(err, bolt.ErrLocked) {
		return nil, "", fmt.Errorf("another reportbot process is already running on DATA_DIR %s: the embedded store serves one process only (stop the other one; for several replicas use REDIS_URL): %w", cfg.DataDir, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open embedded store in DATA_DIR %s: %w", cfg.DataDir, err)
	}
	return s, "bolt", nil
}

// loadCampaign reads CAMPAIGN_FILE or the embedded default.
func loadCampaign(cfg config) (*flows.Campaign, error) {
	if cfg.CampaignFile == "" {
		return flows.DefaultCampaign(), nil
	}
	return flows.LoadCampaign(cfg.CampaignFile)
}

// startCampaign settles the open campaign of the store (see
// flows.Service.StartCampaign): the campaign file camp (CAMPAIGN_FILE or
// the embedded default) is the store's first campaign, the open one as
// before, or, when its id is new, opened now and the previous one closed.
func startCampaign(ctx context.Context, cfg config, svc *flows.Service, camp *flows.Campaign, logger *slog.Logger) error {
	data := flows.DefaultCampaignYAML()
	if cfg.CampaignFile != "" {
		var err error
		if data, err = os.ReadFile(cfg.CampaignFile); err != nil {
			return fmt.Errorf("read CAMPAIGN_FILE: %w", err)
		}
	}
	action, err := svc.StartCampaign(ctx, camp, data)
	if err != nil {
		return fmt.Errorf("open campaign %s (CAMPAIGN_FILE): %w", camp.ID, err)
	}
	open := svc.Campaign()
	switch action {
	case flows.StartOpened:
		logger.Info("new campaign opened from the campaign file; the previous one is closed for filling", "campaign", open.ID)
	case flows.StartKept:
		logger.Warn("the campaign file names a closed campaign; the open campaign stays open", "file_campaign", camp.ID, "campaign", open.ID)
	}
	return nil
}

// prepare reads the configuration (printing every problem), builds the
// logger and loads the campaign: what every command that runs the bot
// needs first.
func prepare(getenv func(string) string, stderr io.Writer) (config, *slog.Logger, *flows.Campaign, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "reportbot:", err)
		return cfg, nil, nil, errReported
	}
	camp, err := loadCampaign(cfg)
	if err != nil {
		return cfg, nil, nil, err
	}
	return cfg, newLogger(cfg, stderr), camp, nil
}

// serveHooks lets the demo and tests reach into a running server.
type serveHooks struct {
	now     func() time.Time              // the clock (the demo's time machine)
	started func(addr string, b *bot.Bot) // called once everything runs
}

// serve runs the bot until ctx ends, then shuts down in reverse order:
// stop intake, drain handlers, stop the scheduler, close the store.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, hooks *serveHooks) error {
	cfg, logger, camp, err := prepare(getenv, stderr)
	if err != nil {
		return err
	}
	store, kind, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now
	if hooks != nil && hooks.now != nil {
		now = hooks.now
	}
	metrics := newMetrics()
	svc := flows.NewService(store, camp, now)
	if err := startCampaign(ctx, cfg, svc, camp, logger); err != nil {
		return err
	}
	camp = svc.Campaign()
	sched := newScheduler(svc, logger, now, metrics)
	b, err := setUpBot(ctx, cfg, svc, logger, metrics, sched)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /healthz", healthz(store, b))
	metrics.watchOutbox(b)
	mux.Handle("GET /metrics", metrics.handler(svc))
	if cfg.WebhookURL != "" {
		mux.Handle(cfg.webhookPath(), b.WebhookHandler())
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()

	sched.Start(ctx)

	logger.Info("reportbot started", "bot", b.Username(), "store", kind, "campaign", camp.ID,
		"mode", map[bool]string{true: "webhook", false: "polling"}[cfg.WebhookURL != ""], "http_addr", ln.Addr().String())
	if hooks != nil && hooks.started != nil {
		hooks.started(ln.Addr().String(), b)
	}

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	pollDone := make(chan error, 1)
	if cfg.WebhookURL != "" {
		b.MarkRunning(true)
	}
	go func() {
		pollDone <- runActive(runCtx, store, kind, b, ln.Addr().String(), logger, metrics)
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-httpDone:
		runErr = fmt.Errorf("http server: %w", runErr)
	}
	cancelRun()
	if err := <-pollDone; err != nil && runErr == nil {
		runErr = err
	}
	b.MarkRunning(false)
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx) // stop intake (webhook) and /healthz
	b.Close()                 // finish updates in flight
	sched.Stop()              // wait for running jobs
	logger.Info("stopped")
	return runErr
}

// setUpBot makes the bot, and with it the scheduler sched, and registers
// its command menu and webhook.
func setUpBot(ctx context.Context, cfg config, svc *flows.Service, logger *slog.Logger, m *metrics, sched *scheduler) (*bot.Bot, error) {
	b, err := bot.New(ctx, bot.Config{
		Token:         cfg.Token,
		APIURL:        cfg.APIURL,
		AdminIDs:      cfg.AdminIDs,
		WebhookURL:    cfg.WebhookURL,
		WebhookSecret: cfg.WebhookSecret,
		Limits:        cfg.Limits,
		OutageRetry:   cfg.OutageRetry,
		Scheduler:     sched.make,
	}, svc, logger, m.botHooks())
	if err != nil {
		return nil, err
	}
	if err := b.Setup(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// runActive runs the bot's active work (polling, the outbox) until ctx
// ends. With Redis, replicas share the store: one process holds the lease
// and works, the others wait as hot standbys and take over within the
// lease's 15 s when it dies. The lease is held under an id made of the
// host name and the HTTP address — no two live processes share both, as
// the address is bound — so a process restarted in its place (a crashed
// container, kill -9) takes its lease back at once instead of waiting for
// it to expire. The embedded store needs no lease: a second process cannot
// open its file.
func runActive(ctx context.Context, store flows.Store, kind string, b *bot.Bot, addr string, logger *slog.Logger, m *metrics) error {
	if kind != "redis" {
		m.active.Set(1)
		return b.Run(ctx)
	}
	host, _ := os.Hostname()
	lease.Run(ctx, store, lease.Config{Key: "active", Token: host + "/" + addr, OnPanic: func() { m.panicHook("active") }, OnChange: func(active bool) {
		if !active { // when active, Run clears the mark once intake runs
			b.SetStandby(true)
		}
		m.active.Set(map[bool]float64{true: 1, false: 0}[active])
	}}, logger, func(actx context.Context) {
		if err := b.Run(actx); err != nil {
			logger.Error("active work stopped", "err", err)
		}
	})
	return nil
}

// healthcheck asks the running bot's /healthz (for Docker's HEALTHCHECK,
// where the image has no shell or curl).
func healthcheck(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	addr := getenv("HTTP_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		fmt.Fprintf(stderr, "unhealthy: %s", body)
		return errReported
	}
	return nil
}

// healthz answers 200 when the store is reachable and intake runs.
func healthz(store flows.Store, b *bot.Bot) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var probs []string
		if err := store.Ping(ctx); err != nil {
			probs = append(probs, "store unreachable")
		}
		if !b.IntakeUp() {
			probs = append(probs, "intake not running")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if len(probs) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(probs, "; "))
			return
		}
		fmt.Fprintln(w, "ok")
	})
}
