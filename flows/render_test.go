package flows

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFormatAnswer(t *testing.T) {
	c := DefaultCampaign()
	tests := []struct {
		q    string
		a    Answer
		want string
	}{
		{"essays", Answer{Num: 12}, "12 篇"},
		{"troop_cash", Answer{Num: 125}, "1.25 万元"},
		{"troop_cash", Answer{Num: 0}, "0.00 万元"},
		{"filler_name", Answer{Text: "王晓明"}, "王晓明"},
		{"help_kinds", Answer{Picks: []string{"industry", "health"}}, "产业帮扶、健康帮扶"},
		{"help_kinds", Answer{}, "（未选）"},
		{"report_doc", Answer{Files: []File{pdfFile}}, "专题报告.pdf"},
		{"report_doc", Answer{Files: []File{photo(1), photo(2)}}, "照片 2 张"},
		{"photos", Answer{Files: []File{photo(1), photo(2), photo(3)}}, "3 张"},
		{"highlights", Answer{Skipped: true}, "（已跳过）"},
	}
	for _, tt := range tests {
		if got := FormatAnswer(c.Question(tt.q), tt.a); got != tt.want {
			t.Errorf("FormatAnswer(%s, %+v) = %q, want %q", tt.q, tt.a, got, tt.want)
		}
	}
}

func TestPackLines(t *testing.T) {
	got := packLines([]string{"aaaa", "bbbb", "", "cc", "😀😀😀"}, 10)
	want := []string{"aaaa\nbbbb", "cc\n😀😀😀"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("packLines = %q, want %q", got, want)
	}
	// A line longer than the limit is cut, never inside a surrogate pair.
	for _, s := range packLines([]string{strings.Repeat("😀", 7)}, 5) {
		if utf16Len(s) > 5 || !strings.HasPrefix(s, "😀") {
			t.Errorf("packLines cut %q", s)
		}
	}
}

// A form too long for one message: the summary is split into messages of
// at most 4096 UTF-16 units, every answer in order, keyboard on the last.
func TestSummarySplit(t *testing.T) {
	var y strings.Builder
	y.WriteString("id: long\ntitle: 长表\ndeadline: \"2022-02-10 18:00\"\ncategories: [{id: county, name: 县}]\nsections:\n")
	for s := range 5 {
		fmt.Fprintf(&y, "  - id: s%d\n    title: 第%d部分\n    questions:\n", s, s+1)
		for q := range 30 {
			fmt.Fprintf(&y, "      - {id: q%d_%d, prompt: %s%d, type: text, max_len: 500}\n", s, q, strings.Repeat("很长的题目说明文字", 6), q)
		}
	}
	c, err := ParseCampaign([]byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	d := Draft{UnitID: 1, Rev: 5, Status: StatusFilling, Answers: map[string]Answer{}}
	for _, q := range c.Questions() {
		d.Answers[q.ID] = Answer{Text: strings.Repeat("答案内容", 50)}
	}
	env := Env{Unit: Unit{ID: 1, Name: "测试单位", Category: "county"}, Now: beforeDeadline}
	rs := c.View(d, env)
	if len(rs) < 2 {
		t.Fatalf("summary of 150 long answers in %d message(s), want several", len(rs))
	}
	all := ""
	for i, r := range rs {
		if n := utf16Len(r.Text); n > MaxMessageLen {
			t.Errorf("summary message %d has %d UTF-16 units", i+1, n)
		}
		if (len(r.Buttons) > 0) != (i == len(rs)-1) {
			t.Errorf("summary message %d of %d has %d button rows; only the last carries the keyboard", i+1, len(rs), len(r.Buttons))
		}
		all += r.Text + "\n"
	}
	last := -1
	for i := 1; i <= 150; i++ {
		k := strings.Index(all, fmt.Sprintf("\n%d. ", i))
		if k <= last {
			t.Fatalf("answer %d missing or out of order in the summary", i)
		}
		last = k
	}
	if !strings.Contains(all, "答案内容答案内容…") {
		t.Errorf("long answers are not shortened")
	}
}

func TestProgressViewQuestionMessage(t *testing.T) {
	s := draftAt(t, countyUnit, "troop_cash", map[string]string{"troop_visits": "2"})
	answered, total := s.c.Progress(s.d, "county")
	if answered != 11 || total != 28 {
		t.Errorf("Progress = %d/%d, want 11/28", answered, total)
	}
	r, ok := s.c.QuestionMessage(s.d, countyUnit)
	if !ok || !strings.Contains(r.Text, "第 12/28 题") || !strings.Contains(r.Text, "慰问部队资金（万元）") {
		t.Errorf("QuestionMessage = %q, %v", r.Text, ok)
	}
	if v := s.c.View(s.d, s.env); len(v) != 1 || v[0].Text != r.Text {
		t.Errorf("View at a question = %+v, want the question", v)
	}
	if _, ok := s.c.QuestionMessage(Draft{}, countyUnit); ok {
		t.Errorf("QuestionMessage of a draft never started: ok")
	}
	if v := s.c.View(Draft{}, s.env); len(v) != 1 || v[0].Buttons[0][0].Data != DataGo {
		t.Errorf("View of a draft never started = %+v, want the 开始填报 button", v)
	}
}

// A long random session: buttons old and new, good and bad answers, files,
// commands, the deadline passing, returns. Every step must keep the
// invariants of checkResult, and the engine must never panic. The draft
// goes through JSON between steps, as in a store.
func TestRandomSessions(t *testing.T) {
	for _, u := range []Unit{countyUnit, militaryUnit} {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("%s/%d", u.Category, seed), func(t *testing.T) { randomSession(t, u, seed) })
		}
	}
}

func randomSession(t *testing.T, u Unit, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	s := newSession(t, u, beforeDeadline)
	texts := []string{"3", "0", "12篇", "1.25", "abc", "-1", "1.234", "王晓明", "王", "13912345678", "0358-8498917", "12345",
		"完成", "跳过", "产业帮扶、健康帮扶", "生活", strings.Repeat("长", 1200), "", "１２"}
	files := []File{pdfFile, xlsxFile, bigPDF, docxFile, photo(1), photo(2), photo(3)}
	cmds := []string{"report", "report", "cancel", "status", "help"}
	var seen []string
	submitted := 0
	for step := range 1500 {
		var in Input
		switch k := rng.IntN(20); {
		case k < 8 && len(s.last.Replies) > 0:
			var bs []string
			for _, r := range s.last.Replies {
				for _, row := range r.Buttons {
					for _, b := range row {
						bs = append(bs, b.Data)
					}
				}
			}
			if len(bs) == 0 {
				in.Cmd = "report"
			} else {
				in.Data = bs[rng.IntN(len(bs))]
			}
		case k < 10 && len(seen) > 0:
			in.Data = seen[rng.IntN(len(seen))] // an old button
		case k < 15:
			in.Text = texts[rng.IntN(len(texts))]
		case k < 17:
			f := files[rng.IntN(len(files))]
			if f.Photo {
				f.UniqueID = fmt.Sprintf("u%d", step)
			}
			in.File = &f
		default:
			in.Cmd = cmds[rng.IntN(len(cmds))]
		}
		if step == 1000 {
			s.at(afterDeadline)
		}
		if step%250 == 249 && s.d.Version > 0 {
			if d, err := s.c.Return(s.d, "请核实", "", 9, s.env.Now); err == nil {
				s.d = d
			}
		}
		// Round-trip the draft through JSON, as a store does.
		b, err := json.Marshal(s.d)
		if err != nil {
			t.Fatal(err)
		}
		var d Draft
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		s.d = d
		r := s.do(in)
		if r.Report != nil {
			submitted++
			if r.Report.Version != submitted {
				t.Fatalf("step %d: report version %d, want %d", step, r.Report.Version, submitted)
			}
		}
		for _, rep := range r.Replies {
			for _, row := range rep.Buttons {
				for _, b := range row {
					seen = append(seen, b.Data)
				}
			}
		}
		if s.d.Status == StatusSubmitted && !s.env.Now.Before(s.c.Deadline) && r.Changed && r.Report == nil {
			t.Fatalf("step %d: Step(%s) changed a locked report", step, describeInput(in))
		}
		s.transcript.Reset()
	}
	t.Logf("%d versions submitted", submitted)
}
