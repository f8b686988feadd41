package bot

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/flows/flowstest"
)

// The scheduler's admin commands end to end (the scheduler itself is tested
// in reportbot/remind), and the helpers that set units up directly in the
// store for them and the office's tests: the clock is the harness's (or a
// fixed time): no test waits for a wall-clock time.

// at is a time of the 2022 campaign in China Standard Time.
func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2022, month, day, hour, minute, 0, 0, cst)
}

// schedUnit is a unit set up directly in the store, with its contacts.
type schedUnit struct {
	flows.Unit
	users []telegramtest.User
}

// addDirect adds a unit with n bound contacts (flowstest.AddUnit), known
// to the fake Bot API.
func addDirect(t testing.TB, st flows.Store, tg *telegramtest.Server, name, category string, n int, now time.Time) schedUnit {
	t.Helper()
	u, cts := flowstest.AddUnit(t, st, name, category, n, now)
	su := schedUnit{Unit: u}
	for _, ct := range cts {
		usr := telegramtest.User{ID: ct.ID, FirstName: ct.Name}
		tg.AddUser(usr)
		su.users = append(su.users, usr)
	}
	return su
}

// isReminder tells a reminder from other messages: it has the "go" button.
func isReminder(m telegramtest.Message) bool {
	return slices.ContainsFunc(m.Buttons(), func(b telegramtest.Button) bool { return b.Data == flows.ReminderButton }) &&
		strings.Contains(m.Text, "提醒")
}

// reminders returns the reminders the bot sent to a user.
func reminders(tg *telegramtest.Server, userID int64) []telegramtest.Message {
	var out []telegramtest.Message
	for _, m := range tg.Messages(userID) {
		if isReminder(m) {
			out = append(out, m)
		}
	}
	return out
}

// roundLines returns the round reports in the office group.
func roundLines(tg *telegramtest.Server, group int64) []string {
	var out []string
	for _, m := range tg.Messages(group) {
		if strings.HasPrefix(m.Text, "⏰") {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestAdminSchedCommands: /remind asks to confirm with the number of units
// and runs the round in the background (once, however often it is
// confirmed); /digest posts a digest now; /reminders on|off.
func TestAdminSchedCommands(t *testing.T) {
	h := newHarness(t, harnessOptions{now: at(2, 8, 15, 42)})
	st, tg, c := h.store, h.tg, h.camp
	flowstest.SetOfficeGroup(t, st, h.group.ID)
	a := addDirect(t, st, tg, "离石区双拥工作领导小组", "county", 1, h.clock.Now())
	b := addDirect(t, st, tg, "市民政局", "department", 2, h.clock.Now())
	done := addDirect(t, st, tg, "市财政局", "department", 1, h.clock.Now())
	flowstest.Submit(t, st, c, b.Unit, at(2, 1, 10, 0))
	flowstest.Return(t, st, b.Unit, "请补充照片", at(2, 2, 10, 0))
	flowstest.Submit(t, st, c, done.Unit, at(2, 8, 10, 0))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	m := h.say(h.admin, "/remind")
	wantText(t, m, "当前有 2 个单位尚未提交（其中 1 个退回修改）")
	if btns := m.Buttons(); len(btns) != 2 || btns[0].Data != "adm:remind:m202202081542" {
		t.Fatalf("/remind buttons = %v, want confirm (adm:remind:m202202081542) and cancel", btns)
	}
	h.press(h.admin, "确认发送")
	if _, err := tg.WaitText(ctx, h.admin.ID, "管理员手动提醒（2月8日 15:42）：已向 2 个单位发送提醒"); err != nil {
		t.Fatalf("admin not told the round's result: %v", err)
	}
	for _, usr := range append(append([]telegramtest.User{}, a.users...), b.users...) {
		if got := len(reminders(tg, usr.ID)); got != 1 {
			t.Errorf("user %d got %d reminders, want 1", usr.ID, got)
		}
	}
	if got := len(reminders(tg, done.users[0].ID)); got != 0 {
		t.Errorf("the submitted unit got %d reminders, want 0", got)
	}
	if lines := roundLines(tg, h.group.ID); len(lines) != 1 || !strings.Contains(lines[0], "管理员手动提醒") {
		t.Errorf("office group lines = %q, want the admin round's", lines)
	}

	// The same round confirmed again (a second /remind in the same minute):
	// nothing is sent twice.
	h.say(h.admin, "/remind")
	h.press(h.admin, "确认发送")
	if _, err := tg.WaitText(ctx, h.admin.ID, "这一轮提醒已经发送过"); err != nil {
		t.Fatalf("second confirmation: %v", err)
	}
	if got := len(reminders(tg, a.users[0].ID)); got != 1 {
		t.Errorf("after a second confirmation the contact has %d reminders, want 1", got)
	}
	// Cancel.
	h.clock.Set(at(2, 8, 16, 0))
	h.say(h.admin, "/remind")
	wantText(t, h.press(h.admin, "取消"), "已取消")
	// A stale button.
	h.clock.Set(at(2, 8, 16, 1))
	h.say(h.admin, "/remind")
	h.clock.Set(at(2, 8, 17, 30))
	wantText(t, h.press(h.admin, "确认发送"), "已过期")
	// Quiet hours.
	h.clock.Set(at(2, 8, 23, 0))
	wantText(t, h.say(h.admin, "/remind"), "免打扰时段（22:00–08:00）")

	// /digest.
	h.clock.Set(at(2, 9, 9, 0)) // no scheduled digest yet: the last 24 hours
	wantText(t, h.say(h.admin, "/digest"), "已向工作群发送进度简报")
	d, err := tg.WaitText(ctx, h.group.ID, "每日简报")
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, d, "新提交 1 个：市财政局", "已提交：1 / 3 个单位")

	// /reminders.
	wantText(t, h.say(h.admin, "/reminders off"), "已停止截止后的自动提醒")
	if v, _ := st.Setting(ctx, flows.SettingReminders); v != "off" {
		t.Errorf("reminders setting = %q, want off", v)
	}
	wantText(t, h.say(h.admin, "/reminders"), "目前已停止")
	wantText(t, h.say(h.admin, "/reminders on"), "已开启截止后的自动提醒：截止后每个工作日 09:00")
	wantText(t, h.say(h.admin, "/reminders maybe"), "用法")
	// Not for everyone.
	wantText(t, h.say(a.users[0], "/remind"), "管理员命令")
}

// TestRemindersOffOn: /reminders off stops the rounds after the deadline;
// turned on again the same day, the day's round is caught up.
func TestRemindersOffOn(t *testing.T) {
	h := newHarness(t, harnessOptions{now: at(2, 11, 8, 0)})
	st, tg := h.store, h.tg
	u := addDirect(t, st, tg, "离石区双拥工作领导小组", "county", 1, h.clock.Now())
	s := h.sched
	ctx := t.Context()
	wantText(t, h.say(h.admin, "/reminders off"), "已停止")
	for _, now := range []time.Time{at(2, 11, 9, 0), at(2, 11, 9, 30)} {
		if res, err := s.RunReminders(ctx, now); err != nil || res.Skip != "reminders off" {
			t.Fatalf("RunReminders(%s) = %v, %v; want skipped: reminders off", now.Format("15:04"), res, err)
		}
	}
	h.clock.Set(at(2, 11, 10, 0))
	wantText(t, h.say(h.admin, "/reminders on"), "已开启")
	if res, err := s.RunReminders(ctx, at(2, 11, 10, 0)); err != nil || !res.Ran {
		t.Fatalf("RunReminders after /reminders on = %v, %v; want the day's round", res, err)
	}
	if got := len(reminders(tg, u.users[0].ID)); got != 1 {
		t.Errorf("contact got %d reminders, want 1", got)
	}
}
