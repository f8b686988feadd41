package bot

import (
	"context"
	"errors"
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
		b.sendText(ctx, u.chatID, "用法：/addunit 名称 类别\n例如：/addunit 离石区双拥工作领导小组 县市区\n类别可选："+b.camp.CategoryNames())
		return nil
	}
	catName := fields[len(fields)-1]
	name := strings.Join(fields[:len(fields)-1], " ")
	cat, ok := b.camp.CategoryByName(catName)
	if !ok {
		b.sendText(ctx, u.chatID, "类别“"+catName+"”不存在，单位未添加。\n类别可选："+b.camp.CategoryNames())
		return nil
	}
	name, err := flows.NormalizeName(name)
	if ue := (*flows.UserError)(nil); errors.As(err, &ue) {
		b.sendText(ctx, u.chatID, ue.Msg+"单位未添加。")
		return nil
	}
	if msg := flows.CheckUnitName(name); msg != "" {
		b.sendText(ctx, u.chatID, msg)
		return nil
	}
	unit, err := b.store.AddUnit(ctx, flows.Unit{Name: name, Category: cat.ID, Created: b.svc.Now()})
	if errors.Is(err, flows.ErrExists) {
		b.sendText(ctx, u.chatID, "单位“"+name+"”已存在，未重复添加。发送 /units 查看全部单位。")
		return nil
	}
	if err != nil {
		return fmt.Errorf("add unit: %w", err)
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("已添加单位：%s（%s），编号 %d。\n发送 /invite %s 生成邀请链接。", unit.Name, cat.Name, unit.ID, unit.Name))
	return nil
}

// unitByName finds a unit by its exact name, telling the admin when there
// is none.
func (b *Bot) unitByName(ctx context.Context, chatID int64, name string) (flows.Unit, bool, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return flows.Unit{}, false, nil
	}
	unit, err := b.store.UnitByName(ctx, name)
	if errors.Is(err, flows.ErrNotFound) || err == nil && unit.Removed {
		b.sendText(ctx, chatID, "找不到单位“"+name+"”。请检查名称（需与单位列表完全一致），发送 /units 查看全部单位。")
		return flows.Unit{}, false, nil
	}
	if err != nil {
		return flows.Unit{}, false, fmt.Errorf("find unit %q: %w", name, err)
	}
	return unit, true, nil
}

// inviteLink creates a fresh invite for a unit and returns its link.
func (b *Bot) inviteLink(ctx context.Context, unit flows.Unit, by, handover int64) (string, error) {
	token, inv, err := flows.NewInvite(unit.ID, b.svc.Now())
	if err != nil {
		return "", err
	}
	inv.CreatedBy = by
	inv.Handover = handover
	if err := b.store.PutInvite(ctx, inv); err != nil {
		return "", fmt.Errorf("store invite for unit %d: %w", unit.ID, err)
	}
	return "https://t.me/" + b.username + "?start=" + token, nil
}

// invite: /invite 名称
func (b *Bot) invite(ctx context.Context, u *update) error {
	if u.args == "" {
		b.sendText(ctx, u.chatID, "用法：/invite 单位名称\n例如：/invite 离石区双拥工作领导小组")
		return nil
	}
	unit, ok, err := b.unitByName(ctx, u.chatID, u.args)
	if !ok || err != nil {
		return err
	}
	older, cutoff, err := b.olderInvites(ctx, unit.ID, b.svc.Now())
	if err != nil {
		return err
	}
	link, err := b.inviteLink(ctx, unit, u.userID, 0)
	if err != nil {
		return err
	}
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
	units, err := b.store.Units(ctx)
	if err != nil {
		return fmt.Errorf("list units: %w", err)
	}
	drafts, err := b.draftsByUnit(ctx)
	if err != nil {
		return err
	}
	var s strings.Builder
	n := 0
	for _, unit := range units {
		if unit.Removed {
			continue
		}
		n++
		contacts, err := b.store.Contacts(ctx, unit.ID)
		if err != nil {
			return fmt.Errorf("contacts of unit %d: %w", unit.ID, err)
		}
		cat, _ := b.camp.Category(unit.Category)
		names := make([]string, 0, len(contacts))
		for _, ct := range contacts {
			names = append(names, contactName(ct))
		}
		who := ""
		if len(names) > 0 {
			who = "：" + strings.Join(names, "、")
		}
		fmt.Fprintf(&s, "%d. %s（%s）— %s，联系人 %d 人%s\n", n, unit.Name, cat.Name, b.camp.ShortStatus(drafts[unit.ID], unit.Category), len(contacts), who)
	}
	if n == 0 {
		b.sendText(ctx, u.chatID, "还没有任何单位。用 /addunit 名称 类别 添加，或用 /import 导入 CSV 文件。")
		return nil
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("共 %d 个单位：\n", n)+s.String())
	return nil
}

func (b *Bot) draftsByUnit(ctx context.Context) (map[int64]flows.Draft, error) {
	ds, err := b.store.Drafts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	m := make(map[int64]flows.Draft, len(ds))
	for _, d := range ds {
		m[d.UnitID] = d
	}
	return m, nil
}

// setGroup: /setgroup sent in a group makes it the office group.
func (b *Bot) setGroup(ctx context.Context, u *update) error {
	if !b.isAdmin(u.userID) {
		b.sendText(ctx, u.chatID, "只有管理员可以设置工作群。")
		return nil
	}
	if err := b.store.PutSetting(ctx, flows.SettingOfficeGroup, fmt.Sprint(u.chatID)); err != nil {
		return fmt.Errorf("store office group: %w", err)
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
