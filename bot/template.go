package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"reportbot/flows"
	"reportbot/flows/sheet"
)

// The 报表 as a file: /template sends a unit's template (the contact's, in
// the private chat; any unit's or a blank one, in the office group), and a
// spreadsheet a contact sends is read as a filled template and applied to
// the unit's draft in one step (flows.Service.HandleTemplate).
//
// Which uploads are templates: any spreadsheet document (.xlsx, .xls,
// WPS .et…, by name or MIME type) is downloaded and read by
// sheet.ReadTemplate; a workbook with the template's hidden marker is a
// template upload. A spreadsheet without the marker is refused with a
// message that says what the bot takes: the form never accepts a
// spreadsheet as an answer (its documents are PDF, Word, WPS, OFD or
// photos), so nothing that went to the form before is lost. Every other
// file goes to the form as before.

// spreadsheetExts and spreadsheetMIMEs name spreadsheet documents.
var (
	spreadsheetExts  = []string{".xlsx", ".xlsm", ".xltx", ".xls", ".et", ".ett"}
	spreadsheetMIMEs = []string{"application/vnd.ms-excel", "application/kset", "application/wps-office.xlsx",
		"application/wps-office.xls", "application/wps-office.et"}
)

// isSpreadsheet reports whether a sent file is a spreadsheet, by its name
// or MIME type.
func isSpreadsheet(f *flows.File) bool {
	if f.Photo {
		return false
	}
	mime := strings.ToLower(f.MIME)
	return slices.Contains(spreadsheetExts, strings.ToLower(path.Ext(f.Name))) ||
		slices.Contains(spreadsheetMIMEs, mime) || strings.Contains(mime, "spreadsheetml")
}

// templateUpload reads a spreadsheet a contact sent as a filled template
// and applies it to the unit's draft: the answers and the summary, or
// every problem (nothing changes), or why it is not a template.
func (b *Bot) templateUpload(ctx context.Context, u *update, f flows.File) error {
	return b.contactStep(ctx, u, func(ct flows.Contact) (flows.Result, error) {
		unit, err := b.svc.LoadUnit(ctx, ct.UnitID)
		if err != nil {
			return flows.Result{}, err
		}
		up := b.camp().TemplateRefused(flows.FaultTooBig)
		if f.Size <= sheet.MaxTemplateSize {
			data, err := b.download(ctx, f.ID, sheet.MaxTemplateSize)
			switch {
			case errors.Is(err, errTooBig):
			case err != nil:
				return flows.Result{}, err
			default:
				up = sheet.ReadTemplate(data, b.camp(), unit)
			}
		}
		return b.svc.HandleTemplate(ctx, u.id, ct, up, flows.Origin{Chat: u.chatID})
	})
}

// contactTemplate: /template in the private chat — the contact's unit's
// template, with the answers given so far filled in.
func (b *Bot) contactTemplate(ctx context.Context, u *update) error {
	_, unit, ok, err := b.contactUnit(ctx, u.userID)
	switch {
	case err != nil:
		return err
	case !ok && b.isAdmin(u.userID):
		b.sendText(ctx, u.chatID, "填报模板请在市双拥办工作群中下载：发送 /template 单位名称 得到该单位的模板，发送 /template 得到通用模板。")
		return nil
	case !ok:
		b.sendText(ctx, u.chatID, msgNotBound)
		return nil
	}
	d, err := b.svc.UnitDraft(ctx, unit)
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	prefilled := false
	for _, r := range b.camp().TemplateRows(&unit, d.Answers) {
		prefilled = prefilled || r.Value != nil
	}
	return b.sendTemplate(ctx, u.chatID, &unit, d.Answers, b.camp().TemplateCaption(&unit, prefilled))
}

// officeTemplate: /template [名称] in the office group — a unit's blank
// template, or the blank template for any unit.
func (b *Bot) officeTemplate(ctx context.Context, u *update) error {
	var unit *flows.Unit
	if name := strings.TrimSpace(u.args); name != "" {
		x, ok, err := b.findUnit(ctx, u, name)
		if !ok || err != nil {
			return err
		}
		unit = &x
	}
	caption := b.camp().TemplateCaption(unit, false)
	if unit != nil {
		caption += "\n（只能由该单位的填报联系人在与机器人的私聊中发回。）"
	} else {
		caption += "\n发送 /template 单位名称 可下载某个单位的模板。"
	}
	return b.sendTemplate(ctx, u.chatID, unit, nil, flows.TruncateRunes(caption, 1000))
}

// sendTemplate writes a template and sends it as a document.
func (b *Bot) sendTemplate(ctx context.Context, chatID int64, unit *flows.Unit, answers map[string]flows.Answer, caption string) error {
	deadline, err := b.svc.Deadline(ctx)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := sheet.WriteTemplate(&buf, b.camp(), unit, answers, flows.FormatTime(deadline, b.camp().Location)); err != nil {
		return fmt.Errorf("write template: %w", err)
	}
	_ = b.sendDocument(ctx, chatID, flows.File{Name: sheet.TemplateFileName(unit)}, caption, buf.Bytes())
	return nil
}
