package flows

import "testing"

func TestPathByCategoryAndWhen(t *testing.T) {
	c := DefaultCampaign()
	ids := func(qs []*Question) map[string]bool {
		m := map[string]bool{}
		for _, q := range qs {
			m[q.ID] = true
		}
		return m
	}
	county := ids(c.Path("county", nil))
	if county["local_projects"] || !county["troop_visits"] || county["troop_cash"] {
		t.Errorf("county path without answers: local_projects=%v troop_visits=%v troop_cash=%v, want false true false",
			county["local_projects"], county["troop_visits"], county["troop_cash"])
	}
	county = ids(c.Path("county", map[string]Answer{"troop_visits": {Num: 2}}))
	if !county["troop_cash"] || !county["troop_goods"] {
		t.Errorf("county path with troop_visits=2 lacks troop_cash/troop_goods")
	}
	mil := ids(c.Path("military", map[string]Answer{"revitalization_help": {Num: 1}}))
	if !mil["help_kinds"] || mil["veteran_visits"] || !mil["summary_text"] {
		t.Errorf("military path: help_kinds=%v veteran_visits=%v summary_text=%v", mil["help_kinds"], mil["veteran_visits"], mil["summary_text"])
	}
}
