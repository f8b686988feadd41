package bot

import (
	"context"
	"errors"
	"time"

	"reportbot/flows"
)

// Scheduler is what the admin commands /remind and /digest drive: the
// reminder and digest scheduler (reportbot/remind's Scheduler), made for
// the bot by Config.Scheduler.
type Scheduler interface {
	// RemindNow runs an admin's round in the background and calls done
	// with its result.
	RemindNow(r flows.Round, deadline time.Time, done func(ctx context.Context, res flows.RoundResult, err error))
	// DigestNow posts a digest to the office group now.
	DigestNow(ctx context.Context, now time.Time) error
}

// Notifier is how the scheduler reaches Telegram through the bot (it
// implements reportbot/remind's Notifier): the bot's own sends, through
// its outbox.
type Notifier struct{ b *Bot }

// Send says a message as a reply is said: within an update it joins the
// update's effects; outside one it is sent at once.
func (n Notifier) Send(ctx context.Context, m flows.Outgoing) error { return n.b.say(ctx, m) }

// SendNow delivers one message now, under the limits (see outbox.SendNow);
// a user who blocked the bot is marked unreachable.
func (n Notifier) SendNow(ctx context.Context, m flows.Outgoing) error { return n.b.sendNow(ctx, m) }

// Blocked reports whether an error of SendNow says the user blocked the
// bot.
func (n Notifier) Blocked(err error) bool { return errors.Is(err, ErrBlocked) }

// Redact removes the bot token from an error (request URLs carry it).
func (n Notifier) Redact(err error) error { return n.b.redact(err) }
