package sheet

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
// compareLimit largest of them, and every confirmed outlier. It keeps only
// the largest so far (a heap), not every figure of 10,000 units.
func (t *table) changes() []change {
	var top changeHeap
	var confirmed []change
	for i := range t.o.Units {
		u := &t.o.Units[i]
		if !u.Submitted() {
			continue
		}
		for _, q := range t.numbers {
			c, ok := t.change(u, q)
			switch {
			case !ok:
				continue
			case c.confirmed:
				confirmed = append(confirmed, c)
			}
			if len(top) < compareLimit {
				heap.Push(&top, c)
			} else if changeOrder(c, top[0]) < 0 {
				top[0] = c
				heap.Fix(&top, 0)
			}
		}
	}
	out := []change(top)
	slices.SortFunc(out, changeOrder)
	// The confirmed outliers not among the largest, in their order.
	if len(out) < compareLimit {
		return out // every change is there
	}
	last := out[len(out)-1]
	slices.SortFunc(confirmed, changeOrder)
	for _, c := range confirmed {
		if changeOrder(c, last) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// change is a unit's figure of q beside last year's; ok is false unless
// it changed by more than the floor or was confirmed as an outlier.
func (t *table) change(u *flows.UnitOverview, q *flows.Question) (change, bool) {
	cur, ok := t.o.Figure(u, q)
	if !ok {
		return change{}, false
	}
	c := change{u: u, q: q, cur: cur, confirmed: u.Confirmed(q)}
	c.prev, c.hasPrev = t.o.PreviousFigure(u, q)
	if c.hasPrev {
		floor := max(t.o.Campaign.OutlierFloor(q), 1) // a floor of 0: every change counts
		hi, lo := max(c.cur, c.prev, floor), max(min(c.cur, c.prev), floor)
		c.factor = float64(hi) / float64(lo)
	}
	return c, c.factor > 1 || c.confirmed
}

// changeOrder orders changes largest factor first, then by unit and
// question.
func changeOrder(a, b change) int {
	return cmp.Or(cmp.Compare(b.factor, a.factor), cmp.Compare(a.u.Unit.ID, b.u.Unit.ID), cmp.Compare(a.q.Index, b.q.Index))
}

// changeHeap holds the largest changes so far, the last of them in
// changeOrder on top.
type changeHeap []change

func (h changeHeap) Len() int           { return len(h) }
func (h changeHeap) Less(i, j int) bool { return changeOrder(h[i], h[j]) > 0 }
func (h changeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *changeHeap) Push(x any)        { *h = append(*h, x.(change)) }
func (h *changeHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
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
		cells := []any{int64(i + 1), c.u.Unit.Name, flows.ShortName(c.u.Category), c.q.Title(), prev, cur, delta, changeCell(c.prev, c.cur, c.hasPrev), mark}
		if err := row(cells); err != nil {
			return err
		}
	}
	return nil
}

// compareNote is the line above the titles of 与上年对比: what it lists.
func (t *table) compareNote(listed int) string {
	if listed == 0 {
		return fmt.Sprintf("本年与上年（%s）同一单位数据对比：没有变化明显的数据（两年都很小的数不列出）。", t.o.PreviousCampaign().Title)
	}
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
		measure(&cols, values)
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

// Printing 汇总表 beside last year's: three columns a figure make it too
// wide for one A3 page at a readable size (the default form: 8 + 3 × 26
// columns). It prints section by section instead: at one scale for the
// whole sheet, each page as many sections as fit (a section wider than a
// page is broken between its figures), 序号 and 单位名称 repeated at the
// left of every page, as many pages down as the rows take.
const (
	// a3Points is the printable width of A3 landscape in points: 420 mm
	// less the side margins.
	a3Points = 1190.55 - 2*marginSide*72
	// minScale is the smallest print scale: the widest section is
	// broken into pages rather than printed smaller.
	minScale = 55
	// compareTitleCols are the columns repeated on every page.
	compareTitleCols = 2
)

// columnPoints is the printed width in points of a column Excel keeps as w
// wide (in digits of 7 px, plus 5 px of padding; 0.75 pt a pixel).
func columnPoints(w float64) float64 { return (w*7 + 5) * 0.75 }

// comparePrint lays out the printed pages of 汇总表 with last year's
// columns (see above): the scale that fits the widest of the fixed columns
// and of 序号, 单位名称 and a section, and a page break wherever the next
// section (or figure, in a section wider than a page) does not fit.
// rows is the number of rows under the header.
func (t *table) comparePrint(cols *Columns, rows int) Print {
	width := func(from, to int) float64 {
		w := 0.0
		for col := from; col <= to; col++ {
			w += columnPoints(cols.Width(col))
		}
		return w
	}
	nfixed := len(summaryFixed)
	repeated := width(1, compareTitleCols)
	widest := width(1, nfixed)
	spans := t.sectionSpans()
	for _, s := range spans {
		widest = max(widest, repeated+width(s.from, s.to))
	}
	scale := max(minScale, min(100, int(100*a3Points/widest)))
	room := a3Points * 100 / float64(scale) // page width in unscaled points
	p := printSummary
	p.Scale, p.TitleCols = scale, compareTitleCols
	// The header block (rows 1-3, merged over every column) would print
	// cut into pieces on pages of the columns on the right: the pages
	// print from the column titles down, with the block's text in the
	// page header.
	p.TitleFrom = headerRows - 1
	p.Area = cell(1, headerRows-1) + ":" + cell(cols.Len(), headerRows+rows)
	p.Header = t.pageHeader()
	used := width(1, nfixed)
	for _, s := range spans {
		if w := width(s.from, s.to); used+w > room && repeated+w <= room {
			p.ColBreaks = append(p.ColBreaks, s.from)
			used = repeated
		}
		for col := s.from; col <= s.to; col += t.stride() {
			w := width(col, col+t.stride()-1)
			if used+w > room && used > repeated {
				p.ColBreaks = append(p.ColBreaks, col)
				used = repeated
			}
			used += w
		}
	}
	return p
}

// pageHeader is the page header of 汇总表 printed section by section: the
// campaign's title on the left, its notice and the time of the export on
// the right (as rows 1-3 say on screen).
// maxHeader is the longest page header Excel takes, in characters.
const maxHeader = 255

func (t *table) pageHeader() string {
	o, c := t.o, t.o.Campaign
	esc := func(s string) string { return strings.ReplaceAll(s, "&", "&&") }
	n := o.Count()
	right := fmt.Sprintf("截至 %s　已提交 %d / %d 个单位", flows.FormatTime(o.Now, c.Location), n.Submitted, n.Total)
	if c.Notice != "" {
		right = esc(c.Notice) + "　" + right
	}
	h := "&L&\"-,Bold\"" + esc(c.Title) + "&R" + right
	if utf8.RuneCountInString(h) > maxHeader {
		title := []rune(esc(c.Title))
		h = "&L" + string(title[:min(len(title), maxHeader-10)])
	}
	return h
}
