package bot

import (
	"context"
	"errors"

	"reportbot/bot/outbox"
	"reportbot/flows"
)

// Handlers never call Telegram. What they say is gathered in the update's
// effects and written to the store's outbox when the update's work is
// committed (handle.go); the outbox delivers it. Replies to strangers and
// foreign groups are best-effort: tried once when the limits have room,
// never stored.

// effects are the messages one update produces, in order.
type effects struct {
	msgs       []flows.Outgoing
	bestEffort bool // replies to someone who is not a contact, admin or the office
}

type effectsKey struct{}

// withEffects gives ctx a fresh list of effects.
func withEffects(ctx context.Context) (context.Context, *effects) {
	e := &effects{}
	return context.WithValue(ctx, effectsKey{}, e), e
}

func effectsOf(ctx context.Context) *effects {
	e, _ := ctx.Value(effectsKey{}).(*effects)
	return e
}

// say adds a message to the update's effects; outside an update (the
// scheduler's digests and round reports) it is sent at once.
func (b *Bot) say(ctx context.Context, m flows.Outgoing) error {
	if m.At.IsZero() {
		m.At = b.svc.Now()
	}
	if e := effectsOf(ctx); e != nil {
		e.msgs = append(e.msgs, m)
		return nil
	}
	return b.sendNow(ctx, m)
}

// sendNow delivers one message now, under the limits (see outbox.SendNow).
func (b *Bot) sendNow(ctx context.Context, m flows.Outgoing) error {
	if m.At.IsZero() {
		m.At = b.svc.Now()
	}
	return b.out.SendNow(ctx, m)
}

// send says one reply as a new message (split at line breaks if it is too
// long; the buttons go with the last part).
func (b *Bot) send(ctx context.Context, chatID int64, r flows.Reply) error {
	return b.say(ctx, flows.Outgoing{Chat: chatID, Kind: flows.OutText, Text: r.Text, Buttons: r.Buttons})
}

// sendText says a plain text message.
func (b *Bot) sendText(ctx context.Context, chatID int64, text string) {
	_ = b.send(ctx, chatID, flows.Reply{Text: text})
}

// refuse tells the user a refusal of the service (a *flows.UserError)
// and returns nil for it; any other error is returned as it is.
func (b *Bot) refuse(ctx context.Context, u *update, err error) error {
	var ue *flows.UserError
	if !errors.As(err, &ue) {
		return err
	}
	b.sendText(ctx, u.chatID, ue.Msg)
	return nil
}

// removeKeyboard strips a pressed message of its buttons.
func (b *Bot) removeKeyboard(ctx context.Context, chatID int64, msgID int) {
	if msgID == 0 {
		return
	}
	_ = b.say(ctx, flows.Outgoing{Chat: chatID, Kind: flows.OutUnbutton, MsgID: msgID})
}

// sendDocument sends a file: by Telegram file id (resend) or uploaded.
func (b *Bot) sendDocument(ctx context.Context, chatID int64, f flows.File, caption string, upload []byte) error {
	return b.say(ctx, flows.Outgoing{Chat: chatID, Kind: flows.OutFile, File: &f, Text: caption, Upload: upload})
}

// bestEffort marks the update's replies as best-effort (see above).
func bestEffort(ctx context.Context) {
	if e := effectsOf(ctx); e != nil {
		e.bestEffort = true
	}
}

// OfficeGroup, Blocked and Migrated are what the outbox asks of the bot
// (outbox.Chats).
type outboxChats struct{ b *Bot }

func (c outboxChats) OfficeGroup(ctx context.Context) (int64, error) { return c.b.officeGroup(ctx) }

func (c outboxChats) Blocked(ctx context.Context, chat int64) { c.b.markUnreachable(ctx, chat) }

func (c outboxChats) Migrated(ctx context.Context, from, to int64) {
	if err := c.b.followMigration(ctx, from, to); err != nil {
		c.b.log.Error("follow group migration", "err", err)
	}
}

// markUnreachable marks the contact of a private chat as having blocked the bot.
func (b *Bot) markUnreachable(ctx context.Context, chatID int64) {
	if chatID <= 0 {
		return
	}
	ct, marked, err := b.svc.MarkUnreachable(ctx, chatID) // private chat id = user id
	if !marked {
		return
	}
	if err != nil {
		b.log.Error("mark contact unreachable", "chat_id", chatID, "err", err)
	}
	b.forgetContact(ct.UserID)
	b.log.Info("contact blocked the bot", "chat_id", chatID, "unit", ct.UnitID)
}

// ErrBlocked is returned (wrapped) by sends outside an update when the user
// blocked the bot.
var ErrBlocked = outbox.ErrBlocked

// Limits are the outbox's sending rates (configuration).
type Limits = outbox.Limits

// DefaultLimits stays below Telegram's published limits.
func DefaultLimits() Limits { return outbox.DefaultLimits() }
