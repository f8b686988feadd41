// Package bot is reportbot's Telegram adapter: it turns updates into engine
// inputs and commands, and replies into Bot API calls. Intake (long polling
// or webhook) is our own, so that an update is confirmed to Telegram only
// after its effects are stored; every outgoing call goes through the
// rate-limited Sender.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"

	"reportbot/flows"
)

// DefaultAPIURL is the public Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// Config is what the bot needs besides the store and the campaign.
type Config struct {
	Token         string
	APIURL        string // DefaultAPIURL when empty
	AdminIDs      []int64
	WebhookURL    string // set → webhook mode; empty → long polling
	WebhookSecret string
	Limits        Limits
	PollTimeout   time.Duration // long polling timeout; default 25 s
	Concurrency   int           // chats handled at once; default 64
}

// Hooks lets the process observe the bot (metrics) without this package
// knowing about Prometheus.
type Hooks struct {
	// Update is called once per handled update.
	Update func(kind, outcome string, d time.Duration)
	// Sent, Throttled, Retried count outgoing calls.
	Sent, Throttled, Retried func()
}

// Bot is the Telegram side of reportbot.
type Bot struct {
	cfg      Config
	log      *slog.Logger
	api      *tgbot.Bot
	svc      *flows.Service
	store    flows.Store
	camp     *flows.Campaign
	sender   *Sender
	hooks    Hooks
	httpc    *http.Client // long polling and setup calls
	apic     *http.Client // the API client: go-telegram's and our hot-path calls (api.go)
	username string
	disp     *dispatcher
	sched    atomic.Pointer[Scheduler] // set by NewScheduler; nil until then

	mu       sync.Mutex
	contacts map[int64]flows.Contact // user id → contact; a guess, the store decides
	running  bool                    // intake is running (for /healthz)
	failures map[int64]int           // update id → failed attempts
}

// New builds the bot and its go-telegram client. It asks Telegram who the
// bot is (for invite links), retrying until ctx ends.
func New(ctx context.Context, cfg Config, svc *flows.Service, logger *slog.Logger, hooks Hooks) (*Bot, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = 25 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	b := &Bot{
		cfg:      cfg,
		log:      logger,
		svc:      svc,
		store:    svc.Store,
		camp:     svc.Campaign,
		hooks:    hooks,
		httpc:    &http.Client{Timeout: cfg.PollTimeout + 15*time.Second},
		contacts: map[int64]flows.Contact{},
		failures: map[int64]int{},
	}
	opts := []SenderOption{WithRedactToken(cfg.Token)}
	if hooks.Sent != nil || hooks.Throttled != nil || hooks.Retried != nil {
		opts = append(opts, WithSenderHooks(hooks.Sent, hooks.Throttled, hooks.Retried))
	}
	b.sender = NewSender(cfg.Limits, logger, opts...)
	b.apic = &http.Client{Timeout: 60 * time.Second, Transport: newAPITransport(cfg.Concurrency)}
	api, err := tgbot.New(cfg.Token,
		tgbot.WithServerURL(cfg.APIURL),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(cfg.PollTimeout, b.apic),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", b.redact(err))
	}
	b.api = api
	for attempt := 0; ; attempt++ {
		me, err := api.GetMe(ctx)
		if err == nil {
			b.username = me.Username
			break
		}
		if errors.Is(err, tgbot.ErrorUnauthorized) || ctx.Err() != nil || attempt >= 4 {
			return nil, fmt.Errorf("ask telegram who the bot is (check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL): %w", b.redact(err))
		}
		logger.Warn("getMe failed, retrying", "err", b.redact(err), "attempt", attempt+1)
		select {
		case <-time.After(time.Duration(attempt+1) * time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b.disp = newDispatcher(cfg.Concurrency, b.handleSafely)
	return b, nil
}

// Username is the bot's Telegram username (without @).
func (b *Bot) Username() string { return b.username }

// Sender is the bot's rate-limited sender, shared with the scheduler.
func (b *Bot) Sender() *Sender { return b.sender }

// Service is the form service the bot runs on (its store, campaign and
// clock), for the demo and tests that reach into a running bot.
func (b *Bot) Service() *flows.Service { return b.svc }

// Scheduler is the scheduler made for the bot by NewScheduler, nil before.
func (b *Bot) Scheduler() *Scheduler { return b.sched.Load() }

// Running reports whether intake is running.
func (b *Bot) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running
}

func (b *Bot) setRunning(v bool) {
	b.mu.Lock()
	b.running = v
	b.mu.Unlock()
}

func (b *Bot) isAdmin(userID int64) bool { return slices.Contains(b.cfg.AdminIDs, userID) }

// commands is the menu registered with setMyCommands (Chinese).
var commands = []struct{ cmd, desc string }{
	{"report", "开始或继续填报"},
	{"status", "查看本单位填报状态"},
	{"cancel", "暂停填报（已填内容会保存）"},
	{"handover", "将本单位交接给同事"},
	{"help", "使用说明"},
}

// Setup registers the command menu and the webhook (or deletes any webhook
// in polling mode).
func (b *Bot) Setup(ctx context.Context) error {
	var cmds []map[string]string
	for _, c := range commands {
		cmds = append(cmds, map[string]string{"command": c.cmd, "description": c.desc})
	}
	if err := b.call(ctx, "setMyCommands", map[string]any{"commands": cmds}, nil); err != nil {
		return fmt.Errorf("set command menu: %w", err)
	}
	if b.cfg.WebhookURL != "" {
		params := map[string]any{
			"url":             b.cfg.WebhookURL,
			"secret_token":    b.cfg.WebhookSecret,
			"allowed_updates": allowedUpdates,
			"max_connections": 40,
		}
		if err := b.call(ctx, "setWebhook", params, nil); err != nil {
			return fmt.Errorf("register webhook: %w", err)
		}
		return nil
	}
	if err := b.call(ctx, "deleteWebhook", map[string]any{"drop_pending_updates": false}, nil); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// Close waits for updates in flight to finish.
func (b *Bot) Close() {
	b.disp.close()
}

// redact removes the bot token from an error (request URLs carry it).
func (b *Bot) redact(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s %s: %w", strings.ToLower(ue.Op), "telegram api", ue.Err)
	}
	msg := err.Error()
	if b.cfg.Token != "" && strings.Contains(msg, b.cfg.Token) {
		return errors.New(strings.ReplaceAll(msg, b.cfg.Token, "<token>"))
	}
	return err
}
