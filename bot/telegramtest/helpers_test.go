package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"reportbot/bot/telegramtest"
)

const token = "123456:TEST-token_abc"

var (
	alice = telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice"}
	bob   = telegramtest.User{ID: 1002, FirstName: "小明"}
)

func newServer(t *testing.T, opts telegramtest.Options) *telegramtest.Server {
	t.Helper()
	opts.Token = token
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	return telegramtest.MustStart(t, opts)
}

// newClient returns the real go-telegram client pointed at srv.
func newClient(t *testing.T, srv *telegramtest.Server) *tgbot.Bot {
	t.Helper()
	b, err := tgbot.New(token, tgbot.WithServerURL(srv.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatalf("tgbot.New: %v", err)
	}
	return b
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// apiResponse is the Bot API envelope as a client sees it.
type apiResponse struct {
	Status      int             `json:"-"`
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// httpClient has its own transport so its idle connections can be closed.
var httpClient = &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}

// call makes a plain JSON Bot API call, like our own getUpdates loop.
func call(t *testing.T, srv *telegramtest.Server, method string, body any) apiResponse {
	t.Helper()
	r, err := tryCall(srv, method, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryCall is call for goroutines other than the test's.
func tryCall(srv *telegramtest.Server, method string, body any) (apiResponse, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return apiResponse{}, err
	}
	return tryPost(srv.URL()+"/bot"+token+"/"+method, "application/json", data)
}

func post(t *testing.T, url, contentType string, body []byte) apiResponse {
	t.Helper()
	r, err := tryPost(url, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tryPost(url, contentType string, body []byte) (apiResponse, error) {
	resp, err := httpClient.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		return apiResponse{}, fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return apiResponse{}, fmt.Errorf("POST %s: read: %w", url, err)
	}
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return apiResponse{}, fmt.Errorf("POST %s: decode %s: %w", url, raw, err)
	}
	r.Status = resp.StatusCode
	return r, nil
}

// pollAsync runs getUpdates in a goroutine; the channel yields its answer
// (Status 0 and Description set to the error if the call failed).
func pollAsync(srv *telegramtest.Server, req map[string]any) <-chan apiResponse {
	ch := make(chan apiResponse, 1)
	go func() {
		r, err := tryCall(srv, "getUpdates", req)
		if err != nil {
			r.Description = err.Error()
		}
		ch <- r
	}()
	return ch
}

// update is the part of an update the tests look at.
type update struct {
	UpdateID int64 `json:"update_id"`
	Message  *struct {
		MessageID int    `json:"message_id"`
		Text      string `json:"text"`
		Chat      struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
		} `json:"chat"`
	} `json:"message"`
	CallbackQuery *struct {
		ID   string `json:"id"`
		Data string `json:"data"`
	} `json:"callback_query"`
}

func getUpdates(t *testing.T, srv *telegramtest.Server, req map[string]any) []update {
	t.Helper()
	r := call(t, srv, "getUpdates", req)
	if !r.OK {
		t.Fatalf("getUpdates(%v) = %d %s, want ok", req, r.ErrorCode, r.Description)
	}
	var ups []update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatalf("getUpdates result %s: %v", r.Result, err)
	}
	return ups
}

func updateIDs(ups []update) []int64 {
	ids := []int64{}
	for _, u := range ups {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
