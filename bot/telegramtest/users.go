package telegramtest

import (
	"errors"
	"fmt"
	"strings"
)

// Incoming is a message a simulated user sends with Send: exactly one of
// Text, Document and Photo.
type Incoming struct {
	Text     string
	Document *Attachment
	// Photo is image content; GIF, JPEG and PNG give real dimensions,
	// anything else is accepted as an 800x600 photo.
	Photo []byte
	// Caption goes with a Document or Photo.
	Caption string
	// ReplyTo is the id of a message in the same chat this one replies to.
	ReplyTo int
}

// Attachment is a file a user sends as a document.
type Attachment struct {
	Name string
	// MIME defaults to a type guessed from Name and Content.
	MIME    string
	Content []byte
}

// SendText makes from send text in chat and returns the update id (0 if
// allowed_updates filters messages out). Pass from.Chat() (or the zero
// Chat) for the user's private chat, or a group Chat. Commands get
// bot_command entities like on Telegram ("/start", "/start@bot"). A user
// who had blocked the bot unblocks it by writing, as with "Restart". It
// panics on misuse, e.g. a private chat of another user.
func (s *Server) SendText(from User, chat Chat, text string) int64 {
	id, err := s.Send(from, chat, Incoming{Text: text})
	if err != nil {
		panic(err)
	}
	return id
}

// Upload makes from send a document in chat (chatID == from.ID for the
// private chat). The file is stored: getFile and the download URL serve it.
// mime may be empty. It returns the update id.
func (s *Server) Upload(from User, chatID int64, name, mime string, content []byte) int64 {
	id, err := s.Send(from, Chat{ID: chatID}, Incoming{Document: &Attachment{Name: name, MIME: mime, Content: content}})
	if err != nil {
		panic(err)
	}
	return id
}

// UploadPhoto makes from send a photo in chat (chatID == from.ID for the
// private chat); the message carries several photo sizes like Telegram's.
// It returns the update id.
func (s *Server) UploadPhoto(from User, chatID int64, content []byte) int64 {
	id, err := s.Send(from, Chat{ID: chatID}, Incoming{Photo: content})
	if err != nil {
		panic(err)
	}
	return id
}

// Send makes from send a message in chat and returns the update id.
func (s *Server) Send(from User, chat Chat, in Incoming) (int64, error) {
	kinds := 0
	for _, present := range []bool{in.Text != "", in.Document != nil, in.Photo != nil} {
		if present {
			kinds++
		}
	}
	if kinds != 1 {
		return 0, errors.New("telegramtest: Send needs exactly one of Text, Document and Photo")
	}
	if in.Text != "" && in.Caption != "" {
		return 0, errors.New("telegramtest: Send: a text message has no caption")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.userChatLocked(from, chat)
	if err != nil {
		return 0, err
	}
	m := &storedMessage{from: s.users[from.ID].wire(), date: s.now(), caption: in.Caption}
	if in.ReplyTo != 0 {
		if m.replyTo, _ = c.find(in.ReplyTo); m.replyTo == nil {
			return 0, fmt.Errorf("telegramtest: Send: no message %d to reply to in chat %d", in.ReplyTo, c.chat.ID)
		}
	}
	switch {
	case in.Text != "":
		m.text = in.Text
		m.entities = commandEntities(in.Text)
	case in.Document != nil:
		name := in.Document.Name
		if name == "" {
			name = "file"
		}
		mt := in.Document.MIME
		if mt == "" {
			mt = guessMIME(name, "", in.Document.Content)
		}
		m.document = s.storeFileLocked("document", name, mt, in.Document.Content, 0, 0)
	default:
		w, h, ok := imageSize(in.Photo)
		if !ok {
			w, h = 800, 600
		}
		m.photo = s.storePhotoLocked(in.Photo, w, h)
	}
	c.add(m)
	id := s.enqueueLocked("message", c.chat.ID, m.wire(c.chat, true))
	pub := m.public()
	s.emitLocked(Event{Kind: EventUserMessage, ChatID: c.chat.ID, UpdateID: id, Message: &pub})
	s.notifyLocked()
	return id, nil
}

// userChatLocked resolves the chat a user writes in, creating it.
func (s *Server) userChatLocked(from User, chat Chat) (*chatState, error) {
	if from.ID <= 0 {
		return nil, fmt.Errorf("telegramtest: user id %d must be positive", from.ID)
	}
	if chat.ID == 0 || chat.ID == from.ID {
		if chat.Type != "" && chat.Type != ChatPrivate {
			return nil, fmt.Errorf("telegramtest: chat %d is user %d's private chat, not a %s", chat.ID, from.ID, chat.Type)
		}
		c := s.privateChatLocked(from)
		if c.blocked {
			// Writing to a blocked bot means pressing "Restart" first.
			c.blocked = false
			s.memberUpdateLocked(c, "kicked", "member")
		}
		return c, nil
	}
	if chat.Type == ChatPrivate {
		return nil, fmt.Errorf("telegramtest: private chat %d belongs to user %d, not %d", chat.ID, chat.ID, from.ID)
	}
	if existing := s.chats[chat.ID]; chat.ID > 0 && (existing == nil || !existing.isGroup()) {
		return nil, fmt.Errorf("telegramtest: chat %d is neither user %d's private chat nor a known group (group ids are negative)", chat.ID, from.ID)
	}
	if _, known := s.users[from.ID]; !known || from.FirstName != "" || from.Username != "" {
		s.users[from.ID] = from
	}
	c := s.groupChatLocked(chat)
	for c.migratedTo != 0 {
		c = s.chats[c.migratedTo]
	}
	return c, nil
}

// Press makes from press the inline button with callback data data under
// message messageID of chat chatID, as it stands now, and returns the
// callback_query update id. It fails if the message does not exist, is not
// the bot's, or has no such button (for instance after the bot edited the
// keyboard away).
func (s *Server) Press(from User, chatID int64, messageID int, data string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return 0, fmt.Errorf("telegramtest: Press: no chat %d", chatID)
	}
	if c.chat.Type == ChatPrivate && chatID != from.ID {
		return 0, fmt.Errorf("telegramtest: Press: user %d cannot press buttons in user %d's private chat", from.ID, chatID)
	}
	m, _ := c.find(messageID)
	if m == nil {
		return 0, fmt.Errorf("telegramtest: Press: no message %d in chat %d", messageID, chatID)
	}
	if !m.fromBot {
		return 0, fmt.Errorf("telegramtest: Press: message %d in chat %d is not the bot's", messageID, chatID)
	}
	found := false
	var have []string
	for _, row := range m.keyboard {
		for _, b := range row {
			if b.CallbackData != nil {
				have = append(have, fmt.Sprintf("%q", *b.CallbackData))
				found = found || *b.CallbackData == data
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("telegramtest: Press: message %d in chat %d has no button with callback data %q (it has [%s])",
			messageID, chatID, data, strings.Join(have, " "))
	}
	if c.chat.Type == ChatPrivate {
		c = s.privateChatLocked(from)
	} else if _, known := s.users[from.ID]; !known || from.FirstName != "" || from.Username != "" {
		s.users[from.ID] = from
	}

	s.callbackSeq++
	q := &CallbackQuery{
		ID:        fmt.Sprintf("4%018d", s.callbackSeq),
		From:      s.users[from.ID],
		ChatID:    chatID,
		MessageID: messageID,
		Data:      data,
		PressedAt: s.now(),
	}
	q.UpdateID = s.enqueueLocked("callback_query", chatID, wireCallbackQuery{
		ID:           q.ID,
		From:         q.From.wire(),
		Message:      m.wire(c.chat, true),
		ChatInstance: fmt.Sprint(chatID ^ 0x5DEECE66D),
		Data:         data,
	})
	s.callbacks[q.ID] = q
	if q.UpdateID != 0 {
		s.cbByUpdate[q.UpdateID] = q.ID
	}
	cp := *q
	s.emitLocked(Event{Kind: EventCallbackPressed, ChatID: chatID, UpdateID: q.UpdateID, Callback: &cp})
	s.notifyLocked()
	return q.UpdateID, nil
}

// memberUpdateLocked enqueues a my_chat_member update for the bot's status
// in private chat c changing from oldStatus to newStatus.
func (s *Server) memberUpdateLocked(c *chatState, oldStatus, newStatus string) int64 {
	member := func(status string) wireChatMember {
		m := wireChatMember{User: s.botUsr, Status: status}
		if status == "kicked" {
			zero := int64(0)
			m.UntilDate = &zero
		}
		return m
	}
	return s.enqueueLocked("my_chat_member", c.chat.ID, wireChatMemberUpdated{
		Chat:          c.chat,
		From:          s.users[c.chat.ID].wire(),
		Date:          s.now().Unix(),
		OldChatMember: member(oldStatus),
		NewChatMember: member(newStatus),
	})
}

// Block makes the user block the bot: from now on sending to the user's
// private chat answers 403 "Forbidden: bot was blocked by the user". It
// enqueues a my_chat_member update (member → kicked) and returns its id, or
// 0 if the user had already blocked the bot.
func (s *Server) Block(userID int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.privateChatLocked(s.knownUserLocked(userID))
	if c.blocked {
		return 0
	}
	c.blocked = true
	return s.memberUpdateLocked(c, "member", "kicked")
}

// Unblock undoes Block, enqueueing a my_chat_member update (kicked →
// member); it returns its id, or 0 if the user had not blocked the bot.
func (s *Server) Unblock(userID int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.privateChatLocked(s.knownUserLocked(userID))
	if !c.blocked {
		return 0
	}
	c.blocked = false
	return s.memberUpdateLocked(c, "kicked", "member")
}

func (s *Server) knownUserLocked(id int64) User {
	if u, ok := s.users[id]; ok {
		return u
	}
	return User{ID: id}
}

// AddUser registers the user's private chat as if the user had started the
// bot earlier, without an update, so the bot can send to it.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privateChatLocked(u)
	s.notifyLocked()
}

// AddGroup registers a group the bot is a member of, without an update.
// See Chat for the default type and title.
func (s *Server) AddGroup(chat Chat) {
	if chat.Type == ChatPrivate {
		panic("telegramtest: AddGroup with a private chat")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groupChatLocked(chat)
	s.notifyLocked()
}

// MigrateGroup upgrades group oldID to supergroup newID: sends to oldID
// answer 400 "group chat was upgraded to a supergroup chat" with
// parameters.migrate_to_chat_id, users' messages to oldID land in newID,
// and two service messages are enqueued as updates, one in each chat
// (migrate_to_chat_id, then migrate_from_chat_id).
func (s *Server) MigrateGroup(oldID, newID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.groupChatLocked(Chat{ID: oldID})
	if old.migratedTo != 0 {
		return
	}
	nc := s.groupChatLocked(Chat{ID: newID, Type: ChatSupergroup, Title: old.chat.Title})
	nc.chat.Type = ChatSupergroup
	old.migratedTo = newID

	m1 := &storedMessage{from: serviceUser, date: s.now(), migrateTo: newID}
	old.add(m1)
	s.enqueueLocked("message", oldID, m1.wire(old.chat, false))
	m2 := &storedMessage{from: serviceUser, date: s.now(), migrateFrom: oldID}
	nc.add(m2)
	s.enqueueLocked("message", newID, m2.wire(nc.chat, false))
}

// InjectUpdateDuplicate enqueues an already created update again with the
// same update_id, as Telegram occasionally redelivers. With getUpdates it is
// returned by the next call even if the offset has passed it; with a
// webhook it is POSTed again. It fails if the update is unknown (only the
// last 10000 are remembered).
func (s *Server) InjectUpdateDuplicate(updateID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.history[updateID]
	if h == nil {
		return fmt.Errorf("telegramtest: no update %d to duplicate", updateID)
	}
	s.pending = append(s.pending, &pendingUpdate{id: h.id, chatKey: h.chatKey, kind: h.kind, raw: h.raw, dup: true})
	s.notifyLocked()
	return nil
}

// InjectUpdate enqueues an update of any kind the fake does not model,
// {"update_id":N,"<kind>":<payload as JSON>}, and returns N. chatID orders
// webhook deliveries (use the chat the update belongs to).
func (s *Server) InjectUpdate(chatID int64, kind string, payload any) (int64, error) {
	if kind == "" || strings.Trim(kind, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return 0, fmt.Errorf("telegramtest: invalid update kind %q", kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enqueueLocked(kind, chatID, payload), nil
}

// FailNext makes the next call of method (case-insensitive) fail with code,
// before anything else is checked: 429 answers "Too Many Requests: retry
// after N" with parameters.retry_after (at least 1), 400, 403, 409 answer
// Telegram-like descriptions, other codes their HTTP status text. Calls
// queue up: FailNext twice fails the next two calls.
func (s *Server) FailNext(method string, code int, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	s.failures[key] = append(s.failures[key], failure{code: code, retryAfter: retryAfter})
}
