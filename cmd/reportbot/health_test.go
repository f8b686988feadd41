package main

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/storage/redis"
	"reportbot/storage/redis/redistest"
)

// TestHealthyAcrossLeaseChanges: a process that takes the lease over from
// a standby wait, and later loses it, is healthy all along — /healthz's
// rule (bot.IntakeUp) is checked without pause from before the process starts
// its active work until it stands by again. (A process marked "not a
// standby" before its intake ran answered 503 in that moment.)
func TestHealthyAcrossLeaseChanges(t *testing.T) {
	url := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := redis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const other = "another-replica"
	if ok, err := store.Lock(ctx, "active", other, time.Minute); !ok || err != nil {
		t.Fatalf("take the lease for another replica: %v %v", ok, err)
	}

	var (
		checks, down atomic.Int64
		stop         = make(chan struct{})
		wg           sync.WaitGroup
		proc         *bot.Bot
	)
	r := startServeWith(t, map[string]string{"REDIS_URL": url}, func(_ string, b *bot.Bot) {
		proc = b
		spinning := make(chan struct{})
		wg.Go(func() {
			close(spinning)
			for {
				select {
				case <-stop:
					return
				default:
				}
				checks.Add(1)
				if !b.IntakeUp() {
					down.Add(1)
				}
			}
		})
		<-spinning
	})
	defer func() { close(stop); wg.Wait() }()

	waitState := func(what string, want func() bool) {
		t.Helper()
		if err := r.tg.WaitFor(ctx, want); err != nil {
			t.Fatalf("the process did not %s: %v", what, err)
		}
	}
	if proc.Running() || !proc.Standby() {
		t.Fatalf("with the lease held elsewhere: running %v, standby %v; want a standby", proc.Running(), proc.Standby())
	}
	if err := store.Unlock(ctx, "active", other); err != nil {
		t.Fatal(err)
	}
	waitState("take the lease over (within its 5 s tries)", func() bool { return proc.Running() && !proc.Standby() })

	host, _ := os.Hostname()
	if err := store.Unlock(ctx, "active", host+"/"+r.addr); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.Lock(ctx, "active", other, time.Minute); !ok || err != nil {
		t.Fatalf("take the lease from the process: %v %v", ok, err)
	}
	waitState("stand by after losing the lease (at its next 5 s renewal)", func() bool { return !proc.Running() && proc.Standby() })

	close(stop)
	wg.Wait()
	stop = make(chan struct{})
	t.Logf("%d checks of /healthz's rule, %d saw intake down", checks.Load(), down.Load())
	if n := down.Load(); n > 0 {
		t.Errorf("%d of %d checks saw the process neither running nor standing by (/healthz 503 while it changed hands)", n, checks.Load())
	}
}
