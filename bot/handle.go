package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"reportbot/flows"
)

// handleTimeout bounds the handling of one update, sends included.
const handleTimeout = 2 * time.Minute

// msgSorry is what a user sees when something failed on our side.
const msgSorry = "抱歉，系统出了点问题，您刚才的操作没有完成。请稍后再试一次；已填写的内容不会丢失。"

// update is one incoming update, reduced to what the handlers need.
type update struct {
	id       int64
	chatID   int64
	private  bool
	userID   int64
	userName string
	text     string
	cmd      string // command without slash and @bot, lower case; "" if none
	args     string
	msg      *models.Message
	cb       *models.CallbackQuery
	cbMsgID  int // message whose button was pressed
	kind     string
	unit     int64  // for the log line
	step     string // for the log line
	outcome  string
}

// handleSafely handles one update: it recovers a panic (the user gets an
// apology, the error is logged, the bot lives) and logs one line per
// update. It returns an error only when the update must be delivered again
// (its effects could not be stored).
func (b *Bot) handleSafely(up *models.Update) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), handleTimeout)
	defer cancel()
	start := time.Now()
	u := parseUpdate(up, b.username)
	u.outcome = "ok"
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic while handling update", "update_id", u.id, "chat_id", u.chatID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			u.outcome = "panic"
			if u.chatID != 0 {
				b.sendText(ctx, u.chatID, msgSorry)
			}
			err = nil // do not redeliver a poison update
		}
		d := time.Since(start)
		b.log.Info("update", "update_id", u.id, "kind", u.kind, "chat_id", u.chatID, "unit", u.unit, "step", u.step, "outcome", u.outcome, "duration", d)
		if b.hooks.Update != nil {
			b.hooks.Update(u.kind, u.outcome, d)
		}
	}()
	if err := b.handle(ctx, u); err != nil {
		u.outcome = "error"
		tries := b.failedOnce(u.id)
		b.log.Error("handle update", "update_id", u.id, "chat_id", u.chatID, "attempt", tries, "err", b.redact(err))
		if u.chatID != 0 && tries == 1 {
			b.sendText(ctx, u.chatID, msgSorry) // once, not at every redelivery
		}
		if isStoreDown(err) && tries < maxUpdateAttempts {
			return err
		}
		b.log.Error("giving up on update", "update_id", u.id, "chat_id", u.chatID)
	}
	b.forgetFailures(u.id)
	return nil
}

// maxUpdateAttempts bounds how often one update is tried when handling it
// keeps failing (the store is down, or a bug): then it is dropped, so that
// one update cannot block its chat forever.
const maxUpdateAttempts = 8

// failedOnce counts a failed attempt at an update and returns the count.
func (b *Bot) failedOnce(id int64) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.failures) > 10000 {
		clear(b.failures)
	}
	b.failures[id]++
	return b.failures[id]
}

func (b *Bot) forgetFailures(id int64) {
	b.mu.Lock()
	delete(b.failures, id)
	b.mu.Unlock()
}

// isStoreDown reports whether an error means the update should come back
// later rather than be dropped.
func isStoreDown(err error) bool {
	var ue *flows.UserError
	return err != nil && !errors.As(err, &ue) && !errors.Is(err, context.Canceled)
}

func parseUpdate(up *models.Update, username string) *update {
	u := &update{id: up.ID}
	switch {
	case up.Message != nil:
		m := up.Message
		u.msg = m
		u.chatID = m.Chat.ID
		u.private = m.Chat.Type == models.ChatTypePrivate
		if m.From != nil {
			u.userID = m.From.ID
			u.userName = strings.TrimSpace(m.From.FirstName + " " + m.From.LastName)
		}
		u.text = strings.TrimSpace(m.Text)
		if u.text == "" {
			u.text = strings.TrimSpace(m.Caption)
		}
		u.cmd, u.args = parseCommand(u.text, username)
		switch {
		case u.cmd != "":
			u.kind = "command"
		case m.Document != nil:
			u.kind = "document"
		case len(m.Photo) > 0:
			u.kind = "photo"
		default:
			u.kind = "message"
		}
	case up.CallbackQuery != nil:
		q := up.CallbackQuery
		u.cb = q
		u.kind = "callback"
		u.userID = q.From.ID
		u.userName = strings.TrimSpace(q.From.FirstName + " " + q.From.LastName)
		u.text = q.Data
		if m := q.Message.Message; m != nil {
			u.chatID = m.Chat.ID
			u.private = m.Chat.Type == models.ChatTypePrivate
			u.cbMsgID = m.ID
		} else if m := q.Message.InaccessibleMessage; m != nil {
			u.chatID = m.Chat.ID
			u.private = m.Chat.ID > 0
			u.cbMsgID = m.MessageID
		} else {
			u.chatID = q.From.ID
			u.private = true
		}
	case up.MyChatMember != nil:
		u.kind = "member"
		u.chatID = up.MyChatMember.Chat.ID
		u.userID = up.MyChatMember.From.ID
	default:
		u.kind = "other"
	}
	return u
}

// parseCommand splits "/cmd@bot args" (go-telegram's matcher misses the
// @bot form and commands after non-ASCII text, so we parse ourselves). A
// command addressed to another bot is not ours.
func parseCommand(text, username string) (cmd, args string) {
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	head, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(head, "\n"); i >= 0 {
		rest = head[i+1:] + " " + rest
		head = head[:i]
	}
	head = strings.TrimPrefix(head, "/")
	if name, to, ok := strings.Cut(head, "@"); ok {
		if !strings.EqualFold(to, username) {
			return "", ""
		}
		head = name
	}
	if head == "" {
		return "", ""
	}
	return strings.ToLower(head), strings.TrimSpace(rest)
}

// handle routes one update.
func (b *Bot) handle(ctx context.Context, u *update) error {
	switch {
	case u.msg != nil && u.msg.MigrateToChatID != 0:
		return b.followMigration(ctx, u.chatID, u.msg.MigrateToChatID)
	case u.kind == "member" || u.kind == "other":
		return nil
	case u.cb != nil:
		return b.handleCallback(ctx, u)
	case !u.private:
		return b.onceOnly(ctx, u, b.handleGroup)
	default:
		return b.handlePrivate(ctx, u)
	}
}

// onceOnly runs a handler whose effects are not deduplicated by the
// store's transitions (commands): it is skipped when the update was already
// handled, and recorded after it was.
func (b *Bot) onceOnly(ctx context.Context, u *update, h func(context.Context, *update) error) error {
	done, err := b.store.Processed(ctx, u.id)
	if err != nil {
		return fmt.Errorf("check update %d: %w", u.id, err)
	}
	if done {
		u.outcome = "duplicate"
		return nil
	}
	if err := h(ctx, u); err != nil {
		return err
	}
	if _, err := b.store.Seen(ctx, u.id); err != nil {
		return fmt.Errorf("record update %d: %w", u.id, err)
	}
	return nil
}

// handleCallback answers the callback query (the client spins until we do)
// and routes the pressed button.
func (b *Bot) handleCallback(ctx context.Context, u *update) error {
	defer b.answerCallback(ctx, u.cb.ID, "")
	data := u.cb.Data
	switch {
	case strings.HasPrefix(data, adminPrefix):
		return b.onceOnly(ctx, u, b.handleAdminCallback)
	case !u.private:
		return nil
	default:
		return b.contactInput(ctx, u, flows.Input{Data: data})
	}
}
