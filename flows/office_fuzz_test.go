package flows

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets of the pure parts of the office's commands: the bot splits
// the arguments (on spaces) itself and hands the pieces to these.

// FuzzQuestionRef: /reopen's last argument, a question number on the
// unit's summary or a question id. No panic; a refusal is Chinese; a
// question found is on the unit's path, and a number reads as that
// position.
func FuzzQuestionRef(f *testing.F) {
	c := DefaultCampaign()
	states := fuzzStates(f)
	for i, s := range []string{"", "0", "1", "25", "１", "-1", "+3", "99999999999999999999", "veteran_cash", "troop_cash", "VETERAN_CASH", "summary_text\u200b", "1e2", "第3题", "😀", "\xff"} {
		f.Add(s, uint16(i))
	}
	units := []Unit{countyUnit, militaryUnit}
	f.Fuzz(func(t *testing.T, s string, which uint16) {
		st := states[int(which)%len(states)]
		u := units[int(which)/len(states)%len(units)]
		q, msg := c.QuestionRef(u, st.d, s)
		if msg != "" && (q != nil || !hasCJK(msg)) {
			t.Errorf("QuestionRef(%s, %q) = %v, %q: want nil and a Chinese message", u.Name, s, q, msg)
		}
		if q != nil && !slices.Contains(c.Path(u.Category, st.d.Answers), q) {
			t.Errorf("QuestionRef(%s, %q) = %s, not on the unit's path", u.Name, s, q.ID)
		}
	})
}

// FuzzUnitArgs: /addunit 名称 类别 (and /renameunit's new name, and the
// category column of /import): the last field is the category, the rest
// the name, as addUnit splits them. No panic; a category found is one of
// the campaign's; a name CheckUnitName accepts has 2–50 runes and no comma
// or line break, and a refusal is Chinese.
func FuzzUnitArgs(f *testing.F) {
	c := DefaultCampaign()
	for _, s := range []string{
		"离石区双拥工作领导小组 县市区", "市教育局 市直单位", "市 教育局 市直", "甲 部队", "市教育局,市直 市直", "一 二",
		strings.Repeat("字", 50) + " 企业", strings.Repeat("字", 51) + " 企业", "市教育局\u200b county", "\u202e局育教市 市直",
		"😀😀 团体", "１２ 县（市、区）", "市教育局\t市直", "x", "", "\xff\xfe 市直", "市教育局 ＣＯＵＮＴＹ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		fields := strings.Fields(args)
		if len(fields) < 2 {
			return
		}
		catName := fields[len(fields)-1]
		name := strings.Join(fields[:len(fields)-1], " ")
		if cat, ok := c.CategoryByName(catName); ok && !slices.ContainsFunc(c.Categories, func(k Category) bool { return k.ID == cat.ID }) {
			t.Errorf("CategoryByName(%q) = %+v, not a category of the campaign", catName, cat)
		}
		msg := CheckUnitName(name)
		n := utf8.RuneCountInString(name)
		switch {
		case msg != "" && !hasCJK(msg):
			t.Errorf("CheckUnitName(%q) = %q, which has no Chinese", name, msg)
		case msg == "" && (n < 2 || n > 50 || strings.ContainsAny(name, ",，\n\r\t")):
			t.Errorf("CheckUnitName(%q) accepted a name of %d runes", name, n)
		}
	})
}
