package flows

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The reminder ladder and the digests, as pure functions of the campaign's
// schedule, the effective deadline and a time: no clock, no store. The bot's
// scheduler asks what is due at "now" and does the sending.
//
// Calendar rules (all in the campaign's time zone):
//   - A working day is Monday–Friday outside the holidays, plus the listed
//     weekend workdays (调休上班).
//   - A reminder before the deadline that falls on a day that is not a
//     working day — a holiday, or a weekend — moves to the last working day
//     before it, so that the units hear about it before the break, not
//     during it. Rounds that land on the same day merge into one.
//   - After the deadline (if remind_after is set) there is one round on every
//     working day until the office stops it (/reminders off, a setting the
//     scheduler checks).
//   - A reminder time of day inside the quiet hours moves to the end of the
//     quiet hours on the same day (e.g. 07:00 → 08:00, 23:00 → 08:00 that
//     morning), and no reminder round starts while it is quiet.
//   - Digests go to the office group daily at digest_at while the campaign
//     is open (before the deadline), and once more right at the deadline
//     (the final digest). Quiet hours do not apply to the office group.

// RoundKind says where a reminder round stands relative to the deadline.
type RoundKind string

// Round kinds.
const (
	RoundBefore RoundKind = "before" // a day or more before the deadline day
	RoundDay    RoundKind = "day"    // on the deadline day, before the deadline
	RoundAfter  RoundKind = "after"  // the deadline has passed
)

// Round is one reminder round: every contact of every unit that has not
// submitted gets one reminder.
type Round struct {
	At       time.Time // when it fires, in the campaign's zone
	Kind     RoundKind
	DaysLeft int  // calendar days from At's day to the deadline's day; negative when overdue
	Manual   bool // started by an admin (/remind), not by the ladder
}

// Key identifies the round: markers and locks of the round are named after
// it. It is short and ASCII (it goes into callback data): r202202070900 for
// a ladder round, m202202071432 for an admin's.
func (r Round) Key() string {
	p := "r"
	if r.Manual {
		p = "m"
	}
	return p + r.At.Format("200601021504")
}

// Digest is one progress digest for the office group.
type Digest struct {
	At    time.Time // when it fires
	Since time.Time // the previous digest's time: "the day's" submissions are those in [Since, At)
	Final bool      // the digest right at the deadline
}

// Key identifies the digest (for its lock): d202202071800, f202202101800.
func (d Digest) Key() string {
	p := "d"
	if d.Final {
		p = "f"
	}
	return p + d.At.Format("200601021504")
}

// finalDigestGrace is how long after the deadline a missed final digest is
// still worth posting (daily digests are only caught up on the same day).
const finalDigestGrace = 24 * time.Hour

// maxShiftDays bounds the search for a working day (a campaign whose
// holidays cover months has no working day to move to).
const maxShiftDays = 62

// calendar is the campaign's working-day calendar.
type calendar struct {
	loc      *time.Location
	holidays [][2]time.Time // closed ranges of days (midnight)
	workdays map[string]bool
	// quiet hours in minutes of the day; quiet is false when none are set
	quiet              bool
	quietFrom, quietTo int
}

func (c *Campaign) location() *time.Location {
	if c.Location != nil {
		return c.Location
	}
	return time.Local
}

func (c *Campaign) calendar() *calendar {
	loc := c.location()
	cal := &calendar{loc: loc, workdays: map[string]bool{}}
	for _, h := range c.Schedule.Holidays {
		from, err1 := time.ParseInLocation(time.DateOnly, h.From, loc)
		to, err2 := time.ParseInLocation(time.DateOnly, h.To, loc)
		if err1 == nil && err2 == nil {
			cal.holidays = append(cal.holidays, [2]time.Time{from, to})
		}
	}
	for _, w := range c.Schedule.Workdays {
		cal.workdays[w] = true
	}
	from, ok1 := clockMinutes(c.Schedule.QuietFrom)
	to, ok2 := clockMinutes(c.Schedule.QuietTo)
	if ok1 && ok2 && from != to {
		cal.quiet, cal.quietFrom, cal.quietTo = true, from, to
	}
	return cal
}

// clockMinutes parses "09:00" into minutes of the day.
func clockMinutes(s string) (int, bool) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// day returns t's day at midnight in the calendar's zone.
func (cal *calendar) day(t time.Time) time.Time {
	t = t.In(cal.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, cal.loc)
}

// at returns the time minutes after midnight of day.
func (cal *calendar) at(day time.Time, minutes int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), minutes/60, minutes%60, 0, 0, cal.loc)
}

func (cal *calendar) holiday(day time.Time) bool {
	for _, h := range cal.holidays {
		if !day.Before(h[0]) && !day.After(h[1]) {
			return true
		}
	}
	return false
}

func (cal *calendar) workday(day time.Time) bool {
	if cal.workdays[day.Format(time.DateOnly)] {
		return true
	}
	if cal.holiday(day) {
		return false
	}
	wd := day.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// workdayOnOrBefore is day if it is a working day, else the last working
// day before it (day itself if none is found within maxShiftDays).
func (cal *calendar) workdayOnOrBefore(day time.Time) time.Time {
	for i := 0; i <= maxShiftDays; i++ {
		d := day.AddDate(0, 0, -i)
		if cal.workday(d) {
			return d
		}
	}
	return day
}

// isQuiet reports whether minutes of the day fall in the quiet hours
// [from, to), which may span midnight.
func (cal *calendar) isQuiet(minutes int) bool {
	if !cal.quiet {
		return false
	}
	if cal.quietFrom < cal.quietTo {
		return minutes >= cal.quietFrom && minutes < cal.quietTo
	}
	return minutes >= cal.quietFrom || minutes < cal.quietTo
}

func (cal *calendar) minutes(t time.Time) int {
	t = t.In(cal.loc)
	return t.Hour()*60 + t.Minute()
}

// daysBetween counts calendar days from a's day to b's day.
func daysBetween(a, b time.Time) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da) / (24 * time.Hour))
}

// IsWorkday reports whether t's day is a working day of the campaign.
func (c *Campaign) IsWorkday(t time.Time) bool {
	cal := c.calendar()
	return cal.workday(cal.day(t))
}

// Quiet reports whether t falls in the campaign's quiet hours, when no
// reminder is sent.
func (c *Campaign) Quiet(t time.Time) bool {
	cal := c.calendar()
	return cal.isQuiet(cal.minutes(t))
}

// QuietHours describes the quiet hours for people ("22:00–08:00"), "" if none.
func (c *Campaign) QuietHours() string {
	if !c.calendar().quiet {
		return ""
	}
	return c.Schedule.QuietFrom + "–" + c.Schedule.QuietTo
}

// remindMinutes is the reminders' time of day, moved out of the quiet hours.
func (c *Campaign) remindMinutes(cal *calendar) int {
	m, ok := clockMinutes(c.Schedule.RemindAt)
	if !ok {
		m = 9 * 60
	}
	if cal.isQuiet(m) {
		m = cal.quietTo
	}
	return m
}

// newRound makes the round at t: its kind and days left follow from the
// deadline.
func newRound(cal *calendar, t, deadline time.Time, manual bool) Round {
	t = t.In(cal.loc)
	left := daysBetween(t, deadline.In(cal.loc))
	kind := RoundBefore
	switch {
	case !t.Before(deadline):
		kind = RoundAfter
	case left == 0:
		kind = RoundDay
	}
	return Round{At: t, Kind: kind, DaysLeft: left, Manual: manual}
}

// ReminderRounds returns the ladder's rounds with from ≤ At < to, in time
// order: the days of remind_days_before moved off non-working days, then
// (with remind_after) every working day after the deadline's day. A round
// that would fall at or after the deadline on the deadline's day (a
// deadline earlier than remind_at) is dropped.
func (c *Campaign) ReminderRounds(deadline, from, to time.Time) []Round {
	cal := c.calendar()
	at := c.remindMinutes(cal)
	dday := cal.day(deadline)
	var rs []Round
	seen := map[int64]bool{}
	add := func(day time.Time) {
		t := cal.at(day, at)
		if t.Before(from) || !t.Before(to) || seen[t.Unix()] {
			return
		}
		seen[t.Unix()] = true
		rs = append(rs, newRound(cal, t, deadline, false))
	}
	for _, n := range c.Schedule.RemindDaysBefore {
		if n < 0 {
			continue
		}
		day := cal.workdayOnOrBefore(dday.AddDate(0, 0, -n))
		if cal.at(day, at).Before(deadline) {
			add(day)
		}
	}
	if c.Schedule.RemindAfter {
		start := dday.AddDate(0, 0, 1)
		if f := cal.day(from); f.After(start) {
			start = f
		}
		for day := start; cal.at(day, at).Before(to); day = day.AddDate(0, 0, 1) {
			if cal.workday(day) {
				add(day)
			}
		}
	}
	slices.SortFunc(rs, func(a, b Round) int { return a.At.Compare(b.At) })
	return rs
}

// DueRound returns the ladder round that should run at now: the latest
// round at or before now on now's day (a round missed while the bot was
// down is still worth sending later that day; the next round is at the
// earliest the next day). Nothing is due during the quiet hours.
func (c *Campaign) DueRound(deadline, now time.Time) (Round, bool) {
	cal := c.calendar()
	if cal.isQuiet(cal.minutes(now)) {
		return Round{}, false
	}
	day := cal.day(now)
	rs := c.ReminderRounds(deadline, day, now.Add(time.Nanosecond))
	if len(rs) == 0 {
		return Round{}, false
	}
	return rs[len(rs)-1], true
}

// ManualRound is the round an admin starts at now with /remind.
func (c *Campaign) ManualRound(deadline, now time.Time) Round {
	cal := c.calendar()
	return newRound(cal, now.Truncate(time.Minute), deadline, true)
}

// Digests returns the digests with from ≤ At < to: one daily at digest_at
// while the campaign is open (At before the deadline) and the final one at
// the deadline. Since is the previous digest's time (a day earlier for the
// first).
func (c *Campaign) Digests(deadline, from, to time.Time) []Digest {
	cal := c.calendar()
	at, ok := clockMinutes(c.Schedule.DigestAt)
	if !ok {
		at = 18 * 60
	}
	var ds []Digest
	// Start a day early so that the first digest in range knows its Since.
	for day := cal.day(from).AddDate(0, 0, -1); ; day = day.AddDate(0, 0, 1) {
		t := cal.at(day, at)
		if !t.Before(deadline) || !t.Before(to) {
			break
		}
		ds = append(ds, Digest{At: t, Since: t.AddDate(0, 0, -1)})
	}
	if deadline.Before(to) {
		since := deadline.AddDate(0, 0, -1)
		if n := len(ds); n > 0 && ds[n-1].At.After(since) {
			since = ds[n-1].At
		}
		ds = append(ds, Digest{At: deadline.In(cal.loc), Since: since, Final: true})
	}
	for i := 1; i < len(ds); i++ {
		ds[i].Since = ds[i-1].At
	}
	i := 0
	for i < len(ds) && ds[i].At.Before(from) {
		i++
	}
	return ds[i:]
}

// DueDigest returns the digest that should be posted at now: the latest at
// or before now, if it is on now's day — or, for the final digest, within a
// day of the deadline.
func (c *Campaign) DueDigest(deadline, now time.Time) (Digest, bool) {
	cal := c.calendar()
	ds := c.Digests(deadline, now.Add(-finalDigestGrace), now.Add(time.Nanosecond))
	if len(ds) == 0 {
		return Digest{}, false
	}
	d := ds[len(ds)-1]
	if d.Final || cal.day(d.At).Equal(cal.day(now)) {
		return d, true
	}
	return Digest{}, false
}

// NeedsReminder reports whether a unit with this draft gets reminders: it
// has no standing submitted version (never submitted, or returned for
// correction).
func NeedsReminder(d Draft) bool {
	return d.Version == 0 || d.Status == StatusReturned
}

// ReminderButton is the reminder's button: it resumes the report.
const ReminderButton = "go"

// ReminderText is the reminder a contact of unit u gets in round r, with a
// button to continue. d is the unit's draft at send time; deadline the
// effective deadline.
func (c *Campaign) ReminderText(u Unit, d Draft, r Round, deadline time.Time) Reply {
	loc := c.location()
	due := FormatTime(deadline, loc)
	var b strings.Builder
	returned := d.Status == StatusReturned
	switch {
	case returned && r.Kind == RoundAfter:
		b.WriteString("⚠️ 修改提醒：已过截止时间\n")
	case returned:
		b.WriteString("↩️ 修改提醒\n")
	case r.Kind == RoundBefore:
		fmt.Fprintf(&b, "⏰ 填报提醒：距截止还有 %d 天\n", r.DaysLeft)
	case r.Kind == RoundDay:
		b.WriteString("⏰ 填报提醒：今天截止\n")
	default:
		b.WriteString("⚠️ 逾期提醒：已过截止时间\n")
	}
	if returned {
		fmt.Fprintf(&b, "“%s”的报告已被市双拥办退回修改，尚未重新提交。\n", u.Name)
		if d.Returned != nil && d.Returned.Reason != "" {
			b.WriteString("退回原因：" + d.Returned.Reason + "\n")
		}
		if d.Returned != nil {
			if q := c.Question(d.Returned.Question); q != nil {
				b.WriteString("需修改：" + q.Title() + "\n")
			}
		}
	} else {
		fmt.Fprintf(&b, "“%s”的《%s》尚未提交。\n", u.Name, c.Title)
	}
	switch r.Kind {
	case RoundBefore:
		fmt.Fprintf(&b, "截止时间：%s（还有 %d 天）\n", due, r.DaysLeft)
	case RoundDay:
		fmt.Fprintf(&b, "截止时间：今天 %s（%s）\n", deadline.In(loc).Format("15:04"), due)
	default:
		if r.DaysLeft < 0 {
			fmt.Fprintf(&b, "截止时间：%s（已过 %d 天）\n", due, -r.DaysLeft)
		} else {
			fmt.Fprintf(&b, "截止时间：%s（已过截止时间）\n", due)
		}
	}
	button := "继续填报"
	switch {
	case returned:
		done, total := c.Progress(d, u.Category)
		fmt.Fprintf(&b, "当前进度：已填 %d/%d 题\n", done, total)
		button = "修改报告"
		b.WriteString("请点击下方“修改报告”，按意见修改后重新提交。")
	case d.Status == StatusNew:
		b.WriteString("当前进度：尚未开始填写\n")
		button = "开始填报"
		b.WriteString("请点击下方“开始填报”或发送 /report 开始，填写过程中可随时暂停，已填内容会自动保存。")
	default:
		done, total := c.Progress(d, u.Category)
		fmt.Fprintf(&b, "当前进度：已填 %d/%d 题\n", done, total)
		b.WriteString("请点击下方“继续填报”或发送 /report，从上次停下的地方接着填写并提交。")
	}
	if r.Kind == RoundAfter {
		b.WriteString("\n如有困难，请联系" + c.Office + "。")
	}
	return Reply{Text: b.String(), Buttons: [][]Button{{{Text: button, Data: ReminderButton}}}}
}

// RoundTally counts what a reminder round did, by unit.
type RoundTally struct {
	Units       int // units without a standing version when the round started
	Sent        int // units reached: a contact got the reminder (in this run or an earlier, interrupted run of the round)
	Unreachable int // units whose every contact blocked the bot
	NoContact   int // units without a bound contact
	Submitted   int // units that submitted while the round ran (they got none)
	Failed      int // units whose reminders could not be sent for another reason
	Messages    int // reminders sent by this run
}

// roundLabel names a round for the office: 截止前 3 天提醒（2月7日 09:00）,
// 截止当天提醒, 逾期提醒（…，已过截止 4 天）, 管理员手动提醒.
func (c *Campaign) roundLabel(r Round) string {
	at := r.At.In(c.location())
	when := fmt.Sprintf("%d月%d日 %s", at.Month(), at.Day(), at.Format("15:04"))
	switch {
	case r.Manual:
		return "管理员手动提醒（" + when + "）"
	case r.Kind == RoundBefore:
		return fmt.Sprintf("截止前 %d 天提醒（%s）", r.DaysLeft, when)
	case r.Kind == RoundDay:
		return "截止当天提醒（" + when + "）"
	}
	if r.DaysLeft < 0 {
		return fmt.Sprintf("逾期提醒（%s，已过截止 %d 天）", when, -r.DaysLeft)
	}
	return "逾期提醒（" + when + "）"
}

// RoundReportText is the one line the office group gets after a round.
func (c *Campaign) RoundReportText(r Round, t RoundTally) string {
	s := fmt.Sprintf("⏰ %s：已向 %d 个单位发送提醒，%d 个单位无法送达", c.roundLabel(r), t.Sent, t.Unreachable)
	if t.NoContact > 0 {
		s += fmt.Sprintf("，%d 个单位未绑定联系人", t.NoContact)
	}
	if t.Failed > 0 {
		s += fmt.Sprintf("，%d 个单位发送失败", t.Failed)
	}
	if t.Submitted > 0 {
		s += fmt.Sprintf("，%d 个单位在发送期间已提交", t.Submitted)
	}
	return s + "。"
}

// DigestTexts renders a digest for the office group: the day's new and
// revised submissions (those in [dg.Since, dg.At)), then the same progress
// report as /summary (SummaryText), then the units still missing
// (PendingText). Each text fits in one Telegram message.
func DigestTexts(o *Overview, dg Digest) []string {
	c := o.Campaign
	loc := c.location()
	var head []string
	if dg.Final {
		head = append(head, "🔔 截止简报：填报已于 "+FormatTime(o.Deadline, loc)+" 截止")
	} else {
		at := dg.At.In(loc)
		head = append(head, fmt.Sprintf("🗓 每日简报 · %d月%d日", at.Month(), at.Day()))
	}
	var fresh, revised []string
	for i := range o.Units {
		u := &o.Units[i]
		if !u.Submitted() || u.Latest == nil {
			continue
		}
		t := u.Latest.SubmittedAt
		if t.Before(dg.Since) || !t.Before(dg.At) {
			continue
		}
		if u.Latest.Version > 1 {
			revised = append(revised, u.Unit.Name)
		} else {
			fresh = append(fresh, u.Unit.Name)
		}
	}
	window := fmt.Sprintf("%s 至 %s", FormatTime(dg.Since, loc), FormatTime(dg.At, loc))
	if len(fresh) == 0 && len(revised) == 0 {
		head = append(head, window+"：没有新提交或修改的报告。")
	} else {
		head = append(head, window+"：")
		budget := (MaxMessageLen - 200) / 2
		if len(fresh) > 0 {
			head = append(head, nameList(fmt.Sprintf("· 新提交 %d 个：", len(fresh)), fresh, budget))
		}
		if len(revised) > 0 {
			head = append(head, nameList(fmt.Sprintf("· 修改后重新提交 %d 个：", len(revised)), revised, budget))
		}
	}
	first := strings.Join(head, "\n")
	summary := SummaryText(o)
	var out []string
	if utf16Len(first)+2+utf16Len(summary) <= MaxMessageLen {
		out = append(out, first+"\n\n"+summary)
	} else {
		out = append(out, first, summary)
	}
	if o.Count().Pending() > 0 {
		out = append(out, PendingText(o, MaxMessageLen))
	}
	return out
}
