package bot

import (
	"slices"
	"strings"
	"testing"

	"reportbot/bot/telegramtest"
)

// TestInvisibleCharacters: a unit name with a character that does not
// print is refused (two units could otherwise look the same), a name is
// stored normalised, and a text answer is stored without such characters
// (a bidi override would reorder the office group's post).
func TestInvisibleCharacters(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	before := h.unitNames()
	wantText(t, h.say(h.admin, "/addunit 市民\u200b政局 市直单位"), "不可见字符", "单位未添加")
	wantText(t, h.say(h.admin, "/addunit 市民政局\u202e 市直单位"), "不可见字符", "单位未添加")
	if got := h.unitNames(); !slices.Equal(got, before) {
		t.Errorf("units after /addunit with invisible characters = %v, want unchanged %v", got, before)
	}
	wantText(t, h.say(h.admin, "/addunit 市ＡＢＣ局 市直单位"), "已添加单位：市ABC局")
	wantText(t, h.say(h.admin, "/addunit 市ABC局 市直单位"), "已存在")
	wantText(t, h.say(h.admin, "/renameunit 市ABC局 市民\u200d政局"), "不可见字符", "未修改")
	if got := h.unitNames(); slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "\u200d") }) {
		t.Errorf("units after /renameunit to a name with a ZWJ = %v", got)
	}

	u := telegramtest.User{ID: 5401, FirstName: "甲"}
	token := h.addUnit("孝义市双拥工作领导小组", "县市区")
	h.bind(u, token)
	h.say(u, "/report")
	h.fill(u, "filler_name", "王\u202e晓明\u200b")
	h.expectQuestion(u, "filler_phone")
	if got := h.draftOf("孝义市双拥工作领导小组").Answers["filler_name"].Text; got != "王晓明" {
		t.Errorf("filler_name answered %q stored as %q, want %q", "王\u202e晓明\u200b", got, "王晓明")
	}
}
