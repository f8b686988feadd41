package flows

import (
	"strings"
	"testing"
)

// TestNumberAnswersTypedBack: what the summary shows of a number reads back
// as the same number (the unit 副/张 whole), and digits apart by a space are
// refused rather than joined ("1 2" is not 12).
func TestNumberAnswersTypedBack(t *testing.T) {
	c := DefaultCampaign()
	couplets, essays, cash := c.Question("couplets"), c.Question("essays"), c.Question("veteran_cash")
	for _, tc := range []struct {
		q       *Question
		raw     string
		want    int64
		refused string // part of the refusal; "" when accepted
	}{
		{couplets, "12 副/张", 12, ""},
		{couplets, "12副/张", 12, ""},
		{couplets, "12张", 12, ""},
		{couplets, "12 副", 12, ""},
		{essays, "12 篇", 12, ""},
		{essays, "1,234", 1234, ""},
		{essays, "1 2", 0, "中间有空格"},
		{essays, "１２ ３篇", 0, "中间有空格"},
		{couplets, "1\u3000000", 0, "中间有空格"},
		{cash, "1 000", 0, "中间有空格"},
		{cash, "1.25 万元", 125, ""},
	} {
		answers := map[string]Answer{}
		a, problem := c.parseAnswer(tc.q, answers, tc.raw)
		switch {
		case tc.refused == "" && problem != "":
			t.Errorf("%s %q refused: %s", tc.q.ID, tc.raw, problem)
		case tc.refused == "" && a.Num != tc.want:
			t.Errorf("%s %q = %d, want %d", tc.q.ID, tc.raw, a.Num, tc.want)
		case tc.refused != "" && !strings.Contains(problem, tc.refused):
			t.Errorf("%s %q: problem %q, want one with %q", tc.q.ID, tc.raw, problem, tc.refused)
		}
	}
}
