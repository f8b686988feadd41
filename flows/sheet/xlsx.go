package sheet

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"reportbot/flows"
)

// headerRows is how many rows stand above the data of 汇总表: the title,
// 文号 and deadline, 截至 and progress, section titles, column titles.
const headerRows = 5

// styles are the cell styles of the workbook, by use.
type styles struct {
	title, info, header int
	note                int // info that wraps (the note of 与上年对比)
	// [unitRow|subtotalRow|totalRow] × text, integer, money; wrapped text
	// for the columns capped narrower than their widest value (Columns).
	text, wrapped, integer, money [3]int
	wrap                          int // long text answers: top, wrapped
	topInteger                    int // numbers in their rows

	// Comparing with last year: 增减% ([rowKind]), confirmed outliers'
	// figures (filled), signed changes (与上年对比).
	percent                    [3]int
	markedInteger, markedMoney int
	diffInteger, diffMoney     int
}

// Number formats beyond the built-in 0 and 0.00: changes with their sign.
var (
	fmtPercent    = "+0.0%;-0.0%;0.0%"
	fmtDiffInt    = "+0;-0;0"
	fmtDiffMoney  = "+0.00;-0.00;0.00"
	outlierFill   = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFEB9C"}}
	outlierAuthor = "双拥工作情况报送机器人"
)

// font is the workbook's font, Calibri (Chinese text in the system's
// Chinese font), at size points; excelize leaves out what is not given, and
// a font without a name or size is up to the application.
func font(size float64, bold bool, color string) *excelize.Font {
	return &excelize.Font{Family: "Calibri", Size: size, Bold: bold, Color: color}
}

func newStyles(f *excelize.File, compare bool) (*styles, error) {
	var (
		s    styles
		err  error
		errs []error
	)
	add := func(st excelize.Style) int {
		id, e := f.NewStyle(&st)
		errs = append(errs, e)
		return id
	}
	border := []excelize.Border{
		{Type: "left", Color: "A6A6A6", Style: 1}, {Type: "right", Color: "A6A6A6", Style: 1},
		{Type: "top", Color: "A6A6A6", Style: 1}, {Type: "bottom", Color: "A6A6A6", Style: 1},
	}
	vcenter := &excelize.Alignment{Vertical: "center"}
	s.title = add(excelize.Style{Font: font(16, true, ""), Alignment: vcenter})
	s.info = add(excelize.Style{Font: font(11, false, "404040"), Alignment: vcenter})
	s.header = add(excelize.Style{Font: font(11, true, ""), Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}})
	top := &excelize.Alignment{Vertical: "top", WrapText: true}
	s.wrap = add(excelize.Style{Font: font(11, false, ""), Border: border, Alignment: top})
	s.topInteger = add(excelize.Style{Font: font(11, false, ""), Border: border, Alignment: &excelize.Alignment{Vertical: "top"}, NumFmt: 1})
	// Subtotals are bold on light blue, the grand total bold on light orange.
	fills := [3]excelize.Fill{unitRow: {}, subtotalRow: {Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}, totalRow: {Type: "pattern", Pattern: 1, Color: []string{"FCE4D6"}}}
	wrapped := &excelize.Alignment{Vertical: "center", WrapText: true}
	for k := range fills {
		font := font(11, k != int(unitRow), "")
		s.text[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: vcenter})
		s.wrapped[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: wrapped})
		s.integer[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: vcenter, NumFmt: 1}) // 0
		s.money[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: vcenter, NumFmt: 2})   // 0.00
	}
	if compare {
		// Only beside last year's: a workbook without is as it was.
		plain := font(11, false, "")
		for k := range fills {
			font := font(11, k != int(unitRow), "")
			s.percent[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: vcenter, CustomNumFmt: &fmtPercent})
		}
		s.markedInteger = add(excelize.Style{Font: plain, Border: border, Fill: outlierFill, Alignment: vcenter, NumFmt: 1})
		s.markedMoney = add(excelize.Style{Font: plain, Border: border, Fill: outlierFill, Alignment: vcenter, NumFmt: 2})
		s.diffInteger = add(excelize.Style{Font: plain, Border: border, Alignment: vcenter, CustomNumFmt: &fmtDiffInt})
		s.diffMoney = add(excelize.Style{Font: plain, Border: border, Alignment: vcenter, CustomNumFmt: &fmtDiffMoney})
		s.note = add(excelize.Style{Font: font(11, false, "404040"), Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	}
	if err = errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new cell style: %w", err)
	}
	return &s, nil
}

// cells turns table values into styled excelize cells. Strings stay
// strings: excelize stores them as text, never as a formula. Text wraps in
// the columns that cols says need it.
func (s *styles) cells(kind rowKind, values []any, cols *Columns) []any {
	out := make([]any, len(values))
	for i, v := range values {
		switch v := v.(type) {
		case nil:
			out[i] = excelize.Cell{StyleID: s.text[kind]}
		case blank:
			if v.money {
				out[i] = excelize.Cell{StyleID: s.money[kind]}
			} else {
				out[i] = excelize.Cell{StyleID: s.integer[kind]}
			}
		case int64:
			out[i] = excelize.Cell{StyleID: s.integer[kind], Value: v}
		case money:
			out[i] = excelize.Cell{StyleID: s.money[kind], Value: float64(v) / 100}
		case string:
			style := s.text[kind]
			if cols.Wraps(i + 1) {
				style = s.wrapped[kind]
			}
			out[i] = excelize.Cell{StyleID: style, Value: v}
		case pct:
			out[i] = excelize.Cell{StyleID: s.percent[kind], Value: float64(v)}
		case marked:
			c := s.cells(kind, []any{v.v}, nil)[0].(excelize.Cell)
			c.StyleID = s.markedInteger
			if _, ok := v.v.(money); ok {
				c.StyleID = s.markedMoney
			}
			out[i] = c
		case diff:
			if v.money {
				out[i] = excelize.Cell{StyleID: s.diffMoney, Value: float64(v.n) / 100}
			} else {
				out[i] = excelize.Cell{StyleID: s.diffInteger, Value: v.n}
			}
		default:
			panic(fmt.Sprintf("sheet: unexpected cell value %T", v))
		}
	}
	return out
}

// WriteXLSX writes the office's workbook to w: 汇总表 (one row per
// submitted unit with every figure, subtotals by category and the grand
// total under a header block), 文字材料 (the other answers per unit) and
// 未报单位 (the units without a standing version and where they stand).
// It streams every sheet, so 10,000 units stay cheap. texts gives each
// submitted unit's text answers.
//
// Every sheet prints (PrintSetup): 汇总表 on A3 landscape, the others on
// A4 landscape, each one page wide with its header rows on every page and
// page numbers in the footer. Columns are as wide as their titles and
// values (Columns), long text wraps in rows high enough for it.
//
// With last year's figures (Overview.SetPrevious) every figure of 汇总表
// has a 上年 and a 增减% column beside it, confirmed outliers are filled
// and carry a comment, the sheet 与上年对比 follows 汇总表, and 汇总表
// prints section by section (comparePrint). Without them the workbook is
// as it was before comparisons existed.
func WriteXLSX(w io.Writer, o *flows.Overview, texts TextSource) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close workbook: %w", cerr)
		}
	}()
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return fmt.Errorf("name sheet %s: %w", SheetSummary, err)
	}
	t := newTable(o, texts)
	sheets := []string{SheetTexts, SheetPending}
	if t.compare {
		sheets = append([]string{SheetCompare}, sheets...)
	}
	for _, name := range sheets {
		if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("add sheet %s: %w", name, err)
		}
	}
	st, err := newStyles(f, t.compare)
	if err != nil {
		return err
	}
	if err := writeSummary(f, st, t); err != nil {
		return fmt.Errorf("write sheet %s: %w", SheetSummary, err)
	}
	if t.compare {
		if err := writeCompare(f, st, t); err != nil {
			return fmt.Errorf("write sheet %s: %w", SheetCompare, err)
		}
	}
	if err := writeTexts(f, st, t); err != nil {
		return fmt.Errorf("write sheet %s: %w", SheetTexts, err)
	}
	if err := writePending(f, st, t); err != nil {
		return fmt.Errorf("write sheet %s: %w", SheetPending, err)
	}
	// No SetActiveSheet: the first sheet is active already, and it would
	// parse every streamed sheet back into memory.
	c := o.Campaign
	if err := f.SetDocProps(&excelize.DocProperties{Title: c.Title, Subject: c.Notice, Creator: "双拥工作情况报送机器人"}); err != nil {
		return fmt.Errorf("set document properties: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// cellText is a table value as its cell shows it, for measuring columns.
func cellText(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case money:
		return flows.FormatMoney(int64(v))
	case string:
		return v
	case pct:
		return fmt.Sprintf("%+.1f%%", float64(v)*100)
	case marked:
		return cellText(v.v)
	case diff:
		sign := "+"
		if v.n < 0 {
			sign = "-"
		}
		if v.money {
			return sign + flows.FormatMoney(abs(v.n))
		}
		return sign + strconv.FormatInt(abs(v.n), 10)
	}
	return ""
}

// cellTexts are table values as their cells show them.
func cellTexts(values []any) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = cellText(v)
	}
	return out
}

// measure records a row of table values in cols (Columns.Row of their
// cellTexts) without making the text of every number: a sheet of 10,000
// rows has a million figures.
func measure(cols *Columns, values []any) {
	for i, v := range values {
		cols.Widen(i+1, cellWidth(v))
	}
}

// cellWidth is DisplayWidth(cellText(v)).
func cellWidth(v any) int {
	var buf [32]byte
	switch v := v.(type) {
	case int64:
		return len(strconv.AppendInt(buf[:0], v, 10))
	case money:
		n := int64(v)
		sign := 0
		if n < 0 {
			sign, n = 1, -n
		}
		return sign + len(strconv.AppendInt(buf[:0], n/100, 10)) + 3 // .00
	case diff:
		if v.money {
			return 1 + cellWidth(money(abs(v.n)))
		}
		return 1 + cellWidth(abs(v.n))
	case marked:
		return cellWidth(v.v)
	case pct:
		w := len(strconv.AppendFloat(buf[:0], float64(v)*100, 'f', 1, 64)) + 1 // and %
		if buf[0] != '-' {
			w++ // +
		}
		return w
	case string:
		return DisplayWidth(v)
	}
	return 0
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// rowOpts sets the height of a row whose text wraps (see RowHeight). Only
// text wraps: no number is wider than its column.
func rowOpts(cols *Columns, values []any) []excelize.RowOpts {
	texts := make([]string, len(values))
	for i, v := range values {
		if s, ok := v.(string); ok {
			texts[i] = s
		}
	}
	if h := cols.RowHeight(texts...); h > 0 {
		return []excelize.RowOpts{{Height: h}}
	}
	return nil
}

// The print setup of each sheet: 汇总表 is wide (8 columns and every
// figure), the others fit A4.
var (
	printSummary = Print{Paper: PaperA3, Landscape: true, TitleRows: headerRows}
	printTexts   = Print{Paper: PaperA4, Landscape: true, TitleRows: 1}
	printPending = Print{Paper: PaperA4, Landscape: true, TitleRows: 1}
)

// summaryTitleLines is how many lines a figure's column title wraps into:
// 6 lines of 4 汉字 take the longest titles (24 汉字) in a column about as
// narrow as its numbers.
const summaryTitleLines = 6

// Column caps of 文字材料, in display columns: short answers (a name, a
// phone number, choices) and long text, which wraps in its cells.
const (
	shortAnswerWidth = 16
	longAnswerWidth  = DefaultMaxWidth
)

func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row) // col, row ≥ 1
	return name
}

// writeSummary writes 汇总表: the header block, two rows of section and
// column titles, and a row per unit with its figures.
func writeSummary(f *excelize.File, st *styles, t *table) error {
	titles := t.summaryTitles()
	cols, p, err := t.summaryLayout()
	if err != nil {
		return err
	}
	if err := PrintSetup(f, SheetSummary, p); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetSummary)
	if err != nil {
		return err
	}
	if err := cols.Stream(sw); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 2, YSplit: headerRows, TopLeftCell: cell(3, headerRows+1), ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := writeSummaryInfo(sw, st, t, len(titles)); err != nil {
		return err
	}
	if err := writeSummaryHeader(sw, st, t, titles, &cols); err != nil {
		return err
	}

	row := headerRows
	err = t.summaryRows(func(kind rowKind, _ *flows.UnitOverview, values []any) error {
		row++
		if err := addNotes(f, SheetSummary, row, values); err != nil {
			return err
		}
		return sw.SetRow(cell(1, row), st.cells(kind, values, &cols), rowOpts(&cols, values)...)
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

// addNotes adds the note of each marked value of a row as its cell's
// comment. A streamed sheet takes comments until its Flush: they are kept
// with the sheet's state, which Flush writes after the rows.
func addNotes(f *excelize.File, sheet string, row int, values []any) error {
	for i, v := range values {
		m, ok := v.(marked)
		if !ok {
			continue
		}
		ref := cell(i+1, row)
		err := f.AddComment(sheet, excelize.Comment{Cell: ref, Author: outlierAuthor, Text: m.note, Width: 220, Height: 60})
		if err != nil {
			return fmt.Errorf("comment %s: %w", ref, err)
		}
	}
	return nil
}

// summaryLayout measures the columns of 汇总表 and lays out its pages.
func (t *table) summaryLayout() (Columns, Print, error) {
	// The figures' titles wrap in the bottom header row; the fixed ones
	// (short) span both rows.
	cols := Columns{Titles: t.summaryTitles(), TitleLines: summaryTitleLines}
	rows := 0
	err := t.summaryRows(func(_ rowKind, _ *flows.UnitOverview, values []any) error {
		measure(&cols, values)
		rows++
		return nil
	})
	if err != nil {
		return cols, Print{}, err
	}
	if t.compare {
		return cols, t.comparePrint(&cols, rows), nil
	}
	return cols, printSummary, nil
}

// writeSummaryInfo writes the header block of 汇总表 over its last columns:
// the campaign's title, notice and deadline, and the progress.
func writeSummaryInfo(sw *excelize.StreamWriter, st *styles, t *table, last int) error {
	o, c := t.o, t.o.Campaign
	n := o.Count()
	notice := "文号：" + c.Notice + "　　截止时间：" + flows.FormatTime(o.Deadline, c.Location)
	if pc := o.PreviousCampaign(); pc != nil {
		notice += "　　“上年”为同一单位在“" + pc.Title + "”中提交的数据；黄色底纹为填报人已确认的异常数据"
	}
	info := []string{
		c.Title,
		notice,
		fmt.Sprintf("截至 %s　　已提交 %d / %d 个单位（退回修改 %d 个，未提交 %d 个）", flows.FormatTime(o.Now, c.Location), n.Submitted, n.Total, n.Returned, n.Pending()-n.Returned),
	}
	for i, text := range info {
		style, height := st.info, 20.0
		if i == 0 {
			style, height = st.title, 28
		}
		if err := sw.SetRow(cell(1, i+1), []any{excelize.Cell{StyleID: style, Value: text}}, excelize.RowOpts{Height: height}); err != nil {
			return err
		}
		if err := sw.MergeCell(cell(1, i+1), cell(last, i+1)); err != nil {
			return err
		}
	}
	return nil
}

// writeSummaryHeader writes the two title rows of 汇总表: section titles
// over their figures, column titles under them; the fixed columns span both
// rows.
func writeSummaryHeader(sw *excelize.StreamWriter, st *styles, t *table, titles []string, cols *Columns) error {
	nfixed, last := len(summaryFixed), len(titles)
	sections := make([]any, last)
	headers := make([]any, last)
	for i, title := range titles {
		headers[i] = excelize.Cell{StyleID: st.header, Value: title}
		sections[i] = excelize.Cell{StyleID: st.header}
		if i < nfixed {
			sections[i] = excelize.Cell{StyleID: st.header, Value: title}
		}
	}
	spans := summarySpans(t, sections, st)
	// A section's title wraps if its figures are narrower than it.
	sectionLines := 1
	for _, s := range spans {
		width := 0
		for col := s.from; col <= s.to; col++ {
			width += cols.DisplayColumns(col)
		}
		sectionLines = max(sectionLines, WrappedLines(s.title, width))
	}
	if err := sw.SetRow(cell(1, headerRows-1), sections, excelize.RowOpts{Height: max(22, float64(sectionLines)*lineHeight+7)}); err != nil {
		return err
	}
	if err := sw.SetRow(cell(1, headerRows), headers, excelize.RowOpts{Height: TitleRowHeight(summaryTitleLines)}); err != nil {
		return err
	}
	for col := 1; col <= nfixed; col++ {
		if err := sw.MergeCell(cell(col, headerRows-1), cell(col, headerRows)); err != nil {
			return err
		}
	}
	for _, s := range spans {
		if s.to > s.from {
			if err := sw.MergeCell(cell(s.from, headerRows-1), cell(s.to, headerRows-1)); err != nil {
				return err
			}
		}
	}
	return nil
}

// summarySpan is a section's columns of figures in 汇总表.
type summarySpan struct {
	from, to int
	title    string
}

// summarySpans puts each section's title over its first column of figures
// (sectionSpans).
func summarySpans(t *table, sections []any, st *styles) []summarySpan {
	spans := t.sectionSpans()
	for _, s := range spans {
		sections[s.from-1] = excelize.Cell{StyleID: st.header, Value: s.title}
	}
	return spans
}

// sectionSpans are the columns of each section's figures in 汇总表.
func (t *table) sectionSpans() []summarySpan {
	nfixed := len(summaryFixed)
	var spans []summarySpan
	for i, q := range t.numbers {
		col := nfixed + i*t.stride() + 1
		if i == 0 || q.Section != t.numbers[i-1].Section {
			spans = append(spans, summarySpan{col, col, q.Section.Title})
		}
		spans[len(spans)-1].to = col + t.stride() - 1
	}
	return spans
}

func writeTexts(f *excelize.File, st *styles, t *table) error {
	if err := PrintSetup(f, SheetTexts, printTexts); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetTexts)
	if err != nil {
		return err
	}
	titles := t.textTitles()
	// The first columns are measured from the overview; the answers by
	// their questions' bounds (reading them twice would read the store
	// twice), in cells that wrap.
	cols := Columns{Titles: titles, TitleLines: 2, Max: make([]int, len(titles))}
	n := 0
	for _, g := range t.o.Groups() {
		for _, u := range g.Units {
			if u.Submitted() {
				n++
				cols.Row(strconv.Itoa(n), u.Unit.Name, u.Category.Name, strconv.Itoa(u.Latest.Version))
			}
		}
	}
	for i, q := range t.texts {
		w, long := answerWidth(q)
		cols.Max[4+i] = shortAnswerWidth
		if long {
			cols.Max[4+i] = longAnswerWidth
		}
		cols.Widen(5+i, w)
	}
	if err := cols.Stream(sw); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 2, YSplit: 1, TopLeftCell: "C2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", headerCells(st, titles), excelize.RowOpts{Height: TitleRowHeight(cols.TitleLines)}); err != nil {
		return err
	}
	row := 1
	err = t.textRows(func(values []any) error {
		row++
		// Rows of long text read from the top: every cell top-aligned,
		// the answers wrapped.
		cells := st.cells(unitRow, values, &cols)
		for i := range cells {
			c := cells[i].(excelize.Cell)
			if c.StyleID == st.integer[unitRow] {
				c.StyleID = st.topInteger
			} else {
				c.StyleID = st.wrap
			}
			cells[i] = c
		}
		return sw.SetRow(cell(1, row), cells, rowOpts(&cols, values)...)
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

func writePending(f *excelize.File, st *styles, t *table) error {
	if err := PrintSetup(f, SheetPending, printPending); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetPending)
	if err != nil {
		return err
	}
	cols := Columns{Titles: pendingTitles}
	err = t.pendingRows(func(values []any) error {
		cols.Row(cellTexts(values)...)
		return nil
	})
	if err != nil {
		return err
	}
	if err := cols.Stream(sw); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", headerCells(st, pendingTitles), excelize.RowOpts{Height: 22}); err != nil {
		return err
	}
	row := 1
	err = t.pendingRows(func(values []any) error {
		row++
		return sw.SetRow(cell(1, row), st.cells(unitRow, values, &cols), rowOpts(&cols, values)...)
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

func headerCells(st *styles, titles []string) []any {
	cells := make([]any, len(titles))
	for i, title := range titles {
		cells[i] = excelize.Cell{StyleID: st.header, Value: title}
	}
	return cells
}

// answerWidth bounds the display width of the answers to q as FormatAnswer
// shows them; long is true for free text of more than 50 characters (or
// unlimited), which gets a wide column.
func answerWidth(q *flows.Question) (w int, long bool) {
	switch q.Type {
	case flows.TypeText:
		if q.MaxLen == 0 || q.MaxLen > 50 {
			return longAnswerWidth, true
		}
		return 2 * q.MaxLen, false
	case flows.TypePhone:
		return 13, false // 0358-84989170, the longest landline
	case flows.TypeChoice:
		for _, o := range q.Options {
			w = max(w, DisplayWidth(o.Label))
		}
		return w, false
	case flows.TypeMultiChoice:
		for _, o := range q.Options {
			w += DisplayWidth(o.Label) + DisplayWidth("、")
		}
		return max(w-DisplayWidth("、"), DisplayWidth("（未选）")), false
	case flows.TypePhotos:
		return DisplayWidth("99 张"), false
	case flows.TypeDocument:
		return longAnswerWidth, false // a file name: wraps in a narrow column
	}
	return longAnswerWidth, true
}
