package flows

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// overviewFixture is one unit in every state the office distinguishes.
func overviewFixture(t *testing.T) *Overview {
	t.Helper()
	c := DefaultCampaign()
	return NewOverview(c, c.Deadline, beforeDeadline, overviewData(t))
}

// overviewData is the store's data behind overviewFixture.
func overviewData(t *testing.T) []UnitData {
	t.Helper()
	c := DefaultCampaign()
	at := func(h int) time.Time { return beforeDeadline.Add(time.Duration(h) * time.Hour) }
	bound := func(unit int64, name string, blocked bool) []Contact {
		return []Contact{{UserID: 1000 + unit, UnitID: unit, ChatID: 1000 + unit, Name: name, Unreachable: blocked}}
	}
	report := func(u Unit, version int, h int) *Report {
		return &Report{UnitID: u.ID, Version: version, Receipt: c.ReceiptNumber(u.ID, version), SubmittedAt: at(h), Answers: sampleAnswers(c, u.Category, uint64(u.ID))}
	}
	unit := func(id int64, name, cat string) Unit { return Unit{ID: id, Name: name, Category: cat} }
	var us []UnitData
	add := func(u Unit, cts []Contact, d Draft, latest *Report) {
		d.UnitID = u.ID
		us = append(us, UnitData{Unit: u, Contacts: cts, Draft: d, Latest: latest})
	}
	u1 := unit(1, "离石区双拥工作领导小组", "county")
	r1 := report(u1, 1, -48)
	add(u1, bound(1, "张建国", false), Draft{Status: StatusSubmitted, Version: 1, Answers: r1.Answers}, r1)
	u2 := unit(2, "孝义市双拥工作领导小组", "county")
	r2 := report(u2, 2, -3)
	add(u2, bound(2, "李秀英", false), Draft{Status: StatusRevising, Version: 2, Answers: r2.Answers}, r2)
	add(unit(3, "汾阳市双拥工作领导小组", "county"), nil, Draft{}, nil)
	add(unit(4, "文水县双拥工作领导小组", "county"), bound(4, "王志强", true), Draft{}, nil)
	u5 := unit(5, "市财政局", "department")
	add(u5, bound(5, "刘海燕", false), Draft{Status: StatusFilling, Cursor: "films", Answers: map[string]Answer{
		"filler_name": {Text: "刘海燕"}, "filler_phone": {Text: "13912345678"}, "essays": {Num: 3}, "columns": {Num: 2},
	}}, nil)
	u6 := unit(6, "市民政局", "department")
	r6 := report(u6, 1, -20)
	add(u6, bound(6, "陈卫东", false), Draft{Status: StatusReturned, Version: 1, Answers: r6.Answers,
		Returned: &Return{Reason: "慰问金数额有误", Question: "veteran_cash", At: at(-1)}}, r6)
	add(unit(7, "市总工会", "organization"), bound(7, "赵敏", false), Draft{}, nil)
	u8 := unit(8, "吕梁军分区", "military")
	r8 := report(u8, 1, -10)
	add(u8, bound(8, "孙强", false), Draft{Status: StatusSubmitted, Version: 1, Answers: r8.Answers}, r8)
	u9 := unit(9, "已撤销的单位", "county")
	u9.Removed = true
	r9 := report(u9, 1, -30)
	add(u9, nil, Draft{Status: StatusSubmitted, Version: 1, Answers: r9.Answers}, r9)
	return us
}

func TestOverviewStates(t *testing.T) {
	o := overviewFixture(t)
	tests := []struct {
		name      string
		state     State
		text      string
		submitted bool
	}{
		{"离石区双拥工作领导小组", StateSubmitted, "已提交第 1 版", true},
		{"孝义市双拥工作领导小组", StateSubmitted, "已提交第 2 版，修改中", true},
		{"汾阳市双拥工作领导小组", StateNoContact, "未绑定联系人", false},
		{"文水县双拥工作领导小组", StateNotStarted, "已绑定，未开始填写；联系人已屏蔽机器人", false},
		{"市财政局", StateFilling, "填写中 4/", false},
		{"市民政局", StateReturned, "退回修改（原因：慰问金数额有误）", false},
		{"市总工会", StateNotStarted, "已绑定，未开始填写", false},
		{"吕梁军分区", StateSubmitted, "已提交第 1 版", true},
	}
	if len(o.Units) != len(tests) {
		t.Fatalf("NewOverview kept %d units, want %d (the removed one dropped)", len(o.Units), len(tests))
	}
	for i, tt := range tests {
		u := &o.Units[i]
		if u.Unit.Name != tt.name {
			t.Fatalf("unit %d is %s, want %s (ID order)", i, u.Unit.Name, tt.name)
		}
		if u.State != tt.state || u.Submitted() != tt.submitted {
			t.Errorf("%s: state %d (submitted %v), want %d (%v)", tt.name, u.State, u.Submitted(), tt.state, tt.submitted)
		}
		if got := o.StateText(u); !strings.HasPrefix(got, tt.text) {
			t.Errorf("StateText(%s) = %q, want it to start with %q", tt.name, got, tt.text)
		}
	}
	n := o.Count()
	want := Count{Total: 8, Submitted: 3, Returned: 1, Filling: 1, NotStarted: 2, NoContact: 1, Unreachable: 1}
	if n != want {
		t.Errorf("Count() = %+v, want %+v", n, want)
	}
	if got := o.Newest(); got == nil || got.Unit.ID != 2 {
		t.Errorf("Newest() = %v, want unit 2 (submitted 3 hours before now)", got)
	}
}

func TestOverviewTotals(t *testing.T) {
	o := overviewFixture(t)
	tot := o.Totals()
	// The same sums as the engine's Campaign.Totals over the standing versions.
	var units []Unit
	var reports []Report
	for _, d := range overviewData(t) {
		units = append(units, d.Unit)
		if d.Latest != nil && d.Draft.Status != StatusReturned && !d.Unit.Removed {
			reports = append(reports, *d.Latest)
		}
	}
	if want := o.Campaign.Totals(units, reports); !reflect.DeepEqual(tot, want) {
		t.Errorf("Overview.Totals() = %+v\nwant Campaign.Totals() = %+v", tot, want)
	}
	want := map[string]int64{}
	byCat := map[string]map[string]int64{}
	for i := range o.Units {
		u := &o.Units[i]
		if !u.Submitted() {
			continue
		}
		if byCat[u.Unit.Category] == nil {
			byCat[u.Unit.Category] = map[string]int64{}
		}
		for _, q := range o.Campaign.NumberQuestions() {
			n, ok := o.Figure(u, q)
			if !ok {
				continue
			}
			want[q.ID] += n
			byCat[u.Unit.Category][q.ID] += n
		}
	}
	if tot.Reports != 3 {
		t.Errorf("Totals().Reports = %d, want 3 (returned and removed units do not count)", tot.Reports)
	}
	for _, q := range o.Campaign.NumberQuestions() {
		if tot.Sums[q.ID] != want[q.ID] {
			t.Errorf("Totals().Sums[%s] = %d, want %d", q.ID, tot.Sums[q.ID], want[q.ID])
		}
		for cat, sums := range byCat {
			if got := tot.ByCategory[cat].Sums[q.ID]; got != sums[q.ID] {
				t.Errorf("Totals().ByCategory[%s].Sums[%s] = %d, want %d", cat, q.ID, got, sums[q.ID])
			}
		}
	}
	if want["troop_visits"] == 0 || want["local_projects"] == 0 {
		t.Errorf("fixture sums troop_visits %d, local_projects %d: want both > 0 so the test means something", want["troop_visits"], want["local_projects"])
	}
}

func TestOverviewFigure(t *testing.T) {
	o := overviewFixture(t)
	c := o.Campaign
	data := overviewData(t)
	county, military := &o.Units[0], &o.Units[7]
	if _, ok := o.Figure(military, c.Question("troop_visits")); ok {
		t.Errorf("Figure(military, troop_visits) is set; the question does not apply to military units")
	}
	want := data[0].Latest.Answers["troop_visits"].Num
	if n, ok := o.Figure(county, c.Question("troop_visits")); !ok || n != want {
		t.Errorf("Figure(county, troop_visits) = %d, %v; want %d, true", n, ok, want)
	}
	if _, ok := o.Figure(&o.Units[5], c.Question("veteran_visits")); ok {
		t.Errorf("Figure(returned unit) is set; a returned version does not count")
	}
	if _, ok := o.Figure(county, c.Question("filler_name")); ok {
		t.Errorf("Figure(filler_name) is set; it is not a number question")
	}
}

func TestOverviewTexts(t *testing.T) {
	o := overviewFixture(t)
	data := overviewData(t)
	county, military := &o.Units[0], &o.Units[7]
	text := func(u *UnitOverview, r *Report, id string) string {
		t.Helper()
		i := slices.IndexFunc(o.TextQuestions(), func(q *Question) bool { return q.ID == id })
		if i < 0 {
			t.Fatalf("TextQuestions lacks %s", id)
		}
		return o.Texts(u, *r)[i]
	}
	if got, want := text(county, data[0].Latest, "filler_name"), data[0].Latest.Answers["filler_name"].Text; got != want {
		t.Errorf("Texts(county)[filler_name] = %q, want %q", got, want)
	}
	if got := text(county, data[0].Latest, "help_kinds"); got != "" {
		t.Errorf("Texts(county)[help_kinds] = %q; the question does not apply to counties", got)
	}
	if got := text(military, data[7].Latest, "photos"); !strings.HasSuffix(got, "张") {
		t.Errorf("Texts(military)[photos] = %q, want FormatAnswer's count of photos", got)
	}
	skipped := *data[7].Latest
	skipped.Answers = maps.Clone(skipped.Answers)
	skipped.Answers["highlights"] = Answer{Skipped: true}
	if got := text(military, &skipped, "highlights"); got != "" {
		t.Errorf("Texts()[highlights] of a skipped answer = %q, want empty", got)
	}
	for _, q := range o.TextQuestions() {
		if q.IsNumber() {
			t.Errorf("TextQuestions has number question %s", q.ID)
		}
	}
}

func TestSummaryText(t *testing.T) {
	o := overviewFixture(t)
	got := SummaryText(o)
	checkGolden(t, "overview-summary", got)
	for _, want := range []string{"已提交：3 / 8 个单位（37.5%）", "退回修改：1 个 — 市民政局", "尚未绑定联系人：1 个 — 汾阳市双拥工作领导小组", "联系人已屏蔽机器人：1 个 — 文水县双拥工作领导小组", "最新提交：孝义市双拥工作领导小组"} {
		if !strings.Contains(got, want) {
			t.Errorf("SummaryText() lacks %q:\n%s", want, got)
		}
	}
}

func TestPendingText(t *testing.T) {
	o := overviewFixture(t)
	got := PendingText(o, 3*MaxMessageLen)
	checkGolden(t, "overview-pending", got)
	for _, name := range []string{"汾阳市", "文水县", "市财政局", "市民政局", "市总工会"} {
		if !strings.Contains(got, name) {
			t.Errorf("PendingText() lacks pending unit %s", name)
		}
	}
	for _, name := range []string{"离石区", "孝义市", "吕梁军分区", "已撤销"} {
		if strings.Contains(got, name) {
			t.Errorf("PendingText() lists %s, which is submitted or removed", name)
		}
	}
}

// manyUnits is an overview of n units: every third submitted, the rest
// mostly unbound, with long names.
func manyUnits(n int) *Overview {
	c := DefaultCampaign()
	us := make([]UnitData, n)
	cats := []string{"county", "department", "organization", "enterprise", "military"}
	for i := range us {
		u := Unit{ID: int64(i + 1), Name: fmt.Sprintf("吕梁市某某县某某乡镇双拥工作领导小组第%05d号", i+1), Category: cats[i%len(cats)]}
		us[i] = UnitData{Unit: u, Draft: Draft{UnitID: u.ID}}
		switch i % 3 {
		case 0:
			r := &Report{UnitID: u.ID, Version: 1, SubmittedAt: beforeDeadline, Answers: sampleAnswers(c, u.Category, uint64(i))}
			us[i].Latest = r
			us[i].Draft = Draft{UnitID: u.ID, Status: StatusSubmitted, Version: 1, Answers: r.Answers}
			us[i].Contacts = []Contact{{UserID: u.ID, UnitID: u.ID}}
		case 1:
			us[i].Contacts = []Contact{{UserID: u.ID, UnitID: u.ID, Unreachable: i%2 == 0}}
		}
	}
	return NewOverview(c, c.Deadline, beforeDeadline, us)
}

func TestSummaryTextFitsOneMessage(t *testing.T) {
	for _, n := range []int{200, 10000} {
		got := SummaryText(manyUnits(n))
		if l := utf16Len(got); l > MaxMessageLen {
			t.Errorf("SummaryText(%d units) is %d UTF-16 units, want ≤ %d", n, l, MaxMessageLen)
		}
		if !strings.Contains(got, "另有") || !strings.Contains(got, "/export") {
			t.Errorf("SummaryText(%d units) cut a list without saying how many more and pointing to /export:\n%s", n, got)
		}
		if !strings.Contains(got, "主要数据合计") {
			t.Errorf("SummaryText(%d units) lost the totals", n)
		}
	}
}

func TestPendingTextLimit(t *testing.T) {
	o := manyUnits(10000)
	limit := 3 * MaxMessageLen
	got := PendingText(o, limit)
	if l := utf16Len(got); l > limit {
		t.Errorf("PendingText(10000 units, %d) is %d UTF-16 units", limit, l)
	}
	if !strings.Contains(got, "另有") || !strings.Contains(got, "/export") {
		t.Errorf("PendingText(10000 units) cut the list without saying how many more and pointing to /export")
	}
}

func TestSummaryTextNoUnits(t *testing.T) {
	c := DefaultCampaign()
	o := NewOverview(c, c.Deadline, afterDeadline, nil)
	if got := SummaryText(o); !strings.Contains(got, "还没有任何填报单位") || !strings.Contains(got, "已过截止时间") {
		t.Errorf("SummaryText(no units, after deadline) = %q", got)
	}
	if got := PendingText(o, MaxMessageLen); !strings.Contains(got, "还没有任何填报单位") {
		t.Errorf("PendingText(no units) = %q", got)
	}
}

func TestUntilText(t *testing.T) {
	d := time.Date(2022, 2, 10, 18, 0, 0, 0, shanghai)
	tests := []struct {
		now  time.Time
		want string
	}{
		{d.Add(-7*24*time.Hour - 3*time.Hour), "还有 7 天 3 小时"},
		{d.Add(-2 * 24 * time.Hour), "还有 2 天"},
		{d.Add(-5 * time.Hour), "还有 5 小时"},
		{d.Add(-10 * time.Minute), "还有 10 分钟"},
		{d.Add(26 * time.Hour), "已过截止时间 1 天 2 小时"},
	}
	for _, tt := range tests {
		if got := untilText(d, tt.now); got != tt.want {
			t.Errorf("untilText(deadline, %v) = %q, want %q", tt.now, got, tt.want)
		}
	}
}

// TestOverviewUnreachableSubmitted: a unit that has submitted is not among
// those to phone, even if its contact blocked the bot since.
func TestOverviewUnreachableSubmitted(t *testing.T) {
	c := DefaultCampaign()
	u := Unit{ID: 1, Name: "吕梁军分区", Category: "military"}
	r := &Report{UnitID: 1, Version: 1, SubmittedAt: beforeDeadline, Answers: sampleAnswers(c, "military", 1)}
	o := NewOverview(c, c.Deadline, beforeDeadline, []UnitData{{
		Unit: u, Latest: r, Contacts: []Contact{{UserID: 9, UnitID: 1, Unreachable: true}},
		Draft: Draft{UnitID: 1, Status: StatusSubmitted, Version: 1, Answers: r.Answers},
	}})
	if n := o.Count(); n.Unreachable != 0 || n.Submitted != 1 {
		t.Errorf("Count() = %+v, want 1 submitted and none unreachable", n)
	}
	if s := SummaryText(o); strings.Contains(s, "屏蔽") {
		t.Errorf("SummaryText lists a submitted unit as unreachable:\n%s", s)
	}
}
