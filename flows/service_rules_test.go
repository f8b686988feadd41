package flows_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/storage/bolt"
)

// The rules the office's commands rely on, run through flows.Service on a
// real store: what is refused, with which words, and what is changed.

// newRulesService opens a bolt store and a service over it with a fixed
// clock.
func newRulesService(t *testing.T) (*flows.Service, context.Context) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := flows.DefaultCampaign()
	now := time.Date(2022, 2, 3, 10, 0, 0, 0, c.Location)
	return flows.NewService(st, c, func() time.Time { return now }), context.Background()
}

// wantRefusal fails unless err is a *flows.UserError containing want.
func wantRefusal(t *testing.T, call string, err error, want string) {
	t.Helper()
	var ue *flows.UserError
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, want) {
		t.Errorf("%s = %v; want a *UserError saying %q", call, err, want)
	}
}

func mustAddUnit(t *testing.T, s *flows.Service, name string) flows.Unit {
	t.Helper()
	u, _, err := s.AddUnit(context.Background(), name, "县市区")
	if err != nil {
		t.Fatalf("AddUnit(%q) = %v", name, err)
	}
	return u
}

// mustBind binds user to unit with a fresh invite (handover: the contact
// handing over, 0 for none).
func mustBind(t *testing.T, s *flows.Service, unit flows.Unit, user, handover int64) {
	t.Helper()
	ctx := context.Background()
	token, err := s.CreateInvite(ctx, unit.ID, 1, handover)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Bind(ctx, token, flows.Contact{UserID: user, ChatID: user, Name: "联系人"}); err != nil {
		t.Fatalf("Bind(user %d to %q) = %v", user, unit.Name, err)
	}
}

func TestAddUnitRefusals(t *testing.T) {
	s, ctx := newRulesService(t)
	mustAddUnit(t, s, "离石区双拥工作领导小组")
	tests := []struct{ name, cat, refused string }{
		{"交城县双拥工作领导小组", "部门", "类别“部门”不存在，单位未添加。\n类别可选："},
		{"甲", "县市区", "单位名称太短"},
		{"交城\u200b县", "县市区", "不可见字符（如零宽空格或方向控制符），请删除后重试。单位未添加。"},
		{"离石区双拥工作领导小组", "县市区", "单位“离石区双拥工作领导小组”已存在，未重复添加。"},
	}
	for _, tt := range tests {
		_, _, err := s.AddUnit(ctx, tt.name, tt.cat)
		wantRefusal(t, "AddUnit("+tt.name+", "+tt.cat+")", err, tt.refused)
	}
}

func TestRenameUnit(t *testing.T) {
	s, ctx := newRulesService(t)
	a := mustAddUnit(t, s, "市卫健委")
	mustAddUnit(t, s, "市财政局")
	tests := []struct{ to, refused string }{
		{"市卫健委", "新名称与原名称相同，未修改。"},
		{"市财政局", "名称“市财政局”已被其他单位使用，未修改。"},
		{"市,卫健委", "单位名称中不能包含逗号、换行或制表符。未修改。"},
		{"", "名称不能为空。未修改。"},
	}
	for _, tt := range tests {
		_, err := s.RenameUnit(ctx, a, tt.to)
		wantRefusal(t, "RenameUnit("+tt.to+")", err, tt.refused)
	}
	renamed, err := s.RenameUnit(ctx, a, "市卫生健康委员会")
	if err != nil || renamed.Name != "市卫生健康委员会" {
		t.Fatalf("RenameUnit = %+v, %v; want the new name", renamed, err)
	}
	// a, as read before the rename, is stale now.
	_, err = s.RenameUnit(ctx, a, "市卫健局")
	wantRefusal(t, "RenameUnit of a stale unit", err, "单位“市卫健委”刚刚被其他管理员修改（改名或删除），未修改。")
}

func TestRemoveUnit(t *testing.T) {
	s, ctx := newRulesService(t)
	u := mustAddUnit(t, s, "市卫健委")
	mustBind(t, s, u, 501, 0)
	res, err := s.RemoveUnit(ctx, u.ID)
	if err != nil || res.Already || len(res.Contacts) != 1 || !res.Unit.Removed {
		t.Fatalf("RemoveUnit = %+v, %v; want the unit removed and its contact unbound", res, err)
	}
	if _, err := s.Contact(ctx, 501); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(501) after RemoveUnit = %v, want ErrNotFound", err)
	}
	res, err = s.RemoveUnit(ctx, u.ID)
	if err != nil || !res.Already || len(res.Contacts) != 0 {
		t.Errorf("RemoveUnit again = %+v, %v; want Already and no contacts", res, err)
	}
	_, err = s.RemoveUnit(ctx, 999)
	wantRefusal(t, "RemoveUnit(999)", err, "找不到这个单位，可能已被删除。")
	_, err = s.UnitNamed(ctx, "市卫健委")
	wantRefusal(t, "UnitNamed of a removed unit", err, "找不到单位“市卫健委”。")
}

func TestBindRefusals(t *testing.T) {
	s, ctx := newRulesService(t)
	a := mustAddUnit(t, s, "市卫健委")
	b := mustAddUnit(t, s, "市财政局")
	mustBind(t, s, a, 601, 0)
	used, _ := s.CreateInvite(ctx, b.ID, 1, 0)
	if _, added, err := s.Bind(ctx, used, flows.Contact{UserID: 602}); err != nil || !added {
		t.Fatalf("Bind = %v, %v; want a new contact", added, err)
	}
	if _, added, err := s.Bind(ctx, used, flows.Contact{UserID: 602}); err != nil || added {
		t.Errorf("the same Bind again = %v, %v; want no error, not added", added, err)
	}
	revoked, _ := s.CreateInvite(ctx, b.ID, 1, 0)
	if n, err := s.RevokeInvites(ctx, b.ID); n != 1 || err != nil {
		t.Fatalf("RevokeInvites = %d, %v; want 1", n, err)
	}
	fresh, _ := s.CreateInvite(ctx, b.ID, 1, 0)
	gone := mustAddUnit(t, s, "市审计局")
	removed, _ := s.CreateInvite(ctx, gone.ID, 1, 0)
	if _, err := s.RemoveUnit(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token   string
		user    int64
		refused string
	}{
		{strings.Repeat("x", 22), 603, "邀请链接无效或不存在。"},
		{used, 603, "此邀请链接已被使用过，每个链接只能绑定一次。"},
		{revoked, 603, "此邀请链接已被市双拥办作废，不能再使用。"},
		{removed, 603, "该单位已不在本次填报名单中，邀请链接不能再使用。如有疑问，请联系" + s.Campaign().Office + "。"},
		{fresh, 601, "您已是“市卫健委”的填报联系人，一个账号只能绑定一个单位。"},
	}
	for _, tt := range tests {
		_, _, err := s.Bind(ctx, tt.token, flows.Contact{UserID: tt.user})
		wantRefusal(t, "Bind", err, tt.refused)
	}
	later := flows.NewService(s.Store, s.Campaign(), func() time.Time { return s.Now().Add(flows.InviteTTL + time.Hour) })
	_, _, err := later.Bind(ctx, fresh, flows.Contact{UserID: 604})
	wantRefusal(t, "Bind after the invite expired", err, "此邀请链接已过期（有效期 30 天）。")
}

// TestRemoveContact: taking a contact's access back revokes the unit's
// open links when the contact made one (a handover link would let them
// back in), and not otherwise.
func TestRemoveContact(t *testing.T) {
	s, ctx := newRulesService(t)
	u := mustAddUnit(t, s, "市卫健委")
	mustBind(t, s, u, 701, 0)
	mustBind(t, s, u, 702, 0)
	if _, err := s.CreateInvite(ctx, u.ID, 701, 701); err != nil { // 701's handover link
		t.Fatal(err)
	}
	res, err := s.RemoveContact(ctx, u.ID, 702)
	if err != nil || res.Revoked != 0 || res.Contact.UserID != 702 {
		t.Errorf("RemoveContact(702) = %+v, %v; want 702 removed, no link revoked", res, err)
	}
	res, err = s.RemoveContact(ctx, u.ID, 701)
	if err != nil || res.Revoked != 1 {
		t.Errorf("RemoveContact(701) = %+v, %v; want 701's handover link revoked", res, err)
	}
	_, err = s.RemoveContact(ctx, u.ID, 701)
	wantRefusal(t, "RemoveContact(701) again", err, "用户 701 已不是“市卫健委”的填报联系人。")
}

// TestReturnReport: a report is returned once; the checks of CheckReturn
// apply to the stored draft.
func TestReturnReport(t *testing.T) {
	s, ctx := newRulesService(t)
	u := mustAddUnit(t, s, "市卫健委")
	_, err := s.ReturnReport(ctx, 1, u, []string{"数据有误"}, 9)
	wantRefusal(t, "ReturnReport of a unit never submitted", err, "“市卫健委”尚未提交报告，无需退回。")
	submitted := flows.Draft{UnitID: u.ID, Rev: 1, Version: 1, Status: flows.StatusSubmitted}
	if err := s.Store.Apply(ctx, flows.Transition{UnitID: u.ID, FromRev: 0, Draft: submitted}); err != nil {
		t.Fatal(err)
	}
	mustBind(t, s, u, 801, 0)
	ret, err := s.ReturnReport(ctx, 2, u, []string{"数据有误", "1"}, 9)
	if err != nil || ret.Draft.Status != flows.StatusReturned || ret.Order.Reason != "数据有误" || !strings.HasPrefix(ret.Flagged, "第 1 题 ") || len(ret.Contacts) != 1 {
		t.Fatalf("ReturnReport = %+v, %v; want the report returned, question 1 flagged, one contact", ret, err)
	}
	_, err = s.ReturnReport(ctx, 3, u, []string{"数据有误"}, 9)
	wantRefusal(t, "ReturnReport of a returned report", err, "“市卫健委”的报告已处于退回修改状态（原因：数据有误）")
}
