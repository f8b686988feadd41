package remind

import (
	"context"

	"reportbot/flows"
)

// Notifier is what the scheduler needs of Telegram. The bot implements it
// (bot.Notifier): its sends go through the rate-limited outbox.
type Notifier interface {
	// Send says one message as the bot's replies are said: within an
	// update (an admin's /digest) it joins the update's effects, stored
	// with its work; outside one it is sent at once. The office group's
	// lines and digests go this way.
	Send(ctx context.Context, m flows.Outgoing) error
	// SendNow delivers one message now, under the limits, and says how it
	// went (a reminder: its exactly-once marker is taken around the send).
	// A user who blocked the bot is marked unreachable.
	SendNow(ctx context.Context, m flows.Outgoing) error
	// Blocked reports whether an error of SendNow says that the user
	// blocked the bot.
	Blocked(err error) bool
	// Redact removes secrets (the bot token) from an error before it is
	// logged.
	Redact(err error) error
}
