package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"reportbot/flows"
)

// The 填报模板: a unit's statistics form as a workbook to fill in offline
// and send back (flows/template.go has the rows, the checks and the step).
//
// Layout of the one sheet 填报模板:
//
//	row 1       the title                                   | F1: the marker (hidden)
//	row 2       填报单位 · 单位类别 · 截止时间
//	row 3       题号 | 问题 | 单位/类型 | 填写内容 | 说明      (rows 1–3 print on every page)
//	row 4…      a heading row per section, a row per question | F: the question id (hidden)
//	below       填写说明
//
// Only the answer cells (column D) are unlocked; the sheet is protected
// without a password, inserting rows allowed. A file is recognised by its
// marker and read by the question ids in the hidden column, so rows moved
// or inserted by the user do not matter.

// TemplateSheet is the name of the template's sheet.
const TemplateSheet = "填报模板"

// Columns of the template, from 1 (A).
const (
	colNumber = iota + 1
	colQuestion
	colKind
	colAnswer
	colHint
	colID // hidden: the marker (row 1) and each question row's id
)

// templateAnswerHeader is the title of the answer column; the reader finds
// the column by it.
const templateAnswerHeader = "填写内容"

// templateTitleRows are the rows above the form: title, unit, headers.
const templateTitleRows = 3

// MaxTemplateSize is the largest upload read as a template: a filled
// template is some 20 KB, 2 MB leaves room for any program's way of
// saving it (and images someone pasted in).
const MaxTemplateSize = 2 << 20

// unzipLimit bounds what a template may unpack to (a zip bomb is refused).
const unzipLimit = 32 << 20

// maxScanRows and maxScanSheets bound the search for the marker in a
// workbook that is not one of ours.
const (
	maxScanSheets = 16
	maxScanRows   = 2000
)

// TemplateFileName is the template's file name: 填报模板_离石区双拥工作领导小组.xlsx.
func TemplateFileName(u *flows.Unit) string {
	if u == nil {
		return "填报模板_通用.xlsx"
	}
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return '_'
		}
		return r
	}, u.Name)
	return "填报模板_" + name + ".xlsx"
}

// templateStyles are the cell styles of a template.
type templateStyles struct {
	title, info, header, section, number, question, kind, hint, notes int
	fileCell                                                          int
	answer                                                            map[string]int // by question type
}

func newTemplateStyles(f *excelize.File) (*templateStyles, error) {
	var errs []error
	add := func(st excelize.Style) int {
		id, err := f.NewStyle(&st)
		errs = append(errs, err)
		return id
	}
	border := []excelize.Border{
		{Type: "left", Color: "A6A6A6", Style: 1}, {Type: "right", Color: "A6A6A6", Style: 1},
		{Type: "top", Color: "A6A6A6", Style: 1}, {Type: "bottom", Color: "A6A6A6", Style: 1},
	}
	middle := func(h string, wrap bool) *excelize.Alignment {
		return &excelize.Alignment{Horizontal: h, Vertical: "center", WrapText: wrap}
	}
	s := &templateStyles{answer: map[string]int{}}
	s.title = add(excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}, Alignment: middle("center", true)})
	s.info = add(excelize.Style{Font: &excelize.Font{Color: "404040"}, Alignment: middle("left", true)})
	s.header = add(excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}, Alignment: middle("center", true)})
	s.section = add(excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}, Alignment: middle("left", true)})
	s.number = add(excelize.Style{Border: border, Alignment: middle("center", false)})
	s.question = add(excelize.Style{Border: border, Alignment: middle("left", true)})
	s.kind = add(excelize.Style{Border: border, Alignment: middle("center", true)})
	s.hint = add(excelize.Style{Font: &excelize.Font{Size: 9, Color: "595959"}, Border: border, Alignment: middle("left", true)})
	s.notes = add(excelize.Style{Font: &excelize.Font{Size: 9, Color: "404040"}, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	s.fileCell = add(excelize.Style{Font: &excelize.Font{Italic: true, Color: "7F7F7F"}, Border: border,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}}, Alignment: middle("center", true)})
	yellow := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}
	unlocked := &excelize.Protection{Locked: false}
	answer := func(numFmt int, h string, wrap bool) int {
		return add(excelize.Style{Border: border, Fill: yellow, Protection: unlocked, NumFmt: numFmt, Alignment: middle(h, wrap)})
	}
	s.answer[flows.TypeInteger] = answer(1, "right", false) // 0
	s.answer[flows.TypeMoney] = answer(2, "right", false)   // 0.00
	for _, t := range []string{flows.TypeText, flows.TypePhone, flows.TypeChoice, flows.TypeMultiChoice} {
		s.answer[t] = answer(49, "left", true) // @: text, so that 0358… keeps its 0
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new cell style: %w", err)
	}
	return s, nil
}

// WriteTemplate writes the template of campaign c for unit u (nil: a blank
// template for any unit, with every category's questions) to w, with
// answers (the unit's draft, or nil) filled in.
func WriteTemplate(w io.Writer, c *flows.Campaign, u *flows.Unit, answers map[string]flows.Answer, deadline string) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close template: %w", cerr)
		}
	}()
	if err := f.SetSheetName("Sheet1", TemplateSheet); err != nil {
		return fmt.Errorf("name sheet %s: %w", TemplateSheet, err)
	}
	st, err := newTemplateStyles(f)
	if err != nil {
		return err
	}
	if err := writeTemplate(f, st, c, u, answers, deadline); err != nil {
		return fmt.Errorf("write template: %w", err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: c.Title + " 填报模板", Subject: c.Notice, Creator: "双拥工作情况报送机器人"}); err != nil {
		return fmt.Errorf("set document properties: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write template: %w", err)
	}
	return nil
}

// writeTemplate fills the template's sheet: the title block with the
// marker, a row per heading and question of the form, the notes on how to
// fill it in, and the sheet's protection and print setup.
func writeTemplate(f *excelize.File, st *templateStyles, c *flows.Campaign, u *flows.Unit, answers map[string]flows.Answer, deadline string) error {
	const sh = TemplateSheet
	widths := map[int]float64{colNumber: 6, colQuestion: 38, colKind: 9, colAnswer: 22, colHint: 36, colID: 12}
	for col, width := range widths {
		name, _ := excelize.ColumnNumberToName(col)
		if err := f.SetColWidth(sh, name, name, width); err != nil {
			return err
		}
	}
	if err := writeTemplateTitle(f, st, c, u, deadline); err != nil {
		return err
	}
	row, err := writeTemplateForm(f, st, c, u, answers)
	if err != nil {
		return err
	}
	if err := writeTemplateNotes(f, st, row+2); err != nil {
		return err
	}

	if err := f.SetColVisible(sh, "F", false); err != nil {
		return err
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: templateTitleRows, TopLeftCell: cell(colNumber, templateTitleRows+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := PrintSetup(f, sh, Print{Paper: PaperA4, TitleRows: templateTitleRows}); err != nil {
		return err
	}
	return f.ProtectSheet(sh, &excelize.SheetProtectionOptions{
		SelectLockedCells: true, SelectUnlockedCells: true,
		FormatColumns: true, FormatRows: true, InsertRows: true,
	})
}

// setTemplateCell sets a cell of the template's sheet and its style.
func setTemplateCell(f *excelize.File, col, row int, v any, style int) error {
	ref := cell(col, row)
	if err := f.SetCellValue(TemplateSheet, ref, v); err != nil {
		return err
	}
	return f.SetCellStyle(TemplateSheet, ref, ref, style)
}

// mergeTemplateRow writes text across the visible columns of a row of the
// template's sheet, of height.
func mergeTemplateRow(f *excelize.File, row int, text string, style int, height float64) error {
	const sh = TemplateSheet
	if err := setTemplateCell(f, colNumber, row, text, style); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, cell(colNumber, row), cell(colHint, row), style); err != nil {
		return err
	}
	if err := f.MergeCell(sh, cell(colNumber, row), cell(colHint, row)); err != nil {
		return err
	}
	return f.SetRowHeight(sh, row, height)
}

// writeTemplateTitle writes the title block (the campaign, the unit, the
// deadline), the marker and the column titles.
func writeTemplateTitle(f *excelize.File, st *templateStyles, c *flows.Campaign, u *flows.Unit, deadline string) error {
	const sh = TemplateSheet
	title := c.Title + " · 统计报表"
	if err := mergeTemplateRow(f, 1, title, st.title, 30); err != nil {
		return err
	}
	if err := f.SetCellStr(sh, cell(colID, 1), c.TemplateMarkerFor(u).String()); err != nil {
		return err
	}
	info := "填报单位：（通用模板，任何单位均可使用；只填本单位类别适用的部分）"
	if u != nil {
		cat, _ := c.Category(u.Category)
		info = "填报单位：" + u.Name + "　　单位类别：" + cat.Name
	}
	info += "　　截止时间：" + deadline
	if c.Notice != "" {
		info += "　　文号：" + c.Notice
	}
	if err := mergeTemplateRow(f, 2, info, st.info, 32); err != nil {
		return err
	}
	headers := []string{"题号", "问题", "单位/类型", templateAnswerHeader, "说明"}
	for i, h := range headers {
		if err := setTemplateCell(f, i+1, templateTitleRows, h, st.header); err != nil {
			return err
		}
	}
	return f.SetRowHeight(sh, templateTitleRows, 22)
}

// writeTemplateForm writes a row per heading and question of the form and
// returns the last row written.
func writeTemplateForm(f *excelize.File, st *templateStyles, c *flows.Campaign, u *flows.Unit, answers map[string]flows.Answer) (int, error) {
	row := templateTitleRows
	for _, r := range c.TemplateRows(u, answers) {
		row++
		if r.Question == nil {
			if err := mergeTemplateRow(f, row, r.Heading, st.section, 22); err != nil {
				return 0, err
			}
			continue
		}
		if err := writeQuestionRow(f, st, c, row, r); err != nil {
			return 0, fmt.Errorf("row %d (%s): %w", row, r.Question.ID, err)
		}
	}
	return row, nil
}

// writeTemplateNotes writes how to fill the template in at row, below the
// form.
func writeTemplateNotes(f *excelize.File, st *templateStyles, row int) error {
	notes := "填写说明：\n" +
		"1. 只在黄色单元格中填写；其他单元格已锁定（无需密码即可撤销保护，但请不要改动题目和隐藏列）。\n" +
		"2. 数字请填阿拉伯数字；金额的单位是万元，最多两位小数（5000 元填 0.5）；没有的填 0；选填题没有可留空。\n" +
		"3. 带“时必填”的题目，只在条件成立时填写，否则留空。\n" +
		"4. 填好后保存（保持 .xlsx 格式），把文件原样发给机器人：机器人会一次读取全部内容，显示汇总供您核对后提交；有错误时会逐格列出，改正后重新发送即可。\n" +
		"5. 专题报告（正式文件）和活动照片请在对话中上传。"
	return mergeTemplateRow(f, row, notes, st.notes, 96)
}

// writeQuestionRow writes one question's row: its cells, the answer (if
// any) and the answer cell's validation.
func writeQuestionRow(f *excelize.File, st *templateStyles, c *flows.Campaign, row int, r flows.TemplateRow) error {
	const sh = TemplateSheet
	q := r.Question
	for _, v := range []struct {
		col   int
		value any
		style int
	}{
		{colNumber, r.Number, st.number},
		{colQuestion, q.Prompt, st.question},
		{colKind, r.Kind, st.kind},
		{colHint, r.Hint, st.hint},
	} {
		ref := cell(v.col, row)
		if err := f.SetCellValue(sh, ref, v.value); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, ref, ref, v.style); err != nil {
			return err
		}
	}
	if err := f.SetCellStr(sh, cell(colID, row), q.ID); err != nil {
		return err
	}
	ref := cell(colAnswer, row)
	lines := max(WrappedLines(q.Prompt, 36), WrappedLines(r.Hint, 34*10/9)) // the hint's font is smaller
	if !flows.TemplateFillable(q) {
		if err := f.SetCellStr(sh, ref, flows.TemplateUploadHere); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, ref, ref, st.fileCell); err != nil {
			return err
		}
		return f.SetRowHeight(sh, row, rowHeight(lines))
	}
	if err := f.SetCellStyle(sh, ref, ref, st.answer[q.Type]); err != nil {
		return err
	}
	if a := r.Value; a != nil {
		var err error
		switch q.Type {
		case flows.TypeInteger:
			err = f.SetCellInt(sh, ref, a.Num)
		case flows.TypeMoney:
			err = f.SetCellFloat(sh, ref, float64(a.Num)/100, 2, 64)
		case flows.TypeText, flows.TypePhone:
			err = f.SetCellStr(sh, ref, a.Text) // a string, never a formula
		default:
			err = f.SetCellStr(sh, ref, flows.FormatAnswer(q, *a))
		}
		if err != nil {
			return err
		}
		if q.Type == flows.TypeText {
			lines = max(lines, WrappedLines(a.Text, 20))
		}
	}
	if q.Type == flows.TypeText && (q.MaxLen == 0 || q.MaxLen > 100) {
		lines = max(lines, 5) // room to write a paragraph
	}
	if err := f.SetRowHeight(sh, row, rowHeight(min(lines, 25))); err != nil {
		return err
	}
	dv, err := answerValidation(c, q, r, ref)
	if err != nil || dv == nil {
		return err
	}
	return f.AddDataValidation(sh, dv)
}

// rowHeight is the height in points of a row of n wrapped lines.
func rowHeight(n int) float64 { return math.Max(20, float64(n)*14+6) }

// answerValidation is the data validation of q's answer cell: whole numbers
// within the question's range, money in 万元 with at most two decimals, a
// drop-down list of a choice's options, a length limit for text; the hint
// shows as the cell's input message. Blank cells pass (required ones are
// checked on upload).
func answerValidation(c *flows.Campaign, q *flows.Question, r flows.TemplateRow, ref string) (*excelize.DataValidation, error) {
	dv := excelize.NewDataValidation(true)
	dv.Sqref = ref
	lo, hi := c.NumberRange(q)
	var err error
	var msg string
	switch q.Type {
	case flows.TypeInteger:
		err = dv.SetRange(int(lo), int(hi), excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween)
		msg = fmt.Sprintf("请填写 %d 到 %d 之间的整数（阿拉伯数字），没有请填 0。", lo, hi)
	case flows.TypeMoney:
		// A custom rule: a number in range with at most two decimals.
		dv.Type = "custom"
		// excelize writes a custom formula into the XML as it is: escape it.
		dv.Formula1 = fmt.Sprintf("AND(ISNUMBER(%[1]s),%[1]s&gt;=%[2]s,%[1]s&lt;=%[3]s,ROUND(%[1]s,2)=%[1]s)", ref, flows.FormatMoney(lo), flows.FormatMoney(hi))
		msg = fmt.Sprintf("请填写金额（单位：万元），最多两位小数，范围 %s 到 %s；没有请填 0。", flows.FormatMoney(lo), flows.FormatMoney(hi))
	case flows.TypeText:
		limit := q.MaxLen
		if limit == 0 {
			limit = 3500
		}
		err = dv.SetRange(max(q.MinLen, 0), limit, excelize.DataValidationTypeTextLength, excelize.DataValidationOperatorBetween)
		msg = fmt.Sprintf("字数应在 %d 到 %d 之间。", max(q.MinLen, 1), limit)
	case flows.TypePhone:
		err = dv.SetRange(7, 30, excelize.DataValidationTypeTextLength, excelize.DataValidationOperatorBetween)
		msg = "请填写手机号（11 位）或带区号的座机号，如 0358-8498917。"
	case flows.TypeChoice:
		labels := make([]string, len(q.Options))
		for i, o := range q.Options {
			labels[i] = o.Label
		}
		err = dv.SetDropList(labels)
		msg = "请从下拉列表中选择。"
	case flows.TypeMultiChoice:
		err = dv.SetRange(1, 200, excelize.DataValidationTypeTextLength, excelize.DataValidationOperatorBetween)
		msg = "可多选，选项之间用顿号隔开。"
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, "填写有误", msg)
	dv.SetInput(fmt.Sprintf("第 %d 题", r.Number), truncate(r.Hint, 250))
	return dv, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ole2 starts every OLE2 compound file: an .xls (or WPS .et) workbook, or
// an .xlsx encrypted with a password.
var ole2 = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// ReadTemplate reads an uploaded file as a template for unit u: a refusal
// when it is not a workbook, not one of our templates, or a template of
// another campaign, form version or unit; otherwise the answers or every
// problem, checked by flows (Campaign.ReadTemplate). Formula cells are
// read by their cached values, numbers by their stored value. It is a pure
// function of its arguments and never panics.
func ReadTemplate(data []byte, c *flows.Campaign, u flows.Unit) (up flows.TemplateUpload) {
	switch {
	case len(data) > MaxTemplateSize:
		return c.TemplateRefused(flows.FaultTooBig)
	case bytes.HasPrefix(data, ole2):
		return c.TemplateRefused(flows.FaultOldFormat)
	case !bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return c.TemplateRefused(flows.FaultNotWorkbook)
	}
	// excelize parses untrusted XML; should some input make it panic, the
	// upload is refused as unreadable instead of taking the update down.
	defer func() {
		if r := recover(); r != nil {
			up = c.TemplateRefused(flows.FaultNotWorkbook)
		}
	}()
	ts, fault := readTemplateSheet(data, c)
	if fault != 0 {
		return c.TemplateRefused(fault)
	}
	return c.ReadTemplate(u, ts)
}

// readTemplateSheet finds the marker and the answer cells of a template.
func readTemplateSheet(data []byte, c *flows.Campaign) (flows.TemplateSheet, flows.TemplateFault) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: unzipLimit, UnzipXMLSizeLimit: unzipLimit})
	if err != nil {
		return flows.TemplateSheet{}, flows.FaultNotWorkbook
	}
	defer f.Close()
	sheets := f.GetSheetList()
	for i, sh := range sheets {
		if i == maxScanSheets {
			break
		}
		rows, err := f.GetRows(sh, excelize.Options{RawCellValue: true})
		if err != nil {
			continue
		}
		rows = rows[:min(len(rows), maxScanRows)]
		markerRow, markerCol := -1, -1
	find:
		for r, row := range rows {
			for col, v := range row {
				if flows.IsTemplateMarker(v) {
					markerRow, markerCol = r, col
					break find
				}
			}
		}
		if markerRow < 0 {
			continue
		}
		m, ok := flows.ParseTemplateMarker(rows[markerRow][markerCol])
		if !ok {
			m = flows.TemplateMarker{Campaign: c.ID} // a newer or damaged marker: read as an older form
		}
		return readAnswers(f, sh, rows, markerRow, markerCol, m, c), 0
	}
	return flows.TemplateSheet{}, flows.FaultNoMarker
}

// readAnswers collects the answer cells below the marker by the question
// ids in the marker's column; the answer column is the one titled
// 填写内容 (two left of the ids if that title is gone).
func readAnswers(f *excelize.File, sh string, rows [][]string, markerRow, idCol int, m flows.TemplateMarker, c *flows.Campaign) flows.TemplateSheet {
	ansCol := idCol - (colID - colAnswer)
header:
	for _, row := range rows[markerRow:] {
		for col, v := range row {
			if strings.TrimSpace(v) == templateAnswerHeader {
				ansCol = col
				break header
			}
		}
	}
	ts := flows.TemplateSheet{Marker: m, Cells: map[string][]flows.TemplateCell{}}
	for r := markerRow + 1; r < len(rows); r++ {
		row := rows[r]
		if idCol >= len(row) {
			continue
		}
		id := strings.TrimSpace(row[idCol])
		if c.Question(id) == nil || ansCol < 0 {
			continue
		}
		ref := cell(ansCol+1, r+1)
		raw := ""
		if ansCol < len(row) {
			raw = row[ansCol]
		}
		ts.Cells[id] = append(ts.Cells[id], readCell(f, sh, ref, raw))
	}
	return ts
}

// readCell reads one answer cell: its text, a number in plain decimal
// (rounded to 6 decimals, so that a computed 0.30000000000000004 reads as
// 0.3), a formula by its cached value.
func readCell(f *excelize.File, sh, ref, raw string) flows.TemplateCell {
	tc := flows.TemplateCell{Ref: ref, Value: raw}
	formula, _ := f.GetCellFormula(sh, ref)
	typ, _ := f.GetCellType(sh, ref)
	switch {
	case formula != "" && raw == "":
		tc.Fault = flows.CellNoValue
	case typ == excelize.CellTypeError:
		tc.Fault = flows.CellErrorValue
	case typ == excelize.CellTypeBool, typ == excelize.CellTypeDate:
		tc.Value, _ = f.GetCellValue(sh, ref) // TRUE, a date: as shown, and refused as a number
	case typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber:
		n, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			break
		}
		if shown, _ := f.GetCellValue(sh, ref); strings.ContainsAny(shown, "/:年月日") {
			tc.Value = shown // a date or time typed into a number cell
			break
		}
		if math.Abs(n) < 1e15 {
			n = math.Round(n*1e6) / 1e6
		}
		tc.Value = strconv.FormatFloat(n, 'f', -1, 64)
	}
	return tc
}
