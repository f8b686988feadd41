package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"reportbot/flows"
)

// Taking access back: /revoke 名称 revokes the unit's open invite links;
// /revoke 名称 用户 removes one contact after a confirmation button. The
// invite commands offer a button that revokes the older links they did not
// just make.

// Callback data after adminPrefix. Each names the whole action (ids and a
// time in unix nanoseconds), so no state is kept between question and
// answer; all stay well under Telegram's 64 bytes.
const (
	rvContact   = "rvc:" // rvc:<unit id>:<user id> — remove the contact
	rvCancel    = "rv-no"
	rvOlder     = "rvo:" // rvo:<unit id>:<cutoff> — revoke the unit's links made at or before cutoff
	rvOlderAll  = "rva:" // rva:<cutoff> — the same for every unit without a contact
	revokeUsage = "用法：\n/revoke 单位名称 — 作废该单位所有未使用的邀请链接\n/revoke 单位名称 联系人 — 移除该单位的一位填报联系人（联系人写 /units 中显示的名字或其数字 ID）"
)

// revoke: /revoke 名称 [用户]
func (b *Bot) revoke(ctx context.Context, u *update) error {
	fields := strings.Fields(u.args)
	if len(fields) == 0 {
		b.sendText(ctx, u.chatID, revokeUsage)
		return nil
	}
	unit, rest, err := b.svc.LeadingUnit(ctx, fields)
	if err != nil {
		return err
	}
	if rest == nil {
		b.sendText(ctx, u.chatID, "找不到单位“"+strings.Join(fields, " ")+"”。请检查名称（需与单位列表完全一致），发送 /units 查看全部单位。\n\n"+revokeUsage)
		return nil
	}
	if len(rest) == 0 {
		n, err := b.svc.RevokeInvites(ctx, unit.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			b.sendText(ctx, u.chatID, "“"+unit.Name+"”没有未使用的邀请链接，无需作废。")
			return nil
		}
		b.sendText(ctx, u.chatID, fmt.Sprintf("已作废“%s”的 %d 个未使用的邀请链接，这些链接不能再用于绑定。已绑定的联系人不受影响。", unit.Name, n))
		return nil
	}
	who := strings.Join(rest, " ")
	cts, err := b.svc.Contacts(ctx, unit.ID)
	if err != nil {
		return err
	}
	var found []flows.Contact
	for _, ct := range cts {
		if contactName(ct) == who || strconv.FormatInt(ct.UserID, 10) == who {
			found = append(found, ct)
		}
	}
	switch {
	case len(found) == 0:
		names := make([]string, 0, len(cts))
		for _, ct := range cts {
			names = append(names, fmt.Sprintf("%s（ID %d）", contactName(ct), ct.UserID))
		}
		list := "该单位目前没有填报联系人。"
		if len(names) > 0 {
			list = "该单位的填报联系人：" + strings.Join(names, "、")
		}
		b.sendText(ctx, u.chatID, "“"+unit.Name+"”没有名为“"+who+"”的填报联系人。"+list)
		return nil
	case len(found) > 1:
		b.sendText(ctx, u.chatID, fmt.Sprintf("“%s”有 %d 位名为“%s”的联系人，请改用数字 ID：/revoke %s %d", unit.Name, len(found), who, unit.Name, found[0].UserID))
		return nil
	}
	ct := found[0]
	text := fmt.Sprintf("确定把 %s（ID %d）移出“%s”的填报联系人吗？\n移除后对方不能再为该单位填报，已填内容和已提交的报告保留。", contactName(ct), ct.UserID, unit.Name)
	buttons := [][]flows.Button{{
		{Text: "确认移除", Data: adminPrefix + rvContact + strconv.FormatInt(unit.ID, 10) + ":" + strconv.FormatInt(ct.UserID, 10)},
		{Text: "取消", Data: adminPrefix + rvCancel},
	}}
	_ = b.send(ctx, u.chatID, flows.Reply{Text: text, Buttons: buttons})
	return nil
}

// revokeConfirmed runs a revoke button; ok is false for other actions.
func (b *Bot) revokeConfirmed(ctx context.Context, u *update, action string) (ok bool, err error) {
	switch {
	case action == rvCancel:
		b.sendText(ctx, u.chatID, "已取消，联系人未移除。")
		return true, nil
	case strings.HasPrefix(action, rvContact):
		return true, b.confirmRemoveContact(ctx, u, strings.TrimPrefix(action, rvContact))
	case strings.HasPrefix(action, rvOlder):
		return true, b.confirmRevokeOlder(ctx, u, strings.TrimPrefix(action, rvOlder))
	case strings.HasPrefix(action, rvOlderAll):
		return true, b.confirmRevokeOlderAll(ctx, u, strings.TrimPrefix(action, rvOlderAll))
	}
	return false, nil
}

// twoIDs parses "a:b".
func twoIDs(s string) (int64, int64, bool) {
	x, y, ok := strings.Cut(s, ":")
	a, err1 := strconv.ParseInt(x, 10, 64)
	b, err2 := strconv.ParseInt(y, 10, 64)
	return a, b, ok && err1 == nil && err2 == nil
}

// confirmRemoveContact unbinds the contact, tells them and the office
// group. Pressing again after it worked only says so.
func (b *Bot) confirmRemoveContact(ctx context.Context, u *update, arg string) error {
	unitID, userID, ok := twoIDs(arg)
	if !ok {
		b.sendText(ctx, u.chatID, "这个按钮已失效，请重新发送 /revoke。")
		return nil
	}
	res, err := b.svc.RemoveContact(ctx, unitID, userID)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	unit, ct, revoked := res.Unit, res.Contact, res.Revoked
	b.forgetContact(userID)
	b.sendText(ctx, ct.ChatID, "市双拥办已将您移出“"+unit.Name+"”的填报联系人，您不能再为该单位填报。如有疑问，请联系"+b.camp().Office+"。")
	reply := fmt.Sprintf("已将 %s（ID %d）移出“%s”的填报联系人，并已通知对方。", contactName(ct), userID, unit.Name)
	if revoked > 0 {
		reply += fmt.Sprintf("\n对方生成的交接链接尚未使用，已一并作废该单位 %d 个未使用的邀请链接。", revoked)
	}
	b.sendText(ctx, u.chatID, reply)
	b.postToGroup(ctx, "➖ 已将 "+contactName(ct)+" 移出“"+unit.Name+"”的填报联系人。")
	return nil
}

// confirmRevokeOlder revokes the unit's open links made at or before the
// cutoff (the links the admin had before the newest one).
func (b *Bot) confirmRevokeOlder(ctx context.Context, u *update, arg string) error {
	unitID, cutoff, ok := twoIDs(arg)
	if !ok {
		b.sendText(ctx, u.chatID, "这个按钮已失效，请重新发送 /revoke 单位名称。")
		return nil
	}
	unit, n, err := b.svc.RevokeOlderInvites(ctx, unitID, time.Unix(0, cutoff))
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("已作废“%s”的 %d 个较早的邀请链接；刚生成的链接仍然有效。", unit.Name, n))
	return nil
}

// confirmRevokeOlderAll is confirmRevokeOlder for every unit that has no
// contact (the units /invites makes links for).
func (b *Bot) confirmRevokeOlderAll(ctx context.Context, u *update, arg string) error {
	cutoff, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		b.sendText(ctx, u.chatID, "这个按钮已失效，请重新发送 /invites。")
		return nil
	}
	total, err := b.svc.RevokeOlderUnbound(ctx, time.Unix(0, cutoff))
	if err != nil {
		return err
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("已作废 %d 个较早的邀请链接；刚生成的链接仍然有效。", total))
	return nil
}

// contactName is how /units and the notices name a contact.
func contactName(ct flows.Contact) string {
	if n := strings.TrimSpace(ct.Name); n != "" {
		return n
	}
	return fmt.Sprintf("用户%d", ct.UserID)
}
