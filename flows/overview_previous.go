package flows

import (
	"fmt"
	"math"
	"slices"
)

// Last year beside this year in the office's view: an overview of a
// campaign takes the figures of the previous campaign's overview for the
// same units (SetPrevious), by this campaign's question ids
// (Question.PreviousID), and the questions each unit's standing version
// confirmed as outliers (UnitOverview.Outliers). Exports and /summary show
// them; without SetPrevious an overview is exactly as before.

// SetPrevious takes the previous campaign's figures of o's units from prev,
// an overview of the campaign o.Campaign.Previous names (LoadOverview of
// that campaign): a unit's previous figures are those of its standing
// version there, each number question taking the answer of its
// PreviousID when that is a number question of prev's campaign too.
// Units are matched by id (units are shared by all campaigns). A nil prev
// removes the comparison. prev is not kept: it may be dropped after.
func (o *Overview) SetPrevious(prev *Overview) {
	o.prevCampaign, o.prevQuestions = nil, nil
	for i := range o.Units {
		o.Units[i].prev = nil
	}
	if prev == nil {
		return
	}
	o.prevCampaign = prev.Campaign
	// The previous question of each of o's number questions, nil if none.
	pqs := make([]*Question, len(o.numbers))
	o.prevQuestions = pqs
	for i, q := range o.numbers {
		if pq := prev.Campaign.Question(q.PreviousID()); pq != nil && pq.IsNumber() {
			pqs[i] = pq
		}
	}
	byID := make(map[int64]*UnitOverview, len(prev.Units))
	for i := range prev.Units {
		if pu := &prev.Units[i]; pu.Submitted() {
			byID[pu.Unit.ID] = pu
		}
	}
	for i := range o.Units {
		u := &o.Units[i]
		pu := byID[u.Unit.ID]
		if pu == nil {
			continue
		}
		u.prev = make([]figure, len(o.numbers))
		for k, pq := range pqs {
			if pq != nil {
				n, ok := prev.Figure(pu, pq)
				u.prev[k] = figure{n: n, ok: ok}
			}
		}
	}
}

// PreviousCampaign is the campaign of the figures SetPrevious took; nil if
// the overview has none (then nothing compares with last year).
func (o *Overview) PreviousCampaign() *Campaign { return o.prevCampaign }

// PreviousQuestion is q in the previous campaign (by Question.PreviousID),
// nil if it was not a number question there or there are no previous
// figures.
func (o *Overview) PreviousQuestion(q *Question) *Question {
	i, found := o.numIndex[q.ID]
	if !found || o.prevQuestions == nil {
		return nil
	}
	return o.prevQuestions[i]
}

// HasPrevious reports whether the unit had a standing version in the
// previous campaign (SetPrevious).
func (u *UnitOverview) HasPrevious() bool { return u.prev != nil }

// PreviousFigure is the unit's answer to q in the previous campaign: ok is
// false without a previous standing version, or when the question was not
// there, did not apply or was skipped.
func (o *Overview) PreviousFigure(u *UnitOverview, q *Question) (n int64, ok bool) {
	i, found := o.numIndex[q.ID]
	if !found || u.prev == nil {
		return 0, false
	}
	f := u.prev[i]
	return f.n, f.ok
}

// Confirmed reports whether the unit's standing version confirmed its
// answer to q as far from last year's (Report.Outliers).
func (u *UnitOverview) Confirmed(q *Question) bool {
	return slices.Contains(u.Outliers, q.ID)
}

// PreviousTotals are last year's sums for the same units: the previous
// figures of the units whose version stands this year (as Totals sums this
// year's), overall and by category; Reports counts those of them that had
// a previous standing version.
func (o *Overview) PreviousTotals() Totals {
	return o.sum(func(u *UnitOverview) []figure { return u.prev })
}

// Change is the relative change from last year's prev to this year's cur
// (0.25 for +25%); ok is false when last year's is zero or less, where no
// percentage means anything.
func Change(prev, cur int64) (ratio float64, ok bool) {
	if prev <= 0 {
		return 0, false
	}
	return float64(cur-prev) / float64(prev), true
}

// ChangePercent is Change as the office reads it: +16.7%, -3.0%, +0.0%;
// "" when last year's is zero (as the export leaves 增减% blank).
func ChangePercent(prev, cur int64) string {
	r, ok := Change(prev, cur)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%+.1f%%", r*100)
}

// ChangeText says in words how far cur is from last year's prev, for a
// confirmed outlier: 比上年增加约 24 倍 (3,000 after 120), 比上年增加 80.0%,
// 比上年减少 96.0%, 上年为 0. q gives the unit of the numbers.
func ChangeText(q *Question, prev, cur int64) string {
	switch r, ok := Change(prev, cur); {
	case !ok:
		return "上年为 " + FormatNumber(q, prev)
	case r >= 1.95:
		return fmt.Sprintf("比上年增加约 %d 倍", int64(math.Round(r)))
	case r > 0:
		return fmt.Sprintf("比上年增加 %.1f%%", r*100)
	case r < 0:
		return fmt.Sprintf("比上年减少 %.1f%%", -r*100)
	}
	return "与上年相同"
}

// OutlierNote is the note a confirmed outlier carries in the export: 已确认：
// 比上年增加约 24 倍 when last year's figure is known, else 已确认：超出常见范围
// (the question's typical_max).
func (o *Overview) OutlierNote(u *UnitOverview, q *Question) string {
	cur, ok := o.Figure(u, q)
	prev, pok := o.PreviousFigure(u, q)
	if ok && pok {
		return "已确认：" + ChangeText(q, prev, cur)
	}
	if q.TypicalMax != nil {
		return fmt.Sprintf("已确认：超出常见范围（一般不超过 %s）", FormatNumber(q, scaled(q, *q.TypicalMax)))
	}
	return "已确认：与上年相差较大"
}
