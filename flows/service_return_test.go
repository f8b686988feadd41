package flows

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckReturn: the checks of /reopen, in the order the office meets
// them.
func TestCheckReturn(t *testing.T) {
	c := DefaultCampaign()
	submitted := Draft{UnitID: countyUnit.ID, Version: 1, Status: StatusSubmitted, Answers: map[string]Answer{"troop_visits": {Num: 0}}}
	revising := submitted
	revising.Status = StatusRevising
	returned := submitted
	returned.Status = StatusReturned
	returned.Returned = &Return{Reason: "附件缺页"}
	returnedNoReason := submitted
	returnedNoReason.Status = StatusReturned
	tests := []struct {
		desc         string
		d            Draft
		words        string
		wantReason   string
		wantQuestion string // question id; "" for none
		refused      string // part of the *UserError's message; "" = accepted
	}{
		{"never submitted", Draft{UnitID: countyUnit.ID, Status: StatusFilling}, "数据有误", "", "", "尚未提交报告，无需退回。"},
		{"never submitted, bad question", Draft{UnitID: countyUnit.ID}, "数据有误 99", "", "", "尚未提交报告"},
		{"returned already", returned, "数据有误", "", "", "的报告已处于退回修改状态（原因：附件缺页），等待对方修改后重新提交。"},
		{"returned without a record", returnedNoReason, "数据有误", "", "", "的报告已处于退回修改状态，等待"},
		{"reason only", submitted, "数据 有误", "数据 有误", "", ""},
		{"revising may be returned", revising, "数据有误", "数据有误", "", ""},
		{"question number", submitted, "请补充 1", "请补充", "filler_name", ""},
		{"question id", submitted, "慰问次数不对 troop_visits", "慰问次数不对", "troop_visits", ""},
		{"question number only", submitted, "1", "", "", "请写明退回原因，对方会看到。\n\n" + ReturnHelp},
		{"no words", submitted, "", "", "", "请写明退回原因"},
		{"no such number", submitted, "数据有误 99", "", "", "题目编号 99 不存在：“离石区双拥工作领导小组”的报告共"},
		{"question not asked", submitted, "数据有误 troop_cash", "", "", "不适用于“离石区双拥工作领导小组”。报告未退回。\n\n" + ReturnHelp},
		{"longest reason", submitted, strings.Repeat("错", MaxReturnReason), strings.Repeat("错", MaxReturnReason), "", ""},
		{"reason too long", submitted, strings.Repeat("错", MaxReturnReason+1), "", "", "退回原因太长（501 字），请精简到 500 字以内。"},
	}
	for _, tt := range tests {
		o, err := c.CheckReturn(countyUnit, tt.d, strings.Fields(tt.words))
		if tt.refused != "" {
			var ue *UserError
			if !errors.As(err, &ue) || !strings.Contains(ue.Msg, tt.refused) {
				t.Errorf("%s: CheckReturn(%q) = %+v, %v; want a *UserError saying %q", tt.desc, tt.words, o, err, tt.refused)
			}
			continue
		}
		qid := ""
		if o.Question != nil {
			qid = o.Question.ID
		}
		if err != nil || o.Reason != tt.wantReason || qid != tt.wantQuestion {
			t.Errorf("%s: CheckReturn(%q) = reason %q, question %q, %v; want %q, %q", tt.desc, tt.words, o.Reason, qid, err, tt.wantReason, tt.wantQuestion)
		}
	}
}
