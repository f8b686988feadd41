package flows

import (
	"strings"
	"testing"
)

func TestQuestionRef(t *testing.T) {
	c := DefaultCampaign()
	county := Unit{ID: 1, Name: "离石区双拥工作领导小组", Category: "county"}
	d := Draft{Answers: map[string]Answer{"troop_visits": {Num: 0}}}
	tests := []struct {
		word, want, msg string
	}{
		{"1", "filler_name", ""},
		{"troop_visits", "troop_visits", ""},
		{"99", "", "题目编号 99 不存在"},
		{"troop_cash", "", "不适用"},     // troop_visits = 0: not asked
		{"local_projects", "", "不适用"}, // a military question
		{"数据有误", "", ""},              // part of the reason
	}
	for _, tt := range tests {
		q, msg := c.QuestionRef(county, d, tt.word)
		got := ""
		if q != nil {
			got = q.ID
		}
		if got != tt.want || (tt.msg == "") != (msg == "") || !strings.Contains(msg, tt.msg) {
			t.Errorf("QuestionRef(%q) = %q, %q; want %q, a message containing %q", tt.word, got, msg, tt.want, tt.msg)
		}
	}
	if got := c.QuestionLabel(county, d, c.Question("filler_phone")); got != "第 2 题 联系电话（手机或座机，如 0358-8498917）" {
		t.Errorf("QuestionLabel(filler_phone) = %q", got)
	}
}
