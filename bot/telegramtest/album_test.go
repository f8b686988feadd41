package telegramtest_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"reportbot/bot/telegramtest"
)

// TestAlbumUploadAndResend sends an album of uploaded documents with
// go-telegram (multipart, attach://), then the same files again by file_id.
func TestAlbumUploadAndResend(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	const group = -6001
	srv.AddGroup(telegramtest.Chat{ID: group, Title: "一中填报群"})

	contents := [][]byte{[]byte("PK\x03\x04 一中"), []byte("%PDF-1.4 二中"), []byte("单位,人数\n三中,4\n")}
	names := []string{"一中.xlsx", "二中.pdf", "三中.csv"}
	var media []models.InputMedia
	for i := range contents {
		media = append(media, &models.InputMediaDocument{
			Media:           "attach://" + names[i],
			MediaAttachment: bytes.NewReader(contents[i]),
			Caption:         fmt.Sprintf("回执 %d", i+1),
		})
	}
	sent, err := b.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{ChatID: group, Media: media})
	if err != nil {
		t.Fatalf("SendMediaGroup (uploads): %v", err)
	}
	if len(sent) != 3 {
		t.Fatalf("SendMediaGroup answered %d messages, want 3", len(sent))
	}
	msgs := srv.Messages(group)
	if len(msgs) != 3 {
		t.Fatalf("Messages(group) = %d messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		d := m.Document
		if d == nil || d.Name != names[i] || !bytes.Equal(d.Content, contents[i]) || m.Caption != fmt.Sprintf("回执 %d", i+1) {
			t.Errorf("album message %d = %+v (document %+v), want %s with its bytes and caption 回执 %d", i, m, d, names[i], i+1)
		}
		if m.MediaGroupID == "" || m.MediaGroupID != msgs[0].MediaGroupID {
			t.Errorf("album message %d media_group_id %q, want one shared non-empty id (first: %q)", i, m.MediaGroupID, msgs[0].MediaGroupID)
		}
		if sent[i].ID != m.MessageID || sent[i].MediaGroupID != m.MediaGroupID || sent[i].Document == nil || sent[i].Document.FileID != d.ID || sent[i].Caption != m.Caption {
			t.Errorf("answer %d = id %d group %q document %+v caption %q, want the stored message %+v", i, sent[i].ID, sent[i].MediaGroupID, sent[i].Document, sent[i].Caption, m)
		}
	}

	// The same documents again by file_id: a new album, the same files.
	again, err := b.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{ChatID: group, Media: []models.InputMedia{
		&models.InputMediaDocument{Media: msgs[0].Document.ID},
		&models.InputMediaDocument{Media: msgs[2].Document.ID, Caption: "补发"},
	}})
	if err != nil {
		t.Fatalf("SendMediaGroup (file ids): %v", err)
	}
	if len(again) != 2 || again[0].Document.FileID != msgs[0].Document.ID || again[1].Caption != "补发" {
		t.Fatalf("SendMediaGroup by file_id = %+v, want the two files, the second captioned 补发", again)
	}
	if again[0].MediaGroupID == msgs[0].MediaGroupID || again[0].MediaGroupID != again[1].MediaGroupID {
		t.Errorf("second album media_group_id %q/%q, want one id different from the first album's %q", again[0].MediaGroupID, again[1].MediaGroupID, msgs[0].MediaGroupID)
	}
	if got := srv.Stats().Sends; got != 5 {
		t.Errorf("Stats().Sends = %d after albums of 3 and 2, want 5", got)
	}
}

// TestAlbumPhotosAndVideos: photos group with videos; photo sizes by file_id.
func TestAlbumPhotosAndVideos(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	srv.AddUser(alice)
	img := pngImage(t, 400, 300)
	sent, err := b.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{ChatID: alice.ID, Media: []models.InputMedia{
		&models.InputMediaPhoto{Media: "attach://p", MediaAttachment: bytes.NewReader(img), Caption: "现场"},
		&models.InputMediaVideo{Media: "attach://v", MediaAttachment: strings.NewReader("fake mp4 bytes")},
	}})
	if err != nil {
		t.Fatalf("SendMediaGroup (photo + video): %v", err)
	}
	if len(sent) != 2 || len(sent[0].Photo) == 0 || sent[0].Caption != "现场" || sent[1].Video == nil {
		t.Fatalf("SendMediaGroup = %+v, want a captioned photo and a video", sent)
	}
	msgs := srv.Messages(alice.ID)
	if len(msgs) != 2 || msgs[0].Photo == nil || msgs[0].Photo.Width != 400 || msgs[1].Video == nil || string(msgs[1].Video.Content) != "fake mp4 bytes" {
		t.Fatalf("Messages = %+v, want the 400x300 photo and the video", msgs)
	}
	// A photo's smallest size and the video, by file_id.
	if _, err := b.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{ChatID: alice.ID, Media: []models.InputMedia{
		&models.InputMediaPhoto{Media: sent[0].Photo[0].FileID},
		&models.InputMediaVideo{Media: sent[1].Video.FileID},
	}}); err != nil {
		t.Errorf("SendMediaGroup by file ids: %v", err)
	}
}

// TestAlbumErrors: what Telegram refuses, the fake refuses, and nothing of a
// refused album is stored or counted.
func TestAlbumErrors(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	b := newClient(t, srv)
	ctx := testContext(t)
	srv.AddUser(alice)
	srv.AddUser(bob)
	doc, err := b.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: alice.ID, Document: &models.InputFileUpload{Filename: "a.pdf", Data: strings.NewReader("%PDF a")}})
	if err != nil {
		t.Fatal(err)
	}
	ph, err := b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: alice.ID, Photo: &models.InputFileUpload{Filename: "p.png", Data: bytes.NewReader(pngImage(t, 10, 10))}})
	if err != nil {
		t.Fatal(err)
	}
	d, p := doc.Document.FileID, ph.Photo[0].FileID
	item := func(typ, media, caption string) map[string]string {
		return map[string]string{"type": typ, "media": media, "caption": caption}
	}
	docs := func(n int) []map[string]string {
		var out []map[string]string
		for range n {
			out = append(out, item("document", d, ""))
		}
		return out
	}
	const oldGroup, newGroup = -6101, -1006101
	srv.AddGroup(telegramtest.Chat{ID: oldGroup})
	srv.MigrateGroup(oldGroup, newGroup)
	srv.Block(bob.ID)

	tests := []struct {
		name  string
		chat  int64
		media any
		code  int
		want  string
	}{
		{"one item", alice.ID, docs(1), 400, "media must include 2-10 items"},
		{"no items", alice.ID, []map[string]string{}, 400, "media must include 2-10 items"},
		{"eleven items", alice.ID, docs(11), 400, "too much messages to send as an album"},
		{"document with photo", alice.ID, []map[string]string{item("document", d, ""), item("photo", p, "")}, 400, "only with other documents"},
		{"unknown file id", alice.ID, []map[string]string{item("document", d, ""), item("document", "nope", "")}, 400, "wrong file identifier"},
		{"photo id as document", alice.ID, []map[string]string{item("document", d, ""), item("document", p, "")}, 400, "type of file mismatch"},
		{"missing attachment", alice.ID, []map[string]string{item("document", d, ""), item("document", "attach://x", "")}, 400, "media not found"},
		{"URL", alice.ID, []map[string]string{item("photo", "https://example.org/a.jpg", ""), item("photo", p, "")}, 400, "failed to get HTTP URL content"},
		{"caption too long", alice.ID, []map[string]string{item("document", d, strings.Repeat("报", 1025)), item("document", d, "")}, 400, "caption is too long"},
		{"not an array", alice.ID, map[string]string{"type": "document"}, 400, "can't parse media JSON object"},
		{"blocked", bob.ID, docs(2), 403, "bot was blocked by the user"},
		{"migrated group", oldGroup, docs(2), 400, "upgraded to a supergroup"},
	}
	before := len(srv.Messages(alice.ID))
	sends := srv.Stats().Sends
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, srv, "sendMediaGroup", map[string]any{"chat_id": tt.chat, "media": tt.media})
			if r.OK || r.Status != tt.code || !strings.Contains(r.Description, tt.want) {
				t.Errorf("sendMediaGroup = %d %q, want %d %q", r.Status, r.Description, tt.code, tt.want)
			}
			if tt.name == "migrated group" && r.Parameters.MigrateToChatID != newGroup {
				t.Errorf("migrate_to_chat_id = %d, want %d", r.Parameters.MigrateToChatID, newGroup)
			}
		})
	}
	if got := len(srv.Messages(alice.ID)); got != before {
		t.Errorf("refused albums stored %d messages", got-before)
	}
	if got := srv.Stats().Sends; got != sends {
		t.Errorf("refused albums counted %d sends", got-sends)
	}
	// Through go-telegram, the refusal is its ErrorBadRequest like any other.
	_, err = b.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{ChatID: alice.ID, Media: []models.InputMedia{&models.InputMediaDocument{Media: d}}})
	if !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("go-telegram SendMediaGroup of one item: err = %v, want ErrorBadRequest", err)
	}
	if r := call(t, srv, "sendMediaGroup", map[string]any{"chat_id": alice.ID, "media": docs(2)}); !r.OK || r.Status != http.StatusOK {
		t.Errorf("a valid album after the refusals = %d %q, want ok", r.Status, r.Description)
	}
}
