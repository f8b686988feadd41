package sheet

import (
	"errors"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"reportbot/flows"
)

// headerRows is how many rows stand above the data of 汇总表: the title,
// 文号 and deadline, 截至 and progress, section titles, column titles.
const headerRows = 5

// styles are the cell styles of the workbook, by use.
type styles struct {
	title, info, header int
	// [unitRow|subtotalRow|totalRow] × text, integer, money
	text, integer, money [3]int
	wrap                 int // long text answers
}

func newStyles(f *excelize.File) (*styles, error) {
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
	s.title = add(excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: vcenter})
	s.info = add(excelize.Style{Font: &excelize.Font{Color: "404040"}, Alignment: vcenter})
	s.header = add(excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}})
	s.wrap = add(excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	// Subtotals are bold on light blue, the grand total bold on light orange.
	fills := [3]excelize.Fill{unitRow: {}, subtotalRow: {Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}, totalRow: {Type: "pattern", Pattern: 1, Color: []string{"FCE4D6"}}}
	for k := range fills {
		font := &excelize.Font{Bold: k != int(unitRow)}
		s.text[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: vcenter})
		s.integer[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: vcenter, NumFmt: 1}) // 0
		s.money[k] = add(excelize.Style{Font: font, Border: border, Fill: fills[k], Alignment: vcenter, NumFmt: 2})   // 0.00
	}
	if err = errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new cell style: %w", err)
	}
	return &s, nil
}

// cells turns table values into styled excelize cells. Strings stay
// strings: excelize stores them as text, never as a formula.
func (s *styles) cells(kind rowKind, values []any) []any {
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
			out[i] = excelize.Cell{StyleID: s.text[kind], Value: v}
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
	for _, name := range []string{SheetTexts, SheetPending} {
		if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("add sheet %s: %w", name, err)
		}
	}
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	t := newTable(o, texts)
	if err := writeSummary(f, st, t); err != nil {
		return fmt.Errorf("write sheet %s: %w", SheetSummary, err)
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

func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row) // col, row ≥ 1
	return name
}

func writeSummary(f *excelize.File, st *styles, t *table) error {
	sw, err := f.NewStreamWriter(SheetSummary)
	if err != nil {
		return err
	}
	o, c := t.o, t.o.Campaign
	titles := t.summaryTitles()
	nfixed, last := len(summaryFixed), len(titles)
	for i, width := range []float64{6, 30, 18, 14, 17, 6, 16, 10} {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetColWidth(nfixed+1, last, 13); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 2, YSplit: headerRows, TopLeftCell: cell(3, headerRows+1), ActivePane: "bottomRight"}); err != nil {
		return err
	}

	// The header block.
	n := o.Count()
	info := []string{
		c.Title,
		"文号：" + c.Notice + "　　截止时间：" + flows.FormatTime(o.Deadline, c.Location),
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

	// Section titles over their figures, column titles under them; the
	// fixed columns span both rows.
	sections := make([]any, last)
	headers := make([]any, last)
	for i, title := range titles {
		headers[i] = excelize.Cell{StyleID: st.header, Value: title}
		sections[i] = excelize.Cell{StyleID: st.header}
		if i < nfixed {
			sections[i] = excelize.Cell{StyleID: st.header, Value: title}
		}
	}
	type span struct{ from, to int }
	var spans []span
	for i, q := range t.numbers {
		col := nfixed + i + 1
		if i == 0 || q.Section != t.numbers[i-1].Section {
			sections[col-1] = excelize.Cell{StyleID: st.header, Value: q.Section.Title}
			spans = append(spans, span{col, col})
		}
		spans[len(spans)-1].to = col
	}
	if err := sw.SetRow(cell(1, headerRows-1), sections, excelize.RowOpts{Height: 22}); err != nil {
		return err
	}
	if err := sw.SetRow(cell(1, headerRows), headers, excelize.RowOpts{Height: 80}); err != nil {
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

	row := headerRows
	err = t.summaryRows(func(kind rowKind, _ *flows.UnitOverview, values []any) error {
		row++
		return sw.SetRow(cell(1, row), st.cells(kind, values))
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

func writeTexts(f *excelize.File, st *styles, t *table) error {
	sw, err := f.NewStreamWriter(SheetTexts)
	if err != nil {
		return err
	}
	titles := t.textTitles()
	for i, width := range []float64{6, 30, 18, 6} {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	for i, q := range t.texts {
		width := 16.0
		if q.Type == flows.TypeText && (q.MaxLen == 0 || q.MaxLen > 50) {
			width = 50
		}
		if err := sw.SetColWidth(5+i, 5+i, width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 2, YSplit: 1, TopLeftCell: "C2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", headerCells(st, titles), excelize.RowOpts{Height: 36}); err != nil {
		return err
	}
	row := 1
	err = t.textRows(func(values []any) error {
		row++
		cells := st.cells(unitRow, values)
		for i := 4; i < len(cells); i++ {
			c := cells[i].(excelize.Cell)
			c.StyleID = st.wrap
			cells[i] = c
		}
		return sw.SetRow(cell(1, row), cells)
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

func writePending(f *excelize.File, st *styles, t *table) error {
	sw, err := f.NewStreamWriter(SheetPending)
	if err != nil {
		return err
	}
	for i, width := range []float64{6, 30, 18, 20, 36, 16, 17} {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
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
		return sw.SetRow(cell(1, row), st.cells(unitRow, values))
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
