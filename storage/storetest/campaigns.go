package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"reportbot/flows"
)

// Campaign keys of the suite's second and third campaigns; "" is the first.
const (
	campaign2 = "2023"
	campaign3 = "bayi-2023"
)

func draftIn(t *testing.T, s flows.Store, campaign string, unitID int64) flows.Draft {
	t.Helper()
	d, err := s.Draft(t.Context(), campaign, unitID)
	if err != nil {
		t.Fatalf("Draft(%q, %d) error: %v", campaign, unitID, err)
	}
	return d
}

func reportsIn(t *testing.T, s flows.Store, campaign string, unitID int64) []flows.Report {
	t.Helper()
	rs, err := s.Reports(t.Context(), campaign, unitID)
	if err != nil {
		t.Fatalf("Reports(%q, %d) error: %v", campaign, unitID, err)
	}
	return rs
}

func draftsIn(t *testing.T, s flows.Store, campaign string) []flows.Draft {
	t.Helper()
	ds, err := s.Drafts(t.Context(), campaign)
	if err != nil {
		t.Fatalf("Drafts(%q) error: %v", campaign, err)
	}
	return ds
}

// submitted returns d submitted as version v, and its report.
func submitted(d flows.Draft, v int, receipt string, by int64) (flows.Draft, flows.Report) {
	next := nextDraft(d, "summary_text", fmt.Sprintf("第%d版", v))
	next.Status = flows.StatusSubmitted
	next.Cursor = ""
	next.Version = v
	next.Receipt = receipt
	next.SubmittedAt = t0.Add(time.Duration(v) * time.Hour)
	return next, flows.Report{
		UnitID: d.UnitID, Version: v, Receipt: receipt, SubmittedAt: next.SubmittedAt,
		SubmittedBy: by, Answers: next.Answers,
	}
}

// campaignState is what one campaign holds for the units of a test.
type campaignState struct {
	drafts  map[int64]flows.Draft // by unit; absent: never started
	reports map[int64][]flows.Report
}

// checkCampaign checks that the store holds exactly want for the campaign,
// for the units ids (and nothing for the others).
func checkCampaign(t *testing.T, s flows.Store, campaign string, ids []int64, want campaignState, when string) {
	t.Helper()
	var wantDrafts []flows.Draft
	for _, id := range ids {
		d, ok := want.drafts[id]
		if !ok {
			d = flows.Draft{UnitID: id}
		} else {
			wantDrafts = append(wantDrafts, d)
		}
		if got := draftIn(t, s, campaign, id); !reflect.DeepEqual(got, d) {
			t.Errorf("%s: Draft(%q, %d) = %+v, want %+v", when, campaign, id, got, d)
		}
		if got := reportsIn(t, s, campaign, id); !sameReports(got, want.reports[id]) {
			t.Errorf("%s: Reports(%q, %d) = %d versions %+v, want %d %+v", when, campaign, id, len(got), got, len(want.reports[id]), want.reports[id])
		}
	}
	if got := draftsIn(t, s, campaign); !reflect.DeepEqual(got, wantDrafts) {
		t.Errorf("%s: Drafts(%q) = %+v, want %+v", when, campaign, got, wantDrafts)
	}
}

// sameReports is reflect.DeepEqual, but none is none whether nil or empty.
func sameReports(a, b []flows.Report) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

// testCampaignsApart: two campaigns side by side. One campaign's drafts,
// reports and Drafts list are never visible in the other's; each has its
// own revisions, so an Apply in one neither conflicts with nor changes the
// other; the units, contacts and the update dedupe are shared.
func testCampaignsApart(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	c := mustAddUnit(t, s, "市财政局", "department")
	ca := mustBind(t, s, a.ID, 51)
	cb := mustBind(t, s, b.ID, 52)
	ids := []int64{a.ID, b.ID, c.ID}
	first := campaignState{drafts: map[int64]flows.Draft{}, reports: map[int64][]flows.Report{}}
	second := campaignState{drafts: map[int64]flows.Draft{}, reports: map[int64][]flows.Report{}}

	// Campaign "": unit a submits version 1 and goes on to rev 3.
	da := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: ca.UserID, Draft: da})
	da2, ra := submitted(da, 1, "SY-2022-0001", ca.UserID)
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 2, UserID: ca.UserID, FromRev: 1, Draft: da2, Report: &ra})
	da3 := nextDraft(da2, "essays", "3")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 3, UserID: ca.UserID, FromRev: 2, Draft: da3})
	first.drafts[a.ID], first.reports[a.ID] = da3, []flows.Report{ra}
	checkCampaign(t, s, "", ids, first, "after unit a's steps in campaign \"\"")
	checkCampaign(t, s, campaign2, ids, second, "after unit a's steps in campaign \"\"")

	// Campaign 2023: unit a starts from rev 0 although it is at rev 3 in
	// "": no conflict with the other campaign's revision.
	d2a := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "李明")
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: a.ID, UpdateID: 10, UserID: ca.UserID, Draft: d2a})
	// A stale revision in 2023 conflicts, whatever the revision in "".
	for _, from := range []int64{0, 3} {
		stale := nextDraft(flows.Draft{UnitID: a.ID, Rev: from}, "essays", "stale")
		err := s.Apply(ctx, flows.Transition{Campaign: campaign2, UnitID: a.ID, UpdateID: 20 + from, FromRev: from, Draft: stale})
		if !errors.Is(err, flows.ErrConflict) {
			t.Errorf("Apply(campaign %q, from rev %d, stored rev 1 there and 3 in \"\") error = %v, want ErrConflict", campaign2, from, err)
		}
	}
	d2a2, r2a := submitted(d2a, 1, "SY-2023-0001", ca.UserID)
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: a.ID, UpdateID: 11, UserID: ca.UserID, FromRev: 1, Draft: d2a2, Report: &r2a})
	d2b := nextDraft(flows.Draft{UnitID: b.ID}, "filler_name", "王五")
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: b.ID, UpdateID: 12, UserID: cb.UserID, Draft: d2b})
	second.drafts[a.ID], second.reports[a.ID] = d2a2, []flows.Report{r2a}
	second.drafts[b.ID] = d2b
	checkCampaign(t, s, "", ids, first, "after steps in campaign 2023")
	checkCampaign(t, s, campaign2, ids, second, "after steps in campaign 2023")

	// Campaign "" goes on from its own revision: 2023's writes did not move it.
	da4, ra2 := submitted(da3, 2, "SY-2022-0001-2", ca.UserID)
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 4, UserID: ca.UserID, FromRev: 3, Draft: da4, Report: &ra2})
	first.drafts[a.ID], first.reports[a.ID] = da4, []flows.Report{ra, ra2}
	checkCampaign(t, s, "", ids, first, "after version 2 in campaign \"\"")
	checkCampaign(t, s, campaign2, ids, second, "after version 2 in campaign \"\"")

	// A campaign never written to is empty.
	checkCampaign(t, s, campaign3, ids, campaignState{}, "campaign never written")

	// Shared: the contact check and the update dedupe.
	stranger := nextDraft(flows.Draft{UnitID: c.ID}, "filler_name", "赵六")
	if err := s.Apply(ctx, flows.Transition{Campaign: campaign2, UnitID: c.ID, UpdateID: 30, UserID: ca.UserID, Draft: stranger}); !errors.Is(err, flows.ErrNotContact) {
		t.Errorf("Apply(campaign %q) by a contact of another unit error = %v, want ErrNotContact", campaign2, err)
	}
	dup := nextDraft(d2b, "essays", "again")
	if err := s.Apply(ctx, flows.Transition{Campaign: campaign3, UnitID: a.ID, UpdateID: 10, UserID: ca.UserID, Draft: nextDraft(flows.Draft{UnitID: a.ID}, "x", "y")}); !errors.Is(err, flows.ErrDuplicate) {
		t.Errorf("Apply(campaign %q, update 10 applied to the unit in campaign %q) error = %v, want ErrDuplicate (dedupe is per unit, across campaigns)", campaign3, campaign2, err)
	}
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: b.ID, UpdateID: 13, UserID: cb.UserID, FromRev: 1, Draft: dup})
	second.drafts[b.ID] = dup
	checkCampaign(t, s, "", ids, first, "at the end")
	checkCampaign(t, s, campaign2, ids, second, "at the end")
	checkCampaign(t, s, campaign3, ids, campaignState{}, "at the end, campaign never written")
}

// testCampaignSwitch: a new campaign opens while a contact is in the middle
// of the form of the old one. The old draft stays under the old key,
// untouched and still writable there (an admin's /reopen, a late answer);
// the same unit's draft under the new key starts empty.
func testCampaignSwitch(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	ct := mustBind(t, s, a.ID, 61)

	// Mid-form in the old campaign, with a pending answer and a cursor.
	old := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: ct.UserID, Draft: old})
	old2 := nextDraft(old, "filler_phone", "0358-8498917")
	old2.Pending = &flows.Answer{Picks: []string{"industry"}}
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 2, UserID: ct.UserID, FromRev: 1, Draft: old2})

	// The switch: the new campaign's draft is a fresh one.
	if got, want := draftIn(t, s, campaign2, a.ID), (flows.Draft{UnitID: a.ID}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Draft(%q, %d) of the new campaign while mid-form in the old = %+v, want an empty draft %+v", campaign2, a.ID, got, want)
	}
	fresh := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "李明")
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: a.ID, UpdateID: 3, UserID: ct.UserID, Draft: fresh})
	if got := draftIn(t, s, "", a.ID); !reflect.DeepEqual(got, old2) {
		t.Errorf("Draft(\"\", %d) after the new campaign's first step = %+v, want the old campaign's draft unchanged %+v", a.ID, got, old2)
	}
	if got := draftsIn(t, s, ""); !reflect.DeepEqual(got, []flows.Draft{old2}) {
		t.Errorf("Drafts(\"\") after the switch = %+v, want the old draft only", got)
	}

	// The old draft is still reachable and writable under its key (an
	// admin returning it: UserID 0), and the new one does not move.
	back := nextDraft(old2, "essays", "退回")
	back.Status = flows.StatusReturned
	mustApply(t, s, flows.Transition{UnitID: a.ID, FromRev: 2, Draft: back})
	if got := draftIn(t, s, "", a.ID); !reflect.DeepEqual(got, back) {
		t.Errorf("Draft(\"\", %d) after returning it = %+v, want %+v", a.ID, got, back)
	}
	if got := draftIn(t, s, campaign2, a.ID); !reflect.DeepEqual(got, fresh) {
		t.Errorf("Draft(%q, %d) after the old campaign's draft was returned = %+v, want %+v", campaign2, a.ID, got, fresh)
	}
	if rs := reportsIn(t, s, campaign2, a.ID); len(rs) != 0 {
		t.Errorf("Reports(%q, %d) = %+v, want none", campaign2, a.ID, rs)
	}
}

// testCampaignsRestart: the campaigns stay apart after a reopen.
func testCampaignsRestart(t *testing.T, open, reopen func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	ct := mustBind(t, s, a.ID, 71)
	d1 := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	d1s, r1 := submitted(d1, 1, "SY-2022-0001", ct.UserID)
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: ct.UserID, Draft: d1})
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 2, UserID: ct.UserID, FromRev: 1, Draft: d1s, Report: &r1})
	d2 := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "李明")
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: a.ID, UpdateID: 3, UserID: ct.UserID, Draft: d2})
	if err := s.Close(); err != nil {
		t.Fatalf("Close error: %v", err)
	}

	s = reopen(t)
	ids := []int64{a.ID}
	checkCampaign(t, s, "", ids, campaignState{
		drafts:  map[int64]flows.Draft{a.ID: d1s},
		reports: map[int64][]flows.Report{a.ID: {r1}},
	}, "after reopen")
	checkCampaign(t, s, campaign2, ids, campaignState{drafts: map[int64]flows.Draft{a.ID: d2}}, "after reopen")
	d2s, r2 := submitted(d2, 1, "SY-2023-0001", ct.UserID)
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: a.ID, UpdateID: 4, UserID: ct.UserID, FromRev: 1, Draft: d2s, Report: &r2})
	if got := reportsIn(t, s, campaign2, a.ID); !reflect.DeepEqual(got, []flows.Report{r2}) {
		t.Errorf("Reports(%q, %d) after reopen and a submission = %+v, want [%+v]", campaign2, a.ID, got, r2)
	}
}
