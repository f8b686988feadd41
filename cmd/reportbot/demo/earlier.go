package demo

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"reportbot/flows"
	"reportbot/flows/flowstest"
)

// The earlier campaign: last year's notice, which most units answered, so
// that the demo's open campaign (which names it as its previous one) shows
// last year's figures beside this year's: the contacts' summaries, the
// export's 上年 and 增减% columns and its 与上年对比 sheet, /summary. The bot
// starts with the earlier campaign's file (the store's first campaign);
// the seed writes last year's reports directly to the store, as the
// contacts would have a year before, then opens the demo campaign as an
// admin's /newcampaign would.

// earlierID is the earlier campaign's id.
const earlierID = "lvliang-2021-spring"

// earlierSkipped did not report last year (besides the units left
// without a contact), so that some rows have no 上年.
var earlierSkipped = map[string]bool{"市民政局": true, "交城县双拥工作领导小组": true}

var headerLine = map[string]*regexp.Regexp{
	"id":       regexp.MustCompile(`(?m)^id:.*$`),
	"title":    regexp.MustCompile(`(?m)^title:.*$`),
	"notice":   regexp.MustCompile(`(?m)^notice:.*$`),
	"receipt":  regexp.MustCompile(`(?m)^receipt:.*$`),
	"deadline": regexp.MustCompile(`(?m)^deadline:.*$`),
}

// earlierCampaign is the earlier campaign's file, made from the open
// campaign's (open, due at due): a year before, same form.
func earlierCampaign(open []byte, due time.Time) ([]byte, *flows.Campaign, error) {
	data := open
	for key, value := range map[string]string{
		"id":       earlierID,
		"title":    "2021年元旦春节期间拥军优属拥政爱民工作情况报告",
		"notice":   "吕拥办电〔2020〕5号",
		"receipt":  "SY-2021",
		"deadline": `"` + due.AddDate(-1, 0, 0).Format("2006-01-02 15:04") + `" # reportbot demo: last year's campaign`,
	} {
		if !headerLine[key].Match(data) {
			return nil, nil, fmt.Errorf("demo: the campaign file has no %s line", key)
		}
		data = headerLine[key].ReplaceAll(data, []byte(key+": "+value))
	}
	c, err := flows.ParseCampaign(data)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: earlier campaign: %w", err)
	}
	return data, c, nil
}

// withPrevious names the earlier campaign in the open campaign's file.
func withPrevious(open []byte) []byte {
	return headerLine["id"].ReplaceAllFunc(open, func(line []byte) []byte {
		return []byte(string(line) + "\nprevious: " + earlierID + " # reportbot demo: compare with last year")
	})
}

// seedEarlier writes last year's report of most units into the earlier
// campaign (the open one when the demo's bot starts), then opens the demo
// campaign (file open) as /newcampaign would.
func (d *Server) seedEarlier(ctx context.Context, units []flows.Unit, open []byte) error {
	earlier := d.svc.Campaign()
	if earlier.ID != earlierID {
		return fmt.Errorf("demo: the open campaign is %s, want the earlier one %s", earlier.ID, earlierID)
	}
	at := earlier.Deadline.Add(-5 * 24 * time.Hour)
	for _, u := range units {
		if u.Removed || leftUnbound(u.Name) || earlierSkipped[u.Name] {
			continue
		}
		answers := d.lastYear(earlier, u)
		r := flows.Report{UnitID: u.ID, Version: 1, Receipt: earlier.ReceiptNumber(u.ID, 1), SubmittedAt: at, SubmittedBy: seededContact(u).ID, Answers: answers}
		dr := flows.Draft{UnitID: u.ID, Rev: 1, Status: flows.StatusSubmitted, Answers: answers, Version: 1, Receipt: r.Receipt, SubmittedAt: at, StartedAt: at.Add(-time.Hour), UpdatedAt: at}
		if err := d.svc.Store.Apply(ctx, flows.Transition{Campaign: earlier.Key, UnitID: u.ID, UpdateID: 1<<40 + u.ID, Draft: dr, Report: &r}); err != nil {
			return fmt.Errorf("last year's report of unit %d: %w", u.ID, err)
		}
	}
	nc, err := d.svc.CheckNewCampaign(ctx, open)
	if err != nil {
		return fmt.Errorf("demo: check the demo campaign: %w", err)
	}
	if _, _, err := d.svc.OpenCampaign(ctx, nc.Token); err != nil {
		return fmt.Errorf("demo: open the demo campaign: %w", err)
	}
	d.camp = d.svc.Campaign()
	return nil
}

// lastYear makes a unit's answers last year: the figures somewhat below
// what its contact answers this year (answer), so that the comparison
// shows changes but no answer is an outlier; the rest from the sample
// answers.
func (d *Server) lastYear(c *flows.Campaign, u flows.Unit) map[string]flows.Answer {
	sample := flowstest.SampleAnswers(c, u.Category, uint64(u.ID))
	answers := map[string]flows.Answer{}
	for _, q := range c.Questions() {
		if !c.Applies(q, u.Category, answers) {
			continue
		}
		if !q.IsNumber() {
			if a, ok := sample[q.ID]; ok {
				answers[q.ID] = a
			}
			continue
		}
		v := demoFigure(u, q)
		if q.Type == flows.TypeInteger {
			v -= v / 4
		} else {
			v = v * 4 / 5
		}
		if q.MaxOf != "" {
			v = min(v, answers[q.MaxOf].Num)
		}
		if q.Min != nil {
			v = max(v, int64(*q.Min))
		}
		if q.Max != nil {
			v = min(v, int64(*q.Max))
		}
		answers[q.ID] = flows.Answer{Num: v}
	}
	return answers
}

// demoFigure is the figure a seeded contact answers to number question q
// (before the question's bounds): a whole number below 12, or an amount
// from 0.50 to 9.49 万元 (in hundredths).
func demoFigure(u flows.Unit, q *flows.Question) int64 {
	h := nameHash(u.Name + "/" + q.ID)
	if q.Type == flows.TypeMoney {
		return int64(h%900) + 50
	}
	return int64(h % 12)
}
