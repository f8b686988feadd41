package flows

import (
	"strings"
	"testing"
)

func ptr(f float64) *float64 { return &f }

// The outlier rule at its boundaries, with the defaults (ratio 5, floor 10).
func TestOutlierRuleFar(t *testing.T) {
	rule := OutlierRule{Ratio: 5, Floor: 10}
	tests := []struct {
		name    string
		prev, v int64
		floor   float64
		want    bool
	}{
		{"same", 120, 120, 10, false},
		{"exactly 5 times more", 20, 100, 10, false},
		{"just above 5 times", 20, 101, 10, true},
		{"25 times more", 120, 3000, 10, true},
		{"exactly 1/5", 100, 20, 10, false},
		{"just below 1/5", 100, 19, 10, true},
		{"larger equal to the floor", 1, 10, 10, true},
		{"larger just below the floor", 1, 9, 10, false},
		{"both below the floor", 1, 8, 10, false},
		{"zero last year, answer below ratio × floor", 0, 30, 10, false},
		{"zero last year, answer just below ratio × floor", 0, 49, 10, false},
		{"zero last year, answer at ratio × floor", 0, 50, 10, true},
		{"zero now, last year at ratio × floor", 50, 0, 10, true},
		{"zero now, last year 30", 30, 0, 10, false},
		{"zero both", 0, 0, 10, false},
		{"zero both, floor 0", 0, 0, 0, false},
		{"floor 0: zero last year, any answer", 0, 1, 0, true},
		{"floor 0: 1 → 5", 1, 5, 0, false},
		{"floor 0: 1 → 6", 1, 6, 0, true},
		// Money in hundredths, floor 10 万元 = 1000: 0.12 → 3.00 万元 is
		// below the floor, 1.20 → 30.00 万元 is not.
		{"money 25 times more below the floor", 12, 300, 1000, false},
		{"money 25 times more", 120, 3000, 1000, true},
		{"money 25 times more above the floor", 12000, 300000, 1000, true},
		{"money exactly 1/5", 150000, 30000, 1000, false},
	}
	for _, tt := range tests {
		if got := rule.Far(tt.prev, tt.v, tt.floor); got != tt.want {
			t.Errorf("%s: OutlierRule{5, 10}.Far(%d, %d, floor %v) = %v, want %v", tt.name, tt.prev, tt.v, tt.floor, got, tt.want)
		}
	}
	if !(OutlierRule{}).Far(20, 101, 10) || (OutlierRule{}).Far(20, 100, 10) {
		t.Errorf("OutlierRule{} does not use ratio 5")
	}
	if (OutlierRule{Ratio: 2}).Far(20, 40, 10) || !(OutlierRule{Ratio: 2}).Far(20, 41, 10) {
		t.Errorf("OutlierRule{Ratio: 2}: 20 → 40 far or 20 → 41 not far")
	}
}

// Campaign.Outlier: the unit's previous value (missing, skipped, a
// renamed question), money, the question's own floor, typical_max.
func TestCampaignOutlier(t *testing.T) {
	c := DefaultCampaign()
	visits := c.Question("veteran_visits") // 户
	cash := c.Question("veteran_cash")     // 万元
	forums := c.Question("forums")         // 场
	essays := *c.Question("essays")
	essays.OutlierFloor = ptr(100)
	essays.TypicalMax = ptr(500)
	columns := *c.Question("columns")
	columns.TypicalMax = ptr(20)
	text := c.Question("summary_text")
	prev := &Previous{Campaign: "lvliang-2021", Nums: map[string]int64{"veteran_visits": 120, "veteran_cash": 150, "essays": 30}, Skipped: []string{"forums"}}
	tests := []struct {
		name    string
		q       *Question
		prev    *Previous
		v       int64
		want    bool
		wantSay string
	}{
		{"25 times more", visits, prev, 3000, true, "比上年（120 户）增加约 24 倍"},
		{"close to last year", visits, prev, 150, false, ""},
		{"far below", visits, prev, 3, true, "比上年（120 户）减少约 98%"},
		{"none this year", visits, prev, 0, true, "比上年（120 户）减少 100%"},
		{"no previous report", visits, nil, 3000, false, ""},
		{"previous skipped", forums, prev, 3000, false, ""},
		{"question not in the previous report", c.Question("couplets"), prev, 3000, false, ""},
		{"money in hundredths: 1.50 → 7.50 万元 is 5 times", cash, prev, 750, false, ""},
		{"money: 1.50 → 7.51 万元 is below the floor of 10 万元", cash, prev, 751, false, ""},
		{"money: 1.50 → 10.00 万元", cash, prev, 1000, true, "比上年（1.50 万元）增加约 5.7 倍"},
		{"own floor 100: 30 → 99 is not far", &essays, prev, 99, false, ""},
		{"own floor 100: 30 → 151 is far", &essays, prev, 151, true, "比上年（30 篇）增加约 4 倍"},
		{"far from last year and above typical_max: last year is said", &essays, prev, 600, true, "比上年（30 篇）增加约 19 倍"},
		{"typical_max without previous: at it", &columns, nil, 20, false, ""},
		{"typical_max without previous: above it", &columns, nil, 21, true, "超过通常上限（20 期）"},
		{"typical_max with a previous value close by", &columns, &Previous{Nums: map[string]int64{"columns": 25}}, 26, true, "超过通常上限（20 期）"},
		{"not a number", text, prev, 3000, false, ""},
	}
	for _, tt := range tests {
		o, far := c.Outlier(tt.q, tt.prev, tt.v)
		if far != tt.want {
			t.Errorf("%s: Outlier(%s, %d) far = %v, want %v", tt.name, tt.q.ID, tt.v, far, tt.want)
			continue
		}
		if far && o.Describe(tt.q) != tt.wantSay {
			t.Errorf("%s: Outlier(%s, %d).Describe = %q, want %q", tt.name, tt.q.ID, tt.v, o.Describe(tt.q), tt.wantSay)
		}
	}
}

// How an increase is put in words.
func TestIncreaseWords(t *testing.T) {
	tests := []struct {
		prev, v int64
		want    string
	}{
		{120, 3000, "24 倍"},
		{10, 160, "15 倍"},
		{10, 65, "5.5 倍"},
		{10, 20, "1 倍"},
		{10, 16, "60%"},
		{3, 1000, "332 倍"},
	}
	for _, tt := range tests {
		if got := increase(tt.prev, tt.v); got != tt.want {
			t.Errorf("increase(%d, %d) = %q, want %q", tt.prev, tt.v, got, tt.want)
		}
	}
	o := Outlier{Value: 60, HasPrev: true, Prev: 0}
	if got := o.Describe(&Question{Type: TypeInteger, Unit: "户"}); !strings.Contains(got, "上年为 0 户") {
		t.Errorf("Describe of 0 → 60 = %q, want it to say 上年为 0 户", got)
	}
}
