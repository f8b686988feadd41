package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

var progressLine = regexp.MustCompile(`第 \d+/\d+ 题 · [^\n]+\n([^\n]+)`)

// currentQuestion tells which question the bot's newest message asks.
func (h *harness) currentQuestion(u telegramtest.User) string {
	h.t.Helper()
	text := h.last(u.ID).Text
	m := progressLine.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	for _, q := range h.camp.Questions() {
		if strings.HasPrefix(m[1], q.Title()) {
			return q.ID
		}
	}
	h.t.Fatalf("unknown question title %q", m[1])
	return ""
}

// expectQuestion fails unless the bot now asks question id.
func (h *harness) expectQuestion(u telegramtest.User, id string) {
	h.t.Helper()
	if got := h.currentQuestion(u); got != id {
		h.t.Fatalf("bot asks %q, want question %s; last message:\n%s", got, id, h.last(u.ID).Text)
	}
}

// answerBad sends a bad answer and checks the bot refuses it with a
// message containing want, and asks the same question again.
func (h *harness) answerBad(u telegramtest.User, id, input, want string) {
	h.t.Helper()
	h.expectQuestion(u, id)
	before := len(h.tg.Messages(u.ID))
	h.tg.SendText(u, u.Chat(), input)
	h.settle()
	msgs := h.tg.Messages(u.ID)[before:]
	var all strings.Builder
	for _, m := range msgs {
		all.WriteString(m.Text + "\n")
	}
	if !strings.Contains(all.String(), want) {
		h.t.Fatalf("answer %q to %s: bot said %q, want %q", input, id, all.String(), want)
	}
	h.expectQuestion(u, id)
}

// fill answers the current question id with input.
func (h *harness) fill(u telegramtest.User, id, input string) {
	h.t.Helper()
	h.expectQuestion(u, id)
	h.say(u, input)
}

var (
	pdfBytes  = []byte("%PDF-1.4\n% reportbot test document\n")
	jpegBytes = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1, 0xFF, 0xD9}
)

// fillMaterials answers section 五 (text, document, photos) with bad
// inputs for the file types.
func (h *harness) fillMaterials(u telegramtest.User) {
	h.t.Helper()
	h.answerBad(u, "summary_text", strings.Repeat("长", 1001), "1000")
	h.fill(u, "summary_text", "春节期间走访慰问驻地部队和优抚对象。")
	h.fill(u, "highlights", "=HYPERLINK(\"x\") 军民共建")
	h.expectQuestion(u, "suggestions")
	h.press(u, "跳过")
	h.expectQuestion(u, "report_doc")
	h.answerBad(u, "report_doc", "我稍后再传", "上传")
	m := h.upload(u, "setup.exe", "application/x-msdownload", []byte("MZ"))
	wantText(h.t, m, "PDF")
	h.expectQuestion(u, "report_doc")
	h.upload(u, "离石区双拥工作专题报告.pdf", "application/pdf", pdfBytes)
	h.expectQuestion(u, "photos")
	m = h.uploadPhoto(u, jpegBytes)
	wantText(h.t, m, "已收到")
	h.press(u, "完成")
}

// TestContactJourneyCounty walks the whole default form for a county unit
// through the real client, fake Telegram and a real store: bad values of
// every kind, back, skip, cancel and resume, summary edit, document upload,
// submit, the office post, revise.
func TestContactJourneyCounty(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		h.setGroup()
		token := h.addUnit("离石区双拥工作领导小组", "县市区")
		alice := telegramtest.User{ID: 5001, FirstName: "晓明", LastName: "王"}
		m := h.bind(alice, token)
		wantText(t, m, "绑定成功", "离石区双拥工作领导小组", "2022年2月10日 18:00", h.camp.Title)

		// The invite is single use.
		bob := telegramtest.User{ID: 5002, FirstName: "Bob"}
		m = h.bind(bob, token)
		wantText(t, m, "已被使用")

		h.press(alice, "开始填报")
		h.answerBad(alice, "filler_name", "王", "2")
		h.fill(alice, "filler_name", "王晓明")
		h.answerBad(alice, "filler_phone", "12345", "手机号")
		h.fill(alice, "filler_phone", "0358-8498917")
		h.answerBad(alice, "essays", "abc", "不是数字")
		h.answerBad(alice, "essays", "-2", "负数")
		h.answerBad(alice, "essays", "1.5", "整数")
		h.fill(alice, "essays", "3")
		// Back, then keep the answer.
		h.press(alice, "上一题")
		h.expectQuestion(alice, "essays")
		h.fill(alice, "essays", "4")
		for _, id := range []string{"columns", "films", "new_media_posts", "outdoor_screens", "model_events", "merit_notices", "honor_plaques"} {
			h.fill(alice, id, "2")
		}
		// Skip is refused on a required question.
		h.answerBad(alice, "troop_visits", "跳过", "必填")
		h.fill(alice, "troop_visits", "2")
		h.answerBad(alice, "troop_cash", "1.234", "两位小数")
		h.fill(alice, "troop_cash", "1.5")
		// Cancel keeps everything; /report resumes here.
		h.press(alice, "取消")
		h.say(alice, "/report")
		h.expectQuestion(alice, "troop_goods")
		h.fill(alice, "troop_goods", "0.8")
		for _, id := range []string{"joint_tasks", "exercise_support", "frontier_families"} {
			h.fill(alice, id, "1")
		}
		h.fill(alice, "veteran_visits", "10")
		h.answerBad(alice, "frontier_family_visits", "12", "不能大于总数")
		h.fill(alice, "frontier_family_visits", "4")
		h.fill(alice, "forums", "2")
		h.fill(alice, "couplets", "300")
		h.fill(alice, "veteran_cash", "12.5")
		h.fill(alice, "veteran_goods", "3.2")
		h.fill(alice, "hardship_people", "5")
		h.fill(alice, "hardship_cash", "2")
		h.expectQuestion(alice, "hardship_kinds")
		h.press(alice, "医疗")
		h.press(alice, "住房")
		h.press(alice, "完成")
		h.fillMaterials(alice)

		// The summary, then an edit from it.
		m = h.last(alice.ID)
		wantText(t, m, "确认提交")
		h.press(alice, "改 ")
		if q := h.currentQuestion(alice); q == "" {
			t.Fatalf("edit button did not ask a question: %q", h.last(alice.ID).Text)
		}
		h.press(alice, "保留当前答案")
		m = h.press(alice, "确认提交")
		wantText(t, m, "SY-2022-0001")

		d := h.draftOf("离石区双拥工作领导小组")
		if d.Status != flows.StatusSubmitted || d.Version != 1 {
			t.Fatalf("after submit: status %q version %d, want submitted 1", d.Status, d.Version)
		}
		if got := d.Answers["veteran_cash"].Num; got != 1250 {
			t.Errorf("veteran_cash stored %d, want 1250 (hundredths of 万元)", got)
		}
		if got := d.Answers["essays"].Num; got != 4 {
			t.Errorf("essays stored %d, want 4 (the answer changed after 上一题)", got)
		}

		// The office group got the post and the document.
		post, err := h.tg.WaitText(context.Background(), h.group.ID, "新提交")
		if err != nil {
			t.Fatal(err)
		}
		wantText(t, post, "离石区双拥工作领导小组", "SY-2022-0001", "第 1 版")
		if !hasDocument(h.tg.Messages(h.group.ID), "离石区双拥工作专题报告.pdf") {
			t.Errorf("office group did not receive the report document")
		}

		// Revise before the deadline: version 2.
		h.say(alice, "/report")
		h.press(alice, "修改报告")
		h.press(alice, "改 ")
		h.say(alice, "王晓红")
		m = h.press(alice, "确认提交")
		wantText(t, m, "SY-2022-0001-2")
		if _, err := h.tg.WaitText(context.Background(), h.group.ID, "第 2 版"); err != nil {
			t.Fatal(err)
		}
		reps, err := h.store.Reports(context.Background(), "", d.UnitID)
		if err != nil || len(reps) != 2 {
			t.Fatalf("Reports = %d versions, %v; want 2", len(reps), err)
		}
		if reps[0].Answers["filler_name"].Text != "王晓明" || reps[1].Answers["filler_name"].Text != "王晓红" {
			t.Errorf("versions kept: v1 %q v2 %q", reps[0].Answers["filler_name"].Text, reps[1].Answers["filler_name"].Text)
		}
	})
}

// TestContactJourneyMilitary walks the military path (section 三, with the
// multichoice and the conditional rescue troops).
func TestContactJourneyMilitary(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		token := h.addUnit("武警吕梁支队", "部队")
		u := telegramtest.User{ID: 5101, FirstName: "参谋"}
		h.bind(u, token)
		h.say(u, "/report")
		h.fill(u, "filler_name", "李参谋")
		h.fill(u, "filler_phone", "13912345678")
		for _, id := range []string{"essays", "columns", "films", "new_media_posts", "outdoor_screens", "model_events", "merit_notices", "honor_plaques"} {
			h.fill(u, id, "1")
		}
		h.fill(u, "local_projects", "2")
		h.fill(u, "revitalization_help", "3")
		h.expectQuestion(u, "help_kinds")
		h.press(u, "完成")
		h.expectQuestion(u, "help_kinds") // nothing picked on a required multichoice
		h.press(u, "教育帮扶")
		h.press(u, "健康帮扶")
		h.press(u, "完成")
		h.fill(u, "medical_people", "120")
		h.fill(u, "safety_events", "4")
		h.fill(u, "travel_helpers", "30")
		h.fill(u, "rescue_missions", "0")
		// rescue_troops does not apply when rescue_missions is 0.
		h.fillMaterials(u)
		m := h.press(u, "确认提交")
		wantText(t, m, "SY-2022-0001")
		d := h.draftOf("武警吕梁支队")
		if _, ok := d.Answers["rescue_troops"]; ok {
			t.Errorf("rescue_troops answered although rescue_missions = 0")
		}
		if got := strings.Join(d.Answers["help_kinds"].Picks, ","); got != "education,health" {
			t.Errorf("help_kinds = %q, want education,health", got)
		}
		if _, ok := d.Answers["veteran_visits"]; ok {
			t.Errorf("a military unit was asked section 四")
		}
	})
}

func hasDocument(msgs []telegramtest.Message, name string) bool {
	for _, m := range msgs {
		if m.Document != nil && m.Document.Name == name {
			return true
		}
	}
	return false
}

// TestAdminCommandsRefused: a non-admin's admin commands are refused
// politely and change nothing.
func TestAdminCommandsRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	eve := telegramtest.User{ID: 6666, FirstName: "Eve"}
	h.tg.AddUser(eve)
	for _, cmd := range []string{"/addunit 假单位 县市区", "/invite 假单位", "/units", "/deadline 2022-03-01 18:00"} {
		m := h.say(eve, cmd)
		wantText(t, m, "管理员命令")
	}
	units, err := h.store.Units(context.Background())
	if err != nil || len(units) != 0 {
		t.Fatalf("Units after refused commands = %v, %v; want none", units, err)
	}
	m := h.sayGroup(eve, h.group, "/setgroup")
	wantText(t, m, "只有管理员")
	if _, err := h.store.Setting(context.Background(), flows.SettingOfficeGroup); err == nil {
		t.Errorf("a non-admin's /setgroup set the office group")
	}
}

// TestStartWithoutOrBadToken explains how to get an invite.
func TestStartWithoutOrBadToken(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u := telegramtest.User{ID: 7001, FirstName: "新人"}
	h.tg.AddUser(u)
	wantText(t, h.say(u, "/start"), "邀请链接")
	wantText(t, h.say(u, "/start "+strings.Repeat("A", 22)), "无效")
	wantText(t, h.say(u, "/report"), "还没有绑定")
	wantText(t, h.say(u, "你好"), "还没有绑定")
	wantText(t, h.say(u, "/addunit x y"), "管理员命令")
	if cmds := h.tg.Commands(); len(cmds) == 0 {
		t.Errorf("no command menu registered")
	} else {
		for _, c := range cmds {
			if !containsHan(c.Description) {
				t.Errorf("command %s description %q is not Chinese", c.Command, c.Description)
			}
		}
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

var _ = fmt.Sprint
