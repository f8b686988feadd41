package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"reportbot/flows"
	"reportbot/storage/bolt"
	"reportbot/storage/redis"
)

// backend is the store the bot runs on, as the load tool sees it.
type backend interface {
	name() string
	env() []string                                 // what tells the bot where its store is
	open(ctx context.Context) (flows.Store, error) // for seeding and checking; bolt: only while the bot is down
	redis() *goredis.Client                        // nil for bolt
	draftSizes(ctx context.Context, units []int64) (value, memory []int64, err error)
	// reset starts the next run on an empty store: the next fake Telegram
	// numbers its updates from 1000 again, and the bot would take them for
	// updates it has handled.
	reset(ctx context.Context) error
	close() error
}

// boltBackend is the embedded store in a directory.
type boltBackend struct {
	base string // the work directory
	dir  string
	runs int
}

func newBoltBackend(base string) *boltBackend {
	return &boltBackend{base: base, dir: filepath.Join(base, "data")}
}

func (b *boltBackend) reset(context.Context) error {
	b.runs++
	b.dir = filepath.Join(b.base, fmt.Sprintf("data%d", b.runs+1))
	return nil
}

func (b *boltBackend) name() string  { return "bolt" }
func (b *boltBackend) env() []string { return []string{"DATA_DIR=" + b.dir} }
func (b *boltBackend) path() string  { return filepath.Join(b.dir, "reportbot.db") }
func (b *boltBackend) open(context.Context) (flows.Store, error) {
	return bolt.Open(b.path())
}
func (b *boltBackend) redis() *goredis.Client { return nil }
func (b *boltBackend) draftSizes(_ context.Context, units []int64) ([]int64, []int64, error) {
	v, err := boltDraftSizes(b.path(), units)
	return v, nil, err
}
func (b *boltBackend) close() error { return nil }

// redisBackend is a Redis database: the one REDIS_URL names (it must be
// empty), or a private redis-server the tool starts.
type redisBackend struct {
	url    string
	client *goredis.Client
	server *exec.Cmd // nil when the URL was given
	exited chan struct{}
}

func newRedisBackend(ctx context.Context, url, dir string) (*redisBackend, error) {
	b := &redisBackend{url: url}
	if url == "" {
		if err := b.startServer(ctx, dir); err != nil {
			return nil, err
		}
	}
	opt, err := goredis.ParseURL(b.url)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("the load tool needs a plain redis:// URL (it reads INFO and MONITOR of one server): %w", err)
	}
	b.client = goredis.NewClient(opt)
	if err := b.client.Ping(ctx).Err(); err != nil {
		b.close()
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	if url != "" {
		n, err := b.client.DBSize(ctx).Result()
		if err != nil {
			b.close()
			return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
		}
		if n > 0 {
			b.close()
			return nil, fmt.Errorf("REDIS_URL names a database with %d keys; the load tool writes into it and empties it between its runs: point it at an empty one (e.g. redis://localhost:6379/15) or unset it to let the tool start its own redis-server", n)
		}
	}
	return b, nil
}

// startServer starts redis-server as compose.yaml runs it (append-only
// file, fsync every second), on a free port, in dir.
func (b *redisBackend) startServer(ctx context.Context, dir string) error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("-store redis: set REDIS_URL, or install redis-server (Debian: apt-get install redis-server) for the tool to start its own")
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	rdir := filepath.Join(dir, "redis")
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--dir", rdir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--logfile", "")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	b.server, b.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(b.exited) }()
	b.url = "redis://" + addr
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if err := c.Ping(ctx).Err(); err == nil {
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("redis-server exited: %s", strings.TrimSpace(out.String()))
		default:
		}
		if time.Since(start) > 10*time.Second || ctx.Err() != nil {
			b.close()
			return errors.New("redis-server did not answer PING in 10 s")
		}
	}
}

// reset empties the database: it was empty when the tool started (it
// refuses one that is not) and holds only what the tool's runs wrote.
func (b *redisBackend) reset(ctx context.Context) error {
	if err := b.client.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("empty the redis database for the next run: %w", err)
	}
	return nil
}

func (b *redisBackend) name() string  { return "redis" }
func (b *redisBackend) env() []string { return []string{"REDIS_URL=" + b.url} }
func (b *redisBackend) open(ctx context.Context) (flows.Store, error) {
	return redis.Open(ctx, b.url)
}
func (b *redisBackend) redis() *goredis.Client { return b.client }
func (b *redisBackend) draftSizes(ctx context.Context, units []int64) ([]int64, []int64, error) {
	return redisDraftSizes(ctx, b.client, units)
}

func (b *redisBackend) close() error {
	if b.client != nil {
		b.client.Close()
	}
	if b.server != nil {
		_ = b.server.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			_ = b.server.Process.Kill()
			<-b.exited
		}
	}
	return nil
}
