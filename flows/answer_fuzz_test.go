package flows

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Fuzz targets of the answer parsers: what a contact types is the one
// input a stranger fully controls. Every target checks that the parser
// does not panic, that a refusal is a Chinese sentence, that it does not
// touch the answers it was given, and that an accepted value reads back
// the same from what the summary shows of it.

// hasCJK reports whether s has a Chinese character: the mark of a message
// meant for the user rather than a Go error leaking through.
func hasCJK(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

// nastyTexts are seeds every text-taking target shares: Chinese, full-width
// digits, emoji, zero-width and bidi characters, huge numbers, empty input,
// invalid UTF-8.
var nastyTexts = []string{
	"", " ", "　", "0", "12", "１２", "１２ 篇。", "12篇", "1,234", "1，234", "1。5", "1.5", "-3", "－3", "+7",
	"无", "没有", "零", "暂无", "跳过", "完成", "12次", "3副", "3张",
	"99999999999999999999999999", "9223372036854775807", "9223372036854775808", "000000000000000000001",
	"1e9", "0x10", "NaN", "∞", "١٢", "一二", "十二", "½",
	"12\u200b", "\u200b", "\u202e21", "1\u200d2", "\ufeff12", "12\u00a0篇", "1 2", "1\t2",
	"😀", "12😀", "👨‍👩‍👧", "¥1.25万元", "￥1.25万", "1.25万元", "12345元", ".5", "5.", "1.234", "1..2", "1.2.3",
	"13912345678", "+86 139 1234 5678", "0358-8498917", "(0358)8498917转123", "0358-8498917-123", "010-12345678#9",
	"产业帮扶、教育帮扶", "产业帮扶,产业帮扶", "INDUSTRY", "industry；health", "、、", "是", "否",
	"\xff\xfe", "1\xc0", "篇\xe4", strings.Repeat("字", 3501), strings.Repeat("9", 1000),
}

// checkRefusal checks what every parser must hold: a problem is a
// Chinese sentence, and the answers given are untouched.
func checkRefusal(t *testing.T, q *Question, raw string, before, after map[string]Answer, problem string) {
	t.Helper()
	if problem != "" && !hasCJK(problem) {
		t.Errorf("parseAnswer(%s, %q) refused with %q, which has no Chinese", q.ID, raw, problem)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("parseAnswer(%s, %q) changed the answers given: %v, want %v", q.ID, raw, after, before)
	}
}

var (
	plainDigits = regexp.MustCompile(`^[0-9]{1,8}$`)
	plainAmount = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,2})?$`)
)

// FuzzParseInteger: integer answers (with a unit, a unit with a slash,
// and a 其中 bound by another answer). An accepted value is within the
// question's bounds, a plain number reads as itself, and the summary's
// "12 篇" reads back as the same value.
func FuzzParseInteger(f *testing.F) {
	c := DefaultCampaign()
	qs := []*Question{c.Question("essays"), c.Question("couplets"), c.Question("frontier_family_visits")}
	for i, s := range nastyTexts {
		f.Add(s, uint8(i), int64(12))
	}
	f.Add("13", uint8(2), int64(12))
	f.Add("12户", uint8(2), int64(-1))
	f.Fuzz(func(t *testing.T, raw string, which uint8, total int64) {
		q := qs[int(which)%len(qs)]
		answers := map[string]Answer{"veteran_visits": {Num: total}}
		before := maps.Clone(answers)
		a, problem := c.parseAnswer(q, answers, raw)
		checkRefusal(t, q, raw, before, answers, problem)
		if problem != "" {
			return
		}
		if lo, hi, _ := c.numberBounds(q, answers); a.Num < lo || a.Num > hi {
			t.Errorf("parseAnswer(%s, %q) = %d, outside [%d, %d]", q.ID, raw, a.Num, lo, hi)
		}
		if plainDigits.MatchString(raw) {
			if want, _ := strconv.ParseInt(raw, 10, 64); a.Num != want {
				t.Errorf("parseAnswer(%s, %q) = %d, want %d", q.ID, raw, a.Num, want)
			}
		}
		shown := FormatAnswer(q, a)
		back, problem := c.parseAnswer(q, answers, shown)
		if problem != "" || back.Num != a.Num {
			t.Errorf("parseAnswer(%s, %q) = %d shown as %q, which reads back as %d (problem %q)", q.ID, raw, a.Num, shown, back.Num, problem)
		}
	})
}

// FuzzParseMoney: money answers in 万元. An accepted value is within the
// bounds, a plain amount reads as itself in hundredths, and the summary's
// "1.25 万元" reads back as the same value.
func FuzzParseMoney(f *testing.F) {
	c := DefaultCampaign()
	q := c.Question("veteran_cash")
	for _, s := range nastyTexts {
		f.Add(s)
	}
	f.Add("1,234.56万元")
	f.Add("123,4567.8")
	f.Add("1000000.00")
	f.Add("999999999999.99")
	f.Add("0.001")
	f.Fuzz(func(t *testing.T, raw string) {
		answers := map[string]Answer{}
		a, problem := c.parseAnswer(q, answers, raw)
		checkRefusal(t, q, raw, map[string]Answer{}, answers, problem)
		if problem != "" {
			return
		}
		if lo, hi, _ := c.numberBounds(q, answers); a.Num < lo || a.Num > hi {
			t.Errorf("parseAnswer(%s, %q) = %d, outside [%d, %d]", q.ID, raw, a.Num, lo, hi)
		}
		if plainAmount.MatchString(raw) {
			if want, err := ParseMoney(raw); err != nil || a.Num != want {
				t.Errorf("parseAnswer(%s, %q) = %d, want %d (%v)", q.ID, raw, a.Num, want, err)
			}
		}
		shown := FormatAnswer(q, a)
		back, problem := c.parseAnswer(q, answers, shown)
		if problem != "" || back.Num != a.Num {
			t.Errorf("parseAnswer(%s, %q) = %d shown as %q, which reads back as %d (problem %q)", q.ID, raw, a.Num, shown, back.Num, problem)
		}
	})
}

var storedPhone = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-[2-9][0-9]{6,7}(转[0-9]{1,6})?)$`)

// FuzzParsePhone: an accepted phone number is stored in one of the two
// stored forms (mobile, or landline with area code and extension), the
// summary shows it as stored, and reading the stored form again gives it
// unchanged.
func FuzzParsePhone(f *testing.F) {
	c := DefaultCampaign()
	q := c.Question("filler_phone")
	for _, s := range nastyTexts {
		f.Add(s)
	}
	for _, s := range []string{"１３９１２３４５６７８", "+86-13912345678", "8613912345678", "0358 8498917 ext. 12", "0358/8498917", "03588498917分机1234567", "02-1234567", "0358-0498917", "0358-8498917转", "13912345678转1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		answers := map[string]Answer{}
		a, problem := c.parseAnswer(q, answers, raw)
		checkRefusal(t, q, raw, map[string]Answer{}, answers, problem)
		if problem != "" {
			return
		}
		if !storedPhone.MatchString(a.Text) {
			t.Errorf("parseAnswer(%s, %q) = %q, not a stored phone form", q.ID, raw, a.Text)
		}
		if shown := FormatAnswer(q, a); shown != a.Text {
			t.Errorf("FormatAnswer(%s, %q) = %q, want it as stored", q.ID, a.Text, shown)
		}
		if again, ok := normalizePhone(a.Text); !ok || again != a.Text {
			t.Errorf("parseAnswer(%s, %q) = %q, which reads again as %q (ok %v)", q.ID, raw, a.Text, again, ok)
		}
	})
}

// choiceQuestion is a single-choice question (the default campaign has
// none), with a label holding a space and one holding brackets.
var choiceQuestion = &Question{ID: "held", Prompt: "是否开展", Type: TypeChoice, Options: []Option{
	{ID: "yes", Label: "是"}, {ID: "no", Label: "否"}, {ID: "part", Label: "部分 开展"}, {ID: "other", Label: "其他（请说明）"},
}}

// FuzzParseChoice: an accepted choice is an option id of the question,
// and the label the summary shows reads back as the same id.
func FuzzParseChoice(f *testing.F) {
	c := DefaultCampaign()
	q := choiceQuestion
	for _, s := range nastyTexts {
		f.Add(s)
	}
	for _, s := range []string{"部分开展", " 部 分 开 展 ", "YES", "Part", "其他(请说明)", "其他（请说明）", "是\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		answers := map[string]Answer{}
		a, problem := c.parseAnswer(q, answers, raw)
		checkRefusal(t, q, raw, map[string]Answer{}, answers, problem)
		if problem != "" {
			return
		}
		if q.option(a.Text) == nil {
			t.Fatalf("parseAnswer(%s, %q) = %q, not an option id", q.ID, raw, a.Text)
		}
		shown := FormatAnswer(q, a)
		if back, problem := c.parseAnswer(q, answers, shown); problem != "" || back.Text != a.Text {
			t.Errorf("parseAnswer(%s, %q) = %q shown as %q, which reads back as %q (problem %q)", q.ID, raw, a.Text, shown, back.Text, problem)
		}
	})
}

// FuzzParseMultiChoice: accepted picks are distinct option ids in option
// order, and the summary's "产业帮扶、教育帮扶" reads back as the same picks.
func FuzzParseMultiChoice(f *testing.F) {
	c := DefaultCampaign()
	q := c.Question("help_kinds")
	for _, s := range nastyTexts {
		f.Add(s)
	}
	for _, s := range []string{"生态帮扶 产业帮扶", "产业帮扶/健康帮扶；教育帮扶", "health,HEALTH", "产业帮扶、、教育帮扶", "产业帮扶、其他"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		answers := map[string]Answer{}
		a, problem := c.parseAnswer(q, answers, raw)
		checkRefusal(t, q, raw, map[string]Answer{}, answers, problem)
		if problem != "" {
			return
		}
		var order []int
		for _, id := range a.Picks {
			i := slices.IndexFunc(q.Options, func(o Option) bool { return o.ID == id })
			if i < 0 {
				t.Fatalf("parseAnswer(%s, %q) picks %q, not an option id", q.ID, raw, id)
			}
			order = append(order, i)
		}
		if len(order) == 0 || !slices.IsSorted(order) || len(slices.Compact(slices.Clone(order))) != len(order) {
			t.Errorf("parseAnswer(%s, %q) = %q, want distinct picks in option order", q.ID, raw, a.Picks)
		}
		shown := FormatAnswer(q, a)
		if back, problem := c.parseAnswer(q, answers, shown); problem != "" || !slices.Equal(back.Picks, a.Picks) {
			t.Errorf("parseAnswer(%s, %q) = %q shown as %q, which reads back as %q (problem %q)", q.ID, raw, a.Picks, shown, back.Picks, problem)
		}
	})
}

// FuzzParseText: a text answer is kept as typed (less the characters
// CleanText drops) when its length (in runes) is within the question's limits, and refused otherwise; the
// summary shows it whole.
func FuzzParseText(f *testing.F) {
	c := DefaultCampaign()
	qs := []*Question{c.Question("filler_name"), c.Question("summary_text"), c.Question("highlights"), {ID: "free", Prompt: "备注", Type: TypeText}}
	for i, s := range nastyTexts {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		q := qs[int(which)%len(qs)]
		answers := map[string]Answer{}
		a, problem := c.parseAnswer(q, answers, raw)
		checkRefusal(t, q, raw, map[string]Answer{}, answers, problem)
		limit := q.MaxLen
		if limit == 0 {
			limit = textRunes
		}
		want := CleanText(raw) // what does not print is dropped (text.go)
		n := utf8.RuneCountInString(want)
		if fits := n >= q.MinLen && n <= limit; fits != (problem == "") {
			t.Fatalf("parseAnswer(%s, %d runes) problem %q; want accepted = %v (limits %d–%d)", q.ID, n, problem, fits, q.MinLen, limit)
		}
		if problem == "" && (a.Text != want || FormatAnswer(q, a) != want) {
			t.Errorf("parseAnswer(%s, %q) = %q shown as %q, want it as typed without invisible characters: %q", q.ID, raw, a.Text, FormatAnswer(q, a), want)
		}
	})
}
