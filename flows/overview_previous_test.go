package flows

import (
	"strings"
	"testing"
)

// nextYearCampaign is the default campaign a year on, naming it as
// previous: essays renamed theme_essays (same_as: essays), columns renamed
// new_columns without same_as (no figure last year).
func nextYearCampaign(t *testing.T) *Campaign {
	t.Helper()
	y := string(DefaultCampaignYAML())
	for _, r := range [][2]string{
		{"id: lvliang-2022-spring", "id: lvliang-2023-spring\nprevious: lvliang-2022-spring"},
		{"title: 2022年元旦春节", "title: 2023年元旦春节"},
		{"deadline: \"2022-02-10 18:00\"", "deadline: \"2023-02-10 18:00\""},
		{"{id: essays,", "{id: theme_essays, same_as: essays,"},
		{"{id: columns,", "{id: new_columns,"},
	} {
		if !strings.Contains(y, r[0]) {
			t.Fatalf("default campaign YAML lacks %q", r[0])
		}
		y = strings.Replace(y, r[0], r[1], 1)
	}
	c, err := ParseCampaign([]byte(y))
	if err != nil {
		t.Fatalf("ParseCampaign(next year): %v", err)
	}
	return c
}

// comparedOverview: this year's overview of overviewData's units in next
// year's campaign, beside last year's overviewFixture (units 1, 2, 6, 8
// stood last year; unit 6 is returned, so it does not count). This year
// units 1, 2 and 7 stand; unit 8 (which stood last year) does not.
func comparedOverview(t *testing.T) (*Overview, *Overview) {
	t.Helper()
	prev := overviewFixture(t)
	c := nextYearCampaign(t)
	sub := func(id int64, cat string, answers map[string]Answer) UnitData {
		r := &Report{UnitID: id, Version: 1, SubmittedAt: beforeDeadline, Answers: answers}
		return UnitData{Unit: Unit{ID: id, Name: "单位", Category: cat}, Latest: r,
			Contacts: []Contact{{UserID: id, UnitID: id}}, Draft: Draft{UnitID: id, Status: StatusSubmitted, Version: 1, Answers: answers}}
	}
	a1 := sampleAnswers(c, "county", 101)
	a1["troop_visits"] = Answer{Num: 3000}
	a1["theme_essays"] = Answer{Num: 7}
	a1["new_columns"] = Answer{Num: 4}
	d1 := sub(1, "county", a1)
	d1.Latest.Outliers = []string{"troop_visits"}
	us := []UnitData{d1, sub(2, "county", sampleAnswers(c, "county", 102)), sub(7, "organization", sampleAnswers(c, "organization", 107)),
		{Unit: Unit{ID: 8, Name: "吕梁军分区", Category: "military"}, Draft: Draft{UnitID: 8}}}
	o := NewOverview(c, c.Deadline, beforeDeadline.AddDate(1, 0, 0), us)
	o.SetPrevious(prev)
	return o, prev
}

func TestSetPrevious(t *testing.T) {
	o, prev := comparedOverview(t)
	c := o.Campaign
	pc := prev.Campaign
	if o.PreviousCampaign() != pc {
		t.Fatalf("PreviousCampaign() = %v, want the previous overview's", o.PreviousCampaign())
	}
	prevUnit := func(id int64) *UnitOverview {
		for i := range prev.Units {
			if prev.Units[i].Unit.ID == id {
				return &prev.Units[i]
			}
		}
		t.Fatalf("no unit %d last year", id)
		return nil
	}
	p1 := prevUnit(1)
	tests := []struct {
		unit   int64
		q      string
		want   int64
		wantOK bool
	}{
		{1, "troop_visits", must(prev.Figure(p1, pc.Question("troop_visits"))), true},
		{1, "theme_essays", must(prev.Figure(p1, pc.Question("essays"))), true}, // renamed, same_as
		{1, "new_columns", 0, false}, // renamed without same_as: new
		{1, "veteran_cash", must(prev.Figure(p1, pc.Question("veteran_cash"))), true},
		{2, "troop_visits", must(prev.Figure(prevUnit(2), pc.Question("troop_visits"))), true},
		{7, "troop_visits", 0, false}, // no report last year
		{8, "troop_visits", 0, false}, // not standing this year: no figures at all
	}
	for _, tt := range tests {
		u := o.Units[o.index(tt.unit)]
		got, ok := o.PreviousFigure(&u, c.Question(tt.q))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("PreviousFigure(unit %d, %s) = %d, %v; want %d, %v", tt.unit, tt.q, got, ok, tt.want, tt.wantOK)
		}
	}
	if u := o.Units[o.index(7)]; u.HasPrevious() {
		t.Errorf("unit 7 HasPrevious, want not (no report last year)")
	}
	if u := o.Units[o.index(1)]; !u.HasPrevious() || !u.Confirmed(c.Question("troop_visits")) || u.Confirmed(c.Question("theme_essays")) {
		t.Errorf("unit 1: HasPrevious %v, confirmed %v; want true, [troop_visits]", u.HasPrevious(), u.Outliers)
	}
	if q := o.PreviousQuestion(c.Question("theme_essays")); q == nil || q.ID != "essays" {
		t.Errorf("PreviousQuestion(theme_essays) = %v, want essays", q)
	}
	if q := o.PreviousQuestion(c.Question("new_columns")); q != nil {
		t.Errorf("PreviousQuestion(new_columns) = %s, want nil", q.ID)
	}

	// Last year's sums of this year's standing units: 1 and 2 (7 had none).
	pt := o.PreviousTotals()
	want := must(prev.Figure(p1, pc.Question("troop_visits"))) + must(prev.Figure(prevUnit(2), pc.Question("troop_visits")))
	if pt.Sums["troop_visits"] != want || pt.Reports != 2 || pt.ByCategory["county"].Sums["troop_visits"] != want || pt.ByCategory["organization"].Reports != 0 {
		t.Errorf("PreviousTotals() = troop_visits %d, %d reports (county %d, organization %d reports); want %d, 2, %d, 0",
			pt.Sums["troop_visits"], pt.Reports, pt.ByCategory["county"].Sums["troop_visits"], pt.ByCategory["organization"].Reports, want, want)
	}

	o.SetPrevious(nil)
	if u := o.Units[o.index(1)]; o.PreviousCampaign() != nil || u.HasPrevious() || o.PreviousQuestion(c.Question("troop_visits")) != nil {
		t.Errorf("SetPrevious(nil) left the comparison")
	}
}

func must(n int64, ok bool) int64 {
	if !ok {
		panic("no figure")
	}
	return n
}

// index is the position of unit id in o.Units.
func (o *Overview) index(id int64) int {
	for i := range o.Units {
		if o.Units[i].Unit.ID == id {
			return i
		}
	}
	panic("no unit")
}

func TestChange(t *testing.T) {
	money := &Question{Type: TypeMoney, Unit: "万元"}
	count := &Question{Type: TypeInteger, Unit: "次"}
	tests := []struct {
		q         *Question
		prev, cur int64
		pct, text string
	}{
		{count, 120, 3000, "+2400.0%", "比上年增加约 24 倍"},
		{count, 100, 295, "+195.0%", "比上年增加约 2 倍"},
		{count, 100, 294, "+194.0%", "比上年增加 194.0%"},
		{count, 300, 350, "+16.7%", "比上年增加 16.7%"},
		{count, 100, 100, "+0.0%", "与上年相同"},
		{count, 100, 4, "-96.0%", "比上年减少 96.0%"},
		{count, 50, 0, "-100.0%", "比上年减少 100.0%"},
		{count, 0, 30, "", "上年为 0"},
		{count, 0, 0, "", "上年为 0"},
		{money, 150, 120000, "+79900.0%", "比上年增加约 799 倍"},
		{money, 0, 500, "", "上年为 0.00"},
	}
	for _, tt := range tests {
		if got := ChangePercent(tt.prev, tt.cur); got != tt.pct {
			t.Errorf("ChangePercent(%d, %d) = %q, want %q", tt.prev, tt.cur, got, tt.pct)
		}
		if got := ChangeText(tt.q, tt.prev, tt.cur); got != tt.text {
			t.Errorf("ChangeText(%s, %d, %d) = %q, want %q", tt.q.Type, tt.prev, tt.cur, got, tt.text)
		}
		if r, ok := Change(tt.prev, tt.cur); ok != (tt.prev > 0) || ok && r != float64(tt.cur-tt.prev)/float64(tt.prev) {
			t.Errorf("Change(%d, %d) = %v, %v", tt.prev, tt.cur, r, ok)
		}
	}
}

func TestOutlierNoteAndFloor(t *testing.T) {
	o, _ := comparedOverview(t)
	c := o.Campaign
	u := &o.Units[o.index(1)]
	visits := c.Question("troop_visits")
	p, _ := o.PreviousFigure(u, visits)
	if got, want := o.OutlierNote(u, visits), "已确认："+ChangeText(visits, p, 3000); got != want || !strings.HasPrefix(got, "已确认：比上年增加约") {
		t.Errorf("OutlierNote(unit 1, troop_visits) = %q, want %q", got, want)
	}
	// Without a figure last year, the note names the typical maximum.
	cols := c.Question("new_columns")
	limit := 2.0
	cols.TypicalMax = &limit
	if got := o.OutlierNote(u, cols); got != "已确认：超出常见范围（一般不超过 2）" {
		t.Errorf("OutlierNote(unit 1, new_columns) = %q", got)
	}
	cash := c.Question("veteran_cash")
	if got := c.OutlierFloor(cash); got != 1000 {
		t.Errorf("OutlierFloor(veteran_cash) = %d, want 1000 (10 万元 in hundredths)", got)
	}
	floor := 3.5
	cash.OutlierFloor = &floor
	c.Outliers.Floor = 20
	if got, got2 := c.OutlierFloor(cash), c.OutlierFloor(visits); got != 350 || got2 != 20 {
		t.Errorf("OutlierFloor = %d (veteran_cash, own 3.5), %d (troop_visits, campaign's 20); want 350, 20", got, got2)
	}
}

// TestSummaryTextPrevious: /summary shows each main total beside last
// year's of the same units, and says how many had no report last year.
func TestSummaryTextPrevious(t *testing.T) {
	o, _ := comparedOverview(t)
	c := o.Campaign
	got := SummaryText(o)
	checkGolden(t, "overview-summary-previous", got)
	pt, tt := o.PreviousTotals(), o.Totals()
	visits := c.Question("troop_visits")
	for _, want := range []string{
		"主要数据合计（已提交的 3 个单位；“上年同单位”为这些单位上年的合计，其中 1 个单位上年未提交，按 0 计）：",
		"· 走访慰问驻吕部队（次）：" + FormatNumber(visits, tt.Sums["troop_visits"]),
		"\n　上年同单位 " + FormatNumber(visits, pt.Sums["troop_visits"]) + "，" + ChangePercent(pt.Sums["troop_visits"], tt.Sums["troop_visits"]) + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("SummaryText() lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "上年同单位 "); n != len(c.KeyQuestions()) {
		t.Errorf("SummaryText() has %d lines of last year's, want one per main figure (%d):\n%s", n, len(c.KeyQuestions()), got)
	}
	// Without last year's figures, as before.
	o.SetPrevious(nil)
	if got := SummaryText(o); strings.Contains(got, "上年") {
		t.Errorf("SummaryText() without last year's mentions 上年:\n%s", got)
	}
}
