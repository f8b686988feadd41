package sheet

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"reportbot/flows"
)

// WriteCSV writes 汇总表 as CSV: the same rows as the workbook's (units,
// subtotals, grand total, and beside last year's the 上年 and 增减%
// columns), each unit's other answers in further columns.
// It is UTF-8 with a BOM (so that Excel shows Chinese correctly) and CRLF
// line ends, and no cell can start a formula: user text starting with
// = + - @ TAB or CR gets a leading ' (OWASP's CSV injection guard). texts
// gives each submitted unit's text answers.
func WriteCSV(w io.Writer, o *flows.Overview, texts TextSource) error {
	t := newTable(o, texts)
	return writeCSV(w, func(record func([]string) error) error {
		values := func(vs []any) []string {
			rec := make([]string, len(vs))
			for i, v := range vs {
				rec[i] = csvField(v)
			}
			return rec
		}
		if err := record(append(t.summaryTitles(), t.textTitles()[4:]...)); err != nil {
			return err
		}
		blank := make([]any, len(t.texts))
		return t.summaryRows(func(_ rowKind, u *flows.UnitOverview, cells []any) error {
			if u == nil {
				return record(values(append(cells, blank...)))
			}
			texts, err := t.textCells(u)
			if err != nil {
				return err
			}
			return record(values(append(cells, texts...)))
		})
	})
}

// WriteTextCSV writes rows of text (the first is the header) as CSV the way
// WriteCSV does: UTF-8 with a BOM, CRLF, every cell guarded by GuardFormula.
func WriteTextCSV(w io.Writer, rows [][]string) error {
	return writeCSV(w, func(record func([]string) error) error {
		for _, row := range rows {
			rec := make([]string, len(row))
			for i, s := range row {
				rec[i] = GuardFormula(s)
			}
			if err := record(rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeCSV writes the BOM, then the records that write gives, with CRLF.
func writeCSV(w io.Writer, write func(record func([]string) error) error) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := write(cw.Write); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// csvField formats one cell: numbers as they are, money with two decimals,
// text guarded against formula injection.
func csvField(v any) string {
	switch v := v.(type) {
	case nil, blank:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case money:
		return flows.FormatMoney(int64(v))
	case string:
		return GuardFormula(v)
	case pct:
		// No plus sign: a field starting with + is what GuardFormula
		// guards against; 16.7% and -3.0% read as numbers.
		return strconv.FormatFloat(float64(v)*100, 'f', 1, 64) + "%"
	case marked:
		return csvField(v.v)
	}
	panic(fmt.Sprintf("sheet: unexpected cell value %T", v))
}

// GuardFormula makes text safe for a CSV cell that a spreadsheet opens: a
// value starting with = + - @ TAB or CR is prefixed with ' so that it is
// shown as text and never run as a formula.
func GuardFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
