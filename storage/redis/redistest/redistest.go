// Package redistest starts real redis-server processes for tests.
//
// Tests that use it need redis-server on PATH. Without it they skip, unless
// the environment variable CI is set, when they fail: CI must not pass by
// skipping. Install it (Debian: apt-get install redis-server) or run
// ./test.sh, which installs it (see storage/README.md).
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Options configure a server.
type Options struct {
	// AppendOnly turns on the AOF with appendfsync always, so that
	// Restart keeps every acknowledged write.
	AppendOnly bool
	// Cluster starts a one-node Redis Cluster that owns all 16384 slots.
	// Connect with a cluster client (go-redis's NewClusterClient); the
	// server then rejects, as a real cluster does, any script or
	// multi-key command whose keys are in different slots (CROSSSLOT).
	Cluster bool
}

// Server is a redis-server process owned by a test.
type Server struct {
	// URL is redis://127.0.0.1:<port>; it stays the same across Restart.
	URL string

	port int
	dir  string
	opts Options

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	out  *syncBuffer
}

// Start starts a redis-server without persistence for tb, waits until it
// answers PING and returns its URL. The server is killed in tb.Cleanup.
func Start(tb testing.TB) string {
	tb.Helper()
	return StartServer(tb, Options{}).URL
}

// StartServer starts a redis-server with the options for tb, waits until it
// answers PING and stops it in tb.Cleanup.
func StartServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	return StartServers(tb, 1, opts)[0]
}

// StartServers starts n servers at once, like StartServer. A Cluster
// server is writable only about 2 s after it starts, so a test that needs
// many of them saves time starting them together.
func StartServers(tb testing.TB, n int, opts Options) []*Server {
	tb.Helper()
	bin := binary(tb)
	servers := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range servers {
		s := &Server{dir: tb.TempDir(), opts: opts}
		servers[i] = s
		tb.Cleanup(s.kill)
		wg.Go(func() { errs[i] = s.startOnFreePort(bin) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return servers
}

func (s *Server) startOnFreePort(bin string) error {
	var err error
	for range 3 { // a free port can be taken before the server binds it
		if s.port, err = freePort(); err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		if err = s.start(bin); err == nil {
			s.URL = "redis://127.0.0.1:" + strconv.Itoa(s.port)
			return nil
		}
	}
	return err
}

// Restart stops the server (SIGTERM, so that it flushes its AOF) and starts
// it again on the same port and directory. Without AppendOnly the data is
// gone afterwards. The script cache is always empty afterwards.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.stop(syscall.SIGTERM); err != nil {
		tb.Fatalf("redistest: stop redis-server: %v", err)
	}
	if err := s.start(binary(tb)); err != nil {
		tb.Fatalf("redistest: restart: %v", err)
	}
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it to
// exit. Start it again with Restart.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	if err := s.stop(syscall.SIGKILL); err != nil {
		tb.Fatalf("redistest: kill redis-server: %v", err)
	}
}

func binary(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		return bin
	}
	msg := "redistest: redis-server is not on PATH; install it (Debian: apt-get install redis-server) " +
		"or run ./test.sh from the repository root (see storage/README.md)"
	if os.Getenv("CI") != "" {
		tb.Fatal(msg + " (CI is set, so this fails instead of skipping)")
	}
	tb.Skip(msg)
	return ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start(bin string) error {
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--daemonize", "no",
		"--loglevel", "warning",
	}
	if s.opts.Cluster {
		args = append(args, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes-"+strconv.Itoa(s.port)+".conf")
	}
	if s.opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command(bin, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done, s.out = cmd, done, out
	s.mu.Unlock()

	addr := "127.0.0.1:" + strconv.Itoa(s.port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited at start:\n%s", s.port, out.String())
		default:
		}
		err := answersAs(addr, cmd.Process.Pid)
		if err == nil && s.opts.Cluster {
			err = s.clusterReady(addr)
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			_ = s.stop(syscall.SIGKILL)
			return fmt.Errorf("redis-server on port %d does not answer PING: %w\n%s", s.port, err, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// answersAs checks that the server on addr answers and is process pid: a
// port found free can be taken by another test's server before ours binds
// it, and ours then exits while the other answers; without this check two
// tests would share one server (and see each other's data).
func answersAs(addr string, pid int) error {
	if err := ping(addr); err != nil {
		return err
	}
	info, err := do(addr, "INFO", "server")
	if err != nil {
		return err
	}
	if !strings.Contains(info, "\r\nprocess_id:"+strconv.Itoa(pid)+"\r\n") {
		return fmt.Errorf("port %s is answered by another redis-server, not process %d", addr, pid)
	}
	return nil
}

// ping sends PING and wants PONG.
func ping(addr string) error {
	reply, err := do(addr, "PING")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

// clusterReady gives a fresh one-node cluster all slots and reports
// whether the cluster is up.
func (s *Server) clusterReady(addr string) error {
	info, err := do(addr, "CLUSTER", "INFO")
	if err != nil {
		return err
	}
	if strings.Contains(info, "cluster_slots_assigned:0\r\n") {
		if _, err := do(addr, "CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil {
			return err
		}
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return errors.New("cluster_state is not ok yet")
	}
	return nil
}

// do sends one command on a new connection and returns a simple, integer
// or bulk string reply; an error reply is an error.
func do(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if err := send(c, args...); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch {
	case line == "":
		return "", errors.New("empty reply")
	case line[0] == '+' || line[0] == ':':
		return line[1:], nil
	case line[0] == '-':
		return "", fmt.Errorf("%s: %s", args[0], line[1:])
	case line[0] == '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("%s: reply %q", args[0], line)
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(r, body); err != nil {
			return "", err
		}
		return string(body[:n]), nil
	default:
		return "", fmt.Errorf("%s: unexpected reply %q", args[0], line)
	}
}

func (s *Server) stop(sig syscall.Signal) error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("redis-server did not exit within 10 s; killed")
	}
}

func (s *Server) kill() { _ = s.stop(syscall.SIGKILL) }

// Commands returns the calls per command since the server started (or since
// CONFIG RESETSTAT), from INFO commandstats: e.g. "evalsha" → 12. Subcommands
// are named like "client|setinfo". Diff two calls to count what a piece of
// code sent; Commands itself sends one INFO (and an AUTH if the URL has a
// password) over its own plain connection, nothing else.
func Commands(tb testing.TB, rawURL string) map[string]int64 {
	tb.Helper()
	stats, err := commands(rawURL)
	if err != nil {
		tb.Fatalf("redistest: commands: %v", err)
	}
	return stats
}

func commands(rawURL string) (map[string]int64, error) {
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, redact(err)
	}
	c, err := net.DialTimeout(opts.Network, opts.Addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if opts.Password != "" {
		user := opts.Username
		if user == "" {
			user = "default"
		}
		if err := send(c, "AUTH", user, opts.Password); err != nil {
			return nil, err
		}
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
			return nil, errors.New("AUTH failed") // the reply may echo nothing secret, but say little
		}
	}
	if err := send(c, "INFO", "commandstats"); err != nil {
		return nil, err
	}
	header, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(header, "$") {
		return nil, fmt.Errorf("INFO answered %q", strings.TrimSpace(header))
	}
	n, err := strconv.Atoi(strings.TrimSpace(header[1:]))
	if err != nil {
		return nil, fmt.Errorf("INFO answered %q", strings.TrimSpace(header))
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return parseCommandStats(string(body[:n]))
}

// send writes one command as a RESP array of bulk strings.
func send(w io.Writer, args ...string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// parseCommandStats parses lines like
// "cmdstat_get:calls=3,usec=12,usec_per_call=4.00,rejected_calls=0,failed_calls=0".
func parseCommandStats(info string) (map[string]int64, error) {
	stats := map[string]int64{}
	for line := range strings.Lines(info) {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
		if !ok || !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		for field := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(field, "=")
			if k != "calls" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("commandstats line %q: %w", line, err)
			}
			stats[name] = n
		}
	}
	return stats, nil
}

func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// syncBuffer is a bytes.Buffer safe for the process's writes and our reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
