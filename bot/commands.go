package bot

import (
	"context"
	"fmt"

	"reportbot/flows"
)

// The command table: every command the bot knows, who may use it where,
// its handler and its one line of help. The dispatch (command_route.go),
// /help (command_help.go) and the menus (command_menu.go) are generated
// from it, so adding a command is one entry here and its handler.

// audience says who may use a command, and in which kind of chat.
type audience uint8

const (
	// anyone in a private chat; the handler answers a stranger too.
	anyone audience = iota + 1
	// contact: a unit's bound contact in a private chat. The handler (or
	// the engine) checks the binding and tells anyone else how to bind,
	// so the dispatch lets everyone through.
	contact
	// admin: a user in ADMIN_IDS, in a private chat.
	admin
	// office: any member of the office group, in it.
	office
	// anyGroup: anyone in any group.
	anyGroup
	// groupAdmin: an admin in a group, which need not be the office group
	// yet (/setgroup makes it so).
	groupAdmin
)

// inGroup reports whether the audience's commands are sent in groups.
func (a audience) inGroup() bool { return a >= office }

// handler runs one command (or one answer) for an update.
type handler = func(context.Context, *update) error

// command is one entry of the table. A name has at most one entry for
// private chats and one for groups.
type command struct {
	name string
	who  audience
	args string // the arguments as help shows them ("名称 类别"); "" if none
	// help is the line of help the audience's /help gives (after the
	// command and its args); "" leaves the command out of /help and, unless
	// menu is set, out of the menu.
	help string
	// brief is the shorter help a private chat's /help lists the office
	// group's commands with; "" leaves it out there.
	brief string
	menu  string // the menu's description when it is not args and help
	// input marks a form input: the engine's transitions make it take
	// effect once, so it runs without claiming the update.
	input bool
	run   handler
}

// commandList is the table. Its order is the order of /help and of the
// menus.
func (b *Bot) commandList() []command {
	return []command{
		// The contacts' commands.
		{name: "report", who: contact, help: "开始或继续填报", input: true, run: b.formCommand},
		{name: "status", who: contact, help: "查看本单位填报状态", input: true, run: b.formCommand},
		{name: "cancel", who: contact, help: "暂停填报（已填内容会保存）", input: true, run: b.formCommand},
		{name: "handover", who: contact, help: "将本单位交接给同事", run: b.handover},
		{name: "template", who: contact, help: "下载 Excel 填报模板（填好后发回，一次填完）", menu: "下载 Excel 填报模板（填好后发回即可）", run: b.contactTemplate},
		{name: "help", who: anyone, menu: "使用说明", run: b.help},
		// /start with an invite token binds before the dispatch (handlePrivate).
		{name: "start", who: anyone, run: b.startWithoutToken},

		// The admins' commands, in their private chat.
		{name: "addunit", who: admin, args: "名称 类别", help: "添加单位（类别：县市区 / 市直单位 / 人民团体 / 企业 / 部队）", run: b.addUnit},
		{name: "import", who: admin, help: "随 CSV 文件发送（或回复 CSV 文件），批量导入单位（列：名称,类别,联系人说明）", run: b.importUnits},
		{name: "invite", who: admin, args: "名称", help: "生成该单位的邀请链接", run: b.invite},
		{name: "invites", who: admin, help: "导出所有未绑定单位的邀请链接", run: b.invites},
		{name: "revoke", who: admin, args: "名称 [联系人]", help: "作废该单位未使用的邀请链接；写联系人时移除该联系人", run: b.revoke},
		{name: "units", who: admin, help: "单位列表及填报状态", run: b.listUnits},
		{name: "rmunit", who: admin, args: "名称", help: "删除单位（已提交的报告保留存档）", run: b.rmUnit},
		{name: "renameunit", who: admin, args: "旧名称 新名称", help: "修改单位名称", run: b.renameUnit},
		{name: "reopen", who: admin, args: "名称 原因 [题号]", help: "退回报告修改", run: b.reopen},
		{name: "deadline", who: admin, args: "2022-02-10 18:00", help: "修改截止时间（北京时间）", run: b.setDeadline},
		{name: "remind", who: admin, help: "立即发送一轮提醒", run: b.remindCommand},
		{name: "digest", who: admin, help: "立即向工作群发送进度简报", run: b.digestCommand},
		{name: "reminders", who: admin, args: "on|off", help: "开启或停止截止后的提醒", run: b.remindersCommand},
		{name: "campaigns", who: admin, help: "填报活动列表（编号、截止时间、进度，哪个正在填报）", run: b.listCampaigns},
		{name: "newcampaign", who: admin, help: "随活动文件（YAML）发送（或回复该文件），开启新的填报活动（当前活动停止填报，数据保留）", run: b.newCampaign},
		{name: "setgroup", who: admin, help: "在工作群中发送，把该群设为市双拥办工作群", run: b.setGroupHint},

		// The office group's commands.
		{name: "summary", who: office, help: "进度与合计", brief: "进度与合计", run: b.summary},
		{name: "pending", who: office, help: "未报单位", brief: "未报单位", run: b.pending},
		{name: "export", who: office, help: "导出报表（/export csv 导出 CSV）", brief: "导出报表", run: b.export},
		{name: "docs", who: office, args: "单位名称", help: "查看该单位材料", brief: "查看材料", run: b.docs},
		{name: "template", who: office, args: "[单位名称]", help: "下载填报模板", run: b.officeTemplate},
		{name: "help", who: anyGroup, menu: "使用说明", run: b.groupHelp},
		{name: "setgroup", who: groupAdmin, run: b.bindOfficeGroup},
	}
}

// commandTable is the table indexed by name, with its help texts.
type commandTable struct {
	list    []command
	private map[string]*command // commands sent in private chats
	group   map[string]*command // commands sent in groups

	contactHelp string // /help in a private chat, for everyone
	adminHelp   string // what /help adds for an admin
	officeBrief string // the office group's commands, as a private /help lists them
	groupHelp   string // /help in a group
}

// newCommandTable indexes list; a name with two entries for the same kind
// of chat is a programming error.
func newCommandTable(list []command) *commandTable {
	t := &commandTable{list: list, private: map[string]*command{}, group: map[string]*command{}}
	for i := range list {
		c := &list[i]
		index := t.private
		if c.who.inGroup() {
			index = t.group
		}
		if index[c.name] != nil {
			panic(fmt.Sprintf("command /%s has two entries for the same kind of chat", c.name))
		}
		index[c.name] = c
	}
	t.writeHelp()
	return t
}

// formCommand: /report, /status and /cancel are inputs of the form.
func (b *Bot) formCommand(ctx context.Context, u *update) error {
	return b.contactInput(ctx, u, flows.Input{Cmd: u.cmd})
}

// setGroupHint: /setgroup in a private chat says where to send it.
func (b *Bot) setGroupHint(ctx context.Context, u *update) error {
	b.sendText(ctx, u.chatID, "请在市双拥办工作群中发送 /setgroup（先把机器人拉进群）。")
	return nil
}
