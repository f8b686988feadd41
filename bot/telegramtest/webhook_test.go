package telegramtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"reportbot/bot/telegramtest"
)

func TestWebhookSecretAndRetry(t *testing.T) {
	srv := newServer(t, telegramtest.Options{WebhookRetry: 10 * time.Millisecond})
	ctx := testContext(t)
	b := newClient(t, srv)

	var mu sync.Mutex
	var attempts int
	var secrets, types []string
	var delivered []int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		types = append(types, r.Header.Get("Content-Type"))
		if attempts <= 2 {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		var u update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		delivered = append(delivered, u.UpdateID)
	}))
	t.Cleanup(recv.Close)

	if ok, err := b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: recv.URL + "/tg", SecretToken: "s3cr3t_-X"}); err != nil || !ok {
		t.Fatalf("SetWebhook = %v, %v", ok, err)
	}
	id := srv.SendText(alice, alice.Chat(), "/start")
	if err := srv.WaitFor(ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(delivered) == 1 }); err != nil {
		t.Fatalf("waiting for the webhook delivery: %v", err)
	}
	mu.Lock()
	if delivered[0] != id || attempts != 3 {
		t.Errorf("webhook got %v after %d attempts, want [%d] on the third", delivered, attempts, id)
	}
	for i := range secrets {
		if secrets[i] != "s3cr3t_-X" || types[i] != "application/json" {
			t.Errorf("attempt %d: secret %q, Content-Type %q, want s3cr3t_-X and application/json", i+1, secrets[i], types[i])
		}
	}
	mu.Unlock()

	info := srv.Webhook()
	if info.Delivered != 1 || info.Failed != 2 || info.PendingUpdateCount != 0 || !strings.Contains(info.LastErrorMessage, "500") {
		t.Errorf("Webhook() = %+v, want 1 delivered, 2 failed, nothing pending, a 500 error", info)
	}
	wi, err := b.GetWebhookInfo(ctx)
	if err != nil || wi.URL != recv.URL+"/tg" || wi.LastErrorDate == 0 || wi.MaxConnections != 40 {
		t.Errorf("GetWebhookInfo = %+v, %v, want the URL, a last error date and 40 connections", wi, err)
	}
	if r := call(t, srv, "getUpdates", nil); r.Status != 409 || !strings.Contains(r.Description, "webhook is active") {
		t.Errorf("getUpdates while a webhook is set = %d %+v, want 409", r.Status, r)
	}

	if r := call(t, srv, "deleteWebhook", nil); !r.OK || r.Description != "Webhook was deleted" {
		t.Errorf("deleteWebhook = %+v, want ok, Webhook was deleted", r)
	}
	if r := call(t, srv, "getUpdates", nil); !r.OK {
		t.Errorf("getUpdates after deleteWebhook = %+v, want ok", r)
	}
}

func TestWebhookOrderPerChat(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	ctx := testContext(t)

	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || u.Message == nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if u.Message.Text == "A1" {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		mu.Lock()
		got = append(got, u.Message.Text)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	delivered := func(texts ...string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, text := range texts {
				if !slices.Contains(got, text) {
					return false
				}
			}
			return true
		}
	}

	if r := call(t, srv, "setWebhook", map[string]any{"url": recv.URL}); !r.OK || r.Description != "Webhook was set" {
		t.Fatalf("setWebhook = %+v", r)
	}
	srv.SendText(alice, alice.Chat(), "A1")
	srv.SendText(alice, alice.Chat(), "A2")
	srv.SendText(bob, bob.Chat(), "B1")

	// Bob's chat is not held up by Alice's unacknowledged update, but
	// Alice's second update waits for her first.
	if err := srv.WaitFor(ctx, delivered("B1")); err != nil {
		t.Fatalf("waiting for B1: %v", err)
	}
	if delivered("A2")() {
		t.Fatalf("A2 was delivered before A1 was acknowledged")
	}
	unblock()
	if err := srv.WaitFor(ctx, delivered("A1", "A2")); err != nil {
		t.Fatalf("waiting for A1 and A2: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"B1", "A1", "A2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("delivery order %v, want %v", got, want)
	}
}

func TestWebhookDeleteKeepsPending(t *testing.T) {
	srv := newServer(t, telegramtest.Options{WebhookRetry: 10 * time.Millisecond})
	ctx := testContext(t)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound) // not followed: a failure
	}))
	t.Cleanup(recv.Close)

	if r := call(t, srv, "setWebhook", map[string]any{"url": recv.URL, "secret_token": "bad secret!"}); r.Status != 400 {
		t.Errorf("setWebhook with a bad secret = %+v, want 400", r)
	}
	if r := call(t, srv, "setWebhook", map[string]any{"url": recv.URL}); !r.OK {
		t.Fatalf("setWebhook = %+v", r)
	}
	id := srv.SendText(alice, alice.Chat(), "x")
	if err := srv.WaitFor(ctx, func() bool { return srv.Webhook().Failed >= 2 }); err != nil {
		t.Fatal(err)
	}
	if r := call(t, srv, "deleteWebhook", map[string]any{}); !r.OK {
		t.Fatalf("deleteWebhook = %+v", r)
	}
	if got := updateIDs(getUpdates(t, srv, nil)); !reflect.DeepEqual(got, []int64{id}) {
		t.Errorf("getUpdates after deleteWebhook = %v, want the undelivered update %d", got, id)
	}
	if r := call(t, srv, "deleteWebhook", map[string]any{}); r.Description != "Webhook is already deleted" {
		t.Errorf("second deleteWebhook = %+v, want Webhook is already deleted", r)
	}
}

// TestWebhookGoTelegramHandler delivers to go-telegram's own webhook handler.
func TestWebhookGoTelegramHandler(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	ctx := testContext(t)
	got := make(chan *models.Update, 1)
	b, err := tgbot.New(token, tgbot.WithServerURL(srv.URL()), tgbot.WithSkipGetMe(),
		tgbot.WithWebhookSecretToken("abc"),
		tgbot.WithDefaultHandler(func(_ context.Context, _ *tgbot.Bot, u *models.Update) { got <- u }))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go b.StartWebhook(runCtx)
	recv := httptest.NewServer(b.WebhookHandler())
	t.Cleanup(recv.Close)

	if _, err := b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: recv.URL, SecretToken: "abc"}); err != nil {
		t.Fatal(err)
	}
	id := srv.SendText(alice, alice.Chat(), "经由 webhook")
	select {
	case u := <-got:
		if u.ID != id || u.Message == nil || u.Message.Text != "经由 webhook" {
			t.Errorf("handler got %+v, want update %d", u, id)
		}
	case <-ctx.Done():
		t.Fatal("go-telegram's webhook handler received nothing")
	}
}
