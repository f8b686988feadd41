package outbox

import (
	"context"
	"errors"
	"fmt"

	"reportbot/bot/telegram"
	"reportbot/flows"
)

// ErrBlocked is returned (wrapped) by SendNow when the user blocked the bot.
var ErrBlocked = errors.New("bot was blocked by the user")

// SendNow delivers one message outside the queues, under the same limits,
// and says how it went: the scheduler's reminders, whose exactly-once
// markers are taken around the send (see the scheduler). It retries what
// may pass until ctx ends; a 403 wraps ErrBlocked (the chat is reported
// Blocked), a migrated group is followed.
func (o *Outbox) SendNow(ctx context.Context, m flows.Outgoing) error {
	chat := m.Chat
	if chat == flows.OfficeGroup {
		var err error
		if chat, err = o.chats.OfficeGroup(ctx); err != nil {
			return fmt.Errorf("look up the office group: %w", err)
		}
		if chat == 0 {
			return errors.New("no office group set")
		}
	}
	// The call waits on the limiter with ctx, not with the outbox's own
	// context: SendNow runs on the caller's goroutine.
	c := call{o: o, batch: []item{{msg: m, durable: true}}, wait: ctx, base: ctx}
	for attempt := 1; ; attempt++ {
		err := c.run(chat)
		switch telegram.Classify(err) {
		case telegram.OK, telegram.NotModified:
			return nil
		case telegram.Blocked:
			if chat > 0 {
				o.chats.Blocked(ctx, chat)
			}
			return fmt.Errorf("send to chat %d: %w: %w", chat, ErrBlocked, err)
		case telegram.Migrated:
			var te *telegram.Error
			errors.As(err, &te)
			o.chats.Migrated(ctx, chat, te.MigrateTo)
			chat = te.MigrateTo
			continue
		case telegram.Permanent:
			if errors.Is(err, errClosing) && ctx.Err() != nil {
				return fmt.Errorf("send to chat %d: %w", chat, ctx.Err())
			}
			return fmt.Errorf("send to chat %d: %w", chat, err)
		}
		if ctx.Err() != nil || attempt >= 5 {
			return fmt.Errorf("send to chat %d: giving up after %d attempts: %w", chat, attempt, err)
		}
		if err := o.waitFor(ctx, chat, telegram.Classify(err), err, attempt); err != nil {
			return fmt.Errorf("send to chat %d: %w", chat, ctx.Err())
		}
	}
}
