package flows

import (
	"fmt"
	"strconv"
	"strings"
)

// parseNumber parses a plain number as the question stores it: integers as
// they are, money in hundredths.
func parseNumber(q *Question, s string) (int64, error) {
	if q.Type == TypeMoney {
		return ParseMoney(s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// ParseMoney parses 万元 with at most two decimals into hundredths: "1.5" → 150.
func ParseMoney(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || len(frac) > 2 {
		return 0, fmt.Errorf("bad money %q", s)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad money %q", s)
		}
	}
	if len(whole) > 12 {
		return 0, fmt.Errorf("money too large %q", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad money %q: %w", s, err)
	}
	if neg {
		n = -n
	}
	return n, nil
}

// FormatMoney formats hundredths of 万元: 150 → "1.50".
func FormatMoney(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}
