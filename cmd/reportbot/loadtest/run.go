// Package loadtest is `reportbot loadtest`: it runs the real bot as a
// child process against the fake Bot API (bot/telegramtest) and a real
// store, drives simulated unit contacts through the whole default form,
// measures what each form step costs the bot, and, with faults, kills the
// bot with SIGKILL again and again and checks afterwards that every
// contact's submitted report holds exactly what the contact typed.
//
// See BENCHMARKS.md at the repository root for the method and results.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// Config is one run of the load tool.
type Config struct {
	// Binary is the reportbot executable to run as the bot (`Binary serve`).
	Binary string
	// Store is "bolt" (embedded) or "redis".
	Store string
	// RedisURL names an empty Redis database; empty: start a private
	// redis-server.
	RedisURL string
	// Contacts walk the whole form and submit.
	Contacts int
	// Open contacts start the form, answer OpenAnswers questions and leave
	// their drafts open.
	Open, OpenAnswers int
	// Think is a pause before every answer.
	Think time.Duration
	// Faults kills the bot with SIGKILL about every KillEvery (± half) and
	// restarts it, at most MaxKills times (0: no limit).
	Faults    bool
	KillEvery time.Duration
	MaxKills  int
	// Rush, when above 0, runs the deadline-evening scenario instead of the
	// engine run and the run under Telegram's limits: Rush contacts press
	// 确认提交 within a second while a bystander fills the form and a
	// stranger floods the bot (see rush.go). Contacts, Open, Think and
	// Limited do not apply.
	Rush int
	// RushAfter is how long the bot runs, restarted with its default
	// limits, before the presses: 0 presses at once; over a minute, the
	// bot's limiter no longer treats its chats as just started, as on a
	// deadline evening when the bot has been up for days.
	RushAfter time.Duration
	// RushDocs makes the rush also wait until every report's document is
	// in the office group (albums at 20 messages a minute: minutes), and
	// count them like the receipts.
	RushDocs bool
	// KillAfterPost, with Faults in a rush, kills the bot this long after
	// each text message reaches the office group instead of at random: a
	// probe of the window in which a delivered message is not yet
	// acknowledged in the store and is sent again after a restart.
	KillAfterPost time.Duration
	// KillSettled makes a KillAfterPost kill also wait (up to
	// settleLimit) until the bot's /metrics shows every message it sent
	// acknowledged to the store (reportbot_outbox_unsettled 0): a kill
	// outside that window, however slowly a loaded machine acknowledges.
	KillSettled bool
	// Limited is how long the second run, with Telegram's limits enforced
	// by the fake and the bot's default sending limits, lasts; 0 skips it.
	Limited time.Duration
	// Nudge is how long a contact waits for the bot before sending /report
	// (doubling while the bot stays silent).
	Nudge time.Duration
	// Timeout bounds each run.
	Timeout time.Duration
	// Seed makes the contacts' answers and the kill times repeatable.
	Seed uint64
	// Dir is the work directory (the embedded store, the bot's log); empty:
	// a temporary directory, removed afterwards unless the run failed.
	Dir string
	// Monitor counts the commands clients send to Redis with MONITOR (the
	// round trips); INFO commandstats is always read.
	Monitor bool
	// LogLevel is the bot's LOG_LEVEL.
	LogLevel string
	// Progress, if set, gets a progress line every half second.
	Progress io.Writer

	// For tests.
	plants    map[int]plant              // contact number → planted fault
	afterStep func(r *phase, c *contact) // after every input of the form
	onPlant   func(c *contact, p plant)
}

func (c *Config) defaults() error {
	if c.Store == "" {
		c.Store = "bolt"
	}
	if c.Store != "bolt" && c.Store != "redis" {
		return fmt.Errorf("-store %q: use bolt or redis", c.Store)
	}
	if c.Rush < 0 {
		return errors.New("-rush: a number of units, or 0 for no rush")
	}
	if c.Rush == 0 && (c.Contacts < 0 || c.Open < 0 || (c.Contacts == 0 && c.Open == 0)) {
		return errors.New("-contacts: at least one contact")
	}
	if c.MaxKills < 0 {
		return errors.New("-max-kills: 0 (no limit) or more")
	}
	if c.OpenAnswers <= 0 {
		c.OpenAnswers = 2
	}
	if c.KillEvery <= 0 {
		c.KillEvery = 3 * time.Second
	}
	if c.Nudge <= 0 {
		c.Nudge = 3 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Minute
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the reportbot executable: %w", err)
		}
		c.Binary = exe
	}
	return nil
}

// Result is what a run measured.
type Result struct {
	Machine Machine        `json:"machine"`
	Config  map[string]any `json:"config"`
	Phases  []*PhaseResult `json:"runs"`
	Rush    *RushResult    `json:"rush,omitempty"`
	verdict
}

// Machine describes where the numbers come from.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	OS     string `json:"os"`
	Go     string `json:"go"`
	Redis  string `json:"redis,omitempty"`
	Kernel string `json:"kernel,omitempty"`
}

// PhaseResult is one run of the bot under load.
type PhaseResult struct {
	Name     string `json:"name"` // "engine" (limits off) or "telegram limits"
	Store    string `json:"store"`
	Contacts int    `json:"contacts"`
	Open     int    `json:"open_drafts"`
	Kills    int    `json:"kills"`

	Seconds     float64 `json:"seconds"` // the measured window (the form)
	Steps       int64   `json:"steps"`
	Nudges      int64   `json:"nudges"` // /report sent after a silence
	StepsPerSec float64 `json:"steps_per_sec"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`

	CPUPerStepUS     float64          `json:"cpu_per_step_us"`
	AllocsPerStep    float64          `json:"allocs_per_step,omitempty"`            // 0: not measured (restarts)
	PeakRSSMB        float64          `json:"peak_rss_mb"`                          // of the bot under load, all its instances
	PeakAnonMB       float64          `json:"peak_rss_anon_mb"`                     // its anonymous part (heap, stacks), sampled every 200 ms
	ScrapeRSSMB      float64          `json:"peak_rss_after_scrape_mb,omitempty"`   // the same after one /metrics scrape at the end
	RedisCmdsPerStep float64          `json:"redis_commands_per_step,omitempty"`    // INFO commandstats, script commands included
	RedisRTPerStep   float64          `json:"redis_round_trips_per_step,omitempty"` // MONITOR: commands clients sent
	RedisCommands    map[string]int64 `json:"redis_commands,omitempty"`
	RedisClientCmds  map[string]int64 `json:"redis_client_commands,omitempty"`

	DraftBytesP50  int64   `json:"draft_bytes_p50,omitempty"` // at submission (the summary's answers, plus the receipt)
	DraftBytesMax  int64   `json:"draft_bytes_max,omitempty"`
	DraftMemoryP50 int64   `json:"draft_redis_memory_p50,omitempty"` // MEMORY USAGE of the draft key
	BindSeconds    float64 `json:"bind_seconds"`

	// With Telegram's limits.
	Sends           int     `json:"sends,omitempty"`
	SendRate        float64 `json:"send_rate,omitempty"` // accepted sends per second, sustained
	SendLimit       float64 `json:"send_limit,omitempty"`
	TooManyRequests int     `json:"too_many_requests"`

	Submitted int `json:"submitted"`
}

// Run runs the load test: the engine run (limits off, faults if asked),
// then the run under Telegram's limits; or, with Rush, the rush alone. The
// error says what failed; lost or doubled answers and 429s are failures,
// and in a rush a receipt missing from the office group or posted twice.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	res := &Result{Machine: machine(), Config: map[string]any{
		"store": cfg.Store, "contacts": cfg.Contacts, "open": cfg.Open, "think": cfg.Think.String(),
		"faults": cfg.Faults, "kill_every": cfg.KillEvery.String(), "max_kills": cfg.MaxKills,
		"limited": cfg.Limited.String(), "seed": cfg.Seed,
	}}
	if cfg.Rush > 0 {
		res.Config = map[string]any{"store": cfg.Store, "rush": cfg.Rush, "rush_after": cfg.RushAfter.String(), "rush_docs": cfg.RushDocs,
			"faults": cfg.Faults, "kill_every": cfg.KillEvery.String(), "kill_after_post": cfg.KillAfterPost.String(),
			"max_kills": cfg.MaxKills, "seed": cfg.Seed}
	}
	dir, keep := cfg.Dir, true
	if dir == "" {
		d, err := os.MkdirTemp("", "reportbot-loadtest-")
		if err != nil {
			return nil, err
		}
		dir, keep = d, false
	}
	failed := false
	defer func() { // after the store's close below
		if !keep && !failed {
			os.RemoveAll(dir)
		}
	}()
	be, err := openBackend(ctx, cfg, dir, &res.Machine)
	if err != nil {
		return nil, err
	}
	defer be.close()

	if cfg.Rush > 0 {
		err = runRush(ctx, cfg, be, dir, res)
	} else {
		err = runPhases(ctx, cfg, be, dir, res)
	}
	if err != nil {
		failed = true
		return res, fmt.Errorf("%w (work directory %s)", err, dir)
	}
	if probs := res.failures(); len(probs) > 0 {
		failed = true
		return res, fmt.Errorf("%s (bot log in %s)", strings.Join(probs, "; "), dir)
	}
	return res, nil
}

// openBackend opens the store the bot will run on and notes Redis's
// version.
func openBackend(ctx context.Context, cfg Config, dir string, m *Machine) (backend, error) {
	if cfg.Store != "redis" {
		return newBoltBackend(dir), nil
	}
	rb, err := newRedisBackend(ctx, cfg.RedisURL, dir)
	if err != nil {
		return nil, err
	}
	if v, err := rb.client.InfoMap(ctx, "server").Result(); err == nil {
		m.Redis = v["Server"]["redis_version"]
	}
	return rb, nil
}

// runPhases runs the engine run, then the run under Telegram's limits.
func runPhases(ctx context.Context, cfg Config, be backend, dir string, res *Result) error {
	p := newPhase(cfg, be, dir, enginePhase)
	pr, err := p.run(ctx)
	if pr != nil {
		res.Phases = append(res.Phases, pr)
		res.verdict = p.verdict
	}
	if err != nil || cfg.Limited <= 0 {
		return err
	}
	if err := be.reset(ctx); err != nil {
		return err
	}
	p2 := newPhase(cfg, be, dir, limitedPhase)
	pr, err = p2.run(ctx)
	if pr != nil {
		res.Phases = append(res.Phases, pr)
	}
	return err
}

// failures lists what makes a finished run fail.
func (r *Result) failures() []string {
	var probs []string
	if r.Lost > 0 || r.Doubled > 0 {
		probs = append(probs, fmt.Sprintf("lost %d, doubled %d", r.Lost, r.Doubled))
	}
	for _, ph := range r.Phases {
		if ph.TooManyRequests > 0 {
			probs = append(probs, fmt.Sprintf("%d answers 429 Too Many Requests", ph.TooManyRequests))
		}
	}
	if r.Rush != nil {
		probs = append(probs, r.Rush.failures()...)
	}
	return probs
}

// phase is one run of the bot: a fresh fake Telegram, fresh units and
// contacts, the bot as a child process.
type phase struct {
	cfg     Config
	be      backend
	dir     string
	n       int // 0: engine run, 1: Telegram's limits, 2: rush
	limited bool
	camp    *flows.Campaign
	now     func() time.Time            // the fake Telegram's clock (a rush warps it)
	observe func(ev telegramtest.Event) // events for no contact (rush)

	tg       *telegramtest.Server
	bot      *botProc
	contacts []*contact // the first cfg.Contacts fill the whole form
	byChat   map[int64]*contact
	stats    stepStats
	env      *env
	kills    atomic.Int64
	verdict  verdict
}

const (
	token       = "424242:load-test-token_fake"
	officeGroup = -1009001
	adminID     = 9001 // ADMIN_IDS
)

// Phases (phase.n).
const (
	enginePhase  = 0
	limitedPhase = 1
	rushPhase    = 2
)

func newPhase(cfg Config, be backend, dir string, n int) *phase {
	p := &phase{cfg: cfg, be: be, dir: dir, n: n, limited: n == limitedPhase, camp: flows.DefaultCampaign(), now: time.Now, byChat: map[int64]*contact{}}
	return p
}

func (p *phase) name() string {
	switch {
	case p.n == rushPhase:
		return "rush"
	case p.limited:
		return "telegram limits"
	}
	return "engine"
}

// run sets the phase up, runs it and measures it.
func (p *phase) run(ctx context.Context) (*PhaseResult, error) {
	timeout := p.cfg.Timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := &PhaseResult{Name: p.name(), Store: p.be.name(), Contacts: p.cfg.Contacts, Open: p.cfg.Open}
	if p.limited {
		res.Open = 0
	}
	if err := p.seed(ctx); err != nil {
		return nil, err
	}

	opts := fakeOptions()
	if p.limited {
		opts.Limits = telegramLimits
	}
	stopWorld, err := p.startWorld(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer stopWorld() // whatever happens, no bot is left behind

	stopProgress := p.progress(res)
	defer stopProgress()

	// Faults: kill the bot at random moments and restart it.
	stopKills := func() error { return nil }
	if p.cfg.Faults && !p.limited {
		stopKills = p.killLoop(ctx, nil)
	}

	var measureErr error
	if p.limited {
		measureErr = p.runLimited(ctx, res)
	} else {
		measureErr = p.runEngine(ctx, res)
	}
	if err := stopKills(); err != nil && measureErr == nil {
		measureErr = err
	}
	res.Kills = int(p.kills.Load())
	stopProgress()
	if measureErr != nil {
		return res, measureErr
	}
	if p.cfg.Faults && !p.limited && res.Kills == 0 {
		return res, fmt.Errorf("-faults: the run ended after %.1f s, before the first kill; use a shorter -kill-every, more -contacts or a -think time", res.Seconds)
	}
	if p.limited {
		p.bot.kill() // the queue drains at Telegram's pace; nothing more to learn
		return res, nil
	}
	if err := p.bot.stop(30 * time.Second); err != nil {
		return res, err
	}
	return res, p.check(ctx, res)
}

// fakeOptions are the fake Telegram's options: the bot's token and name.
func fakeOptions() telegramtest.Options {
	return telegramtest.Options{Token: token, BotUsername: "lvliang_report_bot", BotName: "双拥报送"}
}

// officeChat is the office group as the fake knows it.
var officeChat = telegramtest.Chat{ID: officeGroup, Type: telegramtest.ChatSupergroup, Title: "市双拥办工作群"}

// telegramLimits are Telegram's published limits; short bursts to one
// chat are tolerated (Burst), as on Telegram.
var telegramLimits = telegramtest.Limits{Global: 30, PerChat: 1, PerGroupPerMinute: 20, Burst: 3}

// startWorld starts the fake Telegram (with the office group), routes the
// bot's messages to the contacts, starts the bot and makes the contacts'
// environment. stop undoes it all, the bot first.
func (p *phase) startWorld(ctx context.Context, opts telegramtest.Options) (stop func(), err error) {
	p.tg = telegramtest.New(opts)
	p.tg.AddGroup(officeChat)
	events, stopEvents := p.tg.Subscribe()
	routed := make(chan struct{})
	go func() {
		defer close(routed)
		for ev := range events {
			p.route(ev)
		}
	}()
	stop = func() {
		if p.bot != nil {
			p.bot.kill()
		}
		stopEvents()
		<-routed
		p.tg.Close()
	}
	addr, err := freeAddr()
	if err != nil {
		stop()
		return nil, err
	}
	p.bot = &botProc{bin: p.cfg.Binary, addr: addr, log: filepath.Join(p.dir, "bot.log"), env: p.botEnv(addr, p.limited)}
	if err := p.bot.start(ctx); err != nil {
		stop()
		return nil, err
	}
	p.env = &env{tg: p.tg, camp: p.camp, read: newReader(p.camp), think: p.cfg.Think, nudge: p.cfg.Nudge, stats: &p.stats, now: p.now,
		planted: func(c *contact, pl plant) {
			if p.cfg.onPlant != nil {
				p.cfg.onPlant(c, pl)
			}
		}}
	if p.cfg.afterStep != nil {
		p.env.after = func(c *contact) { p.cfg.afterStep(p, c) }
	}
	return stop, nil
}

// route hands the bot's messages to their contacts, and what concerns no
// contact to p.observe.
func (p *phase) route(ev telegramtest.Event) {
	if (ev.Kind == telegramtest.EventMessageSent || ev.Kind == telegramtest.EventMessageEdited) && ev.Message != nil {
		if c := p.byChat[ev.ChatID]; c != nil {
			c.inbox.push(ev)
			return
		}
	}
	if p.observe != nil {
		p.observe(ev)
	}
}

// botEnv is the bot's environment: its own sending limits are off unless
// it runs under Telegram's (then it keeps its defaults).
func (p *phase) botEnv(addr string, ownLimits bool) []string {
	env := []string{
		"TELEGRAM_BOT_TOKEN=" + token,
		"TELEGRAM_API_URL=" + p.tg.URL(),
		"ADMIN_IDS=" + fmt.Sprint(adminID),
		"HTTP_ADDR=" + addr,
		"LOG_LEVEL=" + p.cfg.LogLevel,
		"LOG_FORMAT=text",
	}
	if !ownLimits {
		env = append(env, "SEND_RATE_GLOBAL=0", "SEND_RATE_PER_CHAT=0", "SEND_RATE_PER_GROUP_MINUTE=0")
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, p.be.env()...)
}

// seed creates the phase's units and their invites directly in the store
// (what /import and /invites do), moves the deadline a month ahead (the
// campaign file's is in the past) and sets the office group.
func (p *phase) seed(ctx context.Context) error {
	st, err := p.be.open(ctx)
	if err != nil {
		return fmt.Errorf("open the store to add units: %w", err)
	}
	defer st.Close()
	total := p.units()
	units := make([]flows.Unit, total)
	now := time.Now()
	for i := range units {
		cat := categoryMix[i%len(categoryMix)]
		units[i] = flows.Unit{Name: fmt.Sprintf("压测单位%c%05d", 'A'+p.n, i), Category: cat, Created: now}
	}
	added, err := st.AddUnits(ctx, units)
	if err != nil {
		return fmt.Errorf("add units: %w", err)
	}
	if len(added) != len(units) {
		return fmt.Errorf("added %d of %d units (the store is not empty?)", len(added), len(units))
	}
	p.contacts = make([]*contact, total)
	var wg sync.WaitGroup
	errs := make([]error, total)
	sem := make(chan struct{}, 16)
	for i, u := range added {
		tok, inv, err := flows.NewInvite(u.ID, now)
		if err != nil {
			return err
		}
		c := &contact{
			n:      i,
			user:   telegramtest.User{ID: int64(7_000_000 + p.n*1_000_000 + i), FirstName: fmt.Sprintf("联系人%05d", i)},
			unitID: u.ID,
			token:  tok,
			it:     newIntent(p.camp, u.Category, i, p.cfg.Seed),
			plant:  p.cfg.plants[i],
		}
		c.inbox.wake = make(chan struct{}, 1)
		if p.n == enginePhase && i >= p.cfg.Contacts {
			c.open = p.cfg.OpenAnswers
		}
		p.contacts[i] = c
		p.byChat[c.user.ID] = c
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = st.PutInvite(ctx, inv)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store invites: %w", err)
	}
	if err := st.PutSetting(ctx, flows.SettingDeadline, now.AddDate(0, 1, 0).Format(time.RFC3339)); err != nil {
		return err
	}
	if p.n == rushPhase {
		return nil // the admin sends /setgroup in the group
	}
	return st.PutSetting(ctx, flows.SettingOfficeGroup, fmt.Sprint(officeGroup))
}

// units is how many units and contacts the phase seeds: the engine run's
// full and open ones; under Telegram's limits the full ones; in a rush the
// rushing ones and the bystander.
func (p *phase) units() int {
	switch p.n {
	case enginePhase:
		return p.cfg.Contacts + p.cfg.Open
	case rushPhase:
		return p.cfg.Rush + 1
	}
	return p.cfg.Contacts
}

// maxActive bounds how many open-draft contacts act at once, and how many
// contacts bind at once: 10,000 units do not all press a button in the
// same second, and a thundering herd would measure queueing, not the bot.
const maxActive = 250

// each runs f for every contact, at most limit at a time (0: all at once),
// and returns the first error.
func (p *phase) each(ctx context.Context, cs []*contact, limit int, f func(context.Context, *contact) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var turns chan struct{}
	if limit > 0 {
		turns = make(chan struct{}, limit)
	}
	for _, c := range cs {
		if turns != nil {
			select {
			case turns <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			if turns != nil {
				defer func() { <-turns }()
			}
			if err := f(ctx, c); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// fill runs the contacts who fill the whole form all at once, and the
// open-draft ones maxActive at a time, and returns the first error.
func (p *phase) fill(ctx context.Context) error {
	full, open := p.contacts[:p.cfg.Contacts], p.contacts[p.cfg.Contacts:]
	run := func(ctx context.Context, c *contact) error {
		err := c.fill(ctx, p.env)
		p.stats.done.Add(1)
		return err
	}
	errs := make(chan error, 2)
	go func() { errs <- p.each(ctx, full, 0, run) }()
	go func() { errs <- p.each(ctx, open, maxActive, run) }()
	return errors.Join(<-errs, <-errs)
}

// runEngine: every contact binds; then, measured, every contact fills the
// form (open ones answer a few questions and leave).
func (p *phase) runEngine(ctx context.Context, res *PhaseResult) error {
	start := time.Now()
	if err := p.each(ctx, p.contacts, maxActive, func(ctx context.Context, c *contact) error { return c.bind(ctx, p.env) }); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	res.BindSeconds = time.Since(start).Seconds()
	p.stats.nudges.Store(0)

	// Measure: allocations (two scrapes: the first warms up), CPU, Redis.
	var m0 float64
	measureAllocs := !p.cfg.Faults
	if measureAllocs {
		_, _ = mallocs(ctx, p.bot.addr)
		var err error
		if m0, err = mallocs(ctx, p.bot.addr); err != nil {
			return err
		}
	}
	var before map[string]int64
	var mon *monitor
	rc := p.be.redis()
	if rc != nil {
		var err error
		if before, err = commandStats(ctx, rc); err != nil {
			return err
		}
		if p.cfg.Monitor {
			if mon, err = startMonitor(ctx, rc.Options()); err != nil {
				return err
			}
		}
	}
	cpu := p.bot.startCPU()
	t0 := time.Now()

	err := p.fill(ctx)

	wall := time.Since(t0)
	cpuUsed := cpu.end()
	var client map[string]int64
	if mon != nil {
		client = mon.stop(ctx, rc)
	}
	if err != nil {
		return err
	}
	steps := p.stats.steps.Load()
	res.Seconds = wall.Seconds()
	res.Steps = steps
	res.Nudges = p.stats.nudges.Load()
	res.StepsPerSec = float64(steps) / wall.Seconds()
	pc := p.stats.percentiles(50, 95, 99)
	res.P50ms, res.P95ms, res.P99ms = ms(pc[0]), ms(pc[1]), ms(pc[2])
	res.CPUPerStepUS = float64(cpuUsed.Microseconds()) / float64(steps)
	if rc != nil {
		after, err := commandStats(ctx, rc)
		if err != nil {
			return err
		}
		res.RedisCommands = diffStats(before, after)
		res.RedisCmdsPerStep = float64(sum(res.RedisCommands)) / float64(steps)
		if client != nil {
			res.RedisClientCmds = client
			res.RedisRTPerStep = float64(sum(client)) / float64(steps)
		}
	}
	peak, anon := p.bot.peakRSS()
	res.PeakRSSMB, res.PeakAnonMB = mb(peak), mb(anon)
	if measureAllocs {
		m1, err := mallocs(ctx, p.bot.addr)
		if err != nil {
			return err
		}
		res.AllocsPerStep = (m1 - m0) / float64(steps)
		// The scrape itself counts the open drafts (reportbot_open_drafts):
		// it reads every draft of the store at once.
		peak, _ := p.bot.peakRSS()
		res.ScrapeRSSMB = mb(peak)
	}
	return nil
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// runLimited: while the fake enforces Telegram's limits and the bot keeps
// its default ones, the contacts bind, then fill the form for cfg.Limited;
// the sustained sending rate in that window and the 429s are read from the
// fake. Replies queue behind the limits, so the contacts wait long before
// asking again.
func (p *phase) runLimited(ctx context.Context, res *PhaseResult) error {
	p.env.nudge = maxNudge
	start := time.Now()
	if err := p.each(ctx, p.contacts, maxActive, func(ctx context.Context, c *contact) error { return c.bind(ctx, p.env) }); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	res.BindSeconds = time.Since(start).Seconds()
	p.stats.nudges.Store(0)
	t0 := time.Now()
	lctx, cancel := context.WithTimeout(ctx, p.cfg.Limited)
	defer cancel()
	err := p.each(lctx, p.contacts, 0, func(ctx context.Context, c *contact) error {
		err := c.fill(ctx, p.env)
		p.stats.done.Add(1)
		return err
	})
	t1 := time.Now()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st := p.tg.Stats()
	var in []time.Time
	for _, s := range st.Accepted {
		if !s.Time.Before(t0) && !s.Time.After(t1) {
			in = append(in, s.Time)
		}
	}
	res.Sends = len(in)
	if len(in) > 1 {
		res.SendRate = float64(len(in)-1) / in[len(in)-1].Sub(in[0]).Seconds()
	}
	res.SendLimit = 25 // bot.DefaultLimits().Global; Telegram's is about 30
	res.TooManyRequests = st.TooManyRequests
	res.Seconds = t1.Sub(t0).Seconds()
	res.Steps = p.stats.answered() // the others still wait in the bot's queue
	res.Nudges = p.stats.nudges.Load()
	res.StepsPerSec = float64(res.Steps) / res.Seconds
	pc := p.stats.percentiles(50, 95, 99)
	res.P50ms, res.P95ms, res.P99ms = ms(pc[0]), ms(pc[1]), ms(pc[2])
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// killLoop kills the bot at random moments around cfg.KillEvery and starts
// it again, at most cfg.MaxKills times (0: no limit) and, when busy is
// set, only while busy reports true; the returned function stops it and
// reports a failed restart.
func (p *phase) killLoop(ctx context.Context, busy func() bool) func() error {
	stop := make(chan struct{})
	done := make(chan error, 1)
	r := rand.New(rand.NewPCG(p.cfg.Seed, 99))
	go func() {
		for {
			d := p.cfg.KillEvery/2 + time.Duration(r.Int64N(int64(p.cfg.KillEvery)))
			select {
			case <-time.After(d):
			case <-stop:
				done <- nil
				return
			}
			if (busy != nil && !busy()) || (p.cfg.MaxKills > 0 && p.kills.Load() >= int64(p.cfg.MaxKills)) {
				<-stop
				done <- nil
				return
			}
			p.bot.kill()
			n := p.kills.Add(1)
			if err := p.bot.start(ctx); err != nil {
				done <- fmt.Errorf("restart after kill %d: %w", n, err)
				return
			}
		}
	}()
	return stopFunc(stop, done)
}

// stopFunc returns the function that stops a loop: it closes stop, once,
// and returns what the loop reported on done.
func stopFunc(stop chan struct{}, done chan error) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			close(stop)
			err = <-done
		})
		return err
	}
}

// check compares every contact's submitted report with what it typed, and
// measures the drafts. The bot is stopped.
func (p *phase) check(ctx context.Context, res *PhaseResult) error {
	st, err := p.be.open(ctx)
	if err != nil {
		return fmt.Errorf("open the store to check: %w", err)
	}
	defer st.Close()
	var full []int64
	for _, c := range p.contacts[:p.cfg.Contacts] {
		reps, err := st.Reports(ctx, "", c.unitID)
		if err != nil {
			return fmt.Errorf("reports of unit %d: %w", c.unitID, err)
		}
		if len(reps) > 0 {
			res.Submitted++
		}
		checkReports(&p.verdict, fmt.Sprintf("contact %d (unit %d)", c.n, c.unitID), c.it.want, reps)
		full = append(full, c.unitID)
	}
	st.Close()
	vals, mems, err := p.be.draftSizes(ctx, full)
	if err != nil {
		return err
	}
	res.DraftBytesP50, res.DraftBytesMax = median(vals), slices.Max(append(vals, 0))
	res.DraftMemoryP50 = median(mems)
	return nil
}

func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// progress prints a progress line every half second until stopped.
func (p *phase) progress(res *PhaseResult) func() {
	total := len(p.contacts)
	return showProgress(p.cfg.Progress, func(elapsed time.Duration) string {
		done := int(p.stats.done.Load())
		return fmt.Sprintf("%-15s %s %d/%d contacts  %d steps  %.0f steps/s  %d kills  %s",
			res.Name, bar(done, total), done, total, p.stats.steps.Load(), float64(p.stats.steps.Load())/elapsed.Seconds(), p.kills.Load(), elapsed.Round(time.Second))
	})
}

// bar draws done of total as [###.....].
func bar(done, total int) string {
	const width = 30
	n := min(done*width/max(total, 1), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// showProgress prints line to w every half second (every 5 s when w is not
// a terminal) until stopped; nil w prints nothing.
func showProgress(w io.Writer, line func(elapsed time.Duration) string) func() {
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	start := time.Now()
	tty := isTerminal(w)
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		lastPrint := time.Time{}
		for {
			select {
			case <-stop:
				if tty {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
			}
			if !tty && time.Since(lastPrint) < 5*time.Second {
				continue
			}
			lastPrint = time.Now()
			if tty {
				fmt.Fprint(w, "\r\033[K"+line(time.Since(start)))
			} else {
				fmt.Fprintln(w, line(time.Since(start)))
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(stop); <-done }) }
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}
