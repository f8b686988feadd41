package flows

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// The office's view of a campaign: which units stand where, and the sums of
// the submitted figures. An Overview is built once per question the office
// asks (/summary, /pending, /export, the daily digest) from what the store
// holds; everything that renders it is a plain function of it.

// State is where a unit stands, as the office sees it.
type State int

const (
	StateNoContact  State = iota // no contact bound yet, nothing submitted
	StateNotStarted              // a contact is bound, the report was never started
	StateFilling                 // the first version is being filled in
	StateReturned                // returned for correction (退回修改), not yet resubmitted
	StateSubmitted               // a submitted version stands (the contact may be revising it)
)

// UnitData is what the store holds about one unit: the input of an
// overview.
type UnitData struct {
	Unit     Unit
	Contacts []Contact
	Draft    Draft
	Latest   *Report // the newest submitted version; nil if none
}

// UnitOverview is one unit as the office sees it. It keeps only what the
// office's views need — the figures but not the text answers (see Texts) —
// so that an overview of 10,000 units stays small.
type UnitOverview struct {
	Unit     Unit
	Category Category // the unit's category (Name is the id if the campaign lost it)
	Contacts []Contact
	State    State

	// From the draft.
	Status    Status  // the draft's status
	Returned  *Return // why the office returned it (StateReturned)
	Answered  int     // questions answered of Questions that apply now (StateFilling)
	Questions int
	UpdatedAt time.Time // last change of the draft

	// Latest is the newest submitted version; nil if none. A returned
	// unit keeps its returned version here, but it does not count.
	Latest *Submission

	// Outliers are the questions whose answers the standing version
	// confirmed as far from last year's (Report.Outliers).
	Outliers []string

	figures []figure // of a standing version, by Overview.numbers index
	prev    []figure // of the previous campaign's standing version (SetPrevious); nil if none
}

// Submission is which version of a unit's report was submitted, and when.
type Submission struct {
	Version     int
	Receipt     string
	SubmittedAt time.Time
}

// figure is a standing version's answer to a number question; ok is false
// when the question does not apply to the unit or was skipped.
type figure struct {
	n  int64
	ok bool
}

// Submitted reports whether the unit's latest version stands (counts in
// totals and exports).
func (u *UnitOverview) Submitted() bool { return u.State == StateSubmitted }

// Unreachable reports whether every contact of the unit blocked the bot.
func (u *UnitOverview) Unreachable() bool {
	if len(u.Contacts) == 0 {
		return false
	}
	for _, ct := range u.Contacts {
		if !ct.Unreachable {
			return false
		}
	}
	return true
}

// ContactNames lists the contacts' Telegram names, joined by 、.
func (u *UnitOverview) ContactNames() string {
	names := make([]string, 0, len(u.Contacts))
	for _, ct := range u.Contacts {
		n := strings.TrimSpace(ct.Name)
		if n == "" {
			n = fmt.Sprintf("用户%d", ct.UserID)
		}
		names = append(names, n)
	}
	return strings.Join(names, "、")
}

// Overview is the state of every unit of a campaign at one moment.
type Overview struct {
	Campaign *Campaign
	Now      time.Time
	Deadline time.Time      // the effective deadline
	Units    []UnitOverview // units not removed, in ID order

	numbers  []*Question // number questions, form order
	texts    []*Question // every other question, form order
	numIndex map[string]int

	prevCampaign  *Campaign   // of the previous figures (SetPrevious); nil if none
	prevQuestions []*Question // by numbers index: the question in prevCampaign, nil if none
}

func newOverview(c *Campaign, deadline, now time.Time) *Overview {
	o := &Overview{Campaign: c, Now: now, Deadline: deadline, numIndex: map[string]int{}}
	for _, q := range c.Questions() {
		if q.IsNumber() {
			o.numIndex[q.ID] = len(o.numbers)
			o.numbers = append(o.numbers, q)
		} else {
			o.texts = append(o.texts, q)
		}
	}
	return o
}

// NewOverview builds the overview of these units (removed ones are
// dropped), in ID order.
func NewOverview(c *Campaign, deadline, now time.Time, units []UnitData) *Overview {
	o := newOverview(c, deadline, now)
	o.Units = make([]UnitOverview, 0, len(units))
	for _, d := range units {
		if !d.Unit.Removed {
			o.Units = append(o.Units, o.project(d))
		}
	}
	o.sort()
	return o
}

func (o *Overview) sort() {
	slices.SortFunc(o.Units, func(a, b UnitOverview) int { return cmp.Compare(a.Unit.ID, b.Unit.ID) })
}

// project keeps of a unit's data what the office's views need.
func (o *Overview) project(d UnitData) UnitOverview {
	c := o.Campaign
	cat, ok := c.Category(d.Unit.Category)
	if !ok {
		cat = Category{ID: d.Unit.Category, Name: d.Unit.Category}
	}
	u := UnitOverview{
		Unit: d.Unit, Category: cat, Contacts: d.Contacts,
		Status: d.Draft.Status, UpdatedAt: d.Draft.UpdatedAt,
	}
	if r := d.Latest; r != nil {
		u.Latest = &Submission{Version: r.Version, Receipt: r.Receipt, SubmittedAt: r.SubmittedAt}
	}
	switch {
	case d.Draft.Status == StatusReturned:
		u.State = StateReturned
		u.Returned = d.Draft.Returned
	case d.Latest != nil:
		u.State = StateSubmitted
	case len(d.Contacts) == 0:
		u.State = StateNoContact
	case d.Draft.Status == StatusNew:
		u.State = StateNotStarted
	default:
		u.State = StateFilling
		u.Answered, u.Questions = c.Progress(d.Draft, d.Unit.Category)
	}
	if u.State != StateSubmitted {
		return u
	}
	answers := d.Latest.Answers
	u.Outliers = d.Latest.Outliers
	u.figures = make([]figure, len(o.numbers))
	for i, q := range o.numbers {
		if a, ok := answer(c, q, d.Unit.Category, answers); ok {
			u.figures[i] = figure{n: a.Num, ok: true}
		}
	}
	return u
}

// answer is the answer to q if the question applies to the unit and was
// not skipped.
func answer(c *Campaign, q *Question, category string, answers map[string]Answer) (Answer, bool) {
	a, ok := answers[q.ID]
	if !ok || a.Skipped || !c.Applies(q, category, answers) {
		return Answer{}, false
	}
	return a, true
}

// overviewWorkers bounds the concurrent store reads of LoadOverview.
const overviewWorkers = 8

// LoadOverview reads what the office needs from the store: every unit, its
// contacts, its draft and its newest submitted version. deadline is the
// effective deadline (Service.Deadline). It reads unit by unit, a few at a
// time, and keeps only the overview's projection of each, so that memory
// stays small with 10,000 units.
func LoadOverview(ctx context.Context, st Store, c *Campaign, deadline, now time.Time) (*Overview, error) {
	units, err := st.Units(ctx)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	units = slices.DeleteFunc(units, func(u Unit) bool { return u.Removed })
	o := newOverview(c, deadline, now)
	o.Units = make([]UnitOverview, len(units))

	load := func(ctx context.Context, u Unit) (UnitData, error) {
		d := UnitData{Unit: u}
		var err error
		if d.Contacts, err = st.Contacts(ctx, u.ID); err != nil {
			return d, fmt.Errorf("contacts of unit %d: %w", u.ID, err)
		}
		if d.Draft, err = st.Draft(ctx, c.Key, u.ID); err != nil {
			return d, fmt.Errorf("draft of unit %d: %w", u.ID, err)
		}
		if d.Draft.Version == 0 {
			return d, nil
		}
		reps, err := st.Reports(ctx, c.Key, u.ID)
		if err != nil {
			return d, fmt.Errorf("reports of unit %d: %w", u.ID, err)
		}
		if n := len(reps); n > 0 {
			d.Latest = &reps[n-1]
		}
		return d, nil
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(overviewWorkers, len(units)) {
		wg.Go(func() {
			for i := range next {
				d, err := load(ctx, units[i])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
					continue
				}
				o.Units[i] = o.project(d)
			}
		})
	}
feed:
	for i := range units {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load overview: %w", err)
	}
	o.sort()
	return o, nil
}

// Figure is the unit's submitted answer to a number question: ok is false
// when the unit has no standing version, the question does not apply to it
// or was skipped.
func (o *Overview) Figure(u *UnitOverview, q *Question) (n int64, ok bool) {
	i, found := o.numIndex[q.ID]
	if !found || u.figures == nil {
		return 0, false
	}
	f := u.figures[i]
	return f.n, f.ok
}

// TextQuestions are the questions that are not numbers, in form order.
func (o *Overview) TextQuestions() []*Question { return o.texts }

// Texts are a unit's answers to TextQuestions in its version r, as
// FormatAnswer shows them; "" where the question does not apply or was
// skipped. The overview does not keep them (they are most of a report's
// size): an export reads them unit by unit.
func (o *Overview) Texts(u *UnitOverview, r Report) []string {
	texts := make([]string, len(o.texts))
	for i, q := range o.texts {
		if a, ok := answer(o.Campaign, q, u.Unit.Category, r.Answers); ok {
			texts[i] = FormatAnswer(q, a)
		}
	}
	return texts
}

// LoadTexts reads the Texts of a submitted unit's standing version (the
// version the overview counted, even if a newer one came in since).
func (o *Overview) LoadTexts(ctx context.Context, st Store, u *UnitOverview) ([]string, error) {
	if !u.Submitted() {
		return nil, fmt.Errorf("texts of unit %d: %w", u.Unit.ID, ErrNotSubmitted)
	}
	reps, err := st.Reports(ctx, o.Campaign.Key, u.Unit.ID)
	if err != nil {
		return nil, fmt.Errorf("texts of unit %d: %w", u.Unit.ID, err)
	}
	for _, r := range reps {
		if r.Version == u.Latest.Version {
			return o.Texts(u, r), nil
		}
	}
	return nil, fmt.Errorf("texts of unit %d: version %d: %w", u.Unit.ID, u.Latest.Version, ErrNotFound)
}

// Totals are the sums of the standing versions, as Campaign.Totals sums
// reports (absent answers count 0), from the overview's projection.
func (o *Overview) Totals() Totals {
	return o.sum(func(u *UnitOverview) []figure { return u.figures })
}

// sum adds up, overall and by category, the figures of of every unit
// whose version stands this year (nil: none to add; the unit still
// counts in Units).
func (o *Overview) sum(of func(u *UnitOverview) []figure) Totals {
	zero := func() map[string]int64 {
		m := make(map[string]int64, len(o.numbers))
		for _, q := range o.numbers {
			m[q.ID] = 0
		}
		return m
	}
	t := Totals{Sums: zero(), ByCategory: map[string]CategoryTotals{}}
	for _, cat := range o.Campaign.Categories {
		t.ByCategory[cat.ID] = CategoryTotals{Sums: zero()}
	}
	for i := range o.Units {
		u := &o.Units[i]
		ct, ok := t.ByCategory[u.Unit.Category]
		if !ok {
			ct.Sums = zero()
		}
		ct.Units++
		if figs := of(u); u.Submitted() && figs != nil {
			t.Reports++
			ct.Reports++
			for k, f := range figs {
				id := o.numbers[k].ID
				t.Sums[id] += f.n
				ct.Sums[id] += f.n
			}
		}
		t.ByCategory[u.Unit.Category] = ct
	}
	return t
}

// CategoryGroup is the units of one category, in ID order.
type CategoryGroup struct {
	Category Category
	Units    []*UnitOverview
}

// Groups returns the units by category, in the campaign's category order
// (units of a category the campaign no longer has come last). Categories
// without units are included, so that a table shows every category.
func (o *Overview) Groups() []CategoryGroup {
	var gs []CategoryGroup
	at := map[string]int{}
	for _, cat := range o.Campaign.Categories {
		at[cat.ID] = len(gs)
		gs = append(gs, CategoryGroup{Category: cat})
	}
	for i := range o.Units {
		u := &o.Units[i]
		k, ok := at[u.Unit.Category]
		if !ok {
			k = len(gs)
			at[u.Unit.Category] = k
			gs = append(gs, CategoryGroup{Category: u.Category})
		}
		gs[k].Units = append(gs[k].Units, u)
	}
	return gs
}

// Count tells how many units are in each state. Unreachable counts the
// units without a standing version whose every contact blocked the bot.
type Count struct {
	Total, Submitted, Returned, Filling, NotStarted, NoContact, Unreachable int
}

// Pending is the number of units without a standing version.
func (n Count) Pending() int { return n.Total - n.Submitted }

func countUnits(us []*UnitOverview) Count {
	var n Count
	for _, u := range us {
		n.Total++
		switch u.State {
		case StateSubmitted:
			n.Submitted++
		case StateReturned:
			n.Returned++
		case StateFilling:
			n.Filling++
		case StateNotStarted:
			n.NotStarted++
		case StateNoContact:
			n.NoContact++
		}
		if u.Unreachable() && !u.Submitted() {
			n.Unreachable++
		}
	}
	return n
}

// Count counts all units by state.
func (o *Overview) Count() Count {
	us := make([]*UnitOverview, len(o.Units))
	for i := range o.Units {
		us[i] = &o.Units[i]
	}
	return countUnits(us)
}

// Newest is the unit whose standing version was submitted last (nil if none).
func (o *Overview) Newest() *UnitOverview {
	var newest *UnitOverview
	for i := range o.Units {
		u := &o.Units[i]
		if u.Submitted() && (newest == nil || u.Latest.SubmittedAt.After(newest.Latest.SubmittedAt)) {
			newest = u
		}
	}
	return newest
}

// StateText is the unit's state in one phrase for the office:
// 未绑定联系人, 已绑定，未开始填写, 填写中 12/30, 退回修改（原因：…）,
// 已提交第 2 版, with 联系人已屏蔽机器人 when no contact can be reached.
func (o *Overview) StateText(u *UnitOverview) string {
	var s string
	switch u.State {
	case StateNoContact:
		s = "未绑定联系人"
	case StateNotStarted:
		s = "已绑定，未开始填写"
	case StateFilling:
		s = fmt.Sprintf("填写中 %d/%d", u.Answered, u.Questions)
	case StateReturned:
		s = "退回修改"
		if r := u.Returned; r != nil && r.Reason != "" {
			s += "（原因：" + r.Reason + "）"
		}
	case StateSubmitted:
		s = fmt.Sprintf("已提交第 %d 版", u.Latest.Version)
		if u.Status == StatusRevising {
			s += "，修改中"
		}
	}
	if u.Unreachable() {
		s += "；联系人已屏蔽机器人"
	}
	return s
}

// ShortName is the category's short name for tight places (its first
// alias, e.g. 县市区), else its name.
func ShortName(cat Category) string {
	if len(cat.Aliases) > 0 {
		return cat.Aliases[0]
	}
	return cat.Name
}
