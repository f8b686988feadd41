package loadtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"reportbot/flows"
	"reportbot/storage/redis"
	"reportbot/storage/redis/redistest"
	"reportbot/storage/storetest"
)

func TestParseCommandStats(t *testing.T) {
	info := "# Commandstats\r\n" +
		"cmdstat_evalsha:calls=12,usec=340,usec_per_call=28.33,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_hget:calls=30,usec=40,usec_per_call=1.33,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_client|setinfo:calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_info:calls=4,usec=300,usec_per_call=75.00,rejected_calls=0,failed_calls=0\r\n"
	got := parseCommandStats(info)
	if got["evalsha"] != 12 || got["hget"] != 30 || got["client|setinfo"] != 2 || len(got) != 4 {
		t.Fatalf("parseCommandStats = %v", got)
	}
	d := diffStats(map[string]int64{"evalsha": 10, "hget": 30, "info": 1}, got)
	if d["evalsha"] != 2 || d["hget"] != 0 || d["info"] != 0 || sum(d) != 4 {
		t.Errorf("diffStats = %v, want evalsha 2 and client|setinfo 2 (not INFO, not unchanged)", d)
	}
}

func TestMetricValue(t *testing.T) {
	text := "# HELP go_memstats_mallocs_total Total number of heap objects allocated.\n" +
		"# TYPE go_memstats_mallocs_total counter\n" +
		"go_memstats_mallocs_total_other 5\n" +
		"go_memstats_mallocs_total 1.234567e+06\n"
	v, err := metricValue(strings.NewReader(text), "go_memstats_mallocs_total")
	if err != nil || v != 1234567 {
		t.Errorf("metricValue = %v, %v; want 1234567", v, err)
	}
	if _, err := metricValue(strings.NewReader("x 1\n"), "go_memstats_mallocs_total"); err == nil {
		t.Errorf("metricValue of a missing metric succeeded")
	}
}

// TestRedisCountsFindPlantedRoundTrips runs form steps through the real
// Redis store between two readings, as the load tool does around a run,
// then the same steps with a planted extra read per step: INFO
// commandstats and MONITOR see exactly the commands sent, so the extra
// round trip shows.
func TestRedisCountsFindPlantedRoundTrips(t *testing.T) {
	url := redistest.Start(t)
	ctx := context.Background()
	st, err := redis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	stepper := storetest.NewStepper(t, st)

	const steps = 10
	measure := func(extra func()) (all, client map[string]int64) {
		t.Helper()
		before, err := commandStats(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		mon, err := startMonitor(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		for range steps {
			if err := stepper.Step(ctx); err != nil {
				t.Fatal(err)
			}
			extra()
		}
		client = mon.stop(ctx, c)
		after, err := commandStats(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return diffStats(before, after), client
	}

	all, client := measure(func() {})
	// A step of storetest.Stepper is Draft (HMGET) and Apply (EVALSHA).
	if client["hmget"] != steps || client["evalsha"] != steps || sum(client) != 2*steps {
		t.Errorf("MONITOR counted %v for %d steps, want hmget and evalsha %d each", client, steps, steps)
	}
	if all["evalsha"] != steps || sum(all) <= sum(client) {
		t.Errorf("INFO commandstats counted %v for %d steps, want evalsha %d and the script's own commands", all, steps, steps)
	}

	planted := func() {
		if _, err := st.Setting(ctx, flows.SettingDeadline); err != nil && !errors.Is(err, flows.ErrNotFound) {
			t.Fatal(err)
		}
	}
	all2, client2 := measure(planted)
	if got := float64(sum(client2)) / steps; got != 3 {
		t.Errorf("with a planted read per step MONITOR counted %.1f commands per step (%v), want 3", got, client2)
	}
	if all2["hget"] < all["hget"]+steps {
		t.Errorf("with a planted HGET per step INFO commandstats counted hget %d, before %d", all2["hget"], all["hget"])
	}
}
