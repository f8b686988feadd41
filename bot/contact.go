package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"reportbot/flows"
)

const (
	msgNoInvite = "您好！我是双拥工作情况报送机器人。\n您还没有绑定填报单位。请使用市双拥办发给您的邀请链接打开本机器人（链接形如 https://t.me/机器人?start=…），绑定后即可开始填报。"
	msgNotBound = "您还没有绑定填报单位，无法填报。请使用市双拥办发给您的邀请链接完成绑定；如没有收到链接，请联系市双拥办。"
)

// handlePrivate handles a message in a private chat. A /start with an
// invite token binds (Bind is idempotent in the store, so it needs no
// claim). Everything else from a stranger — neither a contact nor an
// admin — is answered best-effort and costs no store write; a stranger who
// floods is ignored for a while. A contact's or an admin's commands run
// once (claim → run → commit).
func (b *Bot) handlePrivate(ctx context.Context, u *update) error {
	if u.cmd == "start" && u.args != "" {
		if b.strangers.flooding(u.userID, time.Now()) {
			u.outcome = "ignored"
			return nil
		}
		return b.bind(ctx, u)
	}
	stranger, err := b.isStranger(ctx, u.userID)
	if err != nil {
		return err
	}
	if !stranger {
		return b.private(ctx, u, b.onceOnly)
	}
	if b.strangers.flooding(u.userID, time.Now()) {
		u.outcome = "ignored"
		return nil
	}
	bestEffort(ctx)
	return b.private(ctx, u, func(ctx context.Context, u *update, h func(context.Context, *update) error) error {
		return h(ctx, u)
	})
}

// isStranger reports whether the user is neither an admin nor a contact.
func (b *Bot) isStranger(ctx context.Context, userID int64) (bool, error) {
	if b.isAdmin(userID) {
		return false, nil
	}
	_, err := b.contact(ctx, userID)
	if errors.Is(err, flows.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("load contact %d: %w", userID, err)
	}
	return false, nil
}

// private routes a private message; once runs a command's handler (once
// only, or directly for a stranger).
func (b *Bot) private(ctx context.Context, u *update, once func(context.Context, *update, func(context.Context, *update) error) error) error {
	if u.cmd != "" {
		return b.runPrivateCommand(ctx, u, once)
	}
	in := flows.Input{Text: u.text}
	if f := fileOf(u.msg); f != nil {
		if isSpreadsheet(f) {
			return b.templateUpload(ctx, u, *f)
		}
		in.File = f
		in.Text = ""
	}
	return b.contactInput(ctx, u, in)
}

// fileOf turns a document or photo message into an engine file.
func fileOf(m *models.Message) *flows.File {
	if m == nil {
		return nil
	}
	if d := m.Document; d != nil {
		return &flows.File{ID: d.FileID, UniqueID: d.FileUniqueID, Name: d.FileName, MIME: d.MimeType, Size: d.FileSize}
	}
	if n := len(m.Photo); n > 0 {
		p := m.Photo[n-1] // the largest size
		return &flows.File{ID: p.FileID, UniqueID: p.FileUniqueID, Name: "照片.jpg", MIME: "image/jpeg", Size: int64(p.FileSize), Photo: true}
	}
	return nil
}

// contact returns the user's contact record, from the cache when possible.
// The cache is safe: every draft write checks membership in the store.
func (b *Bot) contact(ctx context.Context, userID int64) (flows.Contact, error) {
	b.mu.Lock()
	c, ok := b.contacts[userID]
	b.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := b.svc.Contact(ctx, userID)
	if err != nil {
		return c, err
	}
	b.rememberContact(c)
	return c, nil
}

// maxCachedContacts bounds the contact cache (a miss costs one store read).
const maxCachedContacts = 1024

func (b *Bot) rememberContact(c flows.Contact) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.contacts) >= maxCachedContacts {
		clear(b.contacts)
	}
	b.contacts[c.UserID] = c
}

func (b *Bot) forgetContact(userID int64) {
	b.mu.Lock()
	delete(b.contacts, userID)
	b.mu.Unlock()
}

// Reads and the contact cache. The cache spares a form step a store read:
// every draft write checks membership in the store (Store.Apply refuses a
// user who is no longer a contact of the unit), so a stale entry cannot
// change a report. A read shows the report without writing, and another
// replica may have handed the unit over or removed the contact since the
// entry was cached: the inputs that show the unit's report on purpose
// (/status, /report) and the commands that act for the unit (/template,
// /handover, /start) confirm the contact in the store first — one read, for
// a command, not for an answer.

// errFormerContact: the cache named a contact the store no longer has.
type errFormerContact struct{ unitID int64 }

func (e *errFormerContact) Error() string {
	return fmt.Sprintf("no longer a contact of unit %d", e.unitID)
}

// confirmedContact returns the user's contact record from the store and
// refreshes the cache with it. When the store has none but the cache had
// one, the error is an *errFormerContact naming the unit they left (wraps
// nothing: the caller tells them so); otherwise flows.ErrNotFound.
func (b *Bot) confirmedContact(ctx context.Context, userID int64) (flows.Contact, error) {
	b.mu.Lock()
	cached, had := b.contacts[userID]
	b.mu.Unlock()
	c, err := b.svc.Contact(ctx, userID)
	if errors.Is(err, flows.ErrNotFound) {
		b.forgetContact(userID)
		if had {
			return c, &errFormerContact{unitID: cached.UnitID}
		}
		return c, err
	}
	if err != nil {
		return c, err
	}
	b.rememberContact(c)
	return c, nil
}

// showsReport reports whether an input is one whose purpose is to show the
// unit's report (it may change nothing, and then no store write checks
// membership).
func showsReport(in flows.Input) bool {
	switch strings.TrimPrefix(in.Cmd, "/") {
	case "status", "report":
		return true
	}
	return false
}

// msgFormerContact tells a former contact why they see nothing.
func (b *Bot) msgFormerContact(ctx context.Context, unitID int64) string {
	name := "该单位"
	if u, err := b.svc.LoadUnit(ctx, unitID); err == nil {
		name = "“" + u.Name + "”"
	}
	return "您已不再是" + name + "的填报联系人（单位已交接给其他同事，或已由" + b.camp().Office + "调整），无法再查看或填报该单位的报告。如有疑问，请联系" + b.camp().Office + "。"
}

// contactUnit returns the user's contact record and unit, confirmed in the
// store (it serves commands that act for the unit); ok is false when the
// user is not a contact.
func (b *Bot) contactUnit(ctx context.Context, userID int64) (flows.Contact, flows.Unit, bool, error) {
	ct, err := b.confirmedContact(ctx, userID)
	var former *errFormerContact
	if errors.Is(err, flows.ErrNotFound) || errors.As(err, &former) {
		return ct, flows.Unit{}, false, nil
	}
	if err != nil {
		return ct, flows.Unit{}, false, fmt.Errorf("load contact %d: %w", userID, err)
	}
	unit, err := b.svc.LoadUnit(ctx, ct.UnitID)
	if err != nil {
		return ct, unit, false, err
	}
	return ct, unit, true, nil
}

// contactInput runs one input of a contact through the engine. An input
// that shows the report confirms the contact in the store; an answer uses
// the cache (its write is checked by the store).
func (b *Bot) contactInput(ctx context.Context, u *update, in flows.Input) error {
	lookup := b.contact
	if showsReport(in) {
		lookup = b.confirmedContact
	}
	return b.contactStepAs(ctx, u, lookup, func(ct flows.Contact) (flows.Result, error) {
		return b.svc.Handle(ctx, u.id, ct, in, flows.Origin{Chat: u.chatID, Pressed: u.cbMsgID})
	})
}

// contactStep runs one step of a contact (an input, an uploaded template)
// through the service, with the cached contact.
func (b *Bot) contactStep(ctx context.Context, u *update, step func(flows.Contact) (flows.Result, error)) error {
	return b.contactStepAs(ctx, u, b.contact, step)
}

// contactStepAs is contactStep with the contact looked up by lookup.
func (b *Bot) contactStepAs(ctx context.Context, u *update, lookup func(context.Context, int64) (flows.Contact, error), step func(flows.Contact) (flows.Result, error)) error {
	ct, err := lookup(ctx, u.userID)
	var former *errFormerContact
	if errors.As(err, &former) {
		u.outcome = "refused"
		u.unit = former.unitID
		if u.cb != nil {
			b.removeKeyboard(ctx, u.chatID, u.cbMsgID)
		}
		b.sendText(ctx, u.chatID, b.msgFormerContact(ctx, former.unitID))
		return nil
	}
	if errors.Is(err, flows.ErrNotFound) {
		u.outcome = "unbound"
		bestEffort(ctx)
		if u.cb != nil {
			b.removeKeyboard(ctx, u.chatID, u.cbMsgID)
		}
		b.sendText(ctx, u.chatID, msgNotBound)
		return nil
	}
	if err != nil {
		return fmt.Errorf("load contact %d: %w", u.userID, err)
	}
	u.unit = ct.UnitID
	// They write to us again: reachable (again), at this chat.
	ct, changed, err := b.svc.ReachedAt(ctx, ct, u.chatID)
	if err != nil {
		return err
	}
	if changed {
		b.rememberContact(ct)
	}
	res, err := step(ct)
	var ue *flows.UserError
	if errors.As(err, &ue) {
		b.forgetContact(u.userID)
		u.outcome = "refused"
		b.sendText(ctx, u.chatID, ue.Msg)
		return nil
	}
	if err != nil {
		return err
	}
	u.step = res.Draft.Cursor
	if !res.Changed {
		u.outcome = "unchanged"
	}
	u.pushed = res.Outbox
	if res.Report != nil {
		u.outcome = "submitted"
	}
	return nil
}

// startWithoutToken explains how to get an invite (or greets a contact).
func (b *Bot) startWithoutToken(ctx context.Context, u *update) error {
	_, unit, ok, err := b.contactUnit(ctx, u.userID)
	switch {
	case err != nil:
		return err
	case !ok && b.isAdmin(u.userID):
		b.sendText(ctx, u.chatID, "您好，管理员！发送 /help 查看管理命令。")
		return nil
	case !ok:
		b.sendText(ctx, u.chatID, msgNoInvite)
		return nil
	}
	b.greet(ctx, u.chatID, unit, "您已是“"+unit.Name+"”的填报联系人。")
	return nil
}

// bind consumes an invite token from /start <token>.
func (b *Bot) bind(ctx context.Context, u *update) error {
	token := u.args
	if !validToken(token) {
		b.sendText(ctx, u.chatID, "邀请链接无效。请确认打开的是市双拥办发给您的完整链接；如仍有问题，请联系市双拥办重新获取。")
		return nil
	}
	unit, added, err := b.svc.Bind(ctx, token, flows.Contact{UserID: u.userID, ChatID: u.chatID, Name: u.userName})
	if err != nil {
		return b.refuse(ctx, u, err)
	}
	b.forgetContact(u.userID)
	u.unit = unit.ID
	b.greet(ctx, u.chatID, unit, "绑定成功！您已成为“"+unit.Name+"”的填报联系人。")
	b.afterBind(ctx, unit, u)
	if added { // not the same Bind again
		b.postToGroup(ctx, "➕ “"+unit.Name+"”新增填报联系人："+contactName(flows.Contact{UserID: u.userID, Name: u.userName})+"。")
	}
	return nil
}

func validToken(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// greet tells a contact their unit, the campaign and the deadline, and
// offers to begin.
func (b *Bot) greet(ctx context.Context, chatID int64, unit flows.Unit, first string) {
	deadline, err := b.svc.Deadline(ctx)
	if err != nil {
		deadline = b.camp().Deadline
	}
	cat, _ := b.camp().Category(unit.Category)
	text := first + "\n\n" +
		"填报事项：" + b.camp().Title + "\n" +
		"通知文号：" + b.camp().Notice + "\n" +
		"单位类别：" + cat.Name + "\n" +
		"截止时间：" + flows.FormatTime(deadline, b.camp().Location) + "\n\n" +
		"点击下方“开始填报”或发送 /report 开始。填写过程中可随时暂停，已填内容会自动保存。"
	b.send(ctx, chatID, flows.Reply{Text: text, Buttons: [][]flows.Button{{{Text: "开始填报", Data: "go"}}}})
}
