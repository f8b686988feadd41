package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"syscall"
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
	claimed  bool             // claimed by onceOnly: committed even without messages
	pushed   []flows.Outgoing // written by the engine with the draft
}

// handleSafely handles one update once: it recovers a panic (the user
// gets an apology, the error is logged, the bot lives) and logs one line
// per attempt. What the handler says is committed to the outbox before it
// returns (commitEffects). An error means the update's effects could not
// be stored; the caller (handleUpdate) decides whether to try again.
func (b *Bot) handleSafely(up *models.Update, attempt int) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), handleTimeout)
	defer cancel()
	start := time.Now()
	u := parseUpdate(up, b.username)
	u.outcome = "ok"
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic while handling update", "update_id", u.id, "chat_id", u.chatID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			u.outcome = "panic"
			b.apologise(u.chatID)
			err = nil // do not redeliver a poison update
		}
		d := time.Since(start)
		b.log.Info("update", "update_id", u.id, "kind", u.kind, "chat_id", u.chatID, "unit", u.unit, "step", u.step, "outcome", u.outcome, "duration", d)
		if b.hooks.Update != nil {
			b.hooks.Update(u.kind, u.outcome, d)
		}
	}()
	ctx, eff := withEffects(ctx)
	err = b.handle(ctx, u)
	if err == nil {
		err = b.commitEffects(ctx, u, eff)
	}
	if err != nil {
		u.outcome = "error"
		b.log.Error("handle update", "update_id", u.id, "chat_id", u.chatID, "attempt", attempt, "err", b.redact(err))
		return fmt.Errorf("update %d: %w", u.id, err)
	}
	return nil
}

// handleUpdate handles an update until its effects are stored. While the
// store is unreachable it tries again with a growing pause, for up to
// Config.OutageRetry (polling; Telegram keeps updates a day), and the
// chat's later updates wait behind it; other failures are tried a few
// times and then dropped with an apology, so that one update cannot block
// its chat for good. An update already handled by this process (its batch
// came back) is not handled again. It returns an error only when the update
// must come back later: the bot is stopping, or (webhook) the store is
// still unreachable.
func (b *Bot) handleUpdate(ctx context.Context, up *models.Update, outage time.Duration) (err error) {
	defer func() { // handleSafely recovers the handler; this, the rest
		if r := recover(); r != nil {
			b.log.Error("panic around an update", "update_id", up.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if b.hooks.Panic != nil {
				b.hooks.Panic("intake")
			}
			err = nil
		}
	}()
	if b.done.has(up.ID) {
		return nil
	}
	start := time.Now()
	delay := time.Second
	for attempt := 1; ; attempt++ {
		err := b.handleSafely(up, attempt)
		if err == nil {
			b.done.add(up.ID)
			return nil
		}
		unreachable := isUnreachable(err)
		switch {
		case unreachable && time.Since(start)+delay <= outage:
		case !unreachable && attempt < maxUpdateAttempts:
			delay = time.Second
		case unreachable && outage == 0:
			return err // webhook: Telegram delivers it again
		default:
			b.log.Error("giving up on update", "update_id", up.ID, "attempts", attempt, "err", b.redact(err))
			b.apologise(chatOf(up))
			b.done.add(up.ID)
			return nil
		}
		if sleepCtx(ctx, delay) != nil {
			return errClosed
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// maxUpdateAttempts bounds how often an update whose handling fails for
// another reason than an unreachable store (a bug) is tried.
const maxUpdateAttempts = 3

// isUnreachable reports whether err means the store could not be reached
// (a network error, a refused or reset connection, a timeout): worth
// waiting for, unlike an error that would come back every time.
func isUnreachable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errClaimed)
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// commitEffects writes what the handler said to the outbox, once per
// update (a redelivered update's messages are not written again), and
// hands them to the sender. Messages the engine already wrote with its
// draft (u.pushed) are handed over too; best-effort replies are tried
// without being stored.
func (b *Bot) commitEffects(ctx context.Context, u *update, eff *effects) error {
	b.out.Push(u.pushed...)
	if len(eff.msgs) == 0 && !u.claimed {
		return nil
	}
	if eff.bestEffort && !u.claimed {
		for _, m := range eff.msgs {
			b.out.Try(m)
		}
		return nil
	}
	first, err := b.svc.Commit(ctx, u.id, eff.msgs)
	if err != nil {
		return err
	}
	if first {
		b.out.Push(eff.msgs...)
	}
	return nil
}

// apologise tells the user that their action failed on our side, if the
// limits have room (it is not stored: the store may be what failed).
func (b *Bot) apologise(chat int64) {
	if chat != 0 {
		b.out.Try(flows.Outgoing{Chat: chat, Kind: flows.OutText, Text: msgSorry, At: b.svc.Now()})
	}
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
		return b.followGroupMigration(ctx, u.chatID, u.msg.MigrateToChatID)
	case u.kind == "member" || u.kind == "other":
		return nil
	case u.cb != nil:
		return b.handleCallback(ctx, u)
	case !u.private:
		return b.routeGroup(ctx, u)
	default:
		return b.handlePrivate(ctx, u)
	}
}

// routeGroup routes a group message. Chatter is not for us and costs
// nothing; commands in the office group (and an admin's /setgroup) run
// once; commands in any other group are answered best-effort, and a user
// who floods them is ignored for a while.
func (b *Bot) routeGroup(ctx context.Context, u *update) error {
	if u.cmd == "" {
		return nil
	}
	if b.runsOnceInAnyGroup(u) {
		return b.onceOnly(ctx, u, b.runGroupCommand)
	}
	group, err := b.officeGroup(ctx)
	if err != nil {
		return err
	}
	if group == u.chatID {
		return b.onceOnly(ctx, u, b.runGroupCommand)
	}
	if b.strangers.flooding(u.userID, time.Now()) {
		u.outcome = "ignored"
		return nil
	}
	bestEffort(ctx)
	return b.runGroupCommand(ctx, u)
}

// onceOnly runs a handler whose effects are not deduplicated by the
// store's transitions (commands): claim → run → commit. The update is
// claimed before the handler runs, so that a redelivery or a second
// replica does not run it while it runs or after it was committed; the
// commit (commitEffects) marks it done with its messages in one write. A
// run that crashed holds its claim until claimTTL passes.
func (b *Bot) onceOnly(ctx context.Context, u *update, h func(context.Context, *update) error) error {
	st, err := b.svc.Claim(ctx, u.id, b.token, claimTTL)
	if err != nil {
		return err
	}
	switch st {
	case flows.Done:
		u.outcome = "duplicate"
		return nil
	case flows.Busy:
		return fmt.Errorf("update %d: %w", u.id, errClaimed)
	}
	u.claimed = true
	return h(ctx, u)
}

// claimTTL bounds how long a command's claim outlives a crashed run.
const claimTTL = 2 * time.Minute

// errClaimed: another run holds the update's claim; it comes back later.
var errClaimed = errors.New("claimed by another run")

// handleCallback answers the callback query (the client spins until we do)
// and routes the pressed button.
func (b *Bot) handleCallback(ctx context.Context, u *update) error {
	b.out.Answer(u.cb.ID, "")
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
