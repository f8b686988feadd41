package bot

import (
	"context"

	"reportbot/flows"
)

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
	token, err := b.svc.CreateInvite(ctx, unit.ID, u.userID, u.userID)
	if err != nil {
		return err
	}
	b.sendText(ctx, u.chatID, "交接链接已生成（30 天内有效，只能使用一次）：\n"+b.inviteLink(token)+"\n\n请把链接发给接替您的同事。对方绑定前您仍可正常填报；对方绑定后，您将不再是“"+unit.Name+"”的填报联系人，已填内容会完整保留给对方。")
	return nil
}

// afterBind tells the previous contact when a handover invite was used.
func (b *Bot) afterBind(ctx context.Context, unit flows.Unit, u *update) {
	from, err := b.svc.HandedOver(ctx, unit.ID, u.userID)
	if err != nil {
		b.log.Error("after bind: list invites", "unit", unit.ID, "err", err)
		return
	}
	for _, prev := range from {
		b.forgetContact(prev)
		name := u.userName
		if name == "" {
			name = "您的同事"
		}
		b.sendText(ctx, prev, "“"+unit.Name+"”已由 "+name+" 接替填报，您已不再是该单位的填报联系人。感谢您的工作！")
		b.sendText(ctx, u.chatID, "前任联系人已收到交接通知。")
	}
}
