// Package outbox delivers what reportbot says to Telegram.
//
// Every message a committed change produces is written to the store's
// outbox in the same atomic write as the change (flows.Transition.Outbox,
// flows.Store.Commit). The Outbox here drains it: the process that wrote
// the messages hands them over in memory (Push) right after the write, and
// the Outbox also looks in the store — everything at start (a crash left
// messages there), then every second for messages written by other
// processes (webhook replicas, `reportbot run`), and everything again now
// and then as a safety net.
//
// Each chat has a queue and a lane (a goroutine while the queue has work),
// so a chat's backlog never delays another chat and the order within a
// chat is kept. All lanes share one limiter: 25 messages a second overall,
// 1 a second per private chat, 20 a minute per group, a 429 pauses
// everyone for its retry_after, and after a start every bucket begins as
// if its window were full.
//
// A message is removed from the outbox (Delivered, batched) once Telegram
// has answered; a crash between Telegram's answer and that removal sends
// it again after the restart. That window — one call's answer to the next
// batched acknowledgement, a few milliseconds on a healthy machine — is
// the only one in which a message can be repeated (Unsettled counts the
// messages in it); otherwise every message is delivered exactly
// once. Messages are never lost: a failure that may pass (network, 5xx,
// Telegram's limits) is retried until it goes through; a refusal that will
// not (a bad request) is logged and dropped; a user who blocked the bot is
// marked unreachable.
//
// When submission posts for the office group queue up faster than the
// group's 20 a minute, the lane merges them: one message lists every
// queued submission (flows.MergePosts), and their documents follow as
// albums of up to 10 (an album counts as one message per document).
//
// Replies to strangers and to foreign groups are best-effort (Try): sent
// only when their chat and the global budget have room at once, dropped
// otherwise, never stored. Callback answers (Answer) are not messages and
// are not limited.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"reportbot/bot/telegram"
	"reportbot/flows"
)

// Store is the part of flows.Store the outbox reads and acknowledges.
type Store interface {
	Outbox(ctx context.Context, all bool) ([]flows.Outgoing, error)
	Delivered(ctx context.Context, ids []string) error
}

// API is the Telegram calls the outbox makes (*telegram.Client).
type API interface {
	SendMessage(ctx context.Context, chat int64, text string, kb telegram.Keyboard) (int, error)
	EditMessageText(ctx context.Context, chat int64, msgID int, text string, kb telegram.Keyboard) error
	EditMessageReplyMarkup(ctx context.Context, chat int64, msgID int, kb telegram.Keyboard) error
	SendDocument(ctx context.Context, chat int64, f telegram.InputFile, caption string) (int, error)
	SendPhoto(ctx context.Context, chat int64, f telegram.InputFile, caption string) (int, error)
	SendMediaGroup(ctx context.Context, chat int64, items []telegram.InputMedia) ([]int, error)
	AnswerCallbackQuery(ctx context.Context, id, text string) error
}

// Chats is what the outbox asks of the bot about chats.
type Chats interface {
	// OfficeGroup is the office group's chat id now (0: none set).
	OfficeGroup(ctx context.Context) (int64, error)
	// Blocked is told that the user of a private chat blocked the bot.
	Blocked(ctx context.Context, chat int64)
	// Migrated is told that a group became the supergroup to.
	Migrated(ctx context.Context, from, to int64)
}

// Hooks are optional counters for metrics; nil ones are skipped.
type Hooks struct {
	Sent      func() // a Bot API call that delivered messages
	Throttled func() // a 429 answer
	Retried   func() // a call tried again
	Dropped   func() // a best-effort message not sent
	// Panic counts a panic recovered in one of the outbox's goroutines
	// (where: "lane", "answer", "ack").
	Panic func(where string)
}

// Config tunes the outbox; zero values take the defaults.
type Config struct {
	Limits Limits
	Hooks  Hooks
	// Poll is how often the store is asked for messages written by other
	// processes (default 1 s); Rescan how often for all of them (default
	// 5 minutes).
	Poll, Rescan time.Duration
	// MaxPause caps a 429 pause that holds every chat (default 1 minute);
	// a longer retry_after holds only its own chat.
	MaxPause time.Duration
	// CallTimeout bounds one Bot API call (default 60 s; uploads are slow).
	CallTimeout time.Duration
	// Concurrency bounds the Bot API calls in flight at once (default
	// 64): give the HTTP client as many idle connections per host, plus
	// room for the callback answers (32), or calls dial anew.
	Concurrency int
	// AckEvery gathers acknowledgements for this long before they are
	// written (default 50 ms): one store write for many messages. It is
	// also the longest a crash can leave a delivered message in the store
	// to be sent again. The office group's posts are acknowledged at once.
	AckEvery time.Duration
	// Now and Sleep replace the clock (tests).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Config) defaults() {
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Rescan <= 0 {
		c.Rescan = 5 * time.Minute
	}
	if c.MaxPause <= 0 {
		c.MaxPause = time.Minute
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 60 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.AckEvery <= 0 {
		c.AckEvery = 50 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
}

// Outbox is the one sender. It delivers the store's messages only while
// Run runs: one process of a deployment runs it (the holder of the sender
// lease, see bot/lease); the others only write messages to the store, and
// send their best-effort replies, callback answers and SendNow calls
// themselves, under their own limiter. Close stops everything and waits
// for every goroutine it started.
type Outbox struct {
	store Store
	api   API
	chats Chats
	log   *slog.Logger
	cfg   Config
	lim   *limiter

	ctx    context.Context // cancelled by Close: stop waiting, stop taking work
	cancel context.CancelFunc
	wg     sync.WaitGroup
	answer chan struct{} // slots for callback answers in flight
	calls  chan struct{} // slots for the other calls in flight

	mu        sync.Mutex
	active    bool // Run runs: stored messages are delivered here
	starting  bool // Run reads the store at its start; Push waits in early
	early     []flows.Outgoing
	runCtx    context.Context  // Run's: ends when it stops
	queues    map[int64]*queue // by Outgoing.Chat (flows.OfficeGroup for the group's posts)
	known     map[string]bool  // queued or in flight: false; delivered, not yet forgotten: true
	done      []doneID         // delivered and acknowledged, oldest first
	acks      []string
	unsettled map[string]bool // stored messages whose call has begun, not yet acknowledged (Unsettled)
	ackWake   chan struct{}
	ackUrgent chan struct{} // an acknowledgement that should not wait
	closed    bool
}

// New makes an outbox; nothing runs before Start.
func New(store Store, api API, chats Chats, logger *slog.Logger, cfg Config) *Outbox {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Outbox{
		store: store, api: api, chats: chats, log: logger, cfg: cfg,
		lim:       newLimiter(cfg.Limits, cfg.Now, cfg.Sleep),
		ctx:       ctx,
		cancel:    cancel,
		answer:    make(chan struct{}, maxAnswers),
		calls:     make(chan struct{}, cfg.Concurrency),
		queues:    map[int64]*queue{},
		known:     map[string]bool{},
		unsettled: map[string]bool{},
		ackWake:   make(chan struct{}, 1),
		ackUrgent: make(chan struct{}, 1),
	}
}

// Run delivers the store's messages until ctx ends: it reads every
// message left in the store (a crash, another process), then delivers what
// it is handed (Push) and what it finds, acknowledging delivered messages in
// batches. When ctx ends, the messages not delivered yet stay in the store
// for the next runner; Run returns once the calls in flight are answered.
func (o *Outbox) Run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(o.ctx, cancel)
	defer stop()
	o.mu.Lock()
	if o.closed || o.active {
		o.mu.Unlock()
		return
	}
	o.active = true
	o.starting = true
	o.runCtx = ctx
	o.mu.Unlock()
	// A takeover is a start for Telegram's windows too: the process that
	// sent before may have used them up.
	o.lim.restart()

	var wg sync.WaitGroup
	wg.Go(func() {
		defer o.recoverIn("ack")
		o.ackLoop(ctx)
	})
	o.lookLoop(ctx)
	wg.Wait()

	o.mu.Lock()
	o.active, o.starting, o.early = false, false, nil
	for _, q := range o.queues {
		q.dropDurable(o.known)
	}
	o.mu.Unlock()
	o.waitIdle()
	o.flushAcks(context.Background())
}

// Close stops taking work and waits for the calls in flight (each bounded
// by CallTimeout) and the last acknowledgements. Messages still queued stay
// in the store for the next start.
func (o *Outbox) Close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.cancel()
	o.wg.Wait()
	o.flushAcks(context.Background())
}

// waitIdle returns when no durable message is in flight.
func (o *Outbox) waitIdle() {
	for {
		o.mu.Lock()
		busy := 0
		for _, q := range o.queues {
			busy += q.durableInFlight
		}
		o.mu.Unlock()
		if busy == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Push hands over messages just written to the store (with their IDs), in
// order. Messages already known (queued, in flight, delivered) are skipped.
func (o *Outbox) Push(msgs ...flows.Outgoing) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.active {
		return // the runner in another process finds them in the store
	}
	if o.starting {
		// Behind what the store holds from before: it is read first.
		o.early = append(o.early, msgs...)
		return
	}
	o.pushLocked(msgs)
}

// started queues what was handed over while the store was read at start,
// after what the store held, so that every chat's order holds.
func (o *Outbox) started() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starting = false
	early := o.early
	o.early = nil
	o.pushLocked(early)
}

func (o *Outbox) pushLocked(msgs []flows.Outgoing) {
	for _, m := range msgs {
		if m.ID == "" {
			o.log.Error("outbox: message without id not queued", "msg", m.String())
			continue
		}
		if _, ok := o.known[m.ID]; ok {
			continue
		}
		o.known[m.ID] = false
		o.enqueueLocked(item{msg: m, durable: true})
	}
}

// Try sends a best-effort message (a reply to a stranger or a foreign
// group): only if its chat has nothing queued and the limits have room
// now; otherwise it is dropped. It is never stored.
func (o *Outbox) Try(m flows.Outgoing) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.queues[m.Chat] != nil || m.Chat == flows.OfficeGroup || !o.lim.allow(m.Chat) {
		if o.cfg.Hooks.Dropped != nil {
			o.cfg.Hooks.Dropped()
		}
		return false
	}
	o.enqueueLocked(item{msg: m, allowed: true})
	return true
}

// Answer answers a pressed button (the user's client spins until it is
// answered). It does not wait; when too many answers are in flight it is
// skipped (the client gives up by itself after a while).
func (o *Outbox) Answer(id, text string) {
	select {
	case o.answer <- struct{}{}:
	default:
		return
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		<-o.answer
		return
	}
	o.wg.Add(1)
	o.mu.Unlock()
	go func() {
		defer o.wg.Done()
		defer func() { <-o.answer }()
		defer o.recoverIn("answer")
		ctx, cancel := context.WithTimeout(context.WithoutCancel(o.ctx), 10*time.Second)
		defer cancel()
		if err := o.api.AnswerCallbackQuery(ctx, id, text); err != nil {
			o.log.Debug("answer callback query", "err", err)
		}
	}()
}

// Pending is the number of messages queued or in flight, and those handed
// over while Run still reads the store at its start (tests wait for 0).
// Before Run has read the store it is at least 1: what it will find there
// is not known yet.
func (o *Outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.early)
	for _, q := range o.queues {
		n += len(q.items) + q.inFlight
	}
	if !o.closed && (!o.active || o.starting) {
		n = max(n, 1)
	}
	return n
}

// Unsettled is the number of stored messages whose Bot API call has begun
// and whose delivery is not yet acknowledged to the store: those a crash
// now could send again (see the package doc). It is 0 between calls.
func (o *Outbox) Unsettled() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.unsettled)
}

// unsettle records that a call for the batch's stored messages begins.
func (o *Outbox) unsettle(batch []item) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, it := range batch {
		if it.durable {
			o.unsettled[it.msg.ID] = true
		}
	}
}

func (o *Outbox) enqueueLocked(it item) {
	if o.closed {
		return // stays in the store (durable) or is dropped (best-effort)
	}
	q := o.queues[it.msg.Chat]
	if q == nil {
		q = &queue{}
		o.queues[it.msg.Chat] = q
		o.wg.Add(1)
		go o.runLane(it.msg.Chat, q)
	}
	q.items = append(q.items, it)
}

// lookLoop reads every stored message at start (until the store answers),
// then looks for messages of other processes every Poll and for all every
// Rescan.
func (o *Outbox) lookLoop(ctx context.Context) {
	backoff := time.Second
	for !o.look(ctx, true) {
		if o.cfg.Sleep(ctx, backoff) != nil {
			return
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	o.started()
	poll := time.NewTicker(o.cfg.Poll)
	defer poll.Stop()
	rescan := time.NewTicker(o.cfg.Rescan)
	defer rescan.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			o.look(ctx, false)
			o.forgetDelivered()
		case <-rescan.C:
			o.look(ctx, true)
		}
	}
}

func (o *Outbox) look(ctx context.Context, all bool) bool {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msgs, err := o.store.Outbox(lctx, all)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Warn("outbox: read pending messages", "all", all, "err", err)
		}
		return false
	}
	if len(msgs) > 0 && all {
		o.log.Info("outbox: pending messages found in the store", "count", len(msgs))
	}
	o.mu.Lock()
	if o.active {
		o.pushLocked(msgs)
	}
	o.mu.Unlock()
	return true
}

// delivered records messages Telegram has; they are acknowledged to the
// store in batches.
func (o *Outbox) delivered(its []item, now bool) {
	o.mu.Lock()
	n := 0
	for _, it := range its {
		if it.durable {
			o.acks = append(o.acks, it.msg.ID)
			o.known[it.msg.ID] = true
			n++
		}
	}
	o.mu.Unlock()
	if n > 0 {
		select {
		case o.ackWake <- struct{}{}:
		default:
		}
	}
	if now && n > 0 {
		select {
		case o.ackUrgent <- struct{}{}:
		default:
		}
	}
}

// ackLoop acknowledges delivered messages in batches: what gathered within
// AckEvery of the first goes in one store write.
func (o *Outbox) ackLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.ackWake:
		}
		if !o.gather(ctx) {
			return // Run flushes what is left
		}
		for !o.flushAcks(ctx) {
			if o.cfg.Sleep(ctx, time.Second) != nil {
				return
			}
		}
	}
}

// gather waits AckEvery for more acknowledgements, or less when an urgent
// one (the office group's) comes; false when ctx ends.
func (o *Outbox) gather(ctx context.Context) bool {
	select {
	case <-o.ackUrgent:
		return true
	default:
	}
	t := time.NewTimer(o.cfg.AckEvery)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-o.ackUrgent:
	case <-t.C:
	}
	return true
}

// flushAcks sends the gathered acknowledgements; false if the store failed
// (they are kept for the next try).
func (o *Outbox) flushAcks(ctx context.Context) bool {
	o.mu.Lock()
	ids := o.acks
	o.acks = nil
	o.mu.Unlock()
	if len(ids) == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := o.store.Delivered(ctx, ids); err != nil {
		o.log.Warn("outbox: acknowledge delivered messages", "count", len(ids), "err", err)
		o.mu.Lock()
		o.acks = append(ids, o.acks...)
		o.mu.Unlock()
		return false
	}
	now := o.cfg.Now()
	o.mu.Lock()
	for _, id := range ids {
		o.done = append(o.done, doneID{id, now})
		delete(o.unsettled, id)
	}
	o.mu.Unlock()
	return true
}

// doneID is a delivered and acknowledged message id, remembered for a
// while: a look at the store that began before the acknowledgement may
// still return it.
type doneID struct {
	id string
	at time.Time
}

// forgetAfter is how long acknowledged ids are remembered; longer than any
// look at the store takes (they time out after 30 s).
const forgetAfter = time.Minute

// forgetDelivered drops acknowledged ids from memory once no look at the
// store can return them any more.
func (o *Outbox) forgetDelivered() {
	o.mu.Lock()
	defer o.mu.Unlock()
	cut := o.cfg.Now().Add(-forgetAfter)
	n := 0
	for n < len(o.done) && o.done[n].at.Before(cut) {
		delete(o.known, o.done[n].id)
		n++
	}
	o.done = o.done[n:]
}

// recoverIn recovers a panic of an outbox goroutine: logged with its
// stack and counted, so that one bad message cannot take the process down.
func (o *Outbox) recoverIn(where string) {
	if r := recover(); r != nil {
		o.recoverValue(where, r)
	}
}

func (o *Outbox) recoverValue(where string, r any) {
	o.log.Error("outbox: panic recovered", "where", where, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	if o.cfg.Hooks.Panic != nil {
		o.cfg.Hooks.Panic(where)
	}
}

// maxAnswers bounds the callback answers in flight.
const maxAnswers = 32

// errClosing: the outbox is closing; the message stays in the store.
var errClosing = errors.New("outbox closing")
