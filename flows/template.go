package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The 报表 as a file both ways: a unit's template (填报模板) is a workbook
// with one row per question, written by flows/sheet from TemplateRows; a
// filled template sent back is read by flows/sheet into a TemplateSheet
// (the answer cells by question id), checked here by ReadTemplate with the
// chat's own parsers, and applied to the draft by StepTemplate, one step
// like a typed answer. Nothing here reads or writes a workbook.

// templateMarkerPrefix starts the hidden marker of a template; the version
// after the slash is the layout's.
const templateMarkerPrefix = "reportbot-template/1?"

// TemplateMarker identifies a template: hidden in the workbook, it tells an
// upload of one of our templates from any other workbook, and for which
// campaign, form and unit it was made.
type TemplateMarker struct {
	Campaign string // Campaign.ID
	Form     string // Campaign.FormHash when it was made
	Unit     int64  // the unit's id; 0 for a blank template for any unit
	Category string // the unit's category then ("" for a blank template)
	UnitName string // the unit's name then, to name it in a refusal
}

// String is the marker as it is stored in the workbook.
func (m TemplateMarker) String() string {
	v := url.Values{}
	v.Set("campaign", m.Campaign)
	v.Set("form", m.Form)
	v.Set("unit", strconv.FormatInt(m.Unit, 10))
	if m.Category != "" {
		v.Set("cat", m.Category)
	}
	if m.UnitName != "" {
		v.Set("name", m.UnitName)
	}
	return templateMarkerPrefix + v.Encode()
}

// IsTemplateMarker reports whether a cell's text looks like a template's
// marker (of any layout version).
func IsTemplateMarker(s string) bool { return strings.HasPrefix(s, "reportbot-template/") }

// ParseTemplateMarker reads a marker written by TemplateMarker.String.
func ParseTemplateMarker(s string) (TemplateMarker, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), templateMarkerPrefix)
	if !ok {
		return TemplateMarker{}, false
	}
	v, err := url.ParseQuery(rest)
	if err != nil {
		return TemplateMarker{}, false
	}
	unit, err := strconv.ParseInt(v.Get("unit"), 10, 64)
	if err != nil || unit < 0 || v.Get("campaign") == "" || v.Get("form") == "" {
		return TemplateMarker{}, false
	}
	return TemplateMarker{Campaign: v.Get("campaign"), Form: v.Get("form"), Unit: unit, Category: v.Get("cat"), UnitName: v.Get("name")}, true
}

// FormHash is the version of the campaign's form: a short hash of
// everything that decides which rows a template has and how its cells are
// read (ids, types, units, conditions, ranges, options), but not of the
// wording of prompts and titles, so that correcting a typo in the campaign
// file does not turn away the templates already handed out.
func (c *Campaign) FormHash() string {
	h := sha256.New()
	num := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for _, s := range c.Sections {
		fmt.Fprintf(h, "S %q %q\n", s.ID, s.AppliesTo)
		for _, q := range s.Questions {
			fmt.Fprintf(h, "Q %q %q %q %t %q %q %q %s %s %d %d %d\n", q.ID, q.Type, q.Unit, q.Required, q.AppliesTo,
				q.When, q.MaxOf, num(q.Min), num(q.Max), q.MinLen, q.MaxLen, q.MaxFiles)
			for _, o := range q.Options {
				fmt.Fprintf(h, "O %q %q\n", o.ID, o.Label)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// TemplateMarkerFor is the marker of u's template (u nil: a blank template
// for any unit).
func (c *Campaign) TemplateMarkerFor(u *Unit) TemplateMarker {
	m := TemplateMarker{Campaign: c.ID, Form: c.FormHash()}
	if u != nil {
		m.Unit, m.Category, m.UnitName = u.ID, u.Category, u.Name
	}
	return m
}

// TemplateFillable reports whether q is answered in a template's cell;
// documents and photos are sent in the chat.
func TemplateFillable(q *Question) bool { return q.Type != TypeDocument && q.Type != TypePhotos }

// TemplateRow is one row of a template below its header: a section's
// heading (Question nil) or a question.
type TemplateRow struct {
	Section  *Section
	Heading  string    // a heading row's text: the section's title, with the categories it is for on a blank template
	Question *Question // nil for a heading
	Number   int       // 题号: the question's place among the template's questions, from 1
	Kind     string    // 单位/类型: the counting unit (篇, 万元…) or the kind of answer (文字, 单选…)
	Hint     string    // 说明: what to fill in, and when
	// Value is the answer filled in beforehand (the draft's), nil if none.
	Value *Answer
}

// TemplateRows lists the rows of u's template in form order: the sections
// and questions asked of its category (u nil: every question, for a blank
// template), questions whose `when` may not hold included, with the hint of
// each. answers, if any, fill the rows in (skipped answers stay empty).
func (c *Campaign) TemplateRows(u *Unit, answers map[string]Answer) []TemplateRow {
	var rows []TemplateRow
	numbers := map[string]int{}
	var sec *Section
	for _, q := range c.questions {
		if u != nil && !q.ForCategory(u.Category) {
			continue
		}
		if q.Section != sec {
			sec = q.Section
			heading := sec.Title
			if u == nil && len(sec.AppliesTo) > 0 {
				heading += "（仅" + c.categoryList(sec.AppliesTo) + "填写）"
			}
			rows = append(rows, TemplateRow{Section: sec, Heading: heading})
		}
		numbers[q.ID] = len(numbers) + 1
		r := TemplateRow{Section: sec, Question: q, Number: numbers[q.ID], Kind: templateKind(q), Hint: c.templateHint(q, u == nil, numbers)}
		if a, ok := answers[q.ID]; ok && !a.Skipped && TemplateFillable(q) {
			r.Value = &a
		}
		rows = append(rows, r)
	}
	return rows
}

// categoryList names categories by their short names: 县市区、市直.
func (c *Campaign) categoryList(ids []string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if cat, ok := c.Category(id); ok {
			names = append(names, ShortName(cat))
		}
	}
	return strings.Join(names, "、")
}

func templateKind(q *Question) string {
	switch q.Type {
	case TypeInteger:
		if q.Unit != "" {
			return q.Unit
		}
		return "整数"
	case TypeMoney:
		return "万元"
	case TypeText:
		return "文字"
	case TypePhone:
		return "电话"
	case TypeChoice:
		return "单选"
	case TypeMultiChoice:
		return "多选"
	case TypeDocument:
		return "文件"
	case TypePhotos:
		return "照片"
	}
	return q.Type
}

// TemplateUploadHere is what a template shows in the answer cell of a
// document or photos question.
const TemplateUploadHere = "请在对话中上传"

// templateHint is the 说明 of q's row; numbers are the template's 题号.
func (c *Campaign) templateHint(q *Question, blank bool, numbers map[string]int) string {
	var parts []string
	when := ""
	if q.cond != nil {
		when = c.condText(q, numbers)
		if r, _ := utf8.DecodeLastRuneInString(when); r >= '0' && r <= '9' {
			when += " "
		}
	}
	switch {
	case q.cond != nil && q.Required:
		parts = append(parts, when+"时必填，否则留空")
	case q.cond != nil:
		parts = append(parts, when+"时填写（选填），否则留空")
	case !TemplateFillable(q):
	case q.Required:
		parts = append(parts, "必填")
	default:
		parts = append(parts, "选填，没有可留空")
	}
	switch q.Type {
	case TypeInteger, TypeMoney:
		lo, hi, stated := c.numberBounds(q, nil)
		show := func(n int64) string { return FormatNumber(q, n) }
		var s string
		switch {
		case q.Type == TypeMoney && stated:
			s = fmt.Sprintf("填 %s–%s 万元，最多两位小数（5000 元填 0.5）", show(lo), show(hi))
		case q.Type == TypeMoney:
			s = "单位万元，最多两位小数（5000 元填 0.5）"
		case stated:
			s = fmt.Sprintf("填 %s–%s 的整数", show(lo), show(hi))
		default:
			s = fmt.Sprintf("填不小于 %s 的整数", show(lo))
		}
		if lo <= 0 && q.cond == nil {
			s += "，没有填 0"
		}
		parts = append(parts, s)
		if ref := c.Question(q.MaxOf); ref != nil {
			parts = append(parts, fmt.Sprintf("不能大于第 %d 题", numbers[ref.ID]))
		}
	case TypeText:
		limit := q.MaxLen
		if limit == 0 {
			limit = textRunes
		}
		if q.MinLen > 1 {
			parts = append(parts, fmt.Sprintf("%d–%d 个字", q.MinLen, limit))
		} else {
			parts = append(parts, fmt.Sprintf("不超过 %d 个字", limit))
		}
	case TypePhone:
		parts = append(parts, "手机号（11 位）或带区号的座机号，如 0358-8498917")
	case TypeChoice:
		parts = append(parts, "从下拉列表中选一项："+optionLabels(q, " / "))
	case TypeMultiChoice:
		parts = append(parts, "可多选，用顿号隔开，如“"+q.Options[0].Label+"、"+q.Options[1].Label+"”；可选："+optionLabels(q, "、"))
	case TypeDocument:
		parts = append(parts, "请在对话中上传 PDF、Word、WPS、OFD 文件，或盖章文件的照片")
	case TypePhotos:
		parts = append(parts, fmt.Sprintf("请在对话中发送，最多 %d 张（选填）", photoLimit(q)))
	}
	if blank && len(q.AppliesTo) > 0 {
		parts = append(parts, "仅"+c.categoryList(q.AppliesTo)+"填写")
	}
	return strings.Join(parts, "；") + "。"
}

func optionLabels(q *Question, sep string) string {
	labels := make([]string, len(q.Options))
	for i, o := range q.Options {
		labels[i] = o.Label
	}
	return strings.Join(labels, sep)
}

// condText says q's `when` in words: 第 11 题大于 0.
func (c *Campaign) condText(q *Question, numbers map[string]int) string {
	k := q.cond
	ref := c.byID[k.ID]
	name := "「" + shorten(label(ref), 16) + "」"
	if n, ok := numbers[ref.ID]; ok {
		name = fmt.Sprintf("第 %d 题", n)
	}
	if ref.Type == TypeMultiChoice || ref.Type == TypeChoice {
		o := ref.option(k.Value)
		what := k.Value
		if o != nil {
			what = o.Label
		}
		if k.Op == "!=" {
			return name + "不是“" + what + "”"
		}
		if ref.Type == TypeMultiChoice {
			return name + "选了“" + what + "”"
		}
		return name + "为“" + what + "”"
	}
	ops := map[string]string{">": "大于", ">=": "不小于", "<": "小于", "<=": "不大于", "=": "等于", "!=": "不等于"}
	v, _ := parseNumber(ref, k.Value)
	return name + ops[k.Op] + " " + FormatNumber(ref, v)
}

// TemplateCell is one answer cell of an uploaded template as the workbook
// reader found it.
type TemplateCell struct {
	Ref   string // the cell, e.g. D14
	Value string // its text; a number in plain decimal; a formula's cached value
	Fault CellFault
}

// CellFault is why a cell's value cannot be used.
type CellFault int

const (
	CellOK         CellFault = iota // the value can be used
	CellNoValue                     // a formula without a computed (cached) value
	CellErrorValue                  // a formula whose value is an error: #DIV/0!, #VALUE!…
)

// TemplateSheet is what the workbook reader found in an uploaded template:
// its marker and the answer cells, by question id (more than one when a
// row was copied), in row order.
type TemplateSheet struct {
	Marker TemplateMarker
	Cells  map[string][]TemplateCell
}

// TemplateProblem is a cell of an uploaded template that cannot be taken.
type TemplateProblem struct {
	Cell     string // "" when the question's row is missing
	Number   int    // the question's 题号 in the template
	Question *Question
	Msg      string
}

// String is the problem as the contact reads it:
// D14 · 第 11 题 走访慰问驻吕部队（次）：“三”不是数字。
func (p TemplateProblem) String() string {
	s := fmt.Sprintf("第 %d 题 %s：%s", p.Number, p.Question.Title(), p.Msg)
	if p.Cell != "" {
		s = p.Cell + " · " + s
	}
	return s
}

// TemplateUpload is an uploaded template, read and checked for a unit: the
// input of StepTemplate. Exactly one of Refusal, Problems and Answers
// matters: a file that is not a template for this unit, the cells that
// cannot be taken (nothing is taken then), or the answers.
type TemplateUpload struct {
	Refusal  string
	Problems []TemplateProblem
	// Answers has an answer for every fillable question of the template
	// that is asked of the unit, given these answers (Skipped for an empty
	// optional one); questions whose `when` does not hold have none.
	Answers map[string]Answer
	Filled  int      // how many answers were filled in (not skipped)
	Ignored []string // ids of questions filled in but not asked of the unit
}

// TemplateFault is why a file cannot be read as a template at all.
type TemplateFault int

const (
	FaultNotWorkbook TemplateFault = iota + 1 // not an .xlsx workbook, or a damaged one
	FaultOldFormat                            // an .xls (or .et) workbook, or an encrypted one
	FaultNoMarker                             // a workbook, but not one of our templates
	FaultTooBig                               // larger than a template can be
)

// TemplateRefused is the upload of a file that cannot be read as a template.
func (c *Campaign) TemplateRefused(f TemplateFault) TemplateUpload {
	var msg string
	switch f {
	case FaultOldFormat:
		msg = "这是旧版 Excel（.xls）格式或设置了密码的文件，无法读取。请在 Excel 或 WPS 中打开它，“另存为” Excel 工作簿（*.xlsx）格式（不要设置密码），再把新文件发给我。"
	case FaultNoMarker:
		msg = "这个 Excel 文件不是本机器人生成的填报模板，无法读取。请发送 /template 下载本单位的填报模板，填好后把文件原样发回给我。专题报告请以 PDF、Word、WPS 或 OFD 文件发送。"
	case FaultTooBig:
		msg = "这个 Excel 文件太大，不像是填报模板，没有读取。请发送 /template 下载本单位的填报模板，填好后把文件原样发回给我。"
	default:
		msg = "无法打开这个文件：它不是有效的 Excel 工作簿（.xlsx），可能已损坏。请发送 /template 重新下载填报模板。"
	}
	return TemplateUpload{Refusal: msg}
}

// ReadTemplate checks the answer cells of an uploaded template for u with
// the chat's parsers (parseAnswer), in form order, so that a 其中 is
// checked against its total and a `when` against the answer it depends
// on, as in the chat. It returns the answers, or every problem at once, or
// a refusal when the template is of another campaign, an older form or
// another unit. It is pure.
func (c *Campaign) ReadTemplate(u Unit, ts TemplateSheet) TemplateUpload {
	m := ts.Marker
	if msg := c.templateRefusal(u, m); msg != "" {
		return TemplateUpload{Refusal: msg}
	}
	var scope *Unit
	if m.Unit != 0 {
		scope = &u
	}
	up := TemplateUpload{Answers: map[string]Answer{}}
	bad := map[string]bool{} // questions with a problem
	for _, r := range c.TemplateRows(scope, nil) {
		q := r.Question
		if q == nil || !TemplateFillable(q) {
			continue
		}
		problem := func(cell, msg string) {
			up.Problems = append(up.Problems, TemplateProblem{Cell: cell, Number: r.Number, Question: q, Msg: msg})
			bad[q.ID] = true
		}
		cell, msg := templateAnswerCell(ts.Cells[q.ID])
		if msg != "" {
			problem(cell.Ref, msg)
			continue
		}
		c.readTemplateAnswer(u, q, cell, &up, bad, problem)
	}
	if len(up.Problems) > 0 {
		up.Answers, up.Filled, up.Ignored = nil, 0, nil
	}
	return up
}

// templateRefusal says why a template with marker m cannot be read for u
// (another campaign, an older form, another unit or category), or "".
func (c *Campaign) templateRefusal(u Unit, m TemplateMarker) string {
	switch {
	case m.Campaign != c.ID:
		return "这份模板属于另一次填报活动，不能用于《" + c.Title + "》。请发送 /template 下载本次的填报模板。"
	case m.Form != c.FormHash():
		return "这份模板是按旧版报表生成的，报表的题目已有调整，无法读取。请发送 /template 下载最新的模板，把内容填进新模板后再发给我。"
	case m.Unit != 0 && m.Unit != u.ID:
		name := "其他单位"
		if m.UnitName != "" {
			name = "“" + m.UnitName + "”"
		}
		return "这份模板是为" + name + "生成的，不能用于“" + u.Name + "”的填报。请发送 /template 下载本单位的填报模板。"
	case m.Unit != 0 && m.Category != u.Category:
		return "本单位的类别已调整，这份模板的题目已不适用。请发送 /template 重新下载本单位的填报模板。"
	}
	return ""
}

// templateAnswerCell picks a question's one answer cell from the cells found
// for it, or says what is wrong: its row is missing or repeated, or its
// formula has no value or an error (with the cell, when there is one).
func templateAnswerCell(cells []TemplateCell) (TemplateCell, string) {
	switch len(cells) {
	case 0:
		return TemplateCell{}, "模板中找不到这一题的行（可能被删除了）。请发送 /template 重新下载模板。"
	case 1:
	default:
		refs := make([]string, len(cells))
		for i, cell := range cells {
			refs[i] = cell.Ref
		}
		return cells[0], fmt.Sprintf("这一题在模板中出现了 %d 次（%s），请删除多余的行。", len(cells), strings.Join(refs, "、"))
	}
	cell := cells[0]
	switch cell.Fault {
	case CellNoValue:
		return cell, "单元格中的公式没有计算结果。请在 Excel 或 WPS 中打开模板、保存后再发送，或直接填写数值。"
	case CellErrorValue:
		return cell, "单元格中的公式计算出错（" + shorten(cell.Value, quoteRunes) + "），请改正或直接填写数值。"
	}
	return cell, ""
}

// readTemplateAnswer reads the answer to q from its cell into up, with the
// chat's parser, or tells problem what is wrong with it. A question not
// asked of the unit is ignored; bad holds the questions with a problem so
// far.
func (c *Campaign) readTemplateAnswer(u Unit, q *Question, cell TemplateCell, up *TemplateUpload, bad map[string]bool, problem func(cell, msg string)) {
	v := strings.TrimSpace(cell.Value)
	if v == "跳过" { // as typed in the chat
		v = ""
	}
	// Asked of the unit, given the answers above? A question whose
	// `when` depends on a cell with a problem is checked if filled in,
	// so that every problem is told at once.
	unsure := q.cond != nil && bad[q.cond.ID]
	if !q.ForCategory(u.Category) || (!unsure && !c.Applies(q, u.Category, up.Answers)) {
		if v != "" {
			up.Ignored = append(up.Ignored, q.ID)
		}
		return
	}
	if v == "" {
		switch {
		case unsure:
		case q.Required:
			problem(cell.Ref, "本题为必填题，不能为空。")
		default:
			up.Answers[q.ID] = Answer{Skipped: true}
		}
		return
	}
	a, msg := c.parseAnswer(q, up.Answers, v)
	if msg != "" {
		problem(cell.Ref, msg)
		return
	}
	up.Answers[q.ID] = a
	up.Filled++
}

// StepTemplate applies an uploaded template to a unit's draft, like Step
// applies one input: it does no I/O, and the caller stores the result.
//
// A refusal or problems are told and change nothing. Otherwise every
// answer of the template replaces the draft's (documents and photos are
// kept), and the contact goes to the first question that still needs an
// answer in the chat (a document), or to the summary. A submitted report
// is revised (its next version), as 修改报告 does; a report the office
// returned with one flagged question takes only that answer and those the
// change makes necessary.
func (c *Campaign) StepTemplate(d Draft, env Env, up TemplateUpload) Result {
	return c.stepWith(d, env, func(s *step) { s.template(up) })
}

func (s *step) template(up TemplateUpload) {
	switch {
	case s.locked():
		s.sayLocked()
		return
	case up.Refusal != "":
		s.sayText(up.Refusal)
		return
	case len(up.Problems) > 0:
		s.say(templateProblems(up.Problems)...)
		return
	}
	var flagged *Question
	if s.d.Status == StatusReturned && s.d.Returned != nil {
		flagged = s.c.Question(s.d.Returned.Question)
	}
	if flagged != nil && !TemplateFillable(flagged) {
		s.sayText("退回修改的是「" + label(flagged) + "」，需要在对话中重新上传，模板中的内容没有采用。")
		s.show("")
		return
	}
	switch s.d.Status {
	case StatusNew:
		if len(s.path()) == 0 {
			s.sayText("本单位没有需要填报的题目，请联系" + s.c.Office + "核对单位类别。")
			return
		}
		s.touch()
		s.d.Status = StatusFilling
		s.d.StartedAt = s.env.Now
		if s.d.UnitID == 0 {
			s.d.UnitID = s.env.Unit.ID
		}
	case StatusSubmitted:
		s.touch()
		s.d.Status = StatusRevising
	}
	s.touch()
	if s.d.Answers == nil {
		s.d.Answers = map[string]Answer{}
	}
	var notes []string
	if flagged != nil {
		notes = s.takeFlagged(up, flagged)
	} else {
		for _, q := range s.c.Questions() {
			if TemplateFillable(q) && q.ForCategory(s.cat) {
				s.take(q, up)
			}
		}
		notes = append(notes, fmt.Sprintf("✅ 已从模板读取 %d 项填报内容。", up.Filled))
	}
	if len(up.Ignored) > 0 {
		notes = append(notes, fmt.Sprintf("按您填写的情况，以下 %d 项不需要填写，已忽略：%s。", len(up.Ignored), s.prompts(up.Ignored)))
	}
	if dropped := s.prune(); len(dropped) > 0 {
		notes = append(notes, fmt.Sprintf("根据您的修改，以下 %d 项不再需要填写，原答案已删除：%s。", len(dropped), strings.Join(dropped, "、")))
	}
	if far := s.unconfirmedOutliers(); len(far) > 0 {
		notes = append(notes, "⚠️ 以下数字与上年相差较大或超过通常上限，请核对："+strings.Join(far, "；")+"。如有误，请在汇总页点对应的「改 n」修改。")
	}
	next := s.firstNeeded()
	if next == nil {
		s.moveTo(nil, false)
		s.say(s.c.summaryReplies(s.d, s.env, strings.Join(notes, "\n"))...)
		return
	}
	if TemplateFillable(next) {
		notes = append(notes, "还需要填写下面这一题。")
	} else {
		notes = append(notes, "模板中的内容已全部读取，还需要在对话中上传下面这一项。")
	}
	// Filling in the first version, the contact goes on through the form
	// from there; otherwise back to the summary once nothing is missing.
	s.moveTo(next, s.d.Status != StatusFilling)
	s.ask(next, strings.Join(notes, "\n"))
}

// take sets q's answer to the template's (none if the template has none).
func (s *step) take(q *Question, up TemplateUpload) {
	a, ok := up.Answers[q.ID]
	if !ok || !sameAnswer(a, s.d.Answers[q.ID]) {
		s.setConfirmed(q.ID, false) // a confirmed outlier answer was replaced
	}
	if ok {
		s.d.Answers[q.ID] = a
	} else {
		delete(s.d.Answers, q.ID)
	}
}

// takeFlagged takes the flagged question's answer from the template, and
// those of the questions the change makes necessary (a question its
// `when` now asks, a 其中 now above its total); the other cells are left
// as submitted, and the notes say which of them differ.
func (s *step) takeFlagged(up TemplateUpload, flagged *Question) []string {
	taken := map[string]bool{}
	for _, q := range s.c.Questions() { // form order: a change reaches only later questions
		if !TemplateFillable(q) || !s.c.Applies(q, s.cat, s.d.Answers) {
			continue
		}
		if q == flagged || s.c.needs(q, s.d.Answers) {
			s.take(q, up)
			taken[q.ID] = true
		}
	}
	notes := []string{"✅ 已按模板修改退回的「" + label(flagged) + "」" + fmt.Sprintf("：%s。", s.c.summaryAnswer(flagged, s.d.Answers, nil))}
	if len(taken) > 1 {
		notes[0] += fmt.Sprintf("因这一修改，另有 %d 项也按模板填写。", len(taken)-1)
	}
	var differ []string
	for _, q := range s.c.Path(s.cat, s.d.Answers) {
		a, ok := up.Answers[q.ID]
		if TemplateFillable(q) && !taken[q.ID] && ok && !sameAnswer(a, s.d.Answers[q.ID]) {
			differ = append(differ, q.ID)
		}
	}
	if len(differ) > 0 {
		notes = append(notes, fmt.Sprintf("本次退回只修改这一项。模板中另有 %d 项与已提交的内容不同，没有采用：%s。如确需修改，请在汇总页点对应的「改 n」。", len(differ), s.prompts(differ)))
	}
	return notes
}

// prompts names questions by their labels: 慰问部队资金、慰问部队物资折价.
func (s *step) prompts(ids []string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if q := s.c.Question(id); q != nil {
			names = append(names, "「"+shorten(label(q), 24)+"」")
		}
	}
	return strings.Join(names, "、")
}

// sameAnswer compares the typed parts of two answers.
func sameAnswer(a, b Answer) bool {
	return a.Skipped == b.Skipped && a.Num == b.Num && a.Text == b.Text && slices.Equal(a.Picks, b.Picks)
}

// templateProblems lists every problem of an upload, in as many messages
// as it takes.
func templateProblems(ps []TemplateProblem) []Reply {
	lines := []string{fmt.Sprintf("❌ 模板中有 %d 处问题，本次没有读取任何内容，已填的内容没有改动：", len(ps)), ""}
	for i, p := range ps {
		lines = append(lines, fmt.Sprintf("%d. %s", i+1, p))
	}
	lines = append(lines, "", "请在模板中改正以上单元格，保存后把整个文件重新发给我。")
	texts := packLines(lines, MaxMessageLen)
	rs := make([]Reply, len(texts))
	for i, t := range texts {
		rs[i] = Reply{Text: t}
	}
	return rs
}

// TemplateCaption is the caption of the template file sent to a contact
// (u set, with the draft's answers filled in or not) or to the office.
func (c *Campaign) TemplateCaption(u *Unit, prefilled bool) string {
	var b strings.Builder
	b.WriteString("《" + c.Title + "》统计报表填报模板")
	if u != nil {
		b.WriteString(" · " + u.Name)
	} else {
		b.WriteString("（通用，任何单位均可使用）")
	}
	b.WriteString("\n请在黄色单元格中填写")
	if prefilled {
		b.WriteString("（已填入目前的答案，可直接修改）")
	}
	b.WriteString("，保存后把文件原样发给机器人，即可一次填完；专题报告和照片仍在对话中上传。填报中、提交后修改时都可以发送。")
	return b.String()
}

// NumberRange is the range a number question accepts on its own, in its
// stored unit (hundredths of 万元 for money): its min/max, or 0 and the
// sanity cap. A 其中's total is checked when the template is read.
func (c *Campaign) NumberRange(q *Question) (lo, hi int64) {
	lo, hi, _ = c.numberBounds(q, nil)
	return lo, hi
}
