// Package flowstest holds test fixtures of the flows domain: complete,
// valid sets of answers for tests and benchmarks of flows and the packages
// around it.
package flowstest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"reportbot/flows"
)

// SampleAnswers makes a complete, valid set of answers for a unit of the
// category: every question that applies is answered (numbers are at least
// 1, so every `when` that tests > 0 holds). The same seed gives the same
// answers. For tests and benchmarks.
func SampleAnswers(c *flows.Campaign, category string, seed uint64) map[string]flows.Answer {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	answers := map[string]flows.Answer{}
	for _, q := range c.Questions() {
		if !c.Applies(q, category, answers) {
			continue
		}
		var a flows.Answer
		switch q.Type {
		case flows.TypeInteger:
			a.Num = 1 + rng.Int64N(60)
			if ref, ok := answers[q.MaxOf]; ok && q.MaxOf != "" {
				a.Num = rng.Int64N(ref.Num + 1)
			}
		case flows.TypeMoney:
			a.Num = 1 + rng.Int64N(5000) // up to 50.00 万元
			if ref, ok := answers[q.MaxOf]; ok && q.MaxOf != "" {
				a.Num = rng.Int64N(ref.Num + 1)
			}
		case flows.TypeText:
			a.Text = sampleText(rng, q)
		case flows.TypePhone:
			a.Text = fmt.Sprintf("1%02d%08d", 30+rng.IntN(60), rng.IntN(100000000))
		case flows.TypeChoice:
			a.Text = q.Options[rng.IntN(len(q.Options))].ID
		case flows.TypeMultiChoice:
			for _, o := range q.Options {
				if rng.IntN(2) == 0 || len(a.Picks) == 0 && o.ID == q.Options[len(q.Options)-1].ID {
					a.Picks = append(a.Picks, o.ID)
				}
			}
		case flows.TypeDocument:
			a.Files = []flows.File{{ID: fmt.Sprintf("doc-%d", seed), UniqueID: fmt.Sprintf("udoc-%d", seed), Name: "专题报告.pdf", MIME: "application/pdf", Size: 200 << 10}}
		case flows.TypePhotos:
			for i := range 1 + rng.IntN(3) {
				a.Files = append(a.Files, flows.File{ID: fmt.Sprintf("photo-%d-%d", seed, i), UniqueID: fmt.Sprintf("uphoto-%d-%d", seed, i), Name: "照片.jpg", MIME: "image/jpeg", Size: 80 << 10, Photo: true})
			}
		}
		answers[q.ID] = a
	}
	return answers
}

var sampleSentences = []string{
	"组织开展走访慰问活动，为驻地官兵送去节日祝福。",
	"召开军地座谈会，协调解决部队实际困难。",
	"利用新媒体平台广泛宣传双拥工作典型事迹。",
	"为退役军人和其他优抚对象发放慰问金和慰问品。",
	"开展义诊和送医送药活动，服务周边群众。",
}

func sampleText(rng *rand.Rand, q *flows.Question) string {
	limit := q.MaxLen
	if limit > 0 && limit < 30 {
		names := []string{"张建国", "李秀英", "王志强", "刘海燕", "陈卫东"}
		return names[rng.IntN(len(names))]
	}
	if limit == 0 || limit > 300 {
		limit = 300
	}
	var b strings.Builder
	for n := 0; ; {
		s := sampleSentences[rng.IntN(len(sampleSentences))]
		if n+len([]rune(s)) > limit {
			break
		}
		b.WriteString(s)
		n += len([]rune(s))
	}
	if b.Len() == 0 || len([]rune(b.String())) < q.MinLen {
		return strings.Repeat("好", max(q.MinLen, 2))
	}
	return b.String()
}
