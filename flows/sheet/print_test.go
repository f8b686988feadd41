package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"path"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"reportbot/flows"
)

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc 123", 7},
		{"市财政局", 8},
		{"县（市、区）双拥工作领导小组", 28},
		{"2022-02-05 10:00", 16},
		{"ＡＢ１", 6},   // fullwidth
		{"第 3 页", 7}, // mixed
		{"两行\n第二行更长", 10},
		{"é", 1},
	}
	for _, tt := range tests {
		if got := DisplayWidth(tt.in); got != tt.want {
			t.Errorf("DisplayWidth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestWrappedLines(t *testing.T) {
	tests := []struct {
		in      string
		columns int
		want    int
	}{
		{"", 10, 1},
		{"市财政局", 8, 1},
		{"市财政局", 7, 2},
		{"市财政局", 2, 4},
		{"组织双拥主题征文（篇）", 8, 3},  // 组织双拥 / 主题征文 / （篇）
		{"开办双拥宣传专栏（期）", 10, 3}, // 开办双拥宣 / 传专栏 / （期）: （期） stays whole
		{"中国人民武装警察部队", 100, 1},
		{"SY-2022-0003-2 已提交", 14, 2}, // the number is never broken
		{"SY-2022-0003-2", 7, 2},      // unless wider than the column
		{"第一行\n第二行", 20, 2},
	}
	for _, tt := range tests {
		if got := WrappedLines(tt.in, tt.columns); got != tt.want {
			t.Errorf("WrappedLines(%q, %d) = %d, want %d", tt.in, tt.columns, got, tt.want)
		}
	}
}

func TestColumns(t *testing.T) {
	c := Columns{
		Titles:     []string{"序号", "单位名称", "通过“两微一端”等新媒体发布双拥信息（条）"},
		TitleLines: 6,
		Max:        []int{0, 20},
	}
	c.Row("1", "离石区双拥工作领导小组", "12")
	c.Row("200", "一个名称很长很长很长很长很长的单位", "3")
	if got := c.Len(); got != 3 {
		t.Errorf("Len() = %d, want 3", got)
	}
	// 序号: its title (4) is wider than its numbers (3).
	if got := c.DisplayColumns(1); got != 4 {
		t.Errorf("DisplayColumns(1) = %d, want 4", got)
	}
	// 单位名称: the longest name (34) over the cap (20): capped, wrapped.
	if got := c.DisplayColumns(2); got != 20 || !c.Wraps(2) {
		t.Errorf("DisplayColumns(2) = %d, Wraps(2) = %v; want 20, true", got, c.Wraps(2))
	}
	// The long title wraps into at most 6 lines.
	w := c.DisplayColumns(3)
	if w >= DisplayWidth(c.Titles[2]) || WrappedLines(c.Titles[2], w) > 6 || WrappedLines(c.Titles[2], w-1) <= 6 {
		t.Errorf("DisplayColumns(3) = %d: %d lines, want the narrowest width for 6", w, WrappedLines(c.Titles[2], w))
	}
	if c.Wraps(1) || c.Wraps(3) {
		t.Errorf("Wraps(1) = %v, Wraps(3) = %v; want false", c.Wraps(1), c.Wraps(3))
	}
	for col := 1; col <= 3; col++ {
		if got, min := c.Width(col), float64(c.DisplayColumns(col)); got < min {
			t.Errorf("Width(%d) = %v, want at least %v", col, got, min)
		}
	}
	if got := c.RowHeight("1", "一个名称很长很长很长很长很长的单位", "3"); got < 2*lineHeight {
		t.Errorf("RowHeight of a wrapped name = %v, want two lines", got)
	}
	if got := c.RowHeight("1", "市财政局", "3"); got != 0 {
		t.Errorf("RowHeight of a row on one line = %v, want 0 (default)", got)
	}
}

// TestPrintSetupPlain sets up a sheet written cell by cell, twice (the
// second setup replaces the first), and reads it back.
func TestPrintSetupPlain(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if _, err := f.NewSheet("第二页"); err != nil {
		t.Fatal(err)
	}
	cols := Columns{Titles: []string{"题号", "问题", "填写内容"}}
	cols.Row("1", "组织双拥主题征文（篇）", "")
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"题号", "问题", "填写内容"}); err != nil {
		t.Fatal(err)
	}
	if err := FitColumns(f, "Sheet1", &cols); err != nil {
		t.Fatalf("FitColumns: %v", err)
	}
	if err := PrintSetup(f, "Sheet1", Print{Paper: PaperA3, Landscape: true, TitleRows: 2}); err != nil {
		t.Fatalf("PrintSetup: %v", err)
	}
	if err := PrintSetup(f, "Sheet1", Print{Paper: PaperA4, TitleRows: 3}); err != nil {
		t.Fatalf("PrintSetup again: %v", err)
	}
	if err := PrintSetup(f, "第二页", Print{Paper: PaperA4, Landscape: true}); err != nil {
		t.Fatalf("PrintSetup(第二页): %v", err)
	}
	if err := PrintSetup(f, "Sheet1", Print{Paper: 3}); err == nil {
		t.Errorf("PrintSetup with paper 3 succeeded, want an error")
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	checkPrint(t, g, buf.Bytes(), "Sheet1", Print{Paper: PaperA4, TitleRows: 3})
	checkPrint(t, g, buf.Bytes(), "第二页", Print{Paper: PaperA4, Landscape: true})
	if w, _ := g.GetColWidth("Sheet1", "B"); w < float64(DisplayWidth("组织双拥主题征文（篇）")) {
		t.Errorf("width of Sheet1!B = %v, want at least the question's display width", w)
	}
	if props, _ := g.GetSheetProps("Sheet1"); props.CodeName != nil && *props.CodeName != "" {
		t.Errorf("Sheet1 has the code name %q, want none", *props.CodeName)
	}
}

// checkPrint checks the print setup of sheet in the workbook f (data is its
// file) against p: see PrintSetup.
func checkPrint(t *testing.T, f *excelize.File, data []byte, sheet string, p Print) {
	t.Helper()
	layout, err := f.GetPageLayout(sheet)
	if err != nil {
		t.Fatalf("GetPageLayout(%s): %v", sheet, err)
	}
	orientation := map[bool]string{true: "landscape", false: "portrait"}[p.Landscape]
	if *layout.Size != int(p.Paper) || *layout.Orientation != orientation {
		t.Errorf("%s prints on paper %d %s, want %d %s", sheet, *layout.Size, *layout.Orientation, p.Paper, orientation)
	}
	if layout.FitToWidth == nil || *layout.FitToWidth != 1 || layout.FitToHeight == nil || *layout.FitToHeight != 0 {
		t.Errorf("%s fits to %v pages wide, %v long; want 1 and 0 (any)", sheet, deref(layout.FitToWidth), deref(layout.FitToHeight))
	}
	props, err := f.GetSheetProps(sheet)
	if err != nil || props.FitToPage == nil || !*props.FitToPage {
		t.Errorf("%s: fitToPage = %v (%v), want true", sheet, deref(props.FitToPage), err)
	}
	margins, err := f.GetPageMargins(sheet)
	if err != nil || !*margins.Horizontally || *margins.Left < 0.2 || *margins.Left > 0.75 || *margins.Bottom < *margins.Footer+0.2 {
		t.Errorf("%s margins: left %v, bottom %v, footer %v, centred %v (%v)", sheet, *margins.Left, *margins.Bottom, *margins.Footer, *margins.Horizontally, err)
	}
	hf, err := f.GetHeaderFooter(sheet)
	if err != nil || hf == nil || hf.OddFooter != "&C第 &P 页 共 &N 页" {
		t.Errorf("%s footer = %+v (%v), want &C第 &P 页 共 &N 页", sheet, hf, err)
	}
	var titles []string
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" && dn.Scope == sheet {
			titles = append(titles, dn.RefersTo)
		}
	}
	switch want := PrintTitlesRef(sheet, p.TitleRows); {
	case p.TitleRows == 0 && len(titles) > 0:
		t.Errorf("%s print titles %q, want none", sheet, titles)
	case p.TitleRows > 0 && (len(titles) != 1 || titles[0] != want):
		t.Errorf("%s print titles %q, want %q", sheet, titles, want)
	}
	if !gridLines(t, data, sheet) {
		t.Errorf("%s: grid lines are not printed (no printOptions gridLines)", sheet)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// gridLines reads the worksheet XML of sheet in the workbook file data and
// reports whether it prints grid lines: excelize cannot read that back.
func gridLines(t *testing.T, data []byte, sheet string) bool {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		r, err := z.Open(name)
		if err != nil {
			t.Fatalf("open %s of the workbook: %v", name, err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(read("xl/workbook.xml"), &wb); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(read("xl/_rels/workbook.xml.rels"), &rels); err != nil {
		t.Fatal(err)
	}
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID != s.RID {
				continue
			}
			name := strings.TrimPrefix(r.Target, "/")
			if !strings.HasPrefix(name, "xl/") {
				name = path.Join("xl", name)
			}
			var ws struct {
				PrintOptions *struct {
					GridLines string `xml:"gridLines,attr"`
				} `xml:"printOptions"`
			}
			if err := xml.Unmarshal(read(name), &ws); err != nil {
				t.Fatal(err)
			}
			return ws.PrintOptions != nil && (ws.PrintOptions.GridLines == "1" || ws.PrintOptions.GridLines == "true")
		}
	}
	t.Fatalf("no worksheet %s in the workbook", sheet)
	return false
}

// writeForPrint writes o's workbook and opens it as written (formatted
// values); the file is closed when the test ends.
func writeForPrint(t *testing.T, o *flows.Overview, texts TextSource) (*excelize.File, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, o, texts); err != nil {
		t.Fatalf("WriteXLSX: %v", err)
	}
	data := buf.Bytes()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, data
}

// TestWriteXLSXPrint checks the print setup of every sheet of the export
// in the written file: paper, orientation, fit to one page wide, the
// repeated title rows, the footer, grid lines; and that every column is as
// wide as its title and its values (up to a cap, where the cells wrap).
func TestWriteXLSXPrint(t *testing.T) {
	o, texts := rosterOverview(t)
	f, data := writeForPrint(t, o, texts)
	for _, tt := range []struct {
		sheet string
		p     Print
	}{
		{SheetSummary, Print{Paper: PaperA3, Landscape: true, TitleRows: 5}},
		{SheetTexts, Print{Paper: PaperA4, Landscape: true, TitleRows: 1}},
		{SheetPending, Print{Paper: PaperA4, Landscape: true, TitleRows: 1}},
	} {
		t.Run(tt.sheet, func(t *testing.T) {
			checkPrint(t, f, data, tt.sheet, tt.p)
			checkWidths(t, f, tt.sheet, tt.p.TitleRows)
		})
	}
	// The 类别 column is never narrower than the longest category name.
	for _, sheet := range []string{SheetSummary, SheetTexts, SheetPending} {
		w, _ := f.GetColWidth(sheet, "C")
		if want := float64(DisplayWidth("县（市、区）双拥工作领导小组")); w < want {
			t.Errorf("%s 类别 is %v wide, want at least %v", sheet, w, want)
		}
	}
}

// checkWidths checks every column of sheet against the display width of
// its title (row titleRow, wrapped into as many lines as its row holds)
// and of its values below: a value wider than its column must be in a cell
// that wraps, in a column at the cap (a long answer, or a name longer than
// 20 汉字); no column is wider than the cap unless its title needs it.
func checkWidths(t *testing.T, f *excelize.File, sheet string, titleRow int) {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	height, _ := f.GetRowHeight(sheet, titleRow)
	lines := int(height / lineHeight)
	capWidth := ExcelWidth(DefaultMaxWidth)
	for col, title := range rows[titleRow-1] {
		name, _ := excelize.ColumnNumberToName(col + 1)
		width, err := f.GetColWidth(sheet, name)
		if err != nil {
			t.Fatal(err)
		}
		if title != "" {
			if n := WrappedLines(title, int(math.Floor(width))); n > max(lines, 1) || n > 1 && !wraps(f, sheet, cell(col+1, titleRow)) {
				t.Errorf("%s!%s (%s) is %v wide: its title takes %d lines, its row holds %d", sheet, name, title, width, n, lines)
			}
		}
		if width > capWidth && width > float64(DisplayWidth(title)) {
			t.Errorf("%s!%s (%s) is %v wide, over the cap %v", sheet, name, title, width, capWidth)
		}
		for r := titleRow; r < len(rows); r++ {
			if col >= len(rows[r]) || rows[r][col] == "" {
				continue
			}
			v := rows[r][col]
			if float64(DisplayWidth(v)) <= width {
				continue
			}
			ref := cell(col+1, r+1)
			if !wraps(f, sheet, ref) {
				t.Errorf("%s!%s = %q (display width %d) in a column %v wide, not wrapped", sheet, ref, v, DisplayWidth(v), width)
			}
		}
	}
}

// wraps reports whether the cell ref wraps its text.
func wraps(f *excelize.File, sheet, ref string) bool {
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		return false
	}
	st, err := f.GetStyle(id)
	return err == nil && st.Alignment != nil && st.Alignment.WrapText
}

// TestWriteXLSXLongName: a unit name longer than the cap (50 汉字, the
// longest allowed) wraps in its cell, in a row tall enough for its lines.
func TestWriteXLSXLongName(t *testing.T) {
	o, data := fixture(t)
	long := string([]rune(strings.Repeat("很长的单位名称", 8))[:50])
	u := data[1]
	u.Unit.Name = long
	data[1] = u
	all := make([]flows.UnitData, 0, len(data))
	for id := int64(1); id <= 8; id++ {
		all = append(all, data[id])
	}
	o = flows.NewOverview(o.Campaign, o.Deadline, o.Now, all)
	f := openXLSX(t, o, data)
	if got, _ := f.GetCellValue(SheetSummary, "B6"); got != long {
		t.Fatalf("%s!B6 = %q, want the long name", SheetSummary, got)
	}
	width, _ := f.GetColWidth(SheetSummary, "B")
	if width > ExcelWidth(DefaultMaxWidth) || !wraps(f, SheetSummary, "B6") {
		t.Errorf("%s!B is %v wide, B6 wraps %v; want at most %v, wrapped", SheetSummary, width, wraps(f, SheetSummary, "B6"), ExcelWidth(DefaultMaxWidth))
	}
	if h, _ := f.GetRowHeight(SheetSummary, 6); h < 3*lineHeight {
		t.Errorf("%s row 6 is %v pt high, want 3 lines for 50 汉字 in 20 a line", SheetSummary, h)
	}
	if h, _ := f.GetRowHeight(SheetSummary, 7); h > lineHeight {
		t.Errorf("%s row 7 is %v pt high, want the default", SheetSummary, h)
	}
}
