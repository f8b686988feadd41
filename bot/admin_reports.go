package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"reportbot/flows"
)

// The admins' report commands: /reopen returns a submitted report for
// correction, /deadline moves the deadline.

// reopen: /reopen 名称 原因 [题目] — return a submitted report for
// correction (退回修改, flows.Service.ReturnReport).
func (b *Bot) reopen(ctx context.Context, u *update) error {
	fields := strings.Fields(u.args)
	if len(fields) == 0 {
		b.sendText(ctx, u.chatID, flows.ReturnHelp)
		return nil
	}
	unit, rest, err := b.svc.LeadingUnit(ctx, fields)
	if err != nil {
		return err
	}
	if rest == nil {
		b.sendText(ctx, u.chatID, "找不到单位“"+fields[0]+"”。请检查名称（需与单位列表完全一致），发送 /units 查看全部单位。\n\n"+flows.ReturnHelp)
		return nil
	}
	ret, err := b.svc.ReturnReport(ctx, u.id, unit, rest, u.userID)
	switch {
	case errors.Is(err, flows.ErrDuplicate):
		return nil // this very command was applied before
	case err != nil:
		return b.refuse(ctx, u, err)
	}
	b.tellReturned(ctx, u, unit, ret)
	return nil
}

// tellReturned tells the unit's contacts, the admin and the office group
// that the unit's report was returned.
func (b *Bot) tellReturned(ctx context.Context, u *update, unit flows.Unit, ret flows.Returned) {
	reason, version := ret.Order.Reason, ret.Draft.Version
	flagged := ""
	if ret.Flagged != "" {
		flagged = "\n需修改：" + ret.Flagged
	}
	notice := fmt.Sprintf("⚠️ 市双拥办退回了“%s”提交的第 %d 版报告，请修改后重新提交。\n退回原因：%s%s\n\n请点下方按钮或发送 /report 开始修改；截止时间已过也可以修改提交。", unit.Name, version, reason, flagged)
	told := 0
	for _, ct := range ret.Contacts {
		if ct.Unreachable {
			continue
		}
		if b.send(ctx, ct.ChatID, flows.Reply{Text: notice, Buttons: [][]flows.Button{{{Text: "开始修改", Data: flows.DataGo}}}}) == nil {
			told++
		}
	}
	reply := fmt.Sprintf("已将“%s”的第 %d 版报告退回修改。\n退回原因：%s%s\n", unit.Name, version, reason, flagged)
	if told == 0 {
		reply += "该单位没有能联系上的联系人，请电话通知对方。"
	} else {
		reply += fmt.Sprintf("已通知 %d 位联系人。", told)
	}
	b.sendText(ctx, u.chatID, reply)
	b.postToGroup(ctx, fmt.Sprintf("↩️ “%s”的第 %d 版报告已退回修改。\n退回原因：%s%s", unit.Name, version, reason, flagged))
}

// postToGroup tells the office group something, if there is one.
func (b *Bot) postToGroup(ctx context.Context, text string) {
	group, err := b.officeGroup(ctx)
	if err != nil {
		b.log.Error("post to office group", "err", err)
		return
	}
	if group != 0 {
		b.sendText(ctx, group, text)
	}
}

// parseDeadline reads "2022-02-10 18:00" (and a few Chinese forms) in loc.
func parseDeadline(s string, loc *time.Location) (time.Time, bool) {
	s = strings.NewReplacer("：", ":", "日", "日 ").Replace(strings.TrimSpace(s))
	s = spaces.ReplaceAllString(strings.TrimSpace(s), " ")
	for _, layout := range deadlineLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// setDeadline: /deadline 2022-02-10 18:00 (China Standard Time).
func (b *Bot) setDeadline(ctx context.Context, u *update) error {
	current, err := b.svc.Deadline(ctx)
	if err != nil {
		return err
	}
	loc := b.camp().Location
	usage := "用法：/deadline 日期 时间（北京时间），例如：/deadline 2022-02-10 18:00\n当前截止时间：" + flows.FormatTime(current, loc)
	if u.args == "" {
		b.sendText(ctx, u.chatID, usage)
		return nil
	}
	t, ok := parseDeadline(u.args, loc)
	if !ok {
		b.sendText(ctx, u.chatID, "无法识别“"+u.args+"”，截止时间未修改。请写明日期和时间。\n"+usage)
		return nil
	}
	now := b.svc.Now()
	if !t.After(now) {
		b.sendText(ctx, u.chatID, "新的截止时间 "+flows.FormatTime(t, loc)+" 已经过去（现在是 "+flows.FormatTime(now, loc)+"），截止时间未修改。请填写一个将来的时间。")
		return nil
	}
	if t.Equal(current) {
		b.sendText(ctx, u.chatID, "截止时间本来就是 "+flows.FormatTime(t, loc)+"，未修改。")
		return nil
	}
	old, err := b.svc.SetDeadline(ctx, t)
	if err != nil {
		return err
	}
	change := flows.FormatTime(old, loc) + " → " + flows.FormatTime(t, loc) + "（北京时间）"
	b.sendText(ctx, u.chatID, "截止时间已修改："+change+"。\n填报页面和提醒将按新的截止时间执行。")
	b.postToGroup(ctx, "📅 截止时间已修改："+change+"。")
	return nil
}
