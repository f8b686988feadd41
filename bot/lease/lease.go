// Package lease keeps one process of a deployment active: the one that
// polls Telegram and runs the outbox. The others wait as hot standbys and
// take over within a lease's lifetime when the holder dies.
//
// The lease is a key in the store held with a random token (Redis: SET NX
// PX; renewed by the same token before it expires). A holder that cannot
// renew it — the store is unreachable, or another process took it after an
// expiry — stops its work before the lease can have expired, so two
// processes are never active at once for longer than the renewal takes.
// With the embedded store there is nothing to share: a second process
// cannot open the database file at all, so the lease is always this
// process's.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// Locker is the store's lock (flows.Store has it): Lock takes or extends
// key for token, Unlock releases it if token still holds it.
type Locker interface {
	Lock(ctx context.Context, key, token string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, key, token string) error
}

// Config tunes a lease; zero values take the defaults.
type Config struct {
	Key string        // default "active"
	TTL time.Duration // the lease's lifetime; default 15 s
	// Token names the holder (default: random). A process restarted in
	// the place of a dead one with the same token takes the lease back at
	// once; two live processes must never share a token.
	Token string
	// Every is how often a holder renews and a standby tries; default TTL/3.
	Every time.Duration
	// OnChange is told when this process becomes active (true), before
	// its work starts, and when it stops being active (false), before its
	// work is stopped; may be nil.
	OnChange func(active bool)
	// OnPanic counts a panic recovered in the active work; may be nil.
	OnPanic func()
}

// Run takes the lease whenever it can and calls work with a context that
// ends when the lease is lost or ctx ends; work must return soon after.
// Run returns when ctx ends (releasing the lease if held).
func Run(ctx context.Context, l Locker, cfg Config, logger *slog.Logger, work func(ctx context.Context)) {
	if cfg.Key == "" {
		cfg.Key = "active"
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 15 * time.Second
	}
	if cfg.Every <= 0 {
		cfg.Every = cfg.TTL / 3
	}
	token := cfg.Token
	if token == "" {
		token = newToken()
	}
	standby := false
	for ctx.Err() == nil {
		taken := time.Now()
		ok, err := l.Lock(ctx, cfg.Key, token, cfg.TTL)
		if err != nil && ctx.Err() == nil {
			logger.Warn("lease: take", "key", cfg.Key, "err", err)
		}
		if !ok {
			if !standby && err == nil {
				logger.Info("lease held by another process; waiting as a standby", "key", cfg.Key)
				standby = true
			}
			sleep(ctx, cfg.Every)
			continue
		}
		logger.Info("lease taken: this process is active", "key", cfg.Key)
		standby = false
		hold(ctx, l, cfg, token, taken, logger, work)
		sleep(ctx, cfg.Every)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.Unlock(rctx, cfg.Key, token); err != nil {
		logger.Warn("lease: release", "key", cfg.Key, "err", err)
	}
}

// hold runs work while the lease is renewed, and returns when it is lost
// (or ctx ends) and work has returned. taken is when the Lock call that
// took the lease started: the lease runs until taken+TTL at the latest.
//
// A holder that cannot renew must stop before a standby can take over:
// each renewal is bounded to end half a period before the lease could
// expire, and after a failure the holder goes on only if the next try
// still comes before that.
func hold(ctx context.Context, l Locker, cfg Config, token string, taken time.Time, logger *slog.Logger, work func(ctx context.Context)) {
	// The work's ctx ends after OnChange(false), even when ctx ends.
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	done := make(chan struct{})
	if cfg.OnChange != nil {
		cfg.OnChange(true)
	}
	go func() {
		defer close(done)
		defer func() {
			// A panic in the active work ends it like a lost lease would;
			// Run takes the lease again and starts it anew.
			if r := recover(); r != nil {
				logger.Error("lease: panic in the active work", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if cfg.OnPanic != nil {
					cfg.OnPanic()
				}
			}
		}()
		work(wctx)
	}()
	renewed := taken
	t := time.NewTicker(cfg.Every)
	defer t.Stop()
	for keep := true; keep; {
		select {
		case <-ctx.Done():
			keep = false
		case <-done: // work ended by itself; Run takes the lease again
			keep = false
		case <-t.C:
			keep = renew(ctx, l, cfg, token, &renewed, logger)
		}
	}
	if cfg.OnChange != nil {
		cfg.OnChange(false)
	}
	stop()
	<-done
}

// renew extends the lease; false when the holder must stop.
func renew(ctx context.Context, l Locker, cfg Config, token string, renewed *time.Time, logger *slog.Logger) bool {
	deadline := renewed.Add(cfg.TTL - cfg.Every/2)
	start := time.Now()
	rctx, cancel := context.WithDeadline(ctx, deadline)
	ok, err := l.Lock(rctx, cfg.Key, token, cfg.TTL)
	cancel()
	switch {
	case ok:
		*renewed = start
		return true
	case err == nil:
		logger.Warn("lease lost to another process; stopping", "key", cfg.Key)
		return false
	case time.Now().Add(cfg.Every).Before(deadline):
		logger.Warn("lease: renew failed, retrying", "key", cfg.Key, "err", err)
		return true
	default:
		logger.Warn("lease: cannot renew before it may expire; stopping", "key", cfg.Key, "err", err)
		return false
	}
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
