package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/bot/telegramtest"
	"reportbot/storage/bolt"
)

const testToken = "424242:SECRET-token-never-logged"

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type running struct {
	addr   string
	tg     *telegramtest.Server
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	bot    *bot.Bot
}

// startServe runs serve with a fake environment against the fake Bot API.
func startServe(t *testing.T, env map[string]string) *running {
	t.Helper()
	return startServeWith(t, env, nil)
}

// startServeWith is startServe that calls onStart, when not nil, as serve
// has started and before it runs the bot's active work.
func startServeWith(t *testing.T, env map[string]string, onStart func(addr string, b *bot.Bot)) *running {
	t.Helper()
	tg := telegramtest.MustStart(t, telegramtest.Options{Token: testToken, BotUsername: "lvliang_report_bot"})
	base := map[string]string{
		"TELEGRAM_BOT_TOKEN": testToken,
		"TELEGRAM_API_URL":   tg.URL(),
		"ADMIN_IDS":          "9001",
		"DATA_DIR":           t.TempDir(),
		"HTTP_ADDR":          "127.0.0.1:0",
		"LOG_FORMAT":         "json",
		"LOG_LEVEL":          "debug",
	}
	for k, v := range env {
		base[k] = v
	}
	r := &running{tg: tg, logs: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	started := make(chan string, 1)
	hooks := &serveHooks{started: func(addr string, b *bot.Bot) {
		r.bot = b
		if onStart != nil {
			onStart(addr, b)
		}
		started <- addr
	}}
	go func() { r.done <- serve(ctx, func(k string) string { return base[k] }, io.Discard, r.logs, hooks) }()
	select {
	case r.addr = <-started:
	case err := <-r.done:
		t.Fatalf("serve returned early: %v\nlogs:\n%s", err, r.logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not start; logs:\n%s", r.logs)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("serve did not stop in time")
	}
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (r *running) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := r.tg.WaitFor(ctx, func() bool { return r.tg.PendingUpdates() == 0 }); err != nil {
		t.Fatal(err)
	}
	if err := r.tg.WaitFor(ctx, func() bool { return r.bot.Outbox().Pending() == 0 }); err != nil {
		t.Fatalf("messages not delivered in time: %v", err)
	}
}

// TestServeEndToEnd drives run's server with a fake environment: health,
// metrics, an admin command through the fake Telegram, a graceful stop,
// and no log line carries the token.
func TestServeEndToEnd(t *testing.T) {
	r := startServe(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.tg.WaitFor(ctx, func() bool { return r.tg.Polling() > 0 }); err != nil {
		t.Fatal(err)
	}
	if code, body := r.get(t, "/healthz"); code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz = %d %q, want 200 ok", code, body)
	}
	admin := telegramtest.User{ID: 9001, FirstName: "管理员"}
	r.tg.AddUser(admin)
	r.tg.SendText(admin, admin.Chat(), "/addunit 离石区双拥工作领导小组 县市区")
	r.settle(t)
	if m, _ := r.tg.LastMessage(admin.ID); !strings.Contains(m.Text, "已添加单位") {
		t.Fatalf("/addunit answered %q", m.Text)
	}
	r.tg.SendText(admin, admin.Chat(), "/invite 离石区双拥工作领导小组")
	r.settle(t)

	code, metrics := r.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`reportbot_updates_total{kind="command",outcome="ok"} 2`,
		"reportbot_update_duration_seconds_bucket",
		"reportbot_messages_sent_total",
		"reportbot_telegram_429_total",
		"reportbot_send_retries_total",
		"reportbot_reminders_sent_total",
		"reportbot_store_errors_total",
		"reportbot_open_drafts 0",
		"reportbot_outbox_unsettled",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if len(r.tg.Commands()) == 0 {
		t.Errorf("the command menu was not registered")
	}
	r.stop(t)
	logs := r.logs.String()
	if !strings.Contains(logs, `"msg":"update"`) || !strings.Contains(logs, `"update_id"`) {
		t.Errorf("no per-update log line in:\n%s", logs)
	}
	if strings.Contains(logs, testToken) || strings.Contains(logs, "SECRET-token") {
		t.Errorf("a log line contains the bot token:\n%s", logs)
	}
	if strings.Contains(logs, "离石区") {
		// User-typed text stays out of info logs; unit ids identify units.
		t.Errorf("user-typed text in the logs:\n%s", logs)
	}
}

// TestServeRefusesBadConfig lists every configuration problem at once.
func TestServeRefusesBadConfig(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"ADMIN_IDS": "12,abc", "WEBHOOK_URL": "http://insecure", "LOG_FORMAT": "xml", "SEND_RATE_GLOBAL": "-1", "STORE_OUTAGE_RETRY": "forever"}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, &stderr)
	if err == nil {
		t.Fatal("run with a bad environment returned nil")
	}
	for _, want := range []string{"TELEGRAM_BOT_TOKEN is required", `ADMIN_IDS: "abc"`, "WEBHOOK_URL", "WEBHOOK_SECRET is required", "LOG_FORMAT", "SEND_RATE_GLOBAL", "STORE_OUTAGE_RETRY"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestValidateCommand: `reportbot validate FILE` prints every problem with
// its line and exits non-zero; the default campaign is clean.
func TestValidateCommand(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"validate", filepath.Join("..", "..", "flows", "testdata", "bad-campaign.yaml")}, os.Getenv, &out, &errb)
	if err == nil {
		t.Fatalf("validate of a bad file succeeded")
	}
	for _, want := range []string{"bad-campaign.yaml:4:", "bad-campaign.yaml:18:", "未知", "重复", "问题"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("validate output lacks %q:\n%s", want, errb.String())
		}
	}
	good := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(good, defaultYAML(t), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"validate", good}, os.Getenv, &out, &errb); err != nil {
		t.Fatalf("validate of the default campaign: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "没有发现问题") {
		t.Errorf("validate said %q", out.String())
	}
}

func defaultYAML(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "flows", "campaigns", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSecondProcessOnBoltFileRefused: the embedded store serves one process;
// a second one on the same DATA_DIR says so and how to run replicas.
func TestSecondProcessOnBoltFileRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := bolt.Open(filepath.Join(dir, "reportbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, _, err = openStore(context.Background(), config{DataDir: dir})
	if err == nil {
		t.Fatal("openStore on a DATA_DIR in use succeeded, want an error")
	}
	for _, want := range []string{"another reportbot process is already running", "REDIS_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("openStore error %q, want it to say %q", err, want)
		}
	}
}
