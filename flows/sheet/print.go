package sheet

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// Paper is a paper size of a printed sheet, as the OOXML pageSetup
// paperSize codes number them.
type Paper int

// The paper sizes the office prints on.
const (
	PaperA3 Paper = 8 // 297 × 420 mm
	PaperA4 Paper = 9 // 210 × 297 mm
)

// Print is how a sheet prints: see PrintSetup.
type Print struct {
	Paper     Paper // PaperA3 or PaperA4
	Landscape bool
	// TitleRows are repeated at the top of every printed page: rows 1 to
	// TitleRows (the title and column headers). 0: none.
	TitleRows int
	// TitleFrom, if more than 1, is the first of the title rows: rows
	// TitleFrom to TitleRows repeat (a sheet whose Area starts lower).
	TitleFrom int

	// A sheet too wide for one page: Scale (percent, 10 to 400) instead
	// of fitting one page wide, the columns 1 to TitleCols repeated at
	// the left of every page, and a page break before each column of
	// ColBreaks. Scale 0: one page wide, and the other two must be zero.
	Scale     int
	TitleCols int
	ColBreaks []int
	// Area, if not "", is the range that prints (e.g. A4:CH40, the rest
	// stays on screen only); Header, if not "", the page header (OOXML
	// header codes: &L, &C, &R, && for &).
	Area   string
	Header string
}

// PageFooter is the footer of every printed page: 第 3 页 共 7 页, centred.
// No sheet restarts the numbering (firstPageNumber): printing the whole
// workbook numbers the pages on through its sheets, which is what the
// total (&N) counts in LibreOffice; restarting each sheet at 1 would print
// 第 1 页 共 44 页 on the first page of every sheet.
const PageFooter = "&C第 &P 页 共 &N 页"

// The page margins of PrintSetup, in inches as OOXML keeps them: about
// 1 cm at the sides, 1.5 cm at top and bottom with the footer 0.8 cm
// from the edge.
const (
	marginSide   = 0.4
	marginTop    = 0.6
	marginBottom = 0.6
	marginHeader = 0.3
	marginFooter = 0.3
)

// PrintSetup sets up how sheet of f prints, for Excel, WPS and LibreOffice
// alike:
//
//   - paper p.Paper in landscape (p.Landscape) or portrait;
//   - scaled to fit one page wide, as many pages long as it takes
//     (fitToPage with FitToWidth 1, FitToHeight 0);
//   - rows 1..p.TitleRows repeated on every page (the sheet-scoped defined
//     name _xlnm.Print_Titles, 'sheet'!$1:$n), replacing any earlier one;
//   - the footer PageFooter (第 &P 页 共 &N 页);
//   - grid lines printed, the table centred across the page, margins of
//     about 1 cm at the sides and 1.5 cm at top and bottom.
//
// Column widths are not part of it: see Columns and FitColumns.
//
// A streamed sheet (excelize.StreamWriter) takes the setup only if it is
// made before f.NewStreamWriter(sheet): the stream writer writes the sheet
// properties as it starts and the rest of the setup from the same state
// at Flush. For a sheet written cell by cell, any time before saving.
//
// Printed grid lines have no excelize API (v2.11.1): PrintSetup sets the
// printOptions gridLines attribute on excelize's worksheet state through
// reflection, and returns an error if that state is not as expected (a
// newer excelize); the tests of this package check the attribute in the
// written file.
func PrintSetup(f *excelize.File, sheet string, p Print) error {
	if p.Paper != PaperA3 && p.Paper != PaperA4 {
		return fmt.Errorf("print setup of sheet %s: unknown paper size %d", sheet, p.Paper)
	}
	if p.TitleRows < 0 || p.TitleRows > excelize.TotalRows {
		return fmt.Errorf("print setup of sheet %s: %d title rows", sheet, p.TitleRows)
	}
	if p.Scale == 0 && (p.TitleCols != 0 || len(p.ColBreaks) > 0) || p.Scale != 0 && (p.Scale < 10 || p.Scale > 400) {
		return fmt.Errorf("print setup of sheet %s: scale %d%% with %d title columns and %d column breaks", sheet, p.Scale, p.TitleCols, len(p.ColBreaks))
	}
	fit := p.Scale == 0
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return fmt.Errorf("print setup of sheet %s: fit to page: %w", sheet, err)
	}
	size, orientation := int(p.Paper), "portrait"
	if p.Landscape {
		orientation = "landscape"
	}
	layout := &excelize.PageLayoutOptions{Size: &size, Orientation: &orientation}
	if fit {
		layout.FitToWidth, layout.FitToHeight = ptr(1), ptr(0)
	} else {
		layout.AdjustTo = ptr(uint(p.Scale))
	}
	if err := f.SetPageLayout(sheet, layout); err != nil {
		return fmt.Errorf("print setup of sheet %s: page layout: %w", sheet, err)
	}
	for _, col := range p.ColBreaks {
		if err := f.InsertPageBreak(sheet, cell(col, 1)); err != nil {
			return fmt.Errorf("print setup of sheet %s: page break before column %d: %w", sheet, col, err)
		}
	}
	center := true
	err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{
		Left: ptr(marginSide), Right: ptr(marginSide), Top: ptr(marginTop), Bottom: ptr(marginBottom),
		Header: ptr(marginHeader), Footer: ptr(marginFooter), Horizontally: &center})
	if err != nil {
		return fmt.Errorf("print setup of sheet %s: margins: %w", sheet, err)
	}
	if err := f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddHeader: p.Header, OddFooter: PageFooter}); err != nil {
		return fmt.Errorf("print setup of sheet %s: footer: %w", sheet, err)
	}
	if p.Area != "" {
		from, to, _ := strings.Cut(p.Area, ":")
		ref := quoteSheet(sheet) + "!" + absRef(from) + ":" + absRef(to)
		if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Area", Scope: sheet, RefersTo: ref}); err != nil {
			return fmt.Errorf("print setup of sheet %s: print area: %w", sheet, err)
		}
	}
	if err := setPrintTitles(f, sheet, max(p.TitleFrom, 1), p.TitleRows, p.TitleCols); err != nil {
		return fmt.Errorf("print setup of sheet %s: print titles: %w", sheet, err)
	}
	if err := printGridLines(f, sheet); err != nil {
		return fmt.Errorf("print setup of sheet %s: grid lines: %w", sheet, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// printTitles is the built-in defined name of the rows (and columns)
// repeated on every printed page.
const printTitles = "_xlnm.Print_Titles"

// setPrintTitles makes rows from..n and columns 1..cols of sheet its print
// titles; n and cols 0 remove them.
func setPrintTitles(f *excelize.File, sheet string, from, n, cols int) error {
	err := f.DeleteDefinedName(&excelize.DefinedName{Name: printTitles, Scope: sheet})
	if err != nil && !errors.Is(err, excelize.ErrDefinedNameScope) {
		return err
	}
	ref := PrintTitlesRef(sheet, n)
	if from > 1 && n >= from {
		ref = quoteSheet(sheet) + "!$" + strconv.Itoa(from) + ":$" + strconv.Itoa(n)
	}
	if cols > 0 {
		last, err := excelize.ColumnNumberToName(cols)
		if err != nil {
			return err
		}
		colsRef := quoteSheet(sheet) + "!$A:$" + last
		ref = strings.Trim(colsRef+","+ref, ",")
	}
	if ref == "" {
		return nil
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: printTitles, Scope: sheet, RefersTo: ref})
}

// PrintTitlesRef is the reference of rows 1..n of sheet as the defined
// name _xlnm.Print_Titles holds it: '汇总表'!$1:$5; "" for n = 0.
func PrintTitlesRef(sheet string, n int) string {
	if n == 0 {
		return ""
	}
	return quoteSheet(sheet) + "!$1:$" + strconv.Itoa(n)
}

// absRef is a cell reference made absolute: A4 → $A$4.
func absRef(ref string) string {
	i := strings.IndexFunc(ref, func(r rune) bool { return r >= '0' && r <= '9' })
	if i <= 0 {
		return ref
	}
	return "$" + ref[:i] + "$" + ref[i:]
}

func quoteSheet(sheet string) string { return "'" + strings.ReplaceAll(sheet, "'", "''") + "'" }

// gridMarker marks the sheet whose excelize state printGridLines is looking
// for, in the sheet's code name while it looks.
const gridMarker = "reportbotPrintGridLines"

// printGridLines sets printOptions gridLines="1" on sheet. excelize keeps
// each loaded worksheet in File.Sheet (exported) as its unexported
// *xlsxWorksheet, with exported fields; printOptions is one of them, but
// no API sets its gridLines. So: mark the sheet through the API (its code
// name), find the marked worksheet in File.Sheet, set the attribute by
// reflection and restore the code name.
func printGridLines(f *excelize.File, sheet string) error {
	props, err := f.GetSheetProps(sheet)
	if err != nil {
		return err
	}
	code := ""
	if props.CodeName != nil {
		code = *props.CodeName
	}
	marker := gridMarker
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{CodeName: &marker}); err != nil {
		return err
	}
	found, set := 0, 0
	f.Sheet.Range(func(_, v any) bool {
		ws := reflect.ValueOf(v)
		if ws.Kind() != reflect.Pointer || ws.IsNil() || ws.Elem().Kind() != reflect.Struct {
			return true
		}
		ws = ws.Elem()
		if name := field(field(ws, "SheetPr"), "CodeName"); !name.IsValid() || name.Kind() != reflect.String || name.String() != gridMarker {
			return true
		}
		found++
		opts := ws.FieldByName("PrintOptions")
		if !opts.IsValid() || opts.Kind() != reflect.Pointer || opts.Type().Elem().Kind() != reflect.Struct || !opts.CanSet() {
			return true
		}
		if opts.IsNil() {
			opts.Set(reflect.New(opts.Type().Elem()))
		}
		if grid := opts.Elem().FieldByName("GridLines"); grid.IsValid() && grid.Kind() == reflect.Bool && grid.CanSet() {
			grid.SetBool(true)
			set++
		}
		return true
	})
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{CodeName: &code}); err != nil {
		return err
	}
	if found != 1 || set != 1 {
		return fmt.Errorf("the worksheet state of this excelize version is not as expected (%d marked, %d set)", found, set)
	}
	return nil
}

// field is v's field name if v is a struct or a non-nil pointer to one, else
// the zero Value.
func field(v reflect.Value, name string) reflect.Value {
	if v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.FieldByName(name)
}

// DisplayWidth is how many columns s takes in a fixed-pitch layout, as a
// spreadsheet's column width counts them: East Asian wide and fullwidth
// runes (汉字, fullwidth punctuation such as （），、) count 2, every other
// rune 1. For text of several lines, the widest line.
func DisplayWidth(s string) int {
	widest, n := 0, 0
	for _, r := range s {
		if r == '\n' {
			widest, n = max(widest, n), 0
			continue
		}
		n += runeWidth(r)
	}
	return max(widest, n)
}

func runeWidth(r rune) int {
	switch {
	case r < 0x1100: // Latin, Greek, Cyrillic …: nothing wide before Hangul Jamo
		return 1
	case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs, the usual 汉字
		return 2
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// WrappedLines is how many lines s takes when wrapped in a column of
// columns display columns (DisplayWidth): breaking between any two wide
// characters and at spaces, never inside a run of Latin letters and
// digits, never before closing punctuation （、，。）” or after opening
// （“, as spreadsheets wrap Chinese text. A run wider than the column
// takes as many lines as it needs.
func WrappedLines(s string, columns int) int {
	columns = max(columns, 1)
	lines := 1
	used := 0 // width on the line before the segment
	seg := 0  // width of the segment: where no line may break
	place := func() {
		switch {
		case used > 0 && used+seg <= columns:
			used += seg
		case used > 0:
			lines++
			fallthrough
		default:
			// A segment starting a line; if wider than the column it is
			// broken by character, filling lines.
			lines += (seg - 1) / columns
			used = seg - (seg-1)/columns*columns
		}
		seg = 0
	}
	var prev rune
	for _, r := range s {
		switch {
		case r == '\n':
			if seg > 0 {
				place()
			}
			lines, used, prev = lines+1, 0, 0
			continue
		case seg > 0 && !glued(prev, r):
			place()
		}
		seg += runeWidth(r)
		prev = r
	}
	if seg > 0 {
		place()
	}
	return lines
}

// glued reports whether no line may break between a and b: before a space
// or closing punctuation, after opening punctuation, inside a Latin word or
// number.
func glued(a, b rune) bool {
	if a >= 0x4E00 && a <= 0x9FFF && b >= 0x4E00 && b <= 0x9FFF {
		return false // two 汉字: the usual case
	}
	switch {
	case unicode.IsSpace(b) || closing(b) || opening(a):
		return true
	case unicode.IsSpace(a):
		return false
	}
	return latin(a) && latin(b)
}

// closing is punctuation that never starts a line.
func closing(r rune) bool {
	switch r {
	case '）', '〕', '］', '】', '」', '』', '》', '〉', '”', '’', '、', '，', '。', '：', '；', '！', '？',
		')', '.', ',', ':', ';', '!', '?', '%', '％':
		return true
	}
	return false
}

// opening is punctuation that never ends a line.
func opening(r rune) bool {
	switch r {
	case '（', '〔', '［', '【', '「', '『', '《', '〈', '“', '‘', '(':
		return true
	}
	return false
}

// latin reports whether r is part of a word or number that does not break.
func latin(r rune) bool {
	return r < 0x2E80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-')
}

// Column widths, in display columns (DisplayWidth).
const (
	// DefaultMaxWidth caps a column unless Columns.Max says otherwise:
	// 20 汉字. Longer values wrap in their cells.
	DefaultMaxWidth = 40
	// minTitleWidth is the narrowest a wrapped title makes its column: a
	// title of up to 4 汉字 stays on one line.
	minTitleWidth = 8
)

// Columns sizes the columns of a sheet so that every title and every value
// shows whole: each column as wide as its title (wrapped into at most
// TitleLines lines) and its widest value, by DisplayWidth, but no wider
// than the column's cap (values beyond it must be in cells that wrap).
// Measure every value first (Row or Cell), then set the widths with
// FitColumns or Stream. The zero value measures nothing but the titles.
//
//	cols := sheet.Columns{Titles: titles, TitleLines: 2}
//	for _, row := range rows {
//		cols.Row(row...) // the values as the cells show them
//	}
//	err := sheet.FitColumns(f, "Sheet1", &cols)
type Columns struct {
	// Titles are the column titles, column 1 (A) first.
	Titles []string
	// TitleLines is how many lines a title may wrap into: the height of
	// the header row (see TitleRowHeight), in a cell that wraps. Below 2,
	// titles stay on one line.
	TitleLines int
	// Max caps the width of a column, by column index (Max[0] for column
	// 1), in display columns; a missing or zero entry is DefaultMaxWidth.
	// Titles are never capped.
	Max []int

	widest []int
	cols   []int // DisplayColumns by column, once asked for; nil after a change
}

// Row measures the values of one row, column 1 first, as the cells show
// them (numbers formatted as their number format shows them).
func (c *Columns) Row(values ...string) {
	for i, v := range values {
		c.Cell(i+1, v)
	}
}

// Cell measures the value of one cell of column col (1 for A).
func (c *Columns) Cell(col int, value string) {
	c.Widen(col, DisplayWidth(value))
}

// Widen records a value of the given display width in column col: for a
// column whose values are known by their bound (a question's length limit)
// rather than measured one by one.
func (c *Columns) Widen(col, displayColumns int) {
	if col < 1 {
		return
	}
	if col > len(c.widest) {
		c.widest = append(c.widest, make([]int, col-len(c.widest))...)
	}
	if displayColumns > c.widest[col-1] {
		c.widest[col-1] = displayColumns
		c.cols = nil
	}
}

// Len is the number of columns: titled or measured.
func (c *Columns) Len() int { return max(len(c.Titles), len(c.widest)) }

// Cap is the widest column col may be, in display columns.
func (c *Columns) Cap(col int) int {
	if col >= 1 && col <= len(c.Max) && c.Max[col-1] > 0 {
		return c.Max[col-1]
	}
	return DefaultMaxWidth
}

// Widest is the display width of the widest value measured in column col.
func (c *Columns) Widest(col int) int {
	if col < 1 || col > len(c.widest) {
		return 0
	}
	return c.widest[col-1]
}

// TitleWidth is the narrowest column, in display columns, that shows the
// title of col in at most TitleLines lines (see WrappedLines); never
// narrower than 4 汉字 unless the title is shorter.
func (c *Columns) TitleWidth(col int) int {
	if col < 1 || col > len(c.Titles) {
		return 0
	}
	title := c.Titles[col-1]
	full := DisplayWidth(title)
	if c.TitleLines < 2 || full <= minTitleWidth {
		return full
	}
	w := max(minTitleWidth, (full+c.TitleLines-1)/c.TitleLines)
	for w < full && WrappedLines(title, w) > c.TitleLines {
		w++
	}
	return w
}

// DisplayColumns is the width of column col in display columns: its
// title's width and its widest value's up to the cap, whichever is more.
// Computed once for all columns when first asked for (after the last
// value measured): Titles, TitleLines and Max must not change after.
func (c *Columns) DisplayColumns(col int) int {
	if c.cols == nil {
		c.cols = make([]int, c.Len())
		for i := range c.cols {
			c.cols[i] = max(c.TitleWidth(i+1), min(c.Widest(i+1), c.Cap(i+1)))
		}
	}
	if col < 1 || col > len(c.cols) {
		return 0
	}
	return c.cols[col-1]
}

// Width is the width of column col as Excel keeps it (excelize's
// SetColWidth): DisplayColumns with room for the wider glyphs of Chinese
// fonts and the cell's padding (ExcelWidth).
func (c *Columns) Width(col int) float64 {
	return ExcelWidth(c.DisplayColumns(col))
}

// ExcelWidth is the Excel column width that shows text of the given display
// width: Excel counts widths in digits of the default font (Calibri 11, 7
// px), a 汉字 is 11 pt (14.7 px, 2.1 digits) wide and a cell has 5 px of
// padding. Rounded up to a quarter.
func ExcelWidth(displayColumns int) float64 {
	w := float64(displayColumns)*1.05 + 1.25
	return math.Ceil(w*4) / 4
}

// Wraps reports whether a value measured in col is wider than the column:
// its cells must wrap (excelize Alignment WrapText) to show it whole.
func (c *Columns) Wraps(col int) bool {
	return c.Widest(col) > c.DisplayColumns(col)
}

// Row heights, in points: a line of the default 11 pt font, and the most
// Excel allows.
const (
	lineHeight   = 15
	maxRowHeight = 409
)

// RowHeight is the height in points for a row of these values (column 1
// first, as Row takes them) in cells that wrap: as many lines as the
// widest-wrapping value takes in its column (WrappedLines), 0 (the
// default height) for one line. Spreadsheets do not fit the height of a
// row to wrapped text on opening a file, so a row of wrapped text needs
// it set. At most 409 pt (27 lines), the most Excel allows: longer text
// prints cut.
func (c *Columns) RowHeight(values ...string) float64 {
	lines := 1
	for i, v := range values {
		// A text of no more bytes than columns fits: no rune is wider
		// (in display columns) than its UTF-8 bytes.
		if w := c.DisplayColumns(i + 1); len(v) > w || strings.Contains(v, "\n") {
			lines = max(lines, WrappedLines(v, w))
		}
	}
	if lines == 1 {
		return 0
	}
	return min(float64(lines)*lineHeight+3, maxRowHeight)
}

// TitleRowHeight is the height in points of a header row whose titles
// wrap into up to lines lines, at the default 11 pt (bold): 15 pt a line,
// one line to spare for fonts that set Chinese more loosely.
func TitleRowHeight(lines int) float64 {
	return float64(max(lines, 1)+1)*lineHeight + 2
}

// FitColumns sets the width of every column of c on sheet of f (a sheet
// written cell by cell; for a streamed sheet use Columns.Stream before its
// first row).
func FitColumns(f *excelize.File, sheet string, c *Columns) error {
	for col := 1; col <= c.Len(); col++ {
		name, err := excelize.ColumnNumberToName(col)
		if err != nil {
			return err
		}
		if err := f.SetColWidth(sheet, name, name, c.Width(col)); err != nil {
			return fmt.Errorf("set width of column %s of sheet %s: %w", name, sheet, err)
		}
	}
	return nil
}

// Stream sets the width of every column of c on a streamed sheet; call it
// before the first SetRow.
func (c *Columns) Stream(sw *excelize.StreamWriter) error {
	for col := 1; col <= c.Len(); col++ {
		if err := sw.SetColWidth(col, col, c.Width(col)); err != nil {
			return fmt.Errorf("set width of column %d of sheet %s: %w", col, sw.Sheet, err)
		}
	}
	return nil
}
