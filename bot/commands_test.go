package bot

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"reportbot/bot/telegram"
	"reportbot/bot/telegramtest"
)

// The /help texts as the bot sent them before they were generated from the
// command table; the table must still produce them byte for byte.
const (
	wantContactHelp = "填报联系人可用命令：\n/report 开始或继续填报\n/status 查看本单位填报状态\n/cancel 暂停填报（已填内容会保存）\n/handover 将本单位交接给同事\n/template 下载 Excel 填报模板（填好后发回，一次填完）\n\n填写时：直接发送答案；可点“上一题”返回、“跳过”跳过选填题、“取消”暂停。全部填完后会显示汇总，核对无误再提交；截止前可随时修改。"
	wantAdminHelp   = `管理员命令（私聊机器人使用）：
/addunit 名称 类别 — 添加单位（类别：县市区 / 市直单位 / 人民团体 / 企业 / 部队）
/import — 随 CSV 文件发送（或回复 CSV 文件），批量导入单位（列：名称,类别,联系人说明）
/invite 名称 — 生成该单位的邀请链接
/invites — 导出所有未绑定单位的邀请链接
/revoke 名称 [联系人] — 作废该单位未使用的邀请链接；写联系人时移除该联系人
/units — 单位列表及填报状态
/rmunit 名称 — 删除单位（已提交的报告保留存档）
/renameunit 旧名称 新名称 — 修改单位名称
/reopen 名称 原因 [题号] — 退回报告修改
/deadline 2022-02-10 18:00 — 修改截止时间（北京时间）
/remind — 立即发送一轮提醒
/digest — 立即向工作群发送进度简报
/reminders on|off — 开启或停止截止后的提醒
/campaigns — 填报活动列表（编号、截止时间、进度，哪个正在填报）
/newcampaign — 随活动文件（YAML）发送（或回复该文件），开启新的填报活动（当前活动停止填报，数据保留）
/setgroup — 在工作群中发送，把该群设为市双拥办工作群`
	wantOfficeInPrivate = "\n\n市双拥办工作群中可用：/summary 进度与合计，/pending 未报单位，/export 导出报表，/docs 单位名称 查看材料。"
	wantGroupHelp       = "工作群中可用：/summary 进度与合计，/pending 未报单位，/export 导出报表（/export csv 导出 CSV），/docs 单位名称 查看该单位材料，/template [单位名称] 下载填报模板。"
)

// TestHelpTexts: /help tells each role its commands, in the words it
// always used.
func TestHelpTexts(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	stranger := telegramtest.User{ID: 5701, FirstName: "庚"}
	h.tg.AddUser(stranger)
	contact := telegramtest.User{ID: 5702, FirstName: "辛"}
	h.bind(contact, h.addUnit("柳林县双拥工作领导小组", "县市区"))
	other := telegramtest.Chat{ID: -200800, Type: telegramtest.ChatGroup, Title: "闲聊群"}
	h.tg.AddGroup(other)
	h.setGroup()
	for _, tt := range []struct {
		who  string
		send func() telegramtest.Message
		want string
	}{
		{"a stranger", func() telegramtest.Message { return h.say(stranger, "/help") }, wantContactHelp + wantOfficeInPrivate},
		{"a contact", func() telegramtest.Message { return h.say(contact, "/help") }, wantContactHelp + wantOfficeInPrivate},
		{"an admin", func() telegramtest.Message { return h.say(h.admin, "/help") }, wantContactHelp + "\n\n" + wantAdminHelp + wantOfficeInPrivate},
		{"the office group", func() telegramtest.Message { return h.sayGroup(h.member, h.group, "/help") }, wantGroupHelp},
		{"another group", func() telegramtest.Message { return h.sayGroup(h.member, other, "/help") }, wantGroupHelp},
	} {
		if got := tt.send().Text; got != tt.want {
			t.Errorf("/help from %s =\n%s\nwant\n%s", tt.who, got, tt.want)
		}
	}
}

// TestCommandAnswers: the answers the dispatch gives instead of running a
// command (not allowed here, unknown), and the commands that run.
func TestCommandAnswers(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	contact := telegramtest.User{ID: 5711, FirstName: "壬"}
	h.bind(contact, h.addUnit("中阳县双拥工作领导小组", "县市区"))
	other := telegramtest.Chat{ID: -200900, Type: telegramtest.ChatGroup, Title: "闲聊群"}
	h.tg.AddGroup(other)
	for _, tt := range []struct {
		who  telegramtest.User
		chat *telegramtest.Chat // nil: the user's private chat
		text string
		want string
	}{
		{contact, nil, "/units", "抱歉，/units 是管理员命令，您没有权限使用。如需管理单位，请联系市双拥办的管理员。"},
		{contact, nil, "/setgroup", "抱歉，/setgroup 是管理员命令，您没有权限使用。如需管理单位，请联系市双拥办的管理员。"},
		{contact, nil, "/summary", "/summary 只能在市双拥办的工作群中使用。"},
		{contact, nil, "/nosuch", "不认识的命令 /nosuch。发送 /help 查看可用命令。"},
		{h.admin, nil, "/setgroup", "请在市双拥办工作群中发送 /setgroup（先把机器人拉进群）。"},
		{h.admin, nil, "/start", "您好，管理员！发送 /help 查看管理命令。"},
		{h.member, &h.group, "/summary", "尚未设置市双拥办工作群。请管理员在工作群中发送 /setgroup。"},
		{h.member, &h.group, "/setgroup", "只有管理员可以设置工作群。"},
		{h.admin, &h.group, "/setgroup", "已将本群设为市双拥办工作群。各单位提交或修改报告后会在本群通知；可在本群使用 /summary、/pending、/export、/docs。"},
		{h.member, &other, "/template", "/template 只能在市双拥办工作群中使用。"},
		{h.member, &h.group, "/units", "/units 是管理员命令，请管理员私聊机器人使用。"},
		{h.admin, &other, "/reopen x y", "/reopen 是管理员命令，请管理员私聊机器人使用。"},
	} {
		var m telegramtest.Message
		if tt.chat == nil {
			m = h.say(tt.who, tt.text)
		} else {
			m = h.sayGroup(tt.who, *tt.chat, tt.text)
		}
		if m.Text != tt.want {
			t.Errorf("%s from %s = %q, want %q", tt.text, tt.who.FirstName, m.Text, tt.want)
		}
	}
	// Contact commands and chatter in a group are not for the bot.
	before := len(h.tg.Messages(other.ID))
	for _, text := range []string{"/report", "/status", "/start", "/nosuch", "你好"} {
		h.sayGroup(contact, other, text)
	}
	if n := len(h.tg.Messages(other.ID)) - before; n != 0 {
		t.Errorf("%d answers to contact commands and chatter in a group, want none", n)
	}
}

// menu returns the commands of a menu as the fake Bot API holds it.
func menu(cmds []telegramtest.Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Command)
	}
	return out
}

// TestCommandMenus: Setup registers the contacts' menu as the default, each
// admin's own menu in their private chat and the office group's menu in
// it; /setgroup and a migration move the office group's menu.
func TestCommandMenus(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	contacts := []string{"report", "status", "cancel", "handover", "template", "help"}
	admin := append(slices.Clone(contacts), "addunit", "import", "invite", "invites", "revoke", "units", "rmunit", "renameunit", "reopen", "deadline", "remind", "digest", "reminders", "campaigns", "newcampaign", "setgroup")
	office := []string{"summary", "pending", "export", "docs", "template", "help"}
	chat := func(id int64) telegramtest.CommandScope { return telegramtest.CommandScope{Type: "chat", ChatID: id} }
	check := func(when string, scope telegramtest.CommandScope, want []string) {
		t.Helper()
		if got := menu(h.tg.CommandsFor(scope, "")); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: menu of %+v = %v, want %v", when, scope, got, want)
		}
	}
	check("after Setup", telegramtest.CommandScope{}, contacts)
	check("after Setup", chat(h.admin.ID), admin)
	check("no office group yet", chat(h.group.ID), nil)
	if got := h.tg.CommandsFor(telegramtest.CommandScope{}, ""); got[0].Description != "开始或继续填报" {
		t.Errorf("the default menu's /report = %q, want 开始或继续填报", got[0].Description)
	}

	h.setGroup()
	check("after /setgroup", chat(h.group.ID), office)
	check("after /setgroup", telegramtest.CommandScope{}, contacts)

	moved := telegramtest.Chat{ID: -100600, Type: telegramtest.ChatGroup, Title: "新工作群"}
	h.tg.AddGroup(moved)
	h.sayGroup(h.admin, moved, "/setgroup")
	check("after /setgroup in another group", chat(moved.ID), office)
	check("after /setgroup in another group", chat(h.group.ID), nil)

	// A restart registers the stored office group's menu.
	if err := h.bot.tg.DeleteMyCommands(context.Background(), telegram.ChatScope(moved.ID)); err != nil {
		t.Fatal(err)
	}
	h.restart()
	check("after a restart", chat(moved.ID), office)
	check("after a restart", chat(h.admin.ID), admin)

	// The menu follows the office group to its supergroup.
	const super = -1001234500600
	h.tg.MigrateGroup(moved.ID, super)
	h.settle()
	check("after a migration", chat(super), office)
}

// TestCommandTable: a command name has one entry per kind of chat, every
// entry has a handler, and what the menus show is valid for Telegram.
func TestCommandTable(t *testing.T) {
	b := &Bot{}
	list := b.commandList()
	seen := map[string]bool{}
	for _, c := range list {
		key := c.name
		if c.who.inGroup() {
			key += " in a group"
		}
		if seen[key] {
			t.Errorf("command /%s has two entries", key)
		}
		seen[key] = true
		if c.run == nil {
			t.Errorf("command /%s has no handler", key)
		}
		if c.name != strings.ToLower(c.name) || len(c.name) > 32 {
			t.Errorf("command /%s is not a valid Telegram command", c.name)
		}
		if d := c.menuText(); len(utf16.Encode([]rune(d))) > 256 {
			t.Errorf("menu description of /%s is %d long: %q", c.name, len(d), d)
		}
	}
	table := newCommandTable(list)
	for _, scope := range []menuScope{contactsMenu, adminMenu, officeMenu} {
		if n := len(table.menu(scope)); n == 0 || n > 100 {
			t.Errorf("menu %v has %d commands", scope, n)
		}
	}
}

// TestAdminMenuRetried: when Telegram refuses an admin's menu (they have not
// opened the chat with the bot yet), their next command sets it.
func TestAdminMenuRetried(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	scope := telegramtest.CommandScope{Type: "chat", ChatID: h.admin.ID}
	ctx := context.Background()
	if err := h.bot.tg.DeleteMyCommands(ctx, telegram.ChatScope(h.admin.ID)); err != nil {
		t.Fatal(err)
	}
	h.tg.FailNext("setMyCommands", 400, 0)
	h.bot.setAdminMenu(ctx, h.admin.ID)
	if got := h.tg.CommandsFor(scope, ""); len(got) != 0 {
		t.Fatalf("admin menu after a refused setMyCommands = %v, want none", menu(got))
	}
	wantText(t, h.say(h.admin, "/start"), "管理员")
	if got := menu(h.tg.CommandsFor(scope, "")); len(got) == 0 || got[len(got)-1] != "setgroup" {
		t.Errorf("admin menu after their /start = %v, want the admin commands", got)
	}
	calls := h.tg.Calls("setMyCommands")
	h.say(h.admin, "/units")
	if n := h.tg.Calls("setMyCommands") - calls; n != 0 {
		t.Errorf("%d setMyCommands calls for a command once the menu is set, want 0", n)
	}
}
