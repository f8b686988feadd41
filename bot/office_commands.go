package bot

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"reportbot/flows"
	"reportbot/flows/sheet"
)

// The office's commands in the office group: /summary, /pending, /export
// and /docs. The dispatch (runGroupCommand) has already checked that the
// chat is the office group.

// maxUpload is the largest file the bot may upload (Telegram: 50 MB).
const maxUpload = 50 << 20

// pendingLimit bounds /pending to a few messages (the group may take 20
// messages a minute); the rest is in the export.
const pendingLimit = 3 * flows.MaxMessageLen

// overview loads the office's view of the campaign now.
func (b *Bot) overview(ctx context.Context) (*flows.Overview, error) {
	return b.svc.Overview(ctx)
}

// overviewOf loads the office's view of campaign c: the open one (with
// its cached deadline) or an earlier one.
func (b *Bot) overviewOf(ctx context.Context, c *flows.Campaign) (*flows.Overview, error) {
	if c == b.camp() {
		return b.svc.Overview(ctx)
	}
	return b.svc.OverviewOf(ctx, c)
}

// summary: /summary — progress and totals in one message; /summary 编号
// for an earlier campaign.
func (b *Bot) summary(ctx context.Context, u *update) error {
	c, _, ok, err := b.officeArgs(ctx, u, nil, "用法：/summary 查看当前填报活动的进度与合计；/summary 编号 查看往期填报活动（发送 /campaigns 查看编号）。")
	if !ok || err != nil {
		return err
	}
	o, err := b.overviewOf(ctx, c)
	if err != nil {
		return err
	}
	b.sendText(ctx, u.chatID, flows.SummaryText(o))
	return nil
}

// pending: /pending — the units to phone, by category.
func (b *Bot) pending(ctx context.Context, u *update) error {
	o, err := b.overview(ctx)
	if err != nil {
		return err
	}
	b.sendText(ctx, u.chatID, flows.PendingText(o, pendingLimit))
	return nil
}

// exportFormats are the formats /export takes.
var exportFormats = map[string]bool{"xlsx": true, "excel": true, "csv": true}

// export: /export (xlsx) or /export csv — the 报表 as a file; /export 编号
// [csv] for an earlier campaign.
func (b *Bot) export(ctx context.Context, u *update) error {
	c, format, ok, err := b.officeArgs(ctx, u, exportFormats, "用法：/export 导出 Excel 报表；/export csv 导出 CSV 文件；/export 编号 导出往期填报活动的报表（发送 /campaigns 查看编号）。")
	if !ok || err != nil {
		return err
	}
	if format != "csv" {
		format = "xlsx"
	}
	o, err := b.overviewOf(ctx, c)
	if err != nil {
		return err
	}
	texts := func(unit *flows.UnitOverview) ([]string, error) { return b.svc.OverviewTexts(ctx, o, unit) }
	var buf bytes.Buffer
	if format == "csv" {
		err = sheet.WriteCSV(&buf, o, texts)
	} else {
		err = sheet.WriteXLSX(&buf, o, texts)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", format, err)
	}
	if buf.Len() > maxUpload {
		b.sendText(ctx, u.chatID, fmt.Sprintf("报表文件太大（%.1f MB，Telegram 最多 50 MB），无法发送。请改用 /export 导出 Excel 文件。", float64(buf.Len())/(1<<20)))
		return nil
	}
	n := o.Count()
	caption := fmt.Sprintf("%s\n截至 %s：已提交 %d / %d 个单位。", o.Campaign.Title, flows.FormatTime(o.Now, o.Campaign.Location), n.Submitted, n.Total)
	if format == "xlsx" {
		caption += "\n含三张表：汇总表（各单位数据及小计、合计）、文字材料、未报单位。"
	} else {
		caption += "\nCSV 文件为汇总表（含文字材料列），用 Excel 打开即可。"
	}
	f := flows.File{Name: sheet.FileName(o, format)}
	_ = b.sendDocument(ctx, u.chatID, f, caption, buf.Bytes())
	return nil
}

// docs: /docs 名称 — resend a unit's 专题报告 and photos by file id.
func (b *Bot) docs(ctx context.Context, u *update) error {
	if u.args == "" {
		b.sendText(ctx, u.chatID, "用法：/docs 单位名称（可只写名称中的一部分，如 /docs 离石区）")
		return nil
	}
	unit, ok, err := b.findUnit(ctx, u, u.args)
	if !ok || err != nil {
		return err
	}
	r, returned, err := b.svc.LatestReport(ctx, unit)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	type doc struct {
		f       flows.File
		caption string
	}
	var docs []doc
	for _, q := range b.camp().Questions() {
		if q.Type != flows.TypeDocument && q.Type != flows.TypePhotos {
			continue
		}
		files := r.Answers[q.ID].Files
		title, _, _ := strings.Cut(q.Prompt, "：")
		for i, f := range files {
			c := fmt.Sprintf("%s · %s · 第 %d 版", unit.Name, title, r.Version)
			if len(files) > 1 {
				c += fmt.Sprintf("（%d/%d）", i+1, len(files))
			}
			docs = append(docs, doc{f, flows.TruncateRunes(c, 1000)})
		}
	}
	head := fmt.Sprintf("“%s”第 %d 版报告（回执编号 %s，提交时间 %s）", unit.Name, r.Version, r.Receipt, flows.FormatTime(r.SubmittedAt, b.camp().Location))
	if returned {
		head += "，该版本已退回修改"
	}
	if len(docs) == 0 {
		b.sendText(ctx, u.chatID, head+"中没有材料文件。")
		return nil
	}
	b.sendText(ctx, u.chatID, fmt.Sprintf("%s的材料共 %d 个文件：", head, len(docs)))
	for _, d := range docs {
		_ = b.sendDocument(ctx, u.chatID, d.f, d.caption, nil)
	}
	return nil
}

// findUnit finds a unit for the office by its exact name or, failing that,
// by a part of its name that only one unit has (flows.Service.FindUnit).
// It tells the chat when there is none or several.
func (b *Bot) findUnit(ctx context.Context, u *update, name string) (flows.Unit, bool, error) {
	unit, err := b.svc.FindUnit(ctx, strings.TrimSpace(name))
	if err != nil {
		return flows.Unit{}, false, b.refuse(ctx, u, err)
	}
	return unit, true, nil
}
