package flows

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// KeyQuestions returns the main figures (key: true) in form order.
func (c *Campaign) KeyQuestions() []*Question {
	var qs []*Question
	for _, q := range c.questions {
		if q.Key && q.IsNumber() {
			qs = append(qs, q)
		}
	}
	return qs
}

// FormatNumber formats a number answer of q: integers as they are, money
// as 万元 with two decimals.
func FormatNumber(q *Question, n int64) string {
	if q.Type == TypeMoney {
		return FormatMoney(n)
	}
	return fmt.Sprint(n)
}

// SubmissionText is the office group's post about a submitted version.
// Confirmed outliers are marked without last year's values; the Service,
// which has the draft, uses SubmissionTextBeside.
func (c *Campaign) SubmissionText(u Unit, r Report) string {
	return c.SubmissionTextBeside(u, r, nil)
}

// SubmissionTextBeside is SubmissionText with the unit's previous figures
// (nil for none): each answer the contact confirmed although it is far
// from last year's (Report.Outliers) is marked
// ⚠ 已确认：走访慰问驻吕部队 3000 次（上年 120 次）.
func (c *Campaign) SubmissionTextBeside(u Unit, r Report, prev *Previous) string {
	var b strings.Builder
	what := "新提交"
	if r.Version > 1 {
		what = "修改后重新提交"
	}
	cat, _ := c.Category(u.Category)
	fmt.Fprintf(&b, "📨 %s：%s\n类别：%s\n版本：第 %d 版\n回执编号：%s\n提交时间：%s\n", what, u.Name, cat.Name, r.Version, r.Receipt, FormatTime(r.SubmittedAt, c.Location))
	var lines []string
	for _, q := range c.KeyQuestions() {
		a, ok := r.Answers[q.ID]
		if !ok || a.Skipped {
			continue
		}
		lines = append(lines, fmt.Sprintf("· %s：%s", q.Title(), FormatNumber(q, a.Num)))
	}
	if len(lines) > 0 {
		b.WriteString("主要数据：\n")
		b.WriteString(strings.Join(lines, "\n"))
		b.WriteString("\n")
	}
	for _, l := range c.outlierLines(r, prev) {
		b.WriteString(l + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// outlierLines mark the report's confirmed outliers for the office.
func (c *Campaign) outlierLines(r Report, prev *Previous) []string {
	var ls []string
	for _, id := range r.Outliers {
		q := c.Question(id)
		a, ok := r.Answers[id]
		if q == nil || !q.IsNumber() || !ok || a.Skipped {
			continue
		}
		l := "⚠ 已确认：" + label(q) + " " + FormatAnswer(q, a)
		if o, far := c.Outlier(q, prev, a.Num); far {
			l += "（" + o.Note(q) + "）"
		} else if prev == nil {
			l += "（与上年相差较大）"
		}
		ls = append(ls, l)
	}
	return ls
}

// ShortStatus is a unit's report state in a few words (unit lists, the
// demo's person picker): 未开始 / 填写中 n/N / 已提交第 k 版 / 退回修改.
func (c *Campaign) ShortStatus(d Draft, category string) string {
	switch d.Status {
	case StatusNew:
		return "未开始"
	case StatusSubmitted:
		return fmt.Sprintf("已提交第 %d 版", d.Version)
	case StatusReturned:
		return "退回修改"
	case StatusRevising:
		return fmt.Sprintf("已提交第 %d 版，修改中", d.Version)
	}
	done, total := c.Progress(d, category)
	return fmt.Sprintf("填写中 %d/%d", done, total)
}

// QuestionRef reads a word naming one of the unit's questions (as /reopen
// does): a question id, or its number on the unit's summary (the position
// among the questions that apply to it). It returns nil for a word that
// names no question, and a message for a question the unit does not have.
func (c *Campaign) QuestionRef(u Unit, d Draft, s string) (*Question, string) {
	path := c.Path(u.Category, d.Answers)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > len(path) {
			return nil, fmt.Sprintf("题目编号 %d 不存在：“%s”的报告共 %d 题。", n, u.Name, len(path))
		}
		return path[n-1], ""
	}
	q := c.Question(s)
	switch {
	case q == nil:
		return nil, ""
	case !slices.Contains(path, q):
		return nil, "题目 " + s + "（" + q.Title() + "）不适用于“" + u.Name + "”。"
	}
	return q, ""
}

// QuestionLabel is "第 n 题 title" as on the unit's summary.
func (c *Campaign) QuestionLabel(u Unit, d Draft, q *Question) string {
	if i := slices.Index(c.Path(u.Category, d.Answers), q); i >= 0 {
		return fmt.Sprintf("第 %d 题 %s", i+1, q.Title())
	}
	return q.Title()
}
