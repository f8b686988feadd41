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
