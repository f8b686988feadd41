package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"reportbot/flows"
)

// Typical lengths of free text, in runes, for the text questions of the
// form in order (filler names are short and handled apart).
var textRunes = []int{150, 60, 30}

// textSample is report prose, sliced without overlap for the text answers
// (a repeated text would flatter any compression).
const textSample = "我单位按照市双拥办通知要求，认真组织开展元旦春节期间拥军优属拥政爱民活动。" +
	"节前，单位主要领导带队走访慰问驻地部队官兵，送去米面油等慰问物资，并召开军地座谈会，" +
	"听取部队在训练保障、家属就业、子女入学等方面的意见建议，现场协调解决实际困难三件。" +
	"同时，组织志愿者深入社区看望退役军人、军烈属和困难优抚对象，发放春联年画和慰问金，" +
	"为立功受奖官兵家庭送去喜报。通过微信公众号、抖音等平台发布双拥信息二十余条，" +
	"在城区主干道户外大屏滚动播放双拥公益广告，营造了浓厚的节日氛围。" +
	"特色做法：建立军地联席会议制度，每季度召开一次，推动实事项目落地见效；" +
	"设立退役军人服务窗口，实行首问负责和限时办结。存在问题：部分乡镇对双拥工作重视不够，" +
	"宣传形式较为单一，经费保障有待加强。建议上级加大对基层双拥工作的指导和支持力度。"

// FullDraft returns a realistic draft of the default campaign at the
// summary: every question of the form answered with typical values (three
// short paragraphs of Chinese text, a PDF, three photos, Telegram-sized file
// ids). Its size is what a store keeps per unit at the end of the form.
func FullDraft(unitID int64) flows.Draft {
	c := flows.DefaultCampaign()
	r := rand.New(rand.NewPCG(uint64(unitID), 1))
	d := flows.Draft{
		UnitID:    unitID,
		Status:    flows.StatusFilling, // Cursor "": at the summary
		Answers:   map[string]flows.Answer{},
		StartedAt: t0,
		UpdatedAt: t0.Add(25 * time.Minute),
	}
	texts := 0
	sample := []rune(textSample)
	for _, q := range c.Questions() {
		var a flows.Answer
		switch q.Type {
		case flows.TypeInteger:
			a.Num = r.Int64N(300)
		case flows.TypeMoney:
			a.Num = r.Int64N(100_000)
		case flows.TypePhone:
			a.Text = "0358-8498917"
		case flows.TypeText:
			if q.MaxLen > 0 && q.MaxLen <= 50 {
				a.Text = "张晓明"
				break
			}
			a.Text = string(sample[:textRunes[texts%len(textRunes)]])
			sample = sample[textRunes[texts%len(textRunes)]:]
			texts++
		case flows.TypeChoice:
			a.Text = q.Options[0].ID
		case flows.TypeMultiChoice:
			for _, o := range q.Options[:min(2, len(q.Options))] {
				a.Picks = append(a.Picks, o.ID)
			}
		case flows.TypeDocument:
			a.Files = []flows.File{{
				ID: fileID(r, "BQACAgUAAxkBAAI", 71), UniqueID: fileID(r, "AgAD", 16),
				Name: "关于2022年元旦春节期间双拥工作情况的报告.pdf", MIME: "application/pdf", Size: 352_118,
			}}
		case flows.TypePhotos:
			for range 3 {
				a.Files = append(a.Files, flows.File{
					ID: fileID(r, "AgACAgUAAxkBAAI", 84), UniqueID: fileID(r, "AQAD", 16),
					Size: 180_000 + r.Int64N(100_000), Photo: true,
				})
			}
		default:
			panic(fmt.Sprintf("storetest: question %s has unknown type %q", q.ID, q.Type))
		}
		d.Answers[q.ID] = a
	}
	return d
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func fileID(r *rand.Rand, prefix string, n int) string {
	b := []byte(prefix)
	for len(b) < n {
		b = append(b, base64URL[r.IntN(len(base64URL))])
	}
	return string(b)
}

// Stepper drives one unit of a store through form steps, for benchmarks:
// each Step is what the service does for one message of a contact, a
// Draft followed by an Apply of the changed draft.
type Stepper struct {
	s      flows.Store
	unit   int64
	user   int64
	qs     []string // number questions whose answers the steps change
	update int64
}

// Answers is the number of answers of the draft the Stepper's steps work on,
// a contact in the middle of the form.
const Answers = 30

// NewStepper adds a unit with a bound contact to s and stores a draft with
// Answers answers for it.
func NewStepper(tb testing.TB, s flows.Store) *Stepper {
	tb.Helper()
	ctx := context.Background()
	st := &Stepper{s: s}
	u, err := s.AddUnit(ctx, flows.Unit{Name: fmt.Sprintf("基准单位%d", time.Now().UnixNano()), Category: "county"})
	if err != nil {
		tb.Fatalf("AddUnit error: %v", err)
	}
	st.unit = u.ID
	st.user = 1_000_000 + u.ID // one contact per Stepper
	h := Hash(fmt.Sprintf("bench-%d", u.ID))
	if err := s.PutInvite(ctx, flows.Invite{Hash: h, UnitID: u.ID, Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
		tb.Fatalf("PutInvite error: %v", err)
	}
	if _, err := s.Bind(ctx, h, flows.Contact{UserID: st.user, ChatID: st.user}, t0); err != nil {
		tb.Fatalf("Bind error: %v", err)
	}

	full := FullDraft(u.ID)
	d := flows.Draft{UnitID: u.ID, Rev: 1, Status: flows.StatusFilling, Answers: map[string]flows.Answer{}, StartedAt: t0}
	for _, q := range flows.DefaultCampaign().Questions() {
		if len(d.Answers) == Answers {
			d.Cursor = q.ID
			break
		}
		d.Answers[q.ID] = full.Answers[q.ID]
		if q.IsNumber() {
			st.qs = append(st.qs, q.ID)
		}
	}
	st.update = 1
	if err := s.Apply(ctx, flows.Transition{UnitID: u.ID, UpdateID: st.update, UserID: st.user, Draft: d}); err != nil {
		tb.Fatalf("Apply error: %v", err)
	}
	return st
}

// UnitID is the unit the Stepper works on.
func (st *Stepper) UnitID() int64 { return st.unit }

// Step loads the draft, changes one answer and applies the new draft.
func (st *Stepper) Step(ctx context.Context) error {
	d, err := st.s.Draft(ctx, "", st.unit)
	if err != nil {
		return fmt.Errorf("draft: %w", err)
	}
	st.update++
	from := d.Rev
	q := st.qs[int(st.update)%len(st.qs)]
	d.Answers[q] = flows.Answer{Num: st.update}
	d.Rev++
	d.UpdatedAt = t0.Add(time.Duration(st.update) * time.Second)
	t := flows.Transition{UnitID: st.unit, UpdateID: st.update, UserID: st.user, FromRev: from, Draft: d}
	if err := st.s.Apply(ctx, t); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}

// Summary applies FullDraft to the unit: the state kept at the summary.
func (st *Stepper) Summary(ctx context.Context) error {
	d, err := st.s.Draft(ctx, "", st.unit)
	if err != nil {
		return fmt.Errorf("draft: %w", err)
	}
	full := FullDraft(st.unit)
	full.Rev = d.Rev + 1
	st.update++
	return st.s.Apply(ctx, flows.Transition{UnitID: st.unit, UpdateID: st.update, UserID: st.user, FromRev: d.Rev, Draft: full})
}

// ServiceStepper drives one contact through flows.Service the way the bot
// does: each Step is one real form step (an answer, then 上一题 back to the
// same question), with the service's caches warm, so a benchmark measures
// what one step costs the store in production: the draft and the step's
// replies (the outbox) in one write. The replies are left in the outbox.
type ServiceStepper struct {
	svc     *flows.Service
	contact flows.Contact
	back    string // callback data of the last 上一题 button
	answer  bool
	update  int64

	// Messages counts the outbox messages the steps wrote.
	Messages int
}

// NewServiceStepper binds a contact to a fresh county unit and brings it to
// the form's third question, in the store's first campaign (key "").
func NewServiceStepper(tb testing.TB, s flows.Store) *ServiceStepper {
	tb.Helper()
	return NewServiceStepperIn(tb, s, "")
}

// NewServiceStepperIn is NewServiceStepper in the campaign with this store
// key (the default campaign's form).
func NewServiceStepperIn(tb testing.TB, s flows.Store, campaign string) *ServiceStepper {
	tb.Helper()
	ctx := context.Background()
	u, err := s.AddUnit(ctx, flows.Unit{Name: fmt.Sprintf("基准单位%d", rand.Int64()), Category: "county"})
	if err != nil {
		tb.Fatal(err)
	}
	token, inv, err := flows.NewInvite(u.ID, t0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.PutInvite(ctx, inv); err != nil {
		tb.Fatal(err)
	}
	c := flows.Contact{UserID: 800000 + u.ID, ChatID: 800000 + u.ID}
	if _, err := s.Bind(ctx, flows.HashToken(token), c, t0); err != nil {
		tb.Fatal(err)
	}
	c.UnitID = u.ID
	camp := flows.DefaultCampaign()
	camp.Key = campaign
	st := &ServiceStepper{svc: flows.NewService(s, camp, func() time.Time { return t0 }), contact: c, update: 1, answer: true}
	for _, in := range []flows.Input{{Cmd: "report"}, {Text: "王晓明"}, {Text: "13912345678"}} {
		if _, err := st.handle(ctx, in); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}

func (st *ServiceStepper) handle(ctx context.Context, in flows.Input) (flows.Result, error) {
	st.update++
	from := flows.Origin{Chat: st.contact.ChatID}
	if in.Data != "" {
		from.Pressed = int(st.update) // the message whose button was pressed
	}
	res, err := st.svc.Handle(ctx, st.update, st.contact, in, from)
	if err != nil {
		return res, err
	}
	for _, m := range res.Outbox {
		if m.ID == "" {
			return res, fmt.Errorf("input %+v: message %s written without an ID", in, m)
		}
	}
	st.Messages += len(res.Outbox)
	for _, r := range res.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.Text == "上一题" {
					st.back = b.Data
				}
			}
		}
	}
	return res, nil
}

// Step makes one form step and fails unless it changed the draft.
func (st *ServiceStepper) Step(ctx context.Context) error {
	in := flows.Input{Text: "3"}
	if !st.answer {
		in = flows.Input{Data: st.back}
	}
	st.answer = !st.answer
	res, err := st.handle(ctx, in)
	if err != nil {
		return err
	}
	if !res.Changed {
		return fmt.Errorf("step %+v changed nothing", in)
	}
	return nil
}
