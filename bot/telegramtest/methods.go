package telegramtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

type methodFunc func(s *Server, ctx context.Context, p *params) (any, *apiError)

// methods maps lower-case method names (Telegram's are case-insensitive)
// to their handlers. Anything else answers 404 Not Found.
var methods = map[string]methodFunc{
	"getme":                  (*Server).getMe,
	"getupdates":             (*Server).getUpdates,
	"setwebhook":             (*Server).setWebhook,
	"deletewebhook":          (*Server).deleteWebhook,
	"getwebhookinfo":         (*Server).getWebhookInfo,
	"sendmessage":            (*Server).sendMessage,
	"editmessagetext":        (*Server).editMessageText,
	"editmessagecaption":     (*Server).editMessageCaption,
	"editmessagereplymarkup": (*Server).editMessageReplyMarkup,
	"answercallbackquery":    (*Server).answerCallbackQuery,
	"senddocument":           (*Server).sendDocument,
	"sendphoto":              (*Server).sendPhoto,
	"sendmediagroup":         (*Server).sendMediaGroup,
	"getfile":                (*Server).getFile,
	"setmycommands":          (*Server).setMyCommands,
	"getmycommands":          (*Server).getMyCommands,
	"deletemycommands":       (*Server).deleteMyCommands,
	"deletemessage":          (*Server).deleteMessage,
	"sendchataction":         (*Server).sendChatAction,
}

const errNotModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) getMe(context.Context, *params) (any, *apiError) {
	return wireMe{wireUser: s.botUsr, CanJoinGroups: true}, nil
}

// resolveChatLocked finds the chat named by chat_id and checks that the bot
// may act in it.
func (s *Server) resolveChatLocked(p *params) (*chatState, *apiError) {
	raw := strings.TrimSpace(p.str("chat_id"))
	if raw == "" {
		return nil, errBadRequest("chat_id is empty")
	}
	var c *chatState
	if strings.HasPrefix(raw, "@") {
		for _, cs := range s.chats {
			if cs.chat.Type != ChatPrivate && cs.chat.Username != "" && strings.EqualFold("@"+cs.chat.Username, raw) {
				c = cs
				break
			}
		}
	} else if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		c = s.chats[id]
	}
	if c == nil {
		return nil, errBadRequest("chat not found")
	}
	if c.migratedTo != 0 {
		return nil, &apiError{
			code:      http.StatusBadRequest,
			desc:      "Bad Request: group chat was upgraded to a supergroup chat",
			migrateTo: c.migratedTo,
		}
	}
	if c.chat.Type == ChatPrivate && c.blocked {
		return nil, errForbidden("bot was blocked by the user")
	}
	return c, nil
}

// markupParam parses reply_markup if present.
func markupParam(p *params) (markup, bool, *apiError) {
	raw := strings.TrimSpace(p.str("reply_markup"))
	if raw == "" || raw == "null" {
		return markup{}, false, nil
	}
	m, err := parseReplyMarkup(raw)
	return m, err == nil, err
}

// replyTargetLocked resolves reply_parameters or reply_to_message_id.
func (s *Server) replyTargetLocked(c *chatState, p *params) (*storedMessage, *apiError) {
	id, _, err := p.int64("reply_to_message_id")
	if err != nil {
		return nil, err
	}
	allowMissing := p.bool("allow_sending_without_reply")
	if raw := strings.TrimSpace(p.str("reply_parameters")); raw != "" {
		var rp struct {
			MessageID                int  `json:"message_id"`
			AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
		}
		if json.Unmarshal([]byte(raw), &rp) != nil {
			return nil, errBadRequest("can't parse reply parameters JSON object")
		}
		id, allowMissing = int64(rp.MessageID), rp.AllowSendingWithoutReply
	}
	if id == 0 {
		return nil, nil
	}
	m, _ := c.find(int(id))
	if m == nil && !allowMissing {
		return nil, errBadRequest("message to be replied not found")
	}
	return m, nil
}

func (s *Server) newBotMessageLocked(p *params, mk markup, reply *storedMessage) *storedMessage {
	m := &storedMessage{
		from:          s.botUsr,
		fromBot:       true,
		date:          s.now(),
		parseMode:     p.str("parse_mode"),
		keyboard:      mk.inline,
		replyKeyboard: mk.reply,
		removeKb:      mk.remove,
		replyTo:       reply,
	}
	return m
}

func (s *Server) sendMessage(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChatLocked(p)
	if err != nil {
		return nil, err
	}
	text := p.str("text")
	if err := checkText(text); err != nil {
		return nil, err
	}
	mk, _, err := markupParam(p)
	if err != nil {
		return nil, err
	}
	reply, err := s.replyTargetLocked(c, p)
	if err != nil {
		return nil, err
	}
	if err := s.admitLocked(c, "sendMessage"); err != nil {
		return nil, err
	}
	m := s.newBotMessageLocked(p, mk, reply)
	m.text = text
	m.entities = commandEntities(text)
	c.add(m)
	s.messageEventLocked(EventMessageSent, m)
	return m.wire(c.chat, true), nil
}

func (s *Server) sendDocument(_ context.Context, p *params) (any, *apiError) {
	return s.sendMedia(p, "document", "sendDocument")
}

func (s *Server) sendPhoto(_ context.Context, p *params) (any, *apiError) {
	return s.sendMedia(p, "photo", "sendPhoto")
}

func (s *Server) sendMedia(p *params, kind, method string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChatLocked(p)
	if err != nil {
		return nil, err
	}
	caption := p.str("caption")
	if err := checkCaption(caption); err != nil {
		return nil, err
	}
	mk, _, err := markupParam(p)
	if err != nil {
		return nil, err
	}
	reply, err := s.replyTargetLocked(c, p)
	if err != nil {
		return nil, err
	}

	// The file: an uploaded part named like the parameter, a part named by
	// "attach://<name>", or the file_id of a stored file.
	up := p.files[kind]
	var existing *storedFile
	if v := strings.TrimSpace(p.str(kind)); up == nil && v != "" {
		switch {
		case strings.HasPrefix(v, "attach://"):
			up = p.files[strings.TrimPrefix(v, "attach://")]
		case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
			return nil, errBadRequest("failed to get HTTP URL content")
		default:
			existing = s.files[v]
			if existing == nil {
				return nil, errBadRequest("wrong file identifier/HTTP URL specified")
			}
			if existing.kind != kind {
				return nil, errBadRequest("type of file mismatch")
			}
		}
	}
	if up == nil && existing == nil {
		return nil, errBadRequest("there is no " + kind + " in the request")
	}
	var width, height int
	if up != nil {
		if len(up.data) == 0 {
			return nil, errBadRequest("file must be non-empty")
		}
		if kind == "photo" {
			w, h, ok := imageSize(up.data)
			if !ok {
				return nil, errBadRequest("IMAGE_PROCESS_FAILED")
			}
			width, height = w, h
		}
	}
	if err := s.admitLocked(c, method); err != nil {
		return nil, err
	}

	m := s.newBotMessageLocked(p, mk, reply)
	m.caption = caption
	switch {
	case kind == "document" && up != nil:
		name := up.filename
		if name == "" {
			name = "document"
		}
		m.document = s.storeFileLocked("document", name, guessMIME(name, up.contentType, up.data), up.data, 0, 0)
	case kind == "document":
		m.document = existing
	case up != nil:
		m.photo = s.storePhotoLocked(up.data, width, height)
	default:
		m.photo = s.photoGroupLocked(existing)
	}
	c.add(m)
	s.messageEventLocked(EventMessageSent, m)
	return m.wire(c.chat, true), nil
}

// photoGroupLocked returns all sizes of the photo that f is one size of.
func (s *Server) photoGroupLocked(f *storedFile) []*storedFile {
	if f.group != nil {
		return f.group
	}
	return []*storedFile{f}
}

// editTargetLocked finds the bot message named by chat_id and message_id.
func (s *Server) editTargetLocked(p *params) (*chatState, *storedMessage, *apiError) {
	if p.str("inline_message_id") != "" {
		// Inline messages are not modelled.
		return nil, nil, errBadRequest("MESSAGE_ID_INVALID")
	}
	c, err := s.resolveChatLocked(p)
	if err != nil {
		return nil, nil, err
	}
	id, ok, err := p.int64("message_id")
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, errBadRequest("message identifier is not specified")
	}
	m, _ := c.find(int(id))
	if m == nil {
		return nil, nil, errBadRequest("message to edit not found")
	}
	if !m.fromBot {
		return nil, nil, errBadRequest("message can't be edited")
	}
	return c, m, nil
}

// editMarkup parses the reply_markup of an edit: only inline keyboards are
// allowed, and an absent one removes the keyboard.
func editMarkup(p *params) ([][]wireButton, *apiError) {
	mk, present, err := markupParam(p)
	if err != nil {
		return nil, err
	}
	if present && (mk.reply != nil || mk.remove) {
		return nil, errBadRequest("inline keyboard expected")
	}
	return mk.inline, nil
}

func (s *Server) editMessageText(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editTargetLocked(p)
	if err != nil {
		return nil, err
	}
	if m.text == "" {
		return nil, errBadRequest("there is no text in the message to edit")
	}
	text := p.str("text")
	if err := checkText(text); err != nil {
		return nil, err
	}
	kb, err := editMarkup(p)
	if err != nil {
		return nil, err
	}
	if text == m.text && sameKeyboard(kb, m.keyboard) {
		return nil, errBadRequest(errNotModified)
	}
	if err := s.admitLocked(c, "editMessageText"); err != nil {
		return nil, err
	}
	m.text = text
	m.entities = commandEntities(text)
	m.parseMode = p.str("parse_mode")
	m.keyboard = kb
	m.editDate = s.now()
	s.messageEventLocked(EventMessageEdited, m)
	return m.wire(c.chat, true), nil
}

func (s *Server) editMessageCaption(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editTargetLocked(p)
	if err != nil {
		return nil, err
	}
	if m.document == nil && len(m.photo) == 0 && m.video == nil {
		return nil, errBadRequest("there is no caption in the message to edit")
	}
	caption := p.str("caption")
	if err := checkCaption(caption); err != nil {
		return nil, err
	}
	kb, err := editMarkup(p)
	if err != nil {
		return nil, err
	}
	if caption == m.caption && sameKeyboard(kb, m.keyboard) {
		return nil, errBadRequest(errNotModified)
	}
	if err := s.admitLocked(c, "editMessageCaption"); err != nil {
		return nil, err
	}
	m.caption = caption
	m.parseMode = p.str("parse_mode")
	m.keyboard = kb
	m.editDate = s.now()
	s.messageEventLocked(EventMessageEdited, m)
	return m.wire(c.chat, true), nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editTargetLocked(p)
	if err != nil {
		return nil, err
	}
	kb, err := editMarkup(p)
	if err != nil {
		return nil, err
	}
	if sameKeyboard(kb, m.keyboard) {
		return nil, errBadRequest(errNotModified)
	}
	if err := s.admitLocked(c, "editMessageReplyMarkup"); err != nil {
		return nil, err
	}
	m.keyboard = kb
	m.editDate = s.now()
	s.messageEventLocked(EventMessageEdited, m)
	return m.wire(c.chat, true), nil
}

func (s *Server) answerCallbackQuery(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.callbacks[p.str("callback_query_id")]
	if q == nil || q.Answered {
		return nil, errBadRequest("query is too old and response timeout expired or query ID is invalid")
	}
	text := p.str("text")
	if utf16Len(text) > 200 {
		return nil, errBadRequest("MESSAGE_TOO_LONG")
	}
	q.Answered = true
	q.AnsweredAt = s.now()
	q.Text = text
	q.ShowAlert = p.bool("show_alert")
	q.URL = p.str("url")
	cp := *q
	s.emitLocked(Event{Kind: EventCallbackAnswered, ChatID: q.ChatID, UpdateID: q.UpdateID, Callback: &cp})
	s.notifyLocked()
	return true, nil
}

// maxDownload is the largest file getFile serves (Telegram: 20 MB).
const maxDownload = 20 << 20

func (s *Server) getFile(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[strings.TrimSpace(p.str("file_id"))]
	if f == nil {
		return nil, errBadRequest("invalid file_id")
	}
	if len(f.data) > maxDownload {
		return nil, errBadRequest("file is too big")
	}
	return wireFile{FileID: f.id, FileUniqueID: f.uniqueID, FileSize: len(f.data), FilePath: f.path}, nil
}

// serveFile serves GET /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	token, filePath, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/file/bot"), "/")
	if !ok || !s.tokenOK(token) {
		writeError(w, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, &apiError{code: http.StatusMethodNotAllowed, desc: "Method Not Allowed"})
		return
	}
	s.mu.Lock()
	f := s.filesByPath[filePath]
	s.mu.Unlock()
	if f == nil || len(f.data) > maxDownload {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(f.data)
	}
}

type commandKey struct {
	scope  string
	chatID string
	userID int64
	lang   string
}

var commandScopes = map[string]bool{
	"default": true, "all_private_chats": true, "all_group_chats": true,
	"all_chat_administrators": true, "chat": true, "chat_administrators": true, "chat_member": true,
}

func commandKeyParam(p *params) (commandKey, *apiError) {
	k := commandKey{scope: "default", lang: p.str("language_code")}
	if k.lang != "" && (len(k.lang) != 2 || strings.ToLower(k.lang) != k.lang) {
		return k, errBadRequest("invalid language code specified")
	}
	raw := strings.TrimSpace(p.str("scope"))
	if raw == "" {
		return k, nil
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(raw), &sc); err != nil || !commandScopes[sc.Type] {
		return k, errBadRequest("can't parse BotCommandScope JSON object")
	}
	k.scope, k.userID = sc.Type, sc.UserID
	if !isNullJSON(sc.ChatID) {
		var str string
		if json.Unmarshal(sc.ChatID, &str) == nil {
			k.chatID = str
		} else {
			k.chatID = string(sc.ChatID)
		}
	}
	switch sc.Type {
	case "chat", "chat_administrators", "chat_member":
		if k.chatID == "" {
			return k, errBadRequest("chat_id is empty")
		}
	}
	if sc.Type == "chat_member" && k.userID == 0 {
		return k, errBadRequest("user_id is empty")
	}
	return k, nil
}

func validCommand(c string) bool {
	if len(c) < 1 || len(c) > 32 {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if b != '_' && (b < '0' || b > '9') && (b < 'a' || b > 'z') {
			return false
		}
	}
	return true
}

func (s *Server) setMyCommands(_ context.Context, p *params) (any, *apiError) {
	raw := strings.TrimSpace(p.str("commands"))
	if raw == "" {
		return nil, errBadRequest("parameter \"commands\" is required")
	}
	var cmds []wireBotCommand
	if err := json.Unmarshal([]byte(raw), &cmds); err != nil {
		return nil, errBadRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, errBadRequest("too many commands specified")
	}
	list := make([]Command, 0, len(cmds))
	for _, c := range cmds {
		if !validCommand(c.Command) {
			return nil, errBadRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(strings.TrimSpace(c.Description)); n < 1 || n > 256 {
			return nil, errBadRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
		list = append(list, Command(c))
	}
	k, err := commandKeyParam(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(list) == 0 {
		delete(s.commands, k)
	} else {
		s.commands[k] = list
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) getMyCommands(_ context.Context, p *params) (any, *apiError) {
	k, err := commandKeyParam(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []wireBotCommand{}
	for _, c := range s.commands[k] {
		out = append(out, wireBotCommand(c))
	}
	return out, nil
}

func (s *Server) deleteMyCommands(_ context.Context, p *params) (any, *apiError) {
	k, err := commandKeyParam(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, k)
	s.notifyLocked()
	return true, nil
}

func (s *Server) deleteMessage(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChatLocked(p)
	if err != nil {
		return nil, err
	}
	id, _, err := p.int64("message_id")
	if err != nil {
		return nil, err
	}
	m, i := c.find(int(id))
	if m == nil {
		return nil, errBadRequest("message to delete not found")
	}
	c.msgs = append(c.msgs[:i], c.msgs[i+1:]...)
	s.messageEventLocked(EventMessageDeleted, m)
	return true, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChatLocked(p)
	if err != nil {
		return nil, err
	}
	action := p.str("action")
	if action == "" {
		return nil, errBadRequest("parameter \"action\" is required")
	}
	if !chatActions[action] {
		return nil, errBadRequest("wrong parameter action in request")
	}
	c.lastAction = action
	s.emitLocked(Event{Kind: EventChatAction, ChatID: c.chat.ID, Action: action})
	s.notifyLocked()
	return true, nil
}
