package loadtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// botProc runs `reportbot serve` as a child process, restarts it, kills it.
type botProc struct {
	bin  string
	env  []string
	addr string // HTTP_ADDR, the same for every instance
	log  string // the children's stderr, appended

	mu   sync.Mutex
	cur  *instance
	past []*instance
}

// instance is one run of the child.
type instance struct {
	cmd      *exec.Cmd
	pid      int
	readyCPU time.Duration // CPU time when it answered /healthz
	exited   chan struct{}
	exitCPU  time.Duration // from the exit status (rusage)
	// peakRSS is VmHWM read while it runs and just before it is signalled.
	// (The exit status's ru_maxrss would not do: exec records the RSS of
	// the process it replaced, the load tool's, there.)
	peakRSS  atomic.Int64
	peakAnon atomic.Int64 // the largest RssAnon sampled
}

// sampleRSS keeps in.peakRSS up to date until the instance exits.
func (in *instance) sampleRSS() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		in.readRSS()
		select {
		case <-in.exited:
			return
		case <-t.C:
		}
	}
}

func (in *instance) readRSS() {
	peak, anon := procMemory(in.pid)
	storeMax(&in.peakRSS, peak)
	storeMax(&in.peakAnon, anon)
}

func storeMax(v *atomic.Int64, n int64) {
	for old := v.Load(); n > old && !v.CompareAndSwap(old, n); old = v.Load() {
	}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start starts an instance and waits until its /healthz answers 200 (the
// store is reachable and intake runs).
func (p *botProc) start(ctx context.Context) error {
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open bot log: %w", err)
	}
	cmd := exec.Command(p.bin, "serve")
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s serve: %w", p.bin, err)
	}
	in := &instance{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		in.exitCPU = exitCPU(cmd.ProcessState)
		close(in.exited)
	}()
	go in.sampleRSS()
	p.mu.Lock()
	p.cur = in
	p.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-in.exited:
			return fmt.Errorf("the bot exited during start-up (%s); its log:\n%s", cmd.ProcessState, tail(p.log, 20))
		case <-ctx.Done():
			p.kill()
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("the bot did not become healthy in 30 s; its log:\n%s", tail(p.log, 20))
		}
		if resp, err := client.Get("http://" + p.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cpu := procCPU(in.pid)
				p.mu.Lock()
				in.readyCPU = cpu
				p.mu.Unlock()
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// detach moves the current instance, if any, to the past ones and reads its
// RSS one last time, before it is signalled.
func (p *botProc) detach() *instance {
	p.mu.Lock()
	in := p.cur
	p.cur = nil
	if in != nil {
		p.past = append(p.past, in)
	}
	p.mu.Unlock()
	if in != nil {
		in.readRSS()
	}
	return in
}

// kill kills the current instance with SIGKILL, as a crash would, and
// waits for it to be gone.
func (p *botProc) kill() {
	in := p.detach()
	if in == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.exited
}

// stop stops the current instance gracefully (SIGTERM: it drains what it
// is handling), killing it after grace.
func (p *botProc) stop(grace time.Duration) error {
	in := p.detach()
	if in == nil {
		return nil
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(grace):
		_ = in.cmd.Process.Signal(syscall.SIGKILL)
		<-in.exited
		return fmt.Errorf("the bot did not stop within %s of SIGTERM; killed", grace)
	}
	if st := in.cmd.ProcessState; !st.Success() {
		return fmt.Errorf("the bot exited with %s; its log:\n%s", st, tail(p.log, 20))
	}
	return nil
}

// current is the running instance, or nil.
func (p *botProc) current() *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// all lists every instance so far, the running one last.
func (p *botProc) all() []*instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]*instance(nil), p.past...)
	if p.cur != nil {
		out = append(out, p.cur)
	}
	return out
}

// cpuWindow accounts the bot's CPU time in a measuring window.
type cpuWindow struct {
	p     *botProc
	first int           // index in all() of the first instance in the window
	from  time.Duration // CPU time of that instance at the start, if it ran then
	ran   bool
}

// startCPU opens a window: the running instance counts from now, the
// instances started later from when they became healthy (their start-up is
// not the load's cost).
func (p *botProc) startCPU() *cpuWindow {
	all := p.all()
	w := &cpuWindow{p: p, first: len(all)}
	if in := p.current(); in != nil {
		w.first, w.from, w.ran = len(all)-1, procCPU(in.pid), true
	}
	return w
}

// end closes the window and returns the CPU time spent in it by every
// instance: up to now for the running one, up to its death for the others.
func (w *cpuWindow) end() time.Duration {
	var total time.Duration
	cur := w.p.current()
	all := w.p.all()
	for i := w.first; i < len(all); i++ {
		in := all[i]
		from := w.p.ready(in)
		if i == w.first && w.ran {
			from = w.from
		}
		var to time.Duration
		if in == cur {
			to = procCPU(in.pid)
		} else {
			<-in.exited
			to = in.exitCPU
		}
		total += max(to-from, 0)
	}
	return total
}

func (p *botProc) ready(in *instance) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return in.readyCPU
}

// peakRSS is the largest resident set (VmHWM) of all instances so far, and
// the largest anonymous part sampled.
func (p *botProc) peakRSS() (peak, anon int64) {
	for _, in := range p.all() {
		in.readRSS()
		peak = max(peak, in.peakRSS.Load())
		anon = max(anon, in.peakAnon.Load())
	}
	return peak, anon
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
