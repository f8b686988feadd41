package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/storage/redis"
	"reportbot/storage/redis/redistest"
)

// The tests below run the real binary twice with `serve`, as a deployment
// runs replicas: one Redis (with its AOF), one fake Telegram (in this
// process), different HTTP_ADDR ports. One process holds the lease and
// polls and sends; the other waits as a hot standby.

// replicaAdmin is the admin of the replicas' deployment (ADMIN_IDS).
var replicaAdmin = telegramtest.User{ID: 9001, FirstName: "管理员"}

// inviteLinkRE matches an invite link in a message.
var inviteLinkRE = regexp.MustCompile(`https://t\.me/[A-Za-z0-9_]+\?start=[A-Za-z0-9_-]+`)

// TestReplicas builds the binary once and runs the scenarios in parallel
// (each with its own Redis and fake Telegram).
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot twice: not in -short mode")
	}
	bin := buildReportbot(t)
	t.Run("EachCommandOnce", func(t *testing.T) { t.Parallel(); testReplicasEachCommandOnce(t, bin) })
	t.Run("StandbyTakesOverAfterKill", func(t *testing.T) { t.Parallel(); testReplicasTakeoverAfterKill(t, bin) })
	t.Run("StandbyHealthy", func(t *testing.T) { t.Parallel(); testReplicasStandbyHealthy(t, bin) })
}

// testReplicasEachCommandOnce: with both replicas running, 10 /invite and
// 10 /addunit (after 10 /addunit to create the invited units) each take
// effect once — 10 invite links, each /addunit answered once and never
// "already exists" — while exactly one process is active and polls.
func testReplicasEachCommandOnce(t *testing.T, bin string) {
	d := newReplicaDeployment(t, bin)
	a := d.start(t, "a")
	d.waitActive(t, a)
	b := d.start(t, "b")
	samp := sampleReplicaActivity(d.tg, a, b)
	defer samp.finish()

	tg := d.tg
	tg.AddUser(replicaAdmin)
	chat := replicaAdmin.Chat()
	begin := time.Now()
	for i := 1; i <= 10; i++ {
		tg.SendText(replicaAdmin, chat, fmt.Sprintf("/addunit 测试单位%02d 县市区", i))
	}
	d.waitMessages(t, 30*time.Second, "10 units added", func(msgs []telegramtest.Message) bool {
		return countTexts(msgs, "已添加单位") >= 10
	})
	for i := 1; i <= 10; i++ {
		tg.SendText(replicaAdmin, chat, fmt.Sprintf("/invite 测试单位%02d", i))
		tg.SendText(replicaAdmin, chat, fmt.Sprintf("/addunit 新增单位%02d 县市区", i))
	}
	d.waitMessages(t, 30*time.Second, "10 links and 20 units added", func(msgs []telegramtest.Message) bool {
		return countInviteLinks(msgs) >= 10 && countTexts(msgs, "已添加单位") >= 20
	})
	t.Logf("30 commands answered in %v", time.Since(begin).Round(time.Millisecond))
	d.settle(t)
	samp.finish()
	d.waitOutboxEmpty(t)

	msgs := tg.Messages(replicaAdmin.ID)
	if n := len(msgs); n != 30 {
		t.Errorf("the bot sent %d messages to the admin, want 30 (one per command):\n%s", n, describeMessages(msgs))
	}
	if n := countInviteLinks(msgs); n != 10 {
		t.Errorf("%d invite links sent, want 10", n)
	}
	links := map[string]bool{}
	for _, m := range msgs {
		for _, l := range inviteLinkRE.FindAllString(m.Text, -1) {
			if links[l] {
				t.Errorf("invite link %s sent twice", l)
			}
			links[l] = true
		}
	}
	for i := 1; i <= 10; i++ {
		for _, want := range []string{
			fmt.Sprintf("“测试单位%02d”的邀请链接", i),
			fmt.Sprintf("已添加单位：测试单位%02d（", i),
			fmt.Sprintf("已添加单位：新增单位%02d（", i),
		} {
			if n := countTexts(msgs, want); n != 1 {
				t.Errorf("%d messages contain %q, want 1", n, want)
			}
		}
	}
	// A command run a second time would answer that its unit exists.
	if n := countTexts(msgs, "已存在"); n != 0 {
		t.Errorf("%d answers say a unit already exists (a command ran twice)", n)
	}

	// The standby handled nothing; the active process handled each
	// command once.
	okA := a.metric(t, `reportbot_updates_total{kind="command",outcome="ok"}`)
	okB := b.metric(t, `reportbot_updates_total{kind="command",outcome="ok"}`)
	if okA != 30 || okB != 0 {
		t.Errorf("commands handled ok: a %v, b %v; want 30 and 0", okA, okB)
	}
	for _, r := range []*replica{a, b} {
		if n := r.metric(t, `reportbot_updates_total{kind="command",outcome="duplicate"}`); n != 0 {
			t.Errorf("%s saw %v duplicate commands, want 0", r.name, n)
		}
	}
	samp.check(t, "a")
	checkLogs(t, a, b)
}

// testReplicasTakeoverAfterKill: kill -9 of the active process. A command
// its holder had committed (the update confirmed to Telegram, the answer
// in the store's outbox but not sent: the fake stalls that send) is
// delivered by the survivor, once, and a command sent after the kill —
// which needs the unit the killed process added — is answered by the
// survivor within the lease's 15 s plus one 5 s try.
func testReplicasTakeoverAfterKill(t *testing.T, bin string) {
	d := newReplicaDeployment(t, bin)
	a := d.start(t, "a")
	d.waitActive(t, a)
	b := d.start(t, "b")
	tg := d.tg
	tg.AddUser(replicaAdmin)
	chat := replicaAdmin.Chat()

	tg.SendText(replicaAdmin, chat, "/addunit 甲单位 县市区")
	d.waitMessages(t, 15*time.Second, "甲单位 added", func(msgs []telegramtest.Message) bool {
		return countTexts(msgs, "已添加单位：甲单位") == 1
	})
	active, standby := d.whoActive(t, a, b)
	// The answer is acknowledged (gone from the store's outbox): the
	// survivor would send again a message delivered but not yet
	// acknowledged when its sender died (at-least-once), which is not
	// what this test is about.
	d.waitOutboxEmpty(t)

	// The holder's next send hangs: the answer of the next command is
	// committed (in the store's outbox) but not sent when it dies.
	sends := tg.Calls("sendMessage")
	tg.FaultNext("sendMessage", telegramtest.FaultStall)
	tg.SendText(replicaAdmin, chat, "/addunit 乙单位 县市区")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := tg.WaitFor(ctx, func() bool { return tg.PendingUpdates() == 0 && tg.Calls("sendMessage") > sends }); err != nil {
		t.Fatalf("the holder did not confirm /addunit 乙单位 and try to answer: %v", err)
	}
	active.kill(t)
	killed := time.Now()
	tg.SendText(replicaAdmin, chat, "/invite 乙单位")

	// Until the survivor takes over, it stays healthy as a standby.
	var (
		mu      sync.Mutex
		healthz []string // failed answers of the standby's /healthz
	)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for watchCtx.Err() == nil {
			if code, body, err := standby.get("/healthz"); err != nil || code != http.StatusOK {
				mu.Lock()
				healthz = append(healthz, fmt.Sprintf("%d %q %v", code, body, err))
				mu.Unlock()
			}
			replicaSleep(watchCtx, 100*time.Millisecond)
		}
	}()

	// The lease expires ≤ 15 s after the kill; the standby tries every
	// 5 s; then the outbox starts and the poller asks.
	limit := 22 * time.Second
	wctx, wcancel := context.WithDeadline(context.Background(), killed.Add(limit))
	defer wcancel()
	if _, err := tg.WaitText(wctx, replicaAdmin.ID, "已添加单位：乙单位"); err != nil {
		t.Fatalf("the answer the killed holder had committed was not delivered within %v: %v", limit, err)
	}
	committedAfter := time.Since(killed)
	if _, err := tg.WaitText(wctx, replicaAdmin.ID, "“乙单位”的邀请链接"); err != nil {
		t.Fatalf("/invite 乙单位 sent after the kill was not answered within %v: %v", limit, err)
	}
	invitedAfter := time.Since(killed)
	stopWatch()
	<-watchDone
	took, ok := standby.logTime("lease taken")
	if !ok {
		t.Errorf("%s never logged that it took the lease", standby.name)
	}
	t.Logf("after kill -9 of %s: %s took the lease after %v, delivered the committed answer after %v, answered the new command after %v",
		active.name, standby.name, took.Sub(killed).Round(time.Millisecond), committedAfter.Round(time.Millisecond), invitedAfter.Round(time.Millisecond))
	mu.Lock()
	if len(healthz) > 0 {
		t.Errorf("the standby's /healthz failed while it waited to take over: %v", healthz)
	}
	mu.Unlock()

	if v := standby.metric(t, "reportbot_active"); v != 1 {
		t.Errorf("%s: reportbot_active = %v after taking over, want 1", standby.name, v)
	}
	d.settle(t)
	d.waitOutboxEmpty(t) // the survivor acknowledged what it sent
	msgs := tg.Messages(replicaAdmin.ID)
	for _, want := range []string{"已添加单位：甲单位", "已添加单位：乙单位", "“乙单位”的邀请链接"} {
		if n := countTexts(msgs, want); n != 1 {
			t.Errorf("%d messages contain %q, want 1:\n%s", n, want, describeMessages(msgs))
		}
	}
	if n := len(msgs); n != 3 {
		t.Errorf("the admin got %d messages, want 3:\n%s", n, describeMessages(msgs))
	}
	if n := countTexts(msgs, "已存在"); n != 0 {
		t.Errorf("%d answers say a unit already exists (a command ran twice)", n)
	}
	checkLogs(t, a, b)
}

// testReplicasStandbyHealthy: while it waits, the standby's /healthz
// answers 200 "ok", its reportbot_active is 0 and it does not poll.
func testReplicasStandbyHealthy(t *testing.T, bin string) {
	d := newReplicaDeployment(t, bin)
	a := d.start(t, "a")
	d.waitActive(t, a)
	b := d.start(t, "b")
	// Six seconds: more than one of the standby's 5 s tries of the lease.
	deadline := time.Now().Add(6 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		for _, r := range []*replica{a, b} {
			if code, body, err := r.get("/healthz"); err != nil || code != http.StatusOK || strings.TrimSpace(body) != "ok" {
				t.Fatalf("%s: GET /healthz = %d %q, %v; want 200 ok", r.name, code, body, err)
			}
		}
		if v := b.metric(t, "reportbot_active"); v != 0 {
			t.Fatalf("the standby's reportbot_active = %v, want 0", v)
		}
		if p := d.tg.Polling(); p > 1 {
			t.Fatalf("%d getUpdates calls waiting at once, want at most 1", p)
		}
		n++
		time.Sleep(200 * time.Millisecond)
	}
	if v := a.metric(t, "reportbot_active"); v != 1 {
		t.Errorf("the holder's reportbot_active = %v, want 1", v)
	}
	if !strings.Contains(b.logs(), "waiting as a standby") {
		t.Errorf("b never logged that it waits as a standby; its log:\n%s", replicaTail(b.logs(), 20))
	}
	checkLogs(t, a, b)
	t.Logf("the standby answered /healthz 200 %d times in 6 s", n)
}

// checkLogs wants no getUpdates failure (a second poller makes the fake,
// like Telegram, answer 409 to the first) and no bot token in the logs.
func checkLogs(t *testing.T, reps ...*replica) {
	t.Helper()
	for _, r := range reps {
		logs := r.logs()
		if strings.Contains(logs, "terminated by other getUpdates") || strings.Contains(logs, `"getUpdates failed"`) {
			t.Errorf("%s's getUpdates failed (another poller at once?); its log:\n%s", r.name, replicaTail(logs, 20))
		}
		if strings.Contains(logs, replicaToken) {
			t.Errorf("%s logged the bot token", r.name)
		}
	}
}

// replicaToken is the replicas' bot token.
const replicaToken = "424242:replica-SECRET-token"

// replicaDeployment is one Redis and one fake Telegram shared by replicas.
type replicaDeployment struct {
	bin string
	tg  *telegramtest.Server
	env map[string]string
}

func newReplicaDeployment(t *testing.T, bin string) *replicaDeployment {
	t.Helper()
	rs := redistest.StartServer(t, redistest.Options{AppendOnly: true})
	tg := telegramtest.MustStart(t, telegramtest.Options{Token: replicaToken, BotUsername: "lvliang_report_bot"})
	return &replicaDeployment{bin: bin, tg: tg, env: map[string]string{
		"TELEGRAM_BOT_TOKEN": replicaToken,
		"TELEGRAM_API_URL":   tg.URL(),
		"ADMIN_IDS":          strconv.FormatInt(replicaAdmin.ID, 10),
		"REDIS_URL":          rs.URL,
		"DATA_DIR":           t.TempDir(), // unused with Redis
		"LOG_FORMAT":         "json",
		"LOG_LEVEL":          "info",
		// Thirty answers to one chat would take 30 s at 1 a second.
		"SEND_RATE_PER_CHAT": "0",
	}}
}

// start starts a replica on a free port and waits until its /healthz
// answers 200. The test's cleanup stops it (SIGTERM) unless it was killed.
func (d *replicaDeployment) start(t *testing.T, name string) *replica {
	t.Helper()
	addr := replicaFreeAddr(t)
	r := &replica{name: name, addr: addr, logPath: filepath.Join(t.TempDir(), name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(d.bin, "serve")
	for k, v := range d.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "HTTP_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = replicaAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s serve: %v", d.bin, err)
	}
	r.cmd = cmd
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			t.Logf("log of %s (%s):\n%s", r.name, r.addr, replicaTail(r.logs(), 40))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-r.exited:
			t.Fatalf("%s exited during start-up (%s); its log:\n%s", name, cmd.ProcessState, replicaTail(r.logs(), 20))
		default:
		}
		if code, _, err := r.get("/healthz"); err == nil && code == http.StatusOK {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy in 30 s; its log:\n%s", name, replicaTail(r.logs(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitActive waits until r holds the lease and polls.
func (d *replicaDeployment) waitActive(t *testing.T, r *replica) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := d.tg.WaitFor(ctx, func() bool {
		v, err := r.metricValue("reportbot_active")
		return err == nil && v == 1 && d.tg.Polling() == 1
	})
	if err != nil {
		t.Fatalf("%s did not become active and poll: %v", r.name, err)
	}
}

// whoActive returns the one replica whose reportbot_active is 1 and the
// other.
func (d *replicaDeployment) whoActive(t *testing.T, a, b *replica) (active, other *replica) {
	t.Helper()
	va, vb := a.metric(t, "reportbot_active"), b.metric(t, "reportbot_active")
	switch {
	case va == 1 && vb == 0:
		return a, b
	case va == 0 && vb == 1:
		return b, a
	}
	t.Fatalf("reportbot_active: %s %v, %s %v; want exactly one 1", a.name, va, b.name, vb)
	return nil, nil
}

// waitOutboxEmpty waits until the store's outbox holds no message: every
// message sent is acknowledged.
func (d *replicaDeployment) waitOutboxEmpty(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := redis.Open(ctx, d.env["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for {
		msgs, err := store.Outbox(ctx, true) // all: a scan, unlike the dirty marks it takes nothing
		if err == nil && len(msgs) == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the store's outbox still holds %d messages (%v)", len(msgs), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMessages waits until the admin's chat satisfies cond.
func (d *replicaDeployment) waitMessages(t *testing.T, timeout time.Duration, what string, cond func([]telegramtest.Message) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := d.tg.WaitFor(ctx, func() bool { return cond(d.tg.Messages(replicaAdmin.ID)) }); err != nil {
		t.Fatalf("waiting for %s: %v (sendMessage calls so far: %d, updates pending: %d); the admin's chat:\n%s",
			what, err, d.tg.Calls("sendMessage"), d.tg.PendingUpdates(), describeMessages(d.tg.Messages(replicaAdmin.ID)))
	}
}

// settle waits until every update is confirmed, then long enough for a
// second delivery of anything (the outbox looks at the store every second).
func (d *replicaDeployment) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := d.tg.WaitFor(ctx, func() bool { return d.tg.PendingUpdates() == 0 }); err != nil {
		t.Fatalf("updates not confirmed: %v", err)
	}
	time.Sleep(2 * time.Second)
}

// replica is one `reportbot serve` child process.
type replica struct {
	name    string
	addr    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	killed  bool
}

var replicaHTTP = &http.Client{Timeout: 3 * time.Second}

func (r *replica) get(path string) (int, string, error) {
	resp, err := replicaHTTP.Get("http://" + r.addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// metricValue reads one sample of /metrics by its name and labels as
// printed (`name{label="v"}`); an absent sample is 0.
func (r *replica) metricValue(sample string) (float64, error) {
	code, body, err := r.get("/metrics")
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics of %s = %d", r.name, code)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, sc.Err()
}

func (r *replica) metric(t *testing.T, sample string) float64 {
	t.Helper()
	v, err := r.metricValue(sample)
	if err != nil {
		t.Fatalf("%s: read %s: %v", r.name, sample, err)
	}
	return v
}

// kill kills the replica with SIGKILL, as a crash would, and waits for it
// to be gone.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.killed = true
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", r.name, err)
	}
	<-r.exited
}

// stop stops the replica gracefully (SIGTERM), killing it after 20 s; a
// graceful stop must exit 0.
func (r *replica) stop(t *testing.T) {
	select {
	case <-r.exited:
		if !r.killed && !r.cmd.ProcessState.Success() {
			t.Errorf("%s exited by itself: %s", r.name, r.cmd.ProcessState)
		}
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
		if !r.cmd.ProcessState.Success() {
			t.Errorf("%s exited with %s after SIGTERM, want 0", r.name, r.cmd.ProcessState)
		}
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		t.Errorf("%s did not stop within 20 s of SIGTERM; killed", r.name)
	}
}

func (r *replica) logs() string {
	data, _ := os.ReadFile(r.logPath)
	return string(data)
}

// logTime is the time of the first JSON log line whose message contains
// msg.
func (r *replica) logTime(msg string) (time.Time, bool) {
	for line := range strings.SplitSeq(r.logs(), "\n") {
		var l struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && strings.Contains(l.Msg, msg) {
			return l.Time, true
		}
	}
	return time.Time{}, false
}

// replicaActivity samples, while replicas run, how many getUpdates calls wait at
// the fake (every 20 ms) and which replicas report reportbot_active 1
// (every 200 ms).
type replicaActivity struct {
	stop, done chan struct{}
	once       sync.Once

	mu         sync.Mutex
	maxPolling int
	samples    int
	holders    map[string]int // active replica(s) → samples
	bad        []string       // samples without exactly one active replica
}

func sampleReplicaActivity(tg *telegramtest.Server, reps ...*replica) *replicaActivity {
	s := &replicaActivity{stop: make(chan struct{}), done: make(chan struct{}), holders: map[string]int{}}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			p := tg.Polling()
			s.mu.Lock()
			s.maxPolling = max(s.maxPolling, p)
			s.mu.Unlock()
			if i%10 == 0 {
				var on, errs []string
				for _, r := range reps {
					v, err := r.metricValue("reportbot_active")
					switch {
					case err != nil:
						errs = append(errs, fmt.Sprintf("%s: %v", r.name, err))
					case v == 1:
						on = append(on, r.name)
					}
				}
				key := strings.Join(on, "+")
				s.mu.Lock()
				s.samples++
				s.holders[key]++
				if len(on) != 1 || len(errs) > 0 {
					s.bad = append(s.bad, fmt.Sprintf("active %q, errors %v", on, errs))
				}
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *replicaActivity) finish() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// check reports samples with two pollers or without exactly one active
// replica, and wants holder to have been the active one throughout.
func (s *replicaActivity) check(t *testing.T, holder string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Logf("sampled: at most %d getUpdates waiting at once; active replica per /metrics sample: %v", s.maxPolling, s.holders)
	if s.maxPolling > 1 {
		t.Errorf("%d getUpdates calls waited at once, want at most 1", s.maxPolling)
	}
	if len(s.bad) > 0 {
		t.Errorf("%d of %d samples without exactly one active replica: %v", len(s.bad), s.samples, s.bad)
	}
	if s.holders[holder] != s.samples {
		t.Errorf("active per sample %v, want %s in all %d", s.holders, holder, s.samples)
	}
}

// buildReportbot builds cmd/reportbot into the test's temporary directory.
func buildReportbot(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no go command to build the bot: %v", err)
		}
		t.Skipf("no go command to build the bot: %v", err)
	}
	path := filepath.Join(t.TempDir(), "reportbot")
	start := time.Now()
	if out, err := exec.Command(gobin, "build", "-o", path, "reportbot/cmd/reportbot").CombinedOutput(); err != nil {
		t.Fatalf("go build reportbot/cmd/reportbot: %v\n%s", err, out)
	}
	t.Logf("built the bot in %v", time.Since(start).Round(time.Millisecond))
	return path
}

// replicaFreeAddr returns a loopback address nobody listens on right now.
func replicaFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func countTexts(msgs []telegramtest.Message, substr string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, substr) {
			n++
		}
	}
	return n
}

func countInviteLinks(msgs []telegramtest.Message) int {
	n := 0
	for _, m := range msgs {
		n += len(inviteLinkRE.FindAllString(m.Text, -1))
	}
	return n
}

func describeMessages(msgs []telegramtest.Message) string {
	var s strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&s, "  #%d %q\n", m.MessageID, m.Text)
	}
	return s.String()
}

// tail returns the last n lines of s.
func replicaTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// sleepCtx waits d or until ctx ends.
func replicaSleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
