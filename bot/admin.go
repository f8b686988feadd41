package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"reportbot/flows"
)

// adminPrefix starts the callback data of admin confirmation buttons. The
// data names the whole action (e.g. "adm:rm:42"), so no state is kept
// between the question and the answer.
const adminPrefix = "adm:"

// addUnit: /addunit 名称 类别
func (b *Bot) addUnit(ctx context.Context, u *update) error {
	fields := strings.Fields(u.args)
	if len(fields) < 2 {
		b.sendText(ctx, u.chatID, "用法：/addunit 名称 类别\n例如：/addunit 离石区双拥工作领导小组 县市区\n类别可选："+b.camp().CategoryNames())
		return nil
	}
	catName := fields[len(fields)-1]
	name := strings.Join(fields[:len(fields)-1], " ")
	unit, cat, err := b.svc.AddUnit(ctx, name, catName)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("已添加单位：%s（%s），编号 %d。\n发送 /invite %s 生成邀请链接。", unit.Name, cat.Name, unit.ID, unit.Name))
	return nil
}

// unitByName finds a unit by its exact name, telling the admin when there
// is none.
func (b *Bot) unitByName(ctx context.Context, u *update, name string) (flows.Unit, bool, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return flows.Unit{}, false, nil
	}
	unit, err := b.svc.UnitNamed(ctx, name)
	if err != nil {
		return flows.Unit{}, false, b.refuse(ctx, u, err)
	}
	return unit, true, nil
}

// inviteLink is the link of an invite token.
func (b *Bot) inviteLink(token string) string {
	return "https://t.me/" + b.username + "?start=" + token
}

// invite: /invite 名称
func (b *Bot) invite(ctx context.Context, u *update) error {
	if u.args == "" {
		b.sendText(ctx, u.chatID, "用法：/invite 单位名称\n例如：/invite 离石区双拥工作领导小组")
		return nil
	}
	unit, ok, err := b.unitByName(ctx, u, u.args)
	if !ok || err != nil {
		return err
	}
	older, cutoff, err := b.svc.OpenInvites(ctx, unit.ID)
	if err != nil {
		return err
	}
	token, err := b.svc.CreateInvite(ctx, unit.ID, u.userID, 0)
	if err != nil {
		return err
	}
	link := b.inviteLink(token)
	r := flows.Reply{Text: "“" + unit.Name + "”的邀请链接（30 天内有效，只能使用一次）：\n" + link + "\n\n请把链接发给该单位的填报联系人，对方点击后即可绑定并开始填报。"}
	if older > 0 {
		r.Text += fmt.Sprintf("\n\n该单位另有 %d 个较早生成的邀请链接仍然有效。如不再需要，可点下方按钮作废。", older)
		r.Buttons = [][]flows.Button{{{Text: fmt.Sprintf("作废较早的 %d 个链接", older), Data: adminPrefix + rvOlder + strconv.FormatInt(unit.ID, 10) + ":" + strconv.FormatInt(cutoff.UnixNano(), 10)}}}
	}
	_ = b.send(ctx, u.chatID, r)
	return nil
}

// listUnits: /units
func (b *Bot) listUnits(ctx context.Context, u *update) error {
	list, err := b.svc.UnitStatuses(ctx)
	if err != nil {
		return err
	}
	var s strings.Builder
	for i, st := range list {
		unit := st.Unit
		cat, _ := b.camp().Category(unit.Category)
		names := make([]string, 0, len(st.Contacts))
		for _, ct := range st.Contacts {
			names = append(names, contactName(ct))
		}
		who := ""
		if len(names) > 0 {
			who = "：" + strings.Join(names, "、")
		}
		fmt.Fprintf(&s, "%d. %s（%s）— %s，联系人 %d 人%s\n", i+1, unit.Name, cat.Name, b.camp().ShortStatus(st.Draft, unit.Category), len(st.Contacts), who)
	}
	n := len(list)
	if n == 0 {
		b.sendText(ctx, u.chatID, "还没有任何单位。用 /addunit 名称 类别 添加，或用 /import 导入 CSV 文件。")
		return nil
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("共 %d 个单位：\n", n)+s.String())
	return nil
}

// setGroup: /setgroup sent in a group makes it the office group.
func (b *Bot) setGroup(ctx context.Context, u *update) error {
	if !b.isAdmin(u.userID) {
		b.sendText(ctx, u.chatID, "只有管理员可以设置工作群。")
		return nil
	}
	if err := b.svc.SetOfficeGroup(ctx, u.chatID); err != nil {
		return err
	}
	b.sendText(ctx, u.chatID, "已将本群设为市双拥办工作群。各单位提交或修改报告后会在本群通知；可在本群使用 /summary、/pending、/export、/docs。")
	return nil
}

// handleAdminCallback runs an admin's confirmation button.
func (b *Bot) handleAdminCallback(ctx context.Context, u *update) error {
	if !b.isAdmin(u.userID) {
		return nil
	}
	b.removeKeyboard(ctx, u.chatID, u.cbMsgID)
	return b.adminConfirmed(ctx, u, strings.TrimPrefix(u.cb.Data, adminPrefix))
}
