package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// plant is a fault a contact plants on purpose, so that a test can check
// that the comparison at the end finds it.
type plant int

const (
	plantNone   plant = iota
	plantDouble       // send one answer twice: the second answers the next question
	plantLost         // type another value than the one meant, once
)

// contact is one simulated unit contact: binds through the invite, then
// walks the form as the bot leads, answering what it means to answer.
type contact struct {
	n      int
	user   telegramtest.User
	unitID int64
	token  string
	it     *intent
	open   int // > 0: answer this many questions, then leave the draft open
	plant  plant
	inbox  inbox
	// toSummary: stop at the summary, without submitting (a rush), and
	// keep it in summary.
	toSummary bool
	summary   view
	// In a rush: when 确认提交 was pressed, and the receipt the bot told
	// the contact, when (the fake's clock).
	pressedAt, toldAt time.Time
	told              string

	steps int    // inputs sent in the form
	last  string // the last bot message seen, for errors
}

// inbox queues the bot's messages to one contact; the router never blocks.
type inbox struct {
	mu   sync.Mutex
	q    []telegramtest.Event
	wake chan struct{}
}

func (b *inbox) push(ev telegramtest.Event) {
	b.mu.Lock()
	b.q = append(b.q, ev)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

var errQuiet = errors.New("no message")

// maxNudge bounds the wait between two /report of a contact the bot does
// not answer.
const maxNudge = 30 * time.Second

// next returns the next message, errQuiet after d without one.
func (b *inbox) next(ctx context.Context, d time.Duration) (telegramtest.Event, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		b.mu.Lock()
		if len(b.q) > 0 {
			ev := b.q[0]
			b.q[0] = telegramtest.Event{}
			b.q = b.q[1:]
			b.mu.Unlock()
			return ev, nil
		}
		b.mu.Unlock()
		select {
		case <-b.wake:
		case <-t.C:
			return telegramtest.Event{}, errQuiet
		case <-ctx.Done():
			return telegramtest.Event{}, ctx.Err()
		}
	}
}

// env is what contacts share: the fake Telegram, the form, the counters.
type env struct {
	tg    *telegramtest.Server
	camp  *flows.Campaign
	read  *reader
	think time.Duration
	// thinkMax, above think, makes each pause a random length between the
	// two (a person's).
	thinkMax time.Duration
	nudge    time.Duration // silence after which a contact sends /report
	stats    *stepStats
	// now is the fake Telegram's clock, which stamps the bot's messages
	// (nil: time.Now); latencies are measured on it.
	now     func() time.Time
	after   func(c *contact) // called after every input of the form (tests)
	planted func(c *contact, p plant)
}

func (e *env) clock() time.Time {
	if e.now == nil {
		return time.Now()
	}
	return e.now()
}

// pause is how long a contact thinks before an answer.
func (e *env) pause() time.Duration {
	if e.thinkMax > e.think {
		return e.think + rand.N(e.thinkMax-e.think)
	}
	return e.think
}

// bind opens the invite link and waits for the greeting. If the bot stays
// silent (it died, or the reply could not be sent) the contact asks again
// with /start, which changes nothing.
func (c *contact) bind(ctx context.Context, e *env) error {
	e.tg.SendText(c.user, c.user.Chat(), "/start "+c.token)
	wait := e.nudge
	for {
		ev, err := c.inbox.next(ctx, wait)
		if errors.Is(err, errQuiet) {
			e.stats.nudge()
			e.tg.SendText(c.user, c.user.Chat(), "/start")
			wait = min(2*wait, maxNudge)
			continue
		}
		if err != nil {
			return fmt.Errorf("contact %d: bind: %w (last message %q)", c.n, err, c.last)
		}
		v := e.read.read(*ev.Message, ev.Time)
		c.last = v.text
		if v.kind == viewGreeting {
			return nil
		}
	}
}

// fill walks the form: it acts only on a question, summary or photo count
// at a revision above the one it last acted on, so a reply the bot sends
// again after a restart is never answered twice. After a silence it sends
// /report, which re-shows where the report stands and changes nothing;
// what typed input already reached Telegram is never sent again.
func (c *contact) fill(ctx context.Context, e *env) error {
	minRev := int64(1)
	sent := e.clock()
	e.tg.SendText(c.user, c.user.Chat(), "/report")
	c.step(e)
	var cur string // the question being answered
	answered := 0
	wait := e.nudge
	for {
		ev, err := c.inbox.next(ctx, wait)
		if errors.Is(err, errQuiet) {
			e.stats.nudge()
			e.tg.SendText(c.user, c.user.Chat(), "/report")
			wait = min(2*wait, maxNudge) // the bot may just be busy
			continue
		}
		if err != nil {
			return fmt.Errorf("contact %d: %w; last message: %q", c.n, err, c.last)
		}
		v := e.read.read(*ev.Message, ev.Time)
		if v.kind != viewOther {
			c.last = v.text
		}
		switch v.kind {
		case viewReceipt, viewSubmitted:
			e.stats.latency(v.at.Sub(sent))
			return nil
		case viewQuestion, viewFiles, viewSummary:
			if v.rev < minRev {
				continue // a copy of an older state
			}
		default:
			continue
		}
		e.stats.latency(v.at.Sub(sent))
		wait = e.nudge
		if c.toSummary && v.kind == viewSummary {
			c.summary = v
			return nil
		}
		if v.kind == viewQuestion {
			if v.qid != cur && cur != "" {
				answered++
			}
			cur = v.qid
		}
		if c.open > 0 && answered >= c.open {
			return nil
		}
		if d := e.pause(); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		sent = e.clock()
		next, err := c.act(e, v, cur)
		if err != nil {
			return fmt.Errorf("contact %d: %w", c.n, err)
		}
		minRev = next
	}
}

// action is what a contact does next.
type action struct {
	kind  actionKind
	text  string // actText: what to type; actPress: the button's label
	exact bool   // actPress: the label is the whole button text, not a part
	photo int    // actPhoto: which of the contact's photos
}

type actionKind int

const (
	actText actionKind = iota
	actPress
	actDocument
	actPhoto
)

// decide picks the input a view asks for, given what the contact means to
// answer. cur is the question being answered (a view of received photos
// does not name it).
func decide(camp *flows.Campaign, it *intent, v view, cur string) (action, error) {
	if v.kind == viewSummary {
		return action{kind: actPress, text: "确认提交"}, nil
	}
	q := camp.Question(cur)
	if q == nil {
		return action{}, fmt.Errorf("photos received but no question known: %q", v.text)
	}
	w, ok := it.want[q.ID]
	if !ok {
		return action{}, fmt.Errorf("asked %s, which is not on its path: %q", q.ID, v.text)
	}
	switch {
	case w.Skipped:
		return action{kind: actPress, text: "跳过"}, nil
	case q.Type == flows.TypeChoice:
		i := slices.IndexFunc(q.Options, func(o flows.Option) bool { return o.ID == w.Text })
		return action{kind: actPress, text: q.Options[i].Label, exact: true}, nil
	case q.Type == flows.TypeMultiChoice:
		if slices.Equal(v.picks, w.Picks) {
			return action{kind: actPress, text: "完成", exact: true}, nil
		}
		for _, o := range q.Options {
			switch ticked := slices.Contains(v.picks, o.ID); {
			case ticked == slices.Contains(w.Picks, o.ID):
			case ticked:
				return action{kind: actPress, text: "✅ " + o.Label, exact: true}, nil
			default:
				return action{kind: actPress, text: o.Label, exact: true}, nil
			}
		}
		return action{}, fmt.Errorf("multichoice %s: nothing to toggle", q.ID)
	case q.Type == flows.TypeDocument:
		return action{kind: actDocument}, nil
	case q.Type == flows.TypePhotos:
		if v.files >= len(w.Files) {
			return action{kind: actPress, text: "完成（共"}, nil
		}
		return action{kind: actPhoto, photo: v.files}, nil
	}
	return action{kind: actText, text: it.typed[q.ID]}, nil
}

// act gives the input the view asks for and returns the lowest revision a
// reply to it can show.
func (c *contact) act(e *env, v view, cur string) (int64, error) {
	a, err := decide(e.camp, c.it, v, cur)
	if err != nil {
		return 0, err
	}
	switch a.kind {
	case actPress:
		return c.press(e, v, a.text, a.exact)
	case actDocument:
		e.tg.Upload(c.user, c.user.ID, c.it.docName, "application/pdf", pdfContent)
	case actPhoto:
		e.tg.UploadPhoto(c.user, c.user.ID, photo(c.n, a.photo))
	default:
		q := e.camp.Question(cur)
		text := a.text
		switch {
		case c.plant == plantLost && q.Type == flows.TypeInteger:
			text = fmt.Sprint(c.it.want[q.ID].Num + 1_000_003)
			e.planted(c, c.plant)
			c.plant = plantNone
		case c.plant == plantDouble && q.Type == flows.TypeInteger && c.nextIsInteger(q):
			// The fault the contacts otherwise avoid: typing an answer
			// again because the bot seemed not to get it.
			e.tg.SendText(c.user, c.user.Chat(), text)
			e.planted(c, c.plant)
			c.plant = plantNone
			e.tg.SendText(c.user, c.user.Chat(), text)
			c.step(e)
			return v.rev + 2, nil
		}
		e.tg.SendText(c.user, c.user.Chat(), text)
	}
	c.step(e)
	return v.rev + 1, nil
}

// nextIsInteger: the question after q on the contact's path takes integers.
func (c *contact) nextIsInteger(q *flows.Question) bool {
	i := slices.Index(c.it.path, q)
	return i >= 0 && i+1 < len(c.it.path) && c.it.path[i+1].Type == flows.TypeInteger
}

// press presses the button labelled label (exactly, or by prefix unless
// exact). A button that is gone (the message changed meanwhile) is not an
// error: the contact asks where it stands and waits for the same revision.
func (c *contact) press(e *env, v view, label string, exact bool) (int64, error) {
	for _, b := range v.buttons {
		if b.Text == label || (!exact && strings.Contains(b.Text, label)) {
			if _, err := e.tg.Press(c.user, c.user.ID, v.msgID, b.Data); err != nil {
				e.stats.nudge()
				e.tg.SendText(c.user, c.user.Chat(), "/report")
				return v.rev, nil
			}
			c.step(e)
			return v.rev + 1, nil
		}
	}
	return 0, fmt.Errorf("no button %q on %q", label, v.text)
}

func (c *contact) step(e *env) {
	c.steps++
	e.stats.step()
	if e.after != nil {
		e.after(c)
	}
}
