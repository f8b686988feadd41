package flows

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// quietly runs fill, leaving its steps out of the transcript but for a
// line saying where it got to.
func (s *session) quietly(where string, fill func()) {
	before := s.transcript.String()
	fill()
	s.transcript.Reset()
	s.transcript.WriteString(before + "(… answered as usual up to " + where + ")\n\n")
}

// lastYear is the county unit's figures in the previous campaign.
func lastYear() *Previous {
	return &Previous{Campaign: "lvliang-2021-spring", Receipt: "SY-2021-0007",
		Nums:    map[string]int64{"troop_visits": 2, "veteran_visits": 120, "veteran_cash": 150, "essays": 3},
		Skipped: []string{"forums"}}
}

// prevSession is a county unit's session with last year's figures, on
// question id (the questions before it answered as fillOne does).
func prevSession(t *testing.T, id string) *session {
	t.Helper()
	s := newSession(t, countyUnit, beforeDeadline)
	s.d.Prev = lastYear()
	s.cmd("report")
	for s.d.Cursor != id {
		if s.d.Cursor == "" {
			t.Fatalf("prevSession: question %s not reached", id)
		}
		s.fillOne(s.c.Question(s.d.Cursor))
	}
	s.transcript.Reset()
	s.transcript.WriteString("(at " + id + ", last year: troop_visits 2, veteran_visits 120, veteran_cash 1.50, essays 3, forums skipped)\n\n")
	return s
}

// An answer far from last year's is asked to be confirmed once: 重新填写
// asks again without storing, a newly typed number is a new answer, a
// button of an older confirmation is stale, 确认无误 stores it and marks
// it confirmed; the summary shows last year's figures; giving the same
// answer again does not ask again; the report and the office's post carry
// the confirmed outlier.
func TestOutlierConfirmation(t *testing.T) {
	s := prevSession(t, "troop_visits")
	s.text("300")
	s.wantCursor("troop_visits")
	s.wantSaid("您填的是 300 次，比上年（2 次）增加约 149 倍，请确认是否正确。", "确认无误", "重新填写")
	if _, ok := s.d.Answers["troop_visits"]; ok || s.d.Pending == nil || s.d.Pending.Num != 300 {
		t.Fatalf("after 300 the answer is stored or not waiting: answers %v, pending %+v", s.d.Answers["troop_visits"], s.d.Pending)
	}
	s.press("重新填写")
	s.wantCursor("troop_visits")
	s.wantSaid("请重新填写本题", "走访慰问驻吕部队（次）")
	if _, ok := s.d.Answers["troop_visits"]; ok || s.d.Pending != nil {
		t.Fatalf("重新填写 stored the answer or kept it waiting")
	}
	s.text("3")
	s.wantCursor("troop_cash")

	s.quietly("veteran_visits", func() {
		for s.d.Cursor != "veteran_visits" {
			s.fillOne(s.c.Question(s.d.Cursor))
		}
	})
	s.text("3000")
	old := s.button("确认无误")
	s.wantSaid("您填的是 3000 户，比上年（120 户）增加约 24 倍，请确认是否正确。")
	s.text("3100")
	s.wantSaid("您填的是 3100 户，比上年（120 户）增加约 25 倍")
	if r := s.do(Input{Data: old}); r.Changed {
		t.Fatalf("确认无误 of the 3000 confirmation changed the draft after 3100 was typed")
	}
	s.wantSaid("这个按钮已过期", "您填的是 3100 户")
	s.press("确认无误")
	s.wantCursor("frontier_family_visits")
	s.wantSaid("已确认。")
	if a := s.d.Answers["veteran_visits"]; a.Num != 3100 || !slices.Equal(s.d.Confirmed, []string{"veteran_visits"}) {
		t.Fatalf("after 确认无误: veteran_visits = %+v, confirmed %v; want 3100, [veteran_visits]", a, s.d.Confirmed)
	}
	s.quietly("the summary", func() {
		for s.d.Cursor != "" {
			s.fillOne(s.c.Question(s.d.Cursor))
		}
	})
	s.do(Input{Data: data(s.d.Rev, verbSum, "")})
	s.wantSaid("走访慰问驻吕部队：3 次（上年 2 次）", "走访慰问退役军人和其他优抚对象：3100 户（上年 120 户）",
		"发放慰问金：1.25 万元（上年 1.50 万元）", "组织双拥主题征文：3 篇（上年 3 篇）")
	if strings.Contains(s.lastText(), "召开座谈会：3 场（上年") {
		t.Errorf("the summary shows a previous value of forums, skipped last year:\n%s", s.lastText())
	}

	// The same answer again is not asked again and stays confirmed.
	s.press(fmt.Sprintf("改 %d", position(s.c.Path("county", s.d.Answers), s.c.Question("veteran_visits"))+1))
	s.text("3100")
	s.wantCursor("")
	if !slices.Equal(s.d.Confirmed, []string{"veteran_visits"}) {
		t.Errorf("giving the confirmed answer again: confirmed %v", s.d.Confirmed)
	}
	s.press("✅ 确认提交")
	r := s.last.Report
	if r == nil || !slices.Equal(r.Outliers, []string{"veteran_visits"}) {
		t.Fatalf("report = %+v, want outliers [veteran_visits]", r)
	}
	post := s.c.SubmissionPostBeside(countyUnit, *r, s.d.Prev)[0].Text
	if !strings.Contains(post, "⚠ 已确认：走访慰问退役军人和其他优抚对象 3100 户（上年 120 户）") {
		t.Errorf("office post does not mark the confirmed outlier:\n%s", post)
	}
	if post := s.c.SubmissionText(countyUnit, *r); !strings.Contains(post, "⚠ 已确认：走访慰问退役军人和其他优抚对象 3100 户（与上年相差较大）") {
		t.Errorf("office post without previous figures does not mark the outlier:\n%s", post)
	}
	s.transcript.WriteString("> (office group post)\n" + post + "\n")
	checkGolden(t, "outliers", s.transcript.String())
}

// Changing a confirmed outlier to an ordinary answer (or skipping it,
// or a change that drops it) removes it from Confirmed; the report lists
// only what is confirmed and still answered.
func TestOutlierUnconfirmed(t *testing.T) {
	s := prevSession(t, "troop_visits")
	s.text("300")
	s.press("确认无误")
	s.wantCursor("troop_cash")
	for s.d.Cursor != "veteran_visits" {
		s.fillOne(s.c.Question(s.d.Cursor))
	}
	s.text("3000")
	s.press("确认无误")
	for s.d.Cursor != "" {
		s.fillOne(s.c.Question(s.d.Cursor))
	}
	if !slices.Equal(s.d.Confirmed, []string{"troop_visits", "veteran_visits"}) {
		t.Fatalf("confirmed = %v, want [troop_visits veteran_visits]", s.d.Confirmed)
	}
	edit := func(id string) {
		t.Helper()
		s.press(fmt.Sprintf("改 %d", position(s.c.Path("county", s.d.Answers), s.c.Question(id))+1))
		s.wantCursor(id)
	}
	edit("veteran_visits")
	s.text("130")
	s.wantCursor("")
	if !slices.Equal(s.d.Confirmed, []string{"troop_visits"}) {
		t.Errorf("after veteran_visits 3000 → 130: confirmed = %v, want [troop_visits]", s.d.Confirmed)
	}
	// A different outlier is asked again.
	edit("troop_visits")
	s.text("400")
	s.wantSaid("您填的是 400 次，比上年（2 次）增加约 199 倍")
	s.press("重新填写")
	if !slices.Equal(s.d.Confirmed, []string{"troop_visits"}) || s.d.Answers["troop_visits"].Num != 300 {
		t.Errorf("重新填写 changed the stored answer or its mark: %v, %+v", s.d.Confirmed, s.d.Answers["troop_visits"])
	}
	// troop_visits 0 is far (300 → 0 is not: the rule is against last
	// year's 2) — it drops troop_cash and troop_goods and its mark.
	s.text("0")
	s.wantCursor("")
	if len(s.d.Confirmed) != 0 {
		t.Errorf("after troop_visits 300 → 0: confirmed = %v, want none", s.d.Confirmed)
	}
	s.press("✅ 确认提交")
	if r := s.last.Report; r == nil || len(r.Outliers) != 0 {
		t.Fatalf("report = %+v, want no outliers", r)
	}
}

// The answer waiting for 确认无误 is in the draft: it survives a restart
// (the draft read back from its stored form), /cancel and /report show
// the confirmation again, and typed text that is not a number re-asks
// the question without dropping it.
func TestOutlierWaitingSurvives(t *testing.T) {
	s := prevSession(t, "veteran_visits")
	s.text("3000")
	raw, err := json.Marshal(s.d)
	if err != nil {
		t.Fatal(err)
	}
	var back Draft
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	s.d = back
	s.cmd("cancel")
	s.wantSaid("已暂停")
	s.cmd("report")
	s.wantSaid("您填的是 3000 户，比上年（120 户）增加约 24 倍")
	s.text("很多")
	s.wantSaid("“很多”不是数字", "您填的是 3000 户，比上年（120 户）增加约 24 倍")
	if s.d.Pending == nil || s.d.Pending.Num != 3000 {
		t.Fatalf("a wrong input dropped the waiting answer: %+v", s.d.Pending)
	}
	s.press("确认无误")
	s.wantCursor("frontier_family_visits")
	if a := s.d.Answers["veteran_visits"]; a.Num != 3000 {
		t.Errorf("veteran_visits = %+v after 确认无误 following a restart", a)
	}
	// 确认无误 again (nothing waits any more) changes nothing.
	if r := s.do(Input{Data: data(s.d.Rev, verbSure, "frontier_family_visits")}); r.Changed {
		t.Errorf("确认无误 with nothing waiting changed the draft")
	}
}

// typical_max asks even without last year's figures; without either, and
// for a draft without Prev, nothing is asked.
func TestOutlierTypicalMax(t *testing.T) {
	s := draftAt(t, countyUnit, "forums", nil)
	s.c.Question("forums").TypicalMax = ptr(20) // s.c is this test's own parsed campaign
	s.text("21")
	s.wantSaid("您填的是 21 场，超过通常上限（20 场），请确认是否正确。")
	s.press("确认无误")
	s.wantCursor("couplets")
	s.text("3000")
	s.wantCursor("veteran_cash")
	if !slices.Equal(s.d.Confirmed, []string{"forums"}) {
		t.Errorf("confirmed = %v, want [forums]", s.d.Confirmed)
	}
}

// A template asks nothing: its outliers are listed for the contact to
// check, and a confirmed answer it replaces is no longer confirmed.
func TestOutlierTemplate(t *testing.T) {
	s := prevSession(t, "troop_visits")
	s.text("300")
	s.press("确认无误")
	if !slices.Equal(s.d.Confirmed, []string{"troop_visits"}) {
		t.Fatalf("confirmed = %v", s.d.Confirmed)
	}
	u := countyUnit
	values := maps.Clone(templateValues)
	values["troop_visits"] = "6"      // 2 → 6: not far; replaces the confirmed 300
	values["veteran_visits"] = "3000" // 120 → 3000
	values["frontier_family_visits"] = "18"
	values["veteran_cash"] = "1.8" // 1.50 → 1.80 万元
	s.template(s.c.ReadTemplate(u, templateSheet(s.c, &u, values)))
	s.wantSaid("⚠️ 以下数字与上年相差较大或超过通常上限，请核对：走访慰问退役军人和其他优抚对象 3000 户（上年 120 户）。")
	if strings.Contains(s.lastText(), "走访慰问驻吕部队 6 次") {
		t.Errorf("troop_visits 6 against last year's 2 is listed as far:\n%s", s.lastText())
	}
	if len(s.d.Confirmed) != 0 {
		t.Errorf("after the template: confirmed = %v, want none (troop_visits replaced, veteran_visits not confirmed)", s.d.Confirmed)
	}
}
