package loadtest

import (
	"maps"
	"strings"
	"testing"

	"reportbot/flows"
)

// TestCheckReportsFindsPlantedFaults plants every kind of fault the load
// tool looks for in an otherwise faithful report.
func TestCheckReportsFindsPlantedFaults(t *testing.T) {
	want := map[string]flows.Answer{
		"filler_name": {Text: "联系人00001"},
		"essays":      {Num: 12},
		"columns":     {Num: 34},
		"troop_cash":  {Num: 150},
		"help_kinds":  {Picks: []string{"education", "health"}},
		"suggestions": {Skipped: true},
		"report_doc":  {Files: []flows.File{{Name: "专题报告.pdf"}}},
		"photos":      {Files: []flows.File{{Photo: true}, {Photo: true}}},
	}
	stored := func() map[string]flows.Answer { // as the bot keeps what was typed
		a := maps.Clone(want)
		a["report_doc"] = flows.Answer{Files: []flows.File{{ID: "BQAC1", UniqueID: "u1", Name: "专题报告.pdf", MIME: "application/pdf", Size: 40}}}
		a["photos"] = flows.Answer{Files: []flows.File{{ID: "AgAC1", Photo: true}, {ID: "AgAC2", Photo: true}}}
		return a
	}
	report := func(change func(a map[string]flows.Answer)) []flows.Report {
		a := stored()
		if change != nil {
			change(a)
		}
		return []flows.Report{{Version: 1, Receipt: "SY-2022-0001", Answers: a}}
	}
	tests := []struct {
		name          string
		reports       []flows.Report
		lost, doubled int
		says          string
	}{
		{"as typed", report(nil), 0, 0, ""},
		{"answer missing", report(func(a map[string]flows.Answer) { delete(a, "essays") }), 1, 0, "essays missing"},
		{"answer changed", report(func(a map[string]flows.Answer) { a["troop_cash"] = flows.Answer{Num: 151} }), 1, 0, "troop_cash = 151"},
		{"a pick lost", report(func(a map[string]flows.Answer) { a["help_kinds"] = flows.Answer{Picks: []string{"health"}} }), 1, 0, "help_kinds"},
		{"a photo lost", report(func(a map[string]flows.Answer) { a["photos"] = flows.Answer{Files: a["photos"].Files[:1]} }), 1, 0, "photos"},
		{"skipped answer filled", report(func(a map[string]flows.Answer) { a["suggestions"] = flows.Answer{Text: "建议"} }), 1, 0, "suggestions"},
		{"answer applied to the next question too", report(func(a map[string]flows.Answer) { a["columns"] = flows.Answer{Num: 12} }), 0, 1, "the answer to essays"},
		{"answer never given", report(func(a map[string]flows.Answer) { a["films"] = flows.Answer{Num: 3} }), 0, 1, "films = 3, never answered"},
		{"submitted twice", append(report(nil), report(nil)[0]), 0, 1, "submitted 2 times"},
		{"nothing submitted", nil, len(want), 0, "nothing submitted"},
	}
	for _, tt := range tests {
		var v verdict
		checkReports(&v, "contact 1", want, tt.reports)
		if v.Lost != tt.lost || v.Doubled != tt.doubled {
			t.Errorf("%s: checkReports = lost %d, doubled %d (%q); want lost %d, doubled %d", tt.name, v.Lost, v.Doubled, v.Problems, tt.lost, tt.doubled)
		}
		if got := strings.Join(v.Problems, "\n"); !strings.Contains(got, tt.says) || (tt.says == "") != (got == "") {
			t.Errorf("%s: problems %q, want one saying %q", tt.name, got, tt.says)
		}
	}
}

// TestCheckComparesLatestVersion: a revised report is compared as the
// contact left it, and the revision counts as doubled only because the
// load tool's contacts submit once.
func TestCheckComparesLatestVersion(t *testing.T) {
	want := map[string]flows.Answer{"essays": {Num: 2}}
	reps := []flows.Report{{Version: 1, Answers: map[string]flows.Answer{"essays": {Num: 1}}}, {Version: 2, Answers: map[string]flows.Answer{"essays": {Num: 2}}}}
	var v verdict
	checkReports(&v, "c", want, reps)
	if v.Lost != 0 || v.Doubled != 1 {
		t.Errorf("checkReports of two versions = lost %d, doubled %d; want 0, 1", v.Lost, v.Doubled)
	}
}
