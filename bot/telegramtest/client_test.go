package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"reportbot/bot/telegramtest"
)

func keyboard(rows ...[]models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

func TestClientGetMe(t *testing.T) {
	srv := newServer(t, telegramtest.Options{BotUsername: "report_bot"})
	// Without WithSkipGetMe, New calls getMe with an empty multipart body.
	b, err := tgbot.New(token, tgbot.WithServerURL(srv.URL()))
	if err != nil {
		t.Fatalf("tgbot.New: %v", err)
	}
	me, err := b.GetMe(testContext(t))
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if me.ID != 123456 || !me.IsBot || me.Username != "report_bot" {
		t.Errorf("GetMe = %+v, want id 123456, is_bot, username report_bot", me)
	}
	if got := srv.Calls("getMe"); got != 2 {
		t.Errorf("Calls(getMe) = %d, want 2", got)
	}

	if _, err := tgbot.New("999:wrong", tgbot.WithServerURL(srv.URL())); !errors.Is(err, tgbot.ErrorUnauthorized) {
		t.Errorf("tgbot.New with a wrong token: err = %v, want ErrorUnauthorized", err)
	}
}

func TestClientKeyboardPressAnswerEdit(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	srv.SendText(alice, alice.Chat(), "/start")

	sent, err := b.SendMessage(ctx, &tgbot.SendMessageParams{
		ChatID:    alice.ID,
		Text:      "请选择：",
		ParseMode: models.ParseModeHTML,
		ReplyMarkup: keyboard(
			[]models.InlineKeyboardButton{{Text: "是", CallbackData: "q1:yes"}, {Text: "否", CallbackData: "q1:no"}},
			[]models.InlineKeyboardButton{{Text: "说明", URL: "https://example.org/help"}},
		),
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if sent.ID != 2 || sent.Chat.ID != alice.ID || sent.Chat.Type != models.ChatTypePrivate || sent.From == nil || !sent.From.IsBot {
		t.Errorf("SendMessage = id %d chat %+v from %+v, want id 2 (after the user's /start) in alice's private chat from the bot", sent.ID, sent.Chat, sent.From)
	}
	if sent.ReplyMarkup == nil || sent.ReplyMarkup.InlineKeyboard[0][1].CallbackData != "q1:no" {
		t.Errorf("SendMessage reply_markup = %+v, want the keyboard echoed", sent.ReplyMarkup)
	}
	msgs := srv.Messages(alice.ID)
	wantKb := [][]telegramtest.Button{
		{{Text: "是", Data: "q1:yes"}, {Text: "否", Data: "q1:no"}},
		{{Text: "说明", URL: "https://example.org/help"}},
	}
	if len(msgs) != 1 || msgs[0].Text != "请选择：" || msgs[0].ParseMode != "HTML" || !reflect.DeepEqual(msgs[0].Keyboard, wantKb) {
		t.Fatalf("Messages(alice) = %+v, want one message with keyboard %v", msgs, wantKb)
	}

	// The user presses; the bot reads the callback query with its message.
	updID, err := srv.Press(alice, alice.ID, sent.ID, "q1:yes")
	if err != nil {
		t.Fatalf("Press: %v", err)
	}
	r := call(t, srv, "getUpdates", map[string]any{"offset": 0})
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatalf("decode updates %s: %v", r.Result, err)
	}
	if len(ups) != 2 || ups[0].Message == nil || ups[1].CallbackQuery == nil || ups[1].ID != updID {
		t.Fatalf("getUpdates = %s, want the /start message and the callback query %d", r.Result, updID)
	}
	start := ups[0].Message
	if start.Text != "/start" || len(start.Entities) != 1 || start.Entities[0].Type != models.MessageEntityTypeBotCommand || start.Entities[0].Length != 6 {
		t.Errorf("/start message = %+v, want a bot_command entity of length 6", start)
	}
	cq := ups[1].CallbackQuery
	if cq.Data != "q1:yes" || cq.From.ID != alice.ID || cq.Message.Message == nil || cq.Message.Message.ID != sent.ID {
		t.Errorf("callback query = %+v, want data q1:yes from alice on message %d", cq, sent.ID)
	}

	ok, err := b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: "已记录"})
	if err != nil || !ok {
		t.Fatalf("AnswerCallbackQuery = %v, %v, want true", ok, err)
	}
	if q, _ := srv.Callback(updID); !q.Answered || q.Text != "已记录" {
		t.Errorf("Callback(%d) = %+v, want answered with text 已记录", updID, q)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID}); !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("second AnswerCallbackQuery: err = %v, want ErrorBadRequest", err)
	}

	// Replace the keyboard; the same one again is "not modified".
	newKb := keyboard([]models.InlineKeyboardButton{{Text: "确认", CallbackData: "q1:confirm"}})
	if _, err := b.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: alice.ID, MessageID: sent.ID, ReplyMarkup: newKb}); err != nil {
		t.Fatalf("EditMessageReplyMarkup: %v", err)
	}
	_, err = b.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: alice.ID, MessageID: sent.ID, ReplyMarkup: newKb})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("EditMessageReplyMarkup with the same keyboard: err = %v, want bad request: message is not modified", err)
	}
	if _, err := srv.Press(alice, alice.ID, sent.ID, "q1:yes"); err == nil {
		t.Errorf("Press(q1:yes) after the keyboard was replaced: err = nil, want an error")
	}
	if _, err := srv.Press(alice, alice.ID, sent.ID, "q1:confirm"); err != nil {
		t.Errorf("Press(q1:confirm): %v", err)
	}

	// Editing the text without reply_markup removes the keyboard.
	edited, err := b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: alice.ID, MessageID: sent.ID, Text: "已选择：是"})
	if err != nil {
		t.Fatalf("EditMessageText: %v", err)
	}
	if edited.Text != "已选择：是" || edited.EditDate == 0 || edited.ReplyMarkup != nil {
		t.Errorf("EditMessageText = %+v, want the new text, an edit_date and no keyboard", edited)
	}
	m, _ := srv.LastMessage(alice.ID)
	if m.Text != "已选择：是" || m.Keyboard != nil || m.EditDate.IsZero() {
		t.Errorf("LastMessage = %+v, want edited text without keyboard", m)
	}
	if _, err := srv.Press(alice, alice.ID, sent.ID, "q1:confirm"); err == nil {
		t.Errorf("Press after the keyboard was edited away: err = nil, want an error")
	}

	if _, err := b.SendChatAction(ctx, &tgbot.SendChatActionParams{ChatID: alice.ID, Action: models.ChatActionTyping}); err != nil {
		t.Errorf("SendChatAction: %v", err)
	}
	if got := srv.ChatAction(alice.ID); got != "typing" {
		t.Errorf("ChatAction = %q, want typing", got)
	}
	if ok, err := b.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: alice.ID, MessageID: sent.ID}); err != nil || !ok {
		t.Errorf("DeleteMessage = %v, %v, want true", ok, err)
	}
	if got := srv.Messages(alice.ID); len(got) != 0 {
		t.Errorf("Messages after DeleteMessage = %+v, want none", got)
	}
	if _, err := b.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: alice.ID, MessageID: sent.ID}); !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("DeleteMessage twice: err = %v, want ErrorBadRequest", err)
	}
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d", resp.StatusCode)
	}
	return body
}

func TestClientDocumentsAndPhotos(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	srv.AddUser(alice)
	content := []byte("PK\x03\x04 fake workbook 月报")

	doc, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{
		ChatID:   alice.ID,
		Document: &models.InputFileUpload{Filename: "三月报表.xlsx", Data: bytes.NewReader(content)},
		Caption:  "三月汇总",
	})
	if err != nil {
		t.Fatalf("SendDocument (upload): %v", err)
	}
	d := doc.Document
	if d == nil || d.FileName != "三月报表.xlsx" || d.FileSize != int64(len(content)) ||
		d.MimeType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || doc.Caption != "三月汇总" {
		t.Fatalf("SendDocument = %+v (document %+v), want the file with name, size, xlsx mime type and caption", doc, d)
	}

	again, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: alice.ID, Document: &models.InputFileString{Data: d.FileID}})
	if err != nil {
		t.Fatalf("SendDocument (file_id): %v", err)
	}
	if again.Document.FileID != d.FileID || again.Document.FileUniqueID != d.FileUniqueID {
		t.Errorf("SendDocument by file_id = %+v, want the same file %s", again.Document, d.FileID)
	}
	if _, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: alice.ID, Document: &models.InputFileString{Data: "nope"}}); !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("SendDocument with an unknown file_id: err = %v, want ErrorBadRequest", err)
	}

	f, err := b.GetFile(ctx, &tgbot.GetFileParams{FileID: d.FileID})
	if err != nil {
		t.Fatalf("GetFile: %v", err)
	}
	if got := download(t, b.FileDownloadLink(f)); !bytes.Equal(got, content) {
		t.Errorf("download %s = %q, want %q", f.FilePath, got, content)
	}
	msgs := srv.Messages(alice.ID)
	if len(msgs) != 2 || msgs[0].Document == nil || !bytes.Equal(msgs[0].Document.Content, content) {
		t.Errorf("Messages = %+v, want two documents with the content", msgs)
	}

	// A file the user uploads can be fetched by the bot.
	srv.Upload(alice, alice.ID, "名单.csv", "", []byte("单位,人数\n一中,3\n"))
	var raw struct {
		Result []struct {
			Message struct {
				Document struct {
					FileID   string `json:"file_id"`
					FileName string `json:"file_name"`
					MimeType string `json:"mime_type"`
				} `json:"document"`
			} `json:"message"`
		} `json:"result"`
	}
	r := call(t, srv, "getUpdates", map[string]any{})
	if err := json.Unmarshal([]byte(`{"result":`+string(r.Result)+`}`), &raw); err != nil || len(raw.Result) != 1 {
		t.Fatalf("getUpdates after Upload = %s (%v), want one update", r.Result, err)
	}
	up := raw.Result[0].Message.Document
	if up.FileName != "名单.csv" || up.MimeType != "text/csv" {
		t.Errorf("uploaded document = %+v, want 名单.csv as text/csv", up)
	}
	uf, err := b.GetFile(ctx, &tgbot.GetFileParams{FileID: up.FileID})
	if err != nil {
		t.Fatalf("GetFile(user's document): %v", err)
	}
	if got := download(t, b.FileDownloadLink(uf)); string(got) != "单位,人数\n一中,3\n" {
		t.Errorf("download of the user's document = %q", got)
	}

	// Photos: sizes like Telegram's, the largest with the real dimensions.
	img := pngImage(t, 1000, 500)
	ph, err := b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: alice.ID, Photo: &models.InputFileUpload{Filename: "chart.png", Data: bytes.NewReader(img)}})
	if err != nil {
		t.Fatalf("SendPhoto: %v", err)
	}
	if n := len(ph.Photo); n < 2 || ph.Photo[n-1].Width != 1000 || ph.Photo[n-1].Height != 500 || ph.Photo[0].Width != 90 {
		t.Errorf("SendPhoto sizes = %+v, want several sizes from 90 px wide to 1000x500", ph.Photo)
	}
	if _, err := b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: alice.ID, Photo: &models.InputFileString{Data: ph.Photo[0].FileID}}); err != nil {
		t.Errorf("SendPhoto by file_id: %v", err)
	}
	_, err = b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: alice.ID, Photo: &models.InputFileUpload{Filename: "x.png", Data: strings.NewReader("not an image")}})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "IMAGE_PROCESS_FAILED") {
		t.Errorf("SendPhoto with garbage: err = %v, want bad request IMAGE_PROCESS_FAILED", err)
	}
	_, err = b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: alice.ID, Document: &models.InputFileString{Data: d.FileID}, Caption: strings.Repeat("报", 1025)})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "caption is too long") {
		t.Errorf("SendDocument with a 1025-character caption: err = %v, want bad request: message caption is too long", err)
	}
	if _, err := b.EditMessageCaption(ctx, &tgbot.EditMessageCaptionParams{ChatID: alice.ID, MessageID: doc.ID, Caption: "三月汇总（修订）"}); err != nil {
		t.Errorf("EditMessageCaption: %v", err)
	}

	srv.UploadPhoto(bob, bob.ID, pngImage(t, 640, 480))
	if h := srv.History(bob.ID); len(h) != 1 || h[0].Photo == nil || h[0].Photo.Width != 640 || h[0].FromBot {
		t.Errorf("History(bob) after UploadPhoto = %+v, want bob's 640x480 photo", h)
	}
}

func TestClientCommands(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	cmds := []models.BotCommand{{Command: "start", Description: "开始填报"}, {Command: "status", Description: "查看进度"}}
	if ok, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds}); err != nil || !ok {
		t.Fatalf("SetMyCommands = %v, %v", ok, err)
	}
	want := []telegramtest.Command{{Command: "start", Description: "开始填报"}, {Command: "status", Description: "查看进度"}}
	if got := srv.Commands(); !reflect.DeepEqual(got, want) {
		t.Errorf("Commands() = %v, want %v", got, want)
	}
	got, err := b.GetMyCommands(ctx, &tgbot.GetMyCommandsParams{})
	if err != nil || !reflect.DeepEqual(got, cmds) {
		t.Errorf("GetMyCommands = %v, %v, want %v", got, err, cmds)
	}

	admin := []models.BotCommand{{Command: "export", Description: "导出"}}
	if _, err := b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: admin, Scope: &models.BotCommandScopeChat{ChatID: 42}, LanguageCode: "zh"}); err != nil {
		t.Fatalf("SetMyCommands(scope chat 42, zh): %v", err)
	}
	if got := srv.CommandsFor(telegramtest.CommandScope{Type: "chat", ChatID: 42}, "zh"); len(got) != 1 || got[0].Command != "export" {
		t.Errorf("CommandsFor(chat 42, zh) = %v, want [export]", got)
	}
	_, err = b.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Start", Description: "x"}}})
	if !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("SetMyCommands with an upper-case command: err = %v, want ErrorBadRequest", err)
	}
}

func TestClientErrors(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	srv.AddUser(alice)
	send := func(chatID int64, text string) error {
		_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
		return err
	}

	srv.FailNext("sendMessage", http.StatusTooManyRequests, 7)
	err := send(alice.ID, "hi")
	var tooMany *tgbot.TooManyRequestsError
	if !errors.As(err, &tooMany) || tooMany.RetryAfter != 7 {
		t.Errorf("after FailNext(429, 7): err = %v, want *TooManyRequestsError with RetryAfter 7", err)
	}
	if err := send(alice.ID, "hi"); err != nil {
		t.Errorf("the call after a FailNext: %v", err)
	}
	srv.FailNext("SENDMESSAGE", http.StatusInternalServerError, 0)
	if err := send(alice.ID, "hi"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("after FailNext(500): err = %v, want a 500 error", err)
	}

	srv.Block(alice.ID)
	if err := send(alice.ID, "hi"); !errors.Is(err, tgbot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
		t.Errorf("send to a user who blocked the bot: err = %v, want ErrorForbidden: bot was blocked by the user", err)
	}
	srv.Unblock(alice.ID)
	if err := send(alice.ID, "hi"); err != nil {
		t.Errorf("send after Unblock: %v", err)
	}

	const oldID, newID = -4001, -1004001
	srv.AddGroup(telegramtest.Chat{ID: oldID, Title: "一中填报群"})
	srv.MigrateGroup(oldID, newID)
	err = send(oldID, "hi")
	var migrate *tgbot.MigrateError
	if !errors.As(err, &migrate) || migrate.MigrateToChatID != newID {
		t.Errorf("send to a migrated group: err = %v, want *MigrateError to %d", err, newID)
	}
	if err := send(newID, "hi"); err != nil {
		t.Errorf("send to the new supergroup: %v", err)
	}

	tests := []struct {
		name string
		text string
		kb   *models.InlineKeyboardMarkup
		want string // "" for success
	}{
		{"4096 CJK characters", strings.Repeat("报", 4096), nil, ""},
		{"4097 CJK characters", strings.Repeat("报", 4097), nil, "message is too long"},
		{"2048 emoji (4096 UTF-16 units)", strings.Repeat("📊", 2048), nil, ""},
		{"2049 emoji (4098 UTF-16 units)", strings.Repeat("📊", 2049), nil, "message is too long"},
		{"empty text", "", nil, "message text is empty"},
		{"blank text", " \n ", nil, "message text is empty"},
		{"callback_data of 63 bytes", "q", keyboard([]models.InlineKeyboardButton{{Text: "x", CallbackData: strings.Repeat("单", 21)}}), ""},
		{"callback_data of 66 bytes", "q", keyboard([]models.InlineKeyboardButton{{Text: "x", CallbackData: strings.Repeat("单", 22)}}), "BUTTON_DATA_INVALID"},
		{"text-only button", "q", keyboard([]models.InlineKeyboardButton{{Text: "x"}}), "text buttons are unallowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: alice.ID, Text: tt.text, ReplyMarkup: tt.kb})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("SendMessage: %v, want success", err)
			case tt.want != "" && (!errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("SendMessage: err = %v, want bad request %q", err, tt.want)
			}
		})
	}

	if err := send(777, "hi"); !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "chat not found") {
		t.Errorf("send to an unknown chat: err = %v, want bad request: chat not found", err)
	}
	if r := call(t, srv, "sendCarrierPigeon", map[string]any{}); r.Status != 404 || r.ErrorCode != 404 || r.Description != "Not Found" {
		t.Errorf("unknown method = %d %+v, want 404 Not Found", r.Status, r)
	}
	r := post(t, srv.URL()+"/bot1:bad/getMe", "application/json", []byte(`{}`))
	if r.Status != 401 || r.OK || r.ErrorCode != 401 || r.Description != "Unauthorized" {
		t.Errorf("wrong token = %d %+v, want 401 Unauthorized", r.Status, r)
	}
}

// TestClientPoller runs go-telegram's own long-polling loop against the fake.
func TestClientPoller(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	got := make(chan *models.Update, 10)
	b, err := tgbot.New(token, tgbot.WithServerURL(srv.URL()), tgbot.WithSkipGetMe(),
		tgbot.WithDefaultHandler(func(_ context.Context, _ *tgbot.Bot, u *models.Update) { got <- u }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Start(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	group := telegramtest.Chat{ID: -5001, Title: "填报群"}
	srv.SendText(alice, alice.Chat(), "你好 /help")
	srv.SendText(bob, group, "/start@test_bot now")
	for i := 0; i < 2; i++ {
		select {
		case u := <-got:
			m := u.Message
			if m == nil || len(m.Entities) != 1 || m.Entities[0].Type != models.MessageEntityTypeBotCommand {
				t.Fatalf("update %+v, want a message with one bot_command entity", u)
			}
			e := m.Entities[0]
			switch m.Chat.ID {
			case alice.ID:
				if e.Offset != 3 || e.Length != 5 {
					t.Errorf("entity of %q = %+v, want offset 3 length 5 (UTF-16)", m.Text, e)
				}
			case group.ID:
				if m.Chat.Type != models.ChatTypeGroup || e.Offset != 0 || e.Length != len("/start@test_bot") || m.From.FirstName != "小明" {
					t.Errorf("group message = %+v entity %+v, want a group bot_command covering /start@test_bot from 小明", m, e)
				}
			default:
				t.Errorf("update in unexpected chat %d", m.Chat.ID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("go-telegram's poller received nothing")
		}
	}
}
