package loadtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"unicode/utf8"

	"reportbot/flows"
)

// categoryMix is the categories the simulated units take in turn: county
// and military units mixed, with the other kinds now and then.
var categoryMix = []string{"county", "military", "county", "department", "military", "organization", "county", "enterprise"}

// prose is report text, sliced for the free-text answers at typical lengths,
// so that the bytes stored per draft are realistic.
const prose = "本单位按照市双拥办通知要求，元旦春节期间组织开展拥军优属拥政爱民活动。" +
	"节前由主要负责同志带队走访驻地部队，送去慰问物资，召开军地座谈会，听取官兵对训练保障、" +
	"随军家属就业和子女入学的意见，当场协调解决困难两件。组织志愿服务队进社区看望退役军人、" +
	"军烈属和困难优抚对象，发放春联年画和慰问金，为立功受奖官兵家庭送去喜报。" +
	"利用公众号和短视频平台发布双拥信息，在主干道户外大屏播放双拥公益广告，营造浓厚节日氛围。" +
	"特色做法是建立军地联席会议制度，每季度会商一次，推动实事项目落地见效；" +
	"设立退役军人服务窗口，实行首问负责和限时办结。存在的问题是部分基层单位宣传形式单一，" +
	"经费保障有待加强，建议加大对基层双拥工作的指导支持力度。"

// textLengths are typical lengths, in runes, of the free-text answers in
// form order (the filler's name is apart).
var textLengths = []int{160, 70, 40}

// pdfContent and jpegContent are the smallest files the bot accepts as a
// PDF report and a photo.
var (
	pdfContent  = []byte("%PDF-1.4\n% reportbot load test\n%%EOF\n")
	jpegContent = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1, 0xFF, 0xD9}
)

// intent is what one contact means to answer: for every question on the
// unit's path, the answer as the store should keep it (want) and what the
// contact types or does to give it.
type intent struct {
	category string
	path     []*flows.Question
	want     map[string]flows.Answer
	typed    map[string]string // text, number, phone answers as typed
	docName  string
}

// newIntent draws the answers of contact n deterministically from seed.
func newIntent(c *flows.Campaign, category string, n int, seed uint64) *intent {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	in := &intent{category: category, want: map[string]flows.Answer{}, typed: map[string]string{},
		docName: fmt.Sprintf("压测单位%05d双拥工作专题报告.pdf", n)}
	texts := 0
	sample := []rune(prose)
	for _, q := range c.Questions() {
		if !q.ForCategory(category) {
			continue
		}
		var a flows.Answer
		typed := ""
		switch q.Type {
		case flows.TypeInteger:
			v := int64(0)
			if r.IntN(4) > 0 { // a quarter are 0, so conditional questions vary
				v = 1 + int64(q.Index)*37 + int64(n%97) + r.Int64N(30)
			}
			if q.MaxOf != "" {
				v = min(v, in.want[q.MaxOf].Num)
			}
			v = clampNumber(q, v, 1)
			a.Num, typed = v, fmt.Sprint(v)
		case flows.TypeMoney:
			v := clampNumber(q, int64(q.Index)*101+r.Int64N(100_000), 100)
			a.Num, typed = v, flows.FormatMoney(v)
		case flows.TypeText:
			if !q.Required && r.IntN(3) == 0 {
				a.Skipped = true
				break
			}
			var t string
			if q.MaxLen > 0 && q.MaxLen <= 50 {
				t = fmt.Sprintf("联系人%05d", n)
			} else {
				k := textLengths[texts%len(textLengths)]
				start := (n*13 + texts*29) % (len(sample) - k)
				t = fmt.Sprintf("（%05d）", n) + string(sample[start:start+k])
				texts++
			}
			t = fitText(q, t)
			a.Text, typed = t, t
		case flows.TypePhone:
			t := fmt.Sprintf("13%09d", (n*7919+q.Index)%1_000_000_000)
			a.Text, typed = t, t
		case flows.TypeChoice:
			a.Text = q.Options[r.IntN(len(q.Options))].ID
		case flows.TypeMultiChoice:
			for _, o := range q.Options {
				if r.IntN(2) == 0 {
					a.Picks = append(a.Picks, o.ID)
				}
			}
			if len(a.Picks) == 0 {
				if q.Required {
					a.Picks = []string{q.Options[n%len(q.Options)].ID}
				} else {
					a.Skipped = true
				}
			}
		case flows.TypeDocument:
			a.Files = []flows.File{{Name: in.docName}}
		case flows.TypePhotos:
			k := r.IntN(3)
			if k == 0 && q.Required {
				k = 1
			}
			if k == 0 {
				a.Skipped = true
				break
			}
			for range k {
				a.Files = append(a.Files, flows.File{Photo: true})
			}
		}
		in.want[q.ID] = a
		if typed != "" {
			in.typed[q.ID] = typed
		}
	}
	in.path = c.Path(category, in.want)
	for id := range in.want {
		if !slices.ContainsFunc(in.path, func(q *flows.Question) bool { return q.ID == id }) {
			delete(in.want, id)
			delete(in.typed, id)
		}
	}
	return in
}

// clampNumber keeps v within the question's min and max (scale 100 for money).
func clampNumber(q *flows.Question, v int64, scale float64) int64 {
	if q.Min != nil {
		v = max(v, int64(*q.Min*scale+0.999))
	}
	if q.Max != nil {
		v = min(v, int64(*q.Max*scale))
	}
	return v
}

// fitText keeps a text answer within the question's length limits.
func fitText(q *flows.Question, t string) string {
	if q.MaxLen > 0 && utf8.RuneCountInString(t) > q.MaxLen {
		t = string([]rune(t)[:q.MaxLen])
	}
	for utf8.RuneCountInString(t) < q.MinLen {
		t += "补"
	}
	return t
}

// photo is the content of a contact's j-th photo; every photo differs.
func photo(n, j int) []byte {
	return append(slices.Clone(jpegContent), fmt.Sprintf("%d-%d", n, j)...)
}
