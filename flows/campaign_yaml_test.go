package flows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The default campaign has every field of shared/domain.md, with the same ids,
// in the same order.
func TestDefaultCampaignFields(t *testing.T) {
	c := DefaultCampaign()
	want := []string{
		"filler_name", "filler_phone",
		"essays", "columns", "films", "new_media_posts", "outdoor_screens", "model_events", "merit_notices", "honor_plaques",
		"troop_visits", "troop_cash", "troop_goods", "joint_tasks", "exercise_support", "frontier_families",
		"local_projects", "revitalization_help", "help_kinds", "medical_people", "safety_events", "travel_helpers", "rescue_missions", "rescue_troops",
		"veteran_visits", "frontier_family_visits", "forums", "couplets", "veteran_cash", "veteran_goods", "hardship_people", "hardship_cash", "hardship_kinds",
		"summary_text", "highlights", "suggestions", "report_doc", "photos",
	}
	var got []string
	for _, q := range c.Questions() {
		got = append(got, q.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("default campaign questions =\n%v\nwant\n%v", got, want)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if d := time.Date(2022, 2, 10, 18, 0, 0, 0, loc); !c.Deadline.Equal(d) {
		t.Errorf("deadline = %v, want %v", c.Deadline, d)
	}
	if c.Notice != "吕拥办电〔2021〕4号" {
		t.Errorf("notice = %q", c.Notice)
	}
	types := map[string]string{
		"filler_name": TypeText, "filler_phone": TypePhone, "troop_cash": TypeMoney, "help_kinds": TypeMultiChoice,
		"hardship_kinds": TypeMultiChoice, "report_doc": TypeDocument, "photos": TypePhotos, "essays": TypeInteger,
	}
	for id, typ := range types {
		if q := c.Question(id); q == nil || q.Type != typ {
			t.Errorf("question %s type = %v, want %s", id, q, typ)
		}
	}
	if q := c.Question("frontier_family_visits"); q.MaxOf != "veteran_visits" {
		t.Errorf("frontier_family_visits max_of = %q", q.MaxOf)
	}
}

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

func TestValidateCampaignProblems(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bad-campaign.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	probs := ValidateCampaign(data)
	want := []struct {
		line int
		has  string
	}{
		{4, "截止时间"},
		{12, "未定义"},
		{18, "类型 \"numbr\" 未知"},
		{19, "题目 id \"a\" 重复"},
		{25, "在它之后的题目"},
		{29, "不存在的题目"},
		{32, "未知字段 \"requird\""},
	}
	for _, w := range want {
		found := false
		for _, p := range probs {
			if p.Line == w.line && strings.Contains(p.Msg, w.has) {
				found = true
			}
		}
		if !found {
			t.Errorf("ValidateCampaign: no problem at line %d containing %q; got:\n%v", w.line, w.has, probs)
		}
	}
}

func TestValidateDefaultIsClean(t *testing.T) {
	if probs := ValidateCampaign(DefaultCampaignYAML()); len(probs) != 0 {
		t.Fatalf("default campaign has problems: %v", probs)
	}
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 100, true}, {"1.5", 150, true}, {"12.34", 1234, true},
		{"1.234", 0, false}, {"abc", 0, false}, {"1.", 0, false}, {".5", 0, false}, {"1e3", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got := FormatMoney(1234); got != "12.34" {
		t.Errorf("FormatMoney(1234) = %q", got)
	}
}
