// Package demo is `reportbot demo`: everything in one process: the fake
// Bot API of bot/telegramtest, the real bot against it (the command's
// serve, unchanged, with the embedded store in a temporary folder), a demo
// campaign with the units of Lüliang, and a web page that is a chat client
// of the fake Telegram, on which one can be the admin, any unit's contact
// or a member of the office group. A settable clock stands in for the time
// of day (the time machine), so that reminders and digests can be seen
// firing.
package demo

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

// files are the page (static) and the seed roster (units.csv, a copy of
// the sample roster in the import format).
//
//go:embed static units.csv
var files embed.FS

// The people and chats of the demo.
const (
	adminID       = 9001
	memberID      = 9002
	officeGroupID = -1001000009001
	// A seeded contact's user id is contactBase + the unit's id; people
	// who open an invite link on the page get ids from guestBase on.
	contactBase = 20000
	guestBase   = 30000
	// openDays is how long after the demo's start the deadline falls.
	openDays = 14
	// botUsername makes the invite links https://t.me/lvliang_report_bot?start=…
	botUsername = "lvliang_report_bot"
	botName     = "吕梁双拥填报助手"
)

var (
	adminUser   = telegramtest.User{ID: adminID, FirstName: "王建国", Username: "sybgs_wang"}
	memberUser  = telegramtest.User{ID: memberID, FirstName: "赵敏"}
	officeGroup = telegramtest.Chat{ID: officeGroupID, Type: telegramtest.ChatSupergroup, Title: "吕梁市双拥办工作群"}
)

// Serve runs the bot until ctx ends, configured by getenv: the command's
// own serve, which this package cannot import.
type Serve func(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, hooks Hooks) error

// Hooks let the demo reach into the bot that Serve runs.
type Hooks struct {
	// Now is the clock of the bot (the demo's time machine).
	Now func() time.Time
	// Started is called once everything runs.
	Started func(addr string, b *bot.Bot)
}

// ErrReported means Run already printed the problem (a bad flag).
var ErrReported = errors.New("reported")

// config configures run.
type config struct {
	// Addr is where the page listens (host:port; port 0 picks one).
	Addr string
	// DataDir keeps the store; empty: a temporary folder removed on exit.
	DataDir string
	// Start is the demo clock's time at start; zero: now.
	Start time.Time
	// Getenv supplies LOG_LEVEL, LOG_FORMAT and SEND_RATE_*; may be nil.
	Getenv func(string) string
	// Serve runs the bot.
	Serve Serve
	// Ready, if set, is called once the page serves (tests).
	Ready func(*Server)
}

const usage = `usage: reportbot demo [-addr 127.0.0.1:8080]

Starts the fake Telegram, the bot and a web chat page in one process, with a
demo campaign of the Lüliang units. Open the printed address in a browser.
The data lives in a temporary folder (removed on exit) unless DATA_DIR is
set; the demo always uses the embedded store. Ctrl-C stops it.
`

// Run is `reportbot demo`: it reads the flags in args and runs the demo
// until ctx ends, with serve running the bot.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, serve Serve) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	addr := fs.String("addr", "127.0.0.1:8080", "address of the web page")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return ErrReported
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return ErrReported
	}
	return run(ctx, config{Addr: *addr, DataDir: strings.TrimSpace(getenv("DATA_DIR")), Getenv: getenv, Serve: serve}, stdout, stderr)
}

// run runs the demo until ctx ends. It stops in reverse order of
// start: the page, the bot (serve), the fake Bot API, the data folder.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
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

	dir, temp, err := openDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	if temp {
		defer os.RemoveAll(dir)
	}
	start := cfg.Start
	if start.IsZero() {
		start = time.Now()
	}
	camp, openYAML, campFile, err := writeCampaign(dir, start)
	if err != nil {
		return err
	}
	clock := newClock(start, camp.Location)
	tg, token, err := startTelegram(clock)
	if err != nil {
		return err
	}
	defer tg.Close()

	// The bot runs until we stop it, after the page.
	br := startBot(ctx, cfg.Serve, botEnv(tg.URL(), token, dir, campFile, getenv), clock, stdout, stderr)
	defer func() {
		if serveErr := br.shutdown(); serveErr != nil && err == nil {
			err = serveErr
		}
	}()
	b := br.wait(ctx)
	if b == nil {
		return nil // serve's error, if any, is returned by the deferred shutdown
	}

	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	defer endLife()
	d := &Server{
		tg:       tg,
		bot:      b,
		svc:      b.Service(),
		camp:     camp,
		openYAML: openYAML,
		clock:    clock,
		log:      logger,
		life:     life,
		dataDir:  dir,
		known:    map[int64]telegramtest.User{},
		hub:      newHub(),
	}
	if err := d.seed(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("demo: seed: %w", err)
	}
	d.camp = d.svc.Campaign() // the demo campaign, opened by the seed (or before, in a kept DATA_DIR)
	return d.servePage(ctx, ln, br.done, endLife, temp, cfg.Ready, stdout)
}

// openDataDir makes the folder of the store: dir, or (empty dir) a
// temporary one for the caller to remove.
func openDataDir(dir string) (string, bool, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "reportbot-demo-")
		if err != nil {
			return "", false, fmt.Errorf("demo: temporary folder: %w", err)
		}
		return tmp, true, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", false, fmt.Errorf("demo: create DATA_DIR %s: %w", dir, err)
	}
	return dir, false, nil
}

// writeCampaign makes the demo campaign for a start at start, which
// compares with last year's, and writes last year's campaign into dir: the
// bot starts with it (CAMPAIGN_FILE), the seed opens the demo campaign
// (seedEarlier). It returns the demo campaign, its file and the file the
// bot starts with.
func writeCampaign(dir string, start time.Time) (*flows.Campaign, []byte, string, error) {
	campYAML, camp, err := campaign(start)
	if err != nil {
		return nil, nil, "", err
	}
	earlier, _, err := earlierCampaign(campYAML, camp.Deadline)
	if err != nil {
		return nil, nil, "", err
	}
	openYAML := withPrevious(campYAML)
	if camp, err = flows.ParseCampaign(openYAML); err != nil {
		return nil, nil, "", fmt.Errorf("demo: campaign: %w", err)
	}
	campFile := filepath.Join(dir, "demo-campaign-last-year.yaml")
	if err := os.WriteFile(campFile, earlier, 0o600); err != nil {
		return nil, nil, "", fmt.Errorf("demo: write the campaign: %w", err)
	}
	return camp, openYAML, campFile, nil
}

// startTelegram starts the fake Bot API on the demo clock, with a fresh
// token, which it returns.
func startTelegram(clock *Clock) (*telegramtest.Server, string, error) {
	token, err := newToken()
	if err != nil {
		return nil, "", err
	}
	tg := telegramtest.NewUnstarted(telegramtest.Options{
		Token:       token,
		BotUsername: botUsername,
		BotName:     botName,
		Now:         clock.Now,
		// Update ids that a kept DATA_DIR has not seen in an earlier run.
		FirstUpdateID: time.Now().Unix() * 1000,
	})
	tg.Start()
	return tg, token, nil
}

// botEnv is the environment serve reads in the demo: the fake Bot API,
// the demo's admin, folder and campaign, no flood limits, and what the
// caller's getenv sets of the log level and the limits.
func botEnv(apiURL, token, dir, campFile string, getenv func(string) string) map[string]string {
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":         token,
		"TELEGRAM_API_URL":           apiURL,
		"ADMIN_IDS":                  fmt.Sprint(adminID),
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
	return env
}

// botRun is the bot that Serve runs for the demo.
type botRun struct {
	started chan *bot.Bot
	done    chan struct{} // closed when Serve returned
	stop    context.CancelFunc
	err     error // Serve's, once done is closed
}

// startBot runs serve with env in the background. The bot outlives ctx
// until shutdown: the demo stops it after the page.
func startBot(ctx context.Context, serve Serve, env map[string]string, clock *Clock, stdout, stderr io.Writer) *botRun {
	serveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r := &botRun{started: make(chan *bot.Bot, 1), done: make(chan struct{}), stop: stop}
	go func() {
		defer close(r.done)
		r.err = serve(serveCtx, func(k string) string { return env[k] }, stdout, stderr, Hooks{
			Now:     clock.Now,
			Started: func(_ string, b *bot.Bot) { r.started <- b },
		})
	}()
	return r
}

// wait returns the bot once it runs, or nil when Serve returns or ctx
// ends first.
func (r *botRun) wait(ctx context.Context) *bot.Bot {
	select {
	case b := <-r.started:
		return b
	case <-r.done:
	case <-ctx.Done():
	}
	return nil
}

// shutdown stops the bot, waits for Serve and returns its error.
func (r *botRun) shutdown() error {
	r.stop()
	<-r.done
	return r.err
}

// servePage serves the page on ln and says so on stdout, until ctx ends,
// the page fails or the bot stops (botDone). endLife ends the page's event
// streams before the page shuts down.
func (d *Server) servePage(ctx context.Context, ln net.Listener, botDone <-chan struct{}, endLife context.CancelFunc, temp bool, ready func(*Server), stdout io.Writer) (err error) {
	d.url = "http://" + hostPort(ln.Addr())
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}
	pageDone := make(chan error, 1)
	go func() { pageDone <- srv.Serve(ln) }()

	d.printStarted(ctx, stdout, temp)
	if ready != nil {
		ready(d)
	}

	pageStopped := false
	select {
	case <-ctx.Done():
	case err = <-pageDone:
		err, pageStopped = fmt.Errorf("demo: web page: %w", err), true
	case <-botDone:
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

// printStarted tells the person who started the demo where the page is
// and what the demo time is.
func (d *Server) printStarted(ctx context.Context, stdout io.Writer, temp bool) {
	camp := d.camp
	deadline, _ := d.svc.Deadline(ctx)
	fmt.Fprintf(stdout, "reportbot 演示已启动：%s\n", d.url)
	fmt.Fprintf(stdout, "  在浏览器中打开上面的地址，可分别扮演管理员、各单位填报联系人、市双拥办工作群成员（可开多个标签页）。\n")
	fmt.Fprintf(stdout, "  演示时间：%s，截止时间：%s（页面上的“时光机”可把时间往后拨）。\n",
		flows.FormatTime(d.clock.Now(), camp.Location), flows.FormatTime(deadline, camp.Location))
	if temp {
		fmt.Fprintf(stdout, "  数据目录：%s（退出时删除；设置 DATA_DIR 可保留）\n", d.dataDir)
	} else {
		fmt.Fprintf(stdout, "  数据目录：%s\n", d.dataDir)
	}
	fmt.Fprintf(stdout, "  按 Ctrl-C 退出。\n")
}

// hostPort is the address to print for a listener: 127.0.0.1 for an
// unspecified host.
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// newToken makes a fresh bot token for the fake. It never reaches the page.
func newToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("demo: random token: %w", err)
	}
	return "7000000001:" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

var campaignDeadlineLine = regexp.MustCompile(`(?m)^deadline:.*$`)

// campaign is the default campaign with its deadline moved to 18:00 on
// the first working day openDays days or more after start, so that
// everything is open; ids, wording and schedule stay as they are.
func campaign(start time.Time) ([]byte, *flows.Campaign, error) {
	base := flows.DefaultCampaign()
	loc := base.Location
	day := start.In(loc).AddDate(0, 0, openDays)
	for i := 0; i < 7 && !base.IsWorkday(day); i++ {
		day = day.AddDate(0, 0, 1) // a deadline on a working day, as an office would set it
	}
	due := time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, loc)
	data := flows.DefaultCampaignYAML()
	if !campaignDeadlineLine.Match(data) {
		return nil, nil, errors.New("demo: the default campaign has no deadline line to move")
	}
	data = campaignDeadlineLine.ReplaceAll(data, []byte(`deadline: "`+due.Format("2006-01-02 15:04")+`" # reportbot demo: `+fmt.Sprint(openDays)+` days after the demo's start`))
	c, err := flows.ParseCampaign(data)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: campaign: %w", err)
	}
	if !c.Deadline.Equal(due) {
		return nil, nil, fmt.Errorf("demo: campaign deadline is %s, want %s", c.Deadline, due)
	}
	return data, c, nil
}

// Clock is the demo's time: real time shifted by an offset that the
// time machine only ever increases.
type Clock struct {
	loc    *time.Location
	mu     sync.Mutex
	offset time.Duration
}

func newClock(start time.Time, loc *time.Location) *Clock {
	return &Clock{loc: loc, offset: time.Until(start)}
}

// Now is the demo time in the campaign's zone.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return time.Now().Add(off).In(c.loc).Round(0)
}

// errClockBackwards: the time machine only goes forward (the scheduler
// remembers what it did; going back would repeat nothing and confuse).
var errClockBackwards = errors.New("the demo clock only moves forward")

// Set moves the clock to t, which must not be before the current demo time.
func (c *Clock) Set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if t.Before(now.Add(c.offset).Add(-time.Second)) {
		return errClockBackwards
	}
	c.offset = t.Sub(now)
	return nil
}

// hub wakes the page's event streams when something outside the fake
// changed (the clock).
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

func newHub() *hub { return &hub{ch: make(chan struct{})} }

// wait returns a channel closed at the next notify.
func (h *hub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

func (h *hub) notify() {
	h.mu.Lock()
	close(h.ch)
	h.ch = make(chan struct{})
	h.mu.Unlock()
}
