package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"reportbot/flows"
	"reportbot/flows/sheet"
)

// The office's admin commands in the private chat: /import, /invites,
// /rmunit (with a confirmation button), /renameunit, /reopen, /deadline.
// Bad input gets a Chinese answer that says what to do, and changes
// nothing.

// Callback data of /rmunit's buttons, after adminPrefix: "rm:<unit id>"
// names the unit, so no state is kept between question and answer.
const (
	rmAction = "rm:"
	rmCancel = "rm-no"
)

// maxImportFile caps a units file (10,000 units are well under 1 MB).
const maxImportFile = 5 << 20

// invitesInMessage is how many invite links go in a message; more go in a
// CSV file.
const invitesInMessage = 20

const importHelp = "请把单位名单 CSV 文件发给我，并在文件说明中写 /import；或者回复已发送的文件，发送 /import。\n" +
	"文件格式：第一行为表头“名称,类别,联系人说明”（联系人说明可省略），之后每行一个单位，例如：\n" +
	"离石区双拥工作领导小组,县市区,区退役军人事务局\n" +
	"类别可选："

// importUnits: /import with (or in reply to) a CSV document.
func (b *Bot) importUnits(ctx context.Context, u *update) error {
	data, ok, err := b.importFile(ctx, u)
	if !ok || err != nil {
		return err
	}
	res, err := b.svc.ImportUnits(ctx, data)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	switch {
	case len(res.Problems) > 0:
		b.sendText(ctx, u.chatID, problemsText(res.Problems, b.camp()))
		return nil
	case res.Unchanged:
		b.sendText(ctx, u.chatID, fmt.Sprintf("文件中的 %d 个单位都已存在，没有变化。", len(res.Same)))
		return nil
	}
	byCat := map[string]int{}
	for _, x := range res.Added {
		byCat[x.Category]++
	}
	var parts []string
	for _, cat := range b.camp().Categories {
		if n := byCat[cat.ID]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d 个", flows.ShortName(cat), n))
		}
	}
	text := fmt.Sprintf("已导入 %d 个单位（%s）。", len(res.Added), strings.Join(parts, "，"))
	if len(res.Same) > 0 {
		text += fmt.Sprintf("\n另有 %d 个单位已存在，未作改动。", len(res.Same))
	}
	b.sendText(ctx, u.chatID, text+"\n发送 /invites 获取所有未绑定单位的邀请链接。")
	return nil
}

// importFile downloads the units file sent with (or replied to by)
// /import; ok is false when there is none or it is too big (the admin was
// told).
func (b *Bot) importFile(ctx context.Context, u *update) (data []byte, ok bool, err error) {
	doc := u.msg.Document
	if doc == nil && u.msg.ReplyToMessage != nil {
		doc = u.msg.ReplyToMessage.Document
	}
	if doc == nil {
		b.sendText(ctx, u.chatID, importHelp+b.camp().CategoryNames())
		return nil, false, nil
	}
	if doc.FileSize > maxImportFile {
		b.sendText(ctx, u.chatID, fmt.Sprintf("文件太大（%.1f MB），单位名单文件最大 5 MB。没有导入任何单位。", float64(doc.FileSize)/(1<<20)))
		return nil, false, nil
	}
	data, err = b.download(ctx, doc.FileID, maxImportFile)
	if errors.Is(err, errTooBig) {
		b.sendText(ctx, u.chatID, "文件太大，单位名单文件最大 5 MB。没有导入任何单位。")
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// problemsText lists a units file's problems (at most 30) for the admin.
func problemsText(probs []flows.Problem, c *flows.Campaign) string {
	var s strings.Builder
	fmt.Fprintf(&s, "导入失败：文件中有 %d 处问题，所有单位均未导入。请修改后重新发送。\n", len(probs))
	for i, p := range probs {
		if i == 30 {
			fmt.Fprintf(&s, "……另有 %d 处问题未列出。\n", len(probs)-i)
			break
		}
		s.WriteString(p.String() + "\n")
	}
	s.WriteString("\n格式：第一行为表头“名称,类别,联系人说明”，之后每行一个单位。类别可选：" + c.CategoryNames())
	return s.String()
}

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

// rmUnit: /rmunit 名称 — asks to confirm with a button.
func (b *Bot) rmUnit(ctx context.Context, u *update) error {
	if u.args == "" {
		b.sendText(ctx, u.chatID, "用法：/rmunit 单位名称\n例如：/rmunit 示例企业甲（国有大型）")
		return nil
	}
	unit, ok, err := b.unitByName(ctx, u, u.args)
	if !ok || err != nil {
		return err
	}
	d, err := b.svc.Draft(ctx, unit.ID)
	if err != nil {
		return err
	}
	cat, _ := b.camp().Category(unit.Category)
	text := fmt.Sprintf("确定删除单位“%s”（%s，%s）吗？\n删除后该单位的联系人不能再填报；已提交的报告保留在存档中，但不再计入汇总和报表。", unit.Name, cat.Name, b.camp().ShortStatus(d, unit.Category))
	buttons := [][]flows.Button{{
		{Text: "确认删除", Data: adminPrefix + rmAction + strconv.FormatInt(unit.ID, 10)},
		{Text: "取消", Data: adminPrefix + rmCancel},
	}}
	_ = b.send(ctx, u.chatID, flows.Reply{Text: text, Buttons: buttons})
	return nil
}

// confirmRmUnit archives the unit (flows.Service.RemoveUnit) and tells its
// former contacts. Pressing again finishes what a failed attempt left.
func (b *Bot) confirmRmUnit(ctx context.Context, u *update, idText string) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		b.sendText(ctx, u.chatID, "这个按钮已失效，请重新发送 /rmunit。")
		return nil
	}
	res, err := b.svc.RemoveUnit(ctx, id)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	unit := res.Unit
	for _, ct := range res.Contacts {
		b.forgetContact(ct.UserID)
		b.sendText(ctx, ct.ChatID, "市双拥办已将“"+unit.Name+"”移出本次填报，您无需再为该单位填报。如有疑问，请联系"+b.camp().Office+"。")
	}
	if res.Already && len(res.Contacts) == 0 {
		b.sendText(ctx, u.chatID, "单位“"+unit.Name+"”已经删除过了。")
		return nil
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("已删除单位“%s”，已提交的报告保留在存档中。已通知 %d 位联系人。", unit.Name, len(res.Contacts)))
	return nil
}

// renameUnit: /renameunit 旧名称 新名称 (a name may contain spaces: the
// old name is the longest leading part that names a unit).
func (b *Bot) renameUnit(ctx context.Context, u *update) error {
	fields := strings.Fields(u.args)
	if len(fields) < 2 {
		b.sendText(ctx, u.chatID, "用法：/renameunit 旧名称 新名称\n例如：/renameunit 市卫健委 市卫生健康委员会")
		return nil
	}
	unit, rest, err := b.svc.LeadingUnit(ctx, fields[:len(fields)-1])
	if err != nil {
		return err
	}
	if rest == nil {
		b.sendText(ctx, u.chatID, "找不到单位“"+fields[0]+"”。请检查旧名称（需与单位列表完全一致），发送 /units 查看全部单位。")
		return nil
	}
	old := unit.Name
	unit, err = b.svc.RenameUnit(ctx, unit, strings.Join(append(rest, fields[len(fields)-1]), " "))
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	b.sendText(ctx, u.chatID, "已将“"+old+"”改名为“"+unit.Name+"”。")
	return nil
}

// reopen: /reopen 名称 原因 [题目] — return a submitted report for
// correction (退回修改, flows.Service.ReturnReport).
func (b *Bot) reopen(ctx context.Context, u *update) error {
	fields := strings.Fields(u.args)
	if len(fields) == 0 {
		b.sendText(ctx, u.chatID, flows.ReturnHelp)
		return nil
	}
	unit, rest, err := b.svc.LeadingUnit(ctx, fields)
	if err != nil {
		return err
	}
	if rest == nil {
		b.sendText(ctx, u.chatID, "找不到单位“"+fields[0]+"”。请检查名称（需与单位列表完全一致），发送 /units 查看全部单位。\n\n"+flows.ReturnHelp)
		return nil
	}
	ret, err := b.svc.ReturnReport(ctx, u.id, unit, rest, u.userID)
	switch {
	case errors.Is(err, flows.ErrDuplicate):
		return nil // this very command was applied before
	case err != nil:
		return b.refuse(ctx, u, err)
	}
	b.tellReturned(ctx, u, unit, ret)
	return nil
}

// tellReturned tells the unit's contacts, the admin and the office group
// that the unit's report was returned.
func (b *Bot) tellReturned(ctx context.Context, u *update, unit flows.Unit, ret flows.Returned) {
	reason, version := ret.Order.Reason, ret.Draft.Version
	flagged := ""
	if ret.Flagged != "" {
		flagged = "\n需修改：" + ret.Flagged
	}
	notice := fmt.Sprintf("⚠️ 市双拥办退回了“%s”提交的第 %d 版报告，请修改后重新提交。\n退回原因：%s%s\n\n请点下方按钮或发送 /report 开始修改；截止时间已过也可以修改提交。", unit.Name, version, reason, flagged)
	told := 0
	for _, ct := range ret.Contacts {
		if ct.Unreachable {
			continue
		}
		if b.send(ctx, ct.ChatID, flows.Reply{Text: notice, Buttons: [][]flows.Button{{{Text: "开始修改", Data: flows.DataGo}}}}) == nil {
			told++
		}
	}
	reply := fmt.Sprintf("已将“%s”的第 %d 版报告退回修改。\n退回原因：%s%s\n", unit.Name, version, reason, flagged)
	if told == 0 {
		reply += "该单位没有能联系上的联系人，请电话通知对方。"
	} else {
		reply += fmt.Sprintf("已通知 %d 位联系人。", told)
	}
	b.sendText(ctx, u.chatID, reply)
	b.postToGroup(ctx, fmt.Sprintf("↩️ “%s”的第 %d 版报告已退回修改。\n退回原因：%s%s", unit.Name, version, reason, flagged))
}

// postToGroup tells the office group something, if there is one.
func (b *Bot) postToGroup(ctx context.Context, text string) {
	group, err := b.officeGroup(ctx)
	if err != nil {
		b.log.Error("post to office group", "err", err)
		return
	}
	if group != 0 {
		b.sendText(ctx, group, text)
	}
}

// deadlineLayouts are the forms /deadline accepts (after normalising).
var deadlineLayouts = []string{"2006-1-2 15:04", "2006/1/2 15:04", "2006.1.2 15:04", "2006年1月2日 15:04"}

var spaces = regexp.MustCompile(`\s+`)

// parseDeadline reads "2022-02-10 18:00" (and a few Chinese forms) in loc.
func parseDeadline(s string, loc *time.Location) (time.Time, bool) {
	s = strings.NewReplacer("：", ":", "日", "日 ").Replace(strings.TrimSpace(s))
	s = spaces.ReplaceAllString(strings.TrimSpace(s), " ")
	for _, layout := range deadlineLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// setDeadline: /deadline 2022-02-10 18:00 (China Standard Time).
func (b *Bot) setDeadline(ctx context.Context, u *update) error {
	current, err := b.svc.Deadline(ctx)
	if err != nil {
		return err
	}
	loc := b.camp().Location
	usage := "用法：/deadline 日期 时间（北京时间），例如：/deadline 2022-02-10 18:00\n当前截止时间：" + flows.FormatTime(current, loc)
	if u.args == "" {
		b.sendText(ctx, u.chatID, usage)
		return nil
	}
	t, ok := parseDeadline(u.args, loc)
	if !ok {
		b.sendText(ctx, u.chatID, "无法识别“"+u.args+"”，截止时间未修改。请写明日期和时间。\n"+usage)
		return nil
	}
	now := b.svc.Now()
	if !t.After(now) {
		b.sendText(ctx, u.chatID, "新的截止时间 "+flows.FormatTime(t, loc)+" 已经过去（现在是 "+flows.FormatTime(now, loc)+"），截止时间未修改。请填写一个将来的时间。")
		return nil
	}
	if t.Equal(current) {
		b.sendText(ctx, u.chatID, "截止时间本来就是 "+flows.FormatTime(t, loc)+"，未修改。")
		return nil
	}
	old, err := b.svc.SetDeadline(ctx, t)
	if err != nil {
		return err
	}
	change := flows.FormatTime(old, loc) + " → " + flows.FormatTime(t, loc) + "（北京时间）"
	b.sendText(ctx, u.chatID, "截止时间已修改："+change+"。\n填报页面和提醒将按新的截止时间执行。")
	b.postToGroup(ctx, "📅 截止时间已修改："+change+"。")
	return nil
}
