package loadtest

import (
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"

	"reportbot/bot/telegramtest"
)

// receiptLine finds a receipt number as every post shows it
// ("回执编号：SY-2022-0007"; a later version is SY-2022-0007-2).
var receiptLine = regexp.MustCompile(`回执编号：([A-Za-z0-9][A-Za-z0-9_-]*)`)

// receiptsIn lists the receipts a message shows, in order.
func receiptsIn(text string) []string {
	var out []string
	for _, m := range receiptLine.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// countReceipts counts how often each receipt was posted: once per
// appearance in a message, so a merged message counts each of its
// receipts once, and a receipt in two messages twice.
func countReceipts(texts []string) map[string]int {
	n := map[string]int{}
	for _, t := range texts {
		for _, r := range receiptsIn(t) {
			n[r]++
		}
	}
	return n
}

// groupMsg is a text message the bot sent to the office group.
type groupMsg struct {
	at   time.Time // the fake's clock
	text string
}

// rushWatch records, from the fake's events, what the bot sends to the
// office group and to the stranger during a rush, and wakes whoever waits
// for the receipts.
type rushWatch struct {
	stranger int64 // the stranger's chat

	mu       sync.Mutex
	on       bool
	want     map[string]bool // receipts expected in the group
	seen     map[string]bool // of those, posted at least once
	wantDocs map[string]bool // documents waited for, by file name (-rush-docs)
	texts    []groupMsg
	docs     map[string]int // file name → times posted, in albums or alone
	albums   map[string]int // media group id → items
	files    int            // documents and photos sent alone
	replies  int            // messages to the stranger
	wake     chan struct{}  // something arrived that awaitReceipts waits for
	posts    chan struct{}  // a text message arrived in the group
}

func newRushWatch(stranger int64) *rushWatch {
	return &rushWatch{stranger: stranger, seen: map[string]bool{}, docs: map[string]int{}, albums: map[string]int{},
		wake: make(chan struct{}, 1), posts: make(chan struct{}, 1)}
}

// start records from now on (the preparation's /setgroup answer is not the
// rush's) and waits for the receipts and the documents named (docs may be
// nil: then the rush ends without them).
func (w *rushWatch) start(receipts, docs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.on = true
	w.want = set(receipts)
	w.wantDocs = set(docs)
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// observe takes one event of the fake (phase.observe).
func (w *rushWatch) observe(ev telegramtest.Event) {
	if ev.Kind != telegramtest.EventMessageSent || ev.Message == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.on {
		return
	}
	m := ev.Message
	switch {
	case ev.ChatID == w.stranger:
		w.replies++
	case ev.ChatID != officeGroup: // another chat: not the rush's concern
	case m.Document != nil || m.Photo != nil:
		if m.MediaGroupID != "" {
			w.albums[m.MediaGroupID]++
		} else {
			w.files++
		}
		if m.Document != nil {
			w.docs[m.Document.Name]++
			signal(w.wake)
		}
	case m.Text != "":
		w.texts = append(w.texts, groupMsg{at: ev.Time, text: m.Text})
		for _, r := range receiptsIn(m.Text) {
			w.seen[r] = true
		}
		signal(w.wake)
		signal(w.posts)
	}
}

// waiting reports whether an expected receipt (or document, if waited
// for) is still missing from the group: its backlog is still being sent.
func (w *rushWatch) waiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.missingLocked() > 0 {
		return true
	}
	for d := range w.wantDocs {
		if w.docs[d] == 0 {
			return true
		}
	}
	return false
}

func (w *rushWatch) missingLocked() int {
	n := 0
	for r := range w.want {
		if !w.seen[r] {
			n++
		}
	}
	return n
}

// posted is how many expected receipts the group has seen.
func (w *rushWatch) posted() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.want) - w.missingLocked()
}

// groupTally is what the office group got in a rush.
type groupTally struct {
	count      map[string]int       // receipt → appearances in text messages
	first      map[string]time.Time // receipt → first appearance
	docs       map[string]int       // document file name → times posted
	texts      int
	merged     int // texts carrying more than one receipt
	albums     int
	albumItems int
	files      int
}

// tally counts the group's messages so far.
func (w *rushWatch) tally() groupTally {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := groupTally{first: map[string]time.Time{}, docs: maps.Clone(w.docs), texts: len(w.texts), albums: len(w.albums), files: w.files}
	texts := make([]string, len(w.texts))
	for i, m := range w.texts {
		texts[i] = m.text
		rs := receiptsIn(m.text)
		if len(rs) > 1 {
			t.merged++
		}
		for _, r := range rs {
			if _, ok := t.first[r]; !ok {
				t.first[r] = m.at
			}
		}
	}
	t.count = countReceipts(texts)
	for _, n := range w.albums {
		t.albumItems += n
	}
	return t
}

// strangerReplies is how many messages the stranger got.
func (w *rushWatch) strangerReplies() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.replies
}

// missingAndTwice lists the receipts of want never posted and those
// posted more than once (with how often), and those posted that nobody
// expected, each sorted.
func missingAndTwice(want []string, count map[string]int) (missing []string, twice map[string]int, unexpected []string) {
	twice = map[string]int{}
	expected := map[string]bool{}
	for _, r := range want {
		expected[r] = true
		switch n := count[r]; {
		case n == 0:
			missing = append(missing, r)
		case n > 1:
			twice[r] = n
		}
	}
	for r := range count {
		if !expected[r] {
			unexpected = append(unexpected, r)
		}
	}
	slices.Sort(missing)
	slices.Sort(unexpected)
	return missing, twice, unexpected
}
