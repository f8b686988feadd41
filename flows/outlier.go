package flows

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Outliers caught at entry: a number answer far from the unit's previous
// value (OutlierRule), or above the question's TypicalMax, is asked to be
// confirmed once before it is stored.

// Defaults of OutlierRule, filled in by ParseCampaign when the campaign
// file does not set them.
const (
	DefaultOutlierRatio = 5
	DefaultOutlierFloor = 10
)

// Far reports whether v is far from prev, both in the question's stored
// units (money in hundredths), with floor already in those units:
//
//   - the larger of the two must be at least floor, else nothing is far
//     (3 → 20 visits with floor 30 is not worth a question);
//   - both non-zero: far when the larger is more than Ratio times the
//     smaller (exactly 5× or exactly 1/5 is not far);
//   - a zero on either side: every non-zero value is "infinitely many
//     times" zero, so the ratio says nothing; such a pair is far only when
//     the non-zero value is at least Ratio × floor (0 → 30 with the
//     defaults is not asked, 0 → 50 is; 120 → 0 is asked, 30 → 0 is not).
//     A unit that did nothing last year may well start this year; what is
//     asked is a figure that would be far even from the floor.
//
// A zero Ratio means DefaultOutlierRatio.
func (r OutlierRule) Far(prev, v int64, floor float64) bool {
	ratio := r.Ratio
	if ratio <= 0 {
		ratio = DefaultOutlierRatio
	}
	lo, hi := float64(min(prev, v)), float64(max(prev, v))
	switch {
	case hi < floor:
		return false
	case lo <= 0:
		return hi > 0 && hi >= ratio*floor
	}
	return hi > ratio*lo
}

// scaled is v, a number in q's unit, as q's answers hold it (money in
// hundredths of 万元).
func scaled(q *Question, v float64) int64 {
	if q.Type == TypeMoney {
		return int64(math.Round(v * 100))
	}
	return int64(math.Round(v))
}

// OutlierFloor is the floor of the outlier rule for q as q's answers hold
// numbers: its own outlier_floor, else the campaign's. Figures both below
// it never count as far apart.
func (c *Campaign) OutlierFloor(q *Question) int64 {
	f := c.Outliers.Floor
	if q.OutlierFloor != nil {
		f = *q.OutlierFloor
	}
	return scaled(q, f)
}

// typicalMax is q's TypicalMax as q's answers hold numbers; ok is false
// without one.
func typicalMax(q *Question) (int64, bool) {
	if q.TypicalMax == nil {
		return 0, false
	}
	return scaled(q, *q.TypicalMax), true
}

// Outlier says why a number answer needs confirming.
type Outlier struct {
	Value int64
	// HasPrev: far from the unit's previous value Prev; otherwise the
	// answer is above the question's typical maximum Limit.
	HasPrev bool
	Prev    int64
	Limit   int64
}

// previousNum is the unit's previous value for q, if there was one (a
// skipped or missing previous answer is none).
func previousNum(prev *Previous, q *Question) (int64, bool) {
	if prev == nil {
		return 0, false
	}
	n, ok := prev.Nums[q.ID]
	return n, ok
}

// Outlier checks answer v of number question q against the unit's previous
// figures (prev may be nil) and q's typical maximum. A value far from the
// previous one is reported as such even when it is also above the typical
// maximum; without a previous value only the typical maximum counts.
func (c *Campaign) Outlier(q *Question, prev *Previous, v int64) (Outlier, bool) {
	if !q.IsNumber() {
		return Outlier{}, false
	}
	if p, ok := previousNum(prev, q); ok && c.Outliers.Far(p, v, float64(c.OutlierFloor(q))) {
		return Outlier{Value: v, HasPrev: true, Prev: p}, true
	}
	if limit, ok := typicalMax(q); ok && v > limit {
		return Outlier{Value: v, Limit: limit}, true
	}
	return Outlier{}, false
}

// Describe says in words how the answer stands out, e.g. 比上年（120 户）
// 增加约 24 倍, 比上年（120 户）减少约 98%, 上年为 0 户, or 超过通常上限（500 户）.
func (o Outlier) Describe(q *Question) string {
	show := func(n int64) string { return FormatAnswer(q, Answer{Num: n}) }
	switch {
	case !o.HasPrev:
		return "超过通常上限（" + show(o.Limit) + "）"
	case o.Prev == 0:
		return "上年为 " + show(0) + "，差别很大"
	case o.Value > o.Prev:
		return "比上年（" + show(o.Prev) + "）增加约 " + increase(o.Prev, o.Value)
	}
	if o.Value == 0 {
		return "比上年（" + show(o.Prev) + "）减少 100%"
	}
	cut := int(math.Round(float64(o.Prev-o.Value) / float64(o.Prev) * 100))
	if cut >= 100 {
		cut = 99 // not all gone: do not say 减少约 100%
	}
	return fmt.Sprintf("比上年（%s）减少约 %d%%", show(o.Prev), cut)
}

// increase says how much larger v is than prev (both > 0): 约 24 倍 (v is
// 25 times prev), 约 1.5 倍, or a percentage below one time more.
func increase(prev, v int64) string {
	times := float64(v)/float64(prev) - 1
	switch {
	case times < 1:
		return fmt.Sprintf("%d%%", int(math.Round(times*100)))
	case times < 10:
		return strconv.FormatFloat(math.Round(times*10)/10, 'f', -1, 64) + " 倍"
	}
	return strconv.FormatFloat(math.Round(times), 'f', -1, 64) + " 倍"
}

// Note is the office's short note of a confirmed outlier: 上年 120 户, or
// 超过通常上限 500 户.
func (o Outlier) Note(q *Question) string {
	if o.HasPrev {
		return "上年 " + FormatAnswer(q, Answer{Num: o.Prev})
	}
	return "超过通常上限 " + FormatAnswer(q, Answer{Num: o.Limit})
}

// confirmReply asks the contact to confirm an outlier answer waiting in
// d.Pending for q: 确认无误 stores it, 重新填写 asks the question again,
// and a newly typed number is a new answer.
//
// note goes before it; so does problem, what was wrong with an input
// typed meanwhile (the answer keeps waiting).
func (c *Campaign) confirmReply(d Draft, category string, q *Question, note, problem string) Reply {
	v := d.Pending.Num
	o, _ := c.Outlier(q, d.Prev, v)
	path := c.Path(category, d.Answers)
	var b strings.Builder
	for _, s := range []string{problem, note} {
		if s != "" {
			b.WriteString(s + "\n\n")
		}
	}
	if pos := position(path, q); pos >= 0 {
		fmt.Fprintf(&b, "第 %d/%d 题 · %s\n", pos+1, len(path), q.Section.Title)
	}
	b.WriteString(q.Title() + "\n")
	fmt.Fprintf(&b, "⚠️ 您填的是 %s，%s，请确认是否正确。\n", FormatAnswer(q, Answer{Num: v}), o.Describe(q))
	b.WriteString("数字无误请点「确认无误」；填错了请点「重新填写」，或直接发送正确的数字。")
	return Reply{Text: b.String(), Buttons: [][]Button{{
		{Text: "确认无误", Data: data(d.Rev, verbSure, q.ID)},
		{Text: "重新填写", Data: data(d.Rev, verbRedo, q.ID)},
	}}}
}

// confirming reports whether an answer to q waits for 确认无误 in d.
func confirming(d Draft, q *Question) bool {
	return q.IsNumber() && d.Pending != nil && d.Cursor == q.ID
}

// needsConfirming reports whether answer a to q must be confirmed first:
// it is an outlier, and not the very answer the contact confirmed before.
func (s *step) needsConfirming(q *Question, a Answer) bool {
	if !q.IsNumber() || a.Skipped {
		return false
	}
	if _, far := s.c.Outlier(q, s.d.Prev, a.Num); !far {
		return false
	}
	old, ok := s.d.Answers[q.ID]
	return !ok || old.Skipped || old.Num != a.Num || !slices.Contains(s.d.Confirmed, q.ID)
}

// holdForConfirming keeps a in the draft's Pending and asks to confirm it.
func (s *step) holdForConfirming(q *Question, a Answer) {
	s.touch()
	s.d.Pending = &a
	s.say(s.c.confirmReply(s.d, s.cat, q, "", ""))
}

// sure is 确认无误: the waiting answer is stored and marked confirmed.
func (s *step) sure(q *Question) {
	if !confirming(s.d, q) {
		s.stale("")
		return
	}
	a := *s.d.Pending
	s.store(q, a, "已确认。", true)
}

// redo is 重新填写: the waiting answer is dropped and q asked again.
func (s *step) redo(q *Question) {
	if !confirming(s.d, q) {
		s.stale("")
		return
	}
	s.touch()
	s.d.Pending = nil
	s.ask(q, "好的，请重新填写本题。")
}

// setConfirmed adds id to or removes it from the draft's Confirmed list.
// The list is replaced, never changed in place (the caller's draft shares it).
func (s *step) setConfirmed(id string, on bool) {
	has := slices.Contains(s.d.Confirmed, id)
	switch {
	case on && !has:
		s.d.Confirmed = append(slices.Clone(s.d.Confirmed), id)
	case !on && has:
		s.d.Confirmed = slices.DeleteFunc(slices.Clone(s.d.Confirmed), func(x string) bool { return x == id })
		if len(s.d.Confirmed) == 0 {
			s.d.Confirmed = nil
		}
	}
}

// confirmedOutliers are the draft's confirmed questions among answers (the
// questions of the submitted version), in form order.
func (c *Campaign) confirmedOutliers(confirmed []string, answers map[string]Answer) []string {
	var ids []string
	for _, q := range c.questions {
		if a, ok := answers[q.ID]; ok && !a.Skipped && slices.Contains(confirmed, q.ID) {
			ids = append(ids, q.ID)
		}
	}
	return ids
}

// unconfirmedOutliers describe the unit's number answers that are
// outliers the contact has not confirmed (taken from a template, which
// asks nothing): 走访慰问退役军人和其他优抚对象 3000 户（上年 120 户）.
func (s *step) unconfirmedOutliers() []string {
	var ls []string
	for _, q := range s.path() {
		a, ok := s.d.Answers[q.ID]
		if !ok || a.Skipped || !q.IsNumber() || slices.Contains(s.d.Confirmed, q.ID) {
			continue
		}
		if o, far := s.c.Outlier(q, s.d.Prev, a.Num); far {
			ls = append(ls, label(q)+" "+FormatAnswer(q, a)+"（"+o.Note(q)+"）")
		}
	}
	return ls
}
