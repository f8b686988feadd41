package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"reportbot/bot"
	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// `reportbot demo` runs everything in one process: the fake Bot API of
// bot/telegramtest, the real bot against it (serve, unchanged, with the
// embedded store in a temporary folder), a demo campaign with the units of
// Lüliang, and a web page that is a chat client of the fake Telegram, on
// which one can be the admin, any unit's contact or a member of the office
// group. A settable clock stands in for the time of day (the time machine),
// so that reminders and digests can be seen firing.

// demoFiles are the page (demo/static) and the seed roster (demo/units.csv,
// a copy of the sample roster in the import format).
//
//go:embed demo
var demoFiles embed.FS

// The people and chats of the demo.
const (
	demoAdminID  = 9001
	demoMemberID = 9002
	demoGroupID  = -1001000009001
	// A seeded contact's user id is demoContactBase + the unit's id; people
	// who open an invite link on the page get ids from demoGuestBase on.
	demoContactBase = 20000
	demoGuestBase   = 30000
	// demoOpenDays is how long after the demo's start the deadline falls.
	demoOpenDays = 14
	// demoBotUsername makes the invite links https://t.me/lvliang_report_bot?start=…
	demoBotUsername = "lvliang_report_bot"
	demoBotName     = "吕梁双拥填报助手"
)

var (
	demoAdmin  = telegramtest.User{ID: demoAdminID, FirstName: "王建国", Username: "sybgs_wang"}
	demoMember = telegramtest.User{ID: demoMemberID, FirstName: "赵敏"}
	demoGroup  = telegramtest.Chat{ID: demoGroupID, Type: telegramtest.ChatSupergroup, Title: "吕梁市双拥办工作群"}
)

// demoConfig configures runDemo.
type demoConfig struct {
	// Addr is where the page listens (host:port; port 0 picks one).
	Addr string
	// DataDir keeps the store; empty: a temporary folder removed on exit.
	DataDir string
	// Start is the demo clock's time at start; zero: now.
	Start time.Time
	// Getenv supplies LOG_LEVEL, LOG_FORMAT and SEND_RATE_*; may be nil.
	Getenv func(string) string
	// Ready, if set, is called once the page serves (tests).
	Ready func(*demoServer)
}

const demoUsage = `usage: reportbot demo [-addr 127.0.0.1:8080]

Starts the fake Telegram, the bot and a web chat page in one process, with a
demo campaign of the Lüliang units. Open the printed address in a browser.
The data lives in a temporary folder (removed on exit) unless DATA_DIR is
set; the demo always uses the embedded store. Ctrl-C stops it.
`

// demo is `reportbot demo`.
func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage) }
	addr := fs.String("addr", "127.0.0.1:8080", "address of the web page")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errReported
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errReported
	}
	return runDemo(ctx, demoConfig{Addr: *addr, DataDir: strings.TrimSpace(getenv("DATA_DIR")), Getenv: getenv}, stdout, stderr)
}

// runDemo runs the demo until ctx ends. It stops in reverse order of
// start: the page, the bot (serve), the fake Bot API, the data folder.
func runDemo(ctx context.Context, cfg demoConfig, stdout, stderr io.Writer) (err error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Listen first: a port in use is the likeliest problem, and nothing
	// has started yet.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("demo: listen on %s (choose another with -addr): %w", cfg.Addr, err)
	}
	defer ln.Close()

	dir, temp := cfg.DataDir, cfg.DataDir == ""
	if temp {
		if dir, err = os.MkdirTemp("", "reportbot-demo-"); err != nil {
			return fmt.Errorf("demo: temporary folder: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("demo: create DATA_DIR %s: %w", dir, err)
	}

	start := cfg.Start
	if start.IsZero() {
		start = time.Now()
	}
	campYAML, camp, err := demoCampaign(start)
	if err != nil {
		return err
	}
	campFile := filepath.Join(dir, "demo-campaign.yaml")
	if err := os.WriteFile(campFile, campYAML, 0o600); err != nil {
		return fmt.Errorf("demo: write the campaign: %w", err)
	}
	clock := newDemoClock(start, camp.Location)

	token, err := demoToken()
	if err != nil {
		return err
	}
	tg := telegramtest.NewUnstarted(telegramtest.Options{
		Token:       token,
		BotUsername: demoBotUsername,
		BotName:     demoBotName,
		Now:         clock.Now,
		// Update ids that a kept DATA_DIR has not seen in an earlier run.
		FirstUpdateID: time.Now().Unix() * 1000,
	})
	tg.Start()
	defer tg.Close()

	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":         token,
		"TELEGRAM_API_URL":           tg.URL(),
		"ADMIN_IDS":                  fmt.Sprint(demoAdminID),
		"DATA_DIR":                   dir,
		"CAMPAIGN_FILE":              campFile,
		"HTTP_ADDR":                  "127.0.0.1:0",
		"LOG_FORMAT":                 getenv("LOG_FORMAT"),
		"LOG_LEVEL":                  "warn",
		"SEND_RATE_GLOBAL":           "0", // the fake has no flood limits: no need to wait
		"SEND_RATE_PER_CHAT":         "0",
		"SEND_RATE_PER_GROUP_MINUTE": "0",
	}
	for _, k := range []string{"LOG_LEVEL", "SEND_RATE_GLOBAL", "SEND_RATE_PER_CHAT", "SEND_RATE_PER_GROUP_MINUTE"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			env[k] = v
		}
	}

	// The bot runs until we stop it, after the page.
	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServe()
	started := make(chan *bot.Bot, 1)
	serveDone := make(chan struct{})
	var serveErr error
	go func() {
		defer close(serveDone)
		serveErr = serve(serveCtx, func(k string) string { return env[k] }, stdout, stderr, &serveHooks{
			now:     clock.Now,
			started: func(_ string, b *bot.Bot) { started <- b },
		})
	}()
	defer func() {
		stopServe()
		<-serveDone
		if serveErr != nil && err == nil {
			err = serveErr
		}
	}()
	var b *bot.Bot
	select {
	case b = <-started:
	case <-serveDone:
		return nil // serve's error, if any, is returned by the deferred stop
	case <-ctx.Done():
		return nil
	}

	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	defer endLife()
	d := &demoServer{
		tg:      tg,
		bot:     b,
		svc:     b.Service(),
		camp:    camp,
		clock:   clock,
		log:     logger,
		life:    life,
		dataDir: dir,
		known:   map[int64]telegramtest.User{},
		hub:     newDemoHub(),
	}
	if err := d.seed(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("demo: seed: %w", err)
	}

	d.url = "http://" + demoHostPort(ln.Addr())
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	pageDone := make(chan error, 1)
	go func() { pageDone <- srv.Serve(ln) }()

	deadline, _ := d.svc.Deadline(ctx)
	fmt.Fprintf(stdout, "reportbot 演示已启动：%s\n", d.url)
	fmt.Fprintf(stdout, "  在浏览器中打开上面的地址，可分别扮演管理员、各单位填报联系人、市双拥办工作群成员（可开多个标签页）。\n")
	fmt.Fprintf(stdout, "  演示时间：%s，截止时间：%s（页面上的“时光机”可把时间往后拨）。\n",
		flows.FormatTime(clock.Now(), camp.Location), flows.FormatTime(deadline, camp.Location))
	if temp {
		fmt.Fprintf(stdout, "  数据目录：%s（退出时删除；设置 DATA_DIR 可保留）\n", dir)
	} else {
		fmt.Fprintf(stdout, "  数据目录：%s\n", dir)
	}
	fmt.Fprintf(stdout, "  按 Ctrl-C 退出。\n")
	if cfg.Ready != nil {
		cfg.Ready(d)
	}

	pageStopped := false
	select {
	case <-ctx.Done():
	case err = <-pageDone:
		err, pageStopped = fmt.Errorf("demo: web page: %w", err), true
	case <-serveDone:
	}
	endLife() // ends the event streams, so that Shutdown need not wait for them
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	if !pageStopped {
		<-pageDone // http.ErrServerClosed
	}
	fmt.Fprintln(stdout, "演示已停止。")
	return err
}

// demoHostPort is the address to print for a listener: 127.0.0.1 for an
// unspecified host.
func demoHostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// demoToken makes a fresh bot token for the fake. It never reaches the page.
func demoToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("demo: random token: %w", err)
	}
	return "7000000001:" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

var campaignDeadlineLine = regexp.MustCompile(`(?m)^deadline:.*$`)

// demoCampaign is the default campaign with its deadline moved to 18:00 on
// the first working day demoOpenDays days or more after start, so that
// everything is open; ids, wording and schedule stay as they are.
func demoCampaign(start time.Time) ([]byte, *flows.Campaign, error) {
	base := flows.DefaultCampaign()
	loc := base.Location
	day := start.In(loc).AddDate(0, 0, demoOpenDays)
	for i := 0; i < 7 && !base.IsWorkday(day); i++ {
		day = day.AddDate(0, 0, 1) // a deadline on a working day, as an office would set it
	}
	due := time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, loc)
	data := flows.DefaultCampaignYAML()
	if !campaignDeadlineLine.Match(data) {
		return nil, nil, errors.New("demo: the default campaign has no deadline line to move")
	}
	data = campaignDeadlineLine.ReplaceAll(data, []byte(`deadline: "`+due.Format("2006-01-02 15:04")+`" # reportbot demo: `+fmt.Sprint(demoOpenDays)+` days after the demo's start`))
	c, err := flows.ParseCampaign(data)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: campaign: %w", err)
	}
	if !c.Deadline.Equal(due) {
		return nil, nil, fmt.Errorf("demo: campaign deadline is %s, want %s", c.Deadline, due)
	}
	return data, c, nil
}

// demoClock is the demo's time: real time shifted by an offset that the
// time machine only ever increases.
type demoClock struct {
	loc    *time.Location
	mu     sync.Mutex
	offset time.Duration
}

func newDemoClock(start time.Time, loc *time.Location) *demoClock {
	return &demoClock{loc: loc, offset: time.Until(start)}
}

// Now is the demo time in the campaign's zone.
func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return time.Now().Add(off).In(c.loc).Round(0)
}

// errClockBackwards: the time machine only goes forward (the scheduler
// remembers what it did; going back would repeat nothing and confuse).
var errClockBackwards = errors.New("the demo clock only moves forward")

// Set moves the clock to t, which must not be before the current demo time.
func (c *demoClock) Set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if t.Before(now.Add(c.offset).Add(-time.Second)) {
		return errClockBackwards
	}
	c.offset = t.Sub(now)
	return nil
}

// demoHub wakes the page's event streams when something outside the fake
// changed (the clock).
type demoHub struct {
	mu sync.Mutex
	ch chan struct{}
}

func newDemoHub() *demoHub { return &demoHub{ch: make(chan struct{})} }

// wait returns a channel closed at the next notify.
func (h *demoHub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

func (h *demoHub) notify() {
	h.mu.Lock()
	close(h.ch)
	h.ch = make(chan struct{})
	h.mu.Unlock()
}
