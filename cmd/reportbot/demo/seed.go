package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// Seeding: the demo starts with the office group set, the roster imported,
// a contact bound to most units through invite links, a few reports
// submitted and one half filled in. Everything a person does goes through
// the fake Bot API and the real bot (the office group's /setgroup, each
// contact's /start <token>, every answer), so the chats hold the real
// conversations; only the roster and the invites are written to the store
// directly, as the admin's /import and /invites would.

// settingSeeded marks a store the demo has seeded (a kept DATA_DIR).
const settingSeeded = "demo:seeded"

// unboundUnits are left without a contact, so that /invites and the invite
// links have something to show.
// The names as the roster spells them; the store keeps them normalised
// (flows.NormalizeName: full-width parentheses become half-width).
var unboundUnits = map[string]bool{"市科协": true, "示例企业乙（民营中型）": true, "驻吕某部": true}

// leftUnbound reports whether a stored unit is one of unboundUnits.
func leftUnbound(stored string) bool {
	for name := range unboundUnits {
		if n, err := flows.NormalizeName(name); err == nil && n == stored {
			return true
		}
	}
	return false
}

// submittedUnits have submitted when the demo starts; halfDoneUnit is half
// filled in.
var submittedUnits = []string{"孝义市双拥工作领导小组", "汾阳市双拥工作领导小组", "市民政局", "市总工会", "吕梁军分区"}

const halfDoneUnit = "文水县双拥工作领导小组"

// contactNames are the seeded contacts' names, by unit id.
var contactNames = []string{
	"王晓明", "李红梅", "张建军", "刘志强", "陈丽华", "杨帆", "赵磊", "黄海燕", "周斌", "吴静",
	"徐文博", "孙丽", "马俊", "朱晓燕", "胡军", "郭敏", "何涛", "高峰", "林霞", "罗勇",
	"郑颖", "梁超", "谢娜", "宋伟", "唐敏", "许亮", "韩雪", "冯刚", "邓琳", "曹阳",
	"彭辉", "曾珍", "田野", "董洁", "袁斌", "潘婷", "蒋涛", "蔡明", "贾瑞", "白杨",
}

// guestNames name the people who open an invite link on the page.
var guestNames = []string{"刘洋", "陈静", "李娜", "张伟", "王芳", "杨磊", "赵丹", "孙强"}

// seededContact is the seeded contact of a unit.
func seededContact(u flows.Unit) telegramtest.User {
	return telegramtest.User{ID: contactBase + u.ID, FirstName: contactNames[int(u.ID-1)%len(contactNames)]}
}

// seed prepares a fresh store, or makes the people of a kept one known to
// the fake again.
func (d *Server) seed(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := d.tg.WaitFor(ctx, func() bool { return d.tg.Polling() > 0 }); err != nil {
		return fmt.Errorf("the bot does not poll: %w", err)
	}
	d.tg.AddUser(adminUser)
	d.tg.AddUser(memberUser)
	d.tg.AddGroup(officeGroup)
	st := d.svc.Store
	_, err := st.Setting(ctx, settingSeeded)
	switch {
	case err == nil:
		return d.restore(ctx)
	case !errors.Is(err, flows.ErrNotFound):
		return fmt.Errorf("load %s: %w", settingSeeded, err)
	}

	d.tg.SendText(adminUser, officeGroup, "/setgroup")
	d.tg.SendText(adminUser, adminUser.Chat(), "/start")

	existing, err := st.Units(ctx)
	if err != nil {
		return fmt.Errorf("list units: %w", err)
	}
	roster, err := files.ReadFile("units.csv")
	if err != nil {
		return err
	}
	imp, probs := flows.ParseUnitsCSV(roster, d.camp, existing)
	if len(probs) > 0 {
		return fmt.Errorf("demo roster: %s", probs[0])
	}
	if _, err := st.AddUnits(ctx, imp.Add); err != nil {
		return fmt.Errorf("add units: %w", err)
	}
	units, err := st.Units(ctx)
	if err != nil {
		return fmt.Errorf("list units: %w", err)
	}
	if err := d.seedEarlier(ctx, units, d.openYAML); err != nil {
		return err
	}
	byName := map[string]flows.Unit{}
	for _, u := range units {
		byName[u.Name] = u
		if u.Removed || leftUnbound(u.Name) {
			continue
		}
		token, inv, err := flows.NewInvite(u.ID, d.clock.Now())
		if err != nil {
			return err
		}
		inv.CreatedBy = adminID
		if err := st.PutInvite(ctx, inv); err != nil {
			return fmt.Errorf("store invite of unit %d: %w", u.ID, err)
		}
		c := seededContact(u)
		d.remember(c)
		d.tg.AddUser(c)
		d.tg.SendText(c, c.Chat(), "/start "+token)
	}
	if err := d.settle(ctx); err != nil {
		return err
	}
	for _, name := range submittedUnits {
		if u, ok := byName[name]; ok {
			if err := d.fill(ctx, u, seededContact(u), 0); err != nil {
				return err
			}
		}
	}
	if u, ok := byName[halfDoneUnit]; ok {
		if err := d.fill(ctx, u, seededContact(u), 12); err != nil {
			return err
		}
	}
	return st.PutSetting(ctx, settingSeeded, d.clock.Now().Format(time.RFC3339))
}

// restore makes the contacts of a kept store known to the fake, so that the
// bot can write to them and the page can be them.
func (d *Server) restore(ctx context.Context) error {
	st := d.svc.Store
	units, err := st.Units(ctx)
	if err != nil {
		return fmt.Errorf("list units: %w", err)
	}
	for _, u := range units {
		cs, err := st.Contacts(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("contacts of unit %d: %w", u.ID, err)
		}
		for _, c := range cs {
			user := telegramtest.User{ID: c.UserID, FirstName: c.Name}
			if user.FirstName == "" {
				user.FirstName = "联系人"
			}
			d.remember(user)
			d.tg.AddUser(user)
		}
	}
	return nil
}

// settle waits until the bot has handled every update sent so far and
// delivered what it said.
func (d *Server) settle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.tg.WaitFor(ctx, func() bool { return d.tg.PendingUpdates() == 0 }); err != nil {
		return fmt.Errorf("the bot did not handle the updates in time: %w", err)
	}
	if err := d.tg.WaitFor(ctx, func() bool { return d.bot.Outbox().Pending() == 0 }); err != nil {
		return fmt.Errorf("the bot did not deliver its messages in time: %w", err)
	}
	return nil
}

// fill answers a unit's form as its contact c would, through the fake:
// upTo questions, or (upTo 0) all of them, then submits. The figures are
// made up but differ from unit to unit.
func (d *Server) fill(ctx context.Context, u flows.Unit, c telegramtest.User, upTo int) error {
	st := d.svc.Store
	d.tg.SendText(c, c.Chat(), "/report")
	if err := d.settle(ctx); err != nil {
		return err
	}
	stuck := 0
	for range 200 {
		dr, err := st.Draft(ctx, d.camp.Key, u.ID)
		if err != nil {
			return fmt.Errorf("draft of unit %d: %w", u.ID, err)
		}
		if dr.Status == flows.StatusSubmitted {
			return nil
		}
		if answered, _ := d.camp.Progress(dr, u.Category); upTo > 0 && answered >= upTo {
			return nil
		}
		if dr.Cursor == "" {
			err = d.pressLabel(ctx, c, "✅ 确认提交")
		} else {
			err = d.answer(ctx, c, u, dr, d.camp.Question(dr.Cursor), stuck > 0)
		}
		if err != nil {
			return fmt.Errorf("fill in the report of %s: %w", u.Name, err)
		}
		after, err := st.Draft(ctx, d.camp.Key, u.ID)
		if err != nil {
			return fmt.Errorf("draft of unit %d: %w", u.ID, err)
		}
		if after.Rev != dr.Rev {
			stuck = 0
		} else if stuck++; stuck > 2 {
			return fmt.Errorf("fill in the report of %s: the bot keeps asking %q", u.Name, dr.Cursor)
		}
	}
	return fmt.Errorf("fill in the report of %s: too many steps", u.Name)
}

// answer answers question q (plainly, with zero, when the first answer was
// refused).
func (d *Server) answer(ctx context.Context, c telegramtest.User, u flows.Unit, dr flows.Draft, q *flows.Question, plain bool) error {
	if q == nil {
		return fmt.Errorf("unknown question %q", dr.Cursor)
	}
	send := func(text string) error {
		d.tg.SendText(c, c.Chat(), text)
		return d.settle(ctx)
	}
	h := nameHash(u.Name + "/" + q.ID)
	switch q.Type {
	case flows.TypeInteger:
		v := demoFigure(u, q)
		if q.MaxOf != "" {
			v = min(v, dr.Answers[q.MaxOf].Num)
		}
		if q.Min != nil {
			v = max(v, int64(*q.Min))
		}
		if q.Max != nil {
			v = min(v, int64(*q.Max))
		}
		if plain {
			v = 0
		}
		return send(strconv.FormatInt(v, 10))
	case flows.TypeMoney:
		v := demoFigure(u, q) // hundredths of 万元
		if plain {
			v = 0
		}
		return send(flows.FormatMoney(v))
	case flows.TypePhone:
		return send(fmt.Sprintf("0358-%07d", 8400000+u.ID))
	case flows.TypeText:
		switch {
		case q.ID == "filler_name":
			return send(c.FirstName)
		case q.ID == "summary_text" || q.Required:
			return send(u.Name + "在元旦春节期间走访慰问驻地部队和优抚对象，开展双拥宣传教育活动，落实各项优抚政策，营造了浓厚的拥军优属氛围。")
		case q.ID == "highlights" && h%2 == 0:
			return send("开展“双拥进社区”活动，组织志愿者为军属家庭上门送春联、送温暖。")
		}
		return d.pressLabel(ctx, c, "跳过")
	case flows.TypeChoice:
		return d.pressLabel(ctx, c, q.Options[int(h)%len(q.Options)].Label)
	case flows.TypeMultiChoice:
		if err := d.pressLabel(ctx, c, q.Options[int(h)%len(q.Options)].Label); err != nil {
			return err
		}
		return d.pressLabel(ctx, c, "完成")
	case flows.TypeDocument:
		d.tg.Upload(c, c.ID, u.Name+"双拥工作专题报告.pdf", "application/pdf", samplePDF(u.Name))
		return d.settle(ctx)
	case flows.TypePhotos:
		d.tg.UploadPhoto(c, c.ID, samplePhoto(h))
		if err := d.settle(ctx); err != nil {
			return err
		}
		return d.pressLabel(ctx, c, "完成")
	}
	return fmt.Errorf("question %s: type %s", q.ID, q.Type)
}

// pressLabel presses, as c, the button whose text starts with label on the
// newest bot message in c's chat that has one.
func (d *Server) pressLabel(ctx context.Context, c telegramtest.User, label string) error {
	msgs := d.tg.Messages(c.ID)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range msgs[i].Buttons() {
			if strings.HasPrefix(b.Text, label) && b.Data != "" {
				if _, err := d.tg.Press(c, c.ID, msgs[i].MessageID, b.Data); err != nil {
					return err
				}
				return d.settle(ctx)
			}
		}
	}
	return fmt.Errorf("no button %q in the chat of user %d", label, c.ID)
}

func nameHash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// samplePDF is a one-page PDF standing in for a unit's signed report.
func samplePDF(unit string) []byte {
	title := fmt.Sprintf("Lvliang double-support report, unit %08x (reportbot demo)", nameHash(unit))
	content := "BT /F1 16 Tf 60 770 Td (" + title + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// samplePhoto is a small picture standing in for an activity photo.
func samplePhoto(seed uint32) []byte {
	const w, h = 480, 320
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	base := color.RGBA{R: 200, G: uint8(40 + seed%60), B: uint8(40 + seed/7%60), A: 255}
	for y := range h {
		for x := range w {
			c := base
			if (x/40+y/40)%2 == 0 {
				c.R -= 30
			}
			if y > h*2/3 {
				c = color.RGBA{R: 240, G: 200, B: 80, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
