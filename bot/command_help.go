package bot

import (
	"context"
	"strings"
)

// /help, generated from the command table.

// The fixed parts of /help around the table's lines.
const (
	contactHelpHead = "填报联系人可用命令：\n"
	contactHelpTail = "\n\n填写时：直接发送答案；可点“上一题”返回、“跳过”跳过选填题、“取消”暂停。全部填完后会显示汇总，核对无误再提交；截止前可随时修改。"
	adminHelpHead   = "管理员命令（私聊机器人使用）：\n"
	officeBriefHead = "市双拥办工作群中可用："
	groupHelpHead   = "工作群中可用："
)

// usage is the command as help shows it: "/name args".
func (c *command) usage() string {
	if c.args == "" {
		return "/" + c.name
	}
	return "/" + c.name + " " + c.args
}

// menuText is the command's description in the menu, "" if it is not in
// the menu.
func (c *command) menuText() string {
	switch {
	case c.menu != "" || c.help == "":
		return c.menu
	case c.args != "":
		return c.args + " — " + c.help
	}
	return c.help
}

// writeHelp writes the help texts of each role from the table.
func (t *commandTable) writeHelp() {
	var contacts, admins, brief, group []string
	for _, c := range t.list {
		switch {
		case (c.who == anyone || c.who == contact) && c.help != "":
			contacts = append(contacts, c.usage()+" "+c.help)
		case c.who == admin && c.help != "":
			admins = append(admins, c.usage()+" — "+c.help)
		}
		if c.who.inGroup() && c.help != "" {
			group = append(group, c.usage()+" "+c.help)
		}
		if c.who == office && c.brief != "" {
			brief = append(brief, c.usage()+" "+c.brief)
		}
	}
	t.contactHelp = contactHelpHead + strings.Join(contacts, "\n") + contactHelpTail
	t.adminHelp = adminHelpHead + strings.Join(admins, "\n")
	t.officeBrief = officeBriefHead + strings.Join(brief, "，") + "。"
	t.groupHelp = groupHelpHead + strings.Join(group, "，") + "。"
}

// help: /help in a private chat explains the commands for the user's role.
func (b *Bot) help(ctx context.Context, u *update) error {
	s := b.cmds.contactHelp
	if b.isAdmin(u.userID) {
		s += "\n\n" + b.cmds.adminHelp
	}
	b.sendText(ctx, u.chatID, s+"\n\n"+b.cmds.officeBrief)
	return nil
}

// groupHelp: /help in a group lists the office group's commands.
func (b *Bot) groupHelp(ctx context.Context, u *update) error {
	b.sendText(ctx, u.chatID, b.cmds.groupHelp)
	return nil
}
