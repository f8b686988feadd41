package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"reportbot/flows"
)

// officeGroup returns the office group's chat id, 0 if none is set.
func (b *Bot) officeGroup(ctx context.Context) (int64, error) {
	v, err := b.store.Setting(ctx, flows.SettingOfficeGroup)
	if errors.Is(err, flows.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load office group: %w", err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stored office group %q: %w", v, err)
	}
	return id, nil
}

// followMigration moves the office group to its new supergroup id.
func (b *Bot) followMigration(ctx context.Context, oldID, newID int64) error {
	group, err := b.officeGroup(ctx)
	if err != nil {
		return err
	}
	if group != oldID || newID == 0 {
		return nil
	}
	if err := b.store.PutSetting(ctx, flows.SettingOfficeGroup, fmt.Sprint(newID)); err != nil {
		return fmt.Errorf("store migrated office group: %w", err)
	}
	b.log.Info("office group migrated to a supergroup", "chat_id", oldID, "new_chat_id", newID)
	return nil
}

// handover: a contact hands the unit to a colleague with a fresh invite;
// they keep access until the colleague binds.
func (b *Bot) handover(ctx context.Context, u *update) error {
	_, unit, ok, err := b.contactUnit(ctx, u.userID)
	if err != nil {
		return err
	}
	if !ok {
		b.sendText(ctx, u.chatID, msgNotBound)
		return nil
	}
	link, err := b.inviteLink(ctx, unit, u.userID, u.userID)
	if err != nil {
		return err
	}
	b.sendText(ctx, u.chatID, "交接链接已生成（30 天内有效，只能使用一次）：\n"+link+"\n\n请把链接发给接替您的同事。对方绑定前您仍可正常填报；对方绑定后，您将不再是“"+unit.Name+"”的填报联系人，已填内容会完整保留给对方。")
	return nil
}

// afterBind tells the previous contact when a handover invite was used.
func (b *Bot) afterBind(ctx context.Context, unit flows.Unit, u *update) {
	invs, err := b.store.Invites(ctx, unit.ID)
	if err != nil {
		b.log.Error("after bind: list invites", "unit", unit.ID, "err", err)
		return
	}
	for _, inv := range invs {
		if inv.UsedBy == u.userID && inv.Handover != 0 && inv.Handover != u.userID {
			b.forgetContact(inv.Handover)
			name := u.userName
			if name == "" {
				name = "您的同事"
			}
			b.sendText(ctx, inv.Handover, "“"+unit.Name+"”已由 "+name+" 接替填报，您已不再是该单位的填报联系人。感谢您的工作！")
			b.sendText(ctx, u.chatID, "前任联系人已收到交接通知。")
		}
	}
}
