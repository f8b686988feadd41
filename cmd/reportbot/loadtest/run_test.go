package loadtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests below run the real reportbot binary, built once, as the load
// tool does.

var build struct {
	once sync.Once
	path string
	err  error
	dir  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// reportbot builds cmd/reportbot and returns the binary's path.
func reportbot(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the bot: not in -short mode")
	}
	build.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("no go command to build the bot: %w", err)
			return
		}
		if build.dir, build.err = os.MkdirTemp("", "reportbot-loadtest-bin-"); build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "reportbot")
		out, err := exec.Command(gobin, "build", "-o", build.path, "reportbot/cmd/reportbot").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build reportbot/cmd/reportbot: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		if os.Getenv("CI") == "" && strings.Contains(build.err.Error(), "no go command") {
			t.Skip(build.err)
		}
		t.Fatal(build.err)
	}
	return build.path
}

// needRedis skips a Redis run without redis-server, or fails when CI is set
// (as storage/redis/redistest does).
func needRedis(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not on PATH (CI is set, so this fails instead of skipping)")
		}
		t.Skip("redis-server is not on PATH")
	}
}

func run(t *testing.T, cfg Config) (*Result, error) {
	t.Helper()
	cfg.Binary = reportbot(t)
	cfg.Seed = 3
	cfg.Dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return Run(ctx, cfg)
}

func eachStore(t *testing.T, f func(t *testing.T, store string)) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) {
			if store == "redis" {
				needRedis(t)
			}
			f(t, store)
		})
	}
}

// TestLoadToolFaults is the load tool's fault run in small: the bot is
// killed with SIGKILL at random moments while contacts fill the form, and
// every submitted report holds what its contact typed. The numbers are
// real measurements: nothing is zero that the bot must have spent.
func TestLoadToolFaults(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		res, err := run(t, Config{Store: store, Contacts: 6, Faults: true, KillEvery: 400 * time.Millisecond, Think: 40 * time.Millisecond, Monitor: true})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		ph := res.Phases[0]
		if res.Lost != 0 || res.Doubled != 0 || ph.Submitted != 6 {
			t.Fatalf("lost %d, doubled %d, %d of 6 submitted: %q", res.Lost, res.Doubled, ph.Submitted, res.Problems)
		}
		if ph.Kills < 1 || ph.Steps < 6*20 || ph.CPUPerStepUS <= 0 || ph.PeakRSSMB <= 0 || ph.DraftBytesP50 <= 0 || ph.P50ms <= 0 {
			t.Errorf("implausible measurements: %+v", ph)
		}
		if store == "redis" && (ph.RedisCmdsPerStep < 1 || ph.RedisRTPerStep < 1 || ph.RedisClientCmds["evalsha"] == 0) {
			t.Errorf("Redis commands not measured: %+v", ph)
		}
	})
}

// TestLoadToolFindsPlantedFaults: one contact types an answer twice (the
// second answers the next question), another types a value it did not
// mean; the comparison at the end counts both and the run fails.
func TestLoadToolFindsPlantedFaults(t *testing.T) {
	var mu sync.Mutex
	var planted []plant
	res, err := run(t, Config{Contacts: 3, plants: map[int]plant{0: plantDouble, 1: plantLost}, onPlant: func(_ *contact, p plant) {
		mu.Lock()
		planted = append(planted, p)
		mu.Unlock()
	}})
	if err == nil || !strings.Contains(err.Error(), "lost 1, doubled 1") {
		t.Fatalf("Run with planted faults = %v, want an error saying lost 1, doubled 1", err)
	}
	slices.Sort(planted)
	if !slices.Equal(planted, []plant{plantDouble, plantLost}) {
		t.Fatalf("planted %v", planted)
	}
	if res.Lost != 1 || res.Doubled != 1 || len(res.Problems) != 2 {
		t.Errorf("lost %d, doubled %d, problems %q; want 1, 1 and a line each", res.Lost, res.Doubled, res.Problems)
	}
}

// TestLoadToolMeasures: without faults the allocations are measured too,
// and the run under Telegram's limits keeps to them: no 429.
func TestLoadToolMeasures(t *testing.T) {
	res, err := run(t, Config{Contacts: 5, Limited: 1500 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Phases) != 2 {
		t.Fatalf("%d runs, want the engine's and the one under Telegram's limits", len(res.Phases))
	}
	eng, lim := res.Phases[0], res.Phases[1]
	if eng.AllocsPerStep <= 0 || eng.CPUPerStepUS <= 0 || eng.Kills != 0 {
		t.Errorf("engine run: %+v", eng)
	}
	if lim.TooManyRequests != 0 || lim.Sends == 0 || lim.SendRate <= 0 || lim.SendRate > 30 {
		t.Errorf("run under Telegram's limits: %d sends at %.1f/s, %d × 429", lim.Sends, lim.SendRate, lim.TooManyRequests)
	}
}

// TestKill9MidForm kills the real bot binary with SIGKILL right after a
// contact's input reached Telegram, at several points of the form and with
// several small delays (before the bot reads the update, while it handles
// it, after it stored the step but before it replied or confirmed), and
// restarts it. Nothing the contact sent is lost or applied twice: the
// updates come back (the offset was not confirmed) and the store's
// transitions drop what was already applied.
func TestKill9MidForm(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		killAt := map[int]time.Duration{2: 0, 5: time.Millisecond, 9: 2 * time.Millisecond, 14: 0, 18: 3 * time.Millisecond, 23: 5 * time.Millisecond, 27: 500 * time.Microsecond}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := run(t, Config{Store: store, Contacts: 2, afterStep: func(p *phase, c *contact) {
			delay, ok := killAt[c.steps]
			if c.n != 0 || !ok {
				return
			}
			time.Sleep(delay)
			p.bot.kill()
			p.kills.Add(1)
			if err := p.bot.start(ctx); err != nil {
				t.Errorf("restart: %v", err)
			}
		}})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		ph := res.Phases[0]
		if ph.Kills != len(killAt) {
			t.Errorf("killed the bot %d times, want %d", ph.Kills, len(killAt))
		}
		if res.Lost != 0 || res.Doubled != 0 || ph.Submitted != 2 {
			t.Errorf("lost %d, doubled %d, %d of 2 submitted: %q", res.Lost, res.Doubled, ph.Submitted, res.Problems)
		}
	})
}
