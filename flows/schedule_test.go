package flows

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// cst builds a time in China Standard Time.
func cst(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2022, month, day, hour, minute, 0, 0, shanghai)
}

// campaignWith returns the default campaign with its schedule changed.
func campaignWith(change func(s *Schedule)) *Campaign {
	c := DefaultCampaign()
	change(&c.Schedule)
	return c
}

func fmtRound(r Round) string {
	return fmt.Sprintf("%s %s %d", r.At.In(shanghai).Format("01-02 Mon 15:04"), r.Kind, r.DaysLeft)
}

func fmtRounds(rs []Round) string {
	var s []string
	for _, r := range rs {
		s = append(s, fmtRound(r))
	}
	return strings.Join(s, "\n")
}

// walkLadder runs the ladder like the scheduler does: it asks DueRound every
// ten minutes from from to to and "fires" each round once (it remembers the
// last fired round, as the scheduler stores it).
func walkLadder(c *Campaign, deadline, from, to time.Time) []Round {
	var fired []Round
	var last time.Time
	for now := from; now.Before(to); now = now.Add(10 * time.Minute) {
		r, ok := c.DueRound(deadline, now)
		if !ok || !r.At.After(last) {
			continue
		}
		last = r.At
		fired = append(fired, r)
	}
	return fired
}

// TestLadder2022 walks the default campaign day by day from mid-January to
// the end of February: the 7-days-before reminder (3 Feb, in the Spring
// Festival break) moves to Sunday 30 Jan, a 调休 working day; the others
// fall on working days; after the deadline one round every working day,
// weekends skipped.
func TestLadder2022(t *testing.T) {
	c := DefaultCampaign()
	want := []string{
		"01-30 Sun 09:00 before 11",
		"02-07 Mon 09:00 before 3",
		"02-09 Wed 09:00 before 1",
		"02-10 Thu 09:00 day 0",
		"02-11 Fri 09:00 after -1",
		"02-14 Mon 09:00 after -4",
		"02-15 Tue 09:00 after -5",
		"02-16 Wed 09:00 after -6",
		"02-17 Thu 09:00 after -7",
		"02-18 Fri 09:00 after -8",
		"02-21 Mon 09:00 after -11",
		"02-22 Tue 09:00 after -12",
	}
	from, to := cst(1, 15, 0, 0), cst(2, 23, 0, 0)
	got := fmtRounds(walkLadder(c, c.Deadline, from, to))
	if got != strings.Join(want, "\n") {
		t.Errorf("walking the 2022 ladder fired:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	// ReminderRounds gives the same plan in one call.
	if plan := fmtRounds(c.ReminderRounds(c.Deadline, from, to)); plan != got {
		t.Errorf("ReminderRounds(%v, %v) =\n%s\nwant the walked ladder:\n%s", from, to, plan, got)
	}
}

// TestLadderDayByDay checks, for every day of the campaign, what is due at
// a few times of the day.
func TestLadderDayByDay(t *testing.T) {
	c := DefaultCampaign()
	rounds := map[string]string{ // day → the round of that day
		"01-30": "01-30 Sun 09:00 before 11",
		"02-07": "02-07 Mon 09:00 before 3",
		"02-09": "02-09 Wed 09:00 before 1",
		"02-10": "02-10 Thu 09:00 day 0",
		"02-11": "02-11 Fri 09:00 after -1",
		"02-14": "02-14 Mon 09:00 after -4",
		"02-15": "02-15 Tue 09:00 after -5",
	}
	for day := cst(1, 20, 0, 0); day.Before(cst(2, 16, 0, 0)); day = day.AddDate(0, 0, 1) {
		key := day.Format("01-02")
		for _, tc := range []struct {
			h, m int
			due  bool // whether the day's round (if any) is due
		}{
			{7, 30, false}, // quiet hours
			{8, 59, false}, // before the round
			{9, 0, true},   // the round's time
			{9, 5, true},   // a restart a few minutes late catches it up
			{17, 0, true},  // still the same day
			{21, 59, true},
			{22, 30, false}, // quiet hours again: no catching up at night
		} {
			now := time.Date(day.Year(), day.Month(), day.Day(), tc.h, tc.m, 0, 0, shanghai)
			r, ok := c.DueRound(c.Deadline, now)
			want, has := rounds[key]
			wantOK := has && tc.due
			if ok != wantOK || ok && fmtRound(r) != want {
				t.Errorf("DueRound(deadline, %s) = %s, %v; want %s, %v", now.Format("01-02 15:04"), fmtRound(r), ok, want, wantOK)
			}
		}
	}
}

func TestLadderShifts(t *testing.T) {
	tests := []struct {
		name     string
		c        *Campaign
		deadline time.Time
		from, to time.Time
		want     []string
	}{
		{
			name: "deadline in the holiday: rounds merge on the last working day before it",
			c:    DefaultCampaign(), deadline: cst(2, 5, 18, 0),
			from: cst(1, 20, 0, 0), to: cst(2, 9, 0, 0),
			want: []string{
				"01-29 Sat 09:00 before 7", // 调休 working Saturday
				"01-30 Sun 09:00 before 6", // 3, 1 and 0 days before all fall in 春节
				"02-07 Mon 09:00 after -2", // first working day after the break
				"02-08 Tue 09:00 after -3",
			},
		},
		{
			name: "ordinary weekends move to Friday",
			c: campaignWith(func(s *Schedule) {
				s.Holidays, s.Workdays = nil, nil
				s.RemindDaysBefore = []int{2, 1}
			}),
			deadline: cst(3, 7, 18, 0), // a Monday
			from:     cst(3, 1, 0, 0), to: cst(3, 8, 0, 0),
			want: []string{"03-04 Fri 09:00 before 3"},
		},
		{
			name: "no reminders after the deadline unless remind_after",
			c: campaignWith(func(s *Schedule) {
				s.RemindAfter = false
			}),
			deadline: cst(2, 10, 18, 0),
			from:     cst(2, 8, 0, 0), to: cst(2, 20, 0, 0),
			want: []string{"02-09 Wed 09:00 before 1", "02-10 Thu 09:00 day 0"},
		},
		{
			name: "a deadline before remind_at drops the deadline-day round",
			c:    DefaultCampaign(), deadline: cst(2, 10, 8, 30),
			from: cst(2, 9, 0, 0), to: cst(2, 12, 0, 0),
			want: []string{"02-09 Wed 09:00 before 1", "02-11 Fri 09:00 after -1"},
		},
		{
			name: "remind_at in the morning quiet hours moves to their end",
			c: campaignWith(func(s *Schedule) {
				s.RemindAt = "07:00"
			}),
			deadline: cst(2, 10, 18, 0),
			from:     cst(2, 9, 0, 0), to: cst(2, 11, 0, 0),
			want: []string{"02-09 Wed 08:00 before 1", "02-10 Thu 08:00 day 0"},
		},
		{
			name: "remind_at in the evening quiet hours moves to that morning",
			c: campaignWith(func(s *Schedule) {
				s.RemindAt = "23:00"
			}),
			deadline: cst(2, 10, 18, 0),
			from:     cst(2, 9, 0, 0), to: cst(2, 11, 0, 0),
			want: []string{"02-09 Wed 08:00 before 1", "02-10 Thu 08:00 day 0"},
		},
		{
			name: "the deadline moved later by an admin moves the ladder",
			c:    DefaultCampaign(), deadline: cst(2, 18, 18, 0),
			from: cst(2, 1, 0, 0), to: cst(2, 22, 0, 0),
			want: []string{
				"02-11 Fri 09:00 before 7",
				"02-15 Tue 09:00 before 3",
				"02-17 Thu 09:00 before 1",
				"02-18 Fri 09:00 day 0",
				"02-21 Mon 09:00 after -3",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fmtRounds(tt.c.ReminderRounds(tt.deadline, tt.from, tt.to))
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("ReminderRounds(%s) =\n%s\nwant:\n%s", tt.deadline.Format("01-02 15:04"), got, want)
			}
			if walked := fmtRounds(walkLadder(tt.c, tt.deadline, tt.from, tt.to)); walked != got {
				t.Errorf("walking DueRound fired:\n%s\nwant the plan:\n%s", walked, got)
			}
		})
	}
}

func TestCalendar(t *testing.T) {
	c := DefaultCampaign()
	for _, tc := range []struct {
		day  time.Time
		work bool
	}{
		{cst(1, 28, 12, 0), true},  // Friday
		{cst(1, 29, 12, 0), true},  // Saturday, 调休
		{cst(1, 30, 12, 0), true},  // Sunday, 调休
		{cst(1, 31, 12, 0), false}, // 春节
		{cst(2, 3, 12, 0), false},
		{cst(2, 6, 12, 0), false}, // last day of the break (Sunday)
		{cst(2, 7, 12, 0), true},
		{cst(2, 12, 12, 0), false}, // Saturday
		{cst(2, 13, 12, 0), false}, // Sunday
	} {
		if got := c.IsWorkday(tc.day); got != tc.work {
			t.Errorf("IsWorkday(%s) = %v, want %v", tc.day.Format("01-02 Mon"), got, tc.work)
		}
	}
	for _, tc := range []struct {
		h, m  int
		quiet bool
	}{{21, 59, false}, {22, 0, true}, {23, 59, true}, {0, 0, true}, {7, 59, true}, {8, 0, false}, {12, 0, false}} {
		now := cst(2, 7, tc.h, tc.m)
		if got := c.Quiet(now); got != tc.quiet {
			t.Errorf("Quiet(%s) = %v, want %v", now.Format("15:04"), got, tc.quiet)
		}
	}
	if got := c.QuietHours(); got != "22:00–08:00" {
		t.Errorf("QuietHours() = %q, want 22:00–08:00", got)
	}
}

func TestRoundKeys(t *testing.T) {
	c := DefaultCampaign()
	rs := c.ReminderRounds(c.Deadline, cst(2, 7, 0, 0), cst(2, 8, 0, 0))
	if len(rs) != 1 || rs[0].Key() != "r202202070900" {
		t.Fatalf("ReminderRounds on 7 Feb = %v, want one round with key r202202070900", rs)
	}
	m := c.ManualRound(c.Deadline, cst(2, 10, 19, 30).Add(42*time.Second))
	if m.Key() != "m202202101930" || m.Kind != RoundAfter || !m.Manual {
		t.Errorf("ManualRound(10 Feb 19:30:42) = %+v key %s, want after-deadline manual round m202202101930", m, m.Key())
	}
	m = c.ManualRound(c.Deadline, cst(2, 10, 14, 0))
	if m.Kind != RoundDay {
		t.Errorf("ManualRound(10 Feb 14:00) kind = %s, want day", m.Kind)
	}
	if len("adm:remind:"+m.Key()) > 64 {
		t.Errorf("callback data for round %s exceeds 64 bytes", m.Key())
	}
}

func fmtDigests(ds []Digest) string {
	var s []string
	for _, d := range ds {
		kind := "daily"
		if d.Final {
			kind = "final"
		}
		s = append(s, fmt.Sprintf("%s %s since %s", d.At.In(shanghai).Format("01-02 15:04"), kind, d.Since.In(shanghai).Format("01-02 15:04")))
	}
	return strings.Join(s, "\n")
}

func TestDigests(t *testing.T) {
	c := DefaultCampaign()
	tests := []struct {
		name     string
		deadline time.Time
		want     []string
	}{
		{"deadline at digest time: the final digest replaces the day's", cst(2, 10, 18, 0), []string{
			"02-08 18:00 daily since 02-07 18:00",
			"02-09 18:00 daily since 02-08 18:00",
			"02-10 18:00 final since 02-09 18:00",
		}},
		{"deadline before digest time", cst(2, 10, 17, 30), []string{
			"02-08 18:00 daily since 02-07 18:00",
			"02-09 18:00 daily since 02-08 18:00",
			"02-10 17:30 final since 02-09 18:00",
		}},
		{"deadline after digest time", cst(2, 10, 20, 0), []string{
			"02-08 18:00 daily since 02-07 18:00",
			"02-09 18:00 daily since 02-08 18:00",
			"02-10 18:00 daily since 02-09 18:00",
			"02-10 20:00 final since 02-10 18:00",
		}},
	}
	for _, tt := range tests {
		got := fmtDigests(c.Digests(tt.deadline, cst(2, 8, 0, 0), cst(2, 14, 0, 0)))
		if want := strings.Join(tt.want, "\n"); got != want {
			t.Errorf("%s: Digests =\n%s\nwant:\n%s", tt.name, got, want)
		}
	}

	due := []struct {
		now  time.Time
		want string // "" = nothing due
	}{
		{cst(2, 9, 17, 59), ""},
		{cst(2, 9, 18, 0), "02-09 18:00 daily since 02-08 18:00"},
		{cst(2, 9, 23, 30), "02-09 18:00 daily since 02-08 18:00"},
		{cst(2, 10, 8, 0), ""}, // yesterday's digest is stale
		{cst(2, 10, 18, 0), "02-10 18:00 final since 02-09 18:00"},
		{cst(2, 11, 9, 0), "02-10 18:00 final since 02-09 18:00"}, // the final digest is caught up within a day
		{cst(2, 11, 18, 1), ""},
		{cst(2, 20, 18, 0), ""},
	}
	for _, tc := range due {
		d, ok := c.DueDigest(c.Deadline, tc.now)
		got := ""
		if ok {
			got = fmtDigests([]Digest{d})
		}
		if got != tc.want {
			t.Errorf("DueDigest(%s) = %q, want %q", tc.now.Format("01-02 15:04"), got, tc.want)
		}
	}
}

func TestNeedsReminder(t *testing.T) {
	for _, tc := range []struct {
		d    Draft
		want bool
	}{
		{Draft{}, true},
		{Draft{Status: StatusFilling}, true},
		{Draft{Status: StatusSubmitted, Version: 1}, false},
		{Draft{Status: StatusRevising, Version: 1}, false}, // a version stands
		{Draft{Status: StatusReturned, Version: 1}, true},
	} {
		if got := NeedsReminder(tc.d); got != tc.want {
			t.Errorf("NeedsReminder(status %q, version %d) = %v, want %v", tc.d.Status, tc.d.Version, got, tc.want)
		}
	}
}

// TestReminderTexts pins the wording of every kind of reminder and of the
// office's round line (golden files; -update rewrites them).
func TestReminderTexts(t *testing.T) {
	c := DefaultCampaign()
	u := countyUnit
	filling := Draft{UnitID: u.ID, Status: StatusFilling, Cursor: "films", Answers: map[string]Answer{
		"filler_name": {Text: "张三"}, "filler_phone": {Text: "13912345678"}, "essays": {Num: 3}, "columns": {Num: 2},
	}}
	returned := filling
	returned.Status, returned.Version, returned.Cursor = StatusReturned, 1, ""
	returned.Returned = &Return{Reason: "慰问金数额有误", Question: "veteran_cash", At: cst(2, 8, 10, 0)}
	round := func(now time.Time) Round {
		r, ok := c.DueRound(c.Deadline, now)
		if !ok {
			t.Fatalf("DueRound(%v) = none", now)
		}
		return r
	}
	var b strings.Builder
	for _, tc := range []struct {
		name string
		d    Draft
		r    Round
	}{
		{"not started, 7 days before (moved by the holiday)", Draft{UnitID: u.ID}, round(cst(1, 30, 9, 0))},
		{"filling, 3 days before", filling, round(cst(2, 7, 9, 0))},
		{"filling, deadline day", filling, round(cst(2, 10, 9, 0))},
		{"filling, overdue", filling, round(cst(2, 14, 9, 0))},
		{"returned, 1 day before", returned, round(cst(2, 9, 9, 0))},
		{"returned, overdue", returned, round(cst(2, 11, 9, 0))},
		{"filling, admin round on the deadline day after the deadline", filling, c.ManualRound(c.Deadline, cst(2, 10, 19, 0))},
	} {
		rep := c.ReminderText(u, tc.d, tc.r, c.Deadline)
		if len(rep.Buttons) != 1 || len(rep.Buttons[0]) != 1 || rep.Buttons[0][0].Data != "go" {
			t.Errorf("ReminderText(%s) buttons = %v, want one button with data \"go\"", tc.name, rep.Buttons)
		}
		if n := utf16Len(rep.Text); n > MaxMessageLen {
			t.Errorf("ReminderText(%s) is %d UTF-16 units, want ≤ %d", tc.name, n, MaxMessageLen)
		}
		fmt.Fprintf(&b, "== %s\n%s\n", tc.name, renderReplies([]Reply{rep}))
	}
	fmt.Fprintf(&b, "== round lines\n")
	for _, tc := range []struct {
		r Round
		t RoundTally
	}{
		{round(cst(2, 7, 9, 0)), RoundTally{Units: 14, Sent: 12, Unreachable: 2}},
		{round(cst(2, 10, 9, 0)), RoundTally{Units: 9, Sent: 5, Unreachable: 1, NoContact: 2, Failed: 1, Submitted: 1}},
		{round(cst(2, 14, 9, 0)), RoundTally{Units: 3, Sent: 3}},
		{c.ManualRound(c.Deadline, cst(2, 8, 15, 42)), RoundTally{Units: 20, Sent: 20}},
		{Round{At: cst(2, 10, 19, 0), Kind: RoundAfter}, RoundTally{Units: 2, Sent: 2}},
	} {
		b.WriteString(c.RoundReportText(tc.r, tc.t) + "\n")
	}
	checkGolden(t, "reminders", b.String())
}

func TestDigestTexts(t *testing.T) {
	o := overviewFixture(t) // now: 3 Feb 10:15; submissions at -48h, -20h, -10h, -3h
	c := o.Campaign
	dg, ok := c.DueDigest(c.Deadline, cst(2, 3, 18, 0))
	if !ok {
		t.Fatal("DueDigest(3 Feb 18:00) = none")
	}
	o.Now = dg.At
	texts := DigestTexts(o, dg)
	if len(texts) != 2 {
		t.Fatalf("DigestTexts = %d texts, want 2 (summary, missing units)", len(texts))
	}
	for i, s := range texts {
		if n := utf16Len(s); n > MaxMessageLen {
			t.Errorf("DigestTexts part %d is %d UTF-16 units, want ≤ %d", i+1, n, MaxMessageLen)
		}
	}
	// In the window 2 Feb 18:00 – 3 Feb 18:00: u8 (3 Feb 00:15, version 1)
	// and u2 (3 Feb 07:15, version 2); not u1 (1 Feb) nor u6 (returned).
	if !strings.Contains(texts[0], "· 新提交 1 个：吕梁军分区\n· 修改后重新提交 1 个：孝义市双拥工作领导小组\n") {
		t.Errorf("DigestTexts()[0] does not list exactly the day's revision:\n%s", texts[0])
	}
	if !strings.Contains(texts[0], SummaryText(o)) {
		t.Errorf("DigestTexts()[0] does not contain the /summary text")
	}
	if texts[1] != PendingText(o, MaxMessageLen) {
		t.Errorf("DigestTexts()[1] is not the list of missing units")
	}
	final, ok := c.DueDigest(c.Deadline, c.Deadline)
	if !ok || !final.Final {
		t.Fatalf("DueDigest(deadline) = %+v, %v; want the final digest", final, ok)
	}
	// The golden file holds the digest's own lines; the parts that are
	// /summary and /pending (tested with the office's texts) are named.
	render := func(o *Overview, dg Digest) string {
		var parts []string
		for _, s := range DigestTexts(o, dg) {
			s = strings.Replace(s, SummaryText(o), "<SummaryText>", 1)
			s = strings.Replace(s, PendingText(o, MaxMessageLen), "<PendingText>", 1)
			parts = append(parts, s)
		}
		return strings.Join(parts, "\n-----\n")
	}
	daily := render(o, dg)
	o.Now = final.At
	checkGolden(t, "digest", daily+"\n=====\n"+render(o, final)+"\n")
}

func TestDigestTextsManyUnits(t *testing.T) {
	o := manyUnits(10000)
	dg := Digest{At: cst(2, 9, 18, 0), Since: cst(2, 8, 18, 0)}
	for i := range o.Units {
		u := &o.Units[i]
		if u.Latest != nil {
			u.Latest.SubmittedAt = dg.At.Add(-time.Hour)
		}
	}
	for i, s := range DigestTexts(o, dg) {
		if n := utf16Len(s); n > MaxMessageLen {
			t.Errorf("DigestTexts(10000 units) part %d is %d UTF-16 units, want ≤ %d", i+1, n, MaxMessageLen)
		}
	}
}
