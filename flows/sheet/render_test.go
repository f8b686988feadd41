package sheet

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/flows/flowstest"
)

var keepPDF = flag.String("pdfdir", "", "TestExportPrints: keep the workbooks and their PDFs in this directory (to look at them)")

// rosterOverview is the campaign of the sample roster (37 units): most
// submitted (one revising), some filling in, one returned, one without a
// contact; sample answers, seeded by unit. The text source makes each
// unit's report again as the store would return it.
func rosterOverview(t testing.TB) (*flows.Overview, TextSource) {
	t.Helper()
	return rosterOverviewOf(t, flows.DefaultCampaign(), 0, nil)
}

// rosterCompared is the sample roster in next year's campaign (nextYear)
// beside the roster's last year (other sample answers): every fourth unit
// that stands confirmed a troop_visits of 41 times last year's.
func rosterCompared(t testing.TB) (*flows.Overview, TextSource) {
	t.Helper()
	prev, _ := rosterOverviewOf(t, flows.DefaultCampaign(), 1000, nil)
	visits := prev.Campaign.Question("troop_visits")
	o, texts := rosterOverviewOf(t, nextYear(t), 0, func(i int, r *flows.Report) {
		if p, ok := prev.Figure(&prev.Units[i], visits); ok && i%4 == 0 && p > 0 {
			r.Answers["troop_visits"] = flows.Answer{Num: 41 * p}
			r.Outliers = []string{"troop_visits"}
		}
	})
	o.SetPrevious(prev)
	return o, texts
}

// rosterOverviewOf is rosterOverview in campaign c, the sample answers
// seeded by unit id + seed; edit, if not nil, changes the report of the
// i-th unit (0 first) that has one.
func rosterOverviewOf(t testing.TB, c *flows.Campaign, seed uint64, edit func(i int, r *flows.Report)) (*flows.Overview, TextSource) {
	t.Helper()
	data, err := os.ReadFile("../testdata/units-lvliang.csv")
	if err != nil {
		t.Fatal(err)
	}
	imp, probs := flows.ParseUnitsCSV(data, c, nil)
	if len(probs) > 0 || len(imp.Add) != 37 {
		t.Fatalf("ParseUnitsCSV(units-lvliang.csv) = %d units, problems %v", len(imp.Add), probs)
	}
	names := []string{"张建国", "李秀英", "王志强", "刘海燕", "陈卫东", "孙强"}
	var us []flows.UnitData
	for i, u := range imp.Add {
		u.ID = int64(i + 1)
		contact := []flows.Contact{{UserID: 100 + u.ID, UnitID: u.ID, Name: names[i%len(names)]}}
		at := now.Add(-time.Duration(i) * 3 * time.Hour)
		d := flows.UnitData{Unit: u, Contacts: contact, Draft: flows.Draft{UnitID: u.ID}}
		switch i % 9 {
		case 4: // filling in
			d.Draft.Status, d.Draft.Cursor, d.Draft.UpdatedAt = flows.StatusFilling, "essays", at
		case 7: // never bound
			d.Contacts = nil
		default:
			version := 1
			if i == 2 {
				version = 2
			}
			r := &flows.Report{UnitID: u.ID, Version: version, Receipt: c.ReceiptNumber(u.ID, version), SubmittedAt: at,
				Answers: flowstest.SampleAnswers(c, u.Category, uint64(u.ID)+seed)}
			if edit != nil {
				edit(i, r)
			}
			d.Latest = r
			d.Draft = flows.Draft{UnitID: u.ID, Status: flows.StatusSubmitted, Version: version, Answers: r.Answers, SubmittedAt: at, UpdatedAt: at}
			switch i {
			case 2:
				d.Draft.Status = flows.StatusRevising
			case 15:
				d.Draft.Status = flows.StatusReturned
				d.Draft.Returned = &flows.Return{Reason: "慰问金数额有误，请核对后重新提交", Question: "veteran_cash", At: now.Add(-time.Hour)}
			}
		}
		us = append(us, d)
	}
	o := flows.NewOverview(c, c.Deadline, now, us)
	texts := func(u *flows.UnitOverview) ([]string, error) {
		r := flows.Report{UnitID: u.Unit.ID, Version: u.Latest.Version, Answers: flowstest.SampleAnswers(c, u.Unit.Category, uint64(u.Unit.ID)+seed)}
		return o.Texts(u, r), nil
	}
	return o, texts
}

// mustTool returns the path of a program the render test needs. Without
// it the test fails when CI is set (CI installs it: see test.sh) and is
// skipped elsewhere.
func mustTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (CI is set): install the Debian package %s (test.sh does)", name, pkg)
		}
		t.Skipf("%s not found: install the Debian package %s to render the export", name, pkg)
	}
	return path
}

// mustChineseFont checks that fontconfig knows a Chinese font: without one
// LibreOffice draws no 汉字, and the rendered pages say nothing.
func mustChineseFont(t *testing.T) {
	t.Helper()
	out, err := exec.Command(mustTool(t, "fc-list", "fontconfig"), ":lang=zh", "family").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Chinese font (fc-list :lang=zh: %v) and CI is set: install fonts-wqy-microhei (test.sh does)", err)
		}
		t.Skip("no Chinese font: install fonts-wqy-microhei to render the export")
	}
}

// pdfPage is one page of a rendered PDF: its size in points and its text.
type pdfPage struct {
	w, h float64
	text string
}

func (p pdfPage) a3() bool { return max(p.w, p.h) > 1100 } // A3 is 1191 × 842 pt, A4 842 × 595

var pageSize = regexp.MustCompile(`(?m)^Page +(\d+) size: +([\d.]+) x ([\d.]+) pts`)

// readPDF reads the pages of a PDF with poppler: pdfinfo for the page
// sizes, pdftotext for the text (pages end in a form feed).
func readPDF(t *testing.T, path string) []pdfPage {
	t.Helper()
	info, err := exec.Command(mustTool(t, "pdfinfo", "poppler-utils"), "-f", "1", "-l", "100000", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v\n%s", path, err, info)
	}
	var pages []pdfPage
	for _, m := range pageSize.FindAllStringSubmatch(string(info), -1) {
		w, _ := strconv.ParseFloat(m[2], 64)
		h, _ := strconv.ParseFloat(m[3], 64)
		pages = append(pages, pdfPage{w: w, h: h})
	}
	text, err := exec.Command(mustTool(t, "pdftotext", "poppler-utils"), "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	texts := strings.Split(strings.TrimSuffix(string(text), "\f"), "\f")
	if len(pages) == 0 || len(texts) != len(pages) {
		t.Fatalf("%s: pdfinfo found %d pages, pdftotext %d", path, len(pages), len(texts))
	}
	for i := range pages {
		pages[i].text = texts[i]
	}
	return pages
}

// TestExportPrints renders the export of the sample roster (37 units) and
// of 200 units with LibreOffice (soffice --headless --convert-to pdf, both
// workbooks in one call: starting soffice is most of the time) and checks
// the printed 汇总表: A3 landscape, one page wide, at most ⌈rows/30⌉ pages
// long for its rows under the header, the title rows on every page; the
// other sheets on A4 landscape; the footer 第 n 页 共 N 页 on every page.
//
// How the pages of 汇总表 are told apart, and why "one page wide" holds:
// 汇总表 is the only A3 sheet, so its pages are the PDF's A3 pages
// (pdfinfo gives every page's size); they come first, as the sheet does.
// LibreOffice prints a sheet too wide for one page as further pages that
// hold only the columns on the right, and column B (单位名称: the units'
// names, 小计, 合计) is never among those. So the sheet is one page wide
// when every one of its pages shows column B text, and every row's label
// is on one of them — checked on the pages' text (pdftotext). That the
// figures are all there is checked by the last column's title on every
// page. (Converting a workbook of 汇总表 alone would also do, but would
// not be the export as it is.)
//
// Without soffice, pdfinfo, pdftotext or a Chinese font the test fails
// when CI is set and is skipped elsewhere. -pdfdir keeps the files.
func TestExportPrints(t *testing.T) {
	soffice := mustTool(t, "soffice", "libreoffice-calc-nogui")
	mustTool(t, "pdfinfo", "poppler-utils")
	mustTool(t, "pdftotext", "poppler-utils")
	mustChineseFont(t)

	dir := t.TempDir()
	if *keepPDF != "" {
		dir = *keepPDF
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	type export struct {
		name  string
		o     *flows.Overview
		texts TextSource
	}
	roster, rosterTexts := rosterOverview(t)
	big, bigTexts := bigOverview(200)
	compared, comparedTexts := rosterCompared(t)
	bigCmp, bigCmpTexts := bigCompared(t, 200)
	exports := []export{{"export-37", roster, rosterTexts}, {"export-200", big, bigTexts},
		{"export-compare-37", compared, comparedTexts}, {"export-compare-200", bigCmp, bigCmpTexts}}
	args := []string{"-env:UserInstallation=file://" + filepath.Join(dir, "lo-profile"),
		"--headless", "--norestore", "--convert-to", "pdf", "--outdir", dir}
	for _, e := range exports {
		var buf bytes.Buffer
		if err := WriteXLSX(&buf, e.o, e.texts); err != nil {
			t.Fatalf("WriteXLSX(%s): %v", e.name, err)
		}
		path := filepath.Join(dir, e.name+".xlsx")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, soffice, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir) // soffice writes under $HOME
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("soffice converted %d workbooks in %v", len(exports), time.Since(start).Round(time.Millisecond))

	for _, e := range exports {
		t.Run(e.name, func(t *testing.T) {
			pages := readPDF(t, filepath.Join(dir, e.name+".pdf"))
			checkSummaryPages(t, e.o, pages)
		})
	}
}

// checkSummaryPages checks the printed 汇总表 of o: see TestExportPrints.
func checkSummaryPages(t *testing.T, o *flows.Overview, pages []pdfPage) {
	t.Helper()
	tb := newTable(o, nil)
	var labels []string // column B of each row under the header
	err := tb.summaryRows(func(_ rowKind, _ *flows.UnitOverview, values []any) error {
		labels = append(labels, values[1].(string))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := len(labels)
	n := 0
	for n < len(pages) && pages[n].a3() {
		n++
	}
	for i, p := range pages[n:] {
		if p.a3() {
			t.Errorf("page %d is A3 after the A4 pages: 汇总表 does not come first", n+i+1)
		}
		if p.w < p.h {
			t.Errorf("page %d is portrait (%.0f × %.0f pt), want A4 landscape", n+i+1, p.w, p.h)
		}
	}
	// The footer numbers the pages of the whole workbook.
	for i, p := range pages {
		compact := strings.Join(strings.Fields(p.text), "")
		if want := fmt.Sprintf("第%d页共%d页", i+1, len(pages)); !strings.Contains(compact, want) {
			t.Errorf("page %d lacks the footer %q", i+1, want)
		}
	}
	// Beside last year's, 汇总表 prints section by section (comparePrint):
	// as many pages across as its column breaks make.
	_, layout, err := tb.summaryLayout()
	if err != nil {
		t.Fatal(err)
	}
	across := len(layout.ColBreaks) + 1
	maxPages := across * ((rows + 29) / 30)
	t.Logf("汇总表: %d rows under the header on %d A3 pages (at most %d); %d pages in all", rows, n, maxPages, len(pages))
	if n == 0 {
		t.Fatalf("no A3 page: 汇总表 is not printed on A3 (page 1 is %.0f × %.0f pt)", pages[0].w, pages[0].h)
	}
	if n > maxPages {
		t.Errorf("汇总表 prints on %d pages, want at most %d × ⌈%d/30⌉ = %d", n, across, rows, maxPages)
	}
	if tb.compare {
		checkWidePages(t, tb, pages[:n], across)
		return
	}
	seen := map[string]int{}
	// The last column's title wraps: its first 4 汉字 stand together.
	// (With last year's, the last figure's: 上年 and 增减% follow it.)
	titles := tb.summaryTitles()
	lastTitle := string([]rune(titles[len(titles)-tb.stride()])[:4])
	for i, p := range pages[:n] {
		text := p.text
		compact := strings.Join(strings.Fields(text), "")
		if p.w < p.h {
			t.Errorf("汇总表 page %d is portrait (%.0f × %.0f pt), want A3 landscape", i+1, p.w, p.h)
		}
		for _, want := range []string{o.Campaign.Title, "序号", "单位名称", "类别"} {
			if !strings.Contains(compact, want) {
				t.Errorf("汇总表 page %d lacks %q: title rows not repeated?\n%s", i+1, want, text)
			}
		}
		if !strings.Contains(compact, lastTitle) {
			t.Errorf("汇总表 page %d lacks the start of the last column's title %q: the figures do not fit the page", i+1, lastTitle)
		}
		found := 0
		for _, l := range labels {
			if strings.Contains(compact, strings.Join(strings.Fields(l), "")) {
				seen[l]++
				found++
			}
		}
		if found == 0 {
			t.Errorf("汇总表 page %d shows no unit of column B: a page of the columns on the right, so the sheet is more than one page wide:\n%s", i+1, text)
		}
	}
	for _, l := range labels {
		if seen[l] == 0 {
			t.Errorf("汇总表 row %q is on no A3 page", l)
		}
	}
}

// checkWidePages checks the pages of 汇总表 printed section by section
// (beside last year's): the page header with the campaign's title, the
// column titles and the units' names (columns A:B) on every page, the
// fixed columns on the first pages, and every figure's title on some page,
// its 上年 and 增减% with it.
func checkWidePages(t *testing.T, tb *table, pages []pdfPage, across int) {
	t.Helper()
	if across < 2 {
		t.Errorf("汇总表 beside last year's prints %d page across, want it cut by section", across)
	}
	var all strings.Builder
	totals := 0
	for i, p := range pages {
		compact := strings.Join(strings.Fields(p.text), "")
		all.WriteString(compact)
		for _, want := range []string{tb.o.Campaign.Title, "序号", "单位名称"} {
			if !strings.Contains(compact, want) {
				t.Errorf("汇总表 page %d lacks %q:\n%s", i+1, want, p.text)
			}
		}
		// Pages print down, then across: the fixed columns' pages first.
		fixed, figures := strings.Contains(compact, "回执编号"), strings.Contains(compact, "上年增减%")
		if fixed == figures || i == 0 && !fixed {
			t.Errorf("汇总表 page %d shows the fixed columns %v, 上年 and 增减%% side by side %v; want one of them (the first page the fixed columns):\n%s", i+1, fixed, figures, p.text)
		}
		if strings.Contains(compact, "合计（") {
			totals++
		}
	}
	if totals != across {
		t.Errorf("合计 is on %d pages of 汇总表, want %d (once a page across)", totals, across)
	}
	for _, q := range tb.numbers {
		start := string([]rune(q.Title())[:4])
		if !strings.Contains(all.String(), start) {
			t.Errorf("汇总表 prints the title of %s (%q…) on no page", q.ID, start)
		}
	}
}
