package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/flows"
)

// syncBuffer is a bytes.Buffer that the demo and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testStart is the demo clock's start in the tests: a Monday morning, so
// that the deadline is Monday two weeks later, 18:00.
var testStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// running is a demo started by mustStart.
type running struct {
	*Server
	stdout *syncBuffer
	logs   *syncBuffer
	bodies *syncBuffer // every API answer read by the test, to look for the token
}

// mustStart runs the demo on a free port with the test clock and stops it
// when the test ends: run must return nil and remove its folder.
func mustStart(t *testing.T) *running {
	t.Helper()
	r := &running{stdout: &syncBuffer{}, logs: &syncBuffer{}, bodies: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{Addr: "127.0.0.1:0", Start: testStart, Serve: serveForTest, Ready: func(d *Server) { ready <- d }}, r.stdout, r.logs)
	}()
	select {
	case r.Server = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("run returned early: %v\nstdout:\n%s\nlogs:\n%s", err, r.stdout, r.logs)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("the demo did not start; logs:\n%s", r.logs)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v; logs:\n%s", err, r.logs)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the demo did not stop in time")
		}
		if _, err := os.Stat(r.dataDir); !os.IsNotExist(err) {
			t.Errorf("the demo's temporary folder %s is still there (%v)", r.dataDir, err)
		}
		if !strings.Contains(r.stdout.String(), "演示已停止") {
			t.Errorf("stdout lacks the goodbye:\n%s", r.stdout)
		}
	})
	return r
}

// call makes a request of the demo's API and decodes the JSON answer into
// out (if not nil); it returns the status.
func (r *running) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case *multipartBody:
		rd, ctype = &b.buf, b.ctype
	default:
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r.bodies.Write(data)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: answer %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

type multipartBody struct {
	buf   bytes.Buffer
	ctype string
}

func uploadBody(t *testing.T, as, name string, content []byte) *multipartBody {
	t.Helper()
	b := &multipartBody{}
	w := multipart.NewWriter(&b.buf)
	_ = w.WriteField("as", as)
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = w.Close()
	b.ctype = w.FormDataContentType()
	return b
}

// personKey returns the key of the first contact of unit.
func (r *running) personKey(t *testing.T, unit string) string {
	t.Helper()
	var ps people
	if code := r.call(t, "GET", "/api/people", nil, &ps); code != http.StatusOK {
		t.Fatalf("GET /api/people = %d", code)
	}
	for _, p := range ps.People {
		if p.Unit == unit {
			return p.Key
		}
	}
	t.Fatalf("no contact of %s in /api/people", unit)
	return ""
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	Name string
	Data string
}

// stream reads /api/events as a person.
type stream struct {
	t      *testing.T
	events chan sseEvent
	cancel context.CancelFunc
}

func (r *running) stream(t *testing.T, as string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", r.url+"/api/events?as="+as, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("GET /api/events?as=%s = %d %s", as, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{t: t, events: make(chan sseEvent, 1000), cancel: cancel}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 4<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.Name != "":
				r.bodies.Write([]byte(ev.Data))
				s.events <- ev
				ev = sseEvent{}
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return s
}

// next returns the next event named name (others are skipped).
func (s *stream) next(name string, match func(data string) bool) string {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("the event stream ended while waiting for %q", name)
			}
			if ev.Name == name && (match == nil || match(ev.Data)) {
				return ev.Data
			}
		case <-timeout:
			s.t.Fatalf("no %q event in time", name)
		}
	}
}

// message waits for a message event whose text contains substr.
func (s *stream) message(substr string) message {
	s.t.Helper()
	var m message
	data := s.next("message", func(data string) bool {
		m = message{}
		_ = json.Unmarshal([]byte(data), &m)
		return strings.Contains(m.Text+m.Caption, substr) || m.File != nil && strings.Contains(m.File.Name, substr)
	})
	_ = data
	return m
}

type snapshot struct {
	Person   person     `json:"person"`
	Messages []message  `json:"messages"`
	Clock    clockState `json:"clock"`
}

func (s *stream) snapshot() snapshot {
	s.t.Helper()
	var snap snapshot
	if err := json.Unmarshal([]byte(s.next("snapshot", nil)), &snap); err != nil {
		s.t.Fatal(err)
	}
	return snap
}

func findButton(msgs []message, label string) (int, button, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, row := range msgs[i].Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Text, label) {
					return msgs[i].ID, b, true
				}
			}
		}
	}
	return 0, button{}, false
}

// TestAPI drives the demo's JSON API without a browser: the seeded
// campaign, the people, a chat as a stream, typing, pressing, uploading
// and downloading, an invite link opened by a new person, and the time
// machine firing a reminder round and a digest.
func TestAPI(t *testing.T) {
	r := mustStart(t)
	if !strings.Contains(r.stdout.String(), r.url) {
		t.Errorf("the demo did not print its address %s:\n%s", r.url, r.stdout)
	}

	// Who one can be: the admin, the office group, a contact of every
	// unit but the three left unbound; five reports in, one half done.
	var ps people
	if code := r.call(t, "GET", "/api/people", nil, &ps); code != http.StatusOK {
		t.Fatalf("GET /api/people = %d", code)
	}
	roles := map[string]int{}
	done, filling := 0, 0
	for _, p := range ps.People {
		roles[p.Role]++
		if p.Done {
			done++
		}
		if strings.HasPrefix(p.Status, "填写中") {
			filling++
		}
	}
	if roles["admin"] != 1 || roles["office"] != 1 || roles["contact"] != 34 || len(ps.Unbound) != 3 {
		t.Errorf("people: roles %v, %d unbound; want 1 admin, 1 office, 34 contacts, 3 unbound", roles, len(ps.Unbound))
	}
	if done != len(submittedUnits) || filling != 1 {
		t.Errorf("seeded reports: %d submitted, %d in progress; want %d and 1", done, filling, len(submittedUnits))
	}

	// The office group: the /setgroup answer and a post per submission.
	office := r.stream(t, "office")
	snap := office.snapshot()
	posts := 0
	for _, m := range snap.Messages {
		if strings.Contains(m.Text, "新提交") {
			posts++
		}
	}
	if posts != len(submittedUnits) || !strings.Contains(snap.Messages[1].Text, "工作群") {
		t.Errorf("office group at start: %d posts (want %d), first answer %q", posts, len(submittedUnits), snap.Messages[1].Text)
	}
	if want := time.Date(2026, 3, 16, 18, 0, 0, 0, testStart.Location()); !snap.Clock.Deadline.Equal(want) {
		t.Errorf("deadline %s, want %s (14 days after the start)", snap.Clock.Deadline, want)
	}

	// A contact starts the form with the greeting's button and answers.
	key := r.personKey(t, "离石区双拥工作领导小组")
	contact := r.stream(t, key)
	csnap := contact.snapshot()
	if csnap.Person.Role != "contact" || csnap.Person.Unit != "离石区双拥工作领导小组" {
		t.Errorf("snapshot person = %+v", csnap.Person)
	}
	id, start, ok := findButton(csnap.Messages, "开始填报")
	if !ok {
		t.Fatalf("no 开始填报 button in the contact's chat: %+v", csnap.Messages)
	}
	if code := r.call(t, "POST", "/api/press", map[string]any{"as": key, "message_id": id, "data": start.Data}, nil); code != http.StatusOK {
		t.Fatalf("press 开始填报 = %d", code)
	}
	contact.message("填报人姓名")
	if code := r.call(t, "POST", "/api/send", map[string]string{"as": key, "text": "王晓明"}, nil); code != http.StatusOK {
		t.Fatalf("send = %d", code)
	}
	if m := contact.message("王晓明"); m.FromBot {
		t.Errorf("the contact's own message came back as the bot's")
	}
	contact.message("联系电话")
	if code := r.call(t, "POST", "/api/press", map[string]any{"as": key, "message_id": id, "data": start.Data}, nil); code != http.StatusConflict {
		t.Errorf("pressing a button that is gone = %d, want 409", code)
	}

	// Upload a document, download it through the page's server.
	pdf := samplePDF("测试")
	if code := r.call(t, "POST", "/api/upload", uploadBody(t, key, "专题报告.pdf", pdf), nil); code != http.StatusOK {
		t.Fatalf("upload = %d", code)
	}
	up := contact.message("专题报告.pdf")
	if up.File == nil || up.File.Photo || !strings.HasPrefix(up.File.URL, "/api/file/") {
		t.Fatalf("uploaded message = %+v", up)
	}
	resp, err := http.Get(r.url + up.File.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, pdf) || params["filename"] != "专题报告.pdf" {
		t.Errorf("download = %d, %d bytes, disposition %q; want the uploaded file", resp.StatusCode, len(got), resp.Header.Get("Content-Disposition"))
	}
	other := strings.Replace(up.File.URL, "as="+key, "as=office", 1)
	if resp, err := http.Get(r.url + other); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("downloading another chat's file: %v %v, want 404", resp.Status, err)
	}

	// The admin asks for an invite; a new person opens it and is bound.
	admin := r.stream(t, "admin")
	admin.snapshot()
	r.call(t, "POST", "/api/send", map[string]string{"as": "admin", "text": "/invite 市科协"}, nil)
	inv := admin.message("邀请链接")
	link := regexp.MustCompile(`https://t\.me/\S+`).FindString(inv.Text)
	var guest struct{ Key, Name string }
	if code := r.call(t, "POST", "/api/invite", map[string]string{"link": link}, &guest); code != http.StatusOK || guest.Key == "" {
		t.Fatalf("open invite %q = %d %+v", link, code, guest)
	}
	gs := r.stream(t, guest.Key)
	if !slices.ContainsFunc(gs.snapshot().Messages, func(m message) bool { return strings.Contains(m.Text, "绑定成功") }) {
		gs.message("绑定成功") // the bot answered after the stream began
	}
	if k := r.personKey(t, "市科协"); k != guest.Key {
		t.Errorf("市科协's contact is %s, want the new person %s", k, guest.Key)
	}
	if code := r.call(t, "POST", "/api/invite", map[string]string{"link": "https://example.com/"}, nil); code != http.StatusBadRequest {
		t.Errorf("opening a non-invite link = %d, want 400", code)
	}

	// The time machine: three days before the deadline, the round fires;
	// units that submitted get nothing.
	var clock clockState
	r.call(t, "GET", "/api/clock", nil, &clock)
	var stop clockStop
	for _, s := range clock.Stops {
		if s.Label == "截止前 3 天提醒" {
			stop = s
		}
	}
	if stop.At.IsZero() {
		t.Fatalf("no 截止前 3 天提醒 among the stops %+v", clock.Stops)
	}
	units, _ := r.svc.Store.Units(context.Background())
	var submitted flows.Unit
	for _, u := range units {
		if u.Name == submittedUnits[0] {
			submitted = u
		}
	}
	before := len(r.tg.Messages(seededContact(submitted).ID))
	var trip struct {
		Clock clockState `json:"clock"`
		Ran   []string   `json:"ran"`
	}
	if code := r.call(t, "POST", "/api/clock", map[string]any{"to": stop.At}, &trip); code != http.StatusOK {
		t.Fatalf("time machine = %d", code)
	}
	if !trip.Clock.Now.Round(time.Minute).Equal(stop.At) || !strings.Contains(strings.Join(trip.Ran, "\n"), "已发送提醒") {
		t.Errorf("time machine to %s: now %s, ran %q", stop.At, trip.Clock.Now, trip.Ran)
	}
	office.next("clock", nil)
	contact.message("填报提醒：距截止还有 3 天")
	if n := len(r.tg.Messages(seededContact(submitted).ID)); n != before {
		t.Errorf("%s (submitted) got %d messages from the round", submitted.Name, n-before)
	}
	if code := r.call(t, "POST", "/api/clock", map[string]any{"to": testStart}, nil); code != http.StatusBadRequest {
		t.Errorf("going back in time = %d, want 400", code)
	}
	r.call(t, "POST", "/api/clock", map[string]any{"add_minutes": 9 * 60}, &trip) // 18:00: the digest
	if !strings.Contains(strings.Join(trip.Ran, "\n"), "简报") {
		t.Errorf("at 18:00 the time machine ran %q, want a digest", trip.Ran)
	}

	// Unknown people and bad requests.
	if code := r.call(t, "POST", "/api/send", map[string]string{"as": "u1", "text": "hi"}, nil); code != http.StatusNotFound {
		t.Errorf("send as an unknown person = %d, want 404", code)
	}
	if code := r.call(t, "POST", "/api/send", map[string]string{"as": "admin", "text": "  "}, nil); code != http.StatusBadRequest {
		t.Errorf("send an empty message = %d, want 400", code)
	}
	page, err := http.Get(r.url + "/")
	if err != nil || page.StatusCode != http.StatusOK || !strings.Contains(page.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("GET / = %v %v", page.Status, err)
	}
	if strings.Contains(r.bodies.String(), r.tg.Token()) {
		t.Errorf("an API answer carries the bot token")
	}
}

// TestCommandLine: a bad flag and a busy port are reported.
func TestCommandLine(t *testing.T) {
	var out, errb bytes.Buffer
	if err := Run(context.Background(), []string{"-nope"}, func(string) string { return "" }, &out, &errb, serveForTest); err == nil {
		t.Errorf("demo -nope succeeded")
	}
	if !strings.Contains(errb.String(), "usage: reportbot demo") {
		t.Errorf("demo -nope said %q", errb.String())
	}
	r := mustStart(t)
	addr := strings.TrimPrefix(r.url, "http://")
	err := Run(context.Background(), []string{"-addr", addr}, func(string) string { return "" }, &out, &errb, serveForTest)
	if err == nil || !strings.Contains(err.Error(), "-addr") {
		t.Errorf("demo on a busy port: %v", err)
	}
}
