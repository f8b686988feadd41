package telegramtest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a Server.
type Options struct {
	// Token is the bot token the server accepts (required). Requests with any
	// other token answer 401 Unauthorized.
	Token string
	// BotID is the bot's user id; default: the number before ':' in Token,
	// or 1 when there is none.
	BotID int64
	// BotUsername is the bot's @username without '@'; default "test_bot".
	BotUsername string
	// BotName is the bot's first name; default "Test Bot".
	BotName string
	// Limits enables Telegram's flood limits on sending methods; zero values
	// disable each limit.
	Limits Limits
	// Logf, if set, receives one line per API call and per webhook failure.
	// The token is never logged.
	Logf func(format string, args ...any)
	// Now is the clock for message dates and rate limits; default time.Now.
	// Long-poll timeouts and webhook backoffs always use real time.
	Now func() time.Time
	// WebhookRetry is the first backoff after a failed webhook delivery; it
	// doubles up to one second. Default 50 ms.
	WebhookRetry time.Duration
	// FirstUpdateID is the id of the first update; default 1000. A bot
	// whose store outlives the fake (the demo with a kept DATA_DIR) needs
	// ids it has not seen before, as Telegram's never repeat.
	FirstUpdateID int64
}

// Limits are flood limits enforced on sendMessage, sendDocument, sendPhoto,
// sendMediaGroup and the edit* methods. Exceeding one answers 429 with
// retry_after. An album of N counts as N sends against every limit and is
// admitted whole or not at all (retry_after: until all N fit).
type Limits struct {
	// Global is the sustained rate in sends per second across all chats.
	Global float64
	// PerChat is the sustained rate in sends per second to one private chat.
	PerChat float64
	// PerGroupPerMinute is the number of sends to one group or supergroup in
	// any sliding 60-second window.
	PerGroupPerMinute int
	// Burst is how many sends the Global and PerChat token buckets hold on top
	// of one second's worth (at least one send).
	Burst int
}

// Server is a fake Telegram Bot API server. All methods are safe for
// concurrent use.
type Server struct {
	opts   Options
	token  string
	botUsr wireUser
	now    func() time.Time
	logf   func(string, ...any)
	retry  time.Duration

	ctx       context.Context
	cancel    context.CancelFunc
	inflight  sync.WaitGroup // API handler calls
	bg        sync.WaitGroup // webhook dispatcher and deliveries, subscriber pumps, Serve
	transport *http.Transport
	client    *http.Client

	listener net.Listener
	httpSrv  *http.Server
	url      string

	mu      sync.Mutex
	closed  bool
	changed chan struct{} // closed and replaced on every state change

	// updates
	nextUpdateID int64
	pending      []*pendingUpdate
	history      map[int64]*pendingUpdate
	historyOrder []int64
	pollGen      int64
	polling      int      // getUpdates calls waiting
	allowed      []string // nil: Telegram's default set

	// webhook
	webhook       *webhookState
	whActive      int
	dispatcherRun bool

	// chats, users, files
	chats       map[int64]*chatState
	users       map[int64]User
	fileSeq     int
	albumSeq    int64
	files       map[string]*storedFile // by file_id
	filesByPath map[string]*storedFile
	callbackSeq int64
	callbacks   map[string]*CallbackQuery // by query id
	cbByUpdate  map[int64]string
	commands    map[commandKey][]Command

	// observation
	calls    map[string]int
	failures map[string][]failure
	stats    Stats
	global   bucket
	subs     map[*subscriber]struct{}
}

type failure struct {
	code       int
	retryAfter int
	fault      Fault // if set, code and retryAfter are unused
}

// New starts a fake Bot API server listening on 127.0.0.1 and returns it.
// It panics if Options.Token is empty. Call Close when done.
func New(opts Options) *Server {
	s := NewUnstarted(opts)
	s.Start()
	return s
}

// MustStart starts a server like New and closes it when the test ends.
func MustStart(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := New(opts)
	tb.Cleanup(s.Close)
	return s
}

// NewUnstarted returns a server that does not listen: mount Handler in
// another HTTP server (strip any path prefix so that requests arrive as
// /bot<token>/<method> and /file/bot<token>/<path>). Call Close when done.
func NewUnstarted(opts Options) *Server {
	if opts.Token == "" {
		panic("telegramtest: Options.Token is required")
	}
	if strings.ContainsAny(opts.Token, "/?# ") {
		panic("telegramtest: Options.Token must not contain '/', '?', '#' or spaces")
	}
	if opts.BotID == 0 {
		opts.BotID = 1
		if head, _, ok := strings.Cut(opts.Token, ":"); ok {
			if id, err := strconv.ParseInt(head, 10, 64); err == nil && id > 0 {
				opts.BotID = id
			}
		}
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "test_bot"
	}
	if opts.BotName == "" {
		opts.BotName = "Test Bot"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.WebhookRetry <= 0 {
		opts.WebhookRetry = 50 * time.Millisecond
	}
	if opts.FirstUpdateID <= 0 {
		opts.FirstUpdateID = 1000
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	s := &Server{
		opts:   opts,
		token:  opts.Token,
		botUsr: wireUser{ID: opts.BotID, IsBot: true, FirstName: opts.BotName, Username: opts.BotUsername},
		now:    opts.Now,
		logf:   opts.Logf,
		retry:  opts.WebhookRetry,
		ctx:    ctx,
		cancel: cancel,

		transport: tr,
		client: &http.Client{
			Transport: tr,
			Timeout:   60 * time.Second,
			// Telegram does not follow redirects from a webhook.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},

		changed:      make(chan struct{}),
		nextUpdateID: opts.FirstUpdateID,
		history:      map[int64]*pendingUpdate{},
		chats:        map[int64]*chatState{},
		users:        map[int64]User{},
		files:        map[string]*storedFile{},
		filesByPath:  map[string]*storedFile{},
		callbacks:    map[string]*CallbackQuery{},
		cbByUpdate:   map[int64]string{},
		commands:     map[commandKey][]Command{},
		calls:        map[string]int{},
		failures:     map[string][]failure{},
		subs:         map[*subscriber]struct{}{},
	}
	return s
}

// Start makes an unstarted server listen on 127.0.0.1. It panics if it
// cannot listen or is already started.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		panic("telegramtest: Start after Close")
	}
	if s.listener != nil {
		panic("telegramtest: server already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("telegramtest: listen: %v", err))
	}
	s.listener = ln
	s.url = "http://" + ln.Addr().String()
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		_ = s.httpSrv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
}

// URL is the base URL to give to the client, e.g. http://127.0.0.1:41234
// (no trailing slash). It is empty for an unstarted server.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Token is the token the server accepts.
func (s *Server) Token() string { return s.token }

// Bot describes the bot account as getMe reports it.
func (s *Server) Bot() User {
	return User{ID: s.botUsr.ID, FirstName: s.botUsr.FirstName, Username: s.botUsr.Username}
}

// Handler returns the server as an http.Handler (the Server itself).
func (s *Server) Handler() http.Handler { return s }

// Close stops the server: waiting getUpdates calls return, webhook
// deliveries stop, Subscribe channels are closed, and Close waits for all of
// the server's goroutines. It is safe to call more than once. Afterwards the
// handler answers 500.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.notifyLocked()
	subs := make([]*subscriber, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.subs = map[*subscriber]struct{}{}
	srv := s.httpSrv
	s.mu.Unlock()

	s.cancel()
	if srv != nil {
		// Waiting getUpdates calls have been woken up: let them answer
		// before the connections go, then cut whatever is left.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
		_ = srv.Close()
	}
	s.inflight.Wait()
	for _, sub := range subs {
		sub.stop()
	}
	s.bg.Wait()
	s.transport.CloseIdleConnections()
}

// notifyLocked wakes everything waiting for a state change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, &apiError{code: http.StatusInternalServerError, desc: "Internal Server Error: server closed"})
		return
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	defer s.inflight.Done()

	switch {
	case strings.HasPrefix(r.URL.Path, "/file/bot"):
		s.serveFile(w, r)
	case strings.HasPrefix(r.URL.Path, "/bot"):
		s.serveMethod(w, r)
	default:
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
	}
}

func (s *Server) tokenOK(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) == 1
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request) {
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !ok || method == "" {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	if !s.tokenOK(token) {
		writeError(w, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	key := strings.ToLower(method)

	s.mu.Lock()
	s.calls[key]++
	s.mu.Unlock()

	p, perr := parseParams(w, r)
	if perr != nil {
		s.logf("telegramtest: %s -> %d %s", method, perr.code, perr.desc)
		writeError(w, perr)
		return
	}

	s.mu.Lock()
	var injected *apiError
	var fault Fault
	if q := s.failures[key]; len(q) > 0 {
		f := q[0]
		s.failures[key] = q[1:]
		if f.fault != 0 {
			fault = f.fault
		} else {
			injected = failureError(f)
			if injected.code == http.StatusTooManyRequests {
				s.stats.TooManyRequests++
			}
		}
	}
	s.mu.Unlock()
	if fault != 0 && fault != FaultLoseAnswer {
		s.logf("telegramtest: %s -> %s (FaultNext)", method, fault)
		s.serveFault(w, r, fault)
		return
	}
	if injected != nil {
		s.logf("telegramtest: %s -> %d %s (FailNext)", method, injected.code, injected.desc)
		writeError(w, injected)
		return
	}

	h, ok := methods[key]
	if !ok {
		s.logf("telegramtest: %s -> 404 unknown method", method)
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	res, aerr := h(s, r.Context(), p)
	if fault == FaultLoseAnswer {
		s.logf("telegramtest: %s -> answer lost (FaultNext)", method)
		s.serveFault(w, r, FaultDrop)
		return
	}
	if aerr != nil {
		s.logf("telegramtest: %s -> %d %s", method, aerr.code, aerr.desc)
		writeError(w, aerr)
		return
	}
	s.logf("telegramtest: %s -> ok", method)
	writeOK(w, res)
}

// apiError is an unsuccessful Bot API answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
	migrateTo  int64
}

func errBadRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + desc}
}

func errForbidden(desc string) *apiError {
	return &apiError{code: http.StatusForbidden, desc: "Forbidden: " + desc}
}

func errTooManyRequests(retryAfter int) *apiError {
	return &apiError{
		code:       http.StatusTooManyRequests,
		desc:       fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		retryAfter: retryAfter,
	}
}

func failureError(f failure) *apiError {
	switch f.code {
	case http.StatusTooManyRequests:
		ra := f.retryAfter
		if ra < 1 {
			ra = 1
		}
		return errTooManyRequests(ra)
	case http.StatusBadRequest:
		return errBadRequest("injected failure")
	case http.StatusForbidden:
		return errForbidden("bot was blocked by the user")
	case http.StatusConflict:
		return &apiError{code: f.code, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
	}
	text := http.StatusText(f.code)
	if text == "" {
		text = "Error"
	}
	return &apiError{code: f.code, desc: text, retryAfter: f.retryAfter}
}

type responseParameters struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
}

// response is the Bot API envelope; field order follows Telegram's.
type response struct {
	OK          bool                `json:"ok"`
	Result      any                 `json:"result,omitempty"`
	ErrorCode   int                 `json:"error_code,omitempty"`
	Description string              `json:"description,omitempty"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

// described is a successful result that also carries a description, as
// setWebhook and deleteWebhook answers do.
type described struct {
	result      any
	description string
}

func writeOK(w http.ResponseWriter, res any) {
	resp := response{OK: true, Result: res}
	if d, ok := res.(described); ok {
		resp.Result, resp.Description = d.result, d.description
	}
	writeJSON(w, http.StatusOK, resp)
}

func writeError(w http.ResponseWriter, e *apiError) {
	resp := response{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 || e.migrateTo != 0 {
		resp.Parameters = &responseParameters{RetryAfter: e.retryAfter, MigrateToChatID: e.migrateTo}
	}
	writeJSON(w, e.code, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// maxRequestBody is Telegram's 50 MB upload limit plus room for the other
// form fields.
const maxRequestBody = 50<<20 + 1<<20

// params are a request's parameters, whatever the encoding. Values that
// arrive as JSON objects or arrays (reply_markup in a JSON body) are kept as
// their JSON text, which is also how multipart and urlencoded bodies carry
// them.
type params struct {
	values map[string]string
	files  map[string]*upload
}

type upload struct {
	filename    string
	contentType string
	data        []byte
}

func parseParams(w http.ResponseWriter, r *http.Request) (*params, *apiError) {
	p := &params{values: map[string]string{}, files: map[string]*upload{}}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p.values[k] = v[0]
		}
	}
	if r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &apiError{code: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"}
		}
		return nil, errBadRequest("can't read request body")
	}
	// go-telegram sends an empty body with a multipart Content-Type for
	// methods without parameters (getMe, getWebhookInfo): not valid
	// multipart, but Telegram accepts it.
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var obj map[string]json.RawMessage // JSON null leaves it empty
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, errBadRequest("can't parse JSON object")
		}
		for k, raw := range obj {
			raw = bytes.TrimSpace(raw)
			switch {
			case bytes.Equal(raw, []byte("null")):
			case len(raw) > 0 && raw[0] == '"':
				var str string
				if err := json.Unmarshal(raw, &str); err != nil {
					return nil, errBadRequest("can't parse JSON object")
				}
				p.values[k] = str
			default:
				p.values[k] = string(raw)
			}
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, errBadRequest("can't parse multipart/form-data request")
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, errBadRequest("can't parse multipart/form-data request")
			}
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if filename, isFile := dp["filename"]; isFile {
				p.files[part.FormName()] = &upload{
					filename:    filename,
					contentType: part.Header.Get("Content-Type"),
					data:        data,
				}
				continue
			}
			p.values[part.FormName()] = string(data)
		}
	case "application/x-www-form-urlencoded", "", "text/plain":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errBadRequest("can't parse request body")
		}
		for k, v := range q {
			if len(v) > 0 {
				p.values[k] = v[0]
			}
		}
	default:
		return nil, errBadRequest("unsupported Content-Type " + mt)
	}
	return p, nil
}

func (p *params) str(name string) string { return p.values[name] }

// int64 parses an integer parameter; missing or empty yields (0, false, nil).
func (p *params) int64(name string) (int64, bool, *apiError) {
	v := strings.TrimSpace(p.values[name])
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, errBadRequest(fmt.Sprintf("invalid %s specified", name))
	}
	return n, true, nil
}

func (p *params) bool(name string) bool {
	switch strings.ToLower(strings.TrimSpace(p.values[name])) {
	case "true", "1":
		return true
	}
	return false
}
