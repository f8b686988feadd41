package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"reportbot/bot/telegram"
	"reportbot/bot/telegramtest"
)

// target is where a call under test goes: a chat and a message with
// buttons in it.
type target struct {
	chat int64
	msg  int
}

// errorCall is one client method under test.
type errorCall struct {
	method string
	noChat bool // the call has no chat: chat-state scenarios do not apply
	do     func(ctx context.Context, c *telegram.Client, tg target) error
}

var errorCalls = []errorCall{
	{"sendMessage", false, func(ctx context.Context, c *telegram.Client, tg target) error {
		_, err := c.SendMessage(ctx, tg.chat, "问题", telegram.Keyboard{{{Text: "是", Data: "q:1"}}})
		return err
	}},
	{"editMessageText", false, func(ctx context.Context, c *telegram.Client, tg target) error {
		return c.EditMessageText(ctx, tg.chat, tg.msg, "已改", nil)
	}},
	{"editMessageReplyMarkup", false, func(ctx context.Context, c *telegram.Client, tg target) error {
		return c.EditMessageReplyMarkup(ctx, tg.chat, tg.msg, telegram.Keyboard{})
	}},
	{"sendDocument", false, func(ctx context.Context, c *telegram.Client, tg target) error {
		_, err := c.SendDocument(ctx, tg.chat, telegram.InputFile{Name: "回执.pdf", Data: []byte("%PDF")}, "回执")
		return err
	}},
	{"sendMediaGroup", false, func(ctx context.Context, c *telegram.Client, tg target) error {
		_, err := c.SendMediaGroup(ctx, tg.chat, []telegram.InputMedia{
			{File: telegram.InputFile{Name: "a.pdf", Data: []byte("a")}},
			{File: telegram.InputFile{Name: "b.pdf", Data: []byte("b")}},
		})
		return err
	}},
	{"getUpdates", true, func(ctx context.Context, c *telegram.Client, _ target) error {
		_, err := c.GetUpdates(ctx, 0, 0, 0, nil)
		return err
	}},
	{"getMe", true, func(ctx context.Context, c *telegram.Client, _ target) error {
		_, err := c.GetMe(ctx)
		return err
	}},
}

// TestClassifyAnswers plants every failure the fake can produce under every
// kind of call and checks the outcome, the *Error's fields and that no
// error text shows the token.
func TestClassifyAnswers(t *testing.T) {
	srv, c := mustStart(t, telegramtest.Options{})
	nextChat := int64(8000)
	fresh := func(t *testing.T) target {
		nextChat++
		srv.AddUser(telegramtest.User{ID: nextChat, FirstName: "测"})
		id, err := c.SendMessage(testContext(t), nextChat, "带按钮", telegram.Keyboard{{{Text: "甲", Data: "a"}}})
		if err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		return target{nextChat, id}
	}
	timeout := func(d time.Duration) func() (context.Context, context.CancelFunc) {
		return func() (context.Context, context.CancelFunc) { return context.WithTimeout(context.Background(), d) }
	}
	cancelled := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(150*time.Millisecond, cancel)
		return ctx, cancel
	}

	type want struct {
		outcome    telegram.Outcome
		code       int // of the *Error; 0: not an *Error
		retryAfter time.Duration
		migrateTo  int64
		desc       string // in the *Error's description
	}
	scenarios := []struct {
		name     string
		chatOnly bool
		ctx      func() (context.Context, context.CancelFunc)
		plant    func(t *testing.T, method string) target
		want     want
	}{
		{name: "429", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FailNext(m, 429, 3)
			return tg
		}, want: want{telegram.Flood, 429, 3 * time.Second, 0, "Too Many Requests: retry after 3"}},
		{name: "403", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FailNext(m, 403, 0)
			return tg
		}, want: want{telegram.Blocked, 403, 0, 0, "bot was blocked by the user"}},
		{name: "blocked", chatOnly: true, plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.Block(tg.chat)
			return tg
		}, want: want{telegram.Blocked, 403, 0, 0, "Forbidden: bot was blocked by the user"}},
		{name: "migrated", chatOnly: true, plant: func(t *testing.T, m string) target {
			nextChat++
			old := -nextChat
			srv.AddGroup(telegramtest.Chat{ID: old, Type: telegramtest.ChatGroup})
			id, err := c.SendMessage(testContext(t), old, "群消息", telegram.Keyboard{{{Text: "甲", Data: "a"}}})
			if err != nil {
				t.Fatal(err)
			}
			srv.MigrateGroup(old, -1000000000000-nextChat)
			return target{old, id}
		}, want: want{telegram.Migrated, 400, 0, -1, "upgraded to a supergroup"}},
		{name: "chat not found", chatOnly: true, plant: func(*testing.T, string) target {
			return target{424242, 1}
		}, want: want{telegram.Permanent, 400, 0, 0, "Bad Request: chat not found"}},
		{name: "500", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FailNext(m, 500, 0)
			return tg
		}, want: want{telegram.Transient, 500, 0, 0, "Internal Server Error"}},
		{name: "502 envelope", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FailNext(m, 502, 0)
			return tg
		}, want: want{telegram.Transient, 502, 0, 0, "Bad Gateway"}},
		{name: "proxy 502 page", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FaultNext(m, telegramtest.FaultBadGateway)
			return tg
		}, want: want{telegram.Transient, 502, 0, 0, "Bad Gateway (text/html): <html> <head><title>502 Bad Gateway"}},
		{name: "dropped connection", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FaultNext(m, telegramtest.FaultDrop)
			return tg
		}, want: want{outcome: telegram.Transient}},
		{name: "truncated answer", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FaultNext(m, telegramtest.FaultTruncate)
			return tg
		}, want: want{outcome: telegram.Transient}},
		{name: "answer lost", plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FaultNext(m, telegramtest.FaultLoseAnswer)
			return tg
		}, want: want{outcome: telegram.Transient}},
		{name: "timeout", ctx: timeout(200 * time.Millisecond), plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FaultNext(m, telegramtest.FaultStall)
			return tg
		}, want: want{outcome: telegram.Transient}},
		{name: "cancelled", ctx: cancelled, plant: func(t *testing.T, m string) target {
			tg := fresh(t)
			srv.FaultNext(m, telegramtest.FaultStall)
			return tg
		}, want: want{outcome: telegram.Permanent}},
	}
	for _, sc := range scenarios {
		for _, call := range errorCalls {
			if sc.chatOnly && call.noChat {
				continue
			}
			t.Run(sc.name+"/"+call.method, func(t *testing.T) {
				tg := sc.plant(t, call.method)
				ctx, cancel := testContext(t), context.CancelFunc(func() {})
				if sc.ctx != nil {
					ctx, cancel = sc.ctx()
				}
				defer cancel()
				err := call.do(ctx, c, tg)
				checkNoToken(t, err)
				if got := telegram.Classify(err); got != sc.want.outcome {
					t.Errorf("%s: %v classified %v, want %v", call.method, err, got, sc.want.outcome)
				}
				var te *telegram.Error
				isTE := errors.As(err, &te)
				if sc.want.code == 0 {
					if isTE {
						t.Errorf("%s: %v is a *telegram.Error, want a transport error", call.method, err)
					}
					return
				}
				if !isTE {
					t.Fatalf("%s: %v (%T) is not a *telegram.Error", call.method, err, err)
				}
				if te.Method != call.method || te.Code != sc.want.code || te.RetryAfter != sc.want.retryAfter || !strings.Contains(te.Description, sc.want.desc) {
					t.Errorf("%s: %+v, want method %s, code %d, retry after %v, description with %q", call.method, te, call.method, sc.want.code, sc.want.retryAfter, sc.want.desc)
				}
				if sc.want.migrateTo != 0 && te.MigrateTo != -1000000000000+tg.chat {
					t.Errorf("%s: MigrateTo %d, want %d", call.method, te.MigrateTo, -1000000000000+tg.chat)
				}
				if sc.want.migrateTo == 0 && te.MigrateTo != 0 {
					t.Errorf("%s: MigrateTo %d, want none", call.method, te.MigrateTo)
				}
				if !strings.HasPrefix(err.Error(), "telegram "+call.method+": ") {
					t.Errorf("error text %q, want it to start with the method", err)
				}
			})
		}
	}

	// A lost answer is a send that happened: the message is there.
	tg := fresh(t)
	srv.FaultNext("sendMessage", telegramtest.FaultLoseAnswer)
	if _, err := c.SendMessage(testContext(t), tg.chat, "丢失的确认", nil); telegram.Classify(err) != telegram.Transient {
		t.Errorf("lost answer: %v, want transient", err)
	}
	if m, _ := srv.LastMessage(tg.chat); m.Text != "丢失的确认" {
		t.Errorf("after a lost answer the chat's last message is %q, want the message sent", m.Text)
	}
}

// checkNoToken fails if err or any *url.Error in it shows the token.
func checkNoToken(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded, want an error")
	}
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), url.PathEscape(token)) {
		t.Errorf("error shows the token: %v", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.URL, token) {
		t.Errorf("the *url.Error's URL shows the token: %s", ue.URL)
	}
}

func TestTransportErrors(t *testing.T) {
	srv := telegramtest.New(telegramtest.Options{Token: token})
	addr := srv.URL()
	srv.Close()
	c := newClient(t, addr)
	ctx := testContext(t)
	_, err := c.SendMessage(ctx, 1, "x", nil)
	checkNoToken(t, err)
	if telegram.Classify(err) != telegram.Transient {
		t.Errorf("sendMessage to a closed server: %v classified %v, want transient", err, telegram.Classify(err))
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !strings.Contains(ue.URL, "/bot<redacted>/sendMessage") {
		t.Errorf("sendMessage to a closed server: %v, want a *url.Error with the redacted URL", err)
	}
	_, err = c.Download(ctx, "f", 10)
	checkNoToken(t, err)
	if telegram.Classify(err) != telegram.Transient {
		t.Errorf("download from a closed server: %v, want transient", err)
	}

	// A file download that fails in transport: the file URL carries the token.
	fileSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/getFile") {
			_, _ = io.WriteString(w, `{"ok":true,"result":{"file_id":"f","file_size":3,"file_path":"documents/a.pdf"}}`)
			return
		}
		panic(http.ErrAbortHandler)
	}))
	defer fileSrv.Close()
	_, err = newClient(t, fileSrv.URL).Download(ctx, "f", 10)
	checkNoToken(t, err)
	if !errors.As(err, &ue) || !strings.Contains(ue.URL, "/file/bot<redacted>/documents/a.pdf") || telegram.Classify(err) != telegram.Transient {
		t.Errorf("dropped download: %v, want a transient *url.Error with the redacted file URL", err)
	}

	wrong := telegram.New(mustStartURL(t), "999:wrong", nil)
	_, err = wrong.GetMe(ctx)
	var te *telegram.Error
	if !errors.As(err, &te) || te.Code != 401 || telegram.Classify(err) != telegram.Permanent {
		t.Errorf("GetMe with a wrong token: %v, want a permanent 401 *Error", err)
	}
}

func mustStartURL(t *testing.T) string {
	srv := telegramtest.MustStart(t, telegramtest.Options{Token: token})
	return srv.URL()
}

// TestProxyAnswers: answers that are not the Bot API's envelope become
// bare *Errors classified by HTTP status alone, with the token cut out of
// the quoted body.
func TestProxyAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		outcome    telegram.Outcome
		retryAfter time.Duration
	}{
		{"502 page", 502, map[string]string{"Content-Type": "text/html"}, "<html>502 Bad Gateway</html>", telegram.Transient, 0},
		{"504 empty", 504, nil, "", telegram.Transient, 0},
		{"403 page echoing the URL", 403, map[string]string{"Content-Type": "text/html"}, "<p>Forbidden: POST /bot" + token + "/sendMessage</p>", telegram.Permanent, 0},
		{"404 with an escaped token", 404, nil, "no route /bot" + url.PathEscape(token) + "/x and bot42:other-token", telegram.Permanent, 0},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, "slow down", telegram.Flood, 7 * time.Second},
		{"200 HTML", 200, map[string]string{"Content-Type": "text/html"}, "<html>captive portal</html>", telegram.Permanent, 0},
		{"JSON without ok", 500, map[string]string{"Content-Type": "application/json"}, `{"error":"upstream"}`, telegram.Transient, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer hs.Close()
			_, err := newClient(t, hs.URL).SendMessage(testContext(t), 1, "x", nil)
			checkNoToken(t, err)
			if strings.Contains(err.Error(), "42:other-token") {
				t.Errorf("error shows another token: %v", err)
			}
			var te *telegram.Error
			if !errors.As(err, &te) || te.Code != tt.status || te.Method != "sendMessage" || te.RetryAfter != tt.retryAfter {
				t.Fatalf("SendMessage: %v, want a *Error with code %d, retry after %v", err, tt.status, tt.retryAfter)
			}
			if got := telegram.Classify(err); got != tt.outcome {
				t.Errorf("SendMessage: %v classified %v, want %v", err, got, tt.outcome)
			}
			if telegram.IsNotModified(err) {
				t.Errorf("IsNotModified(%v) = true", err)
			}
		})
	}
}

// TestAnswers: how SendMessage reads answers, the fast path's and the
// others.
func TestAnswers(t *testing.T) {
	tests := []struct {
		body    string
		id      int
		outcome telegram.Outcome
		isError bool
	}{
		{`{"ok":true,"result":{"message_id":42,"date":1}}`, 42, telegram.OK, false},
		{`{"ok":true,"result":{"chat":{"id":5},"message_id":43}}`, 43, telegram.OK, false},
		{` {"result":{"message_id":44},"ok":true}`, 44, telegram.OK, false},
		{`{"ok":true,"result":true}`, 0, telegram.OK, false},
		{`{"ok":true,"result":{"message_id":"x"}}`, 0, telegram.Permanent, false},
		{`{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: specified new message content and reply markup are exactly the same"}`, 0, telegram.NotModified, true},
		{`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-100123}}`, 0, telegram.Migrated, true},
		{`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`, 0, telegram.Flood, true},
		{`{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}`, 0, telegram.Blocked, true},
		{`{"ok":false,"error_code":401,"description":"Unauthorized"}`, 0, telegram.Permanent, true},
		{`{"ok":true,"result":{"message_id":`, 0, telegram.Permanent, true},
	}
	for _, tt := range tests {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, tt.body)
		}))
		id, err := newClient(t, hs.URL).SendMessage(testContext(t), 1, "x", nil)
		hs.Close()
		var te *telegram.Error
		if id != tt.id || telegram.Classify(err) != tt.outcome || errors.As(err, &te) != tt.isError {
			t.Errorf("answer %s: SendMessage = %d, %v (classified %v); want %d, %v, *Error %v", tt.body, id, err, telegram.Classify(err), tt.id, tt.outcome, tt.isError)
		}
		if tt.outcome == telegram.Migrated && te.MigrateTo != -100123 {
			t.Errorf("answer %s: MigrateTo %d, want -100123", tt.body, te.MigrateTo)
		}
		if tt.outcome == telegram.Flood && te.RetryAfter != 5*time.Second {
			t.Errorf("answer %s: RetryAfter %v, want 5s", tt.body, te.RetryAfter)
		}
	}
}

func TestClassifyOtherErrors(t *testing.T) {
	flood := &telegram.Error{Method: "sendMessage", Code: 429, RetryAfter: time.Second}
	tests := []struct {
		err  error
		want telegram.Outcome
	}{
		{nil, telegram.OK},
		{errors.New("something else"), telegram.Permanent},
		{fmt.Errorf("send to chat 5: %w", flood), telegram.Flood},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", &telegram.Error{Code: 403})), telegram.Blocked},
		{&telegram.Error{Code: 400, Description: "Bad Request: MESSAGE IS NOT MODIFIED"}, telegram.NotModified},
		{&telegram.Error{Code: 400, Description: "Bad Request: chat not found"}, telegram.Permanent},
		{&telegram.Error{Code: 400, MigrateTo: -100}, telegram.Migrated},
		{&telegram.Error{Code: 503}, telegram.Transient},
		{&telegram.Error{Code: 409}, telegram.Permanent},
		{context.DeadlineExceeded, telegram.Transient},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), telegram.Transient},
		{&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, telegram.Transient},
		{&url.Error{Op: "Post", URL: "http://x", Err: io.EOF}, telegram.Transient},
		{&url.Error{Op: "Post", URL: "http://x", Err: context.Canceled}, telegram.Permanent},
		{errors.Join(errors.New("x"), flood), telegram.Flood},
	}
	for _, tt := range tests {
		if got := telegram.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	names := map[telegram.Outcome]string{telegram.OK: "ok", telegram.NotModified: "not modified", telegram.Permanent: "permanent",
		telegram.Transient: "transient", telegram.Flood: "flood", telegram.Blocked: "blocked", telegram.Migrated: "migrated", 99: "Outcome(99)"}
	for o, want := range names {
		if o.String() != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), o.String(), want)
		}
	}
}

func TestRedact(t *testing.T) {
	c := telegram.New("https://api.telegram.org/", token, nil)
	if c.Redact(nil) != nil {
		t.Errorf("Redact(nil) != nil")
	}
	clean := errors.New("nothing secret")
	if got := c.Redact(clean); got != clean {
		t.Errorf("Redact of a clean error = %v, want the error itself", got)
	}
	ue := &url.Error{Op: "Post", URL: "https://api.telegram.org/bot" + token + "/sendMessage", Err: io.EOF}
	foreign := fmt.Errorf("send: %w; also %s and bot77:AAH-other_token", ue, token)
	got := c.Redact(foreign)
	for _, secret := range []string{token, "77:AAH-other_token"} {
		if strings.Contains(got.Error(), secret) {
			t.Errorf("Redact(%q) = %q, still shows %s", foreign, got, secret)
		}
	}
	var back *url.Error
	if !errors.As(got, &back) || back.URL != "https://api.telegram.org/bot<redacted>/sendMessage" || !errors.Is(got, io.EOF) {
		t.Errorf("Redact(%v) lost the wrapped errors or left the URL: %v", foreign, back)
	}
	if telegram.Classify(got) != telegram.Transient {
		t.Errorf("a redacted transport error classified %v, want transient", telegram.Classify(got))
	}
}
