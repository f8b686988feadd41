package flows_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/flows/flowstest"
	"reportbot/storage/bolt"
)

// failingReports is a store whose Reports fails for one unit.
type failingReports struct {
	flows.Store
	unit int64
}

var errBroken = errors.New("disk on fire")

func (s failingReports) Reports(ctx context.Context, campaign string, unitID int64) ([]flows.Report, error) {
	if unitID == s.unit {
		return nil, errBroken
	}
	return s.Store.Reports(ctx, campaign, unitID)
}

// TestLoadOverview reads a real store and gets what NewOverview makes of
// the same data.
func TestLoadOverview(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := flows.DefaultCampaign()
	now := time.Date(2022, 2, 3, 10, 0, 0, 0, c.Location)
	cats := []string{"county", "department", "organization", "enterprise", "military"}
	var us []flows.Unit
	for i := range 40 {
		us = append(us, flows.Unit{Name: "单位" + string(rune('甲'+i)), Category: cats[i%len(cats)], Created: now})
	}
	added, err := st.AddUnits(ctx, us)
	if err != nil {
		t.Fatal(err)
	}
	var data []flows.UnitData
	for i, u := range added {
		d := flows.UnitData{Unit: u, Draft: flows.Draft{UnitID: u.ID}}
		if i%4 != 0 { // a contact
			_, inv, err := flows.NewInvite(u.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.PutInvite(ctx, inv); err != nil {
				t.Fatal(err)
			}
			ct := flows.Contact{UserID: 1000 + u.ID, ChatID: 1000 + u.ID, Name: "联系人", BoundAt: now}
			if _, err := st.Bind(ctx, inv.Hash, ct, now); err != nil {
				t.Fatal(err)
			}
			ct.UnitID = u.ID
			d.Contacts = []flows.Contact{ct}
		}
		switch i % 3 {
		case 1: // submitted twice: the second version stands
			for v := 1; v <= 2; v++ {
				r := flows.Report{UnitID: u.ID, Version: v, Receipt: c.ReceiptNumber(u.ID, v), SubmittedAt: now.Add(time.Duration(v) * time.Minute), Answers: flowstest.SampleAnswers(c, u.Category, uint64(u.ID*10)+uint64(v))}
				nd := flows.Draft{UnitID: u.ID, Rev: d.Draft.Rev + 1, Status: flows.StatusSubmitted, Version: v, Receipt: r.Receipt, SubmittedAt: r.SubmittedAt, Answers: r.Answers, UpdatedAt: r.SubmittedAt}
				if err := st.Apply(ctx, flows.Transition{UnitID: u.ID, FromRev: d.Draft.Rev, Draft: nd, Report: &r}); err != nil {
					t.Fatal(err)
				}
				d.Draft, d.Latest = nd, &r
			}
		case 2: // filling
			nd := flows.Draft{UnitID: u.ID, Rev: 1, Status: flows.StatusFilling, Cursor: "essays", Answers: map[string]flows.Answer{"filler_name": {Text: "张三"}}, UpdatedAt: now}
			if err := st.Apply(ctx, flows.Transition{UnitID: u.ID, FromRev: 0, Draft: nd}); err != nil {
				t.Fatal(err)
			}
			d.Draft = nd
		}
		data = append(data, d)
	}
	removed := added[5]
	removed.Removed = true
	if err := st.PutUnit(ctx, removed); err != nil {
		t.Fatal(err)
	}
	data[5].Unit = removed

	got, err := flows.LoadOverview(ctx, st, c, c.Deadline, now)
	if err != nil {
		t.Fatalf("LoadOverview: %v", err)
	}
	want := flows.NewOverview(c, c.Deadline, now, data)
	if len(got.Units) != 39 {
		t.Fatalf("LoadOverview has %d units, want 39 (one removed)", len(got.Units))
	}
	for i := range want.Units {
		g, w := got.Units[i], want.Units[i]
		// Times come back from the store in an equal but not identical
		// zone: compare what the office's views use.
		same := g.Unit.ID == w.Unit.ID && g.Unit.Name == w.Unit.Name && g.Category.ID == w.Category.ID &&
			g.State == w.State && g.Status == w.Status && g.Answered == w.Answered && g.Questions == w.Questions &&
			len(g.Contacts) == len(w.Contacts) && (g.Latest == nil) == (w.Latest == nil)
		if same && g.Latest != nil {
			same = g.Latest.Version == w.Latest.Version && g.Latest.Receipt == w.Latest.Receipt && g.Latest.SubmittedAt.Equal(w.Latest.SubmittedAt)
		}
		if !same {
			t.Errorf("unit %d: LoadOverview = %+v\nNewOverview = %+v", w.Unit.ID, g, w)
		}
	}
	if !reflect.DeepEqual(got.Totals(), want.Totals()) {
		t.Errorf("LoadOverview totals differ from NewOverview's")
	}
	u := &got.Units[0]
	for i := range got.Units {
		if got.Units[i].Submitted() {
			u = &got.Units[i]
			break
		}
	}
	texts, err := got.LoadTexts(ctx, st, u)
	if err != nil {
		t.Fatalf("LoadTexts: %v", err)
	}
	var latest flows.Report
	for _, d := range data {
		if d.Unit.ID == u.Unit.ID {
			latest = *d.Latest
		}
	}
	if !reflect.DeepEqual(texts, got.Texts(u, latest)) {
		t.Errorf("LoadTexts = %q, want the texts of version %d", texts, latest.Version)
	}

	_, err = flows.LoadOverview(ctx, failingReports{st, added[1].ID}, c, c.Deadline, now)
	if !errors.Is(err, errBroken) {
		t.Errorf("LoadOverview over a failing store = %v, want the store's error", err)
	}
}
