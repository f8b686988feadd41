package bot

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// allowedUpdates are the update kinds reportbot asks for.
var allowedUpdates = []string{"message", "callback_query", "my_chat_member"}

// maxWebhookBody caps a webhook request body; updates are small.
const maxWebhookBody = 1 << 20

// dispatcher runs the updates of one chat in order and different chats
// concurrently: a chat with work has a lane, one goroutine that handles its
// queued updates one after another and ends when the queue is empty. At
// most max lanes handle an update at once.
//
// Lanes rather than a fixed set of goroutines per hash of the chat: a
// polled batch of 100 chats' answers is handled by up to max goroutines at
// once instead of queueing behind each other on 16, so their store writes
// meet in one commit (bbolt batches concurrent writes: one pair of
// fdatasyncs for the lot) and the batch is done — and the next one asked
// for — as soon as its slowest chat is.
type dispatcher struct {
	handle func(ctx context.Context, up *models.Update, outage time.Duration) error
	slots  chan struct{} // one per lane handling an update

	mu     sync.Mutex
	lanes  map[int64]*lane // chats with queued or running updates
	closed bool
	wg     sync.WaitGroup
}

type lane struct{ queue []job }

type job struct {
	up     *models.Update
	batch  *batchState     // nil for a webhook update
	ctx    context.Context // the intake's: its end stops the retries
	outage time.Duration   // how long an unreachable store is waited for
	done   chan error
}

// batchState remembers, within one polled batch, the chats whose update
// failed: their later updates are not handled in this round (they come
// back with the failed one), so a chat's updates never overtake each other.
type batchState struct {
	mu     sync.Mutex
	failed map[int64]bool
}

func (s *batchState) chatFailed(chat int64) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed[chat]
}

func (s *batchState) markFailed(chat int64) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.failed[chat] = true
	s.mu.Unlock()
}

// errHeldBack marks an update not handled because an earlier update of its
// chat failed in the same batch.
var errHeldBack = errors.New("held back behind a failed update of the same chat")

func newDispatcher(max int, handle func(context.Context, *models.Update, time.Duration) error) *dispatcher {
	return &dispatcher{handle: handle, slots: make(chan struct{}, max), lanes: map[int64]*lane{}}
}

// submit queues an update on its chat's lane; the result arrives on the
// returned channel once it is handled. After close, it answers
// errClosed at once.
func (d *dispatcher) submit(ctx context.Context, up *models.Update, batch *batchState, outage time.Duration) chan error {
	done := make(chan error, 1)
	j := job{up: up, batch: batch, ctx: ctx, outage: outage, done: done}
	chat := chatOf(up)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		done <- errClosed
		return done
	}
	if l := d.lanes[chat]; l != nil {
		l.queue = append(l.queue, j)
		return done
	}
	l := &lane{queue: []job{j}}
	d.lanes[chat] = l
	d.wg.Add(1)
	go d.run(chat, l)
	return done
}

// run handles a lane's updates until its queue is empty.
func (d *dispatcher) run(chat int64, l *lane) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(l.queue) == 0 {
			delete(d.lanes, chat)
			d.mu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue[0] = job{}
		l.queue = l.queue[1:]
		d.mu.Unlock()

		if j.batch.chatFailed(chat) {
			j.done <- errHeldBack
			continue
		}
		d.slots <- struct{}{}
		err := d.handle(j.ctx, j.up, j.outage)
		<-d.slots
		if err != nil {
			j.batch.markFailed(chat)
		}
		j.done <- err
	}
}

// errClosed answers updates submitted after close.
var errClosed = errors.New("bot is shutting down")

// close waits for the queued updates to be handled; later ones are refused.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}

// chatOf is the chat an update belongs to (0 if none).
func chatOf(up *models.Update) int64 {
	switch {
	case up.Message != nil:
		return up.Message.Chat.ID
	case up.CallbackQuery != nil:
		if m := up.CallbackQuery.Message.Message; m != nil {
			return m.Chat.ID
		}
		if m := up.CallbackQuery.Message.InaccessibleMessage; m != nil {
			return m.Chat.ID
		}
		return up.CallbackQuery.From.ID
	case up.MyChatMember != nil:
		return up.MyChatMember.Chat.ID
	}
	return 0
}

// Poll is the long-polling intake: it asks Telegram for updates, handles a
// batch (chats concurrently, each chat in order), and confirms the batch by
// asking for the next offset as soon as every update's effects — its state
// change and its messages in the outbox — are stored; sending them is the
// outbox's business. While the store is unreachable an update waits in its
// chat's lane (handleUpdate), so the batch is confirmed late but whole. An
// update not confirmed when the process stops comes back; what it already
// stored is recognised (update ids, claims), and updates handled lately by
// this process are skipped.
func (b *Bot) Poll(ctx context.Context) error {
	b.setRunning(true)
	b.SetStandby(false) // after: /healthz never sees a process neither running nor standing by
	defer b.setRunning(false)
	var offset int64
	backoff := time.Second
	for {
		if ctx.Err() != nil {
			b.confirm(offset)
			return nil
		}
		ups, err := b.getUpdates(ctx, offset, b.cfg.PollTimeout)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			b.log.Warn("getUpdates failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		next, failed := b.handleBatch(ctx, ups)
		if next > offset {
			offset = next
		}
		if failed {
			select { // stopping, or a handler gave up: give it a moment
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
}

// handleBatch handles a batch and returns the offset that confirms every
// update up to the first one that failed.
func (b *Bot) handleBatch(ctx context.Context, ups []models.Update) (next int64, failed bool) {
	dones := make([]chan error, len(ups))
	batch := &batchState{failed: map[int64]bool{}}
	for i := range ups {
		dones[i] = b.disp.submit(ctx, &ups[i], batch, b.cfg.OutageRetry)
	}
	failedAt := -1
	for i, done := range dones {
		if err := <-done; err != nil && failedAt < 0 {
			failedAt = i
		}
	}
	switch {
	case len(ups) == 0:
		return 0, false
	case failedAt >= 0:
		return ups[failedAt].ID, true
	default:
		return ups[len(ups)-1].ID + 1, false
	}
}

// confirm tells Telegram that every update below offset is handled (on a
// graceful stop), without waiting for new ones.
func (b *Bot) confirm(offset int64) {
	if offset == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// limit 1 and timeout 0: returns at once; what it returns stays unconfirmed.
	if _, err := b.getUpdatesLimit(ctx, offset, 0, 1); err != nil {
		b.log.Warn("confirm updates on shutdown failed; they will be redelivered and deduplicated", "err", err)
	}
}

func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]models.Update, error) {
	return b.getUpdatesLimit(ctx, offset, timeout, 100)
}

func (b *Bot) getUpdatesLimit(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]models.Update, error) {
	return b.tg.GetUpdates(ctx, offset, timeout, limit, allowedUpdates)
}

// WebhookHandler is the webhook intake: it checks the secret in constant
// time (401 otherwise), caps the body, handles the update synchronously and
// answers 200 only after its effects are stored (500 makes Telegram retry).
// Telegram waits for the answer before sending the chat's next update, so
// per-chat order holds across replicas.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if b.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(b.cfg.WebhookSecret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var up models.Update
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err := dec.Decode(&up); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if err := <-b.disp.submit(r.Context(), &up, nil, 0); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// MarkRunning tells /healthz that webhook intake is up.
func (b *Bot) MarkRunning(v bool) { b.setRunning(v) }
