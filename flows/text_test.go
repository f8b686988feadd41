package flows

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	for _, tt := range []struct {
		desc, in, want string
		refused        string // part of the *UserError's message; "" = accepted
	}{
		{"plain", "离石区双拥工作领导小组", "离石区双拥工作领导小组", ""},
		{"trimmed", "  市民政局\u3000", "市民政局", ""},
		{"spaces collapsed", "吕梁  示例\u3000\u3000集团\u00a0公司", "吕梁 示例 集团 公司", ""},
		{"full-width letters and digits fold", "市ＡＢＣ局１２３", "市ABC局123", ""},
		{"full-width parentheses fold", "示例企业（国有）", "示例企业(国有)", ""},
		{"zero-width space inside", "市民\u200b政局", "", "不可见字符"},
		{"zero-width joiner", "市民\u200d政局", "", "不可见字符"},
		{"zero-width non-joiner", "市民\u200c政局", "", "不可见字符"},
		{"byte order mark", "\ufeff市民政局", "", "不可见字符"},
		{"bidi override", "市民政局\u202e局政民市", "", "不可见字符"},
		{"bidi isolate", "\u2066市民政局\u2069", "", "不可见字符"},
		{"private use", "市民政局\ue000", "", "不可见字符"},
		{"control", "市民政局\x07", "", "不可见字符"},
		{"Hangul filler", "市民政局\u3164", "", "不可见字符"},
		{"line separator", "市民政局\u2028", "", "不可见字符"},
		{"newline", "市民政局\n市财政局", "", "换行"},
		{"invalid UTF-8", "市民政局\xff", "", "无法识别"},
		{"empty", "", "", "不能为空"},
		{"only spaces", " \u3000 ", "", "不能为空"},
		{"too long", strings.Repeat("局", MaxNameRunes+1), "", "太长"},
		{"at the cap", strings.Repeat("局", MaxNameRunes), strings.Repeat("局", MaxNameRunes), ""},
	} {
		got, err := NormalizeName(tt.in)
		if tt.refused == "" {
			if err != nil || got != tt.want {
				t.Errorf("%s: NormalizeName(%q) = %q, %v; want %q", tt.desc, tt.in, got, err, tt.want)
			}
			continue
		}
		var ue *UserError
		if !errors.As(err, &ue) || !strings.Contains(ue.Msg, tt.refused) {
			t.Errorf("%s: NormalizeName(%q) = %q, %v; want a *UserError saying %q", tt.desc, tt.in, got, err, tt.refused)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, tt := range []struct{ desc, in, want string }{
		{"plain kept", "  慰问 ５ 户。\n第二行  ", "  慰问 ５ 户。\n第二行  "},
		{"zero-width space dropped", "慰问\u200b5户", "慰问5户"},
		{"bidi override dropped", "金额\u202e0001\u202c元", "金额0001元"},
		{"bidi isolates dropped", "\u2067文本\u2069", "文本"},
		{"BOM and ZWJ dropped", "\ufeff👨\u200d👩", "👨👩"},
		{"controls dropped, tabs kept", "a\x00b\tc\x1bd", "ab\tcd"},
		{"line breaks unified", "a\r\nb\rc\u2028d", "a\nb\nc\nd"},
		{"emoji variation selector kept", "❤\ufe0f", "❤\ufe0f"},
	} {
		if got := CleanText(tt.in); got != tt.want {
			t.Errorf("%s: CleanText(%q) = %q, want %q", tt.desc, tt.in, got, tt.want)
		}
	}
}

// TestParseUnitsCSVNames: names in a units file are normalised; a name that
// does not print as it reads is a problem of its row, and a name equal to
// an existing one after normalisation is that unit.
func TestParseUnitsCSVNames(t *testing.T) {
	c := DefaultCampaign()
	existing := []Unit{{ID: 1, Name: "市ABC局", Category: "department"}}
	file := "名称,类别\n" +
		"市ＡＢＣ局,市直单位\n" + // the existing unit, in full-width letters
		"市民\u200b政局,市直单位\n" +
		"市财政局\u202e,市直单位\n" +
		"示例\u3000\u3000企业,企业\n"
	imp, probs := ParseUnitsCSV([]byte(file), c, existing)
	want := []string{"第 3 行", "第 4 行"}
	if len(probs) != len(want) {
		t.Fatalf("ParseUnitsCSV problems = %v, want rows 3 and 4 refused", probs)
	}
	for i, p := range probs {
		if s := p.String(); !strings.Contains(s, want[i]) || !strings.Contains(s, "不可见字符") || strings.ContainsAny(s, "\u200b\u202e") {
			t.Errorf("problem %d = %q, want %s refused for an invisible character, quoted without it", i, s, want[i])
		}
	}
	imp, probs = ParseUnitsCSV([]byte("名称,类别\n市ＡＢＣ局,市直单位\n示例\u3000\u3000企业,企业\n"), c, existing)
	if len(probs) != 0 {
		t.Fatalf("ParseUnitsCSV problems = %v, want none", probs)
	}
	if len(imp.Same) != 1 || imp.Same[0] != "市ABC局" {
		t.Errorf("ParseUnitsCSV Same = %q, want [市ABC局] (full-width name of an existing unit)", imp.Same)
	}
	if len(imp.Add) != 1 || imp.Add[0].Name != "示例 企业" {
		t.Errorf("ParseUnitsCSV Add = %+v, want one unit named %q", imp.Add, "示例 企业")
	}
}
