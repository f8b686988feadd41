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

// UnitOverview is one unit as the office sees it.
type UnitOverview struct {
	Unit     Unit
	Category Category // the unit's category (Name is the id if the campaign lost it)
	Contacts []Contact
	Draft    Draft
	// Latest is the newest submitted version; nil if none. A returned
	// unit keeps its returned version here, but it does not count.
	Latest *Report
	State  State
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
}

// NewOverview classifies the units (removed ones are dropped) and orders
// them by ID. Each UnitOverview needs Unit, Contacts, Draft and Latest;
// Category and State are filled in here.
func NewOverview(c *Campaign, deadline, now time.Time, units []UnitOverview) *Overview {
	o := &Overview{Campaign: c, Now: now, Deadline: deadline, Units: make([]UnitOverview, 0, len(units))}
	for _, u := range units {
		if u.Unit.Removed {
			continue
		}
		cat, ok := c.Category(u.Unit.Category)
		if !ok {
			cat = Category{ID: u.Unit.Category, Name: u.Unit.Category}
		}
		u.Category = cat
		u.State = classify(u)
		o.Units = append(o.Units, u)
	}
	slices.SortFunc(o.Units, func(a, b UnitOverview) int { return cmp.Compare(a.Unit.ID, b.Unit.ID) })
	return o
}

func classify(u UnitOverview) State {
	switch {
	case u.Draft.Status == StatusReturned:
		return StateReturned
	case u.Latest != nil:
		return StateSubmitted
	case len(u.Contacts) == 0:
		return StateNoContact
	case u.Draft.Status == StatusNew:
		return StateNotStarted
	}
	return StateFilling
}

// overviewWorkers bounds the concurrent store reads of LoadOverview.
const overviewWorkers = 8

// LoadOverview reads what the office needs from the store: every unit, its
// contacts, its draft and its newest submitted version. deadline is the
// effective deadline (Service.Deadline).
func LoadOverview(ctx context.Context, st Store, c *Campaign, deadline, now time.Time) (*Overview, error) {
	units, err := st.Units(ctx)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	drafts, err := st.Drafts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	byUnit := make(map[int64]Draft, len(drafts))
	for _, d := range drafts {
		byUnit[d.UnitID] = d
	}
	var rows []UnitOverview
	for _, u := range units {
		if u.Removed {
			continue
		}
		d, ok := byUnit[u.ID]
		if !ok {
			d = Draft{UnitID: u.ID}
		}
		rows = append(rows, UnitOverview{Unit: u, Draft: d})
	}

	// Contacts and reports are per unit: read them a few at a time.
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
			cancel()
		}
		mu.Unlock()
	}
	for range min(overviewWorkers, len(rows)) {
		wg.Go(func() {
			for i := range next {
				r := &rows[i]
				cts, err := st.Contacts(ctx, r.Unit.ID)
				if err != nil {
					fail(fmt.Errorf("contacts of unit %d: %w", r.Unit.ID, err))
					continue
				}
				r.Contacts = cts
				if r.Draft.Version == 0 {
					continue
				}
				reps, err := st.Reports(ctx, r.Unit.ID)
				if err != nil {
					fail(fmt.Errorf("reports of unit %d: %w", r.Unit.ID, err))
					continue
				}
				if n := len(reps); n > 0 {
					r.Latest = &reps[n-1]
				}
			}
		})
	}
feed:
	for i := range rows {
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
	return NewOverview(c, deadline, now, rows), nil
}

// Figure is the unit's submitted answer to a number question: ok is false
// when the unit has no standing version, the question does not apply to it
// or was skipped.
func (o *Overview) Figure(u *UnitOverview, q *Question) (n int64, ok bool) {
	if !u.Submitted() || u.Latest == nil || !q.IsNumber() {
		return 0, false
	}
	a, found := u.Latest.Answers[q.ID]
	if !found || a.Skipped || !o.Campaign.Applies(q, u.Unit.Category, u.Latest.Answers) {
		return 0, false
	}
	return a.Num, true
}

// Totals sums the standing versions of the submitted units (Campaign.Totals).
func (o *Overview) Totals() Totals {
	units := make([]Unit, 0, len(o.Units))
	var reports []Report
	for i := range o.Units {
		u := &o.Units[i]
		units = append(units, u.Unit)
		if u.Submitted() {
			reports = append(reports, *u.Latest)
		}
	}
	return o.Campaign.Totals(units, reports)
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

// Count tells how many units are in each state.
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
		if u.Unreachable() {
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
		done, total := o.Campaign.Progress(u.Draft, u.Unit.Category)
		s = fmt.Sprintf("填写中 %d/%d", done, total)
	case StateReturned:
		s = "退回修改"
		if r := u.Draft.Returned; r != nil && r.Reason != "" {
			s += "（原因：" + r.Reason + "）"
		}
	case StateSubmitted:
		s = fmt.Sprintf("已提交第 %d 版", u.Latest.Version)
		if u.Draft.Status == StatusRevising {
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
