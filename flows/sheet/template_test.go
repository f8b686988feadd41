package sheet

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reportbot/flows"
)

var regenTemplateFixtures = flag.Bool("regen-template-fixtures", false,
	"rewrite ../testdata/template/ (the workbooks saved by LibreOffice; needs soffice)")

// tplFixtures holds workbooks written by other programs than excelize.
const tplFixtures = "../testdata/template"

var tplDeadline = "2022年2月10日 18:00"

// tplValues are what a contact types into the answer cells: numbers as
// numbers, a count with its measure word as text (the chat takes 12篇 too),
// a phone typed as a number, texts. Each also as the chat gets it.
type tplValue struct {
	cell any    // what goes into the cell (int, float64, string)
	chat string // the same answer typed in the chat
}

var tplValues = map[string]tplValue{
	"filler_name": {"王晓明", "王晓明"}, "filler_phone": {13912345678, "13912345678"},
	"essays": {"12篇", "12篇"}, "columns": {4, "4"}, "films": {0, "0"}, "new_media_posts": {36, "36"},
	"outdoor_screens": {5, "5"}, "model_events": {3, "3"}, "merit_notices": {20, "20"}, "honor_plaques": {150, "150"},
	"troop_visits": {6, "6"}, "troop_cash": {12.5, "12.5"}, "troop_goods": {3.25, "3.25"}, "joint_tasks": {8, "8"},
	"exercise_support": {2, "2"}, "frontier_families": {11, "11"},
	"local_projects": {3, "3"}, "revitalization_help": {2, "2"}, "help_kinds": {"产业帮扶、教育帮扶", "产业帮扶、教育帮扶"},
	"medical_people": {420, "420"}, "safety_events": {6, "6"}, "travel_helpers": {80, "80"},
	"rescue_missions": {0, "0"}, "rescue_troops": {"", ""},
	"veteran_visits": {230, "230"}, "frontier_family_visits": {18, "18"}, "forums": {4, "4"}, "couplets": {1200, "1200"},
	"veteran_cash": {45.8, "45.8"}, "veteran_goods": {0.07, "0.07"}, "hardship_people": {17, "17"}, "hardship_cash": {8.5, "8.5"},
	"hardship_kinds": {"生活、医疗", "生活，医疗"},
	"summary_text":   {"=春节期间走访慰问驻地部队和优抚对象。\n开展双拥宣传。", "=春节期间走访慰问驻地部队和优抚对象。\n开展双拥宣传。"},
	"highlights":     {"", ""}, "suggestions": {"无", "无"},
}

func tplCampaign(t testing.TB) *flows.Campaign {
	t.Helper()
	return flows.DefaultCampaign()
}

// writeTpl writes u's template (nil: the blank one).
func writeTpl(t testing.TB, c *flows.Campaign, u *flows.Unit, answers map[string]flows.Answer) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTemplate(&buf, c, u, answers, tplDeadline); err != nil {
		t.Fatalf("WriteTemplate: %v", err)
	}
	return buf.Bytes()
}

// tplRows maps question ids to their rows, by the hidden id column.
func tplRows(t testing.TB, f *excelize.File) map[string]int {
	t.Helper()
	rows, err := f.GetRows(TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for r, row := range rows {
		if len(row) >= colID && row[colID-1] != "" && !flows.IsTemplateMarker(row[colID-1]) {
			ids[row[colID-1]] = r + 1
		}
	}
	return ids
}

// fillTpl fills the answer cells as a user would in a spreadsheet
// program, then lets edit change the workbook further (insert rows…).
func fillTpl(t testing.TB, data []byte, values map[string]tplValue, edit func(f *excelize.File, rows map[string]int)) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := tplRows(t, f)
	for id, v := range values {
		row, ok := rows[id]
		if !ok || v.cell == "" {
			continue
		}
		if err := f.SetCellValue(TemplateSheet, cell(colAnswer, row), v.cell); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(f, rows)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withFormula rewrites a cell of the saved workbook into a formula with
// the cached value a spreadsheet program stores with it (value "": none,
// as written by a program that does not calculate).
func withFormula(t testing.TB, data []byte, ref, formula, value string) []byte {
	t.Helper()
	re := regexp.MustCompile(`<c r="` + ref + `"([^>]*?)(/>|>.*?</c>)`)
	typ := regexp.MustCompile(` t="[^"]*"`)
	return rewriteSheet(t, data, func(xml string) string {
		if !re.MatchString(xml) {
			t.Fatalf("no cell %s in the sheet", ref)
		}
		return re.ReplaceAllStringFunc(xml, func(c string) string {
			attrs := typ.ReplaceAllString(re.FindStringSubmatch(c)[1], "")
			v := ""
			if value != "" {
				v = "<v>" + value + "</v>"
			}
			return `<c r="` + ref + `"` + attrs + `><f>` + formula + `</f>` + v + `</c>`
		})
	})
}

func rewriteSheet(t testing.TB, data []byte, edit func(string) string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name == "xl/worksheets/sheet1.xml" {
			b = []byte(edit(string(b)))
		}
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// chatDraft fills u's form in the chat (Campaign.Step) with the chat
// values, up to the first question that needs a file.
func chatDraft(t testing.TB, c *flows.Campaign, u flows.Unit, values map[string]tplValue) flows.Draft {
	t.Helper()
	env := flows.Env{Unit: u, UserID: 1, Now: time.Date(2022, 2, 3, 10, 0, 0, 0, shanghai)}
	d := c.Step(flows.Draft{UnitID: u.ID}, env, flows.Input{Cmd: "report"}).Draft
	for d.Cursor != "" && flows.TemplateFillable(c.Question(d.Cursor)) {
		v := values[d.Cursor].chat
		if v == "" {
			v = "跳过"
		}
		r := c.Step(d, env, flows.Input{Text: v})
		if !r.Changed || r.Draft.Cursor == d.Cursor {
			t.Fatalf("the chat refused %s = %q: %s", d.Cursor, v, r.Replies[0].Text)
		}
		d = r.Draft
	}
	return d
}

// stepTpl applies an upload to a draft and checks it was not modified.
func stepTpl(t testing.TB, c *flows.Campaign, u flows.Unit, d flows.Draft, up flows.TemplateUpload) flows.Result {
	t.Helper()
	before := fmt.Sprintf("%+v", d)
	r := c.StepTemplate(d, flows.Env{Unit: u, UserID: 1, Now: time.Date(2022, 2, 4, 10, 0, 0, 0, shanghai)}, up)
	if fmt.Sprintf("%+v", d) != before {
		t.Fatalf("StepTemplate modified the draft it was given")
	}
	return r
}

// The round trip for every category: the template written, filled in as
// a user would (a row inserted above the form, a formula with its cached
// value, a count typed with its measure word, a phone typed as a number),
// read back and applied gives the draft the chat gives for the same
// answers.
func TestTemplateRoundTrip(t *testing.T) {
	c := tplCampaign(t)
	for i, cat := range c.Categories {
		u := flows.Unit{ID: int64(3 + i), Name: "测试单位" + cat.ID, Category: cat.ID}
		t.Run(cat.ID, func(t *testing.T) {
			data := fillTpl(t, writeTpl(t, c, &u, nil), tplValues, func(f *excelize.File, rows map[string]int) {
				// A row inserted above the first questions, with a note in it.
				if err := f.InsertRows(TemplateSheet, rows["essays"], 1); err != nil {
					t.Fatal(err)
				}
				if err := f.SetCellStr(TemplateSheet, cell(colAnswer, rows["essays"]), "以下为宣传数据"); err != nil {
					t.Fatal(err)
				}
			})
			f, err := excelize.OpenReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			rows := tplRows(t, f)
			f.Close()
			// A formula with its cached value: 45.8 万元 as =40+5.8.
			if row, ok := rows["veteran_cash"]; ok {
				data = withFormula(t, data, cell(colAnswer, row), "40+5.8", "45.8")
			}
			up := ReadTemplate(data, c, u)
			if up.Refusal != "" || len(up.Problems) > 0 {
				t.Fatalf("ReadTemplate = refusal %q, problems %v", up.Refusal, up.Problems)
			}
			want := chatDraft(t, c, u, tplValues)
			r := stepTpl(t, c, u, flows.Draft{UnitID: u.ID}, up)
			if !reflect.DeepEqual(r.Draft.Answers, want.Answers) {
				t.Errorf("answers from the template\n%v\nwant the chat's\n%v", r.Draft.Answers, want.Answers)
			}
			if r.Draft.Cursor != want.Cursor || r.Draft.Status != want.Status {
				t.Errorf("after the template at %q (%s), want the chat's %q (%s)", r.Draft.Cursor, r.Draft.Status, want.Cursor, want.Status)
			}
		})
	}
}

// A template written with the draft's answers reads back to the same
// answers (a revision: download, change one cell, send).
func TestTemplatePrefilledRoundTrip(t *testing.T) {
	c := tplCampaign(t)
	u := flows.Unit{ID: 9, Name: "市财政局", Category: "department"}
	d := chatDraft(t, c, u, tplValues)
	up := ReadTemplate(writeTpl(t, c, &u, d.Answers), c, u)
	if up.Refusal != "" || len(up.Problems) > 0 {
		t.Fatalf("ReadTemplate of a prefilled template = refusal %q, problems %v", up.Refusal, up.Problems)
	}
	if !reflect.DeepEqual(up.Answers, d.Answers) {
		t.Errorf("prefilled template read back\n%v\nwant\n%v", up.Answers, d.Answers)
	}
}

// Bad cells are listed by cell (after the inserted row) and question, all
// at once, and nothing changes.
func TestTemplateBadCells(t *testing.T) {
	c := tplCampaign(t)
	u := flows.Unit{ID: 7, Name: "离石区双拥工作领导小组", Category: "county"}
	bad := map[string]tplValue{}
	for id, v := range tplValues {
		bad[id] = v
	}
	bad["troop_visits"] = tplValue{cell: "三"}
	bad["essays"] = tplValue{cell: 1.5}
	bad["filler_phone"] = tplValue{cell: "12345"}
	bad["hardship_kinds"] = tplValue{cell: "吃饭"}
	data := fillTpl(t, writeTpl(t, c, &u, nil), bad, func(f *excelize.File, rows map[string]int) {
		if err := f.InsertRows(TemplateSheet, rows["essays"], 1); err != nil {
			t.Fatal(err)
		}
	})
	data = withFormula(t, data, "D22", "1/0", "#DIV/0!") // exercise_support, below the inserted row
	data = rewriteSheet(t, data, func(xml string) string {
		return strings.Replace(xml, `<c r="D22"`, `<c t="e" r="D22"`, 1)
	})
	data = withFormula(t, data, "D29", "SUM(D25:D26)", "") // veteran_cash, no cached value
	up := ReadTemplate(data, c, u)
	var got []string
	for _, p := range up.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"D6 · 第 2 题 联系电话（手机或座机，如 0358-8498917）：“12345”不是有效的电话号码。",
		"D9 · 第 3 题 组织双拥主题征文（篇）：“1.5”带有小数，本题只能填整数。",
		"D18 · 第 11 题 走访慰问驻吕部队（次）：“三”不是数字。",
		"D22 · 第 15 题 协助部队冬训演练、战备执勤、维稳处突保障（次）：单元格中的公式计算出错（#DIV/0!），请改正或直接填写数值。",
		"D29 · 第 21 题 发放慰问金（万元）：单元格中的公式没有计算结果。请在 Excel 或 WPS 中打开模板、保存后再发送，或直接填写数值。",
		"D33 · 第 25 题 困难类型（可多选）：“吃饭”不是本题的选项。",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ReadTemplate problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	d := chatDraft(t, c, u, tplValues)
	r := stepTpl(t, c, u, d, up)
	if r.Changed || !reflect.DeepEqual(r.Draft, d) {
		t.Errorf("a template with problems changed the draft")
	}
	if !strings.Contains(r.Replies[0].Text, "模板中有 6 处问题") {
		t.Errorf("StepTemplate said %q", r.Replies[0].Text)
	}
}

// What the template looks like to a spreadsheet program: the unit at the
// top, the marker and ids in a hidden column, data validation on every
// answer cell, only the answer cells unlocked, a protected sheet without a
// password, the print setup.
func TestTemplateWorkbook(t *testing.T) {
	c := tplCampaign(t)
	u := flows.Unit{ID: 35, Name: "吕梁军分区", Category: "military"}
	data := writeTpl(t, c, &u, nil)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{TemplateSheet}) {
		t.Fatalf("sheets = %v", got)
	}
	info, _ := f.GetCellValue(TemplateSheet, "A2")
	if !strings.Contains(info, "填报单位：吕梁军分区") || !strings.Contains(info, "单位类别：驻吕部队") {
		t.Errorf("A2 = %q, want the unit and its category", info)
	}
	marker, _ := f.GetCellValue(TemplateSheet, "F1")
	if m, ok := flows.ParseTemplateMarker(marker); !ok || m.Unit != 35 || m.Campaign != c.ID || m.Form != c.FormHash() {
		t.Errorf("F1 = %q, want the marker of unit 35", marker)
	}
	if visible, _ := f.GetColVisible(TemplateSheet, "F"); visible {
		t.Errorf("the id column F is visible")
	}
	rows := tplRows(t, f)
	if _, ok := rows["troop_visits"]; ok {
		t.Errorf("a military unit's template has a county question")
	}
	dvs, err := f.GetDataValidations(TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	byCell := map[string]*excelize.DataValidation{}
	for _, dv := range dvs {
		byCell[dv.Sqref] = dv
	}
	fillable := 0
	for _, q := range c.Questions() {
		row, ok := rows[q.ID]
		if !ok {
			continue
		}
		ref := cell(colAnswer, row)
		dv := byCell[ref]
		style, _ := f.GetCellStyle(TemplateSheet, ref)
		st, _ := f.GetStyle(style)
		locked := st.Protection == nil || st.Protection.Locked
		if !flows.TemplateFillable(q) {
			v, _ := f.GetCellValue(TemplateSheet, ref)
			if v != flows.TemplateUploadHere || !locked || dv != nil {
				t.Errorf("%s (%s) = %q, locked %v, validation %v; want %q, locked, none", ref, q.ID, v, locked, dv != nil, flows.TemplateUploadHere)
			}
			continue
		}
		fillable++
		if locked {
			t.Errorf("answer cell %s (%s) is locked", ref, q.ID)
		}
		if dv == nil {
			t.Errorf("answer cell %s (%s) has no data validation", ref, q.ID)
			continue
		}
		wantType := map[string]string{flows.TypeInteger: "whole", flows.TypeMoney: "custom", flows.TypeText: "textLength",
			flows.TypePhone: "textLength", flows.TypeChoice: "list", flows.TypeMultiChoice: "textLength"}[q.Type]
		if dv.Type != wantType || !dv.AllowBlank || !dv.ShowErrorMessage {
			t.Errorf("validation of %s (%s) = %s (blank %v), want %s allowing blanks", ref, q.ID, dv.Type, dv.AllowBlank, wantType)
		}
		if q.Type == flows.TypeMoney && !strings.Contains(dv.Formula1, "ROUND("+ref+",2)="+ref) {
			t.Errorf("money validation of %s = %q, want two decimals", ref, dv.Formula1)
		}
		for _, other := range []string{cell(colQuestion, row), cell(colHint, row), cell(colID, row)} {
			style, _ := f.GetCellStyle(TemplateSheet, other)
			if st, _ := f.GetStyle(style); st.Protection != nil && !st.Protection.Locked {
				t.Errorf("cell %s is unlocked", other)
			}
		}
	}
	if fillable == 0 || len(dvs) != fillable {
		t.Errorf("%d data validations for %d answer cells", len(dvs), fillable)
	}
	sheetXML := string(rewriteSheetRead(t, data))
	if !strings.Contains(sheetXML, `<sheetProtection sheet="true"`) || strings.Contains(sheetXML, "password") || strings.Contains(sheetXML, "hashValue") {
		t.Errorf("the sheet is not protected without a password")
	}
	if !regexp.MustCompile(`insertRows="(false|0)"`).MatchString(sheetXML) {
		t.Errorf("inserting rows is not allowed in the protected sheet")
	}
	names := f.GetDefinedName()
	if !slices.ContainsFunc(names, func(n excelize.DefinedName) bool {
		return n.Name == "_xlnm.Print_Titles" && n.RefersTo == PrintTitlesRef(TemplateSheet, templateTitleRows)
	}) {
		t.Errorf("defined names = %+v, want the print titles (rows 1–%d)", names, templateTitleRows)
	}
	if lay, err := f.GetPageLayout(TemplateSheet); err != nil || lay.Size == nil || *lay.Size != int(PaperA4) {
		t.Errorf("page layout = %+v, %v; want A4", lay, err)
	}

	// The blank template has every category's questions and no unit.
	blank, err := excelize.OpenReader(bytes.NewReader(writeTpl(t, c, nil, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer blank.Close()
	rows = tplRows(t, blank)
	if _, ok := rows["troop_visits"]; !ok {
		t.Errorf("the blank template has no county question")
	}
	if _, ok := rows["local_projects"]; !ok {
		t.Errorf("the blank template has no military question")
	}
	if TemplateFileName(&flows.Unit{Name: "a/b"}) != "填报模板_a_b.xlsx" || TemplateFileName(nil) != "填报模板_通用.xlsx" {
		t.Errorf("TemplateFileName = %q, %q", TemplateFileName(&flows.Unit{Name: "a/b"}), TemplateFileName(nil))
	}
}

// rewriteSheetRead returns the template's sheet XML.
func rewriteSheetRead(t testing.TB, data []byte) []byte {
	t.Helper()
	var out string
	rewriteSheet(t, data, func(xml string) string { out = xml; return xml })
	return []byte(out)
}

// Files that are not templates are refused with a clear message: an old
// .xls, an encrypted workbook, a workbook without the marker, something
// that is no workbook at all, a file too large.
func TestTemplateNotTemplates(t *testing.T) {
	c := tplCampaign(t)
	u := flows.Unit{ID: 7, Name: "离石区双拥工作领导小组", Category: "county"}
	plain := excelize.NewFile()
	_ = plain.SetCellStr("Sheet1", "A1", "统计表")
	var plainBuf bytes.Buffer
	if _, err := plain.WriteTo(&plainBuf); err != nil {
		t.Fatal(err)
	}
	xls, err := os.ReadFile(filepath.Join(tplFixtures, "template.xls"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"xls saved by LibreOffice", xls, "另存为"},
		{"OLE2 (encrypted xlsx)", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), ".xlsx"},
		{"workbook without marker", plainBuf.Bytes(), "不是本机器人生成的填报模板"},
		{"pdf", []byte("%PDF-1.4\n"), "不是有效的 Excel 工作簿"},
		{"damaged zip", []byte("PK\x03\x04 not really a zip"), "不是有效的 Excel 工作簿"},
		{"empty", nil, "不是有效的 Excel 工作簿"},
		{"too large", append([]byte("PK\x03\x04"), make([]byte, MaxTemplateSize)...), "太大"},
	}
	for _, tt := range tests {
		up := ReadTemplate(tt.data, c, u)
		if !strings.Contains(up.Refusal, tt.want) || up.Answers != nil || len(up.Problems) > 0 {
			t.Errorf("ReadTemplate(%s) = refusal %q, want one saying %q", tt.name, up.Refusal, tt.want)
		}
	}
}

// A template filled and saved by another program (LibreOffice Calc: shared
// strings, its own styles, a formula it calculated) reads as well. The
// fixture is made by -regen-template-fixtures from the campaign beside it,
// so that a change of the default campaign does not make it stale.
func TestTemplateSavedByLibreOffice(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(tplFixtures, "campaign.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := flows.ParseCampaign(src)
	if err != nil {
		t.Fatal(err)
	}
	u := flows.Unit{ID: 7, Name: "离石区双拥工作领导小组", Category: "county"}
	if *regenTemplateFixtures {
		regenFixtures(t, c, u)
	}
	data, err := os.ReadFile(filepath.Join(tplFixtures, "filled-libreoffice.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("excelize")) {
		t.Fatalf("the fixture was not saved by LibreOffice")
	}
	up := ReadTemplate(data, c, u)
	if up.Refusal != "" || len(up.Problems) > 0 {
		t.Fatalf("ReadTemplate of the LibreOffice file = refusal %q, problems %v", up.Refusal, up.Problems)
	}
	want := chatDraft(t, c, u, tplValues)
	if !reflect.DeepEqual(up.Answers, want.Answers) {
		t.Errorf("answers from the LibreOffice file\n%v\nwant the chat's\n%v", up.Answers, want.Answers)
	}
}

// regenFixtures writes the filled template, has LibreOffice save it as
// .xlsx (with a formula for it to calculate) and as .xls.
func regenFixtures(t *testing.T, c *flows.Campaign, u flows.Unit) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Fatalf("-regen-template-fixtures needs soffice (LibreOffice): %v", err)
	}
	dir := t.TempDir()
	data := fillTpl(t, writeTpl(t, c, &u, nil), tplValues, func(f *excelize.File, rows map[string]int) {
		if err := f.SetCellFormula(TemplateSheet, cell(colAnswer, rows["veteran_cash"]), "40+5.8"); err != nil {
			t.Fatal(err)
		}
	})
	in := filepath.Join(dir, "filled.xlsx")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"xlsx:Calc MS Excel 2007 XML", "xls:MS Excel 97"} {
		out := filepath.Join(dir, strings.Split(format, ":")[0])
		cmd := exec.Command(soffice, "--headless", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--convert-to", format, "--outdir", out, in)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("soffice --convert-to %s: %v\n%s", format, err, b)
		}
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tplFixtures, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(dir, "xlsx", "filled.xlsx"), "filled-libreoffice.xlsx")
	copyFile(filepath.Join(dir, "xls", "filled.xls"), "template.xls")
}

// FuzzReadTemplate: no workbook, however broken, makes the reader panic,
// and it always answers with exactly one of a refusal, problems or
// answers. The seeds: a blank and a filled template, the LibreOffice
// files, and testdata/fuzz.
func FuzzReadTemplate(f *testing.F) {
	c := flows.DefaultCampaign()
	u := flows.Unit{ID: 7, Name: "离石区双拥工作领导小组", Category: "county"}
	blank := writeTpl(f, c, &u, nil)
	f.Add(blank)
	f.Add(fillTpl(f, blank, tplValues, nil))
	for _, name := range []string{"filled-libreoffice.xlsx", "template.xls"} {
		if b, err := os.ReadFile(filepath.Join(tplFixtures, name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		up := ReadTemplate(data, c, u)
		kinds := 0
		for _, set := range []bool{up.Refusal != "", len(up.Problems) > 0, up.Answers != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			t.Errorf("ReadTemplate = %+v: want exactly one of a refusal, problems, answers", up)
		}
	})
}
