package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/flows"
)

// The outbox: Transition.Outbox, Claim, Commit, Outbox, Delivered.

func mustOutbox(t *testing.T, s flows.Store, all bool) []flows.Outgoing {
	t.Helper()
	msgs, err := s.Outbox(t.Context(), all)
	if err != nil {
		t.Fatalf("Outbox(%v) error: %v", all, err)
	}
	return msgs
}

func mustDelivered(t *testing.T, s flows.Store, ids ...string) {
	t.Helper()
	if err := s.Delivered(t.Context(), ids); err != nil {
		t.Fatalf("Delivered(%q) error: %v", ids, err)
	}
}

func mustClaim(t *testing.T, s flows.Store, key, token string, ttl time.Duration, want flows.ClaimState) {
	t.Helper()
	got, err := s.Claim(t.Context(), key, token, ttl)
	if err != nil || got != want {
		t.Errorf("Claim(%q, %q, %v) = %v, %v; want %v", key, token, ttl, got, err, want)
	}
}

func mustCommit(t *testing.T, s flows.Store, key string, keep time.Duration, msgs []flows.Outgoing, want bool) {
	t.Helper()
	got, err := s.Commit(t.Context(), key, keep, msgs)
	if err != nil {
		t.Fatalf("Commit(%q, %d messages) error: %v", key, len(msgs), err)
	}
	if got != want {
		t.Errorf("Commit(%q, %d messages) = %v, want %v", key, len(msgs), got, want)
	}
	for _, m := range msgs {
		if written := m.ID != ""; written != got {
			t.Errorf("Commit(%q) = %v, but message %q has ID %q", key, got, m.Text, m.ID)
		}
	}
}

// texts returns the messages' texts, for messages that say what went wrong.
func texts(msgs []flows.Outgoing) []string {
	ts := make([]string, len(msgs))
	for i, m := range msgs {
		ts[i] = m.Text
	}
	return ts
}

// reply is a plain text message to chat.
func reply(chat int64, text string) flows.Outgoing {
	return flows.Outgoing{Chat: chat, Kind: flows.OutText, Text: text, At: t0}
}

// checkIDs checks that every message has an ID, that the IDs are unique and
// that they sort in the order of the slice (the order of writing).
func checkIDs(t *testing.T, what string, msgs []flows.Outgoing) {
	t.Helper()
	for i, m := range msgs {
		if m.ID == "" {
			t.Errorf("%s: message %d (%q) has no ID", what, i, m.Text)
		}
		if i > 0 && msgs[i-1].ID >= m.ID {
			t.Errorf("%s: message %d has ID %q, not after message %d's %q (IDs sort in the order of writing)", what, i, m.ID, i-1, msgs[i-1].ID)
		}
	}
}

func testOutboxApply(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	b := mustAddUnit(t, s, "市民政局", "department")
	ca := mustBind(t, s, a.ID, 61)
	cb := mustBind(t, s, b.ID, 62)
	if got := mustOutbox(t, s, true); len(got) != 0 {
		t.Fatalf("Outbox(true) of a new store = %v, want none", texts(got))
	}

	// Writes by Apply to two units and by Commit, interleaved: Outbox
	// lists them in the order of writing.
	var want []flows.Outgoing
	da := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	outA := []flows.Outgoing{
		{Chat: ca.ChatID, Kind: flows.OutUnbutton, MsgID: 17, At: t0},
		reply(ca.ChatID, "已记录：张三"),
		reply(ca.ChatID, "请填写联系电话："),
	}
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: ca.UserID, Draft: da, Outbox: outA})
	checkIDs(t, "Apply(unit a) with 3 messages", outA)
	want = append(want, outA...)

	db := nextDraft(flows.Draft{UnitID: b.ID}, "filler_name", "李四")
	outB := []flows.Outgoing{reply(cb.ChatID, "已记录：李四"), reply(cb.ChatID, "请填写联系电话：")}
	mustApply(t, s, flows.Transition{UnitID: b.ID, UpdateID: 1, UserID: cb.UserID, Draft: db, Outbox: outB})
	want = append(want, outB...)

	cmd := []flows.Outgoing{reply(-1001234567890, "本周进度：已提交 0 份")}
	mustCommit(t, s, "cmd:progress", time.Hour, cmd, true)
	want = append(want, cmd...)

	// An Apply without messages writes none.
	da2 := nextDraft(da, "filler_phone", "13800000000")
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 2, UserID: ca.UserID, FromRev: 1, Draft: da2})
	da3 := nextDraft(da2, "essays", "3")
	outA2 := []flows.Outgoing{reply(ca.ChatID, "第 3 题")}
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 3, UserID: ca.UserID, FromRev: 2, Draft: da3, Outbox: outA2})
	want = append(want, outA2...)
	checkIDs(t, "messages of 4 writes", want)

	got := mustOutbox(t, s, true)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Outbox(true) = %q, want %q (by ID, as written)", texts(got), texts(want))
	}
	// The draft went in with its messages.
	if d := mustDraft(t, s, a.ID); !reflect.DeepEqual(d, da3) {
		t.Errorf("Draft(%d) after Applies with messages = %+v, want %+v", a.ID, d, da3)
	}

	// Delivered removes what it names; unknown and repeated IDs are ignored.
	mustDelivered(t, s, want[1].ID, want[4].ID, "no-such-id", "", want[1].ID)
	rest := slices.Delete(slices.Clone(want), 4, 5)
	rest = slices.Delete(rest, 1, 2)
	if got := mustOutbox(t, s, true); !reflect.DeepEqual(got, rest) {
		t.Errorf("Outbox(true) after delivering 2 = %q, want %q", texts(got), texts(rest))
	}
	mustDelivered(t, s, want[1].ID)
	mustDelivered(t, s)
	var ids []string
	for _, m := range rest {
		ids = append(ids, m.ID)
	}
	mustDelivered(t, s, ids...)
	if got := mustOutbox(t, s, true); len(got) != 0 {
		t.Errorf("Outbox(true) after delivering all = %q, want none", texts(got))
	}
}

func testOutboxRejected(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	c := mustBind(t, s, a.ID, 71)
	d1 := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	first := []flows.Outgoing{reply(c.ChatID, "已记录：张三")}
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: c.UserID, Draft: d1, Outbox: first})

	for _, tc := range []struct {
		desc string
		tr   flows.Transition
		want error // nil: any error
	}{
		{"duplicate update", flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: c.UserID, FromRev: 1, Draft: nextDraft(d1, "essays", "dup")}, flows.ErrDuplicate},
		{"stale revision", flows.Transition{UnitID: a.ID, UpdateID: 2, UserID: c.UserID, FromRev: 0, Draft: nextDraft(flows.Draft{UnitID: a.ID}, "essays", "stale")}, flows.ErrConflict},
		{"not a contact", flows.Transition{UnitID: a.ID, UpdateID: 3, UserID: 999, FromRev: 1, Draft: nextDraft(d1, "essays", "stranger")}, flows.ErrNotContact},
		{"invalid revision", flows.Transition{UnitID: a.ID, UpdateID: 4, UserID: c.UserID, FromRev: 1, Draft: nextDraft(flows.Draft{UnitID: a.ID, Rev: 5}, "essays", "bad")}, nil},
	} {
		tc.tr.Outbox = []flows.Outgoing{reply(c.ChatID, tc.desc), {Chat: flows.OfficeGroup, Kind: flows.OutText, Text: tc.desc, Post: true}}
		err := s.Apply(ctx, tc.tr)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Apply(%s) with messages error = %v, want %v", tc.desc, err, tc.want)
		}
		for _, m := range tc.tr.Outbox {
			if m.ID != "" {
				t.Errorf("Apply(%s) failed but set message ID %q, want it empty (not written)", tc.desc, m.ID)
			}
		}
	}
	if got := mustOutbox(t, s, true); !reflect.DeepEqual(got, first) {
		t.Errorf("Outbox(true) after rejected Applies = %q, want only the first Apply's %q", texts(got), texts(first))
	}
}

func testOutboxFields(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	c := mustBind(t, s, a.ID, 81)
	upload := make([]byte, 3<<20) // a spreadsheet of a few MB, incompressible
	r := rand.New(rand.NewPCG(1, 2))
	for i := range upload {
		upload[i] = byte(r.Uint32())
	}
	at := t0.Add(1234567891 * time.Nanosecond)
	buttons := [][]flows.Button{
		{{Text: "上一题", Data: "back:3"}, {Text: "跳过", Data: "skip:essays"}},
		{{Text: "✅ 完成", Data: "done"}},
	}
	msgs := []flows.Outgoing{
		{Chat: c.ChatID, Kind: flows.OutEdit, MsgID: 4242, Text: "第 3 题：\n组织开展慰问活动（次）", Buttons: buttons, At: at},
		{Chat: c.ChatID, Kind: flows.OutUnbutton, MsgID: 2147483647},
		{Chat: flows.OfficeGroup, Kind: flows.OutFile, Text: "离石区 · 工作报告 · 第 1 版", Post: true, At: at,
			File: &flows.File{ID: "BQACAgUAAxkBAAI", UniqueID: "AgADxx", Name: "报告.pdf", MIME: "application/pdf", Size: 352118}},
		{Chat: -1001234567890, Kind: flows.OutFile, Text: "照片", File: &flows.File{ID: "AgACAgUAAxkBAAI", Photo: true}},
		{Chat: c.ChatID, Kind: flows.OutFile, Text: "汇总表", File: &flows.File{Name: "汇总.xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, Upload: upload, At: at},
		{Chat: c.ChatID, Kind: flows.OutText, Text: "多行\n文本 <b>不转义</b> & \"引号\" \x00 end"},
	}
	// Half through Apply, half through Commit.
	d := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	viaApply, viaCommit := slices.Clone(msgs[:3]), slices.Clone(msgs[3:])
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: c.UserID, Draft: d, Outbox: viaApply})
	mustCommit(t, s, "cmd:export", time.Hour, viaCommit, true)
	want := append(viaApply, viaCommit...)
	got := mustOutbox(t, s, true)
	if len(got) != len(want) {
		t.Fatalf("Outbox(true) = %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, w := got[i], want[i]
			g.Upload, w.Upload = nil, nil
			t.Errorf("Outbox(true)[%d] = %+v (upload %d bytes), want %+v (upload %d bytes)", i, g, len(got[i].Upload), w, len(want[i].Upload))
		}
	}
}

func testClaim(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()
	const key = "upd:1001"
	mustClaim(t, s, key, "a", time.Minute, flows.Claimed)
	mustClaim(t, s, key, "b", time.Minute, flows.Busy)
	mustClaim(t, s, key, "a", time.Minute, flows.Claimed) // the holder may claim again
	mustClaim(t, s, "upd:1002", "b", time.Minute, flows.Claimed)

	msgs := []flows.Outgoing{reply(5, "已生成邀请链接")}
	mustCommit(t, s, key, time.Hour, msgs, true)
	mustClaim(t, s, key, "a", time.Minute, flows.Done)
	mustClaim(t, s, key, "b", time.Minute, flows.Done)
	mustCommit(t, s, key, time.Hour, []flows.Outgoing{reply(5, "again")}, false)

	// Commit needs no claim, and marks the key done without messages too.
	mustCommit(t, s, "upd:1003", time.Hour, nil, true)
	mustClaim(t, s, "upd:1003", "a", time.Minute, flows.Done)
	// keep ≤ 0: done for ever.
	mustCommit(t, s, "upd:1004", 0, nil, true)
	mustClaim(t, s, "upd:1004", "a", time.Minute, flows.Done)
	// A Commit by a run that does not hold the claim: the work is done.
	mustCommit(t, s, "upd:1002", time.Hour, nil, true)
	mustClaim(t, s, "upd:1002", "b", time.Minute, flows.Done)

	for _, tc := range []struct {
		key, token string
		ttl        time.Duration
	}{
		{"", "a", time.Minute},
		{"upd:1", "", time.Minute},
		{"upd:1", "a", 0},
	} {
		if _, err := s.Claim(ctx, tc.key, tc.token, tc.ttl); err == nil {
			t.Errorf("Claim(%q, %q, %v) error = nil, want an error", tc.key, tc.token, tc.ttl)
		}
	}
	if got := mustOutbox(t, s, true); !reflect.DeepEqual(got, msgs) {
		t.Errorf("Outbox(true) = %q, want %q", texts(got), texts(msgs))
	}
}

func testClaimExpiry(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	ctx := t.Context()

	// A claim expires after its ttl (a crashed run), and another run may
	// take it.
	const ttl = 80 * time.Millisecond
	mustClaim(t, s, "short", "a", ttl, flows.Claimed)
	mustClaim(t, s, "short", "b", ttl, flows.Busy)
	if !eventually(t, 3*time.Second, func() bool {
		st, err := s.Claim(ctx, "short", "b", time.Minute)
		if err != nil {
			t.Fatalf("Claim(short, b) error: %v", err)
		}
		return st == flows.Claimed
	}) {
		t.Fatalf("Claim(short, b) never succeeded after a's ttl of %v", ttl)
	}
	mustClaim(t, s, "short", "a", time.Minute, flows.Busy)

	// Claiming again extends the claim: past the first ttl it still holds.
	mustClaim(t, s, "extended", "a", 150*time.Millisecond, flows.Claimed)
	mustClaim(t, s, "extended", "a", time.Minute, flows.Claimed)
	time.Sleep(300 * time.Millisecond)
	mustClaim(t, s, "extended", "b", time.Minute, flows.Busy)

	// A done mark expires after keep; the key can be claimed and committed
	// again. Commit dropped the claim it finished (held for a minute).
	mustClaim(t, s, "brief", "x", time.Minute, flows.Claimed)
	mustCommit(t, s, "brief", ttl, []flows.Outgoing{reply(5, "first")}, true)
	mustClaim(t, s, "brief", "a", time.Minute, flows.Done)
	if !eventually(t, 3*time.Second, func() bool {
		st, err := s.Claim(ctx, "brief", "a", time.Minute)
		if err != nil {
			t.Fatalf("Claim(brief, a) error: %v", err)
		}
		return st == flows.Claimed
	}) {
		t.Fatalf("Claim(brief, a) never claimed again after its keep of %v (a claim Commit should have dropped?)", ttl)
	}
	mustCommit(t, s, "brief", time.Hour, []flows.Outgoing{reply(5, "second")}, true)
	if got := mustOutbox(t, s, true); !reflect.DeepEqual(texts(got), []string{"first", "second"}) {
		t.Errorf("Outbox(true) after committing an expired key again = %q, want [first second]", texts(got))
	}
}

func testCommit(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	var want []flows.Outgoing

	once := []flows.Outgoing{reply(5, "导出完成"), reply(5, "共 12 份")}
	mustCommit(t, s, "cmd:export", time.Hour, once, true)
	checkIDs(t, "Commit with 2 messages", once)
	want = append(want, once...)
	mustCommit(t, s, "cmd:export", time.Hour, []flows.Outgoing{reply(5, "导出完成（重复）")}, false)

	// Key "": written every time.
	for i := range 3 {
		msgs := []flows.Outgoing{reply(6, fmt.Sprintf("提醒 %d", i))}
		mustCommit(t, s, "", time.Hour, msgs, true)
		want = append(want, msgs...)
	}
	mustCommit(t, s, "", time.Hour, nil, true)

	// A key done without messages refuses later ones.
	mustCommit(t, s, "cmd:quiet", time.Hour, nil, true)
	mustCommit(t, s, "cmd:quiet", time.Hour, []flows.Outgoing{reply(5, "late")}, false)

	checkIDs(t, "messages of 4 Commits", want)
	if got := mustOutbox(t, s, true); !reflect.DeepEqual(got, want) {
		t.Errorf("Outbox(true) = %q, want %q", texts(got), texts(want))
	}
}

func testCommitConcurrent(t *testing.T, open func(t *testing.T) flows.Store) {
	s := open(t)
	const n = 16
	msgs := make([][]flows.Outgoing, n)
	firsts := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		msgs[i] = []flows.Outgoing{reply(int64(100+i), fmt.Sprintf("run %d", i)), reply(flows.OfficeGroup, fmt.Sprintf("run %d post", i))}
		wg.Go(func() {
			<-start
			firsts[i], errs[i] = s.Commit(t.Context(), "cmd:race", time.Hour, msgs[i])
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Errorf("concurrent Commit %d error: %v", i, errs[i])
		case firsts[i] && winner >= 0:
			t.Errorf("concurrent Commit: goroutines %d and %d both wrote, want exactly one", winner, i)
		case firsts[i]:
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("concurrent Commit: no goroutine wrote, want exactly one")
	}
	if got := mustOutbox(t, s, true); !reflect.DeepEqual(got, msgs[winner]) {
		t.Errorf("Outbox(true) after the race = %q, want only the winner's %q", texts(got), texts(msgs[winner]))
	}
}

// testOutboxOthers: Outbox(false) finds the messages another process
// wrote (a second store on the same data); a store that only one process
// can open has none to find.
func testOutboxOthers(t *testing.T, open, second func(t *testing.T) flows.Store) {
	s := open(t)
	a := mustAddUnit(t, s, "离石区双拥工作领导小组", "county")
	c := mustBind(t, s, a.ID, 91)
	d := nextDraft(flows.Draft{UnitID: a.ID}, "filler_name", "张三")
	own := []flows.Outgoing{reply(c.ChatID, "已记录：张三")}
	mustApply(t, s, flows.Transition{UnitID: a.ID, UpdateID: 1, UserID: c.UserID, Draft: d, Outbox: own})
	mustCommit(t, s, "", time.Hour, []flows.Outgoing{reply(c.ChatID, "own commit")}, true)
	if second == nil {
		if got := mustOutbox(t, s, false); len(got) != 0 {
			t.Errorf("Outbox(false) of a single-process store = %q, want none", texts(got))
		}
		return
	}

	s2 := second(t)
	// What the first store wrote is there for a look from either.
	if got := mustOutbox(t, s2, false); len(got) != 2 {
		t.Errorf("second store's Outbox(false) after 2 writes by the first = %q, want both", texts(got))
	}

	// Writes by the second store, while the first looks now and then.
	var want []flows.Outgoing
	from := d
	for i := range 3 {
		next := nextDraft(from, "essays", fmt.Sprint(i))
		out := []flows.Outgoing{reply(c.ChatID, fmt.Sprintf("第 %d 题", i))}
		mustApply(t, s2, flows.Transition{UnitID: a.ID, UpdateID: int64(10 + i), UserID: c.UserID, FromRev: from.Rev, Draft: next, Outbox: out})
		cmd := []flows.Outgoing{reply(-100500, fmt.Sprintf("命令 %d", i))}
		mustCommit(t, s2, fmt.Sprintf("cmd:%d", i), time.Hour, cmd, true)
		from = next
		want = append(want, out[0], cmd[0])

		got := mustOutbox(t, s, false)
		for _, w := range want[len(want)-2:] {
			if !slices.ContainsFunc(got, func(m flows.Outgoing) bool { return reflect.DeepEqual(m, w) }) {
				t.Errorf("round %d: Outbox(false) = %q, missing %q written by the other store since the last look", i, texts(got), w.Text)
			}
		}
		if !slices.IsSortedFunc(got, func(a, b flows.Outgoing) int { return strings.Compare(a.ID, b.ID) }) {
			t.Errorf("round %d: Outbox(false) not sorted by ID: %v", i, got)
		}
	}

	// IDs written by one store are delivered through the other.
	all := mustOutbox(t, s, true)
	var ids []string
	for _, m := range all {
		ids = append(ids, m.ID)
	}
	mustDelivered(t, s, ids...)
	if got := mustOutbox(t, s2, true); len(got) != 0 {
		t.Errorf("second store's Outbox(true) after the first delivered all = %q, want none", texts(got))
	}
	if got := mustOutbox(t, s, false); len(got) != 0 {
		t.Errorf("Outbox(false) after delivering all = %q, want none (only undelivered messages)", texts(got))
	}
}
