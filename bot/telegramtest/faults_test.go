package telegramtest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
)

// rawSend posts a sendMessage and returns the HTTP answer (status, content
// type, body) or the error of the request or of reading the body.
func rawSend(ctx context.Context, srv *telegramtest.Server, chatID int64) (status int, contentType string, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/bot"+token+"/sendMessage",
		strings.NewReader(`{"chat_id":`+strconv.FormatInt(chatID, 10)+`,"text":"回执"}`))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, err
}

func TestFaultNext(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	srv.AddUser(alice)
	ctx := testContext(t)
	sent := func() int { return len(srv.Messages(alice.ID)) }

	srv.FaultNext("sendMessage", telegramtest.FaultDrop)
	if _, _, _, err := rawSend(ctx, srv, alice.ID); err == nil {
		t.Errorf("FaultDrop: the request succeeded, want a transport error")
	}

	srv.FaultNext("SENDMESSAGE", telegramtest.FaultTruncate)
	if status, _, _, err := rawSend(ctx, srv, alice.ID); status != http.StatusOK || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("FaultTruncate: status %d, read error %v; want 200 and a body cut short (unexpected EOF)", status, err)
	}

	srv.FaultNext("sendMessage", telegramtest.FaultBadGateway)
	status, ct, body, err := rawSend(ctx, srv, alice.ID)
	if err != nil || status != http.StatusBadGateway || ct != "text/html" || !bytes.Contains(body, []byte("<h1>502 Bad Gateway</h1>")) {
		t.Errorf("FaultBadGateway: %d %s %q %v, want 502 with an HTML page", status, ct, body, err)
	}

	srv.FaultNext("sendMessage", telegramtest.FaultStall)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, _, err = rawSend(short, srv, alice.ID)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FaultStall: err = %v, want the caller's deadline", err)
	}
	if n := sent(); n != 0 {
		t.Fatalf("%d messages stored after faults that stop the call, want 0", n)
	}

	// The send happens, the answer is lost.
	srv.FaultNext("sendMessage", telegramtest.FaultLoseAnswer)
	if _, _, _, err := rawSend(ctx, srv, alice.ID); err == nil {
		t.Errorf("FaultLoseAnswer: the request succeeded, want a transport error")
	}
	if n := sent(); n != 1 {
		t.Errorf("FaultLoseAnswer: %d messages stored, want the 1 whose answer was lost", n)
	}

	// Faults and FailNext share one queue, in order.
	srv.FailNext("sendMessage", http.StatusTooManyRequests, 3)
	srv.FaultNext("sendMessage", telegramtest.FaultBadGateway)
	if status, _, _, _ := rawSend(ctx, srv, alice.ID); status != http.StatusTooManyRequests {
		t.Errorf("first call after FailNext(429), FaultNext(502 page): status %d, want 429", status)
	}
	if status, _, _, _ := rawSend(ctx, srv, alice.ID); status != http.StatusBadGateway {
		t.Errorf("second call: status %d, want 502", status)
	}
	if status, _, body, err := rawSend(ctx, srv, alice.ID); status != http.StatusOK || err != nil {
		t.Errorf("third call: %d %s %v, want ok", status, body, err)
	}
	if got := telegramtest.FaultStall.String(); got != "stalled" {
		t.Errorf("FaultStall.String() = %q", got)
	}
}

// TestFaultStallEndsOnClose: a stalled call does not keep Close waiting.
func TestFaultStallEndsOnClose(t *testing.T) {
	srv := telegramtest.New(telegramtest.Options{Token: token})
	srv.AddUser(alice)
	srv.FaultNext("sendMessage", telegramtest.FaultStall)
	done := make(chan error, 1)
	go func() {
		_, _, _, err := rawSend(context.Background(), srv, alice.ID)
		done <- err
	}()
	if err := srv.WaitFor(testContext(t), func() bool { return srv.Calls("sendMessage") == 1 }); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a stalled call")
	}
	if err := <-done; err == nil {
		t.Errorf("stalled call after Close: no error")
	}
}
