package bot

import (
	"strings"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
)

// groupSaw fails unless some bot message in the office group contains part.
func groupSaw(t *testing.T, h *harness, part string) {
	t.Helper()
	for _, m := range h.tg.Messages(h.group.ID) {
		if strings.Contains(m.Text, part) {
			return
		}
	}
	t.Fatalf("office group never saw %q", part)
}

func TestRevokeInvites(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		tok1 := h.addUnit("市财政局", "市直单位")
		h.clock.Advance(time.Minute)
		tok2 := h.invite("市财政局")
		wantText(t, h.last(h.admin.ID), "另有 1 个较早生成的邀请链接仍然有效")

		m := h.say(h.admin, "/revoke 市财政局")
		wantText(t, m, "已作废“市财政局”的 2 个未使用的邀请链接")
		for i, tok := range []string{tok1, tok2} {
			u := telegramtest.User{ID: int64(7101 + i), FirstName: "张三"}
			m := h.bind(u, tok)
			wantText(t, m, "已被市双拥办作废")
		}
		m = h.say(h.admin, "/revoke 市财政局")
		wantText(t, m, "没有未使用的邀请链接")
	})
}

func TestRevokeOlderInvitesButton(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	old := h.addUnit("市民政局", "市直单位")
	h.clock.Advance(time.Minute)
	fresh := h.invite("市民政局")
	m := h.press(h.admin, "作废较早的 1 个链接")
	wantText(t, m, "已作废“市民政局”的 1 个较早的邀请链接")
	wantText(t, h.bind(telegramtest.User{ID: 7201, FirstName: "李四"}, old), "已被市双拥办作废")
	wantText(t, h.bind(telegramtest.User{ID: 7202, FirstName: "王五"}, fresh), "绑定成功")

	// /invites: the older links of the units without a contact.
	h.addUnit("市卫健委", "市直单位")
	h.clock.Advance(time.Minute)
	h.tg.SendText(h.admin, h.admin.Chat(), "/invites")
	h.settle()
	wantText(t, h.last(h.admin.ID), "另有 1 个较早生成的邀请链接仍然有效")
	wantText(t, h.press(h.admin, "作废较早的 1 个链接"), "已作废 1 个较早的邀请链接")
}

func TestRevokeContact(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		h.setGroup()
		tok := h.addUnit("市总工会", "人民团体")
		c := telegramtest.User{ID: 7301, FirstName: "赵六"}
		wantText(t, h.bind(c, tok), "绑定成功")
		groupSaw(t, h, "“市总工会”新增填报联系人：赵六")
		wantText(t, h.say(h.admin, "/units"), "赵六")

		m := h.say(h.admin, "/revoke 市总工会 赵六")
		wantText(t, m, "确定把 赵六（ID 7301）移出“市总工会”")
		if _, err := h.store.Contact(t.Context(), c.ID); err != nil {
			t.Fatalf("contact removed before confirmation: %v", err)
		}
		m = h.press(h.admin, "确认移除")
		wantText(t, m, "已将 赵六（ID 7301）移出“市总工会”")
		wantText(t, h.last(c.ID), "市双拥办已将您移出“市总工会”的填报联系人")
		groupSaw(t, h, "已将 赵六 移出“市总工会”的填报联系人")

		m = h.say(c, "/report")
		if strings.Contains(m.Text, "填报人姓名") || !strings.Contains(m.Text, "不再是") && !strings.Contains(m.Text, "还没有绑定") {
			t.Fatalf("/report by a removed contact answered %q, want a refusal", m.Text)
		}
		// The used link does not bring the contact back.
		wantText(t, h.bind(c, tok), "已被使用过")
	})
}

func TestBindRemovedUnit(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		tok := h.addUnit("示例企业甲", "企业")
		h.say(h.admin, "/rmunit 示例企业甲")
		h.press(h.admin, "确认删除")
		m := h.bind(telegramtest.User{ID: 7401, FirstName: "钱七"}, tok)
		wantText(t, m, "该单位已不在本次填报名单中")
	})
}
