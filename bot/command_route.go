package bot

import "context"

// Where a command goes, by the command table: who may use it here, whether
// it runs once (claimed) or as a form input, and the answers given instead
// of running it (not allowed here, not known).

// runPrivateCommand runs a command sent in a private chat; once runs a
// handler once only (or directly, for a stranger: handlePrivate).
func (b *Bot) runPrivateCommand(ctx context.Context, u *update, once func(context.Context, *update, handler) error) error {
	c := b.cmds.private[u.cmd]
	if b.isAdmin(u.userID) {
		b.retryAdminMenu(ctx, u.userID)
	}
	switch {
	case c == nil && b.cmds.isOffice(u.cmd):
		return once(ctx, u, b.onlyInOfficeGroup)
	case c == nil:
		return once(ctx, u, b.unknownCommand)
	case c.who == admin && !b.isAdmin(u.userID):
		u.outcome = "refused"
		return once(ctx, u, b.notAnAdmin)
	case c.input:
		return c.run(ctx, u)
	}
	return once(ctx, u, c.run)
}

// isOffice reports whether name is an office group command.
func (t *commandTable) isOffice(name string) bool {
	c := t.group[name]
	return c != nil && c.who == office
}

// runsOnceInAnyGroup reports whether a group command runs once (claimed)
// in any group, not only in the office group: an admin's /setgroup.
func (b *Bot) runsOnceInAnyGroup(u *update) bool {
	c := b.cmds.group[u.cmd]
	return c != nil && c.who == groupAdmin && b.isAdmin(u.userID)
}

// runGroupCommand runs a command sent in a group (routeGroup has decided
// whether it runs once or best-effort). Commands of private chats are not
// for a group; an admin's is pointed to the private chat.
func (b *Bot) runGroupCommand(ctx context.Context, u *update) error {
	c := b.cmds.group[u.cmd]
	if c == nil {
		if p := b.cmds.private[u.cmd]; p != nil && p.who == admin {
			b.sendText(ctx, u.chatID, "/"+u.cmd+" 是管理员命令，请管理员私聊机器人使用。")
		}
		return nil // ordinary group chatter is not for us
	}
	switch c.who {
	case office:
		group, err := b.officeGroup(ctx)
		if err != nil {
			return err
		}
		if group != u.chatID {
			b.notTheOfficeGroup(ctx, u, group)
			return nil
		}
	case groupAdmin:
		if !b.isAdmin(u.userID) {
			b.sendText(ctx, u.chatID, "只有管理员可以设置工作群。")
			return nil
		}
	}
	return c.run(ctx, u)
}

// notTheOfficeGroup answers an office command sent in another group.
func (b *Bot) notTheOfficeGroup(ctx context.Context, u *update, group int64) {
	if group == 0 {
		b.sendText(ctx, u.chatID, "尚未设置市双拥办工作群。请管理员在工作群中发送 /setgroup。")
		return
	}
	b.sendText(ctx, u.chatID, "/"+u.cmd+" 只能在市双拥办工作群中使用。")
}

// onlyInOfficeGroup answers an office command sent in a private chat.
func (b *Bot) onlyInOfficeGroup(ctx context.Context, u *update) error {
	b.sendText(ctx, u.chatID, "/"+u.cmd+" 只能在市双拥办的工作群中使用。")
	return nil
}

// notAnAdmin answers an admin command sent by someone else.
func (b *Bot) notAnAdmin(ctx context.Context, u *update) error {
	b.sendText(ctx, u.chatID, "抱歉，/"+u.cmd+" 是管理员命令，您没有权限使用。如需管理单位，请联系市双拥办的管理员。")
	return nil
}

// unknownCommand answers a command the bot does not know.
func (b *Bot) unknownCommand(ctx context.Context, u *update) error {
	b.sendText(ctx, u.chatID, "不认识的命令 /"+u.cmd+"。发送 /help 查看可用命令。")
	return nil
}
