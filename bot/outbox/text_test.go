package outbox

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	zh := func(n int) string { return strings.Repeat("报", n) }
	emoji := func(n int) string { return strings.Repeat("😀", n) } // 2 UTF-16 units each
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"empty", "", 4096, nil},
		{"short", "你好，世界", 4096, []string{"你好，世界"}},
		{"exactly 4096 Chinese", zh(4096), 4096, []string{zh(4096)}},
		{"4097 Chinese, no line break", zh(4097), 4096, []string{zh(4096), zh(1)}},
		{"2048 emoji are 4096 units", emoji(2048), 4096, []string{emoji(2048)}},
		{"2049 emoji", emoji(2049), 4096, []string{emoji(2048), emoji(1)}},
		{"surrogate pair at the boundary", "a" + emoji(2048), 4096, []string{"a" + emoji(2047), emoji(1)}},
		{"fits exactly with its line break", zh(2047) + "\n" + zh(2048), 4096, []string{zh(2047) + "\n" + zh(2048)}},
		{"cut at the last line break that fits", zh(2047) + "\n" + zh(2048) + "\n" + zh(10), 4096,
			[]string{zh(2047) + "\n" + zh(2048), zh(10)}},
		{"three lines of 2000", zh(2000) + "\n" + zh(2000) + "\n" + zh(2000), 4096,
			[]string{zh(2000) + "\n" + zh(2000), zh(2000)}},
		{"long line in the middle", "短行\n" + zh(5000) + "\n尾", 4096,
			[]string{"短行", zh(4096), zh(904) + "\n尾"}},
		{"blank lines at the cut are dropped", zh(4096) + "\n\n\n乙", 4096, []string{zh(4096), "乙"}},
		{"CRLF", "ab\r\ncd", 3, []string{"ab", "cd"}},
		{"small max", "ab\ncd\nef", 5, []string{"ab\ncd", "ef"}},
		{"max 1 and an emoji", "😀a", 1, []string{"😀", "a"}},
		{"max 0 means 1", "ab", 0, []string{"a", "b"}},
		{"mixed units", "表" + emoji(1) + "表", 3, []string{"表" + emoji(1), "表"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitText(tt.text, tt.max)
			if !equalParts(got, tt.want) {
				t.Errorf("SplitText(%s, %d) = %s, want %s", describe(tt.text), tt.max, describeAll(got), describeAll(tt.want))
			}
		})
	}
}

// FuzzSplitText checks the invariants: every part fits, is valid UTF-8 and
// not empty, and no character other than line breaks is lost or moved.
func FuzzSplitText(f *testing.F) {
	f.Add("第一行\n第二行😀\n\n第三行", 5)
	f.Add(strings.Repeat("报告😀\n", 900), 4096)
	f.Add("a\r\nb\n\n\nc", 2)
	f.Fuzz(func(t *testing.T, text string, maxUnits int) {
		if !utf8.ValidString(text) || maxUnits < 2 || maxUnits > 10_000 {
			t.Skip()
		}
		parts := SplitText(text, maxUnits)
		for _, p := range parts {
			if textUnits(p) > maxUnits || p == "" || !utf8.ValidString(p) {
				t.Fatalf("SplitText(%q, %d) has bad part %q", text, maxUnits, p)
			}
		}
		strip := strings.NewReplacer("\n", "", "\r", "")
		if got, want := strip.Replace(strings.Join(parts, "")), strip.Replace(text); got != want {
			t.Fatalf("SplitText(%q, %d) = %q: content changed", text, maxUnits, parts)
		}
	})
}

func equalParts(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// describe shortens long test strings to their length in units.
func describe(s string) string {
	if len(s) <= 40 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("<%d units, %d lines>", textUnits(s), strings.Count(s, "\n")+1)
}

func describeAll(parts []string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = describe(p)
	}
	return "[" + strings.Join(out, " ") + "]"
}
