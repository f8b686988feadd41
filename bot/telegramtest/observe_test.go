package telegramtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"reportbot/bot/telegramtest"
)

func TestSubscribe(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	events, cancel := srv.Subscribe()

	upd := srv.SendText(alice, alice.Chat(), "/start")
	m, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: alice.ID, Text: "欢迎", ReplyMarkup: keyboard(
		[]models.InlineKeyboardButton{{Text: "开始", CallbackData: "go"}})})
	if err != nil {
		t.Fatal(err)
	}
	press, err := srv.Press(alice, alice.ID, m.ID, "go")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := srv.Callback(press)
	if _, err := b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: q.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "开始了"}); err != nil {
		t.Fatal(err)
	}

	want := []telegramtest.EventKind{
		telegramtest.EventUserMessage, telegramtest.EventMessageSent, telegramtest.EventCallbackPressed,
		telegramtest.EventCallbackAnswered, telegramtest.EventMessageEdited,
	}
	var got []telegramtest.EventKind
	for len(got) < len(want) {
		select {
		case ev := <-events:
			got = append(got, ev.Kind)
			switch ev.Kind {
			case telegramtest.EventUserMessage:
				if ev.UpdateID != upd || ev.Message.Text != "/start" || ev.Message.FromBot {
					t.Errorf("user message event %+v, want /start from alice with update %d", ev, upd)
				}
			case telegramtest.EventMessageEdited:
				if ev.Message.Text != "开始了" || ev.Message.Keyboard != nil {
					t.Errorf("edit event message %+v, want the new text without keyboard", ev.Message)
				}
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Errorf("json.Marshal(event): %v", err)
			}
		case <-ctx.Done():
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	cancel()
	for range events { // drains, then ends: cancel closed the channel
	}
}

func TestWaitMessage(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	srv.AddUser(alice)
	go func() {
		time.Sleep(20 * time.Millisecond) // the "bot" answers a little later
		_, _ = b.SendMessage(context.Background(), &tgbot.SendMessageParams{ChatID: alice.ID, Text: "请输入人数"})
	}()
	m, err := srv.WaitText(testContext(t), alice.ID, "人数")
	if err != nil || m.Text != "请输入人数" {
		t.Fatalf("WaitText = %+v, %v", m, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = srv.WaitMessage(ctx, alice.ID, func(m telegramtest.Message) bool { return m.Text == "never" })
	if err == nil || !strings.Contains(err.Error(), "请输入人数") || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("WaitMessage timeout error = %v, want it to list the chat's messages and the deadline", err)
	}
}

func TestBlockAndMigrateUpdates(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	srv.SendText(alice, alice.Chat(), "hi")
	srv.Block(alice.ID)
	if !srv.Blocked(alice.ID) {
		t.Errorf("Blocked(alice) = false after Block")
	}
	srv.SendText(alice, alice.Chat(), "/start") // "Restart" unblocks
	if srv.Blocked(alice.ID) {
		t.Errorf("Blocked(alice) = true after alice wrote again")
	}
	const oldID, newID = -300, -1000000000300
	srv.SendText(bob, telegramtest.Chat{ID: oldID, Title: "二中"}, "大家好")
	srv.MigrateGroup(oldID, newID)
	srv.SendText(bob, telegramtest.Chat{ID: oldID}, "升级后")

	r := call(t, srv, "getUpdates", nil)
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, u := range ups {
		switch {
		case u.MyChatMember != nil:
			kinds = append(kinds, "my_chat_member:"+string(u.MyChatMember.NewChatMember.Type))
		case u.Message != nil && u.Message.MigrateToChatID != 0:
			kinds = append(kinds, "migrate_to")
		case u.Message != nil && u.Message.MigrateFromChatID != 0:
			kinds = append(kinds, "migrate_from")
		case u.Message != nil:
			kinds = append(kinds, u.Message.Text+"@"+string(u.Message.Chat.Type))
		}
	}
	want := []string{
		"hi@private", "my_chat_member:kicked", "my_chat_member:member", "/start@private",
		"大家好@group", "migrate_to", "migrate_from", "升级后@supergroup",
	}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("updates %v, want %v", kinds, want)
	}
}

// TestMountedHandler mounts the fake inside another server under a prefix,
// as the browser demo does.
func TestMountedHandler(t *testing.T) {
	srv := telegramtest.NewUnstarted(telegramtest.Options{Token: token})
	t.Cleanup(srv.Close)
	mux := http.NewServeMux()
	mux.Handle("/tg/", http.StripPrefix("/tg", srv.Handler()))
	outer := httptest.NewServer(mux)
	t.Cleanup(outer.Close)

	b, err := tgbot.New(token, tgbot.WithServerURL(outer.URL+"/tg"))
	if err != nil {
		t.Fatalf("tgbot.New via the mounted handler: %v", err)
	}
	srv.AddUser(alice)
	if _, err := b.SendMessage(testContext(t), &tgbot.SendMessageParams{ChatID: alice.ID, Text: "ok"}); err != nil {
		t.Errorf("SendMessage via the mounted handler: %v", err)
	}
	if srv.URL() != "" {
		t.Errorf("URL() of an unstarted server = %q, want empty", srv.URL())
	}
}

// TestCloseLeavesNoGoroutines closes a server in the middle of a long poll,
// a retrying webhook delivery and a subscription.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer recv.Close()
	before := runtime.NumGoroutine()

	srv := telegramtest.New(telegramtest.Options{Token: token})
	ctx := testContext(t)
	poll := pollAsync(srv, map[string]any{"timeout": 50})
	if err := srv.WaitFor(ctx, func() bool { return srv.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	events, _ := srv.Subscribe()
	if r := call(t, srv, "setWebhook", map[string]any{"url": recv.URL}); !r.OK {
		t.Fatalf("setWebhook = %+v", r)
	}
	if r := <-poll; r.Status != 409 {
		t.Errorf("long poll when a webhook is set = %+v, want 409", r)
	}
	srv.SendText(alice, alice.Chat(), "x")
	if err := srv.WaitFor(ctx, func() bool { return srv.Webhook().Failed > 0 }); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	for range events {
	}
	httpClient.CloseIdleConnections()

	deadline := time.Now().Add(5 * time.Second)
	for {
		after := runtime.NumGoroutine()
		if after <= before {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before New, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
