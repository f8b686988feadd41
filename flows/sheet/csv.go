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
// subtotals, grand total), each unit's other answers in further columns.
// It is UTF-8 with a BOM (so that Excel shows Chinese correctly) and CRLF
// line ends, and no cell can start a formula: user text starting with
// = + - @ TAB or CR gets a leading ' (OWASP's CSV injection guard).
func WriteCSV(w io.Writer, o *flows.Overview) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	t := newTable(o)
	record := func(values []any) error {
		rec := make([]string, len(values))
		for i, v := range values {
			rec[i] = csvField(v)
		}
		return cw.Write(rec)
	}
	header := append(t.summaryTitles(), t.textTitles()[4:]...)
	if err := record(stringsToAny(header)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	blank := make([]any, len(t.texts))
	err := t.summaryRows(func(_ rowKind, u *flows.UnitOverview, values []any) error {
		if u != nil {
			return record(append(values, t.textCells(u)...))
		}
		return record(append(values, blank...))
	})
	if err != nil {
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

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
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
