package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Returning a submitted report for correction (退回修改, the office's
// /reopen): the checks of the request, and the change to the draft.

// ReturnHelp explains /reopen; refusals that need it repeat it.
const ReturnHelp = "用法：/reopen 单位名称 退回原因 [题号或题目编号]\n" +
	"例如：/reopen 市财政局 慰问金数额与附件不符 veteran_cash\n" +
	"或：/reopen 市财政局 请补充专题报告盖章件 25\n" +
	"题号是该单位填报汇总中的序号；不写题目时，对方从汇总页开始修改。"

// MaxReturnReason bounds a return's reason, in characters.
const MaxReturnReason = 500

// ReturnOrder is a checked request to return a unit's report: the reason
// the contacts will see and the question to correct (nil: start at the
// summary).
type ReturnOrder struct {
	Reason   string
	Question *Question
}

// CheckReturn reads the words of a return request that follow the unit's
// name — the reason, optionally ending with a question's number or id —
// against the unit's current draft. It refuses (*UserError) a report
// never submitted, one already returned, a question the unit does not
// have, and a missing or too long reason.
func (c *Campaign) CheckReturn(u Unit, d Draft, words []string) (ReturnOrder, error) {
	switch {
	case d.Version == 0:
		return ReturnOrder{}, errNotSubmitted(u)
	case d.Status == StatusReturned:
		reason := ""
		if d.Returned != nil {
			reason = "（原因：" + d.Returned.Reason + "）"
		}
		return ReturnOrder{}, &UserError{Msg: "“" + u.Name + "”的报告已处于退回修改状态" + reason + "，等待对方修改后重新提交。"}
	}
	var o ReturnOrder
	if n := len(words); n > 0 {
		ref, msg := c.QuestionRef(u, d, words[n-1])
		if msg != "" {
			return ReturnOrder{}, &UserError{Msg: msg + "报告未退回。\n\n" + ReturnHelp}
		}
		if ref != nil {
			o.Question, words = ref, words[:n-1]
		}
	}
	o.Reason = strings.Join(words, " ")
	if o.Reason == "" {
		return ReturnOrder{}, &UserError{Msg: "请写明退回原因，对方会看到。\n\n" + ReturnHelp}
	}
	if n := len([]rune(o.Reason)); n > MaxReturnReason {
		return ReturnOrder{}, &UserError{Msg: fmt.Sprintf("退回原因太长（%d 字），请精简到 500 字以内。", n)}
	}
	return o, nil
}

// errNotSubmitted refuses to return a report that was never submitted.
func errNotSubmitted(u Unit) error {
	return &UserError{Msg: "“" + u.Name + "”尚未提交报告，无需退回。"}
}

// Returned is a report returned for correction: the draft after, the
// order, the label of the question to correct ("" for none) and the
// unit's contacts to tell.
type Returned struct {
	Draft    Draft
	Order    ReturnOrder
	Flagged  string
	Contacts []Contact
}

// ReturnReport returns the unit's submitted report for correction, as the
// admin by asked with words (see CheckReturn) in update updateID. A
// redelivered request changes nothing and returns an error wrapping
// ErrDuplicate.
func (s *Service) ReturnReport(ctx context.Context, updateID int64, unit Unit, words []string, by int64) (Returned, error) {
	d, err := s.Draft(ctx, unit.ID)
	if err != nil {
		return Returned{}, err
	}
	o, err := s.Campaign().CheckReturn(unit, d, words)
	if err != nil {
		return Returned{}, err
	}
	nd, err := s.applyReturn(ctx, updateID, unit, o, by, s.Now())
	if err != nil {
		return Returned{}, err
	}
	r := Returned{Draft: nd, Order: o}
	if o.Question != nil {
		r.Flagged = s.Campaign().QuestionLabel(unit, nd, o.Question)
	}
	if r.Contacts, err = s.Contacts(ctx, unit.ID); err != nil {
		return Returned{}, err
	}
	return r, nil
}

// applyReturn stores the return (Campaign.Return) on the unit's current
// draft.
func (s *Service) applyReturn(ctx context.Context, updateID int64, unit Unit, o ReturnOrder, by int64, now time.Time) (Draft, error) {
	qid := ""
	if o.Question != nil {
		qid = o.Question.ID
	}
	nd, err := s.Apply(ctx, unit.ID, updateID, func(d Draft) (Draft, *Report, error) {
		nd, err := s.Campaign().Return(d, o.Reason, qid, by, now)
		return nd, nil, err
	})
	switch {
	case errors.Is(err, ErrNotSubmitted):
		return nd, errNotSubmitted(unit)
	case errors.Is(err, ErrDuplicate):
		return nd, err // this very request was applied before
	case err != nil:
		return nd, fmt.Errorf("return report of unit %d: %w", unit.ID, err)
	}
	return nd, nil
}
