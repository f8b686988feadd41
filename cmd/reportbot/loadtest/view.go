package loadtest

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// viewKind is what a bot message shows a contact.
type viewKind int

const (
	viewOther     viewKind = iota // a note, a re-sent status, a keyboard removed
	viewGreeting                  // bound to the unit (or already bound)
	viewQuestion                  // a question of the form
	viewFiles                     // photos received so far, with 完成
	viewSummary                   // every answer, with 确认提交
	viewReceipt                   // submitted: the receipt number
	viewSubmitted                 // the submitted report's status (after /report)
)

func (k viewKind) String() string {
	return [...]string{"other", "greeting", "question", "files", "summary", "receipt", "submitted"}[k]
}

// view is one bot message as a contact reads it: what it asks and at which
// revision of the draft. Every button the engine draws names the draft's
// revision ("<rev>:<verb>…"), so a contact can tell a fresh question from a
// stale copy (a reply sent again after the bot restarted).
type view struct {
	kind    viewKind
	rev     int64 // -1 when the message has no revision
	qid     string
	picks   []string // multichoice options ticked
	files   int      // photos received before 完成
	msgID   int
	at      time.Time
	text    string
	buttons []telegramtest.Button
}

var progressLine = regexp.MustCompile(`第 \d+/\d+ 题 · [^\n]+\n([^\n]+)`)

// reader recognises the questions of a campaign by their titles.
type reader struct {
	camp    *flows.Campaign
	byTitle map[string]*flows.Question
}

func newReader(c *flows.Campaign) *reader {
	r := &reader{camp: c, byTitle: map[string]*flows.Question{}}
	for _, q := range c.Questions() {
		r.byTitle[q.Title()] = q
	}
	return r
}

// question finds the question whose title starts a line.
func (r *reader) question(line string) *flows.Question {
	if q := r.byTitle[line]; q != nil {
		return q
	}
	var best *flows.Question
	for _, q := range r.camp.Questions() {
		if strings.HasPrefix(line, q.Title()) && (best == nil || len(q.Title()) > len(best.Title())) {
			best = q
		}
	}
	return best
}

// read interprets a bot message.
func (r *reader) read(m telegramtest.Message, at time.Time) view {
	v := view{rev: -1, msgID: m.MessageID, at: at, text: m.Text, buttons: m.Buttons()}
	for _, b := range v.buttons {
		if head, _, ok := strings.Cut(b.Data, ":"); ok {
			if n, err := strconv.ParseInt(head, 10, 64); err == nil {
				v.rev = n
				break
			}
		}
	}
	if match := progressLine.FindStringSubmatch(m.Text); match != nil {
		if q := r.question(match[1]); q != nil {
			v.kind, v.qid = viewQuestion, q.ID
			for _, b := range v.buttons {
				if label, ok := strings.CutPrefix(b.Text, "✅ "); ok {
					for _, o := range q.Options {
						if o.Label == label {
							v.picks = append(v.picks, o.ID)
						}
					}
				}
			}
		}
	}
	for _, b := range v.buttons {
		if n, ok := filesDone(b.Text); ok {
			v.files = n
			if v.kind == viewOther {
				v.kind = viewFiles
			}
		}
	}
	if v.kind != viewOther {
		return v
	}
	switch {
	case v.button("确认提交") != nil:
		v.kind = viewSummary
	case strings.Contains(m.Text, "回执编号：") && (strings.Contains(m.Text, "提交成功") || strings.Contains(m.Text, "已提交（逾期提交）")):
		v.kind = viewReceipt
	case strings.HasPrefix(m.Text, "已提交第 ") && strings.Contains(m.Text, "回执编号"):
		v.kind = viewSubmitted
	case strings.Contains(m.Text, "绑定成功") || strings.HasPrefix(m.Text, "您已是“"):
		v.kind = viewGreeting
	}
	return v
}

// filesDone reads the 完成（共 n 张） button.
func filesDone(text string) (int, bool) {
	rest, ok := strings.CutPrefix(text, "完成（共 ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, " 张）"))
	return n, err == nil
}

// button returns the first button whose text contains label.
func (v view) button(label string) *telegramtest.Button {
	for i := range v.buttons {
		if strings.Contains(v.buttons[i].Text, label) {
			return &v.buttons[i]
		}
	}
	return nil
}
