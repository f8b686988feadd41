package telegramtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

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

// albumRetryAfter sends an album of n copies of the document fileID and
// returns 0 on success or the 429's retry_after.
func albumRetryAfter(t *testing.T, ctx context.Context, b *tgbot.Bot, chatID int64, fileID string, n int) int {
	t.Helper()
	var media []models.InputMedia
	for range n {
		media = append(media, &models.InputMediaDocument{Media: fileID})
	}
	_, err := b.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{ChatID: chatID, Media: media})
	if err == nil {
		return 0
	}
	var tooMany *tgbot.TooManyRequestsError
	if !errors.As(err, &tooMany) {
		t.Fatalf("SendMediaGroup(%d, %d items): %v, want success or 429", chatID, n, err)
	}
	return tooMany.RetryAfter
}

// storedDocument uploads a document to a scratch chat and returns its file id.
func storedDocument(t *testing.T, ctx context.Context, b *tgbot.Bot, srv *telegramtest.Server) string {
	t.Helper()
	srv.AddUser(telegramtest.User{ID: 9999, FirstName: "存"})
	m, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: 9999, Document: &models.InputFileUpload{Filename: "回执.pdf", Data: strings.NewReader("%PDF 回执")}})
	if err != nil {
		t.Fatal(err)
	}
	return m.Document.FileID
}

// TestLimitGroupAlbum: an album of 10 documents is 10 of a group's 20
// messages a minute, and an album that does not fit is refused whole.
func TestLimitGroupAlbum(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, telegramtest.Options{Now: clock.Now, Limits: telegramtest.Limits{PerGroupPerMinute: 20}})
	b := newClient(t, srv)
	ctx := testContext(t)
	doc := storedDocument(t, ctx, b, srv)
	const group = -7101
	srv.AddGroup(telegramtest.Chat{ID: group})

	if ra := albumRetryAfter(t, ctx, b, group, doc, 10); ra != 0 {
		t.Fatalf("album of 10 into an idle group: retry_after %d, want success", ra)
	}
	st := srv.Stats()
	if n := len(srv.Messages(group)); n != 10 || st.Sends != 11 || len(st.Accepted) != 11 || st.Accepted[10].Method != "sendMediaGroup" {
		t.Fatalf("after the album: %d messages, Stats %+v; want 10 messages and 10 sendMediaGroup sends after the upload", n, st)
	}
	for i := range 5 {
		clock.Advance(time.Second)
		if ra := retryAfter(t, ctx, b, group); ra != 0 {
			t.Fatalf("text %d after the album: retry_after %d, want success (%d of 20 used)", i+1, ra, 11+i)
		}
	}
	// 15 of 20 used: an album of 10 needs the album's 10 to leave the
	// window, 55 s from now; a text still fits.
	if ra := albumRetryAfter(t, ctx, b, group, doc, 10); ra != 55 {
		t.Errorf("album of 10 with 15 of 20 used: retry_after %d, want 55", ra)
	}
	if n := len(srv.Messages(group)); n != 15 {
		t.Errorf("the refused album stored messages: %d in the group, want 15", n)
	}
	if ra := albumRetryAfter(t, ctx, b, group, doc, 5); ra != 0 {
		t.Errorf("album of 5 with 15 of 20 used: retry_after %d, want success", ra)
	}
	if ra := retryAfter(t, ctx, b, group); ra != 55 {
		t.Errorf("text with 20 of 20 used: retry_after %d, want 55", ra)
	}
	clock.Advance(55 * time.Second)
	if ra := albumRetryAfter(t, ctx, b, group, doc, 10); ra != 0 {
		t.Errorf("album of 10 once the first album left the window: retry_after %d, want success", ra)
	}
}

// TestLimitAlbumGlobalAndPrivate: an album takes N tokens of the global
// bucket, and a private chat's album leaves its bucket in debt.
func TestLimitAlbumGlobalAndPrivate(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, telegramtest.Options{Now: clock.Now, Limits: telegramtest.Limits{Global: 30, PerChat: 1}})
	b := newClient(t, srv)
	ctx := testContext(t)
	doc := storedDocument(t, ctx, b, srv) // 1 global token
	clock.Advance(time.Second)
	var users []int64
	for i := range 5 {
		u := telegramtest.User{ID: int64(3000 + i)}
		srv.AddUser(u)
		users = append(users, u.ID)
	}
	for i := range 3 {
		if ra := albumRetryAfter(t, ctx, b, users[i], doc, 10); ra != 0 {
			t.Fatalf("album %d of 10 (global 30/s): retry_after %d, want success", i+1, ra)
		}
	}
	if ra := retryAfter(t, ctx, b, users[3]); ra != 1 {
		t.Errorf("text after 30 album messages in one second: retry_after %d, want 1", ra)
	}
	// users[0] got 10 messages at once: at 1/s its chat is 9 s in debt.
	clock.Advance(time.Second)
	if ra := retryAfter(t, ctx, b, users[0]); ra != 9 {
		t.Errorf("text to a private chat a second after its album of 10: retry_after %d, want 9", ra)
	}
	if ra := retryAfter(t, ctx, b, users[4]); ra != 0 {
		t.Errorf("text to another chat: retry_after %d, want success", ra)
	}
}
