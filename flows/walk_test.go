package flows

import (
	"slices"
	"strings"
	"testing"
)

// The whole default form, walked through Step for a county unit: the
// questions asked are the county path (troop_cash/troop_goods because
// troop_visits > 0, hardship questions because hardship_people > 0, none of
// the military section), and submitting gives the first receipt.
func TestWalkCounty(t *testing.T) {
	s := newSession(t, countyUnit, beforeDeadline)
	s.cmd("report")
	asked := s.fill(map[string]string{"filler_name": "王晓明", "veteran_visits": "120", "frontier_family_visits": "8"})
	var want []string
	for _, q := range s.c.Path("county", s.d.Answers) {
		want = append(want, q.ID)
	}
	for _, id := range []string{"troop_cash", "troop_goods", "hardship_cash", "hardship_kinds", "frontier_family_visits"} {
		if !slices.Contains(asked, id) {
			t.Errorf("county walk did not ask %s", id)
		}
	}
	for _, id := range []string{"local_projects", "help_kinds", "rescue_troops"} {
		if slices.Contains(asked, id) {
			t.Errorf("county walk asked %s, a military question", id)
		}
	}
	if strings.Join(asked, ",") != strings.Join(want, ",") {
		t.Errorf("county walk asked\n%v\nwant the path\n%v", asked, want)
	}
	s.press("✅ 确认提交")
	if s.last.Report == nil {
		t.Fatalf("submit made no report:\n%s", renderReplies(s.last.Replies))
	}
	if got := s.last.Report.Receipt; got != "SY-2022-0007" {
		t.Errorf("receipt = %q, want SY-2022-0007", got)
	}
	checkGolden(t, "walk-county", s.transcript.String())
}

// The same for a military unit: section 三 instead of 二 and 四;
// help_kinds because revitalization_help > 0, no rescue_troops because
// rescue_missions = 0.
func TestWalkMilitary(t *testing.T) {
	s := newSession(t, militaryUnit, beforeDeadline)
	s.cmd("report")
	asked := s.fill(map[string]string{"filler_name": "李强", "filler_phone": "13912345678", "rescue_missions": "0", "highlights": "跳过"})
	for _, id := range []string{"local_projects", "help_kinds", "medical_people", "rescue_missions"} {
		if !slices.Contains(asked, id) {
			t.Errorf("military walk did not ask %s", id)
		}
	}
	for _, id := range []string{"troop_visits", "veteran_visits", "hardship_kinds", "rescue_troops"} {
		if slices.Contains(asked, id) {
			t.Errorf("military walk asked %s", id)
		}
	}
	s.press("✅ 确认提交")
	r := s.last.Report
	if r == nil || r.Receipt != "SY-2022-0035" || r.Version != 1 || r.SubmittedBy != 1001 || !r.SubmittedAt.Equal(beforeDeadline) {
		t.Fatalf("submit report = %+v, want version 1, receipt SY-2022-0035 by 1001 at %v", r, beforeDeadline)
	}
	if _, ok := r.Answers["troop_visits"]; ok {
		t.Errorf("military report has a county answer")
	}
	if a := r.Answers["highlights"]; !a.Skipped {
		t.Errorf("highlights = %+v, want skipped", a)
	}
	checkGolden(t, "walk-military", s.transcript.String())
}
