package loadtest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// post is the office group's post about unit id's version, as the bot
// writes it.
func post(camp *flows.Campaign, id int64, version int) string {
	u := flows.Unit{ID: id, Name: "压测单位", Category: "county"}
	r := flows.Report{UnitID: id, Version: version, Receipt: camp.ReceiptNumber(id, version), SubmittedAt: time.Date(2022, 1, 20, 10, 0, 0, 0, camp.Location),
		Answers: map[string]flows.Answer{"troop_visits": {Num: 3}}}
	return camp.SubmissionText(u, r)
}

// TestCountReceipts: a receipt counts once per message that shows it, so a
// merged message counts each of its receipts once and a receipt in two
// messages twice; a later version's receipt is another receipt.
func TestCountReceipts(t *testing.T) {
	camp := flows.DefaultCampaign()
	one, two, three := post(camp, 1, 1), post(camp, 2, 1), post(camp, 3, 1)
	r1, r2, r3 := camp.ReceiptNumber(1, 1), camp.ReceiptNumber(2, 1), camp.ReceiptNumber(3, 1)
	r1v2 := camp.ReceiptNumber(1, 2)
	tests := []struct {
		name  string
		texts []string
		want  map[string]int
	}{
		{"one post", []string{one}, map[string]int{r1: 1}},
		{"a merged message with two receipts", []string{flows.MergePosts([]string{one, two})}, map[string]int{r1: 1, r2: 1}},
		{"a receipt in two messages", []string{one, flows.MergePosts([]string{one, two})}, map[string]int{r1: 2, r2: 1}},
		{"merged, then merged again after a restart", []string{flows.MergePosts([]string{one, two}), flows.MergePosts([]string{one, two, three})},
			map[string]int{r1: 2, r2: 2, r3: 1}},
		{"a second version", []string{one, post(camp, 1, 2)}, map[string]int{r1: 1, r1v2: 1}},
		{"no receipt", []string{"已将本群设为市双拥办工作群。"}, map[string]int{}},
	}
	for _, tt := range tests {
		if got := countReceipts(tt.texts); !maps.Equal(got, tt.want) {
			t.Errorf("%s: countReceipts = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestMissingAndTwice sorts the counted receipts into missing, posted more
// than once, and unexpected.
func TestMissingAndTwice(t *testing.T) {
	missing, twice, unexpected := missingAndTwice([]string{"A", "B", "C", "E"}, map[string]int{"A": 1, "B": 2, "D": 1, "E": 3})
	if !slices.Equal(missing, []string{"C"}) || !maps.Equal(twice, map[string]int{"B": 2, "E": 3}) || !slices.Equal(unexpected, []string{"D"}) {
		t.Errorf("missingAndTwice = missing %v, twice %v, unexpected %v; want [C], map[B:2 E:3], [D]", missing, twice, unexpected)
	}
}

// TestRushWatchTally feeds the watch the fake's events of a rush: the
// /setgroup answer before it starts, a single post, a merged one, the
// merged one again (resent after a restart), an album, a document alone,
// replies to the stranger and to others.
func TestRushWatchTally(t *testing.T) {
	camp := flows.DefaultCampaign()
	one, two, three := post(camp, 1, 1), post(camp, 2, 1), post(camp, 3, 1)
	r1, r2, r3 := camp.ReceiptNumber(1, 1), camp.ReceiptNumber(2, 1), camp.ReceiptNumber(3, 1)
	t0 := time.Date(2022, 1, 20, 20, 0, 0, 0, time.UTC)
	w := newRushWatch(strangerUser.ID)
	sent := func(at time.Duration, chat int64, m telegramtest.Message) {
		w.observe(telegramtest.Event{Kind: telegramtest.EventMessageSent, Time: t0.Add(at), ChatID: chat, Message: &m})
	}
	doc := func(name, album string) telegramtest.Message {
		return telegramtest.Message{Document: &telegramtest.File{Name: name}, MediaGroupID: album}
	}
	sent(0, officeGroup, telegramtest.Message{Text: "已将本群设为市双拥办工作群。" + one}) // before the rush: not counted
	w.start([]string{r1, r2, r3}, nil)
	sent(3*time.Second, officeGroup, telegramtest.Message{Text: one})
	if !w.waiting() || w.posted() != 1 {
		t.Fatalf("after one of three receipts: waiting %v, posted %d", w.waiting(), w.posted())
	}
	sent(6*time.Second, officeGroup, telegramtest.Message{Text: flows.MergePosts([]string{two, three})})
	sent(9*time.Second, officeGroup, telegramtest.Message{Text: flows.MergePosts([]string{two, three})})
	sent(39*time.Second, officeGroup, doc("a.pdf", "1"))
	sent(39*time.Second, officeGroup, doc("b.pdf", "1"))
	sent(69*time.Second, officeGroup, doc("c.pdf", ""))
	sent(time.Second, strangerUser.ID, telegramtest.Message{Text: "您还不是填报联系人。"})
	sent(time.Second, 9_000_001, telegramtest.Message{Text: "✅ 提交成功！\n回执编号：" + r1})
	if w.waiting() {
		t.Errorf("every receipt posted, still waiting")
	}
	g := w.tally()
	if want := map[string]int{r1: 1, r2: 2, r3: 2}; !maps.Equal(g.count, want) {
		t.Errorf("counted %v, want %v", g.count, want)
	}
	if g.first[r2] != t0.Add(6*time.Second) || g.texts != 3 || g.merged != 2 || g.albums != 1 || g.albumItems != 2 || g.files != 1 {
		t.Errorf("tally %+v: want r2 first at +6 s, 3 texts (2 merged), 1 album of 2, 1 file alone", g)
	}
	if !maps.Equal(g.docs, map[string]int{"a.pdf": 1, "b.pdf": 1, "c.pdf": 1}) || w.strangerReplies() != 1 {
		t.Errorf("documents %v, stranger replies %d; want each document once, one reply", g.docs, w.strangerReplies())
	}
}

// TestRushWatchWaitsForDocuments: with documents to wait for, the watch
// waits until each has been posted, in an album or alone.
func TestRushWatchWaitsForDocuments(t *testing.T) {
	camp := flows.DefaultCampaign()
	w := newRushWatch(strangerUser.ID)
	w.start([]string{camp.ReceiptNumber(1, 1)}, []string{"a.pdf", "b.pdf"})
	for _, m := range []telegramtest.Message{{Text: post(camp, 1, 1)}, {Document: &telegramtest.File{Name: "a.pdf"}}} {
		w.observe(telegramtest.Event{Kind: telegramtest.EventMessageSent, ChatID: officeGroup, Message: &m})
	}
	if !w.waiting() {
		t.Fatalf("b.pdf not posted yet, but not waiting")
	}
	m := telegramtest.Message{Document: &telegramtest.File{Name: "b.pdf"}, MediaGroupID: "7"}
	w.observe(telegramtest.Event{Kind: telegramtest.EventMessageSent, ChatID: officeGroup, Message: &m})
	if w.waiting() {
		t.Errorf("everything posted, still waiting")
	}
}

// TestWarpClock: while warping, every reading is at least a second after
// the one before; frozen, the clock runs at real time, never back.
func TestWarpClock(t *testing.T) {
	w := newWarpClock()
	a := w.now()
	b := w.now()
	if b.Sub(a) < warpStep {
		t.Errorf("warping: readings %v apart, want at least %v", b.Sub(a), warpStep)
	}
	w.freeze()
	c := w.now()
	time.Sleep(10 * time.Millisecond)
	d := w.now()
	if c.Before(b) || d.Sub(c) < 10*time.Millisecond || d.Sub(c) > time.Second {
		t.Errorf("frozen: readings %v then %v after %v; want real time from there on", c, d, b)
	}
}

// TestMostWithin counts as Telegram's sliding minute does: a send a full
// minute before another is no longer in its window.
func TestMostWithin(t *testing.T) {
	t0 := time.Date(2022, 1, 20, 20, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	for _, tt := range []struct {
		times []time.Time
		want  int
	}{
		{nil, 0},
		{at(0), 1},
		{at(0, 60), 1},
		{at(0, 59.999, 60), 2},
		{at(0, 0, 0, 30, 30, 60, 60), 5},
	} {
		if got := mostWithin(tt.times, time.Minute); got != tt.want {
			t.Errorf("mostWithin(%v) = %d, want %d", tt.times, got, tt.want)
		}
	}
}
