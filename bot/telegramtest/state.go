package telegramtest

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // register decoders for photo dimensions
	_ "image/jpeg"
	_ "image/png"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// serviceUser is Telegram's service account, the sender of service messages
// the fake makes up (group migration).
var serviceUser = wireUser{ID: 777000, FirstName: "Telegram"}

type chatState struct {
	chat       wireChat
	blocked    bool
	migratedTo int64
	lastMsgID  int
	msgs       []*storedMessage // in order; deleted ones removed
	lastAction string

	bucket     bucket      // PerChat limit (private chats)
	groupSends []time.Time // PerGroupPerMinute window (groups)
}

func (c *chatState) isGroup() bool {
	return c.chat.Type == ChatGroup || c.chat.Type == ChatSupergroup
}

func (c *chatState) find(id int) (*storedMessage, int) {
	for i, m := range c.msgs {
		if m.id == id {
			return m, i
		}
	}
	return nil, -1
}

func (c *chatState) add(m *storedMessage) {
	c.lastMsgID++
	m.id = c.lastMsgID
	m.chatID = c.chat.ID
	c.msgs = append(c.msgs, m)
}

type storedMessage struct {
	id            int
	chatID        int64
	from          wireUser
	fromBot       bool
	date          time.Time
	editDate      time.Time
	text          string
	caption       string
	entities      []wireEntity
	parseMode     string
	keyboard      [][]wireButton
	replyKeyboard [][]string
	removeKb      bool
	document      *storedFile
	photo         []*storedFile // sizes, smallest first
	video         *storedFile
	mediaGroup    string // media_group_id of an album's messages
	replyTo       *storedMessage
	migrateTo     int64
	migrateFrom   int64
}

func (m *storedMessage) wire(chat wireChat, withReply bool) *wireMessage {
	from := m.from
	w := &wireMessage{
		MessageID:         m.id,
		From:              &from,
		Date:              m.date.Unix(),
		Chat:              chat,
		Text:              m.text,
		Entities:          m.entities,
		Caption:           m.caption,
		MigrateToChatID:   m.migrateTo,
		MigrateFromChatID: m.migrateFrom,
		MediaGroupID:      m.mediaGroup,
	}
	if !m.editDate.IsZero() {
		w.EditDate = m.editDate.Unix()
	}
	if m.replyTo != nil && withReply {
		w.ReplyToMessage = m.replyTo.wire(chat, false)
	}
	if m.document != nil {
		w.Document = &wireDocument{
			FileID:       m.document.id,
			FileUniqueID: m.document.uniqueID,
			FileName:     m.document.name,
			MimeType:     m.document.mime,
			FileSize:     len(m.document.data),
		}
	}
	if v := m.video; v != nil {
		w.Video = &wireVideo{
			FileID:       v.id,
			FileUniqueID: v.uniqueID,
			Width:        v.width,
			Height:       v.height,
			FileName:     v.name,
			MimeType:     v.mime,
			FileSize:     len(v.data),
		}
	}
	for _, p := range m.photo {
		w.Photo = append(w.Photo, wirePhotoSize{
			FileID: p.id, FileUniqueID: p.uniqueID, Width: p.width, Height: p.height, FileSize: len(p.data),
		})
	}
	if len(m.keyboard) > 0 {
		w.ReplyMarkup = &wireInlineMarkup{InlineKeyboard: m.keyboard}
	}
	return w
}

func (m *storedMessage) public() Message {
	out := Message{
		MessageID:         m.id,
		ChatID:            m.chatID,
		From:              User{ID: m.from.ID, FirstName: m.from.FirstName, LastName: m.from.LastName, Username: m.from.Username, LanguageCode: m.from.LanguageCode},
		FromBot:           m.fromBot,
		Date:              m.date,
		EditDate:          m.editDate,
		Text:              m.text,
		Caption:           m.caption,
		ParseMode:         m.parseMode,
		RemoveKeyboard:    m.removeKb,
		MigrateToChatID:   m.migrateTo,
		MigrateFromChatID: m.migrateFrom,
		MediaGroupID:      m.mediaGroup,
	}
	for _, row := range m.keyboard {
		var r []Button
		for _, b := range row {
			pb := Button{Text: b.Text, URL: b.URL}
			if b.CallbackData != nil {
				pb.Data = *b.CallbackData
			}
			r = append(r, pb)
		}
		out.Keyboard = append(out.Keyboard, r)
	}
	for _, row := range m.replyKeyboard {
		out.ReplyKeyboard = append(out.ReplyKeyboard, append([]string(nil), row...))
	}
	if m.document != nil {
		f := m.document.public()
		out.Document = &f
	}
	if n := len(m.photo); n > 0 {
		f := m.photo[n-1].public()
		out.Photo = &f
	}
	if m.video != nil {
		f := m.video.public()
		out.Video = &f
	}
	if m.replyTo != nil {
		out.ReplyTo = m.replyTo.id
	}
	return out
}

type storedFile struct {
	id       string
	uniqueID string
	path     string
	name     string
	mime     string
	kind     string // "document", "photo" or "video"
	width    int
	height   int
	data     []byte
	group    []*storedFile // all sizes of a photo
}

func (f *storedFile) public() File {
	return File{
		ID: f.id, UniqueID: f.uniqueID, Path: f.path, Name: f.name, MIME: f.mime,
		Size: len(f.data), Width: f.width, Height: f.height, Content: f.data,
	}
}

// Common document types, so that mime_type does not depend on the
// machine's mime tables.
var mimeByExt = map[string]string{
	".pdf":  "application/pdf",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".xls":  "application/vnd.ms-excel",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".doc":  "application/msword",
	".csv":  "text/csv",
	".txt":  "text/plain",
	".zip":  "application/zip",
	".json": "application/json",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".gif":  "image/gif",
}

func guessMIME(name, sent string, data []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := mimeByExt[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	if sent != "" && sent != "application/octet-stream" {
		if mt, _, err := mime.ParseMediaType(sent); err == nil {
			return mt
		}
	}
	if len(data) > 0 {
		if mt, _, err := mime.ParseMediaType(http.DetectContentType(data)); err == nil && mt != "text/plain" {
			return mt
		}
	}
	return "application/octet-stream"
}

// storeFileLocked stores content under a new file id.
func (s *Server) storeFileLocked(kind, name, mimeType string, data []byte, width, height int) *storedFile {
	s.fileSeq++
	n := s.fileSeq
	f := &storedFile{
		uniqueID: fmt.Sprintf("AgADfk%06d", n),
		name:     name,
		mime:     mimeType,
		kind:     kind,
		width:    width,
		height:   height,
		data:     data,
	}
	ext := strings.ToLower(path.Ext(name))
	switch kind {
	case "photo":
		f.id = fmt.Sprintf("AgACAgUAAxkBAAIfake%06d", n)
		f.path = fmt.Sprintf("photos/file_%d.jpg", n)
	case "video":
		f.id = fmt.Sprintf("BAACAgUAAxkBAAIfake%06d", n)
		f.path = fmt.Sprintf("videos/file_%d%s", n, ext)
	default:
		f.id = fmt.Sprintf("BQACAgUAAxkBAAIfake%06d", n)
		f.path = fmt.Sprintf("documents/file_%d%s", n, ext)
	}
	s.files[f.id] = f
	s.filesByPath[f.path] = f
	return f
}

// storePhotoLocked stores a photo as Telegram does, as a list of sizes:
// scaled-down sizes below 1280 px on the long side plus the full size
// (capped at 1280). The fake does not resize: each size holds the
// original bytes.
func (s *Server) storePhotoLocked(data []byte, width, height int) []*storedFile {
	long := max(width, height)
	scale := func(target int) (int, int) {
		if long <= target || long == 0 {
			return width, height
		}
		return max(1, width*target/long), max(1, height*target/long)
	}
	var sizes []*storedFile
	for _, target := range []int{90, 320, 800} {
		if long > target {
			w, h := scale(target)
			sizes = append(sizes, s.storeFileLocked("photo", "", "image/jpeg", data, w, h))
		}
	}
	w, h := scale(1280)
	sizes = append(sizes, s.storeFileLocked("photo", "", "image/jpeg", data, w, h))
	for _, f := range sizes {
		f.group = sizes
	}
	return sizes
}

func imageSize(data []byte) (int, int, bool) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}

// privateChatLocked returns u's private chat, creating it.
func (s *Server) privateChatLocked(u User) *chatState {
	if old, ok := s.users[u.ID]; ok && u.FirstName == "" && u.Username == "" {
		u = old
	}
	s.users[u.ID] = u
	w := u.wire()
	c := s.chats[u.ID]
	if c == nil {
		c = &chatState{}
		s.chats[u.ID] = c
	}
	c.chat = wireChat{ID: u.ID, Type: ChatPrivate, FirstName: w.FirstName, LastName: w.LastName, Username: w.Username}
	return c
}

// groupChatLocked returns the group with chat.ID, creating it.
func (s *Server) groupChatLocked(chat Chat) *chatState {
	if c := s.chats[chat.ID]; c != nil {
		if chat.Title != "" {
			c.chat.Title = chat.Title
		}
		return c
	}
	typ := chat.Type
	if typ == "" || typ == ChatPrivate {
		typ = ChatGroup
		if chat.ID <= -1000000000000 {
			typ = ChatSupergroup
		}
	}
	title := chat.Title
	if title == "" {
		title = fmt.Sprintf("Group %d", chat.ID)
	}
	c := &chatState{chat: wireChat{ID: chat.ID, Type: typ, Title: title, Username: chat.Username}}
	s.chats[chat.ID] = c
	return c
}
