package telegramtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"reportbot/bot/telegramtest"
)

// retryAfter sends one message and returns 0 on success or the 429's
// retry_after.
func retryAfter(t *testing.T, ctx context.Context, b *tgbot.Bot, chatID int64) int {
	t.Helper()
	_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: "报表提醒"})
	if err == nil {
		return 0
	}
	var tooMany *tgbot.TooManyRequestsError
	if !errors.As(err, &tooMany) {
		t.Fatalf("SendMessage(%d): %v, want success or 429", chatID, err)
	}
	return tooMany.RetryAfter
}

func TestLimitPerChat(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, telegramtest.Options{Now: clock.Now, Limits: telegramtest.Limits{PerChat: 1}})
	b := newClient(t, srv)
	ctx := testContext(t)
	srv.AddUser(alice)
	srv.AddUser(bob)

	if ra := retryAfter(t, ctx, b, alice.ID); ra != 0 {
		t.Fatalf("first send: retry_after %d, want success", ra)
	}
	if ra := retryAfter(t, ctx, b, alice.ID); ra != 1 {
		t.Errorf("second send in the same instant: retry_after %d, want 1", ra)
	}
	if ra := retryAfter(t, ctx, b, bob.ID); ra != 0 {
		t.Errorf("send to another chat: retry_after %d, want success", ra)
	}
	// Edits count too.
	m, _ := srv.LastMessage(alice.ID)
	_, err := b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.MessageID, Text: "改"})
	var tooMany *tgbot.TooManyRequestsError
	if !errors.As(err, &tooMany) {
		t.Errorf("EditMessageText over the limit: err = %v, want 429", err)
	}
	clock.Advance(time.Second)
	if ra := retryAfter(t, ctx, b, alice.ID); ra != 0 {
		t.Errorf("send a second later: retry_after %d, want success", ra)
	}
	st := srv.Stats()
	if st.Sends != 3 || st.TooManyRequests != 2 || len(st.Accepted) != 3 {
		t.Errorf("Stats() = %+v, want 3 sends and 2 429s", st)
	}
}

func TestLimitGlobal(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, telegramtest.Options{Now: clock.Now, Limits: telegramtest.Limits{Global: 30}})
	b := newClient(t, srv)
	ctx := testContext(t)
	var users []int64
	for i := range 40 {
		u := telegramtest.User{ID: int64(2000 + i), FirstName: fmt.Sprintf("单位%d", i)}
		srv.AddUser(u)
		users = append(users, u.ID)
	}
	for i := range 30 {
		if ra := retryAfter(t, ctx, b, users[i]); ra != 0 {
			t.Fatalf("send %d of 30 in one second: retry_after %d, want success", i+1, ra)
		}
	}
	if ra := retryAfter(t, ctx, b, users[30]); ra != 1 {
		t.Errorf("31st send: retry_after %d, want 1", ra)
	}
	clock.Advance(100 * time.Millisecond) // 3 tokens back
	for i := range 3 {
		if ra := retryAfter(t, ctx, b, users[31+i]); ra != 0 {
			t.Errorf("send %d after 100ms: retry_after %d, want success", i+1, ra)
		}
	}
	if ra := retryAfter(t, ctx, b, users[34]); ra == 0 {
		t.Errorf("4th send after 100ms succeeded, want 429")
	}
	// Sustained: one send every 1/30 s is always accepted.
	for i := range 60 {
		clock.Advance(time.Second / 30)
		if ra := retryAfter(t, ctx, b, users[i%40]); ra != 0 {
			t.Fatalf("paced send %d: retry_after %d, want success", i, ra)
		}
	}
	st := srv.Stats()
	last := st.Accepted[len(st.Accepted)-60:]
	rate := telegramtest.Stats{Accepted: last}.Rate()
	if rate < 29 || rate > 31 {
		t.Errorf("sustained rate %.1f/s, want about 30/s", rate)
	}
}

func TestLimitGroupPerMinute(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, telegramtest.Options{Now: clock.Now, Limits: telegramtest.Limits{PerGroupPerMinute: 20}})
	b := newClient(t, srv)
	ctx := testContext(t)
	const group = -7001
	srv.AddGroup(telegramtest.Chat{ID: group})

	for i := range 20 {
		clock.Advance(time.Second)
		if ra := retryAfter(t, ctx, b, group); ra != 0 {
			t.Fatalf("send %d of 20 in a minute: retry_after %d, want success", i+1, ra)
		}
	}
	// The first of the 20 went out 19 s ago: it leaves the window in 41 s.
	if ra := retryAfter(t, ctx, b, group); ra != 41 {
		t.Errorf("21st send: retry_after %d, want 41", ra)
	}
	clock.Advance(41 * time.Second)
	if ra := retryAfter(t, ctx, b, group); ra != 0 {
		t.Errorf("send once the first left the window: retry_after %d, want success", ra)
	}
}
