package bot

import (
	"bytes"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/flows/sheet"
)

const xlsxMIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// templateFill are a county's answers as typed into the template's cells.
var templateFill = map[string]any{
	"filler_name": "王晓明", "filler_phone": "0358-8498917",
	"essays": 12, "columns": 4, "films": 1, "new_media_posts": 36, "outdoor_screens": 5,
	"model_events": 3, "merit_notices": 20, "honor_plaques": 150,
	"troop_visits": 6, "troop_cash": 12.5, "troop_goods": 3.25, "joint_tasks": 8,
	"exercise_support": 2, "frontier_families": 11,
	"veteran_visits": 230, "frontier_family_visits": 18, "forums": 4, "couplets": 1200,
	"veteran_cash": 45.8, "veteran_goods": 12, "hardship_people": 17, "hardship_cash": 8.5,
	"hardship_kinds": "生活、医疗",
	"summary_text":   "春节期间走访慰问驻地部队和优抚对象。", "suggestions": "无",
}

// templateFrom asks for the template with /template in the user's chat
// (or the office group) and returns the workbook the bot sent.
func (h *harness) templateFrom(chat int64, send func()) telegramtest.Message {
	h.t.Helper()
	before := len(h.tg.Messages(chat))
	send()
	msgs := h.tg.Messages(chat)[before:]
	for _, m := range msgs {
		if m.Document != nil {
			if !strings.HasSuffix(m.Document.Name, ".xlsx") || len(m.Document.Content) == 0 {
				h.t.Fatalf("/template sent %q (%d bytes)", m.Document.Name, len(m.Document.Content))
			}
			return m
		}
	}
	h.t.Fatalf("/template sent no document: %q", joinTexts(msgs))
	return telegramtest.Message{}
}

// fillTemplate fills a template's answer cells by the question ids in its
// hidden column, as a user would in a spreadsheet program.
func fillTemplate(t *testing.T, data []byte, values map[string]any) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open the template: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet.TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		if len(row) < 6 {
			continue
		}
		v, ok := values[row[5]]
		if !ok {
			continue
		}
		ref, _ := excelize.CoordinatesToCellName(4, r+1)
		if err := f.SetCellValue(sheet.TemplateSheet, ref, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// saidSince joins what the bot said in a chat after the first n messages.
func (h *harness) saidSince(chat int64, n int) string {
	var b strings.Builder
	for _, m := range h.tg.Messages(chat)[n:] {
		b.WriteString(m.Text + m.Caption + "\n")
	}
	return b.String()
}

// The contact's template both ways, end to end: /template → the file →
// filled in → sent back → the summary → 确认提交 → the office's export has
// every value, cell by cell. A bad upload lists its problems by cell and
// changes nothing; an .xls and a foreign workbook are refused; a template
// works for a revision and for an office /reopen of one question.
func TestTemplateJourney(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setGroup()
	const name = "离石区双拥工作领导小组"
	alice := telegramtest.User{ID: 5301, FirstName: "晓明", LastName: "王"}
	h.bind(alice, h.addUnit(name, "县市区"))

	// /template before starting: an empty template of the unit.
	doc := h.templateFrom(alice.ID, func() { h.say(alice, "/template") })
	if doc.Document.Name != "填报模板_"+name+".xlsx" {
		t.Errorf("template file name = %q", doc.Document.Name)
	}
	wantText(t, doc, "填报模板", name, "黄色单元格")
	if d := h.draftOf(name); d.Status != flows.StatusNew {
		t.Errorf("/template changed the draft: %+v", d)
	}

	// A bad upload: every problem by cell and question, nothing changes.
	bad := map[string]any{}
	for id, v := range templateFill {
		bad[id] = v
	}
	bad["troop_visits"] = "三"
	bad["veteran_cash"] = 1.234
	n := len(h.tg.Messages(alice.ID))
	h.upload(alice, "填报模板.xlsx", xlsxMIME, fillTemplate(t, doc.Document.Content, bad))
	said := h.saidSince(alice.ID, n)
	for _, want := range []string{"模板中有 2 处问题", "D17 · 第 11 题 走访慰问驻吕部队（次）：“三”不是数字。", "D28 · 第 21 题 发放慰问金（万元）：“1.234”的小数位数太多"} {
		if !strings.Contains(said, want) {
			t.Errorf("bad upload: bot said %q, want %q", said, want)
		}
	}
	if d := h.draftOf(name); d.Status != flows.StatusNew || len(d.Answers) != 0 {
		t.Errorf("a bad upload changed the draft: %+v", d)
	}

	// Not templates.
	wantText(t, h.upload(alice, "旧表.xls", "application/vnd.ms-excel", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)), "另存为")
	plain := excelize.NewFile()
	_ = plain.SetCellStr("Sheet1", "A1", "我们自己的统计表")
	var plainBuf bytes.Buffer
	_, _ = plain.WriteTo(&plainBuf)
	wantText(t, h.upload(alice, "统计表.xlsx", xlsxMIME, plainBuf.Bytes()), "不是本机器人生成的填报模板")

	// The good upload: the answers, then the 专题报告 in the chat.
	n = len(h.tg.Messages(alice.ID))
	h.upload(alice, "填报模板（已填）.xlsx", xlsxMIME, fillTemplate(t, doc.Document.Content, templateFill))
	if said := h.saidSince(alice.ID, n); !strings.Contains(said, "已从模板读取 27 项填报内容") {
		t.Fatalf("good upload: bot said %q", said)
	}
	h.expectQuestion(alice, "report_doc")
	h.upload(alice, "专题报告.pdf", "application/pdf", pdfBytes)
	h.expectQuestion(alice, "photos")
	h.press(alice, "跳过")
	wantText(t, h.last(alice.ID), "确认提交", "发放慰问金：45.80 万元")
	wantText(t, h.press(alice, "确认提交"), "SY-2022-0001")

	// The office's export has the values, cell by cell.
	checkExportRow(t, h, name, templateFill)

	// A revision: the template comes with the answers filled in; one
	// change is a new version.
	doc = h.templateFrom(alice.ID, func() { h.say(alice, "/template") })
	wantText(t, doc, "已填入目前的答案")
	n = len(h.tg.Messages(alice.ID))
	h.upload(alice, "填报模板.xlsx", xlsxMIME, fillTemplate(t, doc.Document.Content, map[string]any{"essays": 15}))
	if said := h.saidSince(alice.ID, n); !strings.Contains(said, "正在修改已提交的第 1 版") {
		t.Fatalf("revision upload: bot said %q", said)
	}
	wantText(t, h.press(alice, "确认提交"), "SY-2022-0001-2")
	revised := map[string]any{}
	for id, v := range templateFill {
		revised[id] = v
	}
	revised["essays"] = 15
	checkExportRow(t, h, name, revised)

	// The office returns it for one question: only that answer changes.
	m := h.say(h.admin, "/reopen "+name+" 走访慰问部队次数有误 troop_visits")
	wantText(t, m, "已将")
	before := h.draftOf(name).Answers
	doc = h.templateFrom(alice.ID, func() { h.say(alice, "/template") })
	n = len(h.tg.Messages(alice.ID))
	h.upload(alice, "填报模板.xlsx", xlsxMIME, fillTemplate(t, doc.Document.Content, map[string]any{"troop_visits": 7, "forums": 9}))
	said = h.saidSince(alice.ID, n)
	if !strings.Contains(said, "已按模板修改退回的「走访慰问驻吕部队」：7 次") || !strings.Contains(said, "没有采用：「召开座谈会」") {
		t.Errorf("returned upload: bot said %q", said)
	}
	after := h.draftOf(name).Answers
	for id, a := range after {
		if id != "troop_visits" && !reflect.DeepEqual(a, before[id]) {
			t.Errorf("the returned report's %s changed: %+v → %+v", id, before[id], a)
		}
	}
	if after["troop_visits"].Num != 7 {
		t.Errorf("troop_visits = %d, want 7", after["troop_visits"].Num)
	}
	wantText(t, h.press(alice, "确认提交"), "SY-2022-0001-3")

	// The office group: a unit's template and the blank one.
	doc = h.templateFrom(h.group.ID, func() { h.groupSay("/template 离石区") })
	if doc.Document.Name != "填报模板_"+name+".xlsx" {
		t.Errorf("office /template 离石区 sent %q", doc.Document.Name)
	}
	doc = h.templateFrom(h.group.ID, func() { h.groupSay("/template") })
	if doc.Document.Name != "填报模板_通用.xlsx" {
		t.Errorf("office /template sent %q", doc.Document.Name)
	}
	// The blank template works for any unit.
	bob := telegramtest.User{ID: 5302, FirstName: "Bob"}
	h.bind(bob, h.addUnit("市财政局", "市直"))
	n = len(h.tg.Messages(bob.ID))
	fill := map[string]any{}
	for id, v := range templateFill {
		fill[id] = v
	}
	fill["local_projects"] = 3 // a military question, not asked of 市财政局
	h.upload(bob, "通用模板.xlsx", xlsxMIME, fillTemplate(t, doc.Document.Content, fill))
	if said := h.saidSince(bob.ID, n); !strings.Contains(said, "已从模板读取 27 项") || !strings.Contains(said, "已忽略：「支援地方经济建设项目」") {
		t.Errorf("blank template upload: bot said %q", said)
	}
	h.expectQuestion(bob, "report_doc")
}

// checkExportRow reads the office's /export and checks the unit's row has
// every number of values, and its text answers.
func checkExportRow(t *testing.T, h *harness, unit string, values map[string]any) {
	t.Helper()
	msgs := h.groupSay("/export")
	m := msgs[len(msgs)-1]
	if m.Document == nil {
		t.Fatalf("/export answered %q", joinTexts(msgs))
	}
	f, err := excelize.OpenReader(bytes.NewReader(m.Document.Content))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet.SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	titles := rows[4]
	r := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 1 && row[1] == unit })
	if r < 0 {
		t.Fatalf("汇总表 has no row for %s", unit)
	}
	for _, q := range h.camp.NumberQuestions() {
		v, ok := values[q.ID]
		if !ok || !q.ForCategory("county") {
			continue
		}
		c := slices.Index(titles, q.Title())
		ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
		got, ok := cellNumber(t, f, sheet.SheetSummary, ref)
		var want float64
		switch v := v.(type) {
		case int:
			want = float64(v)
		case float64:
			want = v
		}
		if !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("汇总表!%s (%s) = %v, want %v", ref, q.ID, got, want)
		}
	}
	texts, _ := f.GetRows(sheet.SheetTexts)
	for _, row := range texts {
		if len(row) > 1 && row[1] == unit {
			if !slices.Contains(row, values["summary_text"].(string)) || !slices.Contains(row, "王晓明") {
				t.Errorf("文字材料 row of %s = %q", unit, row)
			}
		}
	}
}
