package remind

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"reportbot/flows"
)

// errPanicked is the error of work that panicked (recovered).
var errPanicked = errors.New("panicked (recovered; see the log)")

// panicked logs a recovered panic with its stack and counts it.
func (s *Scheduler) panicked(where string, v any, kv ...any) {
	args := append([]any{"where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack())}, kv...)
	s.log.Error("panic in scheduler (recovered)", args...)
	s.onPanic(where)
}

// recoverAs, deferred, recovers a panic of a goroutine the scheduler
// started and reports it as where.
func (s *Scheduler) recoverAs(where string) {
	if v := recover(); v != nil {
		s.panicked(where, v)
	}
}

// roundPanicked reports whether a run of the round panicked (the mark).
func (s *Scheduler) roundPanicked(ctx context.Context, r flows.Round) (bool, error) {
	_, err := s.store.Setting(ctx, s.scoped(settingPanicked+r.Key()))
	switch {
	case errors.Is(err, flows.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("load panic mark of round %s: %w", r.Key(), err)
	}
	return true, nil
}

// putPanicked marks the round as panicked. The mark is a setting: the
// store has no lock or once-marker that can be read without taking it. It
// is small, and written only when something panicked.
func (s *Scheduler) putPanicked(ctx context.Context, r flows.Round) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.store.PutSetting(ctx, s.scoped(settingPanicked+r.Key()), s.now().Format(time.RFC3339))
}

// markPanicked marks a round whose run panicked as a whole, and keeps its
// lock as "done" for the retention. It reports whether the lock is kept
// (else the caller releases it).
func (s *Scheduler) markPanicked(ctx context.Context, r flows.Round, lockKey, token string) bool {
	if err := s.putPanicked(ctx, r); err != nil {
		s.log.Warn("mark round panicked", "round", r.Key(), "err", err)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ok, err := s.store.Lock(mctx, lockKey, token, s.lease.retain)
	if err != nil || !ok {
		s.log.Warn("keep lock of a panicked round", "round", r.Key(), "ok", ok, "err", err)
		return false
	}
	return true
}

// panicNote tells the office that a round (units > 0: so many of its
// units) failed on an internal error and will not be sent again by itself.
func (s *Scheduler) panicNote(r flows.Round, units int) string {
	what := "本轮提醒因程序内部错误中断"
	if units > 0 {
		what = fmt.Sprintf("其中 %d 个单位因程序内部错误未能提醒", units)
	}
	return "⚠️ " + what + "（" + r.Key() + "），已记录，本轮不会自动重发。如需补发，请使用 /remind。"
}
