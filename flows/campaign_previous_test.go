package flows

import (
	"strings"
	"testing"
)

// previousYAML is a small campaign comparing with last year's; %s is
// replaced by the lines under test.
const previousYAML = `id: lvliang-2023-spring
title: 2023年元旦春节期间拥军优属拥政爱民工作情况报告
deadline: "2023-02-10 18:00"
previous: lvliang-2022-spring
categories:
  - {id: county, name: 县市区}
sections:
  - id: s1
    title: 一
    questions:
      - {id: troop_visits_all, prompt: 走访慰问部队, unit: 次, type: integer, same_as: troop_visits, typical_max: 50}
      - {id: veteran_cash, prompt: 发放慰问金, unit: 万元, type: money, outlier_floor: 2.5}
      - {id: note, prompt: 说明, type: text}
`

// The fields that compare with last year load, with their defaults.
func TestCampaignPreviousFields(t *testing.T) {
	c, err := ParseCampaign([]byte(previousYAML))
	if err != nil {
		t.Fatalf("ParseCampaign: %v", err)
	}
	if c.Previous != "lvliang-2022-spring" {
		t.Errorf("Previous = %q", c.Previous)
	}
	if c.Outliers != (OutlierRule{Ratio: 5, Floor: 10}) {
		t.Errorf("Outliers = %+v, want the defaults {5 10}", c.Outliers)
	}
	q := c.Question("troop_visits_all")
	if q.PreviousID() != "troop_visits" || q.TypicalMax == nil || *q.TypicalMax != 50 {
		t.Errorf("troop_visits_all: previous id %q, typical_max %v", q.PreviousID(), q.TypicalMax)
	}
	if f := c.OutlierFloor(c.Question("veteran_cash")); f != 250 {
		t.Errorf("veteran_cash floor = %v hundredths, want 250", f)
	}
	c, err = ParseCampaign([]byte(previousYAML + "outliers: {ratio: 3, floor: 0}\n"))
	if err != nil {
		t.Fatalf("ParseCampaign with outliers: %v", err)
	}
	if c.Outliers != (OutlierRule{Ratio: 3, Floor: 0}) {
		t.Errorf("Outliers = %+v, want {3 0} as written", c.Outliers)
	}
}

// Each wrong use of the fields is a problem on its line, in Chinese.
func TestCampaignPreviousProblems(t *testing.T) {
	tests := []struct {
		name string
		old  string // replaced in previousYAML
		new  string
		line int
		has  string
	}{
		{"previous is the campaign itself", "previous: lvliang-2022-spring", "previous: lvliang-2023-spring", 4, "不能是本活动自己的 id"},
		{"same_as on a text question", "type: text}", "type: text, same_as: remark}", 13, "不是数字题，不能设置 same_as"},
		{"same_as without previous", "previous: lvliang-2022-spring", "", 11, "没有设置上一期活动 previous"},
		{"same_as not an id", "same_as: troop_visits", "same_as: Troop Visits", 11, "不是有效的题目 id"},
		{"two questions take one previous question", "outlier_floor: 2.5}", "outlier_floor: 2.5, same_as: troop_visits}", 12, "都对应上一期的题目 \"troop_visits\""},
		{"same_as names another question's own id", "veteran_cash, prompt", "troop_visits, prompt", 12, "都对应上一期的题目 \"troop_visits\""},
		{"negative typical_max", "typical_max: 50", "typical_max: -1", 11, "typical_max 不能是负数"},
		{"typical_max on a text question", "type: text}", "type: text, typical_max: 3}", 13, "不是数字题，不能设置 typical_max"},
		{"negative outlier_floor", "outlier_floor: 2.5", "outlier_floor: -2.5", 12, "outlier_floor 不能是负数"},
		{"outlier_floor on a text question", "type: text}", "type: text, outlier_floor: 3}", 13, "不是数字题，不能设置 outlier_floor"},
		{"ratio 1", "previous: lvliang-2022-spring", "previous: lvliang-2022-spring\noutliers:\n  ratio: 1", 6, "ratio 须大于 1"},
		{"ratio 0 written", "previous: lvliang-2022-spring", "previous: lvliang-2022-spring\noutliers:\n  ratio: 0", 6, "ratio 须大于 1"},
		{"negative floor", "previous: lvliang-2022-spring", "previous: lvliang-2022-spring\noutliers:\n  floor: -1", 6, "floor 不能是负数"},
		{"unknown key under outliers", "previous: lvliang-2022-spring", "previous: lvliang-2022-spring\noutliers:\n  ratoi: 3", 6, "未知字段 \"ratoi\""},
	}
	for _, tt := range tests {
		if !strings.Contains(previousYAML, tt.old) {
			t.Fatalf("%s: %q not in the YAML", tt.name, tt.old)
		}
		yml := strings.Replace(previousYAML, tt.old, tt.new, 1)
		probs := ValidateCampaign([]byte(yml))
		found := false
		for _, p := range probs {
			if p.Line == tt.line && strings.Contains(p.Msg, tt.has) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: ValidateCampaign has no problem at line %d containing %q; got %v", tt.name, tt.line, tt.has, probs)
		}
	}
}
