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
	doc := u.msg.Document
	if doc == nil && u.msg.ReplyToMessage != nil {
		doc = u.msg.ReplyToMessage.Document
	}
	if doc == nil {
		b.sendText(ctx, u.chatID, importHelp+b.camp.CategoryNames())
		return nil
	}
	if doc.FileSize > maxImportFile {
		b.sendText(ctx, u.chatID, fmt.Sprintf("文件太大（%.1f MB），单位名单文件最大 5 MB。没有导入任何单位。", float64(doc.FileSize)/(1<<20)))
		return nil
	}
	data, err := b.download(ctx, doc.FileID, maxImportFile)
	if errors.Is(err, errTooBig) {
		b.sendText(ctx, u.chatID, "文件太大，单位名单文件最大 5 MB。没有导入任何单位。")
		return nil
	}
	if err != nil {
		return err
	}
	existing, err := b.store.Units(ctx)
	if err != nil {
		return fmt.Errorf("list units: %w", err)
	}
	imp, probs := flows.ParseUnitsCSV(data, b.camp, existing)
	if len(probs) > 0 {
		b.sendText(ctx, u.chatID, problemsText(probs, b.camp))
		return nil
	}
	if len(imp.Add) == 0 {
		b.sendText(ctx, u.chatID, fmt.Sprintf("文件中的 %d 个单位都已存在，没有变化。", len(imp.Same)))
		return nil
	}
	now := b.svc.Now()
	for i := range imp.Add {
		imp.Add[i].Created = now
	}
	added, err := b.store.AddUnits(ctx, imp.Add)
	if errors.Is(err, flows.ErrExists) {
		b.sendText(ctx, u.chatID, "导入未完成：有单位名称刚刚被占用（可能有人同时添加了单位），所有单位均未导入。请重新发送文件。")
		return nil
	}
	if err != nil {
		return fmt.Errorf("import %d units: %w", len(imp.Add), err)
	}
	byCat := map[string]int{}
	for _, x := range added {
		byCat[x.Category]++
	}
	var parts []string
	for _, cat := range b.camp.Categories {
		if n := byCat[cat.ID]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d 个", flows.ShortName(cat), n))
		}
	}
	text := fmt.Sprintf("已导入 %d 个单位（%s）。", len(added), strings.Join(parts, "，"))
	if len(imp.Same) > 0 {
		text += fmt.Sprintf("\n另有 %d 个单位已存在，未作改动。", len(imp.Same))
	}
	b.sendText(ctx, u.chatID, text+"\n发送 /invites 获取所有未绑定单位的邀请链接。")
	return nil
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
	units, err := b.store.Units(ctx)
	if err != nil {
		return fmt.Errorf("list units: %w", err)
	}
	type row struct {
		unit flows.Unit
		link string
	}
	var rows []row
	expires := b.svc.Now().Add(flows.InviteTTL)
	older, cutoff := 0, time.Time{} // open links made before these

	for _, unit := range units {
		if unit.Removed {
			continue
		}
		cts, err := b.store.Contacts(ctx, unit.ID)
		if err != nil {
			return fmt.Errorf("contacts of unit %d: %w", unit.ID, err)
		}
		if len(cts) > 0 {
			continue
		}
		n, newest, err := b.olderInvites(ctx, unit.ID, b.svc.Now())
		if err != nil {
			return err
		}
		older += n
		if newest.After(cutoff) {
			cutoff = newest
		}
		link, err := b.inviteLink(ctx, unit, u.userID, 0)
		if err != nil {
			return err
		}
		rows = append(rows, row{unit, link})
	}
	if len(rows) == 0 {
		b.sendText(ctx, u.chatID, "所有单位都已绑定联系人，无需发送邀请链接。")
		return nil
	}
	valid := "有效期至 " + flows.FormatTime(expires, b.camp.Location) + "，每个链接只能使用一次"
	var revokeOlder [][]flows.Button
	olderText := ""
	if older > 0 {
		olderText = fmt.Sprintf("\n\n这些单位另有 %d 个较早生成的邀请链接仍然有效。如不再需要，可点下方按钮作废。", older)
		revokeOlder = [][]flows.Button{{{Text: fmt.Sprintf("作废较早的 %d 个链接", older), Data: adminPrefix + rvOlderAll + strconv.FormatInt(cutoff.UnixNano(), 10)}}}
	}
	if len(rows) <= invitesInMessage {
		var s strings.Builder
		fmt.Fprintf(&s, "%d 个未绑定联系人的单位的邀请链接（%s）：\n", len(rows), valid)
		for _, r := range rows {
			s.WriteString("\n" + r.unit.Name + "：\n" + r.link + "\n")
		}
		s.WriteString("\n请把链接分别发给各单位的填报联系人。" + olderText)
		_ = b.send(ctx, u.chatID, flows.Reply{Text: s.String(), Buttons: revokeOlder})
		return nil
	}
	table := [][]string{{"名称", "类别", "联系人说明", "邀请链接"}}
	for _, r := range rows {
		cat, _ := b.camp.Category(r.unit.Category)
		table = append(table, []string{r.unit.Name, cat.Name, r.unit.Note, r.link})
	}
	var buf bytes.Buffer
	if err := sheet.WriteTextCSV(&buf, table); err != nil {
		return fmt.Errorf("invites csv: %w", err)
	}
	name := "邀请链接_" + b.svc.Now().In(b.camp.Location).Format("20060102-1504") + ".csv"
	caption := fmt.Sprintf("%d 个未绑定联系人的单位的邀请链接（%s）。请把链接分别发给各单位的填报联系人。", len(rows), valid)
	if older > 0 { // before the file, which stays the last message
		_ = b.send(ctx, u.chatID, flows.Reply{Text: olderText[2:], Buttons: revokeOlder})
	}
	_ = b.sendDocument(ctx, u.chatID, flows.File{Name: name}, caption, buf.Bytes())
	return nil
}

// rmUnit: /rmunit 名称 — asks to confirm with a button.
func (b *Bot) rmUnit(ctx context.Context, u *update) error {
	if u.args == "" {
		b.sendText(ctx, u.chatID, "用法：/rmunit 单位名称\n例如：/rmunit 示例企业甲（国有大型）")
		return nil
	}
	unit, ok, err := b.unitByName(ctx, u.chatID, u.args)
	if !ok || err != nil {
		return err
	}
	d, err := b.store.Draft(ctx, unit.ID)
	if err != nil {
		return fmt.Errorf("draft of unit %d: %w", unit.ID, err)
	}
	cat, _ := b.camp.Category(unit.Category)
	text := fmt.Sprintf("确定删除单位“%s”（%s，%s）吗？\n删除后该单位的联系人不能再填报；已提交的报告保留在存档中，但不再计入汇总和报表。", unit.Name, cat.Name, b.camp.ShortStatus(d, unit.Category))
	buttons := [][]flows.Button{{
		{Text: "确认删除", Data: adminPrefix + rmAction + strconv.FormatInt(unit.ID, 10)},
		{Text: "取消", Data: adminPrefix + rmCancel},
	}}
	_ = b.send(ctx, u.chatID, flows.Reply{Text: text, Buttons: buttons})
	return nil
}

// confirmRmUnit archives the unit (Removed; its reports are kept) and
// unbinds its contacts, telling them. Pressing again finishes what a
// failed attempt left.
func (b *Bot) confirmRmUnit(ctx context.Context, u *update, idText string) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		b.sendText(ctx, u.chatID, "这个按钮已失效，请重新发送 /rmunit。")
		return nil
	}
	unit, err := b.store.Unit(ctx, id)
	if errors.Is(err, flows.ErrNotFound) {
		b.sendText(ctx, u.chatID, "找不到这个单位，可能已被删除。")
		return nil
	}
	if err != nil {
		return fmt.Errorf("load unit %d: %w", id, err)
	}
	already := false
	unit, changed, err := b.editUnit(ctx, unit, func(cur *flows.Unit) bool {
		already = cur.Removed
		cur.Removed = true
		return !already
	})
	if errors.Is(err, flows.ErrConflict) {
		b.sendText(ctx, u.chatID, "单位“"+unit.Name+"”刚刚被其他管理员修改，未删除。请重新发送命令 /rmunit。")
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove unit %d: %w", id, err)
	}
	if changed {
		b.svc.ForgetUnit(id)
	}
	cts, err := b.store.Contacts(ctx, id)
	if err != nil {
		return fmt.Errorf("contacts of unit %d: %w", id, err)
	}
	for _, ct := range cts {
		if err := b.store.RemoveContact(ctx, ct.UserID); err != nil {
			return fmt.Errorf("unbind contact %d of unit %d: %w", ct.UserID, id, err)
		}
		b.forgetContact(ct.UserID)
		b.sendText(ctx, ct.ChatID, "市双拥办已将“"+unit.Name+"”移出本次填报，您无需再为该单位填报。如有疑问，请联系"+b.camp.Office+"。")
	}
	if already && len(cts) == 0 {
		b.sendText(ctx, u.chatID, "单位“"+unit.Name+"”已经删除过了。")
		return nil
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("已删除单位“%s”，已提交的报告保留在存档中。已通知 %d 位联系人。", unit.Name, len(cts)))
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
	unit, rest, err := b.leadingUnit(ctx, fields[:len(fields)-1])
	if err != nil {
		return err
	}
	if rest == nil {
		b.sendText(ctx, u.chatID, "找不到单位“"+fields[0]+"”。请检查旧名称（需与单位列表完全一致），发送 /units 查看全部单位。")
		return nil
	}
	newName, err := flows.NormalizeName(strings.Join(append(rest, fields[len(fields)-1]), " "))
	if ue := (*flows.UserError)(nil); errors.As(err, &ue) {
		b.sendText(ctx, u.chatID, ue.Msg+"未修改。")
		return nil
	}
	if newName == unit.Name {
		b.sendText(ctx, u.chatID, "新名称与原名称相同，未修改。")
		return nil
	}
	if msg := flows.CheckUnitName(newName); msg != "" {
		b.sendText(ctx, u.chatID, msg+"未修改。")
		return nil
	}
	old := unit.Name
	unit, changed, err := b.editUnit(ctx, unit, func(cur *flows.Unit) bool {
		if cur.Removed || cur.Name != old {
			return false // removed or renamed since the command read it
		}
		cur.Name = newName
		return true
	})
	if errors.Is(err, flows.ErrExists) {
		b.sendText(ctx, u.chatID, "名称“"+newName+"”已被其他单位使用，未修改。")
		return nil
	}
	if errors.Is(err, flows.ErrConflict) || err == nil && !changed {
		b.sendText(ctx, u.chatID, "单位“"+old+"”刚刚被其他管理员修改（改名或删除），未修改。请发送 /units 核对后重新发送命令。")
		return nil
	}
	if err != nil {
		return fmt.Errorf("rename unit %d: %w", unit.ID, err)
	}
	b.svc.ForgetUnit(unit.ID)
	b.sendText(ctx, u.chatID, "已将“"+old+"”改名为“"+newName+"”。")
	return nil
}

// editUnit writes what edit makes of unit with PutUnit's compare-and-set
// (flows.Unit.Rev), so that two admins' edits of one unit cannot undo each
// other (a rename racing /rmunit must not bring the unit back). edit
// changes the unit in place and returns false to write nothing. When
// another edit landed since unit was read (ErrConflict), editUnit reads
// the unit again and calls edit once more with it, so edit must decide
// from the unit it is given; a second conflict returns ErrConflict. It
// returns the unit as stored (or as last read, when nothing was written).
func (b *Bot) editUnit(ctx context.Context, unit flows.Unit, edit func(*flows.Unit) bool) (flows.Unit, bool, error) {
	for retried := false; ; retried = true {
		next := unit
		if !edit(&next) {
			return unit, false, nil
		}
		err := b.store.PutUnit(ctx, next)
		if err == nil {
			next.Rev++
			return next, true, nil
		}
		if !errors.Is(err, flows.ErrConflict) || retried {
			return unit, false, err
		}
		if unit, err = b.store.Unit(ctx, unit.ID); err != nil {
			return unit, false, fmt.Errorf("reload unit: %w", err)
		}
	}
}

// leadingUnit finds the unit named by the longest leading run of fields;
// rest is what follows it (nil, not empty, when no unit matches).
func (b *Bot) leadingUnit(ctx context.Context, fields []string) (flows.Unit, []string, error) {
	for i := len(fields); i >= 1; i-- {
		unit, err := b.store.UnitByName(ctx, strings.Join(fields[:i], " "))
		if errors.Is(err, flows.ErrNotFound) || err == nil && unit.Removed {
			continue
		}
		if err != nil {
			return flows.Unit{}, nil, fmt.Errorf("find unit: %w", err)
		}
		return unit, append([]string{}, fields[i:]...), nil
	}
	return flows.Unit{}, nil, nil
}

const reopenHelp = "用法：/reopen 单位名称 退回原因 [题号或题目编号]\n" +
	"例如：/reopen 市财政局 慰问金数额与附件不符 veteran_cash\n" +
	"或：/reopen 市财政局 请补充专题报告盖章件 25\n" +
	"题号是该单位填报汇总中的序号；不写题目时，对方从汇总页开始修改。"

// reopen: /reopen 名称 原因 [题目] — return a submitted report for
// correction (退回修改).
func (b *Bot) reopen(ctx context.Context, u *update) error {
	fields := strings.Fields(u.args)
	if len(fields) == 0 {
		b.sendText(ctx, u.chatID, reopenHelp)
		return nil
	}
	unit, rest, err := b.leadingUnit(ctx, fields)
	if err != nil {
		return err
	}
	if rest == nil {
		b.sendText(ctx, u.chatID, "找不到单位“"+fields[0]+"”。请检查名称（需与单位列表完全一致），发送 /units 查看全部单位。\n\n"+reopenHelp)
		return nil
	}
	d, err := b.store.Draft(ctx, unit.ID)
	if err != nil {
		return fmt.Errorf("draft of unit %d: %w", unit.ID, err)
	}
	switch {
	case d.Version == 0:
		b.sendText(ctx, u.chatID, "“"+unit.Name+"”尚未提交报告，无需退回。")
		return nil
	case d.Status == flows.StatusReturned:
		reason := ""
		if d.Returned != nil {
			reason = "（原因：" + d.Returned.Reason + "）"
		}
		b.sendText(ctx, u.chatID, "“"+unit.Name+"”的报告已处于退回修改状态"+reason+"，等待对方修改后重新提交。")
		return nil
	}
	var q *flows.Question
	if n := len(rest); n > 0 {
		ref, msg := b.camp.QuestionRef(unit, d, rest[n-1])
		if msg != "" {
			b.sendText(ctx, u.chatID, msg+"报告未退回。\n\n"+reopenHelp)
			return nil
		}
		if ref != nil {
			q, rest = ref, rest[:n-1]
		}
	}
	reason := strings.Join(rest, " ")
	if reason == "" {
		b.sendText(ctx, u.chatID, "请写明退回原因，对方会看到。\n\n"+reopenHelp)
		return nil
	}
	if n := len([]rune(reason)); n > 500 {
		b.sendText(ctx, u.chatID, fmt.Sprintf("退回原因太长（%d 字），请精简到 500 字以内。", n))
		return nil
	}
	qid := ""
	if q != nil {
		qid = q.ID
	}
	now := b.svc.Now()
	nd, err := b.svc.Apply(ctx, unit.ID, u.id, func(d flows.Draft) (flows.Draft, *flows.Report, error) {
		nd, err := b.camp.Return(d, reason, qid, u.userID, now)
		return nd, nil, err
	})
	switch {
	case errors.Is(err, flows.ErrNotSubmitted):
		b.sendText(ctx, u.chatID, "“"+unit.Name+"”尚未提交报告，无需退回。")
		return nil
	case errors.Is(err, flows.ErrDuplicate):
		return nil // this very command was applied before
	case err != nil:
		return fmt.Errorf("return report of unit %d: %w", unit.ID, err)
	}
	flagged := ""
	if q != nil {
		flagged = "\n需修改：" + b.camp.QuestionLabel(unit, nd, q)
	}
	cts, err := b.store.Contacts(ctx, unit.ID)
	if err != nil {
		return fmt.Errorf("contacts of unit %d: %w", unit.ID, err)
	}
	notice := fmt.Sprintf("⚠️ 市双拥办退回了“%s”提交的第 %d 版报告，请修改后重新提交。\n退回原因：%s%s\n\n请点下方按钮或发送 /report 开始修改；截止时间已过也可以修改提交。", unit.Name, nd.Version, reason, flagged)
	told := 0
	for _, ct := range cts {
		if ct.Unreachable {
			continue
		}
		if b.send(ctx, ct.ChatID, flows.Reply{Text: notice, Buttons: [][]flows.Button{{{Text: "开始修改", Data: flows.DataGo}}}}) == nil {
			told++
		}
	}
	reply := fmt.Sprintf("已将“%s”的第 %d 版报告退回修改。\n退回原因：%s%s\n", unit.Name, nd.Version, reason, flagged)
	if told == 0 {
		reply += "该单位没有能联系上的联系人，请电话通知对方。"
	} else {
		reply += fmt.Sprintf("已通知 %d 位联系人。", told)
	}
	b.sendText(ctx, u.chatID, reply)
	b.postToGroup(ctx, fmt.Sprintf("↩️ “%s”的第 %d 版报告已退回修改。\n退回原因：%s%s", unit.Name, nd.Version, reason, flagged))
	return nil
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
	loc := b.camp.Location
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
