package bot

import (
	"context"
	"slices"

	"reportbot/flows"
)

// officeCommands answer only in the office group.
var officeCommands = []string{"summary", "pending", "export", "docs"}

func isOfficeCommand(cmd string) bool { return slices.Contains(officeCommands, cmd) }

// officeGroup returns the office group's chat id, 0 if none is set.
func (b *Bot) officeGroup(ctx context.Context) (int64, error) { return b.svc.OfficeGroup(ctx) }

// handleGroup handles a message in a group chat.
func (b *Bot) handleGroup(ctx context.Context, u *update) error {
	switch {
	case u.cmd == "setgroup":
		return b.setGroup(ctx, u)
	case isOfficeCommand(u.cmd), u.cmd == "template":
		group, err := b.officeGroup(ctx)
		if err != nil {
			return err
		}
		if group != u.chatID {
			if group == 0 {
				b.sendText(ctx, u.chatID, "尚未设置市双拥办工作群。请管理员在工作群中发送 /setgroup。")
			} else {
				b.sendText(ctx, u.chatID, "/"+u.cmd+" 只能在市双拥办工作群中使用。")
			}
			return nil
		}
		h := b.officeHandler(u.cmd)
		if u.cmd == "template" {
			h = b.officeTemplate
		}
		if h == nil {
			return nil
		}
		return h(ctx, u)
	case isAdminCommand(u.cmd):
		b.sendText(ctx, u.chatID, "/"+u.cmd+" 是管理员命令，请管理员私聊机器人使用。")
		return nil
	case u.cmd == "help":
		b.sendText(ctx, u.chatID, "工作群中可用：/summary 进度与合计，/pending 未报单位，/export 导出报表（/export csv 导出 CSV），/docs 单位名称 查看该单位材料，/template [单位名称] 下载填报模板。")
		return nil
	}
	return nil // ordinary group chatter is not for us
}

// followMigration moves the office group to its new supergroup id.
func (b *Bot) followMigration(ctx context.Context, oldID, newID int64) error {
	moved, err := b.svc.FollowMigration(ctx, oldID, newID)
	if !moved || err != nil {
		return err
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
