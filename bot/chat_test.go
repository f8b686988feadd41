package bot

import (
	"context"
	"strings"
	"testing"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// TestPressedButtonsAreRemoved: pressing a button answers the callback and
// removes the keyboard of that message, so it cannot be pressed twice.
func TestPressedButtonsAreRemoved(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	token := h.addUnit("兴县双拥工作领导小组", "县市区")
	u := telegramtest.User{ID: 5501, FirstName: "丁"}
	greeting := h.bind(u, token)
	id, err := h.tg.Press(u, u.ID, greeting.MessageID, flows.DataGo)
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	if cb, ok := h.tg.Callback(id); !ok || !cb.Answered {
		t.Errorf("callback query %d was not answered", id)
	}
	for _, m := range h.tg.Messages(u.ID) {
		if m.MessageID == greeting.MessageID && len(m.Keyboard) > 0 {
			t.Errorf("the pressed message still has buttons: %v", m.Keyboard)
		}
	}
	if _, err := h.tg.Press(u, u.ID, greeting.MessageID, flows.DataGo); err == nil {
		t.Errorf("an old button could be pressed again")
	}
	h.expectQuestion(u, "filler_name")

	// A button of an old question (kept by a client that has not yet
	// seen the edit) does nothing harmful.
	q1 := h.last(u.ID)
	cancel := ""
	for _, b := range q1.Buttons() {
		if b.Text == "取消" {
			cancel = b.Data
		}
	}
	h.fill(u, "filler_name", "赵六")
	h.fill(u, "filler_phone", "13800001111")
	before := h.draftOf("兴县双拥工作领导小组")
	if _, err := h.tg.Press(u, u.ID, q1.MessageID, cancel); err == nil {
		h.settle()
	}
	after := h.draftOf("兴县双拥工作领导小组")
	if after.Rev != before.Rev || after.Cursor != before.Cursor {
		t.Errorf("an old button changed the draft: %q→%q", before.Cursor, after.Cursor)
	}
}

// TestStatusHelpAndAlreadyBound covers the contact's other commands.
func TestStatusHelpAndAlreadyBound(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	t1 := h.addUnit("临县双拥工作领导小组", "县市区")
	t2 := h.addUnit("市总工会", "人民团体")
	u := telegramtest.User{ID: 5601, FirstName: "戊"}
	h.bind(u, t1)
	wantText(t, h.say(u, "/status"), "未开始")
	h.say(u, "/report")
	h.fill(u, "filler_name", "钱七")
	wantText(t, h.say(u, "/status"), "1/")
	wantText(t, h.say(u, "/help"), "/report", "/status", "/handover")
	wantText(t, h.say(u, "/cancel"), "/report")
	wantText(t, h.say(u, "/start "+t2), "只能绑定一个单位")
	ct, err := h.store.Contact(context.Background(), u.ID)
	if err != nil || ct.UnitID != h.draftOf("临县双拥工作领导小组").UnitID {
		t.Fatalf("a second invite moved the contact: %+v %v", ct, err)
	}
	// A unit may have several contacts, working on one draft.
	v := telegramtest.User{ID: 5602, FirstName: "己"}
	h.bind(v, h.invite("临县双拥工作领导小组"))
	h.say(v, "/report")
	h.expectQuestion(v, "filler_phone")
	h.fill(v, "filler_phone", "13800002222")
	if d := h.draftOf("临县双拥工作领导小组"); d.Answers["filler_name"].Text != "钱七" || d.Answers["filler_phone"].Text == "" {
		t.Errorf("two contacts do not share the unit's draft: %+v", d.Answers)
	}
}

// TestHandover: the old contact keeps access until the colleague binds,
// then loses it; both are told, and the draft goes on.
func TestHandover(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	token := h.addUnit("柳林县双拥工作领导小组", "县市区")
	old := telegramtest.User{ID: 5701, FirstName: "老"}
	h.bind(old, token)
	h.say(old, "/report")
	h.fill(old, "filler_name", "孙八")
	m := h.say(old, "/handover")
	match := inviteLink.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("/handover answered %q, want a link", m.Text)
	}
	// Until the colleague binds, the old contact still works.
	h.say(old, "/report")
	h.fill(old, "filler_phone", "13800003333")
	colleague := telegramtest.User{ID: 5702, FirstName: "新"}
	wantText(t, h.bind(colleague, match[1]), "前任联系人已收到交接通知")
	if _, err := h.tg.WaitText(context.Background(), colleague.ID, "绑定成功"); err != nil {
		t.Fatal(err)
	}
	wantText(t, h.last(old.ID), "不再是")
	wantText(t, h.say(old, "5"), "还没有绑定")
	h.say(colleague, "/report")
	h.expectQuestion(colleague, "essays")
	if d := h.draftOf("柳林县双拥工作领导小组"); d.Answers["filler_name"].Text != "孙八" {
		t.Errorf("handover lost the draft: %+v", d.Answers)
	}
}

// TestOfficeGroupMigration: when the office group becomes a supergroup,
// posts follow it to its new id.
func TestOfficeGroupMigration(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setGroup()
	const newID = -1001234567890
	h.tg.MigrateGroup(h.group.ID, newID)
	h.settle()
	v, err := h.store.Setting(context.Background(), flows.SettingOfficeGroup)
	if err != nil || v != "-1001234567890" {
		t.Fatalf("office group after migration = %q, %v; want %d", v, err, int64(newID))
	}
	// A submission is posted in the supergroup.
	token := h.addUnit("石楼县双拥工作领导小组", "县市区")
	u := telegramtest.User{ID: 5801, FirstName: "庚"}
	h.bind(u, token)
	submitQuickly(h, u)
	if _, err := h.tg.WaitText(context.Background(), newID, "新提交"); err != nil {
		t.Fatal(err)
	}
}

// submitQuickly fills a county unit's form with zeros and submits.
func submitQuickly(h *harness, u telegramtest.User) {
	h.t.Helper()
	h.say(u, "/report")
	for i := 0; i < 80; i++ {
		q := h.currentQuestion(u)
		switch q {
		case "":
			if strings.Contains(h.last(u.ID).Text, "确认提交") || hasButton(h.last(u.ID), "确认提交") {
				h.press(u, "确认提交")
				return
			}
			h.t.Fatalf("lost in the form: %q", h.last(u.ID).Text)
		case "filler_name":
			h.say(u, "测试员")
		case "filler_phone":
			h.say(u, "13900000000")
		case "summary_text":
			h.say(u, "已完成走访慰问。")
		case "highlights", "suggestions", "photos":
			h.press(u, "跳过")
		case "report_doc":
			h.upload(u, "报告.pdf", "application/pdf", pdfBytes)
		default:
			h.say(u, "0")
		}
	}
	h.t.Fatalf("form did not end")
}

func hasButton(m telegramtest.Message, label string) bool {
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, label) {
			return true
		}
	}
	return false
}
