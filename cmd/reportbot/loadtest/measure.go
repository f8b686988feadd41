package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"
)

// commandStats reads INFO commandstats: calls by command name. Commands
// that scripts run (redis.call) are counted too, under their own names.
func commandStats(ctx context.Context, c *goredis.Client) (map[string]int64, error) {
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("INFO commandstats: %w", err)
	}
	return parseCommandStats(info), nil
}

// parseCommandStats parses lines like
// cmdstat_evalsha:calls=12,usec=340,usec_per_call=28.33,rejected_calls=0,failed_calls=0
func parseCommandStats(info string) map[string]int64 {
	out := map[string]int64{}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		for kv := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				out[name] = n
			}
		}
	}
	return out
}

// diffStats is after − before, without the tool's own INFO and MONITOR and
// without commands that did not run.
func diffStats(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for name, n := range after {
		if name == "info" || name == "monitor" {
			continue
		}
		if d := n - before[name]; d > 0 {
			out[name] = d
		}
	}
	return out
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// monitor counts the commands clients send to Redis (MONITOR), apart from
// those scripts run: one client command is one round trip, or less when
// commands are pipelined, so their number bounds the round trips.
type monitor struct {
	conn net.Conn
	done chan struct{}

	mu     sync.Mutex
	client map[string]int64 // by command name
	ping   bool             // a PING was seen (it marks the end)
}

func (m *monitor) sawPing() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ping
}

// startMonitor starts counting on a connection of its own. MONITOR costs
// Redis some CPU; it is on only while measuring.
func startMonitor(ctx context.Context, opt *goredis.Options) (*monitor, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	var conn net.Conn
	var err error
	if opt.TLSConfig != nil {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: opt.TLSConfig}).DialContext(ctx, opt.Network, opt.Addr)
	} else {
		conn, err = d.DialContext(ctx, opt.Network, opt.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("MONITOR: %w", err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	send := func(args ...string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(conn, b.String()); err != nil {
			return err
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+") {
			return fmt.Errorf("%s: %s", args[0], strings.TrimSpace(line))
		}
		return nil
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if opt.Password != "" {
		auth := []string{"AUTH", opt.Password}
		if opt.Username != "" {
			auth = []string{"AUTH", opt.Username, opt.Password}
		}
		if err := send(auth...); err != nil {
			conn.Close()
			return nil, errors.New("MONITOR: AUTH failed")
		}
	}
	if err := send("MONITOR"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("MONITOR: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	m := &monitor{conn: conn, done: make(chan struct{}), client: map[string]int64{}}
	go func() {
		defer close(m.done)
		for {
			line, err := r.ReadSlice('\n')
			for errors.Is(err, bufio.ErrBufferFull) { // a long command: its head is enough
				_, err = r.ReadSlice('\n')
			}
			if err != nil {
				return
			}
			m.count(string(line))
		}
	}()
	return m, nil
}

// count reads one MONITOR line: 1700000000.123456 [0 127.0.0.1:5000] "evalsha" …
// or [0 lua] for a command a script ran.
func (m *monitor) count(line string) {
	open := strings.IndexByte(line, '[')
	end := strings.IndexByte(line, ']')
	if open < 0 || end < open {
		return
	}
	from := strings.Fields(line[open+1 : end])
	name := ""
	if rest := strings.TrimSpace(line[end+1:]); strings.HasPrefix(rest, `"`) {
		if i := strings.IndexByte(rest[1:], '"'); i >= 0 {
			name = strings.ToLower(rest[1 : i+1])
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(from) == 2 && from[1] == "lua" {
		return // run by a script: no round trip
	}
	m.client[name]++
	m.ping = m.ping || name == "ping"
}

// stop stops counting and returns the client commands by name (the tool's
// own PING, INFO and MONITOR left out). MONITOR's feed lags: a PING sent
// on c before stopping marks its end.
func (m *monitor) stop(ctx context.Context, c *goredis.Client) map[string]int64 {
	if c != nil && c.Ping(ctx).Err() == nil {
		for deadline := time.Now().Add(5 * time.Second); !m.sawPing() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	m.conn.Close()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for name, n := range m.client {
		if name != "ping" && name != "info" && name != "monitor" {
			out[name] = n
		}
	}
	return out
}

// mallocs reads go_memstats_mallocs_total from the bot's /metrics.
func mallocs(ctx context.Context, addr string) (float64, error) {
	return scrape(ctx, addr, "go_memstats_mallocs_total")
}

// scrape reads an unlabelled sample from the bot's /metrics.
func scrape(ctx context.Context, addr, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	return metricValue(resp.Body, name)
}

// metricValue finds an unlabelled sample in the Prometheus text format.
func metricValue(r io.Reader, name string) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// draftKey is the Redis key of a unit's draft (storage/redis's documented
// key schema): a hash whose field "data" is the encoded draft.
func draftKey(unitID int64) string { return "rb:{u:" + strconv.FormatInt(unitID, 10) + "}:draft" }

// redisDraftSizes returns, per unit, the size of the stored draft (the
// encoded value) and the memory Redis uses for the whole key.
func redisDraftSizes(ctx context.Context, c *goredis.Client, units []int64) (value, memory []int64, err error) {
	pipe := c.Pipeline()
	lens := make([]*goredis.IntCmd, len(units))
	mems := make([]*goredis.IntCmd, len(units))
	for i, id := range units {
		lens[i] = pipe.HStrLen(ctx, draftKey(id), "data")
		mems[i] = pipe.MemoryUsage(ctx, draftKey(id), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, nil, fmt.Errorf("draft sizes: %w", err)
	}
	for i := range units {
		if n := lens[i].Val(); n > 0 {
			value = append(value, n)
			memory = append(memory, mems[i].Val())
		}
	}
	return value, memory, nil
}

// boltDraftSizes returns the stored size of each unit's draft in the
// embedded store's file (bucket "drafts": 8 bytes of revision, then the
// encoded draft). The bot must not be running.
func boltDraftSizes(path string, units []int64) ([]int64, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var out []int64
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("drafts"))
		if b == nil {
			return errors.New("no drafts bucket")
		}
		for _, id := range units {
			key := binary.BigEndian.AppendUint64(nil, uint64(id)^(1<<63)) // big-endian, sign bit flipped
			if v := b.Get(key); v != nil {
				out = append(out, int64(len(v)))
			}
		}
		return nil
	})
	return out, err
}
