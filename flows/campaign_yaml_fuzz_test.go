package flows

import (
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzValidateCampaign: the campaign loader `reportbot validate` runs
// (ValidateCampaign, then ParseCampaign). It does not panic; it reports
// problems exactly when ParseCampaign refuses the file, each in Chinese;
// and a campaign it accepts answers the questions the bot asks of it.
func FuzzValidateCampaign(f *testing.F) {
	def := DefaultCampaignYAML()
	f.Add(def)
	if bad, err := os.ReadFile("testdata/bad-campaign.yaml"); err == nil {
		f.Add(bad)
	}
	for _, s := range []string{
		"", "\xff\xfe", "id: [", "{}", "null", "- a\n- b\n", "\t", "id: x\n\tbad: tab\n",
		"a: &a [*a]\n", "a: &a {b: 1}\nc: *a\n<<: *a\n", "deadline: 99999999999999999999\n",
		"id: x\ntime_zone: ../../etc/passwd\n", "id: x\ntime_zone: \"\"\ndeadline: \"2022-02-30 18:00\"\n",
		"sections: [{id: s, questions: [{id: q, type: integer, min: 1e308, max: -1e308}]}]\n",
		"sections: [{id: s, questions: [{id: q, type: multichoice, options: []}]}]\n",
		"sections: [{id: s, questions: [{id: q, type: integer, when: \"q > 0\", max_of: q}]}]\n",
	} {
		f.Add([]byte(s))
	}
	for _, cut := range []int{10, 200, 1000, len(def) / 2, len(def) - 3} {
		if cut < len(def) {
			f.Add(def[:cut])
		}
	}
	f.Add([]byte(strings.Replace(string(def), "deadline: \"2022-02-10 18:00\"", "deadline: \"２０２２-02-10 18:00\"", 1)))
	f.Add([]byte(strings.Replace(string(def), "type: phone", "type: choice", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		probs := ValidateCampaign(data)
		c, err := ParseCampaign(data)
		if (len(probs) == 0) != (err == nil) {
			t.Fatalf("ValidateCampaign(%q) = %v but ParseCampaign err = %v", data, probs, err)
		}
		for _, p := range probs {
			if !hasCJK(p.Msg) || p.Line < 0 {
				t.Errorf("ValidateCampaign(%q) problem %+v: want a Chinese message and a line ≥ 0", data, p)
			}
		}
		if err != nil {
			return
		}
		if c == nil || c.Location == nil {
			t.Fatalf("ParseCampaign(%q) accepted a campaign without a zone: %+v", data, c)
		}
		_ = FormatTime(c.Deadline, c.Location)
		_ = c.CategoryNames()
		for _, q := range c.Questions() {
			if c.Question(q.ID) != q {
				t.Errorf("ParseCampaign(%q): Question(%q) is not the question", data, q.ID)
			}
		}
		for _, cat := range c.Categories {
			u := Unit{ID: 1, Name: "测试单位", Category: cat.ID}
			path := c.Path(cat.ID, nil)
			d := Draft{UnitID: 1}
			for i := range path {
				_, _ = c.QuestionRef(u, d, path[i].ID)
			}
			r := c.Step(d, Env{Unit: u, UserID: 1, Now: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, Input{Cmd: "report"})
			if len(r.Replies) == 0 {
				t.Errorf("ParseCampaign(%q): /report for category %s said nothing", data, cat.ID)
			}
		}
	})
}
