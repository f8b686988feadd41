package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Messages returns the bot's messages in chat chatID as they stand now
// (edits applied, deleted ones gone), oldest first.
func (s *Server) Messages(chatID int64) []Message {
	return s.messages(chatID, true)
}

// History returns every message in chat chatID, the users' included,
// oldest first.
func (s *Server) History(chatID int64) []Message {
	return s.messages(chatID, false)
}

func (s *Server) messages(chatID int64, botOnly bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.msgs {
		if m.fromBot || !botOnly {
			out = append(out, m.public())
		}
	}
	return out
}

// LastMessage returns the bot's latest message in chat chatID.
func (s *Server) LastMessage(chatID int64) (Message, bool) {
	msgs := s.Messages(chatID)
	if len(msgs) == 0 {
		return Message{}, false
	}
	return msgs[len(msgs)-1], true
}

// WaitFor returns when cond reports true, or with an error when ctx ends or
// the server is closed. cond is evaluated without the server's lock (it may
// call the server) after every change of the server's state and at least
// every 50 ms, so it may also watch state outside the server.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		if closed {
			return errors.New("telegramtest: server closed while waiting")
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("telegramtest: condition not met: %w", ctx.Err())
		}
		t.Stop()
	}
}

// WaitMessage waits until the bot has a message in chat chatID for which
// match (nil matches any) reports true and returns the newest such
// message, as it stands now. On timeout the error lists the chat's latest
// messages.
func (s *Server) WaitMessage(ctx context.Context, chatID int64, match func(Message) bool) (Message, error) {
	var got Message
	err := s.WaitFor(ctx, func() bool {
		msgs := s.Messages(chatID)
		for i := len(msgs) - 1; i >= 0; i-- {
			if match == nil || match(msgs[i]) {
				got = msgs[i]
				return true
			}
		}
		return false
	})
	if err != nil {
		return Message{}, fmt.Errorf("no matching bot message in chat %d (%s): %w", chatID, s.describeChat(chatID), err)
	}
	return got, nil
}

// WaitText waits for a bot message in chat chatID whose text or caption
// contains substr.
func (s *Server) WaitText(ctx context.Context, chatID int64, substr string) (Message, error) {
	return s.WaitMessage(ctx, chatID, func(m Message) bool {
		return strings.Contains(m.Text, substr) || strings.Contains(m.Caption, substr)
	})
}

func (s *Server) describeChat(chatID int64) string {
	msgs := s.Messages(chatID)
	if len(msgs) == 0 {
		return "the bot has sent nothing there"
	}
	var parts []string
	for _, m := range msgs[max(0, len(msgs)-5):] {
		body := m.Text
		if body == "" {
			body = "[media] " + m.Caption
		}
		if len(m.Keyboard) > 0 {
			var data []string
			for _, b := range m.Buttons() {
				data = append(data, b.Data)
			}
			body += fmt.Sprintf(" %v", data)
		}
		parts = append(parts, fmt.Sprintf("#%d %q", m.MessageID, body))
	}
	return "latest: " + strings.Join(parts, ", ")
}

// Calls counts calls of a Bot API method (case-insensitive) with the right
// token, failed ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// Commands returns the commands of the default scope and language.
func (s *Server) Commands() []Command {
	return s.CommandsFor(CommandScope{}, "")
}

// CommandsFor returns the commands set for a scope and language code.
func (s *Server) CommandsFor(scope CommandScope, languageCode string) []Command {
	k := commandKey{scope: scope.Type, userID: scope.UserID, lang: languageCode}
	if k.scope == "" {
		k.scope = "default"
	}
	if scope.ChatID != 0 {
		k.chatID = strconv.FormatInt(scope.ChatID, 10)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[k])
}

// Webhook describes the current webhook; URL is empty when none is set.
func (s *Server) Webhook() WebhookInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := WebhookInfo{PendingUpdateCount: len(s.pending)}
	if wh := s.webhook; wh != nil {
		info.URL = wh.url
		info.SecretToken = wh.secret
		info.MaxConnections = wh.maxConn
		info.AllowedUpdates = slices.Clone(s.allowed)
		info.LastErrorDate = wh.lastErrorDate
		info.LastErrorMessage = wh.lastErrorMessage
		info.Delivered = wh.delivered
		info.Failed = wh.failed
	}
	return info
}

// PendingUpdates counts updates not yet confirmed by a getUpdates offset or
// acknowledged by the webhook.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Polling counts getUpdates calls waiting for updates right now: a test
// can wait for Polling() > 0 to know the bot's intake is running.
func (s *Server) Polling() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polling
}

// Callback returns the callback query created by the Press that returned
// updateID, with the bot's answer if any.
func (s *Server) Callback(updateID int64) (CallbackQuery, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.callbacks[s.cbByUpdate[updateID]]
	if q == nil {
		return CallbackQuery{}, false
	}
	return *q, true
}

// ChatAction returns the last chat action the bot sent to chat chatID.
func (s *Server) ChatAction(chatID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		return c.lastAction
	}
	return ""
}

// Blocked reports whether the user has blocked the bot.
func (s *Server) Blocked(userID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[userID]
	return c != nil && c.chat.Type == ChatPrivate && c.blocked
}

// Stats returns counters of the sending methods.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Accepted = slices.Clone(st.Accepted)
	return st
}

// Subscribe streams every change from now on: messages sent, edited and
// deleted, users' messages and presses, callback answers, chat actions and
// webhook deliveries. Events are queued without bound, so a slow reader
// never blocks the server and misses nothing. cancel (or Close) ends the
// stream and closes the channel.
func (s *Server) Subscribe() (<-chan Event, func()) {
	sub := &subscriber{
		ch:   make(chan Event, 16),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		close(sub.ch)
		return sub.ch, func() {}
	}
	s.subs[sub] = struct{}{}
	s.bg.Add(1)
	go sub.pump(&s.bg)
	s.mu.Unlock()
	cancel := func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
		sub.stop()
	}
	return sub.ch, cancel
}

type subscriber struct {
	ch   chan Event
	wake chan struct{}
	done chan struct{}
	once sync.Once

	mu    sync.Mutex
	queue []Event
}

func (sub *subscriber) push(ev Event) {
	sub.mu.Lock()
	sub.queue = append(sub.queue, ev)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) stop() { sub.once.Do(func() { close(sub.done) }) }

func (sub *subscriber) pump(wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(sub.ch)
	for {
		sub.mu.Lock()
		if len(sub.queue) == 0 {
			sub.mu.Unlock()
			select {
			case <-sub.wake:
				continue
			case <-sub.done:
				return
			}
		}
		ev := sub.queue[0]
		sub.queue[0] = Event{}
		sub.queue = sub.queue[1:]
		sub.mu.Unlock()
		select {
		case sub.ch <- ev:
		case <-sub.done:
			return
		}
	}
}

// emitLocked sends ev to the subscribers.
func (s *Server) emitLocked(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	for sub := range s.subs {
		sub.push(ev)
	}
}

// messageEventLocked reports a change of m and wakes waiters.
func (s *Server) messageEventLocked(kind EventKind, m *storedMessage) {
	pub := m.public()
	s.emitLocked(Event{Kind: kind, ChatID: m.chatID, Message: &pub})
	s.notifyLocked()
}
