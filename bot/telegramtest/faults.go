package telegramtest

import (
	"net/http"
	"strconv"
	"strings"
)

// Fault is a failure below the Bot API, of the kind a network or a reverse
// proxy in front of Telegram produces: no JSON envelope, or no answer.
type Fault int

// Faults for FaultNext.
const (
	// FaultDrop closes the connection without answering; the method does
	// not run.
	FaultDrop Fault = iota + 1
	// FaultTruncate answers 200 with a Content-Length longer than the
	// part of the body it sends, then closes the connection; the method
	// does not run.
	FaultTruncate
	// FaultBadGateway answers 502 with an HTML page, as a reverse proxy
	// does when it cannot reach the Bot API; the method does not run.
	FaultBadGateway
	// FaultStall answers nothing until the client gives up (or Close);
	// the method does not run.
	FaultStall
	// FaultLoseAnswer runs the method — a message is sent, a limit
	// counted — and then closes the connection instead of answering: the
	// acknowledgement lost after a successful send.
	FaultLoseAnswer
)

func (f Fault) String() string {
	switch f {
	case FaultDrop:
		return "connection dropped"
	case FaultTruncate:
		return "answer truncated"
	case FaultBadGateway:
		return "502 proxy page"
	case FaultStall:
		return "stalled"
	case FaultLoseAnswer:
		return "answer lost"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// FaultNext makes the next call of method (case-insensitive) fail with f.
// It shares FailNext's queue: planted failures of a method hit its next
// calls in the order they were planted.
func (s *Server) FaultNext(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	s.failures[key] = append(s.failures[key], failure{fault: f})
}

// badGatewayPage is what nginx answers when its upstream is down.
const badGatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch f {
	case FaultBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(badGatewayPage)))
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(badGatewayPage))
		return
	case FaultTruncate:
		body := `{"ok":true,"result":{"message_id":1,"from":{"id":1,"is_bot":true,"first_name":"Test Bot"},"date":0,"chat":{"id":1,"type":"private"},"text":"cut short"}}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body[:len(body)/2]))
		_ = http.NewResponseController(w).Flush()
	case FaultStall:
		select {
		case <-r.Context().Done():
		case <-s.ctx.Done():
		}
	}
	// Abort the response: the server closes the connection without
	// finishing it (and without logging a panic).
	panic(http.ErrAbortHandler)
}
