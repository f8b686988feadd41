package flowstest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"reportbot/flows"
)

// Setting units up directly in a store, for tests that are about what
// happens around a form (reminders, the office's commands) rather than the
// form itself. Everything is written to the store's first campaign (key
// "").

// Contact is a bound contact made by AddUnit: a Telegram user id (also the
// private chat's id) and a first name.
type Contact struct {
	ID   int64
	Name string
}

// AddUnit adds a unit and binds n contacts to it through invites, as the
// bot would. The contacts' ids are derived from the unit's id, so they are
// distinct across units.
func AddUnit(t testing.TB, st flows.Store, name, category string, n int, now time.Time) (flows.Unit, []Contact) {
	t.Helper()
	ctx := context.Background()
	u, err := st.AddUnit(ctx, flows.Unit{Name: name, Category: category, Created: now})
	if err != nil {
		t.Fatalf("AddUnit(%s): %v", name, err)
	}
	var cts []Contact
	for i := range n {
		ct := Contact{ID: 500000 + u.ID*10 + int64(i), Name: fmt.Sprintf("联系人%d-%d", u.ID, i+1)}
		_, inv, err := flows.NewInvite(u.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutInvite(ctx, inv); err != nil {
			t.Fatalf("PutInvite: %v", err)
		}
		if _, err := st.Bind(ctx, inv.Hash, flows.Contact{UserID: ct.ID, ChatID: ct.ID, Name: ct.Name}, now); err != nil {
			t.Fatalf("Bind(%d to %s): %v", ct.ID, name, err)
		}
		cts = append(cts, ct)
	}
	return u, cts
}

// ChangeDraft applies a change to a unit's draft as one transition; the
// change may return the report the transition stores.
func ChangeDraft(t testing.TB, st flows.Store, unitID int64, change func(d *flows.Draft) *flows.Report) {
	t.Helper()
	ctx := context.Background()
	d, err := st.Draft(ctx, "", unitID)
	if err != nil {
		t.Fatalf("Draft(%d): %v", unitID, err)
	}
	from := d.Rev
	d.Rev++
	rep := change(&d)
	if err := st.Apply(ctx, flows.Transition{UnitID: unitID, FromRev: from, Draft: d, Report: rep}); err != nil {
		t.Fatalf("Apply(unit %d): %v", unitID, err)
	}
}

// StartFilling puts the unit in the middle of the form.
func StartFilling(t testing.TB, st flows.Store, u flows.Unit, now time.Time) {
	t.Helper()
	ChangeDraft(t, st, u.ID, func(d *flows.Draft) *flows.Report {
		d.Status, d.Cursor, d.StartedAt, d.UpdatedAt = flows.StatusFilling, "essays", now, now
		d.Answers = map[string]flows.Answer{"filler_name": {Text: "张三"}, "filler_phone": {Text: "13912345678"}}
		return nil
	})
}

// Submit submits a version of the unit's report with SampleAnswers.
func Submit(t testing.TB, st flows.Store, c *flows.Campaign, u flows.Unit, now time.Time) {
	t.Helper()
	ChangeDraft(t, st, u.ID, func(d *flows.Draft) *flows.Report {
		d.Status, d.Cursor, d.Returned = flows.StatusSubmitted, "", nil
		d.Version++
		d.SubmittedAt, d.UpdatedAt = now, now
		d.Answers = SampleAnswers(c, u.Category, uint64(u.ID))
		d.Receipt = c.ReceiptNumber(u.ID, d.Version)
		return &flows.Report{UnitID: u.ID, Version: d.Version, Receipt: d.Receipt, SubmittedAt: now, Answers: d.Answers}
	})
}

// Return returns the unit's report for correction of veteran_cash.
func Return(t testing.TB, st flows.Store, u flows.Unit, reason string, now time.Time) {
	t.Helper()
	ChangeDraft(t, st, u.ID, func(d *flows.Draft) *flows.Report {
		d.Status = flows.StatusReturned
		d.Returned = &flows.Return{Reason: reason, Question: "veteran_cash", At: now}
		return nil
	})
}

// SetOfficeGroup makes chatID the office group.
func SetOfficeGroup(t testing.TB, st flows.Store, chatID int64) {
	t.Helper()
	if err := st.PutSetting(context.Background(), flows.SettingOfficeGroup, strconv.FormatInt(chatID, 10)); err != nil {
		t.Fatal(err)
	}
}
