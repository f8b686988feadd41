package loadtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"reportbot/bot/telegramtest"
)

// The rush (-rush N) is the deadline evening. N units have filled the form
// up to the summary and the office group is set (/setgroup); then all N
// press 确认提交 within about a second. Meanwhile a bystander fills the
// form at a person's pace and a stranger (no contact) floods the bot. The
// fake enforces Telegram's limits throughout (the preparation runs on a
// clock that jumps ahead, see warpClock) and the bot keeps its default
// ones; with faults it is killed while the group's backlog is still being
// sent. What is checked: every receipt reaches the office group exactly
// once, merged posts included; the bot never earns a 429; every report
// holds what its contact typed. What is measured: how long the bystander
// waits for each question while the rush is served, and how long each
// receipt takes to reach the group.

// RushResult is what a rush measured.
type RushResult struct {
	Store string `json:"store"`
	Units int    `json:"units"` // contacts who pressed 确认提交
	Kills int    `json:"kills"`
	// SettleWaits (-kill-settled): how long each kill waited for the bot
	// to acknowledge what it had sent, in seconds.
	SettleWaits  []float64 `json:"settle_waits_s,omitempty"`
	PrepSeconds  float64   `json:"prep_seconds"`  // bind, /setgroup, forms up to the summary, restart
	PressSeconds float64   `json:"press_seconds"` // from the first press to the last
	Seconds      float64   `json:"seconds"`       // from the first press to the end
	Submitted    int       `json:"submitted"`     // units with a report in the store

	// The bystander: each answer's wait for the bot's next question.
	BystanderAnswers int     `json:"bystander_answers"`
	BystanderP50ms   float64 `json:"bystander_p50_ms"`
	BystanderP99ms   float64 `json:"bystander_p99_ms"`
	BystanderMaxms   float64 `json:"bystander_max_ms"`
	BystanderDone    bool    `json:"bystander_reached_summary"`
	// Each wait, in order: which answers the rush held up.
	BystanderWaitsms []float64 `json:"bystander_waits_ms,omitempty"`

	// The office group. A receipt counts once per text message showing it.
	Posted          int            `json:"receipts_posted"`
	Missing         int            `json:"missing"`
	Twice           int            `json:"posted_twice"`
	MissingReceipts []string       `json:"missing_receipts,omitempty"`
	TwiceReceipts   map[string]int `json:"posted_twice_receipts,omitempty"` // receipt → times posted
	Unexpected      []string       `json:"unexpected_receipts,omitempty"`   // posted, but no rushing unit's
	GroupLagP50s    float64        `json:"group_lag_p50_s"`                 // press → first appearance in the group
	GroupLagMaxs    float64        `json:"group_lag_max_s"`
	GroupTexts      int            `json:"group_text_messages"`
	GroupMerged     int            `json:"group_merged_messages"` // texts with more than one receipt
	GroupAlbums     int            `json:"group_albums"`
	GroupAlbumItems int            `json:"group_album_items"`
	GroupFiles      int            `json:"group_files_alone"`

	// The rushing contacts' own receipt messages.
	Told     int     `json:"contacts_told_receipt"`
	ToldP50s float64 `json:"told_p50_s"` // press → the receipt message
	ToldMaxs float64 `json:"told_max_s"`

	// The reports' documents (albums): waited for only with RushDocs.
	DocsWaited     bool           `json:"documents_waited"`
	DocsPosted     int            `json:"documents_posted"`
	DocsMissing    int            `json:"documents_missing"`
	DocsTwice      int            `json:"documents_posted_twice"`
	DocsTwiceNames map[string]int `json:"documents_posted_twice_names,omitempty"`

	StrangerSent    int `json:"stranger_sent"`
	StrangerReplies int `json:"stranger_replies"`

	Sends           int `json:"sends"`             // accepted from the first press on (an album of n: n)
	TooManyRequests int `json:"too_many_requests"` // the whole run, preparation included
	// The office group's accepted sends, in seconds after the first press
	// (an album of n: n), and the most of them in any 60 s (Telegram: 20).
	GroupSendTimes    []float64 `json:"group_send_times_s,omitempty"`
	GroupMostInMinute int       `json:"group_most_in_a_minute"`

	TargetBystanderP99ms float64  `json:"target_bystander_p99_ms"`
	TargetGroupLagMaxs   float64  `json:"target_group_lag_max_s"`
	Problems             []string `json:"problems,omitempty"`
}

// Targets from the issue; reported, not enforced.
const (
	targetBystanderP99 = 3 * time.Second
	targetGroupLag     = 2 * time.Minute // the last receipt of a 200-unit rush
)

const (
	pressWindow       = time.Second            // the presses spread over it
	strangerMessages  = 40                     // sent as fast as the stranger can
	bystanderThink    = 300 * time.Millisecond // a person's pause before an answer…
	bystanderThinkMax = time.Second            // …up to this
	// settle is how long the group is watched after the last receipt
	// arrived: a message sent again after a kill (one the killed bot had
	// not yet marked delivered) comes in the restarted bot's first group
	// slot, 3 s (20 a minute) after its start.
	settle = 5 * time.Second
	// tallyReserve is kept of the timeout for stopping the bot and the
	// tally.
	tallyReserve = 45 * time.Second
)

// strangerUser writes to the bot without being anyone's contact.
var strangerUser = telegramtest.User{ID: 8_800_001, FirstName: "路人"}

// failures lists what makes a rush fail.
func (r *RushResult) failures() []string {
	var out []string
	if r.Missing > 0 || r.Twice > 0 {
		out = append(out, fmt.Sprintf("office group: %d receipts missing, %d posted more than once", r.Missing, r.Twice))
	}
	if r.DocsWaited && (r.DocsMissing > 0 || r.DocsTwice > 0) {
		out = append(out, fmt.Sprintf("office group: %d documents missing, %d posted more than once", r.DocsMissing, r.DocsTwice))
	}
	if r.TooManyRequests > 0 {
		out = append(out, fmt.Sprintf("%d answers 429 Too Many Requests", r.TooManyRequests))
	}
	return out
}

// rushRun is one rush.
type rushRun struct {
	*phase
	warp      *warpClock
	watch     *rushWatch
	res       *RushResult
	t0        time.Time // the first press, on the fake's clock
	pressing  atomic.Bool
	bystander stepStats
}

func runRush(ctx context.Context, cfg Config, be backend, dir string, res *Result) error {
	cfg.Think = 0 // the preparation goes as fast as the bot; the bystander has its own pace
	r := &rushRun{phase: newPhase(cfg, be, dir, rushPhase), warp: newWarpClock(), watch: newRushWatch(strangerUser.ID)}
	err := r.run(ctx)
	res.Rush = r.res
	res.verdict = r.verdict
	return err
}

// run seeds the units, prepares them on the warped clock, restarts the bot
// with its default limits, runs the rush and tallies it.
func (r *rushRun) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if err := r.seed(ctx); err != nil {
		return err
	}
	r.now, r.observe = r.warp.now, r.watch.observe
	opts := fakeOptions()
	opts.Limits, opts.Now = telegramLimits, r.warp.now
	stopWorld, err := r.startWorld(ctx, opts)
	if err != nil {
		return err
	}
	defer stopWorld() // whatever happens, no bot is left behind
	r.res = &RushResult{Store: r.be.name(), Units: r.cfg.Rush,
		TargetBystanderP99ms: ms(targetBystanderP99), TargetGroupLagMaxs: targetGroupLag.Seconds()}
	stopProgress := r.progress()
	defer stopProgress()

	start := time.Now()
	if err := r.prepare(ctx); err != nil {
		return fmt.Errorf("prepare the rush: %w", err)
	}
	if err := r.restart(ctx); err != nil {
		return err
	}
	r.res.PrepSeconds = time.Since(start).Seconds()
	if err := r.window(ctx); err != nil {
		return err
	}
	stopProgress()
	if err := r.bot.stop(30 * time.Second); err != nil {
		return err
	}
	return r.tally(ctx)
}

// prepare binds every contact, has the admin make the office group
// (/setgroup), and fills the rushing units' forms up to the summary, as
// fast as the bot goes (its own limits are off, the fake's clock warped):
// setup, not measured.
func (r *rushRun) prepare(ctx context.Context) error {
	if err := r.each(ctx, r.contacts, maxActive, func(ctx context.Context, c *contact) error { return c.bind(ctx, r.env) }); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	admin := telegramtest.User{ID: adminID, FirstName: "市双拥办"}
	r.tg.SendText(admin, officeChat, "/setgroup")
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := r.tg.WaitText(wctx, officeGroup, "已将本群设为"); err != nil {
		return fmt.Errorf("/setgroup: %w", err)
	}
	return r.each(ctx, r.contacts[:r.cfg.Rush], maxActive, func(ctx context.Context, c *contact) error {
		c.toSummary = true
		err := c.fill(ctx, r.env)
		r.stats.done.Add(1)
		return err
	})
}

// restart stops the bot gracefully (all it had to say is delivered: every
// contact saw its summary), puts the fake's clock on real time, and starts
// the bot again with its default limits, as deployed; with RushAfter it
// then runs that long before the presses.
func (r *rushRun) restart(ctx context.Context) error {
	if err := r.bot.stop(30 * time.Second); err != nil {
		return fmt.Errorf("stop the bot after the preparation: %w", err)
	}
	r.warp.freeze()
	r.bot.env = r.botEnv(r.bot.addr, true)
	if err := r.bot.start(ctx); err != nil {
		return err
	}
	return sleep(ctx, r.cfg.RushAfter)
}

// window is the measured part: the presses, the bystander, the stranger
// and, with faults, the kills, until every receipt is in the office group
// (and a little longer, for a repeat) or time runs out.
func (r *rushRun) window(ctx context.Context) error {
	r.watch.start(r.expected())
	r.t0 = r.now()
	r.pressing.Store(true)
	actx, stopActors := context.WithCancel(ctx)
	defer stopActors()
	wait := r.startActors(actx, stopActors)
	stopKills := func() error { return nil }
	switch {
	case r.cfg.Faults && r.cfg.KillAfterPost > 0:
		stopKills = r.killOnPosts(ctx)
	case r.cfg.Faults:
		stopKills = r.killLoop(ctx, r.watch.waiting)
	}
	r.awaitReceipts(actx)
	killErr := stopKills()
	r.res.Seconds = r.now().Sub(r.t0).Seconds()
	r.res.Kills = int(r.kills.Load())
	for _, s := range r.res.SettleWaits {
		if s >= settleLimit.Seconds() {
			r.res.Problems = append(r.res.Problems, fmt.Sprintf("a kill waited %v for the bot to acknowledge what it sent, and went ahead", settleLimit))
		}
	}
	stopActors()
	if err := wait(); err != nil {
		return err
	}
	if killErr != nil {
		return killErr
	}
	if r.cfg.Faults && r.res.Kills == 0 {
		return fmt.Errorf("-faults: every receipt was in the office group %.1f s after the presses, before the first kill; use a shorter -kill-every or a larger -rush", r.res.Seconds)
	}
	return nil
}

// expected lists the receipts a first submission of each rushing unit
// gets, and the documents to wait for (-rush-docs).
func (r *rushRun) expected() (receipts, docs []string) {
	for _, c := range r.contacts[:r.cfg.Rush] {
		receipts = append(receipts, r.camp.ReceiptNumber(c.unitID, 1))
		if r.cfg.RushDocs {
			docs = append(docs, c.it.docName)
		}
	}
	return receipts, docs
}

// startActors starts the stranger, the bystander and the presses (spread
// over pressWindow). The first actor to fail stops them all (stop), which
// also ends the wait for the receipts. wait returns when they are done,
// with the first failure.
func (r *rushRun) startActors(ctx context.Context, stop func()) (wait func() error) {
	rushing := r.contacts[:r.cfg.Rush]
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	fail := func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			errs <- err
			stop()
		}
	}
	wg.Go(func() { r.res.StrangerSent = r.flood(ctx) })
	wg.Go(func() { fail(r.bystand(ctx, r.contacts[r.cfg.Rush])) })
	wg.Go(func() {
		fail(r.each(ctx, rushing, 0, func(ctx context.Context, c *contact) error {
			return c.submit(ctx, r.env, pressWindow*time.Duration(c.n)/time.Duration(len(rushing)))
		}))
	})
	return func() error {
		wg.Wait()
		close(errs)
		return <-errs // nil when none failed
	}
}

// killOnPosts kills the bot KillAfterPost after each text message reaches
// the office group (at most MaxKills times) and restarts it: a kill
// between a send and its acknowledgement in the store.
func (r *rushRun) killOnPosts(ctx context.Context) func() error {
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for {
			select {
			case <-r.watch.posts:
			case <-stop:
				done <- nil
				return
			}
			if (r.cfg.MaxKills > 0 && r.kills.Load() >= int64(r.cfg.MaxKills)) || sleepOrStop(r.cfg.KillAfterPost, stop) {
				<-stop
				done <- nil
				return
			}
			if r.cfg.KillSettled {
				r.awaitSettled(ctx, stop)
			}
			r.bot.kill()
			n := r.kills.Add(1)
			if err := r.bot.start(ctx); err != nil {
				done <- fmt.Errorf("restart after kill %d: %w", n, err)
				return
			}
			select { // a post while it waited is not the next one's
			case <-r.watch.posts:
			default:
			}
		}
	}()
	return stopFunc(stop, done)
}

// settleLimit bounds how long a -kill-settled kill waits for the bot's
// acknowledgements.
const settleLimit = 30 * time.Second

// awaitSettled waits until the bot's reportbot_outbox_unsettled reads 0
// (or settleLimit passes, or stop is closed) and records the wait.
func (r *rushRun) awaitSettled(ctx context.Context, stop <-chan struct{}) {
	start := r.now()
	defer func() { r.res.SettleWaits = append(r.res.SettleWaits, r.now().Sub(start).Seconds()) }()
	for r.now().Sub(start) < settleLimit {
		if n, err := scrape(ctx, r.bot.addr, "reportbot_outbox_unsettled"); err == nil && n == 0 {
			return
		}
		if sleepOrStop(10*time.Millisecond, stop) {
			return
		}
	}
}

// sleepOrStop waits d and reports whether stop was closed first.
func sleepOrStop(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-stop:
		return true
	}
}

// awaitReceipts waits until every expected receipt is in the office group,
// then watches it settle, or until shortly before the run's timeout (the
// tally needs the rest).
func (r *rushRun) awaitReceipts(ctx context.Context) {
	deadline, _ := ctx.Deadline()
	deadline = deadline.Add(-tallyReserve)
	for r.watch.waiting() {
		d := time.Until(deadline)
		if d <= 0 {
			return
		}
		t := time.NewTimer(min(d, time.Second))
		select {
		case <-r.watch.wake:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		if ctx.Err() != nil {
			return
		}
	}
	_ = sleep(ctx, settle)
}

// bystand: the bystander fills the form at a person's pace from the first
// press on, each answer waiting for the next question, until it reaches
// the summary (it does not submit) or the rush ends.
func (r *rushRun) bystand(ctx context.Context, c *contact) error {
	e := *r.env
	e.think, e.thinkMax = bystanderThink, bystanderThinkMax
	e.nudge = maxNudge // the bot is busy, not gone
	e.stats = &r.bystander
	c.toSummary = true
	return c.fill(ctx, &e)
}

// flood: the stranger sends its messages as fast as it can; it returns how
// many it sent.
func (r *rushRun) flood(ctx context.Context) int {
	n := 0
	for ; n < strangerMessages && ctx.Err() == nil; n++ {
		r.tg.SendText(strangerUser, strangerUser.Chat(), fmt.Sprintf("你好，请问年度报告在哪里填？（%d）", n+1))
	}
	return n
}

// submit presses 确认提交 on the contact's summary after delay, then waits
// until the bot tells the receipt or the rush ends (the tally counts it as
// not told). It never asks again: the bot must deliver what it stored.
func (c *contact) submit(ctx context.Context, e *env, delay time.Duration) error {
	if err := sleep(ctx, delay); err != nil {
		return err
	}
	b := c.summary.button("确认提交")
	if b == nil {
		return fmt.Errorf("contact %d: no 确认提交 on its summary %q", c.n, c.summary.text)
	}
	c.pressedAt = e.clock()
	if _, err := e.tg.Press(c.user, c.user.ID, c.summary.msgID, b.Data); err != nil {
		return fmt.Errorf("contact %d: press 确认提交: %w", c.n, err)
	}
	for {
		ev, err := c.inbox.next(ctx, maxNudge)
		if errors.Is(err, errQuiet) {
			continue
		}
		if err != nil {
			return nil // the rush ended first
		}
		v := e.read.read(*ev.Message, ev.Time)
		if rs := receiptsIn(v.text); v.kind == viewReceipt && len(rs) > 0 {
			c.told, c.toldAt = rs[0], v.at
			return nil
		}
	}
}

// tally reads every rushing unit's reports from the store (the bot is
// stopped), checks them against what the contacts typed, and fills in the
// result: the group's receipts, the contacts', the bystander's, Telegram's.
func (r *rushRun) tally(ctx context.Context) error {
	receipts, err := r.storedReceipts(ctx)
	if err != nil {
		return err
	}
	r.tallyGroup(receipts)
	r.tallyContacts(receipts)
	res := r.res
	pc := r.bystander.percentiles(50, 99, 100)
	res.BystanderAnswers = int(r.bystander.answered())
	res.BystanderP50ms, res.BystanderP99ms, res.BystanderMaxms = ms(pc[0]), ms(pc[1]), ms(pc[2])
	res.BystanderDone = r.contacts[r.cfg.Rush].summary.msgID != 0
	for _, d := range r.bystander.inOrder() {
		res.BystanderWaitsms = append(res.BystanderWaitsms, ms(d))
	}
	res.StrangerReplies = r.watch.strangerReplies()
	st := r.tg.Stats()
	res.TooManyRequests = st.TooManyRequests
	var group []time.Time
	for _, s := range st.Accepted {
		if s.Time.Before(r.t0) {
			continue
		}
		res.Sends++
		if s.ChatID == officeGroup {
			group = append(group, s.Time)
			res.GroupSendTimes = append(res.GroupSendTimes, s.Time.Sub(r.t0).Seconds())
		}
	}
	res.GroupMostInMinute = mostWithin(group, time.Minute)
	return nil
}

// mostWithin is the most times (in order) within any window of length d,
// as Telegram's sliding window counts: a time d or more before another is
// out of its window.
func mostWithin(times []time.Time, d time.Duration) int {
	most, first := 0, 0
	for i, t := range times {
		for !times[first].After(t.Add(-d)) {
			first++
		}
		most = max(most, i-first+1)
	}
	return most
}

// storedReceipts checks each rushing unit's reports against its contact's
// answers and returns the receipt of its latest one (the one a first
// submission would get when there is none: it is then missing), by
// receipt. The bystander must not have submitted.
func (r *rushRun) storedReceipts(ctx context.Context) (map[string]*contact, error) {
	st, err := r.be.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the store to check: %w", err)
	}
	defer st.Close()
	receipts := map[string]*contact{}
	for _, c := range r.contacts[:r.cfg.Rush] {
		reps, err := st.Reports(ctx, "", c.unitID)
		if err != nil {
			return nil, fmt.Errorf("reports of unit %d: %w", c.unitID, err)
		}
		checkReports(&r.verdict, fmt.Sprintf("contact %d (unit %d)", c.n, c.unitID), c.it.want, reps)
		receipt := r.camp.ReceiptNumber(c.unitID, 1)
		if len(reps) > 0 {
			r.res.Submitted++
			receipt = reps[len(reps)-1].Receipt
		}
		receipts[receipt] = c
	}
	by := r.contacts[r.cfg.Rush]
	if reps, err := st.Reports(ctx, "", by.unitID); err != nil {
		return nil, fmt.Errorf("reports of unit %d: %w", by.unitID, err)
	} else if len(reps) > 0 {
		r.verdict.add(false, "the bystander (unit %d) submitted %d times; it never pressed 确认提交", by.unitID, len(reps))
	}
	return receipts, nil
}

// tallyGroup counts the receipts in the office group's text messages:
// missing, posted more than once, unexpected, and how long after its
// press each first appeared.
func (r *rushRun) tallyGroup(receipts map[string]*contact) {
	t := r.watch.tally()
	res := r.res
	want := slices.Sorted(maps.Keys(receipts))
	missing, twice, unexpected := missingAndTwice(want, t.count)
	res.Missing, res.MissingReceipts = len(missing), missing
	res.Twice, res.TwiceReceipts = len(twice), twice
	res.Unexpected = unexpected
	res.Posted = len(want) - len(missing)
	var lags stepStats
	for rc, c := range receipts {
		if at, ok := t.first[rc]; ok && !c.pressedAt.IsZero() {
			lags.latency(at.Sub(c.pressedAt))
		}
	}
	pc := lags.percentiles(50, 100)
	res.GroupLagP50s, res.GroupLagMaxs = pc[0].Seconds(), pc[1].Seconds()
	res.GroupTexts, res.GroupMerged = t.texts, t.merged
	res.GroupAlbums, res.GroupAlbumItems, res.GroupFiles = t.albums, t.albumItems, t.files
	r.tallyDocs(t.docs, receipts)
	for _, rc := range unexpected {
		res.Problems = append(res.Problems, fmt.Sprintf("receipt %s posted in the office group, but no rushing unit has it", rc))
	}
}

// tallyDocs counts the rushing units' documents in the office group.
func (r *rushRun) tallyDocs(posted map[string]int, receipts map[string]*contact) {
	res := r.res
	res.DocsWaited = r.cfg.RushDocs
	var names []string
	for _, c := range receipts {
		names = append(names, c.it.docName)
	}
	missing, twice, _ := missingAndTwice(names, posted)
	res.DocsPosted = len(names) - len(missing)
	res.DocsMissing, res.DocsTwice, res.DocsTwiceNames = len(missing), len(twice), twice
}

// tallyContacts counts the contacts told their receipt, and notes those
// told another one than the store holds, or none.
func (r *rushRun) tallyContacts(receipts map[string]*contact) {
	var told stepStats
	var pressed []time.Time
	for rc, c := range receipts {
		if !c.pressedAt.IsZero() {
			pressed = append(pressed, c.pressedAt)
		}
		switch {
		case c.told == "":
		case c.told != rc:
			r.res.Problems = append(r.res.Problems, fmt.Sprintf("contact %d was told receipt %s, the store has %s", c.n, c.told, rc))
		default:
			r.res.Told++
			told.latency(c.toldAt.Sub(c.pressedAt))
		}
	}
	if n := r.cfg.Rush - r.res.Told; n > 0 {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("%d contacts were not told their receipt by the end", n))
	}
	slices.Sort(r.res.Problems)
	pc := told.percentiles(50, 100)
	r.res.ToldP50s, r.res.ToldMaxs = pc[0].Seconds(), pc[1].Seconds()
	if len(pressed) > 0 {
		slices.SortFunc(pressed, time.Time.Compare)
		r.res.PressSeconds = pressed[len(pressed)-1].Sub(pressed[0]).Seconds()
	}
}

// progress prints where the rush stands.
func (r *rushRun) progress() func() {
	return showProgress(r.cfg.Progress, func(elapsed time.Duration) string {
		if !r.pressing.Load() {
			done := int(r.stats.done.Load())
			return fmt.Sprintf("rush: preparing  %s %d/%d forms at the summary  %s", bar(done, r.cfg.Rush), done, r.cfg.Rush, elapsed.Round(time.Second))
		}
		posted := r.watch.posted()
		return fmt.Sprintf("rush: pressed    %s %d/%d receipts in the office group  bystander %d answers  %d kills  %s",
			bar(posted, r.cfg.Rush), posted, r.cfg.Rush, r.bystander.answered(), r.kills.Load(), elapsed.Round(time.Second))
	})
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
