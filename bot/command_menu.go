package bot

import (
	"context"
	"time"

	"reportbot/bot/telegram"
)

// The command menus (setMyCommands), generated from the command table: the
// contacts' as the default, each admin's in their private chat, the office
// group's in the group (set again when /setgroup binds a group and when the
// group migrates).

// menuScope names a command menu.
type menuScope int

const (
	contactsMenu menuScope = iota // the default scope: every private chat
	adminMenu                     // an admin's private chat
	officeMenu                    // the office group
)

// shows reports whether the menu of scope lists the audience's commands.
func (s menuScope) shows(a audience) bool {
	switch s {
	case contactsMenu:
		return a == anyone || a == contact
	case adminMenu:
		return a == anyone || a == contact || a == admin
	}
	return a == office || a == anyGroup
}

// menu lists the commands of a menu scope.
func (t *commandTable) menu(scope menuScope) []telegram.Command {
	var cmds []telegram.Command
	for _, c := range t.list {
		if d := c.menuText(); d != "" && scope.shows(c.who) {
			cmds = append(cmds, telegram.Command{Command: c.name, Description: d})
		}
	}
	return cmds
}

// menuTimeout bounds a menu call made while an update is handled; the
// menu is a convenience and must not hold up the answer.
const menuTimeout = 10 * time.Second

// setMenus registers the default menu (the contacts') and each admin's,
// and the office group's when one is known. Only the default menu must be
// set: Telegram refuses an admin's menu until they have opened the chat
// with the bot (it is set again when they send a command), and the office
// group's is set again when an admin sends /setgroup.
func (b *Bot) setMenus(ctx context.Context) error {
	if err := b.tg.SetMyCommands(ctx, telegram.CommandScope{}, b.cmds.menu(contactsMenu)); err != nil {
		return err
	}
	for _, id := range b.cfg.AdminIDs {
		b.setAdminMenu(ctx, id)
	}
	group, err := b.officeGroup(ctx)
	if err != nil {
		b.log.Warn("office group menu not set", "err", err)
		return nil
	}
	if group != 0 {
		b.setOfficeMenu(ctx, group)
	}
	return nil
}

// setAdminMenu sets an admin's menu in their private chat; when Telegram
// refuses, the next command they send tries again.
func (b *Bot) setAdminMenu(ctx context.Context, id int64) {
	err := b.tg.SetMyCommands(ctx, telegram.ChatScope(id), b.cmds.menu(adminMenu))
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.log.Warn("admin menu not set", "chat_id", id, "err", b.redact(err))
		b.adminMenuMissing[id] = true
		return
	}
	delete(b.adminMenuMissing, id)
}

// retryAdminMenu sets an admin's menu if Setup could not.
func (b *Bot) retryAdminMenu(ctx context.Context, id int64) {
	b.mu.Lock()
	missing := b.adminMenuMissing[id]
	b.mu.Unlock()
	if missing {
		ctx, cancel := context.WithTimeout(ctx, menuTimeout)
		defer cancel()
		b.setAdminMenu(ctx, id)
	}
}

// setOfficeMenu sets the office group's menu in its chat.
func (b *Bot) setOfficeMenu(ctx context.Context, group int64) {
	if err := b.tg.SetMyCommands(ctx, telegram.ChatScope(group), b.cmds.menu(officeMenu)); err != nil {
		b.log.Warn("office group menu not set", "chat_id", group, "err", b.redact(err))
	}
}

// moveOfficeMenu moves the office group's menu from the group it was in
// (0: none) to the office group now.
func (b *Bot) moveOfficeMenu(ctx context.Context, from, to int64) {
	ctx, cancel := context.WithTimeout(ctx, menuTimeout)
	defer cancel()
	if from != 0 && from != to {
		if err := b.tg.DeleteMyCommands(ctx, telegram.ChatScope(from)); err != nil {
			b.log.Warn("former office group's menu not deleted", "chat_id", from, "err", b.redact(err))
		}
	}
	b.setOfficeMenu(ctx, to)
}

// bindOfficeGroup: /setgroup in a group makes it the office group, with
// the office group's menu.
func (b *Bot) bindOfficeGroup(ctx context.Context, u *update) error {
	prev, err := b.officeGroup(ctx)
	if err != nil {
		return err
	}
	if err := b.setGroup(ctx, u); err != nil {
		return err
	}
	b.moveOfficeMenu(ctx, prev, u.chatID)
	return nil
}

// followGroupMigration follows the office group to its new supergroup id,
// menu included.
func (b *Bot) followGroupMigration(ctx context.Context, oldID, newID int64) error {
	group, err := b.officeGroup(ctx)
	if err != nil {
		return err
	}
	if err := b.followMigration(ctx, oldID, newID); err != nil {
		return err
	}
	if group == oldID && newID != 0 {
		b.moveOfficeMenu(ctx, 0, newID)
	}
	return nil
}
