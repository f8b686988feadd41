package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"reportbot/flows"
)

// The admins' unit commands in the private chat: /addunit, /import,
// /units, /rmunit (with a confirmation button), /renameunit. Bad input gets
// a Chinese answer that says what to do, and changes nothing; the rules
// are the Service's.

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

// deadlineLayouts are the forms /deadline accepts (after normalising).
var deadlineLayouts = []string{"2006-1-2 15:04", "2006/1/2 15:04", "2006.1.2 15:04", "2006年1月2日 15:04"}

var spaces = regexp.MustCompile(`\s+`)

// addUnit: /addunit 名称 类别
func (b *Bot) addUnit(ctx context.Context, u *update) error {
	fields := strings.Fields(u.args)
	if len(fields) < 2 {
		b.sendText(ctx, u.chatID, "用法：/addunit 名称 类别\n例如：/addunit 离石区双拥工作领导小组 县市区\n类别可选："+b.camp().CategoryNames())
		return nil
	}
	catName := fields[len(fields)-1]
	name := strings.Join(fields[:len(fields)-1], " ")
	unit, cat, err := b.svc.AddUnit(ctx, name, catName)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("已添加单位：%s（%s），编号 %d。\n发送 /invite %s 生成邀请链接。", unit.Name, cat.Name, unit.ID, unit.Name))
	return nil
}

// unitByName finds a unit by its exact name, telling the admin when there
// is none.
func (b *Bot) unitByName(ctx context.Context, u *update, name string) (flows.Unit, bool, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return flows.Unit{}, false, nil
	}
	unit, err := b.svc.UnitNamed(ctx, name)
	if err != nil {
		return flows.Unit{}, false, b.refuse(ctx, u, err)
	}
	return unit, true, nil
}

// listUnits: /units
func (b *Bot) listUnits(ctx context.Context, u *update) error {
	list, err := b.svc.UnitStatuses(ctx)
	if err != nil {
		return err
	}
	var s strings.Builder
	for i, st := range list {
		unit := st.Unit
		cat, _ := b.camp().Category(unit.Category)
		names := make([]string, 0, len(st.Contacts))
		for _, ct := range st.Contacts {
			names = append(names, contactName(ct))
		}
		who := ""
		if len(names) > 0 {
			who = "：" + strings.Join(names, "、")
		}
		fmt.Fprintf(&s, "%d. %s（%s）— %s，联系人 %d 人%s\n", i+1, unit.Name, cat.Name, b.camp().ShortStatus(st.Draft, unit.Category), len(st.Contacts), who)
	}
	n := len(list)
	if n == 0 {
		b.sendText(ctx, u.chatID, "还没有任何单位。用 /addunit 名称 类别 添加，或用 /import 导入 CSV 文件。")
		return nil
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("共 %d 个单位：\n", n)+s.String())
	return nil
}
