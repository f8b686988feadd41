// Package bot is reportbot's Telegram adapter: it turns updates into engine
// inputs and commands, and what they say into the store's outbox. Intake
// (long polling or webhook) is our own, so that an update is confirmed to
// Telegram as soon as its effects — the state change and its messages — are
// stored, never after they are sent; the outbox (bot/outbox) delivers the
// messages. Every Bot API call goes through one client (bot/telegram).
package bot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"reportbot/bot/outbox"
	"reportbot/bot/telegram"
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
	Limits        outbox.Limits
	PollTimeout   time.Duration // long polling timeout; default 25 s
	Concurrency   int           // chats handled at once; default 64
	// OutageRetry is how long (polling) an update waits for an unreachable
	// store before it is dropped; default 10 minutes.
	OutageRetry time.Duration
	// Scheduler makes the reminder and digest scheduler that /remind and
	// /digest drive, given how it reaches Telegram; New calls it once its
	// outbox is built. Required.
	Scheduler func(Notifier) Scheduler
}

// Hooks lets the process observe the bot (metrics) without this package
// knowing about Prometheus.
type Hooks struct {
	// Update is called once per handled update.
	Update func(kind, outcome string, d time.Duration)
	// Sent, Throttled, Retried count outgoing calls; Dropped counts
	// best-effort messages not sent.
	Sent, Throttled, Retried, Dropped func()
	// Panic counts a panic recovered outside a handler (where: "intake",
	// or the outbox's "lane", "answer", "ack").
	Panic func(where string)
}

// Bot is the Telegram side of reportbot.
type Bot struct {
	cfg       Config
	log       *slog.Logger
	tg        *telegram.Client
	svc       *flows.Service
	out       *outbox.Outbox
	hooks     Hooks
	username  string
	token     string // names this process in claims
	disp      *dispatcher
	cmds      *commandTable
	sched     Scheduler
	strangers *strangers

	mu       sync.Mutex
	contacts map[int64]flows.Contact // user id → contact; a guess, the store decides
	running  bool                    // intake is running (for /healthz)
	standby  bool                    // waiting to become active (for /healthz)
	done     *doneIDs                // update ids handled lately

	adminMenuMissing map[int64]bool // admins whose menu Telegram refused (setAdminMenu)
}

// New builds the bot and its go-telegram client. It asks Telegram who the
// bot is (for invite links), retrying until ctx ends.
func New(ctx context.Context, cfg Config, svc *flows.Service, logger *slog.Logger, hooks Hooks) (*Bot, error) {
	if cfg.Scheduler == nil {
		return nil, errors.New("bot: Config.Scheduler is required")
	}
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
	if cfg.OutageRetry <= 0 {
		cfg.OutageRetry = 10 * time.Minute
	}
	b := &Bot{
		cfg:       cfg,
		log:       logger,
		svc:       svc,
		hooks:     hooks,
		token:     processToken(),
		strangers: newStrangers(),
		contacts:  map[int64]flows.Contact{},
		done:      newDoneIDs(8192),
		standby:   true, // until intake runs

		adminMenuMissing: map[int64]bool{},
	}
	b.cmds = newCommandTable(b.commandList())
	// Idle connections for the outbox's calls and callback answers, and
	// the long poll.
	httpc := &http.Client{Timeout: cfg.PollTimeout + 15*time.Second, Transport: newAPITransport(cfg.Concurrency + 40)}
	b.tg = telegram.New(cfg.APIURL, cfg.Token, httpc)
	for attempt := 0; ; attempt++ {
		me, err := b.tg.GetMe(ctx)
		if err == nil {
			b.username = me.Username
			break
		}
		var te *telegram.Error
		if errors.As(err, &te) && te.Code == http.StatusUnauthorized || ctx.Err() != nil || attempt >= 4 {
			return nil, fmt.Errorf("ask telegram who the bot is (check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL): %w", err)
		}
		logger.Warn("getMe failed, retrying", "err", err, "attempt", attempt+1)
		select {
		case <-time.After(time.Duration(attempt+1) * time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b.out = outbox.New(svc.Store, b.tg, outboxChats{b}, logger, outbox.Config{
		Limits:      cfg.Limits,
		Concurrency: cfg.Concurrency,
		Hooks:       outbox.Hooks{Sent: hooks.Sent, Throttled: hooks.Throttled, Retried: hooks.Retried, Dropped: hooks.Dropped, Panic: hooks.Panic},
	})
	b.sched = cfg.Scheduler(Notifier{b})
	b.disp = newDispatcher(cfg.Concurrency, b.handleUpdate)
	return b, nil
}

// Username is the bot's Telegram username (without @).
func (b *Bot) Username() string { return b.username }

// Outbox is the bot's sender (tests wait for it to be idle).
func (b *Bot) Outbox() *outbox.Outbox { return b.out }

// Service is the form service the bot runs on (its store, campaign and
// clock), for the demo and tests that reach into a running bot.
func (b *Bot) Service() *flows.Service { return b.svc }

// Scheduler is the scheduler made for the bot by Config.Scheduler.
func (b *Bot) Scheduler() Scheduler { return b.sched }

// Standby reports whether this process waits to become active (another
// holds the lease, or it has not started yet), which is healthy.
func (b *Bot) Standby() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.standby
}

// SetStandby marks this process as waiting again when it loses the
// lease, before its active work stops (a new Bot starts waiting). Intake
// clears the mark once it runs (Poll, Run).
func (b *Bot) SetStandby(v bool) {
	b.mu.Lock()
	b.standby = v
	b.mu.Unlock()
}

// Running reports whether intake is running.
func (b *Bot) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running
}

// IntakeUp reports whether intake runs or this process stands by to run
// it (/healthz's rule). Both marks are read at once and each change keeps
// one of them set — intake starts running before the standby mark is
// cleared, the mark is set before intake stops — so a process changing
// hands is never seen as neither.
func (b *Bot) IntakeUp() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running || b.standby
}

func (b *Bot) setRunning(v bool) {
	b.mu.Lock()
	b.running = v
	b.mu.Unlock()
}

func (b *Bot) isAdmin(userID int64) bool { return slices.Contains(b.cfg.AdminIDs, userID) }

// Setup registers the command menus (setMenus) and the webhook (or
// deletes any webhook in polling mode).
func (b *Bot) Setup(ctx context.Context) error {
	if err := b.setMenus(ctx); err != nil {
		return fmt.Errorf("set command menu: %w", err)
	}
	if b.cfg.WebhookURL != "" {
		if err := b.tg.SetWebhook(ctx, b.cfg.WebhookURL, b.cfg.WebhookSecret, allowedUpdates, 40); err != nil {
			return fmt.Errorf("register webhook: %w", err)
		}
		return nil
	}
	if err := b.tg.DeleteWebhook(ctx); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// Close waits for updates in flight, then stops the outbox (messages not
// yet sent stay in the store for the next start).
func (b *Bot) Close() {
	b.disp.close()
	b.out.Close()
}

// redact removes the bot token from an error (request URLs carry it).
func (b *Bot) redact(err error) error { return b.tg.Redact(err) }

// processToken names this process in claims: random, so that a restarted
// process does not take over a crashed run's claim before it expires.
func processToken() string {
	var p [12]byte
	_, _ = rand.Read(p[:])
	return base64.RawURLEncoding.EncodeToString(p[:])
}

// Run is the work of the deployment's active process (see bot/lease): it
// delivers the outbox and, in polling mode, polls Telegram, until ctx ends.
// In webhook mode every replica takes updates (WebhookHandler); only the
// active one sends.
func (b *Bot) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { b.out.Run(ctx) })
	var err error
	if b.cfg.WebhookURL == "" {
		err = b.Poll(ctx)
	} else {
		b.SetStandby(false) // webhook intake is already marked running
		<-ctx.Done()
	}
	wg.Wait()
	return err
}

// camp is the campaign open for filling (it can change while the bot runs:
// /newcampaign, or another replica's).
func (b *Bot) camp() *flows.Campaign { return b.svc.Campaign() }
