package bot

import (
	"context"
	"strings"
)

// adminPrefix starts the callback data of admin confirmation buttons. The
// data names the whole action (e.g. "adm:rm:42"), so no state is kept
// between the question and the answer.
const adminPrefix = "adm:"

// handleAdminCallback runs an admin's confirmation button.
func (b *Bot) handleAdminCallback(ctx context.Context, u *update) error {
	if !b.isAdmin(u.userID) {
		return nil
	}
	b.removeKeyboard(ctx, u.chatID, u.cbMsgID)
	return b.adminConfirmed(ctx, u, strings.TrimPrefix(u.cb.Data, adminPrefix))
}

// adminConfirmed runs an admin action confirmed by a button.
func (b *Bot) adminConfirmed(ctx context.Context, u *update, action string) error {
	if ok, err := b.schedConfirmed(ctx, u, action); ok {
		return err
	}
	if ok, err := b.revokeConfirmed(ctx, u, action); ok {
		return err
	}
	if ok, err := b.campaignConfirmed(ctx, u, action); ok {
		return err
	}
	switch {
	case action == rmCancel:
		b.sendText(ctx, u.chatID, "已取消，单位未删除。")
		return nil
	case strings.HasPrefix(action, rmAction):
		return b.confirmRmUnit(ctx, u, strings.TrimPrefix(action, rmAction))
	}
	b.sendText(ctx, u.chatID, "这个按钮已失效，请重新发送命令。")
	return nil
}
