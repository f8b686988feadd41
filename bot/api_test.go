package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tgbot "github.com/go-telegram/bot"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// apiTestBot is a Bot with just what the api*.go calls need, against url.
func apiTestBot(url string) *Bot {
	return &Bot{
		cfg:  Config{Token: testToken, APIURL: url},
		log:  slog.New(slog.DiscardHandler),
		apic: &http.Client{Timeout: 10 * time.Second, Transport: newAPITransport(2)},
	}
}

// apiTestOutcome is what one Sender.Do saw.
type apiTestOutcome struct {
	err                          string
	blocked, badRequest          bool
	migratedTo                   int64
	retryAfter                   int
	sent, flood, retried, failed int64
	attempts                     int64
	slept                        time.Duration
	pausedFor, showsToken        bool
}

// TestAPICallsBehaveLikeGoTelegram runs every hot-path call through the
// Sender against the fake Bot API, once with go-telegram and once with our
// JSON calls, for each failure the fake can plant (FailNext 429/500/403,
// Block, MigrateGroup, chat not found, message not modified): the Sender
// must see the same thing — same outcome, error text, attempts, retries,
// 429 pauses and hook calls.
func TestAPICallsBehaveLikeGoTelegram(t *testing.T) {
	tg := telegramtest.MustStart(t, telegramtest.Options{Token: testToken})
	ours := apiTestBot(tg.URL())
	lib, err := tgbot.New(testToken, tgbot.WithServerURL(tg.URL()), tgbot.WithSkipGetMe(), tgbot.WithErrorsHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	type call func(ctx context.Context, chatID int64, msgID int) error
	calls := map[string][2]call{
		"sendMessage": {
			func(ctx context.Context, chatID int64, _ int) error {
				_, err := lib.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: "问题", ReplyMarkup: keyboard([][]flows.Button{{{Text: "是", Data: "q:1"}}})})
				return err
			},
			func(ctx context.Context, chatID int64, _ int) error {
				_, err := ours.apiSendMessage(ctx, chatID, "问题", keyboard([][]flows.Button{{{Text: "是", Data: "q:1"}}}))
				return err
			},
		},
		"editMessageText": {
			func(ctx context.Context, chatID int64, msgID int) error {
				_, err := lib.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: chatID, MessageID: msgID, Text: "已改"})
				return err
			},
			func(ctx context.Context, chatID int64, msgID int) error {
				return ours.apiEditMessageText(ctx, chatID, msgID, "已改", nil)
			},
		},
		"editMessageReplyMarkup": {
			func(ctx context.Context, chatID int64, msgID int) error {
				_, err := lib.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chatID, MessageID: msgID, ReplyMarkup: emptyKeyboard})
				return err
			},
			func(ctx context.Context, chatID int64, msgID int) error {
				return ours.apiEditMessageReplyMarkup(ctx, chatID, msgID, emptyKeyboard)
			},
		},
	}

	nextUser := int64(8000)
	// target is a fresh private chat and a message with buttons in it.
	target := func() (int64, int) {
		nextUser++
		u := telegramtest.User{ID: nextUser, FirstName: "测"}
		tg.AddUser(u)
		id, err := ours.apiSendMessage(ctx, u.ID, "带按钮", keyboard([][]flows.Button{{{Text: "甲", Data: "a"}, {Text: "乙", Data: "b"}}}))
		if err != nil {
			t.Fatalf("sendMessage: %v", err)
		}
		return u.ID, id
	}
	run := func(c call, chatID int64, msgID int) apiTestOutcome {
		var h senderTestHooks
		var o apiTestOutcome
		clock := newSenderFakeClock()
		hooks := h.hooks()
		hooks.On429 = func(_ int64, d time.Duration) {
			h.flood.Add(1)
			o.pausedFor = d == 2*time.Second
		}
		s := NewSender(Limits{}, nil,
			WithSenderMaxAttempts(4),
			WithSenderBackoff(time.Millisecond, 4*time.Millisecond),
			WithSenderMaxPause(10*time.Second),
			WithSenderClock(clock.now, clock.sleep),
			WithRedactToken(testToken),
			WithSenderCallbacks(hooks))
		err := s.Do(ctx, chatID, func(ctx context.Context) error { return c(ctx, chatID, msgID) })
		if err != nil {
			o.err = strings.ReplaceAll(err.Error(), fmt.Sprint(chatID), "<chat>")
			o.blocked = errors.Is(err, ErrBlocked)
			o.badRequest = errors.Is(err, tgbot.ErrorBadRequest)
			var mig *MigratedError
			if errors.As(err, &mig) {
				o.migratedTo = mig.NewChatID / chatID // MigrateGroup below moves to chat*10000
			}
			var flood *tgbot.TooManyRequestsError
			if errors.As(err, &flood) {
				o.retryAfter = flood.RetryAfter
			}
			o.showsToken = strings.Contains(o.err, testToken)
		}
		o.sent, o.flood, o.retried, o.failed = h.sent.Load(), h.flood.Load(), h.retry.Load(), h.failed.Load()
		o.attempts = h.lastAttempts.Load()
		if o.flood == 0 {
			o.slept = clock.slept // backoff delays are jittered: compare only 0 / not 0
			if o.slept > 0 {
				o.slept = 1
			}
		} else {
			o.slept = clock.slept
		}
		return o
	}

	scenarios := []struct {
		name  string
		setup func(method string, chatID int64) (int64, int) // plants the failure, returns the target
		check func(t *testing.T, o apiTestOutcome)
	}{
		{"ok", func(string, int64) (int64, int) { return target() }, func(t *testing.T, o apiTestOutcome) {
			if o.err != "" || o.sent != 1 || o.attempts != 1 {
				t.Errorf("want one successful attempt, got %+v", o)
			}
		}},
		{"500 twice", func(method string, _ int64) (int64, int) {
			chat, msg := target()
			tg.FailNext(method, 500, 0)
			tg.FailNext(method, 500, 0)
			return chat, msg
		}, func(t *testing.T, o apiTestOutcome) {
			if o.err != "" || o.attempts != 3 || o.retried != 2 || o.slept == 0 {
				t.Errorf("want success after two retries with backoff, got %+v", o)
			}
		}},
		{"500 forever", func(method string, _ int64) (int64, int) {
			chat, msg := target()
			for range 4 {
				tg.FailNext(method, 502, 0)
			}
			return chat, msg
		}, func(t *testing.T, o apiTestOutcome) {
			if !strings.Contains(o.err, "giving up after 4 attempts") || o.failed != 1 {
				t.Errorf("want giving up after 4 attempts, got %+v", o)
			}
		}},
		{"429", func(method string, _ int64) (int64, int) {
			chat, msg := target()
			tg.FailNext(method, 429, 2)
			return chat, msg
		}, func(t *testing.T, o apiTestOutcome) {
			if o.err != "" || o.flood != 1 || !o.pausedFor || o.slept != 2*time.Second || o.attempts != 2 {
				t.Errorf("want a 2 s pause for everyone, then success, got %+v", o)
			}
		}},
		{"429 too long", func(method string, _ int64) (int64, int) {
			chat, msg := target()
			tg.FailNext(method, 429, 3600)
			return chat, msg
		}, func(t *testing.T, o apiTestOutcome) {
			if o.retryAfter != 3600 || o.flood != 1 || o.slept != 0 || o.attempts != 1 {
				t.Errorf("want the 429 error without pausing, got %+v", o)
			}
		}},
		{"403 planted", func(method string, _ int64) (int64, int) {
			chat, msg := target()
			tg.FailNext(method, 403, 0)
			return chat, msg
		}, func(t *testing.T, o apiTestOutcome) {
			if !o.blocked || o.attempts != 1 {
				t.Errorf("want ErrBlocked after one attempt, got %+v", o)
			}
		}},
		{"blocked", func(string, int64) (int64, int) {
			chat, msg := target()
			tg.Block(chat)
			return chat, msg
		}, func(t *testing.T, o apiTestOutcome) {
			if !o.blocked || o.attempts != 1 || !strings.Contains(o.err, "bot was blocked by the user") {
				t.Errorf("want ErrBlocked after one attempt, got %+v", o)
			}
		}},
		{"group migrated", func(_ string, n int64) (int64, int) {
			old := -200000 - n
			tg.AddGroup(telegramtest.Chat{ID: old, Type: telegramtest.ChatGroup, Title: "办公室"})
			msg, err := ours.apiSendMessage(ctx, old, "群消息", keyboard([][]flows.Button{{{Text: "甲", Data: "a"}}}))
			if err != nil {
				t.Fatal(err)
			}
			tg.MigrateGroup(old, old*10000)
			return old, msg
		}, func(t *testing.T, o apiTestOutcome) {
			if o.migratedTo != 10000 || o.attempts != 1 {
				t.Errorf("want a MigratedError after one attempt, got %+v", o)
			}
		}},
		{"chat not found", func(string, int64) (int64, int) { return 424242, 1 }, func(t *testing.T, o apiTestOutcome) {
			if !o.badRequest || o.blocked || o.attempts != 1 {
				t.Errorf("want a permanent bad request, got %+v", o)
			}
		}},
	}
	group := int64(0)
	for _, sc := range scenarios {
		for method, pair := range calls {
			t.Run(sc.name+"/"+method, func(t *testing.T) {
				var got [2]apiTestOutcome
				for i, c := range pair {
					group++
					chat, msg := sc.setup(method, group)
					got[i] = run(c, chat, msg)
				}
				if got[1].err != got[0].err {
					t.Errorf("error text differs:\n go-telegram: %s\n ours:        %s", got[0].err, got[1].err)
				}
				sc.check(t, got[1])
				if got[0] != got[1] {
					t.Errorf("the Sender saw\n go-telegram: %+v\n ours:        %+v", got[0], got[1])
				}
				if got[1].showsToken {
					t.Errorf("the error shows the token")
				}
			})
		}
	}
	// "message is not modified" is success for both.
	chat, msg := target()
	for i, c := range calls["editMessageReplyMarkup"] {
		if o := run(c, chat, msg); o.err != "" || o.sent != 1 {
			t.Errorf("call %d: editMessageReplyMarkup to the same markup: %+v, want success", i, o)
		}
	}
}

// TestAPICallsOnTheWire: what our calls send is what the fake stores, the
// message id comes back, and answerCallbackQuery reaches the query.
func TestAPICallsOnTheWire(t *testing.T) {
	tg := telegramtest.MustStart(t, telegramtest.Options{Token: testToken})
	b := apiTestBot(tg.URL())
	ctx := context.Background()
	u := telegramtest.User{ID: 8101, FirstName: "乙"}
	tg.AddUser(u)
	text := "第一行\n\"引号\" \\ <b>&</b>\t😀 \u2028 end"
	id, err := b.apiSendMessage(ctx, u.ID, text, keyboard([][]flows.Button{{{Text: "选 A", Data: "q1:a"}, {Text: "B", Data: "q1:b"}}, {{Text: "确认", Data: "q1:ok"}}}))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := tg.LastMessage(u.ID)
	if !ok || m.MessageID != id || m.Text != text {
		t.Fatalf("stored message %+v (found %v), want id %d text %q", m, ok, id, text)
	}
	if len(m.Keyboard) != 2 || len(m.Keyboard[0]) != 2 || m.Keyboard[0][0].Text != "选 A" || m.Keyboard[0][0].Data != "q1:a" || m.Keyboard[1][0].Data != "q1:ok" {
		t.Fatalf("stored buttons %+v", m.Keyboard)
	}
	up, err := tg.Press(u, u.ID, id, "q1:ok")
	if err != nil {
		t.Fatal(err)
	}
	cq, ok := tg.Callback(up)
	if !ok {
		t.Fatal("no callback query for the press")
	}
	if err := b.apiAnswerCallbackQuery(ctx, cq.ID, "已收到"); err != nil {
		t.Fatalf("answerCallbackQuery: %v", err)
	}
	if cq, _ = tg.Callback(up); !cq.Answered || cq.Text != "已收到" {
		t.Errorf("callback query after answering: %+v", cq)
	}
	if err := b.apiEditMessageText(ctx, u.ID, id, "改过了", nil); err != nil {
		t.Fatal(err)
	}
	if m, _ = tg.LastMessage(u.ID); m.Text != "改过了" || len(m.Keyboard) != 0 {
		t.Errorf("after editMessageText without buttons: %+v", m)
	}
	if err := b.apiEditMessageReplyMarkup(ctx, u.ID, id, keyboard([][]flows.Button{{{Text: "新", Data: "n"}}})); err != nil {
		t.Fatal(err)
	}
	if m, _ = tg.LastMessage(u.ID); len(m.Keyboard) != 1 || m.Keyboard[0][0].Data != "n" {
		t.Errorf("after editMessageReplyMarkup: %+v", m)
	}
	if err := b.apiEditMessageReplyMarkup(ctx, u.ID, id, emptyKeyboard); err != nil {
		t.Fatal(err)
	}
	if m, _ = tg.LastMessage(u.ID); len(m.Keyboard) != 0 {
		t.Errorf("after removing the keyboard: %+v", m)
	}
}

// TestAPICallsTransportErrors: a network error is classified as transient,
// shows no token, and a proxy's non-JSON answer is transient too.
func TestAPICallsTransportErrors(t *testing.T) {
	tg := telegramtest.New(telegramtest.Options{Token: testToken})
	url := tg.URL()
	tg.Close()
	b := apiTestBot(url)
	_, err := b.apiSendMessage(context.Background(), 1, "x", nil)
	if err == nil {
		t.Fatal("sendMessage to a closed server succeeded")
	}
	if senderClassify(err) != senderTransient {
		t.Errorf("network error %v classified %v, want transient", err, senderClassify(err))
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("network error shows the token: %v", err)
	}

	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()
	b = apiTestBot(proxy.URL)
	if _, err := b.apiSendMessage(context.Background(), 1, "x", nil); senderClassify(err) != senderTransient {
		t.Errorf("proxy page: %v classified %v, want transient", err, senderClassify(err))
	}
}

// appendJSONString and appendKeyboard encode as encoding/json does (without
// its HTML escaping).
func TestAppendJSON(t *testing.T) {
	for _, s := range []string{"", "abc", "问题 1/3", "a\"b\\c", "\x00\x01\x1f\x7f", "\n\r\t\b\f", "<>&", "😀", "\u2028\u2029", "bad \xff\xfe utf8 \xe4\xb8", "x\u00e9y"} {
		if got, want := string(appendJSONString(nil, s)), apiTestMarshal(t, s); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
	kb := keyboard([][]flows.Button{{{Text: "是\"", Data: "q:1"}, {Text: "否", Data: "q:0"}}, {{Text: "<返回>", Data: "back"}}})
	if got, want := string(appendKeyboard(nil, kb)), apiTestMarshal(t, kb); got != want {
		t.Errorf("appendKeyboard = %s, want %s", got, want)
	}
	if got, want := string(appendKeyboard(nil, emptyKeyboard)), apiTestMarshal(t, emptyKeyboard); got != want {
		t.Errorf("appendKeyboard(empty) = %s, want %s", got, want)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("问题\n\"x\"")
	f.Add("\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		if want := apiTestMarshal(t, s); string(got) != want {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
	})
}

func apiTestMarshal(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// apiFastOK agrees with decoding the whole answer where it answers at all.
func TestAPIFastOK(t *testing.T) {
	for _, tt := range []struct {
		body string
		id   int
		ok   bool
	}{
		{`{"ok":true,"result":{"message_id":123,"date":1,"chat":{"id":5}}}`, 123, true},
		{`{"ok":true,"result":{"message_id":7}}`, 7, true},
		{`{"ok":true,"result":true}`, 0, true},
		{"{\"ok\":true,\"result\":true}\n", 0, true},
		{`{"ok":true,"result":{"message_id":-1}}`, 0, false},
		{`{"ok":true,"result":{"message_id":12x}}`, 0, false},
		{`{"ok":true,"result":{"message_id":`, 0, false},
		{`{"ok":true,"result":{"chat":{"id":5},"message_id":9}}`, 0, false},
		{`{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":3}}`, 0, false},
		{`{"result":true,"ok":true}`, 0, false},
	} {
		id, ok := apiFastOK([]byte(tt.body))
		if id != tt.id || ok != tt.ok {
			t.Errorf("apiFastOK(%s) = %d, %v; want %d, %v", tt.body, id, ok, tt.id, tt.ok)
		}
		if !ok {
			continue
		}
		var a apiAnswer
		if err := json.Unmarshal([]byte(tt.body), &a); err != nil || !a.OK || a.Result.MessageID != id {
			t.Errorf("decoding %s: %+v, %v; the fast path said %d", tt.body, a, err, id)
		}
	}
}
