package bot

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// sendFile makes the user send a document with a caption in the private
// chat and returns the bot's answer.
func (h *harness) sendFile(u telegramtest.User, name string, content []byte, caption string) telegramtest.Message {
	h.t.Helper()
	if _, err := h.tg.Send(u, u.Chat(), telegramtest.Incoming{Document: &telegramtest.Attachment{Name: name, MIME: "text/csv", Content: content}, Caption: caption}); err != nil {
		h.t.Fatal(err)
	}
	h.settle()
	return h.last(u.ID)
}

// unitNames lists the store's units as name/category, removed ones marked.
func (h *harness) unitNames() []string {
	h.t.Helper()
	units, err := h.store.Units(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, u := range units {
		s := u.Name + "/" + u.Category
		if u.Removed {
			s += "/removed"
		}
		out = append(out, s)
	}
	return out
}

func TestAdminImport(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		sample, err := os.ReadFile("../flows/testdata/units-lvliang.csv")
		if err != nil {
			t.Fatal(err)
		}

		// Bad files: every problem by line, nothing imported.
		bad := []struct {
			name, data string
			want       []string
		}{
			{"BOM, wrong columns", "\ufeff单位,电话\n市教育局,123\n", []string{"第 1 行：表头中的“电话”", "第一行应为表头"}},
			{"duplicates and a bad category", "名称,类别\n市教育局,市直单位\n市公安局,机关\n市教育局,市直\n", []string{"2 处问题", "第 3 行：“市公安局”的类别“机关”不存在", "第 4 行：单位“市教育局”与第 2 行重复"}},
			{"an Excel workbook", "PK\x03\x04rest", []string{"Excel 工作簿"}},
			{"empty", "", []string{"文件是空的"}},
		}
		for _, tt := range bad {
			m := h.sendFile(h.admin, "units.csv", []byte(tt.data), "/import")
			wantText(t, m, append([]string{"导入失败"}, tt.want...)...)
			if got := h.unitNames(); len(got) != 0 {
				t.Fatalf("%s: units after a bad import = %v", tt.name, got)
			}
		}

		// Without a file: how to do it.
		wantText(t, h.say(h.admin, "/import"), "CSV", "名称,类别,联系人说明")

		// A non-admin's import is refused.
		eve := telegramtest.User{ID: 6601, FirstName: "Eve"}
		h.tg.AddUser(eve)
		wantText(t, h.sendFile(eve, "units.csv", sample, "/import"), "管理员命令")
		if got := h.unitNames(); len(got) != 0 {
			t.Fatalf("units after a non-admin's import = %v", got)
		}

		// The sample roster, in one step.
		m := h.sendFile(h.admin, "units-lvliang.csv", sample, "/import")
		wantText(t, m, "已导入 37 个单位（县市区 13 个，市直 13 个，团体 6 个，企业 2 个，部队 3 个）", "/invites")
		names := h.unitNames()
		if len(names) != 37 || names[0] != "离石区双拥工作领导小组/county" || names[36] != "驻吕某部/military" {
			t.Fatalf("units after import = %d: %v … %v", len(names), names[:1], names[len(names)-1:])
		}
		u, err := h.store.UnitByName(context.Background(), "离石区双拥工作领导小组")
		if err != nil || u.Note != "区退役军人事务局" {
			t.Errorf("imported unit = %+v, %v; want the 联系人说明 as note", u, err)
		}

		// Again, as a reply to the file: nothing changes.
		if _, err := h.tg.Send(h.admin, h.admin.Chat(), telegramtest.Incoming{Document: &telegramtest.Attachment{Name: "units-lvliang.csv", Content: sample}}); err != nil {
			t.Fatal(err)
		}
		h.settle()
		hist := h.tg.History(h.admin.ID)
		var fileMsg int
		for _, m := range hist {
			if !m.FromBot && m.Document != nil {
				fileMsg = m.MessageID
			}
		}
		if _, err := h.tg.Send(h.admin, h.admin.Chat(), telegramtest.Incoming{Text: "/import", ReplyTo: fileMsg}); err != nil {
			t.Fatal(err)
		}
		h.settle()
		wantText(t, h.last(h.admin.ID), "37 个单位都已存在，没有变化")
		if got := h.unitNames(); !slices.Equal(got, names) {
			t.Errorf("re-import changed the units")
		}

		// A file that adds one and repeats one; a name taken with another
		// category is refused.
		m = h.sendFile(h.admin, "more.csv", []byte("名称,类别\n市教育局,市直单位\n新单位甲,企业\n"), "/import")
		wantText(t, m, "已导入 1 个单位（企业 1 个）", "另有 1 个单位已存在")
		m = h.sendFile(h.admin, "clash.csv", []byte("名称,类别\n市教育局,县市区\n新单位乙,企业\n"), "/import")
		wantText(t, m, "第 2 行：单位“市教育局”已存在，类别为“市直单位”")
		if got := h.unitNames(); len(got) != 38 {
			t.Errorf("units after the clash = %d, want 38", len(got))
		}
	})
}

var linkPattern = inviteLink

func TestAdminInvites(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	wantText(t, h.say(h.admin, "/invites"), "所有单位都已绑定联系人")
	token := h.addUnit("离石区双拥工作领导小组", "县市区")
	h.bind(telegramtest.User{ID: 5201, FirstName: "甲"}, token)
	for i := range 3 {
		h.say(h.admin, fmt.Sprintf("/addunit 测试单位%d 市直", i+1))
	}
	// Few units: a message with a link each, for the unbound ones only.
	m := h.say(h.admin, "/invites")
	wantText(t, m, "3 个未绑定联系人的单位的邀请链接", "测试单位1：", "测试单位3：")
	if strings.Contains(m.Text, "离石区") {
		t.Errorf("/invites lists a unit that has a contact")
	}
	links := linkPattern.FindAllStringSubmatch(m.Text, -1)
	if len(links) != 3 {
		t.Fatalf("/invites gave %d links, want 3", len(links))
	}
	wantText(t, h.bind(telegramtest.User{ID: 5202, FirstName: "乙"}, links[0][1]), "绑定成功", "测试单位1")

	// Many units: a CSV file.
	var roster strings.Builder
	roster.WriteString("名称,类别\n")
	for i := range 25 {
		fmt.Fprintf(&roster, "=批量单位%02d,企业\n", i+1)
	}
	wantText(t, h.sendFile(h.admin, "r.csv", []byte(roster.String()), "/import"), "已导入 25 个单位")
	m = h.say(h.admin, "/invites")
	if m.Document == nil || !strings.HasSuffix(m.Document.Name, ".csv") {
		t.Fatalf("/invites for 27 units answered %q without a CSV file", m.Text)
	}
	wantText(t, m, "27 个未绑定联系人的单位")
	data := m.Document.Content
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatalf("invites CSV lacks the BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 28 || !slices.Equal(recs[0], []string{"名称", "类别", "联系人说明", "邀请链接"}) {
		t.Fatalf("invites CSV has %d records, header %q", len(recs), recs[0])
	}
	last := recs[len(recs)-1]
	if last[0] != "'=批量单位25" {
		t.Errorf("invites CSV name cell = %q, want the formula guard", last[0])
	}
	match := linkPattern.FindStringSubmatch(last[3])
	if match == nil {
		t.Fatalf("invites CSV link cell = %q", last[3])
	}
	wantText(t, h.bind(telegramtest.User{ID: 5203, FirstName: "丙"}, match[1]), "绑定成功", "=批量单位25")
}

func TestAdminRemoveAndRename(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setGroup()
	token := h.addUnit("示例企业甲", "企业")
	h.addUnit("示例企业乙", "企业")
	u := telegramtest.User{ID: 5301, FirstName: "丁"}
	h.bind(u, token)
	submitQuickly(h, u)

	wantText(t, h.say(h.admin, "/rmunit"), "用法")
	wantText(t, h.say(h.admin, "/rmunit 不存在的单位"), "找不到单位")
	m := h.say(h.admin, "/rmunit 示例企业甲")
	wantText(t, m, "确定删除单位“示例企业甲”", "已提交第 1 版")
	h.press(h.admin, "取消")
	wantText(t, h.last(h.admin.ID), "已取消")
	if got := h.unitNames(); slices.Contains(got, "示例企业甲/enterprise/removed") {
		t.Fatalf("cancel removed the unit")
	}
	// A non-admin cannot remove.
	eve := telegramtest.User{ID: 6602, FirstName: "Eve"}
	h.tg.AddUser(eve)
	wantText(t, h.say(eve, "/rmunit 示例企业甲"), "管理员命令")

	h.say(h.admin, "/rmunit 示例企业甲")
	m = h.press(h.admin, "确认删除")
	wantText(t, m, "已删除单位“示例企业甲”", "已通知 1 位联系人")
	wantText(t, h.last(u.ID), "移出本次填报")
	if got := h.unitNames(); !slices.Contains(got, "示例企业甲/enterprise/removed") {
		t.Fatalf("units after removal = %v", got)
	}
	ctx := context.Background()
	unit, _ := h.store.UnitByName(ctx, "示例企业甲")
	if reps, err := h.store.Reports(ctx, "", unit.ID); err != nil || len(reps) != 1 {
		t.Errorf("reports of the removed unit = %d, %v; want the archive kept", len(reps), err)
	}
	if cts, _ := h.store.Contacts(ctx, unit.ID); len(cts) != 0 {
		t.Errorf("removed unit still has %d contacts", len(cts))
	}
	wantText(t, h.say(u, "/report"), "还没有绑定")
	wantText(t, h.groupSay("/summary")[0], "已提交：0 / 1 个单位")
	wantText(t, h.say(h.admin, "/rmunit 示例企业甲"), "找不到单位")

	// Rename.
	for _, tt := range []struct{ cmd, want string }{
		{"/renameunit", "用法"},
		{"/renameunit 示例企业乙", "用法"},
		{"/renameunit 不存在 新名字", "找不到单位"},
		{"/renameunit 示例企业乙 示例企业乙", "相同"},
		{"/renameunit 示例企业乙 乙", "太短"},
		{"/renameunit 示例企业乙 乙,公司", "逗号"},
		{"/renameunit 示例企业乙 示例企业甲", "已被其他单位使用"},
	} {
		wantText(t, h.say(h.admin, tt.cmd), tt.want)
		if got := h.unitNames(); !slices.Contains(got, "示例企业乙/enterprise") {
			t.Fatalf("%s changed the units: %v", tt.cmd, got)
		}
	}
	wantText(t, h.say(h.admin, "/renameunit 示例企业乙 吕梁 示例 集团"), "已将“示例企业乙”改名为“吕梁 示例 集团”")
	wantText(t, h.say(h.admin, "/renameunit 吕梁 示例 集团 吕梁示例集团"), "改名为“吕梁示例集团”")
	if got := h.unitNames(); !slices.Contains(got, "吕梁示例集团/enterprise") {
		t.Errorf("units after rename = %v", got)
	}
}

func TestAdminReopen(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		h.setGroup()
		token := h.addUnit("离石区双拥工作领导小组", "县市区")
		h.addUnit("孝义市双拥工作领导小组", "县市区")
		u := telegramtest.User{ID: 5401, FirstName: "戊"}
		h.bind(u, token)
		submitQuickly(h, u)
		before := h.draftOf("离石区双拥工作领导小组")

		for _, tt := range []struct{ cmd, want string }{
			{"/reopen", "用法"},
			{"/reopen 不存在的单位 数据有误", "找不到单位"},
			{"/reopen 孝义市双拥工作领导小组 数据有误", "尚未提交报告"},
			{"/reopen 离石区双拥工作领导小组", "请写明退回原因"},
			{"/reopen 离石区双拥工作领导小组 veteran_cash", "请写明退回原因"},
			{"/reopen 离石区双拥工作领导小组 数据有误 99", "题目编号 99 不存在"},
			{"/reopen 离石区双拥工作领导小组 数据有误 local_projects", "不适用于"},
		} {
			wantText(t, h.say(h.admin, tt.cmd), tt.want)
			if d := h.draftOf("离石区双拥工作领导小组"); d.Rev != before.Rev || d.Status != flows.StatusSubmitted {
				t.Fatalf("%s changed the draft: status %s rev %d", tt.cmd, d.Status, d.Rev)
			}
		}
		eve := telegramtest.User{ID: 6603, FirstName: "Eve"}
		h.tg.AddUser(eve)
		wantText(t, h.say(eve, "/reopen 离石区双拥工作领导小组 数据有误"), "管理员命令")

		// After the deadline, by the question's number on the summary.
		h.clock.Set(time.Date(2022, 2, 12, 9, 0, 0, 0, cst))
		path := h.camp.Path("county", before.Answers)
		n := slices.IndexFunc(path, func(q *flows.Question) bool { return q.ID == "veteran_cash" }) + 1
		m := h.say(h.admin, fmt.Sprintf("/reopen 离石区双拥工作领导小组 慰问金与附件不符，请核对 %d", n))
		wantText(t, m, "已将“离石区双拥工作领导小组”的第 1 版报告退回修改", "慰问金与附件不符，请核对", fmt.Sprintf("第 %d 题 发放慰问金（万元）", n), "已通知 1 位联系人")
		d := h.draftOf("离石区双拥工作领导小组")
		if d.Status != flows.StatusReturned || d.Returned == nil || d.Returned.Question != "veteran_cash" || d.Returned.By != h.admin.ID {
			t.Fatalf("draft after /reopen = status %s, returned %+v", d.Status, d.Returned)
		}
		wantText(t, h.last(u.ID), "退回", "慰问金与附件不符，请核对", "发放慰问金")
		wantText(t, h.last(h.group.ID), "已退回修改")
		wantText(t, h.say(h.admin, "/reopen 离石区双拥工作领导小组 再次退回"), "已处于退回修改状态")

		// The office sees 退回修改 everywhere.
		wantText(t, h.groupSay("/summary")[0], "退回修改：1 个 — 离石区双拥工作领导小组")
		wantText(t, h.groupSay("/pending")[0], "离石区双拥工作领导小组 — 退回修改（原因：慰问金与附件不符，请核对）")

		// The contact lands on the flagged question, corrects it and
		// resubmits after the deadline.
		h.press(u, "开始修改")
		h.expectQuestion(u, "veteran_cash")
		h.say(u, "1.5")
		m = h.press(u, "确认提交")
		wantText(t, m, "SY-2022-0001-2")
		d = h.draftOf("离石区双拥工作领导小组")
		if d.Status != flows.StatusSubmitted || d.Version != 2 || d.Answers["veteran_cash"].Num != 150 {
			t.Errorf("after resubmission: status %s version %d veteran_cash %d", d.Status, d.Version, d.Answers["veteran_cash"].Num)
		}
		wantText(t, h.groupSay("/summary")[0], "已提交：1 / 2 个单位")
	})
}

func TestAdminDeadline(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setGroup()
	ctx := context.Background()
	for _, tt := range []struct{ cmd, want string }{
		{"/deadline", "当前截止时间：2022年2月10日 18:00"},
		{"/deadline 明天", "无法识别"},
		{"/deadline 2022-02-30 18:00", "无法识别"},
		{"/deadline 2022-02-15", "无法识别"},
		{"/deadline 2022-01-19 18:00", "已经过去"},
		{"/deadline 2022-02-10 18:00", "本来就是"},
	} {
		wantText(t, h.say(h.admin, tt.cmd), tt.want)
		if d, _ := h.svc.Deadline(ctx); !d.Equal(h.camp.Deadline) {
			t.Fatalf("%s changed the deadline to %v", tt.cmd, d)
		}
	}
	eve := telegramtest.User{ID: 6604, FirstName: "Eve"}
	h.tg.AddUser(eve)
	wantText(t, h.say(eve, "/deadline 2022-02-15 18:00"), "管理员命令")

	m := h.say(h.admin, "/deadline 2022年2月15日 17:30")
	wantText(t, m, "截止时间已修改：2022年2月10日 18:00 → 2022年2月15日 17:30（北京时间）")
	want := time.Date(2022, 2, 15, 17, 30, 0, 0, cst)
	if d, err := h.svc.Deadline(ctx); err != nil || !d.Equal(want) {
		t.Errorf("deadline = %v, %v; want %v", d, err, want)
	}
	wantText(t, h.last(h.group.ID), "截止时间已修改")
	wantText(t, h.say(h.admin, "/deadline 2022-02-20 18：00"), "2022年2月15日 17:30 → 2022年2月20日 18:00")
}

// TestOfficeAdminCommandsRefused: a non-admin's admin commands are refused
// and change nothing.
func TestOfficeAdminCommandsRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.addUnit("示例企业甲", "企业")
	eve := telegramtest.User{ID: 6605, FirstName: "Eve"}
	h.tg.AddUser(eve)
	invites := h.tg.Calls("sendMessage")
	for _, cmd := range []string{"/import", "/invites", "/rmunit 示例企业甲", "/renameunit 示例企业甲 新名称", "/reopen 示例企业甲 数据有误", "/deadline 2022-03-01 18:00", "/remind", "/digest", "/reminders off"} {
		wantText(t, h.say(eve, cmd), "管理员命令")
	}
	if got := h.unitNames(); !slices.Equal(got, []string{"示例企业甲/enterprise"}) {
		t.Errorf("units after refused commands = %v", got)
	}
	if d, _ := h.svc.Deadline(context.Background()); !d.Equal(h.camp.Deadline) {
		t.Errorf("deadline after refused commands = %v", d)
	}
	if n := h.tg.Calls("sendMessage") - invites; n != 9 {
		t.Errorf("%d messages for 9 refused commands", n)
	}
}
