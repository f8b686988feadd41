package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"reportbot/flows"
)

// Several campaigns in one deployment: /campaigns lists them, /newcampaign
// opens a new one (after a confirmation button); /summary and /export take
// an earlier campaign's id. The rules are flows.Service's (registry.go).

// Callback data of /newcampaign's buttons, after adminPrefix:
// "nc:<token>" names the campaign file the service keeps until then.
const (
	ncAction = "nc:"
	ncCancel = "nc-no"
)

// maxCampaignFile caps a campaign file (the default one is ~20 KB).
const maxCampaignFile = 1 << 20

const newCampaignHelp = "请把新的填报活动文件（YAML，可复制现有活动文件修改）发给我，并在文件说明中写 /newcampaign；或者回复已发送的文件，发送 /newcampaign。\n" +
	"文件中的 id 必须是新的编号；如需与上一次活动对比，写 previous: 上一次活动的编号。\n" +
	"发送 /campaigns 查看现有的填报活动。"

// listCampaigns: /campaigns — every campaign of the store with its
// deadline and progress, and which one is open.
func (b *Bot) listCampaigns(ctx context.Context, u *update) error {
	list, err := b.svc.Campaigns(ctx)
	if err != nil {
		return err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "共有 %d 个填报活动：\n", len(list))
	for i, info := range list {
		c, err := b.svc.CampaignByID(ctx, info.ID)
		if err != nil {
			return err
		}
		o, err := b.svc.OverviewOf(ctx, c)
		if err != nil {
			return err
		}
		n := o.Count()
		state := "已结束填报（数据保留，可查阅）"
		if info.Open() {
			state = "正在填报"
		}
		fmt.Fprintf(&s, "\n%d. %s\n编号：%s\n截止时间：%s\n已提交 %d / %d 个单位 · %s\n", i+1, info.Title, info.ID, flows.FormatTime(o.Deadline, c.Location), n.Submitted, n.Total, state)
	}
	s.WriteString("\n查看往期活动：/summary 编号、/export 编号（在工作群中发送）。开启新的填报活动：/newcampaign 并附上活动文件。")
	b.sendText(ctx, u.chatID, s.String())
	return nil
}

// newCampaign: /newcampaign with (or in reply to) a campaign file — checks
// it and asks to confirm with a button.
func (b *Bot) newCampaign(ctx context.Context, u *update) error {
	data, ok, err := b.campaignFile(ctx, u)
	if !ok || err != nil {
		return err
	}
	nc, err := b.svc.CheckNewCampaign(ctx, data)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	c := nc.Campaign
	var s strings.Builder
	fmt.Fprintf(&s, "文件检查无误。确定开启新的填报活动吗？\n\n新活动：%s\n编号：%s\n", c.Title, c.ID)
	if c.Notice != "" {
		fmt.Fprintf(&s, "通知文号：%s\n", c.Notice)
	}
	fmt.Fprintf(&s, "截止时间：%s\n共 %d 道题\n", flows.FormatTime(c.Deadline, c.Location), len(c.Questions()))
	if c.Previous != "" {
		fmt.Fprintf(&s, "与上一次活动（编号 %s）的数据对比，填报时显示上年数。\n", c.Previous)
	}
	fmt.Fprintf(&s, "\n开启后，当前的填报活动“%s”（编号 %s）将停止填报；已提交的报告全部保留，可随时用 /summary %s、/export %s 查阅。"+
		"各单位联系人无需重新绑定，下次发消息时即进入新活动的填报。", nc.Open.Title, nc.Open.ID, nc.Open.ID, nc.Open.ID)
	buttons := [][]flows.Button{{
		{Text: "确认开启", Data: adminPrefix + ncAction + nc.Token},
		{Text: "取消", Data: adminPrefix + ncCancel},
	}}
	_ = b.send(ctx, u.chatID, flows.Reply{Text: s.String(), Buttons: buttons})
	return nil
}

// campaignConfirmed runs /newcampaign's buttons; false if action is not
// one of them.
func (b *Bot) campaignConfirmed(ctx context.Context, u *update, action string) (bool, error) {
	switch {
	case action == ncCancel:
		b.sendText(ctx, u.chatID, "已取消，填报活动没有变化。")
		return true, nil
	case strings.HasPrefix(action, ncAction):
		return true, b.confirmNewCampaign(ctx, u, strings.TrimPrefix(action, ncAction))
	}
	return false, nil
}

// confirmNewCampaign opens the campaign and tells the admin and the office
// group.
func (b *Bot) confirmNewCampaign(ctx context.Context, u *update, token string) error {
	closed, c, err := b.svc.OpenCampaign(ctx, token)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	text := fmt.Sprintf("已开启新的填报活动“%s”（编号 %s），截止时间 %s。\n“%s”（编号 %s）已停止填报，数据全部保留，可用 /summary %s、/export %s 查阅。",
		c.Title, c.ID, flows.FormatTime(c.Deadline, c.Location), closed.Title, closed.ID, closed.ID, closed.ID)
	b.sendText(ctx, u.chatID, text+"\n如需修改截止时间，发送 /deadline。")
	group, err := b.svc.OfficeGroup(ctx)
	if err == nil && group != 0 {
		b.sendText(ctx, group, text)
	}
	return nil
}

// campaignFile downloads the campaign file sent with (or replied to by)
// /newcampaign; ok is false when there is none or it is too big (the
// admin was told).
func (b *Bot) campaignFile(ctx context.Context, u *update) (data []byte, ok bool, err error) {
	doc := u.msg.Document
	if doc == nil && u.msg.ReplyToMessage != nil {
		doc = u.msg.ReplyToMessage.Document
	}
	if doc == nil {
		b.sendText(ctx, u.chatID, newCampaignHelp)
		return nil, false, nil
	}
	tooBig := "文件太大，填报活动文件最大 1 MB。填报活动没有变化。"
	if doc.FileSize > maxCampaignFile {
		b.sendText(ctx, u.chatID, tooBig)
		return nil, false, nil
	}
	data, err = b.download(ctx, doc.FileID, maxCampaignFile)
	if errors.Is(err, errTooBig) {
		b.sendText(ctx, u.chatID, tooBig)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// officeArgs reads the arguments of /summary and /export: an earlier
// campaign's id and, for /export, a format. The campaign is the open one
// when no id is given; an unknown id is refused, more words get usage (the
// user was told, ok is false).
func (b *Bot) officeArgs(ctx context.Context, u *update, formats map[string]bool, usage string) (c *flows.Campaign, format string, ok bool, err error) {
	id := ""
	for _, w := range strings.Fields(u.args) {
		if lw := strings.ToLower(w); formats[lw] {
			format = lw
			continue
		}
		if id != "" {
			b.sendText(ctx, u.chatID, usage)
			return nil, "", false, nil
		}
		id = w
	}
	if id == "" {
		return b.camp(), format, true, nil
	}
	c, err = b.svc.CampaignByID(ctx, id)
	var ue *flows.UserError
	if errors.As(err, &ue) {
		b.sendText(ctx, u.chatID, ue.Msg+"\n\n"+usage)
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	return c, format, true, nil
}
