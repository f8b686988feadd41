package flows

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The template's domain side: the rows, the marker, the checks of the
// answer cells (one parser per type, shared with the chat) and the step
// that applies them. The workbook itself is tested in flows/sheet.

// templateValues are answers for every fillable question of the default
// form, as a contact would type them into the cells (and into the chat).
var templateValues = map[string]string{
	"filler_name": "王晓明", "filler_phone": "0358-8498917",
	"essays": "12", "columns": "4", "films": "1", "new_media_posts": "36", "outdoor_screens": "5",
	"model_events": "3", "merit_notices": "20", "honor_plaques": "150",
	"troop_visits": "6", "troop_cash": "12.5", "troop_goods": "3.25", "joint_tasks": "8",
	"exercise_support": "2", "frontier_families": "11",
	"local_projects": "3", "revitalization_help": "2", "help_kinds": "产业帮扶、教育帮扶", "medical_people": "420",
	"safety_events": "6", "travel_helpers": "80", "rescue_missions": "1", "rescue_troops": "35",
	"veteran_visits": "230", "frontier_family_visits": "18", "forums": "4", "couplets": "1200",
	"veteran_cash": "45.8", "veteran_goods": "12", "hardship_people": "17", "hardship_cash": "8.5",
	"hardship_kinds": "生活、医疗",
	"summary_text":   "春节期间走访慰问驻地部队和优抚对象，开展双拥宣传。", "highlights": "", "suggestions": "无",
}

// templateSheet is what the workbook reader would find in u's template
// (u nil: the blank one) filled with values: one cell per fillable
// question, in column D of the row TemplateRows puts it on.
func templateSheet(c *Campaign, u *Unit, values map[string]string) TemplateSheet {
	ts := TemplateSheet{Marker: c.TemplateMarkerFor(u), Cells: map[string][]TemplateCell{}}
	row := 3 // title, unit, headers
	for _, r := range c.TemplateRows(u, nil) {
		row++
		if r.Question == nil || !TemplateFillable(r.Question) {
			continue
		}
		ts.Cells[r.Question.ID] = []TemplateCell{{Ref: fmt.Sprintf("D%d", row), Value: values[r.Question.ID]}}
	}
	return ts
}

// chatDraft fills u's form in the chat with the same values, up to the
// first question that needs a file.
func chatDraft(t *testing.T, u Unit, values map[string]string) *session {
	t.Helper()
	s := newSession(t, u, beforeDeadline)
	s.cmd("report")
	for s.d.Cursor != "" && TemplateFillable(s.c.Question(s.d.Cursor)) {
		q := s.cursor()
		v := values[q]
		if v == "" {
			v = "跳过"
		}
		s.text(v)
		if s.d.Cursor == q {
			t.Fatalf("chat refused %s = %q:\n%s", q, v, renderReplies(s.last.Replies))
		}
	}
	return s
}

// template applies an upload to the session's draft as the service
// would, checking what every step must hold (as session.do does) and that
// the draft given is not modified.
func (s *session) template(up TemplateUpload) Result {
	s.t.Helper()
	before, _ := json.Marshal(s.d)
	r := s.c.StepTemplate(s.d, s.env, up)
	in := Input{Text: "(template)"}
	checkResult(s.t, s.c, s.d, s.env, in, r)
	if after, _ := json.Marshal(s.d); string(after) != string(before) {
		s.t.Fatalf("StepTemplate modified the draft it was given")
	}
	fmt.Fprintf(&s.transcript, "> template (%d filled, %d problems)\n%s\n", up.Filled, len(up.Problems), renderReplies(r.Replies))
	if r.Changed {
		s.d = r.Draft
	}
	if r.Report != nil {
		s.reports = append(s.reports, *r.Report)
	}
	s.last = r
	return r
}

// The template of every category, filled with the same answers as the
// chat, gives the chat's draft: the same answers, at the same question
// (the 专题报告, which is sent in the chat), and after it the same report.
func TestTemplateEqualsChat(t *testing.T) {
	c := DefaultCampaign()
	for i, cat := range c.Categories {
		u := Unit{ID: int64(40 + i), Name: "单位" + cat.ID, Category: cat.ID}
		t.Run(cat.ID, func(t *testing.T) {
			chat := chatDraft(t, u, templateValues)
			for _, blank := range []bool{false, true} {
				scope := &u
				if blank {
					scope = nil
				}
				up := c.ReadTemplate(u, templateSheet(c, scope, templateValues))
				if up.Refusal != "" || len(up.Problems) > 0 {
					t.Fatalf("ReadTemplate(blank %v) = refusal %q, problems %v", blank, up.Refusal, up.Problems)
				}
				s := newSession(t, u, beforeDeadline)
				s.template(up)
				if !reflect.DeepEqual(s.d.Answers, chat.d.Answers) {
					t.Fatalf("template (blank %v) answers\n%v\nwant the chat's\n%v", blank, s.d.Answers, chat.d.Answers)
				}
				if s.d.Status != StatusFilling || s.d.Cursor != chat.d.Cursor || s.d.Editing != chat.d.Editing {
					t.Errorf("template (blank %v): status %q at %q (editing %v), want the chat's %q at %q (editing %v)",
						blank, s.d.Status, s.d.Cursor, s.d.Editing, chat.d.Status, chat.d.Cursor, chat.d.Editing)
				}
				s.wantSaid("已从模板读取", "还需要在对话中上传")
				for _, in := range []*session{s, chat} {
					in.send(pdfFile)
					in.press("跳过")
					in.press("✅ 确认提交")
				}
				if len(s.reports) != 1 || len(chat.reports) != 1 || !reflect.DeepEqual(s.reports[0].Answers, chat.reports[0].Answers) {
					t.Errorf("template (blank %v) report differs from the chat's", blank)
				}
				chat = chatDraft(t, u, templateValues)
			}
		})
	}
}

// Every kind of bad cell is told with its cell, number, title and what is
// wrong; all at once; and nothing changes.
func TestTemplateProblems(t *testing.T) {
	c := DefaultCampaign()
	u := countyUnit
	tests := []struct {
		id, value string
		fault     CellFault
		want      string // part of the problem
	}{
		{id: "troop_visits", value: "三", want: "D17 · 第 11 题 走访慰问驻吕部队（次）：“三”不是数字。"},
		{id: "essays", value: "1.5", want: "D8 · 第 3 题 组织双拥主题征文（篇）：“1.5”带有小数，本题只能填整数。"},
		{id: "essays", value: "-2", want: "不能填负数"},
		{id: "essays", value: "123456789", want: "太大了"},
		{id: "essays", value: "", want: "D8 · 第 3 题 组织双拥主题征文（篇）：本题为必填题，不能为空。"},
		{id: "essays", value: "跳过", want: "本题为必填题，不能为空。"},
		{id: "frontier_family_visits", value: "300", want: "“其中”的数不能大于总数：您填的是 300 户，而「走访慰问退役军人和其他优抚对象」只有 230 户。"},
		{id: "troop_cash", value: "1.234", want: "D18 · 第 12 题 慰问部队资金（万元）：“1.234”的小数位数太多，金额最多保留两位小数。"},
		{id: "troop_cash", value: "5000元", want: "单位是万元"},
		{id: "troop_cash", value: "五万", want: "不是有效的金额"},
		{id: "troop_cash", value: "", want: "本题为必填题，不能为空。"},
		{id: "filler_name", value: "王", want: "D5 · 第 1 题 填报人姓名：您输入了 1 个字，本题至少需要 2 个字。"},
		{id: "summary_text", value: strings.Repeat("好", 1001), want: "超过了本题 1000 个字的上限"},
		{id: "filler_phone", value: "12345", want: "“12345”不是有效的电话号码。"},
		{id: "hardship_kinds", value: "吃饭", want: "第 25 题 困难类型（可多选）：“吃饭”不是本题的选项。"},
		{id: "veteran_cash", fault: CellNoValue, want: "公式没有计算结果"},
		{id: "veteran_cash", value: "#DIV/0!", fault: CellErrorValue, want: "公式计算出错（#DIV/0!）"},
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+tt.value, func(t *testing.T) {
			ts := templateSheet(c, &u, templateValues)
			ts.Cells[tt.id][0].Value, ts.Cells[tt.id][0].Fault = tt.value, tt.fault
			up := c.ReadTemplate(u, ts)
			if len(up.Problems) != 1 || !strings.Contains(up.Problems[0].String(), tt.want) {
				t.Fatalf("ReadTemplate with %s = %q: problems %v, want one saying %q", tt.id, tt.value, up.Problems, tt.want)
			}
			if up.Answers != nil || up.Filled != 0 {
				t.Errorf("ReadTemplate with a problem still has answers")
			}
			s := filledDraft(t, u, nil)
			before := s.d
			r := s.template(up)
			if r.Changed || !reflect.DeepEqual(s.d, before) {
				t.Errorf("StepTemplate with a problem changed the draft")
			}
			s.wantSaid("模板中有 1 处问题，本次没有读取任何内容", tt.want)
		})
	}

	// A row deleted, a row copied, and several problems at once.
	ts := templateSheet(c, &u, templateValues)
	delete(ts.Cells, "forums")
	ts.Cells["couplets"] = append(ts.Cells["couplets"], TemplateCell{Ref: "D44", Value: "5"})
	ts.Cells["essays"][0].Value = "十二"
	ts.Cells["troop_visits"][0].Value = "abc" // troop_cash and troop_goods are checked all the same
	ts.Cells["troop_cash"][0].Value = "1.999"
	up := c.ReadTemplate(u, ts)
	var got []string
	for _, p := range up.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"D8 · 第 3 题 组织双拥主题征文（篇）：“十二”不是数字。",
		"D17 · 第 11 题 走访慰问驻吕部队（次）：“abc”不是数字。",
		"D18 · 第 12 题 慰问部队资金（万元）：“1.999”的小数位数太多，金额最多保留两位小数。",
		"第 19 题 召开座谈会（场）：模板中找不到这一题的行（可能被删除了）。请发送 /template 重新下载模板。",
		"D27 · 第 20 题 发放春联、年画（副/张）：这一题在模板中出现了 2 次（D27、D44），请删除多余的行。",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadTemplate with five problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A template of another campaign, an older form, another unit or another
// category is refused; a blank one is anyone's.
func TestTemplateRefusals(t *testing.T) {
	c := DefaultCampaign()
	u := countyUnit
	other := Unit{ID: 8, Name: "孝义市双拥工作领导小组", Category: "county"}
	tests := []struct {
		name   string
		change func(m *TemplateMarker)
		want   string
	}{
		{"campaign", func(m *TemplateMarker) { m.Campaign = "lvliang-2021-autumn" }, "另一次填报活动"},
		{"form", func(m *TemplateMarker) { m.Form = "0123456789ab" }, "旧版报表"},
		{"unit", func(m *TemplateMarker) { *m = c.TemplateMarkerFor(&other) }, "这份模板是为“孝义市双拥工作领导小组”生成的，不能用于“离石区双拥工作领导小组”的填报"},
		{"category", func(m *TemplateMarker) { m.Category = "department" }, "类别已调整"},
	}
	for _, tt := range tests {
		ts := templateSheet(c, &u, templateValues)
		tt.change(&ts.Marker)
		up := c.ReadTemplate(u, ts)
		if !strings.Contains(up.Refusal, tt.want) || up.Answers != nil {
			t.Errorf("ReadTemplate of a template of another %s = %q, want a refusal saying %q", tt.name, up.Refusal, tt.want)
		}
	}
	for _, f := range []TemplateFault{FaultNotWorkbook, FaultOldFormat, FaultNoMarker, FaultTooBig} {
		if up := c.TemplateRefused(f); up.Refusal == "" {
			t.Errorf("TemplateRefused(%d) says nothing", f)
		}
	}
	if up := c.TemplateRefused(FaultOldFormat); !strings.Contains(up.Refusal, ".xlsx") {
		t.Errorf("the refusal of an .xls does not ask for .xlsx: %q", up.Refusal)
	}
}

func TestTemplateMarker(t *testing.T) {
	c := DefaultCampaign()
	u := Unit{ID: 12, Name: "市财政局 & 2", Category: "department"}
	for _, m := range []TemplateMarker{c.TemplateMarkerFor(&u), c.TemplateMarkerFor(nil)} {
		got, ok := ParseTemplateMarker(m.String())
		if !ok || got != m || !IsTemplateMarker(m.String()) {
			t.Errorf("ParseTemplateMarker(%q) = %+v, %v; want %+v", m.String(), got, ok, m)
		}
	}
	for _, s := range []string{"", "reportbot-template/1?", "reportbot-template/1?campaign=x&form=y&unit=-1", "hello", "reportbot-template/2?campaign=x&form=y&unit=1"} {
		if _, ok := ParseTemplateMarker(s); ok {
			t.Errorf("ParseTemplateMarker(%q) accepted it", s)
		}
	}
	// The form hash follows what decides the cells, not the wording.
	h := c.FormHash()
	if len(h) != 12 || h != DefaultCampaign().FormHash() {
		t.Fatalf("FormHash = %q, not stable", h)
	}
	edit := func(old, new string) string {
		src := string(DefaultCampaignYAML())
		if !strings.Contains(src, old) {
			t.Fatalf("default campaign has no %q", old)
		}
		c2, err := ParseCampaign([]byte(strings.Replace(src, old, new, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return c2.FormHash()
	}
	if edit("prompt: 填报人姓名", "prompt: 填报人的姓名") != h {
		t.Errorf("FormHash changed with a prompt's wording")
	}
	if edit("max_len: 20", "max_len: 30") == h {
		t.Errorf("FormHash did not change with a length limit")
	}
}

// A contact uploads the template at different points: before /report, in
// the middle of the form, after submitting (a revision), after the office
// returned the report with a flagged question (only that answer changes),
// and after the deadline (locked). The texts are in golden/template.txt.
func TestTemplateSteps(t *testing.T) {
	c := DefaultCampaign()
	u := countyUnit
	read := func(values map[string]string) TemplateUpload {
		return c.ReadTemplate(u, templateSheet(c, &u, values))
	}
	with := func(changes map[string]string) map[string]string {
		m := maps.Clone(templateValues)
		maps.Copy(m, changes)
		return m
	}

	// Before /report: the form starts and goes to the 专题报告.
	s := newSession(t, u, beforeDeadline)
	s.template(read(with(map[string]string{"troop_visits": "0", "troop_cash": "1", "hardship_people": "0"})))
	s.wantCursor("report_doc")
	s.wantSaid("✅ 已从模板读取 23 项填报内容。", "以下 4 项不需要填写，已忽略：「慰问部队资金」、「慰问部队物资折价」、「帮扶救助金额」、「困难类型（可多选）」")
	if _, ok := s.d.Answers["troop_cash"]; ok || !s.d.Answers["highlights"].Skipped {
		t.Errorf("answers after the template: %v", s.d.Answers)
	}

	// In the middle of the form, with photos already received: the
	// template replaces the typed answers and keeps the files.
	s.send(pdfFile)
	s.send(photo(1))
	s.press("完成")
	s.wantCursor("")
	s.template(read(with(map[string]string{"essays": "99"})))
	s.wantCursor("")
	s.wantSaid("已从模板读取 27 项", "📋 填报内容汇总", "组织双拥主题征文：99 篇", "专题报告（正式文件）：专题报告.pdf", "活动照片（最多9张）：1 张")
	s.press("✅ 确认提交")

	// After submitting: a revision, submitted as version 2.
	s.template(read(with(map[string]string{"essays": "100"})))
	if s.d.Status != StatusRevising || s.d.Version != 1 {
		t.Fatalf("after a template on a submitted report: status %q version %d", s.d.Status, s.d.Version)
	}
	s.wantSaid("正在修改已提交的第 1 版")
	s.press("✅ 确认提交（第 2 版）")
	if r := s.last.Report; r == nil || r.Version != 2 || r.Answers["essays"].Num != 100 {
		t.Fatalf("revision by template = %+v", s.last.Report)
	}

	// Returned with a flagged question: only it changes, and what the
	// change makes necessary.
	d, err := c.Return(s.d, "慰问部队次数有误", "troop_visits", 9, afterDeadline)
	if err != nil {
		t.Fatal(err)
	}
	s.d = d
	s.at(afterDeadline)
	before := maps.Clone(s.d.Answers)
	s.template(read(with(map[string]string{"troop_visits": "9", "essays": "7", "forums": "6"})))
	s.wantCursor("")
	s.wantSaid("已按模板修改退回的「走访慰问驻吕部队」：9 次", "模板中另有 2 项与已提交的内容不同，没有采用：「组织双拥主题征文」、「召开座谈会」")
	for id, a := range s.d.Answers {
		if id != "troop_visits" && !reflect.DeepEqual(a, before[id]) {
			t.Errorf("returned for troop_visits, the template changed %s: %+v → %+v", id, before[id], a)
		}
	}
	if s.d.Answers["troop_visits"].Num != 9 {
		t.Errorf("troop_visits = %d, want 9", s.d.Answers["troop_visits"].Num)
	}
	s.press("✅ 确认提交")
	if s.last.Report == nil || s.last.Report.Version != 3 {
		t.Fatalf("resubmission after the template = %+v", s.last.Report)
	}

	// Locked after the deadline: nothing is read.
	locked := s.d
	s.template(read(templateValues))
	s.wantSaid("报告已锁定")
	if !reflect.DeepEqual(s.d, locked) {
		t.Errorf("a template changed a locked report")
	}

	// A refusal and a list of problems change nothing either.
	s2 := draftAt(t, u, "essays", nil)
	before2 := s2.d
	s2.template(c.TemplateRefused(FaultNoMarker))
	s2.template(read(with(map[string]string{"essays": "三", "filler_phone": "123"})))
	if !reflect.DeepEqual(s2.d, before2) {
		t.Errorf("a refused template changed the draft")
	}
	checkGolden(t, "template", s.transcript.String()+"\n(a draft at essays)\n\n"+s2.transcript.String()[strings.Index(s2.transcript.String(), "> template"):])
}

// A flagged document cannot be changed by a template; a flagged number
// whose change asks more (troop_visits 0 → 3 asks troop_cash and
// troop_goods) takes those too.
func TestTemplateFlaggedReturns(t *testing.T) {
	c := DefaultCampaign()
	u := countyUnit
	s := filledDraft(t, u, map[string]string{"troop_visits": "0"})
	s.press("✅ 确认提交")
	d, err := c.Return(s.d, "请上传盖章件", "report_doc", 9, beforeDeadline)
	if err != nil {
		t.Fatal(err)
	}
	s.d = d
	before := s.d
	s.template(c.ReadTemplate(u, templateSheet(c, &u, templateValues)))
	if !reflect.DeepEqual(s.d, before) {
		t.Errorf("a template changed a report returned for its document")
	}
	s.wantSaid("退回修改的是「专题报告（正式文件）」，需要在对话中重新上传")

	s = filledDraft(t, u, map[string]string{"troop_visits": "0"})
	s.press("✅ 确认提交")
	if d, err = c.Return(s.d, "慰问部队次数有误", "troop_visits", 9, beforeDeadline); err != nil {
		t.Fatal(err)
	}
	s.d = d
	s.template(c.ReadTemplate(u, templateSheet(c, &u, templateValues)))
	s.wantCursor("")
	s.wantSaid("另有 2 项也按模板填写")
	if s.d.Answers["troop_cash"].Num != 1250 || s.d.Answers["troop_goods"].Num != 325 || s.d.Answers["essays"].Num != 3 {
		t.Errorf("after the flagged template: troop_cash %v troop_goods %v essays %v", s.d.Answers["troop_cash"], s.d.Answers["troop_goods"], s.d.Answers["essays"])
	}
}

// A choice question (not in the default form) reads its option by label
// or id, like the chat.
func TestTemplateChoice(t *testing.T) {
	src := strings.Replace(string(DefaultCampaignYAML()), "      - {id: highlights,",
		"      - id: level\n        prompt: 活动级别\n        type: choice\n        required: true\n        options:\n          - {id: city, label: 市级}\n          - {id: county, label: 县级}\n      - {id: highlights,", 1)
	c, err := ParseCampaign([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	u := countyUnit
	for value, want := range map[string]string{"县级": "county", "city": "city", "省级": "", "": ""} {
		ts := templateSheet(c, &u, templateValues)
		ts.Cells["level"][0].Value = value
		up := c.ReadTemplate(u, ts)
		switch {
		case want != "" && (len(up.Problems) > 0 || up.Answers["level"].Text != want):
			t.Errorf("choice %q = %+v, problems %v; want %s", value, up.Answers["level"], up.Problems, want)
		case want == "" && len(up.Problems) != 1:
			t.Errorf("choice %q: problems %v, want one", value, up.Problems)
		}
	}
	rows := c.TemplateRows(&u, nil)
	i := slices.IndexFunc(rows, func(r TemplateRow) bool { return r.Question != nil && r.Question.ID == "level" })
	if rows[i].Kind != "单选" || !strings.Contains(rows[i].Hint, "市级 / 县级") {
		t.Errorf("choice row = %+v", rows[i])
	}
}

// The rows of a county's template and of the blank one, with their
// numbers, kinds and hints: golden/template-rows.txt.
func TestTemplateRows(t *testing.T) {
	c := DefaultCampaign()
	var b strings.Builder
	for _, u := range []*Unit{&countyUnit, &militaryUnit, nil} {
		name := "blank"
		if u != nil {
			name = u.Name
		}
		fmt.Fprintf(&b, "== %s (%s)\n", name, c.TemplateMarkerFor(u))
		for _, r := range c.TemplateRows(u, nil) {
			if r.Question == nil {
				fmt.Fprintf(&b, "# %s\n", r.Heading)
				continue
			}
			fmt.Fprintf(&b, "%d | %s | %s | %s | %s\n", r.Number, r.Question.ID, r.Question.Prompt, r.Kind, r.Hint)
		}
		b.WriteString("\n")
	}
	// Prefilled answers: skipped ones and files stay empty.
	rows := c.TemplateRows(&countyUnit, map[string]Answer{"essays": {Num: 3}, "highlights": {Skipped: true}, "report_doc": {Files: []File{pdfFile}}})
	for _, r := range rows {
		if r.Question == nil {
			continue
		}
		if want := r.Question.ID == "essays"; (r.Value != nil) != want {
			t.Errorf("row %s prefilled %v, want %v", r.Question.ID, r.Value, want)
		}
	}
	checkGolden(t, "template-rows", b.String())
}
