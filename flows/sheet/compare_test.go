package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
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
	switch {
	case pq == nil:
		return blank{}
	case d.Latest == nil:
		return nil // the question was there: see prevSumOf
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

// prevSumOf is an expected sum of last year's: blank for a question that
// was not there.
func prevSumOf(pc *flows.Campaign, q *flows.Question, sums map[string]int64) any {
	if _, gone := prevFigure(nil, pc, flows.UnitData{}, true, q).(blank); gone {
		return blank{}
	}
	return sumCell(q, sums[q.ID])
}

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
			want = append(want, sumOf(q, sub), prevSumOf(pc, q, psub), wantChange(prevSumOf(pc, q, psub), sumOf(q, sub)))
			total[q.ID] += sub[q.ID]
			ptotal[q.ID] += psub[q.ID]
		}
		checkRowPct(t, f, SheetSummary, row, want)
		row++
	}
	want := []any{nil, "合计（4 个单位）", "全部", nil, nil, nil, nil, nil}
	for _, q := range numbers {
		want = append(want, sumOf(q, total), prevSumOf(pc, q, ptotal), wantChange(prevSumOf(pc, q, ptotal), sumOf(q, total)))
	}
	checkRowPct(t, f, SheetSummary, row, want)
	if rows, _ := f.GetRows(SheetSummary); len(rows) != row {
		t.Errorf("%s has %d rows, want %d", SheetSummary, len(rows), row)
	}
}

// fillOf is the fill colour of a cell ("" for none).
func fillOf(t *testing.T, f *excelize.File, sheet, ref string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatalf("GetCellStyle(%s!%s): %v", sheet, ref, err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Fill.Color) == 0 {
		return ""
	}
	return strings.ToUpper(st.Fill.Color[0])
}

// TestWriteXLSXCompareMarks: the confirmed outlier (unit 1's 3,000
// troop visits after 120) is filled and carries a comment saying how far
// it is from last year; no other figure is marked.
func TestWriteXLSXCompareMarks(t *testing.T) {
	o, cur, _ := compared(t)
	f := openXLSX(t, o, cur)
	numbers := o.Campaign.NumberQuestions()
	k := slices.IndexFunc(numbers, func(q *flows.Question) bool { return q.ID == "troop_visits" })
	ref := cell(9+3*k, 6) // unit 1 is row 6
	row := slices.Repeat([]any{wantAny{}}, 8+3*len(numbers))
	row[8+3*k], row[9+3*k], row[10+3*k] = int64(3000), int64(120), wantPct(24)
	checkRowPct(t, f, SheetSummary, 6, row)
	comments, err := f.GetComments(SheetSummary)
	if err != nil {
		t.Fatalf("GetComments(%s): %v", SheetSummary, err)
	}
	if len(comments) != 1 || comments[0].Cell != ref || commentText(comments[0]) != "已确认：比上年增加约 24 倍" {
		t.Errorf("%s comments = %+v, want one on %s: 已确认：比上年增加约 24 倍", SheetSummary, comments, ref)
	}
	rows, _ := f.GetRows(SheetSummary)
	for r := headerRows + 1; r <= len(rows); r++ {
		for col := 9; col <= 8+3*len(numbers); col++ {
			got, want := fillOf(t, f, SheetSummary, cell(col, r)), ""
			if cell(col, r) == ref {
				want = "FFEB9C"
			}
			if want == "" && got == "FFEB9C" || want != "" && got != want {
				t.Errorf("%s!%s is filled %q, want %q", SheetSummary, cell(col, r), got, want)
			}
		}
	}
}

// commentText is a comment's text, whether kept whole or in runs.
func commentText(c excelize.Comment) string {
	var b strings.Builder
	for _, r := range c.Paragraph {
		b.WriteString(r.Text)
	}
	if b.Len() == 0 {
		return c.Text
	}
	// excelize reads the author back as the first run ("author:").
	s := b.String()
	if i := strings.Index(s, "已确认"); i >= 0 {
		return s[i:]
	}
	return s
}

// TestWriteXLSXCompareSheet checks 与上年对比 cell by cell against the
// changes computed here from the reports.
func TestWriteXLSXCompareSheet(t *testing.T) {
	o, cur, prev := compared(t)
	c, pc := o.Campaign, o.PreviousCampaign()
	f := openXLSX(t, o, cur)
	checkRow(t, f, SheetCompare, 2, []any{"序号", "单位名称", "类别", "指标", "上年", "本年", "增减", "增减%", "已确认"})

	type want struct {
		unit      int64
		q         *flows.Question
		prev, cur int64
		factor    float64
	}
	var wants []want
	for _, id := range []int64{1, 2, 3, 6} {
		pd, ok := prev[id]
		for _, q := range c.NumberQuestions() {
			v, vok := num(figure(c, cur[id], q))
			p, pok := num(prevFigure(c, pc, pd, ok, q))
			if !vok || !pok {
				continue
			}
			floor := int64(10)
			if q.Type == flows.TypeMoney {
				floor = 1000
			}
			factor := float64(max(v, p, floor)) / float64(max(min(v, p), floor))
			if factor > 1 {
				wants = append(wants, want{id, q, p, v, factor})
			}
		}
	}
	// Largest factor first, then by unit, then in form order.
	slices.SortStableFunc(wants, func(a, b want) int {
		switch {
		case a.factor > b.factor:
			return -1
		case a.factor < b.factor:
			return 1
		}
		return int(a.unit - b.unit)
	})
	if len(wants) < 10 || wants[0].unit != 1 || wants[0].q.ID != "troop_visits" {
		t.Fatalf("the fixture's changes: %d, the largest %+v; want unit 1's troop_visits first of at least 10", len(wants), wants[0])
	}
	note, _ := f.GetCellValue(SheetCompare, "A1")
	if wantNote := fmt.Sprintf("本年与上年（%s）同一单位数据对比：列出变化最大的 %d 项", pc.Title, len(wants)); !strings.HasPrefix(note, wantNote) {
		t.Errorf("%s!A1 = %q, want it to start %q", SheetCompare, note, wantNote)
	}
	names := map[int64]string{1: "离石区双拥工作领导小组", 2: "孝义市双拥工作领导小组", 3: "市财政局", 6: "吕梁军分区"}
	cats := map[int64]string{1: "县市区", 2: "县市区", 3: "市直", 6: "部队"}
	for i, w := range wants {
		row := 3 + i
		mark := any(nil)
		if w.unit == 1 && w.q.ID == "troop_visits" {
			mark = "已确认"
		}
		cells := []any{int64(i + 1), names[w.unit], cats[w.unit], w.q.Title(), sumCell(w.q, w.prev), sumCell(w.q, w.cur), wantAny{}, wantChange(sumCell(w.q, w.prev), sumCell(w.q, w.cur)), mark}
		if w.prev == 0 {
			cells[7] = nil
		}
		checkRowPct(t, f, SheetCompare, row, cells)
		delta, _ := f.GetCellValue(SheetCompare, cell(7, row))
		if d, _ := strconv.ParseFloat(delta, 64); math.Abs(d-float64(w.cur-w.prev)/map[bool]float64{true: 100, false: 1}[w.q.Type == flows.TypeMoney]) > 1e-9 {
			t.Errorf("%s!G%d = %q, want %d − %d", SheetCompare, row, delta, w.cur, w.prev)
		}
	}
	if rows, _ := f.GetRows(SheetCompare); len(rows) != 2+len(wants) {
		t.Errorf("%s has %d rows, want %d", SheetCompare, len(rows), 2+len(wants))
	}
	if got := fillOf(t, f, SheetCompare, "F3"); got != "FFEB9C" {
		t.Errorf("%s!F3 (the confirmed outlier) is filled %q, want FFEB9C", SheetCompare, got)
	}
}

// TestWriteXLSXComparePrint checks the print setup beside last year's:
// 汇总表 at one scale, section by section, each page no wider than A3
// landscape; 与上年对比 on A4 landscape like the other lists.
func TestWriteXLSXComparePrint(t *testing.T) {
	o, texts := rosterCompared(t)
	f, data := writeForPrint(t, o, texts)
	checkPrint(t, f, data, SheetCompare, Print{Paper: PaperA4, Landscape: true, TitleRows: 2})
	checkWidths(t, f, SheetCompare, 2)
	for _, sheet := range []string{SheetTexts, SheetPending} {
		checkPrint(t, f, data, sheet, Print{Paper: PaperA4, Landscape: true, TitleRows: 1})
	}

	layout, err := f.GetPageLayout(SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	scale := int(deref(layout.AdjustTo).(uint))
	if *layout.Size != int(PaperA3) || *layout.Orientation != "landscape" || scale < minScale || scale > 100 {
		t.Errorf("%s prints on paper %d %s at %d%%, want A3 landscape at %d%% to 100%%", SheetSummary, *layout.Size, *layout.Orientation, scale, minScale)
	}
	if props, _ := f.GetSheetProps(SheetSummary); props.FitToPage != nil && *props.FitToPage {
		t.Errorf("%s fits to page, want its scale", SheetSummary)
	}
	rows, _ := f.GetRows(SheetSummary)
	last := 8 + 3*len(o.Campaign.NumberQuestions())
	names := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		if dn.Scope == SheetSummary {
			names[dn.Name] = dn.RefersTo
		}
	}
	if want := "'汇总表'!$A:$B,'汇总表'!$4:$5"; names["_xlnm.Print_Titles"] != want {
		t.Errorf("%s print titles %q, want %q", SheetSummary, names["_xlnm.Print_Titles"], want)
	}
	lastName, _ := excelize.ColumnNumberToName(last)
	if want := fmt.Sprintf("'汇总表'!$A$4:$%s$%d", lastName, len(rows)); names["_xlnm.Print_Area"] != want {
		t.Errorf("%s print area %q, want %q", SheetSummary, names["_xlnm.Print_Area"], want)
	}
	if hf, _ := f.GetHeaderFooter(SheetSummary); hf == nil || !strings.Contains(hf.OddHeader, o.Campaign.Title) || !strings.Contains(hf.OddHeader, "已提交 28 / 37 个单位") {
		t.Errorf("%s page header %+v, want the title and the progress", SheetSummary, hf)
	}

	// The column breaks: at the start of a figure, each page (序号 and
	// 单位名称 repeated, then its columns) no wider than the paper.
	tb := newTable(o, texts)
	cols, p, err := tb.summaryLayout()
	if err != nil {
		t.Fatal(err)
	}
	sheetXML := readZip(t, data, "xl/worksheets/sheet1.xml")
	for _, col := range p.ColBreaks {
		if !strings.Contains(sheetXML, fmt.Sprintf(`<brk id="%d"`, col-1)) {
			t.Errorf("%s has no page break before column %d", SheetSummary, col)
		}
	}
	if len(p.ColBreaks) < 3 {
		t.Errorf("%s breaks before columns %v: want a page at least for each of the 4 sections", SheetSummary, p.ColBreaks)
	}
	room := a3Points * 100 / float64(p.Scale)
	starts := append([]int{1}, p.ColBreaks...)
	for i, from := range starts {
		to := last
		if i+1 < len(starts) {
			to = starts[i+1] - 1
		}
		w := 0.0
		if i > 0 {
			w = columnPoints(cols.Width(1)) + columnPoints(cols.Width(2))
			if (from-9)%3 != 0 {
				t.Errorf("page break before column %d: inside a figure's three columns", from)
			}
		}
		for col := from; col <= to; col++ {
			w += columnPoints(cols.Width(col))
		}
		if w > room {
			t.Errorf("columns %d to %d print %.0f pt wide at %d%%, more than the %.0f pt of the page", from, to, w, p.Scale, room)
		}
	}
}

// zipParts are the parts of a workbook file by name.
func zipParts(t *testing.T, data []byte) map[string]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{}
	for _, f := range z.File {
		parts[f.Name] = readZip(t, data, f.Name)
	}
	return parts
}

// readZip reads a part of a workbook file.
func readZip(t *testing.T, data []byte, name string) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := z.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWriteCSVCompare: the CSV has the 上年 and 增减% columns too.
func TestWriteCSVCompare(t *testing.T) {
	o, cur, prev := compared(t)
	c := o.Campaign
	var buf bytes.Buffer
	if err := WriteCSV(&buf, o, textsOf(o, cur)); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	k := slices.Index(header, "走访慰问驻吕部队（次）")
	if k < 0 || header[k+1] != "上年" || header[k+2] != "增减%" {
		t.Fatalf("CSV header %q: want 走访慰问驻吕部队（次）, 上年, 增减%%", header)
	}
	u1 := recs[1]
	if got := u1[k : k+3]; !slices.Equal(got, []string{"3000", "120", "2400.0%"}) {
		t.Errorf("CSV unit 1 troop visits = %q, want 3000, 120, 2400.0%%", got)
	}
	cash := slices.Index(header, "发放慰问金（万元）")
	want := []string{flows.FormatMoney(cur[1].Latest.Answers["veteran_cash"].Num), flows.FormatMoney(prev[1].Latest.Answers["veteran_cash"].Num)}
	if got := u1[cash : cash+2]; cash < 0 || !slices.Equal(got, want) {
		t.Errorf("CSV unit 1 veteran cash = %q, want %q", got, want)
	}
	if n := len(header); n != 8+3*len(c.NumberQuestions())+len(o.TextQuestions()) {
		t.Errorf("CSV has %d columns", n)
	}
}

// TestCompareLimit: of many changes, 与上年对比 lists the compareLimit
// largest, largest first, and every confirmed outlier however small.
func TestCompareLimit(t *testing.T) {
	o, texts := bigCompared(t, 1000)
	// Unit 201 confirms a small change: listed although not among the largest.
	u := &o.Units[200]
	u.Outliers = append(u.Outliers, "films")
	cs := newTable(o, texts).changes()
	confirmed := 0
	for i, c := range cs {
		if i > 0 && i < compareLimit && c.factor > cs[i-1].factor {
			t.Errorf("change %d (factor %.2f) after one of factor %.2f", i+1, c.factor, cs[i-1].factor)
		}
		if i >= compareLimit && !c.confirmed {
			t.Errorf("change %d of unit %d is beyond the limit %d and not confirmed", i+1, c.u.Unit.ID, compareLimit)
		}
		if c.confirmed {
			confirmed++
		}
	}
	// bigCompared: every 100th unit confirmed theme_essays.
	if confirmed != 10+1 {
		t.Errorf("%d confirmed outliers listed, want 11", confirmed)
	}
	if len(cs) <= compareLimit || cs[len(cs)-1].u != u {
		t.Errorf("%d changes listed, the last of unit %d; want more than %d, the last unit 201's films", len(cs), cs[len(cs)-1].u.Unit.ID, compareLimit)
	}
}

// TestCellWidth: cellWidth measures what cellText shows.
func TestCellWidth(t *testing.T) {
	for _, v := range []any{nil, blank{}, int64(0), int64(7), int64(-12), int64(3000), money(0), money(5), money(-5), money(123456),
		pct(0), pct(0.1666), pct(-0.0300001), pct(24), pct(-1), pct(-0.00001), diff{n: 2880}, diff{n: -47}, diff{n: -5, money: true}, diff{n: 12345, money: true},
		marked{v: int64(3000)}, marked{v: money(4500)}, "市财政局", "abc"} {
		if got, want := cellWidth(v), DisplayWidth(cellText(v)); got != want {
			t.Errorf("cellWidth(%#v) = %d, want %d (%q)", v, got, want, cellText(v))
		}
	}
}

// TestWriteXLSXWithoutPrevious: an overview whose comparison is removed
// (SetPrevious(nil)) writes the very workbook of one that never had it.
func TestWriteXLSXWithoutPrevious(t *testing.T) {
	o, cur, _ := compared(t)
	write := func(o *flows.Overview) []byte {
		var buf bytes.Buffer
		if err := WriteXLSX(&buf, o, textsOf(o, cur)); err != nil {
			t.Fatalf("WriteXLSX: %v", err)
		}
		return buf.Bytes()
	}
	with := write(o)
	o.SetPrevious(nil)
	without := write(o)
	var ds []flows.UnitData
	for _, d := range cur {
		ds = append(ds, d)
	}
	fresh := write(flows.NewOverview(o.Campaign, o.Deadline, o.Now, ds))
	// Part by part: the zip's own entries carry the time of writing.
	a, b := zipParts(t, without), zipParts(t, fresh)
	if !maps.Equal(a, b) {
		for name := range b {
			if a[name] != b[name] {
				t.Errorf("%s after SetPrevious(nil) differs from one never compared", name)
			}
		}
	}
	// Nor does it define the comparison's styles (the cells' style ids
	// would shift).
	for _, style := range []string{"FFEB9C", fmtPercent, fmtDiffInt} {
		if strings.Contains(b["xl/styles.xml"], style) {
			t.Errorf("the workbook without last year's defines the style %q", style)
		}
	}
	if maps.Equal(zipParts(t, with), b) {
		t.Errorf("the workbook beside last year's is the same as without")
	}
}

// TestWriteXLSXCompareNothing: beside a last year where no unit reported,
// the columns are there but blank, and 与上年对比 says there is nothing.
func TestWriteXLSXCompareNothing(t *testing.T) {
	o, cur, _ := compared(t)
	pc := flows.DefaultCampaign()
	o.SetPrevious(flows.NewOverview(pc, pc.Deadline, now, nil))
	// The confirmed outlier is listed all the same, without last year's.
	f := openXLSX(t, o, cur)
	checkRow(t, f, SheetCompare, 3, []any{int64(1), "离石区双拥工作领导小组", "县市区", "走访慰问驻吕部队（次）", nil, int64(3000), nil, nil, "已确认"})
	if rows, _ := f.GetRows(SheetCompare); len(rows) != 3 {
		t.Errorf("%s has %d rows, want the note, the titles and the confirmed outlier", SheetCompare, len(rows))
	}
	for i := range o.Units {
		o.Units[i].Outliers = nil
	}
	f = openXLSX(t, o, cur)
	note, _ := f.GetCellValue(SheetCompare, "A1")
	if !strings.Contains(note, "没有变化明显的数据") {
		t.Errorf("%s!A1 = %q, want it to say there is nothing", SheetCompare, note)
	}
	if rows, _ := f.GetRows(SheetCompare); len(rows) != 2 {
		t.Errorf("%s has %d rows, want the note and the titles", SheetCompare, len(rows))
	}
	rows, _ := f.GetRows(SheetSummary)
	for k, q := range o.Campaign.NumberQuestions() {
		prev, _ := f.GetCellValue(SheetSummary, cell(10+3*k, len(rows)))
		change, _ := f.GetCellValue(SheetSummary, cell(11+3*k, len(rows)))
		if want := map[bool]string{true: "0", false: ""}[o.PreviousQuestion(q) != nil]; prev != want && !(want == "0" && prev == "0.00") {
			t.Errorf("%s 合计 上年 of %s = %q, want %q", SheetSummary, q.ID, prev, want)
		}
		if change != "" {
			t.Errorf("%s 合计 增减%% of %s = %q, want empty (last year 0)", SheetSummary, q.ID, change)
		}
	}
}
