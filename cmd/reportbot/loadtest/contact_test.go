package loadtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// message is a reply as the fake Telegram shows it to the contact.
func message(id int, r flows.Reply) telegramtest.Message {
	m := telegramtest.Message{MessageID: id, FromBot: true, Text: r.Text}
	for _, row := range r.Buttons {
		var kb []telegramtest.Button
		for _, b := range row {
			kb = append(kb, telegramtest.Button{Text: b.Text, Data: b.Data})
		}
		m.Keyboard = append(m.Keyboard, kb)
	}
	return m
}

// TestContactsWalkTheEngine drives the engine directly, without Telegram or
// a store, as the simulated contacts drive the bot: every view is read,
// every intended answer is accepted at the first try (no question is asked
// twice), the revision in the buttons is the draft's, and the submitted
// report holds exactly what was meant. Units of every category, many seeds.
func TestContactsWalkTheEngine(t *testing.T) {
	camp := flows.DefaultCampaign()
	rd := newReader(camp)
	now := time.Date(2022, 1, 20, 10, 0, 0, 0, camp.Location)
	for n := range 40 {
		cat := categoryMix[n%len(categoryMix)]
		it := newIntent(camp, cat, n, 7)
		env := flows.Env{Unit: flows.Unit{ID: int64(n + 1), Name: fmt.Sprintf("单位%d", n), Category: cat}, UserID: 42, Now: now, Deadline: now.AddDate(0, 1, 0)}
		d := flows.Draft{UnitID: env.Unit.ID}
		in := flows.Input{Cmd: "report"}
		var report *flows.Report
		asked := map[string]int{}
		cur := ""
		for step := 0; report == nil; step++ {
			if step > 200 {
				t.Fatalf("contact %d (%s): no submission after 200 steps", n, cat)
			}
			res := camp.Step(d, env, in)
			if !res.Changed {
				t.Fatalf("contact %d (%s): input %+v changed nothing; bot said %+v", n, cat, in, res.Replies)
			}
			d, report = res.Draft, res.Report
			if report != nil {
				v := rd.read(message(step, res.Replies[len(res.Replies)-1]), now)
				if v.kind != viewReceipt {
					t.Errorf("contact %d: after submitting the bot said %q, read as %s", n, v.text, v.kind)
				}
				break
			}
			v := rd.read(message(step, res.Replies[len(res.Replies)-1]), now)
			if v.rev != d.Rev {
				t.Fatalf("contact %d: view shows revision %d, draft is at %d: %q", n, v.rev, d.Rev, v.text)
			}
			if v.kind == viewQuestion {
				if v.qid != cur {
					asked[v.qid]++
				}
				cur = v.qid
			}
			a, err := decide(camp, it, v, cur)
			if err != nil {
				t.Fatalf("contact %d: %v", n, err)
			}
			in = flows.Input{}
			switch a.kind {
			case actText:
				in.Text = a.text
			case actDocument:
				in.File = &flows.File{ID: "doc", UniqueID: fmt.Sprint("d", step), Name: it.docName, MIME: "application/pdf", Size: int64(len(pdfContent))}
			case actPhoto:
				in.File = &flows.File{ID: "photo", UniqueID: fmt.Sprint("p", step), Name: "照片.jpg", MIME: "image/jpeg", Photo: true}
			case actPress:
				for _, b := range v.buttons {
					if b.Text == a.text || (!a.exact && strings.Contains(b.Text, a.text)) {
						in.Data = b.Data
					}
				}
				if in.Data == "" {
					t.Fatalf("contact %d: no button %q on %q", n, a.text, v.text)
				}
			}
		}
		for id, k := range asked {
			if k > 1 {
				t.Errorf("contact %d: question %s asked %d times", n, id, k)
			}
		}
		if len(asked) != len(it.path) {
			t.Errorf("contact %d (%s): asked %d questions, its path has %d", n, cat, len(asked), len(it.path))
		}
		var v verdict
		checkReports(&v, fmt.Sprint("contact ", n), it.want, []flows.Report{*report})
		if v.Lost+v.Doubled > 0 {
			t.Errorf("contact %d: the submitted report differs from the intent: %q", n, v.Problems)
		}
	}
}

// TestIntentsVary: the simulated units take different paths through the
// form (conditional questions, skipped optional ones), repeatably.
func TestIntentsVary(t *testing.T) {
	camp := flows.DefaultCampaign()
	paths := map[int]bool{}
	skipped := 0
	for n := range 40 {
		it := newIntent(camp, categoryMix[n%len(categoryMix)], n, 1)
		paths[len(it.path)] = true
		for _, a := range it.want {
			if a.Skipped {
				skipped++
			}
		}
		again := newIntent(camp, categoryMix[n%len(categoryMix)], n, 1)
		if fmt.Sprint(again.want) != fmt.Sprint(it.want) {
			t.Fatalf("newIntent(%d) is not repeatable", n)
		}
	}
	if len(paths) < 4 || skipped == 0 {
		t.Errorf("40 contacts took %d path lengths and skipped %d answers; want variety", len(paths), skipped)
	}
}
