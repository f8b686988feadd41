package sheet

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reportbot/flows"
	"reportbot/flows/flowstest"
)

// nextYear is the default campaign a year on, naming it as previous:
// essays renamed theme_essays (same_as: essays), columns renamed
// new_columns without same_as (so it has no figure last year).
func nextYear(t testing.TB) *flows.Campaign {
	t.Helper()
	y := string(flows.DefaultCampaignYAML())
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
	c, err := flows.ParseCampaign([]byte(y))
	if err != nil {
		t.Fatalf("ParseCampaign(next year): %v", err)
	}
	return c
}

// compared is an overview of next year's campaign with last year's set:
//   - unit 1 (离石区) stands both years; troop_visits 3000 after 120,
//     confirmed as an outlier; essays 0 last year;
//   - unit 2 (孝义市) stands this year only;
//   - unit 3 (市财政局) stands both years, revising; films skipped last year;
//   - unit 6 (吕梁军分区) stands both years;
//   - unit 4 (市民政局) stood last year, is filling in this year.
func compared(t testing.TB) (o *flows.Overview, cur, prev map[int64]flows.UnitData) {
	t.Helper()
	c, pc := nextYear(t), flows.DefaultCampaign()
	unit := func(id int64, name, cat string) flows.Unit { return flows.Unit{ID: id, Name: name, Category: cat} }
	units := []flows.Unit{unit(1, "离石区双拥工作领导小组", "county"), unit(2, "孝义市双拥工作领导小组", "county"),
		unit(3, "市财政局", "department"), unit(4, "市民政局", "department"), unit(6, "吕梁军分区", "military")}
	submitted := func(c *flows.Campaign, u flows.Unit, version int, at time.Time, seed uint64) flows.UnitData {
		r := &flows.Report{UnitID: u.ID, Version: version, Receipt: c.ReceiptNumber(u.ID, version), SubmittedAt: at, Answers: flowstest.SampleAnswers(c, u.Category, seed)}
		return flows.UnitData{Unit: u, Latest: r,
			Contacts: []flows.Contact{{UserID: 100 + u.ID, UnitID: u.ID, Name: "联系人"}},
			Draft:    flows.Draft{UnitID: u.ID, Status: flows.StatusSubmitted, Version: version, Answers: r.Answers, SubmittedAt: at, UpdatedAt: at}}
	}
	cur, prev = map[int64]flows.UnitData{}, map[int64]flows.UnitData{}
	for _, u := range units {
		if u.ID != 2 {
			prev[u.ID] = submitted(pc, u, 1, now.AddDate(-1, 0, 0), uint64(u.ID)+50)
		}
		if u.ID != 4 {
			cur[u.ID] = submitted(c, u, 1, now.Add(-time.Duration(u.ID)*time.Hour), uint64(u.ID))
		}
	}
	cur[1].Latest.Answers["troop_visits"] = flows.Answer{Num: 3000}
	cur[1].Latest.Outliers = []string{"troop_visits"}
	prev[1].Latest.Answers["troop_visits"] = flows.Answer{Num: 120}
	prev[1].Latest.Answers["essays"] = flows.Answer{Num: 0}
	prev[3].Latest.Answers["films"] = flows.Answer{Skipped: true}
	d3 := cur[3]
	d3.Draft.Status = flows.StatusRevising
	cur[3] = d3
	cur[4] = flows.UnitData{Unit: units[3], Contacts: []flows.Contact{{UserID: 104, UnitID: 4, Name: "陈卫东"}},
		Draft: flows.Draft{UnitID: 4, Status: flows.StatusFilling, Cursor: "essays", UpdatedAt: now.Add(-time.Hour)}}

	list := func(m map[int64]flows.UnitData) []flows.UnitData {
		var ds []flows.UnitData
		for _, d := range m {
			ds = append(ds, d)
		}
		return ds
	}
	o = flows.NewOverview(c, c.Deadline, now, list(cur))
	o.SetPrevious(flows.NewOverview(pc, pc.Deadline, now.AddDate(-1, 0, 0), list(prev)))
	return o, cur, prev
}

// wantPct is an expected 增减% cell: the fraction it holds.
type wantPct float64

// prevFigure is what last year's report of d says for q of this year's
// campaign c, computed here from the answers: through same_as, blank when
// the question was not there, did not apply or was skipped.
func prevFigure(c, pc *flows.Campaign, d flows.UnitData, ok bool, q *flows.Question) any {
	if !ok {
		return blank{}
	}
	id := q.ID
	if q.SameAs != "" {
		id = q.SameAs
	}
	pq := pc.Question(id)
	if pq == nil {
		return blank{}
	}
	return figure(pc, d, pq)
}

// num is an expected figure cell's number; ok is false for a blank.
func num(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case wantMoney:
		return int64(v), true
	}
	return 0, false
}

// wantChange is the expected 增减% cell from last year's p to this year's v.
func wantChange(p, v any) any {
	pn, pok := num(p)
	vn, vok := num(v)
	if !pok || !vok || pn == 0 {
		return nil
	}
	return wantPct(float64(vn-pn) / float64(pn))
}

func sumOf(q *flows.Question, sums map[string]int64) any { return sumCell(q, sums[q.ID]) }

// checkPct checks the 增减% cells of a row (checkRow checks the rest).
func checkPct(t *testing.T, f *excelize.File, sheet string, row int, want []any) {
	t.Helper()
	for i, w := range want {
		p, ok := w.(wantPct)
		if !ok {
			continue
		}
		ref := cell(i+1, row)
		got, _ := f.GetCellValue(sheet, ref)
		v, err := strconv.ParseFloat(got, 64)
		if err != nil || math.Abs(v-float64(p)) > 1e-9 {
			t.Errorf("%s!%s = %q, want the fraction %v", sheet, ref, got, float64(p))
		}
		id, _ := f.GetCellStyle(sheet, ref)
		st, _ := f.GetStyle(id)
		if st == nil || st.CustomNumFmt == nil || *st.CustomNumFmt != fmtPercent {
			t.Errorf("%s!%s has style %+v, want the number format %q", sheet, ref, st, fmtPercent)
		}
	}
}

// checkRowPct is checkRow with 增减% cells: their value and format.
func checkRowPct(t *testing.T, f *excelize.File, sheet string, row int, want []any) {
	t.Helper()
	plain := slices.Clone(want)
	for i, w := range plain {
		if _, ok := w.(wantPct); ok {
			plain[i] = wantAny{}
		}
	}
	checkRow(t, f, sheet, row, plain)
	checkPct(t, f, sheet, row, want)
}

func TestWriteXLSXCompareSummary(t *testing.T) {
	o, cur, prev := compared(t)
	c, pc := o.Campaign, o.PreviousCampaign()
	f := openXLSX(t, o, cur)
	if got := f.GetSheetList(); !slices.Equal(got, []string{SheetSummary, SheetCompare, SheetTexts, SheetPending}) {
		t.Fatalf("sheets = %v", got)
	}
	checkRow(t, f, SheetSummary, 2, []any{"文号：吕拥办电〔2021〕4号　　截止时间：2023年2月10日 18:00　　“上年”为同一单位在“" + pc.Title + "”中提交的数据；黄色底纹为填报人已确认的异常数据"})

	numbers := c.NumberQuestions()
	titles := []any{"序号", "单位名称", "类别", "联系人", "提交时间", "版本", "回执编号", "状态"}
	for _, q := range numbers {
		titles = append(titles, q.Title(), "上年", "增减%")
	}
	checkRow(t, f, SheetSummary, 5, titles)
	// Section titles span a section's figures with their 上年 and 增减%.
	sections, _ := f.GetRows(SheetSummary)
	if got, want := sections[3][8], numbers[0].Section.Title; got != want {
		t.Errorf("%s!I4 = %q, want %q", SheetSummary, got, want)
	}
	merged, _ := f.GetMergeCells(SheetSummary)
	var spans []string
	for _, m := range merged {
		if strings.HasSuffix(m.GetStartAxis(), "4") && m.GetStartAxis() != m.GetEndAxis() && m.GetStartAxis() >= "I" {
			spans = append(spans, m.GetStartAxis()+":"+m.GetEndAxis())
		}
	}
	nfirst := 0
	for _, q := range numbers {
		if q.Section == numbers[0].Section {
			nfirst++
		}
	}
	if want := "I4:" + cell(8+3*nfirst, 4); !slices.Contains(spans, want) {
		t.Errorf("merged section titles %v, want %s (the first section's %d figures × 3)", spans, want, nfirst)
	}

	groups := []struct {
		name  string
		units []int64
	}{
		{"县（市、区）双拥工作领导小组", []int64{1, 2}},
		{"市直单位", []int64{3}},
		{"驻吕部队", []int64{6}},
	}
	row, n := 6, int64(0)
	total, ptotal := map[string]int64{}, map[string]int64{}
	for _, g := range groups {
		sub, psub := map[string]int64{}, map[string]int64{}
		for _, id := range g.units {
			u := cur[id]
			n++
			state := "已提交"
			if id == 3 {
				state = "已提交，修改中"
			}
			want := []any{n, u.Unit.Name, g.name, "联系人", u.Latest.SubmittedAt.In(shanghai).Format("2006-01-02 15:04"), int64(1), u.Latest.Receipt, state}
			pd, hasPrev := prev[id]
			for _, q := range numbers {
				v := figure(c, u, q)
				p := prevFigure(c, pc, pd, hasPrev, q)
				want = append(want, v, p, wantChange(p, v))
				if x, ok := num(v); ok {
					sub[q.ID] += x
				}
				if x, ok := num(p); ok {
					psub[q.ID] += x
				}
			}
			checkRowPct(t, f, SheetSummary, row, want)
			row++
		}
		want := []any{nil, fmt.Sprintf("小计（%d 个单位）", len(g.units)), g.name, nil, nil, nil, nil, nil}
		for _, q := range numbers {
			want = append(want, sumOf(q, sub), sumOf(q, psub), wantChange(sumOf(q, psub), sumOf(q, sub)))
			total[q.ID] += sub[q.ID]
			ptotal[q.ID] += psub[q.ID]
		}
		checkRowPct(t, f, SheetSummary, row, want)
		row++
	}
	want := []any{nil, "合计（4 个单位）", "全部", nil, nil, nil, nil, nil}
	for _, q := range numbers {
		want = append(want, sumOf(q, total), sumOf(q, ptotal), wantChange(sumOf(q, ptotal), sumOf(q, total)))
	}
	checkRowPct(t, f, SheetSummary, row, want)
	if rows, _ := f.GetRows(SheetSummary); len(rows) != row {
		t.Errorf("%s has %d rows, want %d", SheetSummary, len(rows), row)
	}
}
