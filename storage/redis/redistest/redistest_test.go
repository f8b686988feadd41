package redistest

import (
	"strings"
	"testing"
)

// TestStartOnTakenPort: a server started on a port another test's server
// already holds fails to start, instead of taking the other server's PONG
// for its own and sharing it.
func TestStartOnTakenPort(t *testing.T) {
	first := StartServer(t, Options{})
	second := &Server{dir: t.TempDir(), port: first.port}
	t.Cleanup(second.kill)
	err := second.start(binary(t))
	if err == nil {
		t.Fatalf("start on port %d, held by another redis-server: no error, want one", first.port)
	}
	if !strings.Contains(err.Error(), "exited at start") && !strings.Contains(err.Error(), "another redis-server") {
		t.Errorf("start on a taken port: error %v, want the server's own failure", err)
	}
	if _, err := do(strings.TrimPrefix(first.URL, "redis://"), "PING"); err != nil {
		t.Errorf("the first server stopped answering: %v", err)
	}
}
