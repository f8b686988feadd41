package outbox

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"reportbot/bot/telegram"
	"reportbot/flows"
)

// item is one queued message.
type item struct {
	msg     flows.Outgoing
	durable bool // from the store: acknowledged when delivered
	allowed bool // best-effort: its limiter slot is already taken
}

// queue is one chat's messages, in order.
type queue struct {
	items           []item
	inFlight        int
	durableInFlight int
}

// dropDurable forgets the queued messages from the store (the runner
// stopped: they stay there for the next one).
func (q *queue) dropDurable(known map[string]bool) {
	rest := q.items[:0]
	for _, it := range q.items {
		if it.durable {
			delete(known, it.msg.ID)
		} else {
			rest = append(rest, it)
		}
	}
	clear(q.items[len(rest):])
	q.items = rest
}

// maxAlbum is the most documents Telegram takes in one album.
const maxAlbum = 10

// runLane delivers a chat's queue until it is empty, then ends; the next
// message for the chat starts a new lane.
func (o *Outbox) runLane(key int64, q *queue) {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if len(q.items) == 0 || o.ctx.Err() != nil {
			q.items = nil
			delete(o.queues, key)
			o.mu.Unlock()
			return
		}
		batch := q.take()
		q.inFlight = len(batch)
		ctx := o.ctx
		if batch[0].durable {
			q.durableInFlight = len(batch)
			ctx = o.runCtx
		}
		o.mu.Unlock()

		err := o.deliverSafely(ctx, key, batch)

		o.mu.Lock()
		q.inFlight, q.durableInFlight = 0, 0
		if err != nil { // closing: the batch stays in the store
			for _, it := range batch {
				delete(o.known, it.msg.ID)
				delete(o.unsettled, it.msg.ID)
			}
		}
		o.mu.Unlock()
		if err == nil {
			// The office group's posts are few (20 a minute) and a repeat
			// there is what the office notices: acknowledge them at once.
			o.delivered(batch, key == flows.OfficeGroup)
		}
	}
}

// deliverSafely delivers a batch; a panic while doing so (a message the
// code cannot handle) is recovered and the batch dropped — delivering it
// again would panic again — so that the lane goes on with the chat's next
// messages.
func (o *Outbox) deliverSafely(ctx context.Context, key int64, batch []item) (err error) {
	defer func() {
		if r := recover(); r != nil {
			o.recoverValue("lane", r)
			err = nil
		}
	}()
	return o.deliver(ctx, key, batch)
}

// take removes the next batch from the queue: one message, or — when
// submission posts for the office group have queued up — every queued
// post's text merged into one message, or up to ten of their documents as
// one album. Texts go before documents: the receipts are what the office
// waits for.
func (q *queue) take() []item {
	head := q.items[0]
	if !head.msg.Post {
		q.items = q.items[1:]
		return []item{head}
	}
	if batch := q.takeWhere(func(it item, taken []item) bool {
		return it.msg.Post && it.msg.Kind == flows.OutText && fitsMerged(taken, it)
	}); len(batch) > 0 {
		return batch
	}
	photo := head.msg.File != nil && head.msg.File.Photo
	return q.takeWhere(func(it item, taken []item) bool {
		return it.msg.Post && it.msg.Kind == flows.OutFile && it.msg.File != nil &&
			it.msg.File.Photo == photo && it.msg.Upload == nil && len(taken) < maxAlbum
	})
}

// takeWhere removes the items that ok accepts (given those taken so far),
// keeping the order of the rest.
func (q *queue) takeWhere(ok func(it item, taken []item) bool) []item {
	var taken []item
	rest := q.items[:0]
	for _, it := range q.items {
		if ok(it, taken) {
			taken = append(taken, it)
		} else {
			rest = append(rest, it)
		}
	}
	clear(q.items[len(rest):])
	q.items = rest
	return taken
}

// fitsMerged reports whether it's text still fits into one message with
// the texts taken so far.
func fitsMerged(taken []item, it item) bool {
	if len(taken) == 0 {
		return true
	}
	texts := make([]string, 0, len(taken)+1)
	for _, t := range taken {
		texts = append(texts, t.msg.Text)
	}
	texts = append(texts, it.msg.Text)
	return textUnits(flows.MergePosts(texts)) <= MaxTextUnits
}

// deliver sends one batch to its chat: it returns nil once Telegram has it
// (or it was dropped for good), errClosing when the outbox closes first.
// Failures that may pass are retried for as long as it takes; the chat's
// later messages wait meanwhile, so its order holds.
func (o *Outbox) deliver(ctx context.Context, key int64, batch []item) error {
	chat, err := o.resolve(ctx, key)
	if err != nil {
		return err
	}
	if chat == 0 {
		o.log.Warn("outbox: no office group set; message dropped", "count", len(batch))
		return nil
	}
	c := call{o: o, batch: batch, wait: ctx, base: context.WithoutCancel(ctx)}
	for attempt := 1; ; attempt++ {
		err := c.run(chat)
		if errors.Is(err, errClosing) {
			return errClosing
		}
		out := telegram.Classify(err)
		switch out {
		case telegram.OK, telegram.NotModified:
			return nil
		case telegram.Blocked:
			if chat > 0 {
				o.chats.Blocked(c.base, chat)
			}
			o.log.Info("outbox: chat blocked the bot; message dropped", "chat_id", chat)
			return nil
		case telegram.Migrated:
			var te *telegram.Error
			errors.As(err, &te)
			o.chats.Migrated(c.base, chat, te.MigrateTo)
			chat = te.MigrateTo
			continue
		case telegram.Permanent:
			o.log.Error("outbox: telegram refused a message; dropped", "chat_id", chat, "kind", batch[0].msg.Kind, "err", err)
			return nil
		}
		if !batch[0].durable {
			if o.cfg.Hooks.Dropped != nil {
				o.cfg.Hooks.Dropped()
			}
			return nil // best-effort: one try
		}
		if ctx.Err() != nil {
			return errClosing
		}
		if o.cfg.Hooks.Retried != nil {
			o.cfg.Hooks.Retried()
		}
		if err := o.waitFor(ctx, chat, out, err, attempt); err != nil {
			return err
		}
	}
}

// wait sleeps before another attempt: the 429's retry_after (for everyone
// when it is short, for this chat alone when it is long), or an
// exponential backoff with jitter after a network error or a 5xx.
func (o *Outbox) waitFor(ctx context.Context, chat int64, out telegram.Outcome, err error, attempt int) error {
	var d time.Duration
	if out == telegram.Flood {
		var te *telegram.Error
		errors.As(err, &te)
		d = max(te.RetryAfter, time.Second)
		if o.cfg.Hooks.Throttled != nil {
			o.cfg.Hooks.Throttled()
		}
		if d <= o.cfg.MaxPause {
			o.lim.pause(d)
			o.log.Warn("outbox: telegram rate limit hit, pausing all sends", "chat_id", chat, "retry_after", d)
			return nil // the limiter waits
		}
		o.log.Warn("outbox: long rate limit on one chat", "chat_id", chat, "retry_after", d)
	} else {
		d = backoff(attempt)
		o.log.Info("outbox: telegram call failed, retrying", "chat_id", chat, "attempt", attempt, "delay", d, "err", err)
	}
	if o.cfg.Sleep(ctx, d) != nil {
		return errClosing
	}
	return nil
}

// backoff is the delay after failed attempt n: 500 ms doubling up to 30 s,
// a random point in [d/2, d) so that lanes failing together do not retry
// together.
func backoff(n int) time.Duration {
	d := 500 * time.Millisecond
	for i := 1; i < n && d < 30*time.Second; i++ {
		d *= 2
	}
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2)
}

// resolve turns a queue key into a chat id: the office group's posts are
// queued under flows.OfficeGroup and go wherever the group is now.
func (o *Outbox) resolve(ctx context.Context, key int64) (int64, error) {
	if key != flows.OfficeGroup {
		return key, nil
	}
	for attempt := 1; ; attempt++ {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		chat, err := o.chats.OfficeGroup(lctx)
		cancel()
		if err == nil {
			return chat, nil
		}
		o.log.Warn("outbox: look up the office group", "err", err)
		if o.cfg.Sleep(ctx, backoff(attempt)) != nil {
			return 0, errClosing
		}
	}
}
