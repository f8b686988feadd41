package flows

// Totals are the sums of every number question over a set of reports
// (normally each unit's latest version), overall and by unit category.
// Money stays in hundredths of 万元, like answers; skipped and absent
// answers count as 0.
type Totals struct {
	Reports int              // reports summed
	Sums    map[string]int64 // question id → sum, for every number question
	// ByCategory has an entry for every category of the campaign (and ""
	// for reports of units not in the list given).
	ByCategory map[string]CategoryTotals
}

// CategoryTotals are the totals of one unit category.
type CategoryTotals struct {
	Units   int              // units of the category, removed ones not counted
	Reports int              // reports summed
	Sums    map[string]int64 // question id → sum, for every number question
}

// Totals sums the number answers of reports. units gives each report's
// category. A unit with several reports in the list counts once, with its
// highest version. An answer counts only if its question applies to the
// unit's category and answers (as a per-unit table would show it), so the
// totals equal the sums of such a table's columns; reports of units not in
// units are summed as they are.
func (c *Campaign) Totals(units []Unit, reports []Report) Totals {
	numbers := c.NumberQuestions()
	sums := func() map[string]int64 {
		m := make(map[string]int64, len(numbers))
		for _, q := range numbers {
			m[q.ID] = 0
		}
		return m
	}
	t := Totals{Sums: sums(), ByCategory: map[string]CategoryTotals{}}
	for _, cat := range c.Categories {
		t.ByCategory[cat.ID] = CategoryTotals{Sums: sums()}
	}
	category := map[int64]string{}
	known := map[int64]bool{}
	for _, u := range units {
		category[u.ID] = u.Category
		known[u.ID] = true
		if u.Removed {
			continue
		}
		ct, ok := t.ByCategory[u.Category]
		if !ok {
			ct.Sums = sums()
		}
		ct.Units++
		t.ByCategory[u.Category] = ct
	}
	latest := map[int64]Report{}
	var order []int64
	for _, r := range reports {
		prev, seen := latest[r.UnitID]
		if !seen {
			order = append(order, r.UnitID)
		}
		if !seen || r.Version > prev.Version {
			latest[r.UnitID] = r
		}
	}
	for _, id := range order {
		r := latest[id]
		cat := category[id]
		ct, ok := t.ByCategory[cat]
		if !ok {
			ct.Sums = sums()
		}
		t.Reports++
		ct.Reports++
		for _, q := range numbers {
			if known[id] && !c.Applies(q, cat, r.Answers) {
				continue
			}
			if a, ok := r.Answers[q.ID]; ok && !a.Skipped {
				t.Sums[q.ID] += a.Num
				ct.Sums[q.ID] += a.Num
			}
		}
		t.ByCategory[cat] = ct
	}
	return t
}
