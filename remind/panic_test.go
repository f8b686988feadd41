package remind

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/flows/flowstest"
)

// panicContacts is a store whose Contacts panics for one unit (a bug in a
// round's worker), and whose Units panics while panicUnits is set (a bug
// in the round itself).
type panicContacts struct {
	flows.Store
	unit       atomic.Int64
	panicUnits atomic.Bool
}

func (s *panicContacts) Contacts(ctx context.Context, unitID int64) ([]flows.Contact, error) {
	if unitID == s.unit.Load() {
		panic("test: Contacts panics for this unit")
	}
	return s.Store.Contacts(ctx, unitID)
}

func (s *panicContacts) Units(ctx context.Context) ([]flows.Unit, error) {
	if s.panicUnits.Load() {
		panic("test: Units panics")
	}
	return s.Store.Units(ctx)
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// panicCounter records OnPanic calls.
type panicCounter struct {
	mu    sync.Mutex
	where map[string]int
}

func (c *panicCounter) hook(where string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.where == nil {
		c.where = map[string]int{}
	}
	c.where[where]++
}

func (c *panicCounter) get(where string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.where[where]
}

// TestPanicInRoundWorker: a panic while one unit of a caught-up round is
// reminded is recovered (the test binary lives), logged with its stack and
// counted; the other units are reminded; the office hears of it; the round
// is marked, and a later run of the same round does not run it again.
func TestPanicInRoundWorker(t *testing.T) {
	var st *panicContacts
	logs := &lockedBuffer{}
	h := newHarness(t, harnessOptions{now: at(2, 7, 9, 5), logTo: logs, wrap: func(s flows.Store) flows.Store {
		st = &panicContacts{Store: s}
		return st
	}})
	flowstest.SetOfficeGroup(t, h.store, h.group.ID)
	now := h.clock.Now()
	a := addDirect(t, h.store, h.tg, "离石区双拥工作领导小组", "county", 1, now)
	b := addDirect(t, h.store, h.tg, "市财政局", "department", 1, now)
	c := addDirect(t, h.store, h.tg, "市民政局", "department", 1, now)
	st.unit.Store(b.ID)
	ctx := t.Context()

	var panics panicCounter
	catchUp := func() {
		t.Helper()
		s := h.scheduler(Options{OnPanic: panics.hook})
		if err := s.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		<-s.caughtUp
		s.Stop()
	}
	catchUp() // the 09:00 round of 7 Feb, caught up at 09:05

	if got := panics.get("remind_unit"); got != 1 {
		t.Errorf("OnPanic(remind_unit) called %d times, want 1 (all: %v)", got, panics.where)
	}
	for _, u := range []schedUnit{a, c} {
		if got := len(reminders(h.tg, u.users[0].ID)); got != 1 {
			t.Errorf("%s got %d reminders in the round where another unit panicked, want 1", u.Name, got)
		}
	}
	if got := len(reminders(h.tg, b.users[0].ID)); got != 0 {
		t.Errorf("%s (whose Contacts panics) got %d reminders, want 0", b.Name, got)
	}
	lines := roundLines(h.tg, h.group.ID)
	if len(lines) != 1 || !strings.Contains(lines[0], "1 个单位因程序内部错误未能提醒") {
		t.Errorf("office group round lines = %q, want one that says a unit failed on an internal error", lines)
	}
	if log := logs.String(); !strings.Contains(log, "where=remind_unit") || !strings.Contains(log, "stack=") {
		t.Errorf("log has no line with where=remind_unit and a stack:\n%s", log)
	}

	// A second catch-up the same day runs nothing again.
	sends := h.tg.Calls("sendMessage")
	catchUp()
	if got := h.tg.Calls("sendMessage") - sends; got != 0 {
		t.Errorf("a second catch-up sent %d messages, want none", got)
	}
	// Even when the round's fire was not recorded (a replica that missed
	// it), the mark keeps the round from running again, and says so.
	if err := h.store.PutSetting(ctx, settingLastReminders, at(2, 1, 9, 0).Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	s := h.scheduler(Options{OnPanic: panics.hook})
	res, err := s.RunReminders(ctx, h.clock.Now())
	if err != nil || res.Skip != "panicked" || res.Ran {
		t.Errorf("RunReminders after the round panicked = %+v, %v; want Skip panicked", res, err)
	}
	if got := h.tg.Calls("sendMessage") - sends; got != 0 {
		t.Errorf("running the marked round again sent %d messages, want none", got)
	}
	if got := panics.get("remind_unit"); got != 1 {
		t.Errorf("OnPanic(remind_unit) called %d times after the reruns, want still 1", got)
	}
	if res, err := s.RunReminders(ctx, h.clock.Now()); err != nil || res.Skip != "done" {
		t.Errorf("RunReminders once more = %+v, %v; want done (the fire is recorded again)", res, err)
	}
}

// TestPanicInRound: a panic of the round itself (not of one unit) is
// recovered by the tick, counted, reported to the office, and the round is
// marked: the next ticks and a catch-up do not run into it again.
func TestPanicInRound(t *testing.T) {
	var st *panicContacts
	h := newHarness(t, harnessOptions{now: at(2, 7, 9, 5), wrap: func(s flows.Store) flows.Store {
		st = &panicContacts{Store: s}
		return st
	}})
	flowstest.SetOfficeGroup(t, h.store, h.group.ID)
	a := addDirect(t, h.store, h.tg, "离石区双拥工作领导小组", "county", 1, h.clock.Now())
	st.panicUnits.Store(true)
	var panics panicCounter
	s := h.scheduler(Options{OnPanic: panics.hook})
	s.Tick("reminders") // as cron's tick would
	if got := panics.get("round"); got != 1 {
		t.Errorf("OnPanic(round) called %d times, want 1 (all: %v)", got, panics.where)
	}
	if lines := roundLines(h.tg, h.group.ID); len(lines) != 0 {
		t.Errorf("round lines = %q, want none (the round did not run)", lines)
	}
	h.settle()
	if m := h.last(h.group.ID); !strings.Contains(m.Text, "本轮提醒因程序内部错误中断") {
		t.Errorf("office group last message = %q, want the note that the round panicked", m.Text)
	}
	// The bug is still there: the next tick does not run into it again.
	s.Tick("reminders")
	if got := panics.get("round"); got != 1 {
		t.Errorf("OnPanic(round) called %d times after a second tick, want still 1", got)
	}
	res, err := s.RunRound(t.Context(), mustDueRound(t, h), h.camp.Deadline)
	if err != nil || res.Skip != "panicked" {
		t.Errorf("RunRound of the marked round = %+v, %v; want Skip panicked", res, err)
	}
	if got := len(reminders(h.tg, a.users[0].ID)); got != 0 {
		t.Errorf("%s got %d reminders, want 0", a.Name, got)
	}
}

func mustDueRound(t *testing.T, h *harness) flows.Round {
	t.Helper()
	r, ok := h.camp.DueRound(h.camp.Deadline, h.clock.Now())
	if !ok {
		t.Fatal("no round due")
	}
	return r
}
