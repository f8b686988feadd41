package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	tgbot "github.com/go-telegram/bot"

	"reportbot/bot/telegramtest"
)

// senderTestToken looks like a real token so that the pattern-based
// redaction is exercised too.
const senderTestToken = "123456789:AAH-test_TOKEN-do-not-leak-0123456789"

// senderTestReply is one scripted answer of the fake Bot API.
type senderTestReply struct {
	status int
	body   string
}

func senderOKReply() senderTestReply {
	return senderTestReply{200, `{"ok":true,"result":{"message_id":7,"date":1700000000,"chat":{"id":42,"type":"private"},"text":"hi"}}`}
}

func senderErrReply(code int, description, parameters string) senderTestReply {
	body := fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q`, code, description)
	if parameters != "" {
		body += `,"parameters":` + parameters
	}
	return senderTestReply{code, body + "}"}
}

// senderTestAPI is a minimal Bot API: it checks the request path and
// answers with the reply its function picks for the n-th request (from 0).
type senderTestAPI struct {
	srv   *httptest.Server
	bot   *tgbot.Bot
	calls atomic.Int64
}

func senderStartAPI(tb testing.TB, reply func(n int, r *http.Request) senderTestReply) *senderTestAPI {
	tb.Helper()
	api := &senderTestAPI{}
	api.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(api.calls.Add(1) - 1)
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/bot"+senderTestToken+"/") {
			http.Error(w, `{"ok":false,"error_code":404,"description":"Not Found"}`, http.StatusNotFound)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, `{"ok":false,"error_code":400,"description":"Bad Request: bad form"}`, http.StatusBadRequest)
			return
		}
		rep := reply(n, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = w.Write([]byte(rep.body))
	}))
	tb.Cleanup(api.srv.Close)
	b, err := tgbot.New(senderTestToken,
		tgbot.WithServerURL(api.srv.URL),
		tgbot.WithSkipGetMe(),
		tgbot.WithErrorsHandler(func(error) {}),
	)
	if err != nil {
		tb.Fatalf("tgbot.New: %v", err)
	}
	api.bot = b
	return api
}

// send is a call for Sender.Do: one sendMessage to chatID.
func (api *senderTestAPI) send(chatID int64) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := api.bot.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: "hi"})
		return err
	}
}

// senderTestHooks counts hook calls.
type senderTestHooks struct {
	sent, flood, retry, failed atomic.Int64
	lastAttempts               atomic.Int64
}

func (h *senderTestHooks) hooks() SenderHooks {
	return SenderHooks{
		OnSent: func(_ int64, attempts int, _ time.Duration) {
			h.sent.Add(1)
			h.lastAttempts.Store(int64(attempts))
		},
		On429:   func(int64, time.Duration) { h.flood.Add(1) },
		OnRetry: func(int64, int, time.Duration, error) { h.retry.Add(1) },
		OnFailed: func(_ int64, attempts int, _ error) {
			h.failed.Add(1)
			h.lastAttempts.Store(int64(attempts))
		},
	}
}

func TestSenderOutcomes(t *testing.T) {
	notModified := "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	tests := []struct {
		name     string
		chatID   int64
		replies  []senderTestReply // the last one repeats
		edit     bool              // editMessageText instead of sendMessage
		wantErr  func(error) string
		wantHits int
	}{
		{
			name:     "ok",
			chatID:   42,
			replies:  []senderTestReply{senderOKReply()},
			wantHits: 1,
		},
		{
			name:   "500 twice then ok",
			chatID: 42,
			replies: []senderTestReply{
				senderErrReply(500, "Internal Server Error", ""),
				senderErrReply(500, "Internal Server Error", ""),
				senderOKReply(),
			},
			wantHits: 3,
		},
		{
			name:   "proxy 502 page then ok",
			chatID: 42,
			replies: []senderTestReply{
				{502, "<html><body><h1>502 Bad Gateway</h1></body></html>"},
				senderOKReply(),
			},
			wantHits: 2,
		},
		{
			name:     "500 forever gives up",
			chatID:   42,
			replies:  []senderTestReply{senderErrReply(500, "Internal Server Error", "")},
			wantHits: 4,
			wantErr: func(err error) string {
				if !strings.Contains(err.Error(), "giving up after 4 attempts") {
					return "want giving up after 4 attempts"
				}
				return ""
			},
		},
		{
			name:     "403 blocked",
			chatID:   42,
			replies:  []senderTestReply{senderErrReply(403, "Forbidden: bot was blocked by the user", "")},
			wantHits: 1,
			wantErr: func(err error) string {
				if !errors.Is(err, ErrBlocked) || !errors.Is(err, tgbot.ErrorForbidden) {
					return "want ErrBlocked wrapping tgbot.ErrorForbidden"
				}
				return ""
			},
		},
		{
			name:     "400 not modified is success",
			chatID:   42,
			edit:     true,
			replies:  []senderTestReply{senderErrReply(400, notModified, "")},
			wantHits: 1,
		},
		{
			name:     "400 chat not found",
			chatID:   42,
			replies:  []senderTestReply{senderErrReply(400, "Bad Request: chat not found", "")},
			wantHits: 1,
			wantErr: func(err error) string {
				if !errors.Is(err, tgbot.ErrorBadRequest) || errors.Is(err, ErrBlocked) {
					return "want tgbot.ErrorBadRequest, not ErrBlocked"
				}
				return ""
			},
		},
		{
			name:     "401 unauthorized",
			chatID:   42,
			replies:  []senderTestReply{senderErrReply(401, "Unauthorized", "")},
			wantHits: 1,
			wantErr: func(err error) string {
				if !errors.Is(err, tgbot.ErrorUnauthorized) {
					return "want tgbot.ErrorUnauthorized"
				}
				return ""
			},
		},
		{
			name:     "other 4xx",
			chatID:   42,
			replies:  []senderTestReply{senderErrReply(413, "Request Entity Too Large", "")},
			wantHits: 1,
			wantErr: func(err error) string {
				if !strings.Contains(err.Error(), "413") {
					return "want the 413 in the error"
				}
				return ""
			},
		},
		{
			name:   "group migrated",
			chatID: -42,
			replies: []senderTestReply{senderErrReply(400, "Bad Request: group chat was upgraded to a supergroup chat",
				`{"migrate_to_chat_id":-1001234567890}`)},
			wantHits: 1,
			wantErr: func(err error) string {
				var mig *MigratedError
				if !errors.As(err, &mig) {
					return "want *MigratedError"
				}
				if mig.ChatID != -42 || mig.NewChatID != -1001234567890 {
					return fmt.Sprintf("got MigratedError{%d, %d}, want {-42, -1001234567890}", mig.ChatID, mig.NewChatID)
				}
				var lib *tgbot.MigrateError
				if !errors.As(err, &lib) {
					return "want it to unwrap to *tgbot.MigrateError"
				}
				return ""
			},
		},
		{
			name:     "429 longer than the longest pause",
			chatID:   42,
			replies:  []senderTestReply{senderErrReply(429, "Too Many Requests: retry after 3600", `{"retry_after":3600}`)},
			wantHits: 1,
			wantErr: func(err error) string {
				var flood *tgbot.TooManyRequestsError
				if !errors.As(err, &flood) || flood.RetryAfter != 3600 {
					return "want *tgbot.TooManyRequestsError with RetryAfter 3600"
				}
				return ""
			},
		},
		{
			name:     "token in a description is redacted",
			chatID:   42,
			replies:  []senderTestReply{senderErrReply(400, "Bad Request: wrong file https://api.telegram.org/file/bot"+senderTestToken+"/docs/a.xlsx", "")},
			wantHits: 1,
			wantErr: func(err error) string {
				if !errors.Is(err, tgbot.ErrorBadRequest) {
					return "want tgbot.ErrorBadRequest"
				}
				if !strings.Contains(err.Error(), "/file/bot<redacted>/docs/a.xlsx") {
					return "want the file URL with the token cut out"
				}
				return ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := senderStartAPI(t, func(n int, _ *http.Request) senderTestReply {
				return tt.replies[min(n, len(tt.replies)-1)]
			})
			var h senderTestHooks
			s := NewSender(Limits{}, nil,
				WithSenderMaxAttempts(4),
				WithSenderBackoff(time.Millisecond, 4*time.Millisecond),
				WithSenderMaxPause(10*time.Second),
				WithRedactToken(senderTestToken),
				WithSenderCallbacks(h.hooks()))
			call := api.send(tt.chatID)
			if tt.edit {
				call = func(ctx context.Context) error {
					_, err := api.bot.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: tt.chatID, MessageID: 7, Text: "same"})
					return err
				}
			}
			start := time.Now()
			err := s.Do(context.Background(), tt.chatID, call)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Do took %s, want no long waits", took)
			}
			if got := int(api.calls.Load()); got != tt.wantHits {
				t.Errorf("Do made %d API calls, want %d", got, tt.wantHits)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Do() = %v, want nil", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("Do() = nil, want an error")
			case tt.wantErr != nil:
				if msg := tt.wantErr(err); msg != "" {
					t.Errorf("Do() = %v: %s", err, msg)
				}
				if strings.Contains(err.Error(), senderTestToken) {
					t.Errorf("Do() = %v: the error shows the bot token", err)
				}
				if h.failed.Load() != 1 || h.sent.Load() != 0 {
					t.Errorf("hooks: OnFailed %d, OnSent %d times, want 1 and 0", h.failed.Load(), h.sent.Load())
				}
			default:
				if h.sent.Load() != 1 || h.failed.Load() != 0 {
					t.Errorf("hooks: OnSent %d, OnFailed %d times, want 1 and 0", h.sent.Load(), h.failed.Load())
				}
			}
			if got := int(h.lastAttempts.Load()); got != tt.wantHits {
				t.Errorf("hooks saw %d attempts, want %d", got, tt.wantHits)
			}
			if got, want := int(h.retry.Load()), tt.wantHits-1; got != want {
				t.Errorf("OnRetry called %d times, want %d", got, want)
			}
		})
	}
}

// After one sender gets a 429, every other Do waits out the pause: no request
// reaches the API before retry_after has passed, and then all succeed.
func TestSender429PausesEveryone(t *testing.T) {
	var (
		mu      sync.Mutex
		floodAt time.Time
		arrived []time.Time
	)
	api := senderStartAPI(t, func(n int, _ *http.Request) senderTestReply {
		mu.Lock()
		defer mu.Unlock()
		if n == 0 {
			floodAt = time.Now()
			return senderErrReply(429, "Too Many Requests: retry after 1", `{"retry_after":1}`)
		}
		arrived = append(arrived, time.Now())
		return senderOKReply()
	})
	flooded := make(chan struct{})
	var once sync.Once
	var h senderTestHooks
	hooks := h.hooks()
	hooks.On429 = func(int64, time.Duration) {
		h.flood.Add(1)
		once.Do(func() { close(flooded) })
	}
	s := NewSender(Limits{}, nil, WithSenderCallbacks(hooks), WithRedactToken(senderTestToken))

	const others = 5
	errs := make(chan error, others+1)
	go func() { errs <- s.Do(context.Background(), 1, api.send(1)) }()
	select {
	case <-flooded:
	case <-time.After(10 * time.Second):
		t.Fatal("the first Do never got its 429")
	}
	for i := range others {
		chatID := int64(100 + i)
		go func() { errs <- s.Do(context.Background(), chatID, api.send(chatID)) }()
	}
	for range others + 1 {
		if err := <-errs; err != nil {
			t.Errorf("Do() = %v, want nil after the pause", err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(arrived) != others+1 {
		t.Fatalf("API saw %d successful requests, want %d", len(arrived), others+1)
	}
	for _, at := range arrived {
		if d := at.Sub(floodAt); d < time.Second {
			t.Errorf("a request arrived %s after the 429, want ≥ 1s (retry_after)", d)
		}
	}
	if h.flood.Load() != 1 || h.sent.Load() != others+1 {
		t.Errorf("hooks: On429 %d, OnSent %d times, want 1 and %d", h.flood.Load(), h.sent.Load(), others+1)
	}
}

// Cancelling the context stops a Do at once, whether it waits for a 429
// pause, for a pause another Do caused, or for a backoff.
func TestSenderCancelStopsWaiting(t *testing.T) {
	t.Run("pause", func(t *testing.T) {
		api := senderStartAPI(t, func(int, *http.Request) senderTestReply {
			return senderErrReply(429, "Too Many Requests: retry after 30", `{"retry_after":30}`)
		})
		flooded := make(chan struct{})
		var once sync.Once
		s := NewSender(Limits{}, nil, WithSenderCallbacks(SenderHooks{
			On429: func(int64, time.Duration) { once.Do(func() { close(flooded) }) },
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 2)
		go func() { done <- s.Do(ctx, 1, api.send(1)) }()
		<-flooded
		// A second Do, for another chat, must wait for the same pause.
		go func() { done <- s.Do(ctx, 2, api.send(2)) }()
		time.Sleep(20 * time.Millisecond)
		cancel()
		start := time.Now()
		for range 2 {
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Do() = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Do still waiting 5s after cancel")
			}
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Do returned %s after cancel, want promptly", took)
		}
		if got := api.calls.Load(); got != 1 {
			t.Errorf("API saw %d requests, want 1 (the second Do waits for the pause)", got)
		}
	})
	t.Run("backoff", func(t *testing.T) {
		api := senderStartAPI(t, func(int, *http.Request) senderTestReply {
			return senderErrReply(500, "Internal Server Error", "")
		})
		s := NewSender(Limits{}, nil, WithSenderBackoff(time.Hour, time.Hour))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Do(ctx, 1, api.send(1))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Do() = %v, want context.DeadlineExceeded", err)
		}
		if !strings.Contains(err.Error(), "500") {
			t.Errorf("Do() = %v, want the last error (500) in it", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Do returned after %s, want promptly after the deadline", took)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		s := NewSender(DefaultLimits(), nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := false
		err := s.Do(ctx, 1, func(context.Context) error { called = true; return nil })
		if !errors.Is(err, context.Canceled) || called {
			t.Errorf("Do(cancelled ctx) = %v, called %v; want context.Canceled without a call", err, called)
		}
	})
}

// Network errors are retried, and neither errors nor logs show the token.
func TestSenderNetworkErrorsRedacted(t *testing.T) {
	api := senderStartAPI(t, func(int, *http.Request) senderTestReply { return senderOKReply() })
	api.srv.Close() // connection refused from now on

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var h senderTestHooks
	var hookErrs []string
	hooks := h.hooks()
	hooks.OnRetry = func(_ int64, _ int, _ time.Duration, err error) { hookErrs = append(hookErrs, err.Error()) }
	// No WithRedactToken: the token-shaped pattern alone must catch it.
	s := NewSender(Limits{}, logger, WithSenderMaxAttempts(3),
		WithSenderBackoff(time.Millisecond, time.Millisecond), WithSenderCallbacks(hooks))
	err := s.Do(context.Background(), 42, api.send(42))
	if err == nil {
		t.Fatal("Do() to a closed server = nil, want an error")
	}
	if !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Errorf("Do() = %v, want giving up after 3 attempts", err)
	}
	if len(hookErrs) != 2 {
		t.Errorf("OnRetry called %d times, want 2", len(hookErrs))
	}
	for _, text := range append(hookErrs, err.Error(), logs.String()) {
		if strings.Contains(text, senderTestToken) || strings.Contains(text, "do-not-leak") {
			t.Errorf("token leaked: %s", text)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("logs = %q, want the retries logged", logs.String())
	}
}

func TestSenderRedactToken(t *testing.T) {
	base := errors.New("base")
	tests := []struct {
		name, in, token, want string
	}{
		{"nothing to hide", "chat not found", senderTestToken, "chat not found"},
		{"api url", `Post "https://api.telegram.org/bot` + senderTestToken + `/sendMessage": EOF`, senderTestToken,
			`Post "https://api.telegram.org/bot<redacted>/sendMessage": EOF`},
		{"file url", "get https://api.telegram.org/file/bot" + senderTestToken + "/photos/file_1.jpg", senderTestToken,
			"get https://api.telegram.org/file/bot<redacted>/photos/file_1.jpg"},
		{"unknown token by shape", "/bot987654:ZZZ_secret-x/getMe failed", "", "/bot<redacted>/getMe failed"},
		{"odd token anywhere", "token s3cr3t in text", "s3cr3t", "token <redacted> in text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fmt.Errorf("%s: %w", tt.in, base)
			got := redactToken(in, tt.token)
			if want := tt.want + ": base"; got.Error() != want {
				t.Errorf("redactToken(%q) = %q, want %q", in, got, want)
			}
			if !errors.Is(got, base) {
				t.Errorf("redactToken(%q) lost the wrapped error", in)
			}
		})
	}
	if redactToken(nil, "x") != nil {
		t.Error("redactToken(nil) != nil")
	}
	long := errors.New(strings.Repeat("页", 2000))
	if got := redactToken(long, ""); len(got.Error()) > senderMaxErrLen+len("…") || !utf8.ValidString(got.Error()) {
		t.Errorf("redactToken(6000-byte error) = %d bytes, valid UTF-8 %v; want ≤ %d, valid", len(got.Error()), utf8.ValidString(got.Error()), senderMaxErrLen+len("…"))
	}
}

// senderFakeClock is a clock for sequential tests: sleeping advances it.
type senderFakeClock struct {
	mu     sync.Mutex
	t      time.Time
	slept  time.Duration
	sleeps int
}

func newSenderFakeClock() *senderFakeClock {
	return &senderFakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *senderFakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *senderFakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(d)
	c.mu.Lock()
	c.slept += d
	c.sleeps++
	c.mu.Unlock()
	return nil
}

func (c *senderFakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func senderNop(context.Context) error { return nil }

// With an injected clock the limits are exact: n sends take (n-burst)/rate.
func TestSenderLimitsFakeClock(t *testing.T) {
	tests := []struct {
		name string
		lim  Limits
		n    int
		chat func(i int) int64
		want time.Duration
	}{
		{"private 20/s", Limits{PerChat: 20}, 60, func(int) int64 { return 1 }, 59 * 50 * time.Millisecond},
		{"private 1/s burst 3", Limits{PerChat: 1, ChatBurst: 3}, 10, func(int) int64 { return 1 }, 7 * time.Second},
		{"group 20/min", Limits{PerGroupMinute: 20}, 5, func(int) int64 { return -5 }, 4 * 3 * time.Second},
		{"group not under the private limit", Limits{PerChat: 1}, 10, func(int) int64 { return -5 }, 0},
		{"private not under the group limit", Limits{PerGroupMinute: 1}, 10, func(int) int64 { return 5 }, 0},
		{"global 50/s over 100 chats", Limits{Global: 50, PerChat: 1}, 100, func(i int) int64 { return int64(i + 1) }, 99 * 20 * time.Millisecond},
		{"per chat limits add up", Limits{Global: 50, PerChat: 1}, 4, func(int) int64 { return 7 }, 3 * time.Second},
		{"defaults, one chat", DefaultLimits(), 6, func(int) int64 { return 1 }, 3 * time.Second},
		{"all off", Limits{}, 1000, func(int) int64 { return 1 }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newSenderFakeClock()
			s := NewSender(tt.lim, nil, WithSenderClock(clock.now, clock.sleep))
			start := clock.now()
			for i := range tt.n {
				if err := s.Do(context.Background(), tt.chat(i), senderNop); err != nil {
					t.Fatalf("Do #%d = %v", i, err)
				}
			}
			got := clock.now().Sub(start)
			if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("%d sends with %+v took %s, want %s", tt.n, tt.lim, got, tt.want)
			}
		})
	}
}

// With real time, only a lower bound is robust: the limiter guarantees it.
func TestSenderLimitsRealTime(t *testing.T) {
	t.Run("per chat", func(t *testing.T) {
		s := NewSender(Limits{PerChat: 100}, nil)
		start := time.Now()
		for range 40 {
			if err := s.Do(context.Background(), 1, senderNop); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := time.Since(start), 39*10*time.Millisecond; got < want {
			t.Errorf("40 sends to one chat at 100/s took %s, want ≥ %s", got, want)
		}
	})
	t.Run("global, concurrent", func(t *testing.T) {
		s := NewSender(Limits{Global: 200, PerChat: 1}, nil)
		var wg sync.WaitGroup
		var calls atomic.Int64
		start := time.Now()
		for i := range 100 {
			wg.Go(func() {
				err := s.Do(context.Background(), int64(i+1), func(context.Context) error {
					calls.Add(1)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, want := time.Since(start), 99*5*time.Millisecond; got < want {
			t.Errorf("100 concurrent sends at 200/s took %s, want ≥ %s", got, want)
		}
		if calls.Load() != 100 {
			t.Errorf("%d calls, want 100", calls.Load())
		}
	})
}

// Limiters of idle chats are dropped, so 10,000 chats do not mean 10,000
// limiters, but a chat that is still limited keeps its limiter.
func TestSenderEvictsIdleChats(t *testing.T) {
	clock := newSenderFakeClock()
	s := NewSender(Limits{PerChat: 1, PerGroupMinute: 20, ChatBurst: 3}, nil, WithSenderClock(clock.now, clock.sleep))
	ctx := context.Background()
	peak := 0
	for i := range 10_000 {
		chatID := int64(i + 1)
		if i%2 == 1 {
			chatID = -chatID
		}
		if err := s.Do(ctx, chatID, senderNop); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, s.senderChatLimiters())
		clock.advance(10 * time.Millisecond) // 100 new chats a second
	}
	if peak > 2*senderSweepMin {
		t.Errorf("10,000 chats kept up to %d limiters, want ≤ %d", peak, 2*senderSweepMin)
	}
	clock.advance(time.Hour)
	if err := s.Do(ctx, 1, senderNop); err != nil {
		t.Fatal(err)
	}
	if got := s.senderChatLimiters(); got != 1 {
		t.Errorf("after an idle hour %d limiters are kept, want 1", got)
	}

	// A busy chat survives a sweep triggered by many new chats at once.
	s = NewSender(Limits{PerChat: 1}, nil, WithSenderClock(clock.now, clock.sleep))
	if err := s.Do(ctx, 1, senderNop); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * senderSweepMin {
		if err := s.Do(ctx, int64(1000+i), senderNop); err != nil {
			t.Fatal(err)
		}
	}
	before := clock.now()
	if err := s.Do(ctx, 1, senderNop); err != nil {
		t.Fatal(err)
	}
	if waited := clock.now().Sub(before); waited < 900*time.Millisecond {
		t.Errorf("second send to a busy chat waited %s, want about 1s (its limiter was dropped)", waited)
	}
}

func TestSenderBackoffGrows(t *testing.T) {
	s := NewSender(Limits{}, nil, WithSenderBackoff(100*time.Millisecond, time.Second))
	for _, tt := range []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 500 * time.Millisecond, time.Second},
		{60, 500 * time.Millisecond, time.Second},
	} {
		for range 50 {
			if d := s.senderBackoff(tt.attempt); d < tt.lo || d >= tt.hi {
				t.Fatalf("senderBackoff(%d) = %s, want in [%s, %s)", tt.attempt, d, tt.lo, tt.hi)
			}
		}
	}
}

func TestSenderSendText(t *testing.T) {
	line := strings.Repeat("报", 3000)
	text := line + "\n" + line + "\n" + line // three parts
	t.Run("all parts in order", func(t *testing.T) {
		var got []string
		var lasts []bool
		s := NewSender(Limits{}, nil)
		err := s.SendText(context.Background(), 1, text, func(_ context.Context, part string, last bool) error {
			got = append(got, part)
			lasts = append(lasts, last)
			return nil
		})
		if err != nil {
			t.Fatalf("SendText() = %v", err)
		}
		if len(got) != 3 || got[0] != line || got[1] != line || got[2] != line {
			t.Fatalf("SendText sent %d parts, want 3 lines of 3000", len(got))
		}
		if lasts[0] || lasts[1] || !lasts[2] {
			t.Errorf("last flags = %v, want [false false true]", lasts)
		}
	})
	t.Run("stops at the first failed part", func(t *testing.T) {
		calls := 0
		s := NewSender(Limits{}, nil)
		err := s.SendText(context.Background(), 1, text, func(context.Context, string, bool) error {
			calls++
			if calls == 2 {
				return fmt.Errorf("send: %w, Forbidden: bot was blocked by the user", tgbot.ErrorForbidden)
			}
			return nil
		})
		if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "part 2 of 3") {
			t.Errorf("SendText() = %v, want ErrBlocked in part 2 of 3", err)
		}
		if calls != 2 {
			t.Errorf("send called %d times, want 2 (no retry, no part 3)", calls)
		}
	})
	t.Run("empty", func(t *testing.T) {
		s := NewSender(Limits{}, nil)
		err := s.SendText(context.Background(), 1, "", func(context.Context, string, bool) error {
			t.Error("send called for empty text")
			return nil
		})
		if err == nil {
			t.Error("SendText(\"\") = nil, want an error")
		}
	})
	t.Run("through the real client", func(t *testing.T) {
		var mu sync.Mutex
		var texts []string
		api := senderStartAPI(t, func(_ int, r *http.Request) senderTestReply {
			mu.Lock()
			texts = append(texts, r.FormValue("text"))
			mu.Unlock()
			return senderOKReply()
		})
		s := NewSender(DefaultLimits(), nil)
		err := s.SendText(context.Background(), 1, "第一行\n第二行", func(ctx context.Context, part string, _ bool) error {
			_, err := api.bot.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 1, Text: part})
			return err
		})
		if err != nil {
			t.Fatalf("SendText() = %v", err)
		}
		if len(texts) != 1 || texts[0] != "第一行\n第二行" {
			t.Errorf("API got texts %q, want one message", texts)
		}
	})
}

func TestSplitText(t *testing.T) {
	zh := func(n int) string { return strings.Repeat("报", n) }
	emoji := func(n int) string { return strings.Repeat("😀", n) } // 2 UTF-16 units each
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"empty", "", 4096, nil},
		{"short", "你好，世界", 4096, []string{"你好，世界"}},
		{"exactly 4096 Chinese", zh(4096), 4096, []string{zh(4096)}},
		{"4097 Chinese, no line break", zh(4097), 4096, []string{zh(4096), zh(1)}},
		{"2048 emoji are 4096 units", emoji(2048), 4096, []string{emoji(2048)}},
		{"2049 emoji", emoji(2049), 4096, []string{emoji(2048), emoji(1)}},
		{"surrogate pair at the boundary", "a" + emoji(2048), 4096, []string{"a" + emoji(2047), emoji(1)}},
		{"fits exactly with its line break", zh(2047) + "\n" + zh(2048), 4096, []string{zh(2047) + "\n" + zh(2048)}},
		{"cut at the last line break that fits", zh(2047) + "\n" + zh(2048) + "\n" + zh(10), 4096,
			[]string{zh(2047) + "\n" + zh(2048), zh(10)}},
		{"three lines of 2000", zh(2000) + "\n" + zh(2000) + "\n" + zh(2000), 4096,
			[]string{zh(2000) + "\n" + zh(2000), zh(2000)}},
		{"long line in the middle", "短行\n" + zh(5000) + "\n尾", 4096,
			[]string{"短行", zh(4096), zh(904) + "\n尾"}},
		{"blank lines at the cut are dropped", zh(4096) + "\n\n\n乙", 4096, []string{zh(4096), "乙"}},
		{"CRLF", "ab\r\ncd", 3, []string{"ab", "cd"}},
		{"small max", "ab\ncd\nef", 5, []string{"ab\ncd", "ef"}},
		{"max 1 and an emoji", "😀a", 1, []string{"😀", "a"}},
		{"max 0 means 1", "ab", 0, []string{"a", "b"}},
		{"mixed units", "表" + emoji(1) + "表", 3, []string{"表" + emoji(1), "表"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitText(tt.text, tt.max)
			if !senderEqualParts(got, tt.want) {
				t.Errorf("SplitText(%s, %d) = %s, want %s", senderDescribe(tt.text), tt.max, senderDescribeAll(got), senderDescribeAll(tt.want))
			}
		})
	}
}

// FuzzSplitText checks the invariants: every part fits, is valid UTF-8 and
// not empty, and no character other than line breaks is lost or moved.
func FuzzSplitText(f *testing.F) {
	f.Add("第一行\n第二行😀\n\n第三行", 5)
	f.Add(strings.Repeat("报告😀\n", 900), 4096)
	f.Add("a\r\nb\n\n\nc", 2)
	f.Fuzz(func(t *testing.T, text string, maxUnits int) {
		if !utf8.ValidString(text) || maxUnits < 2 || maxUnits > 10_000 {
			t.Skip()
		}
		parts := SplitText(text, maxUnits)
		for _, p := range parts {
			if senderUnits(p) > maxUnits || p == "" || !utf8.ValidString(p) {
				t.Fatalf("SplitText(%q, %d) has bad part %q", text, maxUnits, p)
			}
		}
		strip := strings.NewReplacer("\n", "", "\r", "")
		if got, want := strip.Replace(strings.Join(parts, "")), strip.Replace(text); got != want {
			t.Fatalf("SplitText(%q, %d) = %q: content changed", text, maxUnits, parts)
		}
	})
}

func senderEqualParts(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// senderDescribe shortens long test strings to their length in units.
func senderDescribe(s string) string {
	if len(s) <= 40 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("<%d units, %d lines>", senderUnits(s), strings.Count(s, "\n")+1)
}

func senderDescribeAll(parts []string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = senderDescribe(p)
	}
	return "[" + strings.Join(out, " ") + "]"
}

func BenchmarkSenderNoLimits(b *testing.B) {
	s := NewSender(Limits{}, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Do(ctx, 42, senderNop); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSenderDefaultLimitsManyChats(b *testing.B) {
	clock := newSenderFakeClock()
	s := NewSender(DefaultLimits(), nil, WithSenderClock(clock.now, clock.sleep))
	ctx := context.Background()
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		if err := s.Do(ctx, i%5000+1, senderNop); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSenderSpreadsSendsAfterPause: senders whose limiter slots fell due
// during a 429 pause must not all fire the moment it ends (that burst
// earns the next 429); after the pause, sends keep to the global rate.
func TestSenderSpreadsSendsAfterPause(t *testing.T) {
	tg := telegramtest.MustStart(t, telegramtest.Options{Token: senderTestToken})
	api, err := tgbot.New(senderTestToken, tgbot.WithServerURL(tg.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	const chats, rate = 30, 20.0
	for i := range chats {
		tg.AddUser(telegramtest.User{ID: int64(7000 + i), FirstName: "u"})
	}
	s := NewSender(Limits{Global: rate}, nil)
	tg.FailNext("sendMessage", 429, 1)
	var wg sync.WaitGroup
	for i := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := int64(7000 + i)
			if err := s.Do(context.Background(), chat, func(ctx context.Context) error {
				_, err := api.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chat, Text: "提醒"})
				return err
			}); err != nil {
				t.Errorf("Do(chat %d): %v", chat, err)
			}
		}()
	}
	wg.Wait()
	sends := tg.Stats().Accepted
	if len(sends) != chats {
		t.Fatalf("%d sends accepted, want %d", len(sends), chats)
	}
	// In any 500 ms window the limiter allows rate/2 + its burst of 1; a
	// few more are tolerated for goroutines the scheduler delayed (CI
	// runs this with -race on a busy machine). The burst this guards
	// against is every slot that fell due during the 1 s pause (~20) sent
	// within milliseconds of its end.
	limit := int(rate/2) + 5
	for i := range sends {
		n := 0
		for j := i; j < len(sends) && sends[j].Time.Sub(sends[i].Time) < 500*time.Millisecond; j++ {
			n++
		}
		if n > limit {
			t.Fatalf("%d sends within 500 ms from %s (limit %.0f/s allows about %d): a burst after the pause", n, sends[i].Time.Format("15:04:05.000"), rate, limit)
		}
	}
}
