package outbox

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/bot/telegram"
	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/storage/bolt"
)

// These tests run the outbox as the bot does: the real Telegram client
// against the fake Bot API (with Telegram's limits where they matter) and a
// real bbolt store holding the messages.

const testToken = "4242:outbox-test-token"

var (
	alice = telegramtest.User{ID: 501, FirstName: "甲"}
	bob   = telegramtest.User{ID: 502, FirstName: "乙"}
	group = telegramtest.Chat{ID: -100900, Type: telegramtest.ChatGroup, Title: "市双拥办工作群"}
)

// testChats is the bot's side: the office group and what it was told.
type testChats struct {
	mu       sync.Mutex
	group    int64
	blocked  []int64
	migrated [][2]int64
}

func (c *testChats) OfficeGroup(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.group, nil
}

func (c *testChats) Blocked(_ context.Context, chat int64) {
	c.mu.Lock()
	c.blocked = append(c.blocked, chat)
	c.mu.Unlock()
}

func (c *testChats) Migrated(_ context.Context, from, to int64) {
	c.mu.Lock()
	c.migrated = append(c.migrated, [2]int64{from, to})
	c.group = to
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	tg    *telegramtest.Server
	api   *telegram.Client
	store flows.Store
	chats *testChats
	cfg   Config
}

func newEnv(t *testing.T, fake telegramtest.Limits, lim Limits) *env {
	t.Helper()
	tg := telegramtest.MustStart(t, telegramtest.Options{Token: testToken, Limits: fake})
	tg.AddUser(alice)
	tg.AddUser(bob)
	tg.AddGroup(group)
	store, err := bolt.Open(filepath.Join(t.TempDir(), "reportbot.db"))
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return &env{
		t: t, tg: tg, store: store,
		api:   telegram.New(tg.URL(), testToken, &http.Client{Timeout: 10 * time.Second}),
		chats: &testChats{group: group.ID},
		cfg:   Config{Limits: lim, Poll: 50 * time.Millisecond},
	}
}

// start makes an outbox and runs it until the test ends or stop is called.
func (e *env) start() (*Outbox, func()) { return e.startOn(e.store) }

// startOn is start with the outbox on store (a wrapper of e.store).
func (e *env) startOn(store Store) (*Outbox, func()) {
	o := New(store, e.api, e.chats, nil, e.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Run(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			o.Close()
		})
	}
	e.t.Cleanup(stop)
	return o, stop
}

// commit writes messages to the store as a committed step does, and
// returns them with their IDs.
func (e *env) commit(msgs ...flows.Outgoing) []flows.Outgoing {
	e.t.Helper()
	if _, err := e.store.Commit(context.Background(), "", time.Hour, msgs); err != nil {
		e.t.Fatalf("Commit: %v", err)
	}
	return msgs
}

func text(chat int64, s string) flows.Outgoing {
	return flows.Outgoing{Chat: chat, Kind: flows.OutText, Text: s}
}

// waitFor polls cond for up to d.
func (e *env) waitFor(d time.Duration, what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := e.tg.WaitFor(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// pending is what the store's outbox still holds.
func (e *env) pending() int {
	e.t.Helper()
	msgs, err := e.store.Outbox(context.Background(), true)
	if err != nil {
		e.t.Fatalf("Outbox: %v", err)
	}
	return len(msgs)
}

func texts(ms []telegramtest.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text+m.Caption)
	}
	return out
}

func TestDeliversInOrderAndAcknowledges(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{})
	o, _ := e.start()
	var want []string
	for i := range 8 {
		want = append(want, fmt.Sprintf("第 %d 条", i+1))
	}
	for _, w := range want {
		o.Push(e.commit(text(alice.ID, w))...)
	}
	e.waitFor(10*time.Second, "8 messages", func() bool { return len(e.tg.Messages(alice.ID)) == 8 })
	if got := texts(e.tg.Messages(alice.ID)); !slices.Equal(got, want) {
		t.Errorf("chat got %q, want %q in order", got, want)
	}
	e.waitFor(5*time.Second, "the store's outbox to empty", func() bool { return e.pending() == 0 })
}

// Messages left in the store (a crash before they were sent) are sent by
// the next run, and only once.
func TestRunSendsWhatTheStoreHolds(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{})
	e.commit(text(alice.ID, "崩溃前写入一"), text(alice.ID, "崩溃前写入二"), text(bob.ID, "崩溃前写入三"))
	e.start()
	e.waitFor(10*time.Second, "3 messages", func() bool {
		return len(e.tg.Messages(alice.ID)) == 2 && len(e.tg.Messages(bob.ID)) == 1
	})
	e.waitFor(5*time.Second, "the store's outbox to empty", func() bool { return e.pending() == 0 })
	time.Sleep(200 * time.Millisecond) // several polls: nothing more may come
	if n := len(e.tg.Messages(alice.ID)); n != 2 {
		t.Errorf("alice got %d messages, want 2 (each once)", n)
	}
}

// A stopped run leaves what it did not send in the store; the next run
// sends the rest, and every message arrives exactly once.
func TestStopAndResumeSendEachOnce(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{PerChat: 5}, Limits{PerChat: 5, ChatBurst: 1})
	o, stop := e.start()
	var want []string
	for i := range 12 {
		want = append(want, fmt.Sprintf("消息 %02d", i))
	}
	for _, w := range want {
		o.Push(e.commit(text(alice.ID, w))...)
	}
	e.waitFor(10*time.Second, "a few messages", func() bool { return len(e.tg.Messages(alice.ID)) >= 3 })
	stop()
	if left := e.pending(); left == 0 || left == 12 {
		t.Fatalf("after stopping mid-way the store holds %d messages, want some but not all", left)
	}
	e.start()
	e.waitFor(20*time.Second, "all 12 messages", func() bool { return len(e.tg.Messages(alice.ID)) >= 12 })
	time.Sleep(300 * time.Millisecond)
	if got := texts(e.tg.Messages(alice.ID)); !slices.Equal(got, want) {
		t.Errorf("chat got %q, want each of %q once, in order", got, want)
	}
	if st := e.tg.Stats(); st.TooManyRequests != 0 {
		t.Errorf("%d answers were 429, want 0 (a new run starts as if its window were full)", st.TooManyRequests)
	}
}

// One chat's backlog does not hold another chat back.
func TestBacklogDoesNotDelayOtherChats(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{PerChat: 2}, Limits{PerChat: 2, ChatBurst: 1})
	o, _ := e.start()
	for i := range 10 {
		o.Push(e.commit(text(alice.ID, fmt.Sprintf("甲的第 %d 条", i)))...)
	}
	o.Push(e.commit(text(bob.ID, "乙的消息"))...)
	e.waitFor(10*time.Second, "bob's message", func() bool { return len(e.tg.Messages(bob.ID)) == 1 })
	if n := len(e.tg.Messages(alice.ID)); n > 3 {
		t.Errorf("bob's message came after %d of alice's 10 (at 2/s), want it among the first", n)
	}
}

// A 429 pauses the sends for its retry_after; the message still goes out.
func TestFloodAnswerIsWaitedOut(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{})
	var throttled int
	var mu sync.Mutex
	e.cfg.Hooks.Throttled = func() { mu.Lock(); throttled++; mu.Unlock() }
	o, _ := e.start()
	e.tg.FailNext("sendMessage", http.StatusTooManyRequests, 1)
	start := time.Now()
	o.Push(e.commit(text(alice.ID, "限流之后"))...)
	e.waitFor(10*time.Second, "the message", func() bool { return len(e.tg.Messages(alice.ID)) == 1 })
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("sent %s after a 429 with retry_after 1, want ≥ 1s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if throttled != 1 {
		t.Errorf("Throttled hook ran %d times, want 1", throttled)
	}
}

// A user who blocked the bot is reported; the message is dropped, not
// retried for ever.
func TestBlockedChatIsReported(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{})
	o, _ := e.start()
	e.tg.Block(alice.ID)
	o.Push(e.commit(text(alice.ID, "发给已屏蔽的人"))...)
	e.waitFor(10*time.Second, "the store's outbox to empty", func() bool { return e.pending() == 0 })
	e.chats.mu.Lock()
	defer e.chats.mu.Unlock()
	if !slices.Equal(e.chats.blocked, []int64{alice.ID}) {
		t.Errorf("Blocked was told %v, want [%d]", e.chats.blocked, alice.ID)
	}
}

// Best-effort messages are dropped when their chat has a backlog.
func TestTryDropsWhenBusy(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{PerChat: 1, ChatBurst: 1})
	o, _ := e.start()
	for i := range 3 {
		o.Push(e.commit(text(alice.ID, fmt.Sprint("排队 ", i)))...)
	}
	if o.Try(text(alice.ID, "陌生人的回复")) {
		t.Error("Try to a chat with a backlog = true, want false")
	}
	if o.Try(text(bob.ID, "刚启动时")) {
		t.Error("Try right after the start = true, want false (the limits start full)")
	}
}

// Posts for the office group that queue up are merged into one message,
// their documents into albums; every receipt appears exactly once.
func TestOfficePostsMerge(t *testing.T) {
	// Ten times Telegram's rates, so that the test is quick; the ratio of
	// posts to the group's budget is what matters.
	e := newEnv(t, telegramtest.Limits{PerGroupPerMinute: 200}, Limits{PerGroupMinute: 200, ChatBurst: 3})
	files := e.uploadFiles(24)
	var msgs []flows.Outgoing
	for i := range 24 {
		msgs = append(msgs,
			flows.Outgoing{Kind: flows.OutText, Post: true, Text: fmt.Sprintf("📨 新提交：单位%02d\n回执编号：LL-%04d", i, i)},
			flows.Outgoing{Kind: flows.OutFile, Post: true, File: &files[i], Text: fmt.Sprintf("单位%02d · 专题报告", i)})
	}
	e.commit(msgs...)
	e.start()
	e.waitFor(30*time.Second, "24 documents", func() bool {
		n := 0
		for _, m := range e.tg.Messages(group.ID) {
			if m.Document != nil {
				n++
			}
		}
		return n == 24
	})
	var all strings.Builder
	textMsgs := 0
	for _, m := range e.tg.Messages(group.ID) {
		if m.Document == nil {
			textMsgs++
			all.WriteString(m.Text)
		}
	}
	for i := range 24 {
		if n := strings.Count(all.String(), fmt.Sprintf("LL-%04d", i)); n != 1 {
			t.Errorf("receipt LL-%04d appears %d times in the group, want 1", i, n)
		}
	}
	if textMsgs > 2 {
		t.Errorf("24 queued posts took %d messages, want them merged into ≤ 2", textMsgs)
	}
	if n := e.tg.Calls("sendMediaGroup"); n < 3 || n > 4 {
		t.Errorf("24 documents took %d albums, want 3 (10 each) or so", n)
	}
	if st := e.tg.Stats(); st.TooManyRequests != 0 {
		t.Errorf("%d answers were 429, want 0", st.TooManyRequests)
	}
}

// uploadFiles puts n documents on the fake server (into bob's chat) and
// returns them as stored files, to be resent by id.
func (e *env) uploadFiles(n int) []flows.File {
	e.t.Helper()
	var out []flows.File
	for i := range n {
		name := fmt.Sprintf("专题报告%02d.docx", i)
		if _, err := e.api.SendDocument(context.Background(), bob.ID, telegram.InputFile{Name: name, Data: []byte("报告内容 " + name)}, ""); err != nil {
			e.t.Fatalf("upload %s: %v", name, err)
		}
		ms := e.tg.Messages(bob.ID)
		d := ms[len(ms)-1].Document
		out = append(out, flows.File{ID: d.ID, Name: name})
	}
	return out
}

// gatedStore holds the first full read of the outbox until it is let go.
type gatedStore struct {
	Store
	gate chan struct{}
	once sync.Once
}

func (s *gatedStore) Outbox(ctx context.Context, all bool) ([]flows.Outgoing, error) {
	if all {
		s.once.Do(func() { <-s.gate })
	}
	return s.Store.Outbox(ctx, all)
}

// What is handed over while a new runner still reads the store (a
// takeover) goes after what the store held from before, in every chat.
func TestPushDuringStartKeepsOrder(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{})
	e.commit(text(alice.ID, "接管前写入"))
	gated := &gatedStore{Store: e.store, gate: make(chan struct{})}
	o, _ := e.startOn(gated)

	e.waitFor(5*time.Second, "the runner to start", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.starting
	})
	o.Push(e.commit(text(alice.ID, "接管后写入"))...)
	close(gated.gate)
	e.waitFor(10*time.Second, "both messages", func() bool { return len(e.tg.Messages(alice.ID)) == 2 })
	if got, want := texts(e.tg.Messages(alice.ID)), []string{"接管前写入", "接管后写入"}; !slices.Equal(got, want) {
		t.Errorf("chat got %q, want %q", got, want)
	}
}

// panickyAPI panics when asked to send one particular text.
type panickyAPI struct {
	*telegram.Client
	bad string
}

func (a panickyAPI) SendMessage(ctx context.Context, chat int64, text string, kb telegram.Keyboard) (int, error) {
	if text == a.bad {
		panic("a message the code cannot handle")
	}
	return a.Client.SendMessage(ctx, chat, text, kb)
}

// A panic while delivering a message is recovered and counted; the
// message is dropped (it would panic again), the chat's next message goes.
func TestPanicInLaneIsRecovered(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{})
	var mu sync.Mutex
	var panics []string
	e.cfg.Hooks.Panic = func(where string) { mu.Lock(); panics = append(panics, where); mu.Unlock() }
	o := New(e.store, panickyAPI{Client: e.api, bad: "炸"}, e.chats, nil, e.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; o.Close() })
	e.waitFor(5*time.Second, "the runner to start", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.active && !o.starting
	})
	o.Push(e.commit(text(alice.ID, "炸"), text(alice.ID, "之后"))...)
	e.waitFor(10*time.Second, "the next message", func() bool { return len(e.tg.Messages(alice.ID)) == 1 })
	if got := texts(e.tg.Messages(alice.ID)); !slices.Equal(got, []string{"之后"}) {
		t.Errorf("chat got %q, want only the message after the one that panicked", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(panics, []string{"lane"}) {
		t.Errorf("Panic hook got %v, want [lane]", panics)
	}
}

// ackGatedStore holds every acknowledgement until the gate is opened.
type ackGatedStore struct {
	Store
	gate chan struct{}
}

func (s *ackGatedStore) Delivered(ctx context.Context, ids []string) error {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.Delivered(ctx, ids)
}

// Unsettled counts a stored message from the moment its call begins —
// through a call that stalls and is retried — until its delivery is
// acknowledged to the store; a message waiting for its chat's slot is not
// unsettled, and it is 0 once everything is acknowledged.
func TestUnsettledSpansCallToAcknowledgement(t *testing.T) {
	e := newEnv(t, telegramtest.Limits{}, Limits{})
	e.cfg.CallTimeout = 300 * time.Millisecond
	gated := &ackGatedStore{Store: e.store, gate: make(chan struct{})}
	o, _ := e.startOn(gated)
	if n := o.Unsettled(); n != 0 {
		t.Fatalf("Unsettled() = %d before any message, want 0", n)
	}

	e.tg.FaultNext("sendMessage", telegramtest.FaultStall)
	o.Push(e.commit(text(alice.ID, "第一条"), text(alice.ID, "第二条"))...)
	e.waitFor(5*time.Second, "the stalled call", func() bool { return e.tg.Calls("sendMessage") >= 1 })
	if n := o.Unsettled(); n != 1 {
		t.Errorf("Unsettled() = %d while the first message's call stalls, want 1 (the second waits its turn)", n)
	}
	e.waitFor(10*time.Second, "both messages", func() bool { return len(e.tg.Messages(alice.ID)) == 2 })
	e.waitFor(5*time.Second, "both calls to end", func() bool { return o.Unsettled() == 2 })
	if p := e.pending(); p != 2 {
		t.Errorf("the store's outbox holds %d messages before the acknowledgement, want 2", p)
	}
	close(gated.gate)
	e.waitFor(5*time.Second, "the acknowledgement", func() bool { return o.Unsettled() == 0 })
	if p := e.pending(); p != 0 {
		t.Errorf("the store's outbox holds %d messages once Unsettled() is 0, want 0", p)
	}
}
