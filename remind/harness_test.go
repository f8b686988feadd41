package remind

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/storage/bolt"
	"reportbot/storage/redis"
	"reportbot/storage/redis/redistest"
)

// The scheduler's harness: the fake Bot API, a real store (a bbolt file or
// a real redis-server), the service and a real bot with its own polling
// intake (contacts who write to it, the outbox that sends), whose Notifier
// the schedulers of a test use.

const testToken = "123456:TEST-token_for-the-fake"

// testClock is a settable clock shared by the bot, the scheduler and the
// test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// cst is China Standard Time.
var cst = time.FixedZone("CST", 8*3600)

type harnessOptions struct {
	store string    // "bolt" (default) or "redis"
	now   time.Time // default 2022-01-20 10:00 CST
	logTo io.Writer
	// wrap, if set, puts a wrapper (fault injection) between the service
	// and the store.
	wrap func(flows.Store) flows.Store
}

type harness struct {
	t        testing.TB
	opts     harnessOptions
	tg       *telegramtest.Server
	store    flows.Store
	svc      *flows.Service
	bot      *bot.Bot
	notifier bot.Notifier // the bot's, for the test's schedulers
	log      *slog.Logger
	clock    *testClock
	camp     *flows.Campaign
	dir      string
	redisURL string

	admin  telegramtest.User
	group  telegramtest.Chat  // the office group
	cancel context.CancelFunc // stops the bot's intake
	done   chan struct{}
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	if opts.store == "" {
		opts.store = "bolt"
	}
	if opts.now.IsZero() {
		opts.now = time.Date(2022, 1, 20, 10, 0, 0, 0, cst)
	}
	h := &harness{
		t:     t,
		opts:  opts,
		camp:  flows.DefaultCampaign(),
		clock: &testClock{t: opts.now},
		dir:   t.TempDir(),
		admin: telegramtest.User{ID: 9001, FirstName: "管理员", Username: "office_admin"},
		group: telegramtest.Chat{ID: -100500, Type: telegramtest.ChatGroup, Title: "市双拥办工作群"},
	}
	h.tg = telegramtest.MustStart(t, telegramtest.Options{Token: testToken, BotUsername: "lvliang_report_bot", Now: h.clock.Now})
	h.tg.AddUser(h.admin)
	h.tg.AddGroup(h.group)
	if opts.store == "redis" {
		h.redisURL = redistest.Start(t)
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

// openStore opens the harness's store.
func (h *harness) openStore() flows.Store {
	h.t.Helper()
	switch h.opts.store {
	case "redis":
		s, err := redis.Open(context.Background(), h.redisURL)
		if err != nil {
			h.t.Fatalf("redis.Open: %v", err)
		}
		return s
	default:
		s, err := bolt.Open(filepath.Join(h.dir, "reportbot.db"))
		if err != nil {
			h.t.Fatalf("bolt.Open: %v", err)
		}
		return s
	}
}

// start opens the store and starts the bot with polling intake.
func (h *harness) start() {
	h.t.Helper()
	h.store = h.openStore()
	svcStore := h.store
	if h.opts.wrap != nil {
		svcStore = h.opts.wrap(h.store)
	}
	h.svc = flows.NewService(svcStore, h.camp, h.clock.Now)
	var logw io.Writer = io.Discard
	if h.opts.logTo != nil {
		logw = h.opts.logTo
	} else if testing.Verbose() && os.Getenv("HARNESS_LOG") != "" {
		logw = os.Stderr
	}
	h.log = slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := bot.Config{Token: testToken, APIURL: h.tg.URL(), AdminIDs: []int64{h.admin.ID}, PollTimeout: 2 * time.Second,
		Scheduler: func(n bot.Notifier) bot.Scheduler {
			h.notifier = n
			return New(h.svc, n, h.log, Options{Now: h.clock.Now})
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bot.New(ctx, cfg, h.svc, h.log, bot.Hooks{})
	if err != nil {
		h.t.Fatalf("bot.New: %v", err)
	}
	h.bot = b
	if err := b.Setup(ctx); err != nil {
		h.t.Fatalf("bot.Setup: %v", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	h.cancel = stop
	h.done = make(chan struct{})
	go func() {
		defer close(h.done)
		_ = b.Run(runCtx)
	}()
	if err := h.tg.WaitFor(ctx, func() bool { return h.tg.Polling() > 0 }); err != nil {
		h.t.Fatalf("bot never polled: %v", err)
	}
}

// stop stops the bot gracefully and closes the store.
func (h *harness) stop() {
	if h.bot == nil {
		return
	}
	h.cancel()
	<-h.done
	h.bot.Close()
	h.store.Close()
	h.bot = nil
}

// settle waits until every update sent so far is handled and confirmed,
// and everything it said is delivered.
func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.tg.WaitFor(ctx, func() bool { return h.tg.PendingUpdates() == 0 }); err != nil {
		h.t.Fatalf("updates not handled in time (%d pending): %v", h.tg.PendingUpdates(), err)
	}
	if err := h.tg.WaitFor(ctx, func() bool { return h.bot.Outbox().Pending() == 0 }); err != nil {
		h.t.Fatalf("messages not delivered in time (%d pending): %v", h.bot.Outbox().Pending(), err)
	}
}

// last returns the bot's newest message in a chat.
func (h *harness) last(chatID int64) telegramtest.Message {
	h.t.Helper()
	m, ok := h.tg.LastMessage(chatID)
	if !ok {
		h.t.Fatalf("no bot message in chat %d", chatID)
	}
	return m
}

// say sends text in the user's private chat, waits until it is handled and
// returns the bot's newest message there.
func (h *harness) say(u telegramtest.User, text string) telegramtest.Message {
	h.t.Helper()
	h.tg.SendText(u, u.Chat(), text)
	h.settle()
	return h.last(u.ID)
}

// scheduler makes a scheduler on the harness's bot and clock.
func (h *harness) scheduler(opts Options) *Scheduler {
	h.t.Helper()
	if opts.Now == nil {
		opts.Now = h.clock.Now
	}
	s := New(h.svc, h.notifier, h.log, opts)
	h.t.Cleanup(s.Stop)
	return s
}

// otherScheduler starts a second bot object (another process, no intake)
// on st, sharing the harness's fake Bot API and clock, and returns its
// scheduler, made with opts.
func (h *harness) otherScheduler(st flows.Store, opts Options) *Scheduler {
	h.t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := flows.NewService(st, h.camp, h.clock.Now)
	var s *Scheduler
	b, err := bot.New(context.Background(), bot.Config{Token: testToken, APIURL: h.tg.URL(), Scheduler: func(n bot.Notifier) bot.Scheduler {
		s = New(svc, n, logger, opts)
		return s
	}}, svc, logger, bot.Hooks{})
	if err != nil {
		h.t.Fatalf("bot.New: %v", err)
	}
	h.t.Cleanup(b.Close)
	return s
}

// storeKinds runs a test on both stores.
func storeKinds(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range []string{"bolt", "redis"} {
		t.Run(kind, func(t *testing.T) { f(t, kind) })
	}
}
