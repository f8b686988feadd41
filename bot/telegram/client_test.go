package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"reportbot/bot/telegram"
	"reportbot/bot/telegramtest"
)

const token = "123456:TEST-token_abc"

var (
	alice = telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice"}
	bob   = telegramtest.User{ID: 1002, FirstName: "小明"}
)

// mustStart starts the fake Bot API and a client of it.
func mustStart(t *testing.T, opts telegramtest.Options) (*telegramtest.Server, *telegram.Client) {
	t.Helper()
	opts.Token = token
	srv := telegramtest.MustStart(t, opts)
	return srv, newClient(t, srv.URL()+"/")
}

// newClient returns a client of the Bot API at url whose idle connections
// are closed when the test ends.
func newClient(t *testing.T, url string) *telegram.Client {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return telegram.New(url, token, &http.Client{Transport: tr, Timeout: 10 * time.Second})
}

// mustStartWrapped serves the fake through wrap, so a test can see or
// replace what goes over the wire.
func mustStartWrapped(t *testing.T, wrap func(http.Handler) http.Handler) (*telegramtest.Server, *telegram.Client) {
	t.Helper()
	srv := telegramtest.NewUnstarted(telegramtest.Options{Token: token})
	hs := httptest.NewServer(wrap(srv.Handler()))
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return srv, newClient(t, hs.URL)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGetMe(t *testing.T) {
	_, c := mustStart(t, telegramtest.Options{BotUsername: "report_bot"})
	me, err := c.GetMe(testContext(t))
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if me.ID != 123456 || !me.IsBot || me.Username != "report_bot" {
		t.Errorf("GetMe = %+v, want bot 123456 @report_bot", me)
	}
}

// TestMessagesButtonsAndCallbacks: what the hot-path calls send is what the
// fake stores, the message id comes back, and the callback is answered.
func TestMessagesButtonsAndCallbacks(t *testing.T) {
	srv, c := mustStart(t, telegramtest.Options{})
	ctx := testContext(t)
	srv.AddUser(alice)
	text := "第一行\n\"引号\" \\ <b>&</b>\t😀 \u2028 end"
	kb := telegram.Keyboard{{{Text: "选 A", Data: "q1:a"}, {Text: "B", Data: "q1:b"}}, {{Text: "确认", Data: "q1:ok"}}}
	id, err := c.SendMessage(ctx, alice.ID, text, kb)
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	m, ok := srv.LastMessage(alice.ID)
	wantKb := [][]telegramtest.Button{{{Text: "选 A", Data: "q1:a"}, {Text: "B", Data: "q1:b"}}, {{Text: "确认", Data: "q1:ok"}}}
	if !ok || m.MessageID != id || m.Text != text || !reflect.DeepEqual(m.Keyboard, wantKb) {
		t.Fatalf("stored %+v (found %v), want id %d, text %q, buttons %v", m, ok, id, text, wantKb)
	}
	if id2, err := c.SendMessage(ctx, alice.ID, "无按钮", nil); err != nil || id2 != id+1 {
		t.Errorf("SendMessage without buttons = %d, %v; want id %d", id2, err, id+1)
	}

	up, err := srv.Press(alice, alice.ID, id, "q1:ok")
	if err != nil {
		t.Fatal(err)
	}
	cq, _ := srv.Callback(up)
	if err := c.AnswerCallbackQuery(ctx, cq.ID, "已收到"); err != nil {
		t.Fatalf("AnswerCallbackQuery: %v", err)
	}
	if cq, _ = srv.Callback(up); !cq.Answered || cq.Text != "已收到" {
		t.Errorf("callback after answering: %+v, want answered with 已收到", cq)
	}
	err = c.AnswerCallbackQuery(ctx, cq.ID, "")
	if telegram.Classify(err) != telegram.Permanent {
		t.Errorf("answering twice: %v classified %v, want permanent", err, telegram.Classify(err))
	}

	if err := c.EditMessageText(ctx, alice.ID, id, "改过了", telegram.Keyboard{{{Text: "新", Data: "n"}}}); err != nil {
		t.Fatalf("EditMessageText: %v", err)
	}
	if m = srv.Messages(alice.ID)[0]; m.Text != "改过了" || len(m.Keyboard) != 1 || m.Keyboard[0][0].Data != "n" {
		t.Errorf("after EditMessageText with buttons: %+v", m)
	}
	if err := c.EditMessageText(ctx, alice.ID, id, "再改", nil); err != nil {
		t.Fatalf("EditMessageText without buttons: %v", err)
	}
	if m = srv.Messages(alice.ID)[0]; m.Text != "再改" || m.Keyboard != nil {
		t.Errorf("after EditMessageText without buttons: %+v, want no buttons", m)
	}
	if err := c.EditMessageReplyMarkup(ctx, alice.ID, id, telegram.Keyboard{{{Text: "甲", Data: "a"}}}); err != nil {
		t.Fatalf("EditMessageReplyMarkup: %v", err)
	}
	if m = srv.Messages(alice.ID)[0]; len(m.Keyboard) != 1 || m.Keyboard[0][0].Data != "a" {
		t.Errorf("after EditMessageReplyMarkup: %+v", m)
	}
	if err := c.EditMessageReplyMarkup(ctx, alice.ID, id, telegram.Keyboard{}); err != nil {
		t.Fatalf("EditMessageReplyMarkup(empty): %v", err)
	}
	if m = srv.Messages(alice.ID)[0]; m.Keyboard != nil {
		t.Errorf("after EditMessageReplyMarkup(empty): %+v, want no buttons", m)
	}
	// Again: Telegram answers "message is not modified", which is success.
	err = c.EditMessageReplyMarkup(ctx, alice.ID, id, telegram.Keyboard{})
	if !telegram.IsNotModified(err) || telegram.Classify(err) != telegram.NotModified {
		t.Errorf("removing absent buttons: %v (classified %v), want not modified", err, telegram.Classify(err))
	}
	err = c.EditMessageText(ctx, alice.ID, id, "再改", nil)
	if !telegram.IsNotModified(err) {
		t.Errorf("EditMessageText to the same text: %v, want not modified", err)
	}
}

func TestGetUpdates(t *testing.T) {
	srv, c := mustStart(t, telegramtest.Options{})
	ctx := testContext(t)
	allowed := []string{"message", "callback_query"}
	first := srv.SendText(alice, alice.Chat(), "/start")
	id, err := c.SendMessage(ctx, alice.ID, "选", telegram.Keyboard{{{Text: "是", Data: "y"}}})
	if err != nil {
		t.Fatal(err)
	}
	press, err := srv.Press(alice, alice.ID, id, "y")
	if err != nil {
		t.Fatal(err)
	}
	ups, err := c.GetUpdates(ctx, 0, 0, 0, allowed)
	if err != nil {
		t.Fatalf("GetUpdates: %v", err)
	}
	if len(ups) != 2 || ups[0].ID != first || ups[0].Message == nil || ups[0].Message.Text != "/start" ||
		ups[1].ID != press || ups[1].CallbackQuery == nil || ups[1].CallbackQuery.Data != "y" {
		t.Fatalf("GetUpdates = %+v, want the /start message %d and the press %d", ups, first, press)
	}
	// limit, and the offset confirms what is below it.
	srv.SendText(bob, bob.Chat(), "一")
	srv.SendText(bob, bob.Chat(), "二")
	ups, err = c.GetUpdates(ctx, press+1, 0, 1, nil)
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "一" {
		t.Fatalf("GetUpdates(offset %d, limit 1) = %+v, %v; want the first of bob's", press+1, ups, err)
	}
	ups, err = c.GetUpdates(ctx, ups[0].ID+1, 0, 0, nil)
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "二" {
		t.Fatalf("GetUpdates after confirming = %+v, %v; want bob's second", ups, err)
	}

	// A long poll outlives the HTTP client's timeout: the call has its own
	// deadline.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	short := telegram.New(srv.URL(), token, &http.Client{Transport: tr, Timeout: 200 * time.Millisecond})
	next := ups[0].ID + 1
	go func() {
		time.Sleep(700 * time.Millisecond)
		srv.SendText(alice, alice.Chat(), "迟到的")
	}()
	start := time.Now()
	ups, err = short.GetUpdates(ctx, next, 5*time.Second, 0, nil)
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "迟到的" {
		t.Fatalf("long poll with a 200 ms client = %+v, %v; want the late message", ups, err)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("long poll answered after %v, before the message was sent", d)
	}
	// And a long poll with nothing to get returns empty at its timeout.
	ups, err = short.GetUpdates(ctx, ups[0].ID+1, time.Second, 0, nil)
	if err != nil || len(ups) != 0 {
		t.Errorf("empty long poll = %+v, %v; want none", ups, err)
	}
}

func TestDocumentsAndPhotos(t *testing.T) {
	srv, c := mustStart(t, telegramtest.Options{})
	ctx := testContext(t)
	srv.AddUser(alice)
	content := []byte("PK\x03\x04 fake workbook 月报")
	id, err := c.SendDocument(ctx, alice.ID, telegram.InputFile{Name: "三月\"报表\".xlsx", Data: content}, "三月汇总")
	if err != nil {
		t.Fatalf("SendDocument (upload): %v", err)
	}
	m, _ := srv.LastMessage(alice.ID)
	if m.MessageID != id || m.Document == nil || m.Document.Name != "三月\"报表\".xlsx" || !bytes.Equal(m.Document.Content, content) || m.Caption != "三月汇总" {
		t.Fatalf("stored %+v (document %+v), want id %d, the name, the bytes and the caption", m, m.Document, id)
	}
	if _, err := c.SendDocument(ctx, alice.ID, telegram.InputFile{Data: []byte("x")}, ""); err != nil {
		t.Fatalf("SendDocument without a name: %v", err)
	}
	if m, _ := srv.LastMessage(alice.ID); m.Document == nil || m.Document.Name != "document" || m.Caption != "" {
		t.Errorf("upload without a name stored %+v, want the name document and no caption", m.Document)
	}
	fileID := srv.Messages(alice.ID)[0].Document.ID
	id2, err := c.SendDocument(ctx, alice.ID, telegram.InputFile{FileID: fileID}, "重发")
	if err != nil {
		t.Fatalf("SendDocument (file id): %v", err)
	}
	if m, _ := srv.LastMessage(alice.ID); m.MessageID != id2 || m.Document.ID != fileID || m.Caption != "重发" {
		t.Errorf("resent %+v, want file %s captioned 重发", m, fileID)
	}
	if _, err := c.SendDocument(ctx, alice.ID, telegram.InputFile{}, ""); err == nil || telegram.Classify(err) != telegram.Permanent {
		t.Errorf("SendDocument of nothing: %v, want a permanent error", err)
	}

	img := pngImage(t, 1000, 500)
	pid, err := c.SendPhoto(ctx, alice.ID, telegram.InputFile{Name: "chart.png", Data: img}, "图表")
	if err != nil {
		t.Fatalf("SendPhoto (upload): %v", err)
	}
	m, _ = srv.LastMessage(alice.ID)
	if m.MessageID != pid || m.Photo == nil || m.Photo.Width != 1000 || !bytes.Equal(m.Photo.Content, img) || m.Caption != "图表" {
		t.Fatalf("stored photo %+v, want the 1000x500 image captioned 图表", m)
	}
	if _, err := c.SendPhoto(ctx, alice.ID, telegram.InputFile{FileID: m.Photo.ID}, ""); err != nil {
		t.Errorf("SendPhoto (file id): %v", err)
	}
	if _, err := c.SendPhoto(ctx, alice.ID, telegram.InputFile{FileID: fileID}, ""); telegram.Classify(err) != telegram.Permanent {
		t.Errorf("SendPhoto of a document's id: %v, want a permanent error", err)
	}
}

func TestSendMediaGroup(t *testing.T) {
	srv, c := mustStart(t, telegramtest.Options{})
	ctx := testContext(t)
	const group = -5001
	srv.AddGroup(telegramtest.Chat{ID: group, Title: "一中填报群"})
	names := []string{"一中.xlsx", "二中.pdf", "三中.csv"}
	var items []telegram.InputMedia
	for i, n := range names {
		items = append(items, telegram.InputMedia{File: telegram.InputFile{Name: n, Data: []byte("内容 " + n)}, Caption: "回执 " + names[i]})
	}
	ids, err := c.SendMediaGroup(ctx, group, items)
	if err != nil {
		t.Fatalf("SendMediaGroup (uploads): %v", err)
	}
	msgs := srv.Messages(group)
	if len(ids) != 3 || len(msgs) != 3 {
		t.Fatalf("SendMediaGroup = %v, %d stored; want 3 of each", ids, len(msgs))
	}
	for i, m := range msgs {
		if m.MessageID != ids[i] || m.Document == nil || m.Document.Name != names[i] || string(m.Document.Content) != "内容 "+names[i] || m.Caption != "回执 "+names[i] || m.MediaGroupID == "" {
			t.Errorf("album message %d = %+v (document %+v), want id %d, %s with its bytes and caption", i, m, m.Document, ids[i], names[i])
		}
	}

	// By file id (a JSON body), mixed with an upload (multipart).
	byID := []telegram.InputMedia{
		{Type: telegram.MediaDocument, File: telegram.InputFile{FileID: msgs[0].Document.ID}, Caption: "甲"},
		{File: telegram.InputFile{FileID: msgs[1].Document.ID}},
	}
	if ids, err := c.SendMediaGroup(ctx, group, byID); err != nil || len(ids) != 2 {
		t.Fatalf("SendMediaGroup (file ids) = %v, %v", ids, err)
	}
	if got := srv.Messages(group)[3]; got.Document.ID != msgs[0].Document.ID || got.Caption != "甲" {
		t.Errorf("resent album's first message %+v, want %s captioned 甲", got, msgs[0].Document.ID)
	}
	mixed := append(byID, telegram.InputMedia{File: telegram.InputFile{Name: "四中.txt", Data: []byte("四")}})
	if ids, err := c.SendMediaGroup(ctx, group, mixed); err != nil || len(ids) != 3 {
		t.Fatalf("SendMediaGroup (ids and an upload) = %v, %v", ids, err)
	}

	// Photos.
	img := pngImage(t, 64, 48)
	photos := []telegram.InputMedia{
		{Type: telegram.MediaPhoto, File: telegram.InputFile{Data: img}, Caption: "现场一"},
		{Type: telegram.MediaPhoto, File: telegram.InputFile{Name: "b.png", Data: img}},
	}
	if ids, err := c.SendMediaGroup(ctx, alice.ID, photos); telegram.Classify(err) != telegram.Permanent || ids != nil {
		t.Errorf("album to an unknown chat = %v, %v; want a permanent error", ids, err)
	}
	srv.AddUser(alice)
	if _, err := c.SendMediaGroup(ctx, alice.ID, photos); err != nil {
		t.Fatalf("SendMediaGroup (photos): %v", err)
	}
	if m, _ := srv.LastMessage(alice.ID); m.Photo == nil || m.Photo.Width != 64 {
		t.Errorf("last album photo %+v, want 64 px wide", m.Photo)
	}

	// Documents do not group with photos; one item is not an album.
	err = func() error {
		_, err := c.SendMediaGroup(ctx, group, []telegram.InputMedia{byID[0], photos[0]})
		return err
	}()
	var te *telegram.Error
	if !errors.As(err, &te) || te.Code != 400 || te.Method != "sendMediaGroup" {
		t.Errorf("document with photo: %v, want a 400 *Error of sendMediaGroup", err)
	}
	if _, err := c.SendMediaGroup(ctx, group, byID[:1]); telegram.Classify(err) != telegram.Permanent {
		t.Errorf("album of one: %v, want a permanent error", err)
	}
}

// TestAlbumCountsAgainstGroupLimit: a 10-document album is 10 of a group's
// 20 messages a minute.
func TestAlbumCountsAgainstGroupLimit(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	srv, c := mustStart(t, telegramtest.Options{Now: func() time.Time { return now }, Limits: telegramtest.Limits{PerGroupPerMinute: 20}})
	ctx := testContext(t)
	const group = -5002
	srv.AddGroup(telegramtest.Chat{ID: group})
	var album []telegram.InputMedia
	for i := range 10 {
		album = append(album, telegram.InputMedia{File: telegram.InputFile{Name: "回执.pdf", Data: []byte{byte('0' + i)}}})
	}
	for i := range 2 {
		if _, err := c.SendMediaGroup(ctx, group, album); err != nil {
			t.Fatalf("album %d of 10: %v", i+1, err)
		}
	}
	if st := srv.Stats(); st.Sends != 20 {
		t.Errorf("Stats().Sends = %d after two albums of 10, want 20", st.Sends)
	}
	_, err := c.SendMessage(ctx, group, "还有一条", nil)
	var te *telegram.Error
	if telegram.Classify(err) != telegram.Flood || !errors.As(err, &te) || te.RetryAfter != time.Minute {
		t.Errorf("a text after 20 album messages: %v, want flood with retry after 60 s", err)
	}
}

func TestCommandsAndWebhook(t *testing.T) {
	srv, c := mustStart(t, telegramtest.Options{})
	ctx := testContext(t)
	cmds := []telegram.Command{{Command: "start", Description: "开始填报"}, {Command: "status", Description: "查看进度"}}
	if err := c.SetMyCommands(ctx, telegram.CommandScope{}, cmds); err != nil {
		t.Fatalf("SetMyCommands: %v", err)
	}
	want := []telegramtest.Command{{Command: "start", Description: "开始填报"}, {Command: "status", Description: "查看进度"}}
	if got := srv.Commands(); !reflect.DeepEqual(got, want) {
		t.Errorf("Commands() = %v, want %v", got, want)
	}
	chat := telegramtest.CommandScope{Type: "chat", ChatID: -10042}
	if err := c.SetMyCommands(ctx, telegram.ChatScope(-10042), cmds[1:]); err != nil {
		t.Fatalf("SetMyCommands(chat -10042): %v", err)
	}
	if got := srv.CommandsFor(chat, ""); !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("CommandsFor(chat -10042) = %v, want %v", got, want[1:])
	}
	if err := c.DeleteMyCommands(ctx, telegram.ChatScope(-10042)); err != nil {
		t.Fatalf("DeleteMyCommands(chat -10042): %v", err)
	}
	if got := srv.CommandsFor(chat, ""); len(got) != 0 || !reflect.DeepEqual(srv.Commands(), want) {
		t.Errorf("after DeleteMyCommands(chat -10042): chat %v, default %v; want none and %v", got, srv.Commands(), want)
	}
	if err := c.SetMyCommands(ctx, telegram.CommandScope{}, []telegram.Command{{Command: "Start", Description: "x"}}); telegram.Classify(err) != telegram.Permanent {
		t.Errorf("SetMyCommands with an invalid command: %v, want a permanent error", err)
	}

	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)
	if err := c.SetWebhook(ctx, hook.URL+"/hook", "s3cret_-", []string{"message"}, 7); err != nil {
		t.Fatalf("SetWebhook: %v", err)
	}
	if wh := srv.Webhook(); wh.URL != hook.URL+"/hook" || wh.SecretToken != "s3cret_-" || wh.MaxConnections != 7 || !reflect.DeepEqual(wh.AllowedUpdates, []string{"message"}) {
		t.Errorf("Webhook() = %+v, want the URL, secret, 7 connections and [message]", wh)
	}
	_, err := c.GetUpdates(ctx, 0, 0, 0, nil)
	var te *telegram.Error
	if !errors.As(err, &te) || te.Code != http.StatusConflict || telegram.Classify(err) != telegram.Permanent {
		t.Errorf("GetUpdates while a webhook is set: %v, want a 409 *Error", err)
	}
	if err := c.DeleteWebhook(ctx); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	if wh := srv.Webhook(); wh.URL != "" {
		t.Errorf("Webhook() after DeleteWebhook = %+v", wh)
	}
	if _, err := c.GetUpdates(ctx, 0, 0, 0, nil); err != nil {
		t.Errorf("GetUpdates after DeleteWebhook: %v", err)
	}
}

func TestGetFileAndDownload(t *testing.T) {
	var fileGets atomic.Int32
	srv, c := mustStartWrapped(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/file/") {
				fileGets.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	ctx := testContext(t)
	content := []byte("单位,人数\n一中,3\n")
	srv.Upload(alice, alice.ID, "名单.csv", "", content)
	ups, err := c.GetUpdates(ctx, 0, 0, 0, nil)
	if err != nil || len(ups) != 1 || ups[0].Message.Document == nil {
		t.Fatalf("GetUpdates = %+v, %v; want the uploaded document", ups, err)
	}
	fileID := ups[0].Message.Document.FileID

	path, size, err := c.GetFile(ctx, fileID)
	if err != nil || path == "" || size != int64(len(content)) {
		t.Fatalf("GetFile = %q, %d, %v; want a path and size %d", path, size, err, len(content))
	}
	got, err := c.Download(ctx, fileID, 1<<20)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("Download = %q, %v; want %q", got, err, content)
	}
	if got, err := c.Download(ctx, fileID, int64(len(content))); err != nil || !bytes.Equal(got, content) {
		t.Errorf("Download with a cap of exactly its size = %q, %v", got, err)
	}

	gets := fileGets.Load()
	_, err = c.Download(ctx, fileID, int64(len(content))-1)
	if !errors.Is(err, telegram.ErrTooBig) || telegram.Classify(err) != telegram.Permanent {
		t.Errorf("Download over the cap: %v, want ErrTooBig (permanent)", err)
	}
	if n := fileGets.Load() - gets; n != 0 {
		t.Errorf("Download over the cap fetched the file %d times; the size was known", n)
	}
	if _, _, err := c.GetFile(ctx, "nope"); telegram.Classify(err) != telegram.Permanent {
		t.Errorf("GetFile of an unknown id: %v, want a permanent error", err)
	}
}

// TestDownloadLongerThanAnnounced: a file bigger than getFile said is cut
// off at the cap, not read whole.
func TestDownloadLongerThanAnnounced(t *testing.T) {
	big := bytes.Repeat([]byte("报"), 1000) // 3000 bytes
	for _, announce := range []bool{true, false} {
		srv, c := mustStartWrapped(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasPrefix(r.URL.Path, "/file/") {
					h.ServeHTTP(w, r)
					return
				}
				if !announce {
					w.(http.Flusher).Flush() // chunked: no Content-Length
				}
				_, _ = w.Write(big)
			})
		})
		ctx := testContext(t)
		srv.Upload(alice, alice.ID, "小.txt", "", []byte("small"))
		ups, err := c.GetUpdates(ctx, 0, 0, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Download(ctx, ups[0].Message.Document.FileID, 100)
		if !errors.Is(err, telegram.ErrTooBig) {
			t.Errorf("Download (Content-Length sent: %v) of 3000 bytes with a cap of 100: %v, want ErrTooBig", announce, err)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("error shows the token: %v", err)
		}
	}
}
