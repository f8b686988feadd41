package bot

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"reportbot/flows"
	"reportbot/flows/sheet"
)

// The admins' invite commands: /invite 名称 and /invites (every unit
// without a contact). /revoke is in admin_revoke.go.

// invites: /invites — a fresh invite link for every unit without a contact.
func (b *Bot) invites(ctx context.Context, u *update) error {
	expires := b.svc.Now().Add(flows.InviteTTL)
	batch, err := b.svc.InviteUnbound(ctx, u.userID)
	if err != nil {
		return err
	}
	if len(batch.Invites) == 0 {
		b.sendText(ctx, u.chatID, "所有单位都已绑定联系人，无需发送邀请链接。")
		return nil
	}
	valid := "有效期至 " + flows.FormatTime(expires, b.camp().Location) + "，每个链接只能使用一次"
	var revokeOlder [][]flows.Button
	olderText := ""
	if batch.Older > 0 {
		olderText = fmt.Sprintf("\n\n这些单位另有 %d 个较早生成的邀请链接仍然有效。如不再需要，可点下方按钮作废。", batch.Older)
		revokeOlder = [][]flows.Button{{{Text: fmt.Sprintf("作废较早的 %d 个链接", batch.Older), Data: adminPrefix + rvOlderAll + strconv.FormatInt(batch.Cutoff.UnixNano(), 10)}}}
	}
	if len(batch.Invites) <= invitesInMessage {
		var s strings.Builder
		fmt.Fprintf(&s, "%d 个未绑定联系人的单位的邀请链接（%s）：\n", len(batch.Invites), valid)
		for _, inv := range batch.Invites {
			s.WriteString("\n" + inv.Unit.Name + "：\n" + b.inviteLink(inv.Token) + "\n")
		}
		s.WriteString("\n请把链接分别发给各单位的填报联系人。" + olderText)
		_ = b.send(ctx, u.chatID, flows.Reply{Text: s.String(), Buttons: revokeOlder})
		return nil
	}
	var before *flows.Reply
	if batch.Older > 0 {
		before = &flows.Reply{Text: olderText[2:], Buttons: revokeOlder}
	}
	return b.sendInvitesFile(ctx, u.chatID, batch.Invites, valid, before)
}

// sendInvitesFile sends invite links as a CSV file (too many for a
// message), after the reply before if there is one (the file stays the
// last message).
func (b *Bot) sendInvitesFile(ctx context.Context, chatID int64, invs []flows.UnitInvite, valid string, before *flows.Reply) error {
	table := [][]string{{"名称", "类别", "联系人说明", "邀请链接"}}
	for _, inv := range invs {
		cat, _ := b.camp().Category(inv.Unit.Category)
		table = append(table, []string{inv.Unit.Name, cat.Name, inv.Unit.Note, b.inviteLink(inv.Token)})
	}
	var buf bytes.Buffer
	if err := sheet.WriteTextCSV(&buf, table); err != nil {
		return fmt.Errorf("invites csv: %w", err)
	}
	name := "邀请链接_" + b.svc.Now().In(b.camp().Location).Format("20060102-1504") + ".csv"
	caption := fmt.Sprintf("%d 个未绑定联系人的单位的邀请链接（%s）。请把链接分别发给各单位的填报联系人。", len(invs), valid)
	if before != nil {
		_ = b.send(ctx, chatID, *before)
	}
	_ = b.sendDocument(ctx, chatID, flows.File{Name: name}, caption, buf.Bytes())
	return nil
}

// inviteLink is the link of an invite token.
func (b *Bot) inviteLink(token string) string {
	return "https://t.me/" + b.username + "?start=" + token
}

// invite: /invite 名称
func (b *Bot) invite(ctx context.Context, u *update) error {
	if u.args == "" {
		b.sendText(ctx, u.chatID, "用法：/invite 单位名称\n例如：/invite 离石区双拥工作领导小组")
		return nil
	}
	unit, ok, err := b.unitByName(ctx, u, u.args)
	if !ok || err != nil {
		return err
	}
	older, cutoff, err := b.svc.OpenInvites(ctx, unit.ID)
	if err != nil {
		return err
	}
	token, err := b.svc.CreateInvite(ctx, unit.ID, u.userID, 0)
	if err != nil {
		return err
	}
	link := b.inviteLink(token)
	r := flows.Reply{Text: "“" + unit.Name + "”的邀请链接（30 天内有效，只能使用一次）：\n" + link + "\n\n请把链接发给该单位的填报联系人，对方点击后即可绑定并开始填报。"}
	if older > 0 {
		r.Text += fmt.Sprintf("\n\n该单位另有 %d 个较早生成的邀请链接仍然有效。如不再需要，可点下方按钮作废。", older)
		r.Buttons = [][]flows.Button{{{Text: fmt.Sprintf("作废较早的 %d 个链接", older), Data: adminPrefix + rvOlder + strconv.FormatInt(unit.ID, 10) + ":" + strconv.FormatInt(cutoff.UnixNano(), 10)}}}
	}
	_ = b.send(ctx, u.chatID, r)
	return nil
}
