package bot

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/remind"
	"reportbot/storage/bolt"
	"reportbot/storage/redis"
	"reportbot/storage/redis/redistest"
)

// The shared end-to-end harness: the fake Bot API, a real store (a bbolt
// file or a real redis-server), the service and the bot with its own
// polling intake, and helpers to act as the people who use it.

const testToken = "123456:TEST-token_for-the-fake"

// testClock is a settable clock shared by the bot and the test.
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

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cst is China Standard Time.
var cst = time.FixedZone("CST", 8*3600)

type harnessOptions struct {
	store    string // "bolt" (default) or "redis"
	campaign *flows.Campaign
	now      time.Time // default 2022-01-20 10:00 CST
	limits   Limits    // default: all off
	redisURL string    // share a redis-server (replicas)
	tg       *telegramtest.Server
	webhook  bool // webhook intake instead of polling (the test serves WebhookHandler)
	logTo    io.Writer
	// wrap, if set, puts a wrapper (fault injection) between the service
	// and the store.
	wrap func(flows.Store) flows.Store
	// outageRetry is Config.OutageRetry (default: the bot's).
	outageRetry time.Duration
	// campaignFile, if set, is the campaign file each start hands to
	// Service.StartCampaign, as serve does with CAMPAIGN_FILE (campaign
	// is then parsed from it).
	campaignFile []byte
}

type harness struct {
	t        testing.TB
	opts     harnessOptions
	tg       *telegramtest.Server
	store    flows.Store
	svc      *flows.Service
	bot      *Bot
	sched    *remind.Scheduler // the bot's (/remind, /digest)
	clock    *testClock
	camp     *flows.Campaign
	dir      string
	redisURL string

	admin  telegramtest.User
	member telegramtest.User  // an office group member, not an admin
	group  telegramtest.Chat  // the office group
	cancel context.CancelFunc // stops the bot's intake
	done   chan struct{}
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	if opts.store == "" {
		opts.store = "bolt"
	}
	if opts.campaignFile != nil {
		c, err := flows.ParseCampaign(opts.campaignFile)
		if err != nil {
			t.Fatalf("campaign file: %v", err)
		}
		opts.campaign = c
	}
	if opts.campaign == nil {
		opts.campaign = flows.DefaultCampaign()
	}
	if opts.now.IsZero() {
		opts.now = time.Date(2022, 1, 20, 10, 0, 0, 0, cst)
	}
	h := &harness{
		t:      t,
		opts:   opts,
		camp:   opts.campaign,
		clock:  &testClock{t: opts.now},
		dir:    t.TempDir(),
		admin:  telegramtest.User{ID: 9001, FirstName: "管理员", Username: "office_admin"},
		member: telegramtest.User{ID: 9002, FirstName: "科员"},
		group:  telegramtest.Chat{ID: -100500, Type: telegramtest.ChatGroup, Title: "市双拥办工作群"},
	}
	h.tg = opts.tg
	if h.tg == nil {
		h.tg = telegramtest.MustStart(t, telegramtest.Options{Token: testToken, BotUsername: "lvliang_report_bot", Now: h.clock.Now})
	}
	h.tg.AddUser(h.admin)
	h.tg.AddUser(h.member)
	h.tg.AddGroup(h.group)
	if opts.store == "redis" {
		h.redisURL = opts.redisURL
		if h.redisURL == "" {
			h.redisURL = redistest.Start(t)
		}
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

// openStore opens the harness's store (again, after a restart).
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
	if h.opts.campaignFile != nil {
		c, _ := flows.ParseCampaign(h.opts.campaignFile)
		if _, err := h.svc.StartCampaign(context.Background(), c, h.opts.campaignFile); err != nil {
			h.t.Fatalf("StartCampaign: %v", err)
		}
	}
	var logw io.Writer = io.Discard
	if h.opts.logTo != nil {
		logw = h.opts.logTo
	} else if testing.Verbose() && os.Getenv("HARNESS_LOG") != "" {
		logw = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{Token: testToken, APIURL: h.tg.URL(), AdminIDs: []int64{h.admin.ID}, Limits: h.opts.limits, PollTimeout: 2 * time.Second, OutageRetry: h.opts.outageRetry,
		Scheduler: func(n Notifier) Scheduler {
			h.sched = remind.New(h.svc, n, logger, remind.Options{Now: h.clock.Now})
			return h.sched
		}}
	if h.opts.webhook {
		cfg.WebhookURL = "http://127.0.0.1/unused"
		cfg.WebhookSecret = "s3cret-hook"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := New(ctx, cfg, h.svc, logger, Hooks{})
	if err != nil {
		h.t.Fatalf("bot.New: %v", err)
	}
	h.bot = b
	runCtx, stop := context.WithCancel(context.Background())
	h.cancel = stop
	h.done = make(chan struct{})
	if h.opts.webhook {
		go func() {
			defer close(h.done)
			_ = b.Run(runCtx) // the outbox; webhook intake is the test's
		}()
		return
	}
	if err := b.Setup(ctx); err != nil {
		h.t.Fatalf("bot.Setup: %v", err)
	}
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
	h.sched.Stop() // admin rounds still running
	h.cancel()
	<-h.done
	h.bot.Close()
	h.store.Close()
	h.bot = nil
}

// restart stops and starts the bot on the same store.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
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

// sayGroup sends text in a group as a member.
func (h *harness) sayGroup(u telegramtest.User, chat telegramtest.Chat, text string) telegramtest.Message {
	h.t.Helper()
	h.tg.SendText(u, chat, text)
	h.settle()
	return h.last(chat.ID)
}

// press presses the button whose text contains label on the newest bot
// message in the user's chat that has one.
func (h *harness) press(u telegramtest.User, label string) telegramtest.Message {
	h.t.Helper()
	msgs := h.tg.Messages(u.ID)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range msgs[i].Buttons() {
			if strings.Contains(b.Text, label) {
				if _, err := h.tg.Press(u, u.ID, msgs[i].MessageID, b.Data); err != nil {
					h.t.Fatalf("press %q: %v", label, err)
				}
				h.settle()
				return h.last(u.ID)
			}
		}
	}
	h.t.Fatalf("no button %q in chat %d; last message: %q", label, u.ID, h.last(u.ID).Text)
	return telegramtest.Message{}
}

// upload sends a document in the user's private chat.
func (h *harness) upload(u telegramtest.User, name, mime string, content []byte) telegramtest.Message {
	h.t.Helper()
	h.tg.Upload(u, u.ID, name, mime, content)
	h.settle()
	return h.last(u.ID)
}

// uploadPhoto sends a photo in the user's private chat.
func (h *harness) uploadPhoto(u telegramtest.User, content []byte) telegramtest.Message {
	h.t.Helper()
	h.tg.UploadPhoto(u, u.ID, content)
	h.settle()
	return h.last(u.ID)
}

var inviteLink = regexp.MustCompile(`https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]+)`)

// addUnit adds a unit as the admin would and returns an invite token for it.
func (h *harness) addUnit(name, category string) string {
	h.t.Helper()
	m := h.say(h.admin, "/addunit "+name+" "+category)
	if !strings.Contains(m.Text, "已添加单位") {
		h.t.Fatalf("/addunit %s %s answered %q", name, category, m.Text)
	}
	return h.invite(name)
}

// invite asks for an invite link and returns its token.
func (h *harness) invite(name string) string {
	h.t.Helper()
	m := h.say(h.admin, "/invite "+name)
	match := inviteLink.FindStringSubmatch(m.Text)
	if match == nil {
		h.t.Fatalf("/invite %s answered %q, want a link", name, m.Text)
	}
	return match[1]
}

// bind makes the user a contact through the invite token.
func (h *harness) bind(u telegramtest.User, token string) telegramtest.Message {
	h.t.Helper()
	h.tg.AddUser(u)
	return h.say(u, "/start "+token)
}

// setGroup makes the harness group the office group.
func (h *harness) setGroup() {
	h.t.Helper()
	m := h.sayGroup(h.admin, h.group, "/setgroup")
	if !strings.Contains(m.Text, "工作群") {
		h.t.Fatalf("/setgroup answered %q", m.Text)
	}
}

// draftOf returns a unit's draft from the store.
func (h *harness) draftOf(name string) flows.Draft {
	h.t.Helper()
	ctx := context.Background()
	u, err := h.store.UnitByName(ctx, name)
	if err != nil {
		h.t.Fatalf("UnitByName(%q): %v", name, err)
	}
	d, err := h.store.Draft(ctx, "", u.ID)
	if err != nil {
		h.t.Fatalf("Draft(%d): %v", u.ID, err)
	}
	return d
}

// storeKinds runs a test on both stores.
func storeKinds(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range []string{"bolt", "redis"} {
		t.Run(kind, func(t *testing.T) { f(t, kind) })
	}
}

// wantText fails unless the message contains every part.
func wantText(t testing.TB, m telegramtest.Message, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(m.Text+m.Caption, p) {
			t.Fatalf("bot said %q, want it to contain %q", m.Text+m.Caption, p)
		}
	}
}
