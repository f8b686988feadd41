package flows

// Last year beside this year: a campaign may name the campaign before it
// (Campaign.Previous). A unit's figures there, under this campaign's
// question ids, travel with its draft (Draft.Prev), read once when the
// draft starts, so a form step costs no extra store read.

// Previous is a unit's figures in the previous campaign's standing report,
// by this campaign's question ids.
type Previous struct {
	Campaign string           `json:"c"`            // the previous campaign's id
	Receipt  string           `json:"rc,omitempty"` // its receipt there
	Nums     map[string]int64 `json:"n,omitempty"`  // question id → number (money in hundredths)
	Skipped  []string         `json:"sk,omitempty"` // questions skipped there
}

// OutlierRule says when an answer is far from the unit's previous value:
// more than Ratio times it or less than 1/Ratio of it, when the larger of
// the two is at least Floor (in the question's unit; per question
// Question.OutlierFloor). ParseCampaign fills in the defaults, 5 and 10
// (DefaultOutlierRatio, DefaultOutlierFloor), when the file sets none; the
// rule itself is OutlierRule.Far.
type OutlierRule struct {
	Ratio float64 `yaml:"ratio"`
	Floor float64 `yaml:"floor"`
}

// PreviousID is the question's id in the previous campaign.
func (q *Question) PreviousID() string {
	if q.SameAs != "" {
		return q.SameAs
	}
	return q.ID
}

// PreviousFigures maps r, a report of the previous campaign prev, to this
// campaign's number questions: a question takes the answer of its
// PreviousID when that was a number question of prev too.
func (c *Campaign) PreviousFigures(prev *Campaign, r Report) *Previous {
	p := &Previous{Campaign: prev.ID, Receipt: r.Receipt, Nums: map[string]int64{}}
	for _, q := range c.NumberQuestions() {
		old := prev.Question(q.PreviousID())
		if old == nil || !old.IsNumber() {
			continue
		}
		a, ok := r.Answers[old.ID]
		switch {
		case !ok:
		case a.Skipped:
			p.Skipped = append(p.Skipped, q.ID)
		default:
			p.Nums[q.ID] = a.Num
		}
	}
	return p
}
