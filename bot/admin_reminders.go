package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"reportbot/flows"
)

// Admin commands of the scheduler: /remind (a reminder round now, after a
// confirmation button), /digest (a digest to the office group now) and
// /reminders on|off (the reminders after the deadline).

// remindAction starts the callback data of /remind's confirmation button:
// "adm:remind:<round key>". The key names the round, so pressing twice (or
// on two replicas) runs it once.
const (
	remindAction   = "remind:"
	remindCancel   = "remind-no"
	remindValidFor = time.Hour // an older confirmation button is refused
)

// remindCommand: /remind shows how many units a round would reach and asks
// to confirm with a button.
func (b *Bot) remindCommand(ctx context.Context, u *update) error {
	now := b.svc.Now()
	if b.camp().Quiet(now) {
		b.sendText(ctx, u.chatID, fmt.Sprintf("现在是免打扰时段（%s），不发送提醒。请在免打扰时段结束后再发送 /remind。", b.camp().QuietHours()))
		return nil
	}
	deadline, err := b.svc.Deadline(ctx)
	if err != nil {
		return err
	}
	n, returned, err := b.unitsToRemind(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		b.sendText(ctx, u.chatID, "所有单位均已提交，无需提醒。")
		return nil
	}
	r := b.camp().ManualRound(deadline, now)
	text := fmt.Sprintf("当前有 %d 个单位尚未提交", n)
	if returned > 0 {
		text += fmt.Sprintf("（其中 %d 个退回修改）", returned)
	}
	text += "。\n确认后将立即向这些单位的全部联系人发送一轮提醒（已屏蔽机器人的联系人除外），并在工作群中报告发送结果。"
	b.send(ctx, u.chatID, flows.Reply{Text: text, Buttons: [][]flows.Button{{
		{Text: fmt.Sprintf("确认发送（%d 个单位）", n), Data: adminPrefix + remindAction + r.Key()},
		{Text: "取消", Data: adminPrefix + remindCancel},
	}}})
	return nil
}

// unitsToRemind counts the units a round would remind now.
func (b *Bot) unitsToRemind(ctx context.Context) (n, returned int, err error) {
	units, drafts, err := b.svc.UnitsToRemind(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, unit := range units {
		if drafts[unit.ID].Status == flows.StatusReturned {
			returned++
		}
	}
	return len(units), returned, nil
}

// schedConfirmed runs a confirmation button of the scheduler's admin
// commands (action is the callback data without "adm:"). It reports
// whether the action was one of them.
func (b *Bot) schedConfirmed(ctx context.Context, u *update, action string) (bool, error) {
	switch {
	case action == remindCancel:
		b.sendText(ctx, u.chatID, "已取消，未发送提醒。")
		return true, nil
	case strings.HasPrefix(action, remindAction):
		return true, b.confirmRemind(ctx, u, strings.TrimPrefix(action, remindAction))
	}
	return false, nil
}

// confirmRemind starts the admin's round named by key (m200601021504).
func (b *Bot) confirmRemind(ctx context.Context, u *update, key string) error {
	now := b.svc.Now()
	at, err := time.ParseInLocation("200601021504", strings.TrimPrefix(key, "m"), b.camp().Location)
	if err != nil || !strings.HasPrefix(key, "m") {
		b.sendText(ctx, u.chatID, "无法识别这个确认按钮，请重新发送 /remind。")
		return nil
	}
	if now.Sub(at) > remindValidFor || at.Sub(now) > time.Minute {
		b.sendText(ctx, u.chatID, "这个确认按钮已过期，请重新发送 /remind。")
		return nil
	}
	if b.camp().Quiet(now) {
		b.sendText(ctx, u.chatID, fmt.Sprintf("现在是免打扰时段（%s），不发送提醒。", b.camp().QuietHours()))
		return nil
	}
	deadline, err := b.svc.Deadline(ctx)
	if err != nil {
		return err
	}
	r := b.camp().ManualRound(deadline, at)
	chatID := u.chatID
	b.sendText(ctx, chatID, "正在发送提醒……完成后会在这里和工作群中报告结果。")
	b.sched.RemindNow(r, deadline, func(ctx context.Context, res flows.RoundResult, err error) {
		switch {
		case err != nil:
			b.sendText(ctx, chatID, "提醒发送中断，已发送的不会重复发送。请稍后重新发送 /remind 并确认。")
		case res.Skip == "panicked":
			b.sendText(ctx, chatID, "这一轮提醒因程序内部错误中断，已记录，不会自动重发。请稍后重新发送 /remind 并确认，或联系技术支持。")
		case res.Skip != "":
			b.sendText(ctx, chatID, "这一轮提醒已经发送过（或正在由另一个实例发送），不会重复发送。")
		case res.Tally.Units == 0:
			b.sendText(ctx, chatID, "所有单位均已提交，没有发送提醒。")
		case res.Panics > 0:
			b.sendText(ctx, chatID, b.camp().RoundReportText(r, res.Tally)+fmt.Sprintf("\n⚠️ 其中 %d 个单位因程序内部错误未能提醒，已记录。", res.Panics))
		default:
			b.sendText(ctx, chatID, b.camp().RoundReportText(r, res.Tally))
		}
	})
	return nil
}

// digestCommand: /digest posts a digest to the office group now.
func (b *Bot) digestCommand(ctx context.Context, u *update) error {
	group, err := b.officeGroup(ctx)
	if err != nil {
		return err
	}
	if group == 0 {
		b.sendText(ctx, u.chatID, "尚未设置市双拥办工作群，无法发送简报。请先把机器人拉进工作群，并在群中发送 /setgroup。")
		return nil
	}
	if err := b.sched.DigestNow(ctx, b.svc.Now()); err != nil {
		b.log.Error("digest on request", "err", b.redact(err))
		b.sendText(ctx, u.chatID, "简报发送失败，请稍后再试。")
		return nil
	}
	if u.chatID != group {
		b.sendText(ctx, u.chatID, "已向工作群发送进度简报。")
	}
	return nil
}

// remindersCommand: /reminders on|off starts or stops the reminders after
// the deadline; without an argument it tells the current state.
func (b *Bot) remindersCommand(ctx context.Context, u *update) error {
	at := b.camp().Schedule.RemindAt
	var value string
	switch strings.ToLower(strings.TrimSpace(u.args)) {
	case "on", "开", "开启":
		value = "on"
	case "off", "关", "关闭", "停止":
		value = "off"
	case "":
		off, err := b.svc.RemindersOff(ctx)
		if err != nil {
			return err
		}
		state := "开启"
		if off {
			state = "停止"
		}
		b.sendText(ctx, u.chatID, "截止后的自动提醒目前已"+state+"。\n用法：/reminders on 开启，/reminders off 停止（截止前的提醒和 /remind 不受影响）。")
		return nil
	default:
		b.sendText(ctx, u.chatID, "用法：/reminders on 开启截止后的自动提醒，/reminders off 停止。")
		return nil
	}
	if err := b.svc.SetRemindersOff(ctx, value == "off"); err != nil {
		return err
	}
	if value == "off" {
		b.sendText(ctx, u.chatID, "已停止截止后的自动提醒。截止前的提醒照常发送；需要时仍可用 /remind 手动提醒。")
		return nil
	}
	text := "已开启截止后的自动提醒：截止后每个工作日 " + at + " 提醒仍未提交的单位。"
	if !b.camp().Schedule.RemindAfter {
		text = "已开启。注意：本次填报的活动文件未设置截止后提醒（remind_after），截止后不会自动提醒；可用 /remind 手动提醒。"
	}
	b.sendText(ctx, u.chatID, text)
	return nil
}
