package bot

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestAPITransport: a body of unknown length (go-telegram's multipart
// pipe) goes out with its length in one piece when small and streamed when
// large, intact either way; concurrent senders keep their connections.
func TestAPITransport(t *testing.T) {
	var newConns atomic.Int32
	type seen struct {
		length  int64
		chunked bool
		body    []byte
	}
	got := make(chan seen, 100)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.ContentLength, len(r.TransferEncoding) > 0, body}
		io.WriteString(w, `{"ok":true,"result":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: newAPITransport(8)}
	defer client.CloseIdleConnections()

	post := func(body []byte) seen {
		t.Helper()
		pr, pw := io.Pipe()
		go func() {
			for rest := body; len(rest) > 0; rest = rest[min(len(rest), 100):] {
				pw.Write(rest[:min(len(rest), 100)]) // many small writes, like multipart
			}
			pw.Close()
		}()
		resp, err := client.Post(srv.URL, "multipart/form-data; boundary=x", pr)
		if err != nil {
			t.Error(err) // Error, not Fatal: post also runs on other goroutines
			return seen{}
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return <-got
	}
	small := bytes.Repeat([]byte("0123456789"), 300)
	if s := post(small); s.chunked || s.length != int64(len(small)) || !bytes.Equal(s.body, small) {
		t.Errorf("small body: chunked %v, length %d, intact %v; want one piece of %d bytes", s.chunked, s.length, bytes.Equal(s.body, small), len(small))
	}
	large := bytes.Repeat([]byte("abcdefghij"), maxBufferedBody/10+1000)
	if s := post(large); !s.chunked || !bytes.Equal(s.body, large) {
		t.Errorf("large body: chunked %v, intact %v; want streamed and intact", s.chunked, bytes.Equal(s.body, large))
	}

	newConns.Store(0)
	for range 5 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { post([]byte("chat_id=1&text=hi")) })
		}
		wg.Wait()
	}
	if n := newConns.Load(); n > 10 {
		t.Errorf("5 rounds of 8 concurrent sends opened %d connections, want them kept (at most 8, a few more for races)", n)
	}
}
