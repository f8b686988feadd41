package flows

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// Times of the tests: the default campaign's deadline is 2022-02-10 18:00.
var (
	beforeDeadline = time.Date(2022, 2, 3, 10, 15, 0, 0, shanghai)
	afterDeadline  = time.Date(2022, 2, 11, 9, 30, 0, 0, shanghai)
)

var (
	countyUnit   = Unit{ID: 7, Name: "离石区双拥工作领导小组", Category: "county"}
	militaryUnit = Unit{ID: 35, Name: "吕梁军分区", Category: "military"}
)

// checkGolden compares got with testdata/golden/name.txt, or rewrites it
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./flows -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./flows -update rewrites it; review the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// describeInput shows an input in transcripts and failure messages.
func describeInput(in Input) string {
	switch {
	case in.Cmd != "":
		return "/" + in.Cmd
	case in.Data != "":
		return "button " + in.Data
	case in.File != nil:
		f := in.File
		if f.Photo {
			return fmt.Sprintf("photo %s", f.UniqueID)
		}
		return fmt.Sprintf("file %q (%s, %d bytes)", f.Name, f.MIME, f.Size)
	}
	return strconv.Quote(in.Text)
}

// renderReplies shows replies as a contact would see them, with the data
// behind each button.
func renderReplies(rs []Reply) string {
	var b strings.Builder
	for _, r := range rs {
		if r.Edit {
			b.WriteString("< (edit)\n")
		} else {
			b.WriteString("<\n")
		}
		b.WriteString(r.Text)
		b.WriteString("\n")
		for _, row := range r.Buttons {
			b.WriteString("   ")
			for _, btn := range row {
				fmt.Fprintf(&b, " [%s | %s]", btn.Text, btn.Data)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// session feeds inputs through Step like the service does: it keeps the
// stored draft and checks the invariants of every step.
type session struct {
	t          *testing.T
	c          *Campaign
	env        Env
	d          Draft
	last       Result
	reports    []Report
	transcript strings.Builder
}

func newSession(t *testing.T, u Unit, now time.Time) *session {
	t.Helper()
	return &session{t: t, c: DefaultCampaign(), env: Env{Unit: u, UserID: 1001, Now: now}, d: Draft{UnitID: u.ID}}
}

func (s *session) at(now time.Time) *session { s.env.Now = now; return s }

// do applies one input and checks what every step must hold.
func (s *session) do(in Input) Result {
	s.t.Helper()
	before, _ := json.Marshal(s.d)
	r := s.c.Step(s.d, s.env, in)
	checkResult(s.t, s.c, s.d, s.env, in, r)
	if after, _ := json.Marshal(s.d); string(after) != string(before) {
		s.t.Fatalf("Step(%s) modified the draft it was given", describeInput(in))
	}
	fmt.Fprintf(&s.transcript, "> %s\n%s\n", describeInput(in), renderReplies(r.Replies))
	if r.Changed {
		s.d = r.Draft
	}
	if r.Report != nil {
		s.reports = append(s.reports, *r.Report)
	}
	s.last = r
	return r
}

func (s *session) text(t string) Result { s.t.Helper(); return s.do(Input{Text: t}) }
func (s *session) cmd(c string) Result  { s.t.Helper(); return s.do(Input{Cmd: c}) }
func (s *session) send(f File) Result   { s.t.Helper(); return s.do(Input{File: &f}) }

// press presses the button labelled label (or starting with it) in the
// replies of the last step.
func (s *session) press(label string) Result {
	s.t.Helper()
	return s.do(Input{Data: s.button(label)})
}

func (s *session) button(label string) string {
	s.t.Helper()
	for i := len(s.last.Replies) - 1; i >= 0; i-- {
		for _, row := range s.last.Replies[i].Buttons {
			for _, b := range row {
				if b.Text == label || strings.HasPrefix(b.Text, label) || b.Text == "✅ "+label {
					return b.Data
				}
			}
		}
	}
	s.t.Fatalf("no button %q in the last replies:\n%s", label, renderReplies(s.last.Replies))
	return ""
}

// cursor is the question the session is on ("" at the summary).
func (s *session) cursor() string { return s.d.Cursor }

// lastText is all text of the last step's replies.
func (s *session) lastText() string {
	var ts []string
	for _, r := range s.last.Replies {
		ts = append(ts, r.Text)
	}
	return strings.Join(ts, "\n")
}

func (s *session) wantCursor(want string) {
	s.t.Helper()
	if s.d.Cursor != want {
		s.t.Fatalf("after the last step the cursor is %q, want %q; replies:\n%s", s.d.Cursor, want, renderReplies(s.last.Replies))
	}
}

func (s *session) wantSaid(parts ...string) {
	s.t.Helper()
	for _, p := range parts {
		if !strings.Contains(s.lastText(), p) {
			s.t.Errorf("the last replies do not say %q:\n%s", p, renderReplies(s.last.Replies))
		}
	}
}

// checkResult checks what every step must hold: Rev moves on by one exactly
// when the draft changed, UpdatedAt is the step's time, every button names
// the draft's current revision (or is the go button) and fits Telegram's
// 64 bytes, every text fits 4096 UTF-16 units, the cursor applies.
func checkResult(t *testing.T, c *Campaign, d Draft, env Env, in Input, r Result) {
	t.Helper()
	what := describeInput(in)
	if len(r.Replies) == 0 {
		t.Errorf("Step(%s) said nothing", what)
	}
	if r.Changed {
		if r.Draft.Rev != d.Rev+1 {
			t.Errorf("Step(%s) changed the draft to rev %d, want %d", what, r.Draft.Rev, d.Rev+1)
		}
		if !r.Draft.UpdatedAt.Equal(env.Now) {
			t.Errorf("Step(%s) UpdatedAt = %v, want %v", what, r.Draft.UpdatedAt, env.Now)
		}
	} else if !reflect.DeepEqual(r.Draft, d) {
		t.Errorf("Step(%s) did not report a change but returned another draft", what)
	}
	if r.Report != nil && !r.Changed {
		t.Errorf("Step(%s) made a report without changing the draft", what)
	}
	rev := strconv.FormatInt(r.Draft.Rev, 10) + ":"
	for _, rep := range r.Replies {
		if n := utf16Len(rep.Text); n > MaxMessageLen || n == 0 {
			t.Errorf("Step(%s) reply of %d UTF-16 units (want 1–%d)", what, n, MaxMessageLen)
		}
		for _, row := range rep.Buttons {
			for _, b := range row {
				if len(b.Data) > maxDataLen || b.Data == "" {
					t.Errorf("Step(%s) button %q data %q is %d bytes", what, b.Text, b.Data, len(b.Data))
				}
				if b.Data != DataGo && !strings.HasPrefix(b.Data, rev) {
					t.Errorf("Step(%s) button %q data %q does not name the current revision %d", what, b.Text, b.Data, r.Draft.Rev)
				}
			}
		}
	}
	nd := r.Draft
	if q := c.Question(nd.Cursor); nd.Cursor != "" && (q == nil || !c.Applies(q, env.Unit.Category, nd.Answers)) {
		t.Errorf("Step(%s) left the cursor on %q, which does not apply", what, nd.Cursor)
	}
	if nd.Pending != nil && nd.Cursor == "" {
		t.Errorf("Step(%s) left a pending answer at the summary", what)
	}
}

// Files the tests send.
var (
	pdfFile  = File{ID: "BQACAgUAAxkBAAIBc2XxPdfReport", UniqueID: "AgADpdf1", Name: "专题报告.pdf", MIME: "application/pdf", Size: 1 << 20}
	docxFile = File{ID: "BQACAgUAAxkBAAIBc2XxDocx", UniqueID: "AgADdocx", Name: "专题报告.docx", MIME: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Size: 200 << 10}
	xlsxFile = File{ID: "BQACAgUAAxkBAAIBc2XxXlsx", UniqueID: "AgADxlsx", Name: "统计表.xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Size: 30 << 10}
	bigPDF   = File{ID: "BQACAgUAAxkBAAIBc2XxBig", UniqueID: "AgADbig", Name: "扫描件.pdf", MIME: "application/pdf", Size: 25 << 20}
)

func photo(n int) File {
	return File{ID: fmt.Sprintf("AgACAgUAAxkBAAIBZ2XxPhotoFileIdentifier%02dAAHvYmMAAQQ", n), UniqueID: fmt.Sprintf("AQADph%02d", n), Size: 90_000, Photo: true}
}

// fill answers every question the session reaches until the summary and
// returns the ids of the questions asked, in order. Answers come from given
// (typed text by question id) or a default by type; multichoice questions
// are answered with their first two option buttons and 完成, documents with
// a PDF, photos with two photos and 完成.
func (s *session) fill(given map[string]string) []string {
	s.t.Helper()
	var asked []string
	for steps := 0; s.d.Cursor != ""; steps++ {
		if steps > 200 {
			s.t.Fatalf("fill: no summary after 200 steps; at %q", s.d.Cursor)
		}
		q := s.c.Question(s.d.Cursor)
		asked = append(asked, q.ID)
		if v, ok := given[q.ID]; ok {
			s.text(v)
		} else {
			switch q.Type {
			case TypeInteger:
				s.text("3")
			case TypeMoney:
				s.text("1.25")
			case TypeText:
				s.text("开展走访慰问活动")
			case TypePhone:
				s.text("0358-8498917")
			case TypeChoice:
				s.press(q.Options[0].Label)
			case TypeMultiChoice:
				s.press(q.Options[0].Label)
				s.press(q.Options[1].Label)
				s.press("完成")
			case TypeDocument:
				s.send(pdfFile)
			case TypePhotos:
				s.send(photo(1))
				s.send(photo(2))
				s.press("完成")
			}
		}
		if s.d.Cursor == q.ID {
			s.t.Fatalf("fill: question %s did not accept its answer:\n%s", q.ID, renderReplies(s.last.Replies))
		}
	}
	return asked
}

// filledDraft is a draft at the summary with every question of u's path
// answered the way fill answers them.
func filledDraft(t *testing.T, u Unit, given map[string]string) *session {
	t.Helper()
	s := newSession(t, u, beforeDeadline)
	s.cmd("report")
	s.fill(given)
	s.transcript.Reset() // golden files show the scenario, not the setup
	s.transcript.WriteString("(at the summary)\n\n")
	return s
}

// at returns a draft of u being filled in, on question id, with the
// answers given (by typed text) to the questions before it.
func draftAt(t *testing.T, u Unit, id string, given map[string]string) *session {
	t.Helper()
	s := newSession(t, u, beforeDeadline)
	s.cmd("report")
	for s.d.Cursor != id {
		if s.d.Cursor == "" {
			t.Fatalf("draftAt: question %s not reached", id)
		}
		q := s.c.Question(s.d.Cursor)
		if v, ok := given[q.ID]; ok {
			s.text(v)
			continue
		}
		before := s.d.Cursor
		s.fillOne(q)
		if s.d.Cursor == before {
			t.Fatalf("draftAt: %s not accepted", before)
		}
	}
	s.transcript.Reset()
	s.transcript.WriteString("(at " + id + ")\n" + renderReplies(s.last.Replies) + "\n")
	return s
}

func (s *session) fillOne(q *Question) {
	switch q.Type {
	case TypeInteger:
		s.text("3")
	case TypeMoney:
		s.text("1.25")
	case TypeText:
		s.text("开展走访慰问活动")
	case TypePhone:
		s.text("13912345678")
	case TypeMultiChoice:
		s.press(q.Options[0].Label)
		s.press("完成")
	case TypeDocument:
		s.send(pdfFile)
	case TypePhotos:
		s.press("跳过")
	default:
		s.press(q.Options[0].Label)
	}
}
