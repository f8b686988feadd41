package bot

import (
	"context"
)

// officeGroup returns the office group's chat id, 0 if none is set.
func (b *Bot) officeGroup(ctx context.Context) (int64, error) { return b.svc.OfficeGroup(ctx) }

// followMigration moves the office group to its new supergroup id.
func (b *Bot) followMigration(ctx context.Context, oldID, newID int64) error {
	moved, err := b.svc.FollowMigration(ctx, oldID, newID)
	if !moved || err != nil {
		return err
	}
	b.log.Info("office group migrated to a supergroup", "chat_id", oldID, "new_chat_id", newID)
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
