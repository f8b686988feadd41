package sheet

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/xuri/excelize/v2"

	"reportbot/flows"
)

// The sheet 与上年对比 lists the largest changes from last year by unit and
// question: what a clerk looks at first ("离石区 says 3,000 households —
// last year 120?").

// compareLimit is how many changes 与上年对比 lists at most (besides the
// confirmed outliers, which it always lists): about 7 printed pages.
const compareLimit = 200

// change is one unit's figure beside last year's.
type change struct {
	u         *flows.UnitOverview
	q         *flows.Question
	prev, cur int64
	hasPrev   bool
	confirmed bool
	// factor is how many times the larger of the two is the smaller, both
	// raised to the question's outlier floor first: 25 for 3,000 after
	// 120, 1 for 3 after 0 (with the default floor 10). 0 without last
	// year's figure.
	factor float64
}

// changes are the changes 与上年对比 lists, largest factor first: every
// unit's figures that changed by more than the floor (factor above 1), the
// compareLimit largest of them, and every confirmed outlier.
func (t *table) changes() []change {
	var all []change
	for i := range t.o.Units {
		u := &t.o.Units[i]
		if !u.Submitted() {
			continue
		}
		for _, q := range t.numbers {
			cur, ok := t.o.Figure(u, q)
			if !ok {
				continue
			}
			c := change{u: u, q: q, cur: cur, confirmed: u.Confirmed(q)}
			c.prev, c.hasPrev = t.o.PreviousFigure(u, q)
			if c.hasPrev {
				floor := t.o.Campaign.OutlierFloor(q)
				hi, lo := max(c.cur, c.prev, floor), max(min(c.cur, c.prev), floor)
				c.factor = float64(hi) / float64(lo)
			}
			if c.factor > 1 || c.confirmed {
				all = append(all, c)
			}
		}
	}
	slices.SortFunc(all, func(a, b change) int {
		return cmp.Or(cmp.Compare(b.factor, a.factor), cmp.Compare(a.u.Unit.ID, b.u.Unit.ID), cmp.Compare(a.q.Index, b.q.Index))
	})
	if len(all) <= compareLimit {
		return all
	}
	// Keep the confirmed outliers beyond the limit, in their order.
	return append(all[:compareLimit:compareLimit], slices.DeleteFunc(all[compareLimit:], func(c change) bool { return !c.confirmed })...)
}

// compareTitles are the column titles of 与上年对比.
var compareTitles = []string{"序号", "单位名称", "类别", "指标", "上年", "本年", "增减", "增减%", "已确认"}

// compareRows calls row for each change of cs.
func (t *table) compareRows(cs []change, row func(cells []any) error) error {
	for i, c := range cs {
		isMoney := c.q.Type == flows.TypeMoney
		prev, delta := figureCell(c.q, c.prev, c.hasPrev), any(nil)
		if c.hasPrev {
			delta = diff{n: c.cur - c.prev, money: isMoney}
		}
		cur := figureCell(c.q, c.cur, true)
		mark := any(nil)
		if c.confirmed {
			cur = marked{v: cur, note: t.o.OutlierNote(c.u, c.q)}
			mark = "已确认"
		}
		cells := []any{int64(i + 1), c.u.Unit.Name, c.u.Category.Name, c.q.Title(), prev, cur, delta, changeCell(c.prev, c.cur, c.hasPrev), mark}
		if err := row(cells); err != nil {
			return err
		}
	}
	return nil
}

// compareNote is the line above the titles of 与上年对比: what it lists.
func (t *table) compareNote(listed int) string {
	return fmt.Sprintf("本年与上年（%s）同一单位数据对比：列出变化最大的 %d 项，按变化倍数从大到小排列（两年都很小的数不列出）；“已确认”为填报人确认无误的异常数据。",
		t.o.PreviousCampaign().Title, listed)
}

// printCompare: the list fits A4 landscape, its note and titles on every page.
var printCompare = Print{Paper: PaperA4, Landscape: true, TitleRows: 2}

// writeCompare writes 与上年对比: a note, the column titles, a row per
// change (see changes).
func writeCompare(f *excelize.File, st *styles, t *table) error {
	if err := PrintSetup(f, SheetCompare, printCompare); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetCompare)
	if err != nil {
		return err
	}
	cs := t.changes()
	cols := Columns{Titles: compareTitles, TitleLines: 2}
	err = t.compareRows(cs, func(values []any) error {
		cols.Row(cellTexts(values)...)
		return nil
	})
	if err != nil {
		return err
	}
	if err := cols.Stream(sw); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 2, YSplit: 2, TopLeftCell: "C3", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	note := t.compareNote(len(cs))
	width := 0
	for col := 1; col <= len(compareTitles); col++ {
		width += cols.DisplayColumns(col)
	}
	noteCells := []any{excelize.Cell{StyleID: st.note, Value: note}}
	if err := sw.SetRow("A1", noteCells, excelize.RowOpts{Height: float64(WrappedLines(note, width))*lineHeight + 7}); err != nil {
		return err
	}
	if err := sw.MergeCell("A1", cell(len(compareTitles), 1)); err != nil {
		return err
	}
	if err := sw.SetRow("A2", headerCells(st, compareTitles), excelize.RowOpts{Height: 22}); err != nil {
		return err
	}
	row := 2
	err = t.compareRows(cs, func(values []any) error {
		row++
		if err := addNotes(f, SheetCompare, row, values); err != nil {
			return err
		}
		return sw.SetRow(cell(1, row), st.cells(unitRow, values, &cols), rowOpts(&cols, values)...)
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}
