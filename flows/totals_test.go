package flows

import (
	"reflect"
	"testing"
)

func TestTotals(t *testing.T) {
	c := DefaultCampaign()
	units := []Unit{
		{ID: 1, Name: "离石区", Category: "county"},
		{ID: 2, Name: "孝义市", Category: "county"},
		{ID: 3, Name: "吕梁军分区", Category: "military"},
		{ID: 4, Name: "市财政局", Category: "department"},
		{ID: 5, Name: "已撤销单位", Category: "department", Removed: true},
	}
	reports := []Report{
		{UnitID: 1, Version: 1, Answers: map[string]Answer{"essays": {Num: 100}, "troop_visits": {Num: 2}, "troop_cash": {Num: 125}}},
		{UnitID: 1, Version: 2, Answers: map[string]Answer{"essays": {Num: 3}, "troop_visits": {Num: 2}, "troop_cash": {Num: 150}, "veteran_cash": {Num: 1}}},
		{UnitID: 2, Version: 1, Answers: map[string]Answer{"essays": {Num: 4}, "troop_visits": {Num: 0}, "troop_cash": {Num: 999}, "films": {Skipped: true}}},
		{UnitID: 3, Version: 1, Answers: map[string]Answer{"essays": {Num: 5}, "local_projects": {Num: 7}, "troop_cash": {Num: 500}}},
		{UnitID: 99, Version: 1, Answers: map[string]Answer{"essays": {Num: 1}}},
	}
	got := c.Totals(units, reports)
	if got.Reports != 4 {
		t.Errorf("Totals().Reports = %d, want 4 (unit 1 once, with version 2)", got.Reports)
	}
	want := map[string]int64{"essays": 3 + 4 + 5 + 1, "troop_visits": 2, "troop_cash": 150, "veteran_cash": 1, "local_projects": 7, "films": 0}
	for id, n := range want {
		if got.Sums[id] != n {
			t.Errorf("Totals().Sums[%s] = %d, want %d", id, got.Sums[id], n)
		}
	}
	if len(got.Sums) != len(c.NumberQuestions()) {
		t.Errorf("Totals().Sums has %d entries, want one per number question (%d)", len(got.Sums), len(c.NumberQuestions()))
	}
	county := got.ByCategory["county"]
	if county.Units != 2 || county.Reports != 2 || county.Sums["essays"] != 7 || county.Sums["troop_cash"] != 150 {
		t.Errorf("county totals = %+v, want 2 units, 2 reports, essays 7, troop_cash 150 (unit 2's troop_cash does not apply)", county)
	}
	mil := got.ByCategory["military"]
	if mil.Units != 1 || mil.Reports != 1 || mil.Sums["local_projects"] != 7 || mil.Sums["troop_cash"] != 0 {
		t.Errorf("military totals = %+v, want local_projects 7 and no troop_cash", mil)
	}
	if dep := got.ByCategory["department"]; dep.Units != 1 || dep.Reports != 0 {
		t.Errorf("department totals = %+v, want 1 unit (the removed one not counted), 0 reports", dep)
	}
	if _, ok := got.ByCategory["enterprise"]; !ok {
		t.Errorf("no entry for enterprise: every category has one")
	}
	if other := got.ByCategory[""]; other.Reports != 1 || other.Sums["essays"] != 1 {
		t.Errorf("totals of unknown units = %+v", other)
	}
	var sum int64
	for _, ct := range got.ByCategory {
		sum += ct.Sums["essays"]
	}
	if sum != got.Sums["essays"] {
		t.Errorf("category sums of essays add up to %d, total is %d", sum, got.Sums["essays"])
	}
	if empty := c.Totals(nil, nil); empty.Reports != 0 || empty.Sums["essays"] != 0 || !reflect.DeepEqual(empty.ByCategory["county"].Sums, empty.Sums) {
		t.Errorf("Totals of nothing = %+v", empty)
	}
}
