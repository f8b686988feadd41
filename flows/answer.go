package flows

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reading what a contact typed or sent. Every check returns either the value
// or a problem: a Chinese sentence saying what is wrong, to which the caller
// appends what the question expects (expect).

const (
	// MaxFileSize is the largest file a bot can download from Telegram.
	MaxFileSize = 20 << 20
	// docPhotoLimit is how many pages a document sent as photos may have.
	docPhotoLimit = 9
	// Sanity caps for numbers without a max: larger values are typos.
	maxInteger = 100_000_000 // 1 亿
	maxMoney   = 100_000_000 // hundredths: 1,000,000 万元 (100 亿元)
	quoteRunes = 20          // how much of a wrong input is quoted back
	textRunes  = 3500        // text answers beyond this cannot be sent by Telegram anyway
)

// toHalfWidth maps full-width digits and punctuation to ASCII and drops
// spaces and a closing full stop, so "１２ 篇。" reads as "12篇" and "1。5"
// (a Chinese input method's decimal point) as "1.5".
func toHalfWidth(s string) string {
	s = strings.TrimRight(s, "。. ")
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '．' || r == '。':
			return '.'
		case r == '－' || r == '—' || r == '–':
			return '-'
		case r == '＋':
			return '+'
		case r == '，':
			return ','
		case r == '（':
			return '('
		case r == '）':
			return ')'
		case r == ' ' || r == '\u3000' || r == '\t' || r == '\u00a0':
			return -1
		}
		return r
	}, s)
}

// quote quotes (a shortened) input back to the contact: “abc”.
func quote(s string) string { return "“" + shorten(s, quoteRunes) + "”" }

// shorten cuts s to n runes, marking the cut with …, and puts it on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// counterWords are measure words accepted after a number whatever the
// question's own unit: "12次" for a question counted in 篇 is still 12.
var counterWords = []string{"场次", "人次", "个", "次", "篇", "期", "部", "条", "块", "场", "份", "户", "人", "件", "副", "张", "项", "名", "家", "处"}

var (
	plainInt     = regexp.MustCompile(`^\+?[0-9]+$`)
	groupedInt   = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})+$`)
	plainDecimal = regexp.MustCompile(`^\+?[0-9]*\.[0-9]*$`)
	negative     = regexp.MustCompile(`^-[0-9.,]+$`)
)

// spacedDigits finds digits apart by spaces ("1 2"): two numbers, or one
// typed with a stray space; either way not for us to guess.
var spacedDigits = regexp.MustCompile(`[0-9０-９][ \t\x{3000}\x{00a0}]+[0-9０-９]`)

// spacedNumber is the refusal of an answer with spacedDigits.
func spacedNumber(raw string) string {
	return fmt.Sprintf("%s中间有空格，请只填写一个数字，例如 12。", quote(raw))
}

// zeroWords are typed for "none" and read as 0.
var zeroWords = []string{"无", "没有", "零", "暂无"}

// parseInteger reads an integer answer; the problem is "" when it is fine.
func (c *Campaign) parseInteger(q *Question, answers map[string]Answer, raw string) (int64, string) {
	if spacedDigits.MatchString(raw) {
		return 0, spacedNumber(raw)
	}
	s := toHalfWidth(raw)
	if slices.Contains(zeroWords, s) {
		s = "0"
	}
	// The whole unit first: the summary shows "12 副/张".
	for _, u := range append(append([]string{q.Unit}, strings.Split(q.Unit, "/")...), counterWords...) {
		if u != "" && strings.HasSuffix(s, u) && len(s) > len(u) {
			s = strings.TrimSuffix(s, u)
			break
		}
	}
	if groupedInt.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	switch {
	case negative.MatchString(s):
		return 0, fmt.Sprintf("不能填负数（收到%s）。", quote(raw))
	case plainDecimal.MatchString(s) && s != ".":
		return 0, fmt.Sprintf("%s带有小数，本题只能填整数。", quote(raw))
	case !plainInt.MatchString(s):
		return 0, fmt.Sprintf("%s不是数字。", quote(raw))
	}
	s = strings.TrimLeft(strings.TrimPrefix(s, "+"), "0")
	if len(s) > 12 {
		return 0, fmt.Sprintf("%s太大了，请核对。", quote(raw))
	}
	v, _ := strconv.ParseInt("0"+s, 10, 64)
	return v, c.checkNumber(q, answers, v)
}

// parseMoney reads a money answer (万元) into hundredths.
func (c *Campaign) parseMoney(q *Question, answers map[string]Answer, raw string) (int64, string) {
	if spacedDigits.MatchString(raw) {
		return 0, spacedNumber(raw)
	}
	s := toHalfWidth(raw)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "¥"), "￥")
	if slices.Contains(zeroWords, s) {
		s = "0"
	}
	switch {
	case strings.HasSuffix(s, "万元"):
		s = strings.TrimSuffix(s, "万元")
	case strings.HasSuffix(s, "万"):
		s = strings.TrimSuffix(s, "万")
	case strings.HasSuffix(s, "元"):
		return 0, fmt.Sprintf("本题金额的单位是万元，请换算成万元填写（收到%s）。", quote(raw))
	}
	if whole, frac, ok := strings.Cut(s, "."); groupedInt.MatchString(whole) {
		s = strings.ReplaceAll(whole, ",", "")
		if ok {
			s += "." + frac
		}
	}
	if strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "+"), ".")
	if negative.MatchString(s) {
		return 0, fmt.Sprintf("金额不能是负数（收到%s）。", quote(raw))
	}
	if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > 2 && plainInt.MatchString(frac) {
		return 0, fmt.Sprintf("%s的小数位数太多，金额最多保留两位小数。", quote(raw))
	}
	v, err := ParseMoney(s)
	if err != nil {
		if whole, _, _ := strings.Cut(s, "."); plainInt.MatchString(whole) && len(whole) > 12 {
			return 0, fmt.Sprintf("%s太大了，请核对。", quote(raw))
		}
		return 0, fmt.Sprintf("%s不是有效的金额。", quote(raw))
	}
	return v, c.checkNumber(q, answers, v)
}

// parseAnswer reads text as the answer to q, given the answers so far
// (for 其中 totals): the one parser per question type, used by the chat
// (step.text) and the template reader (Campaign.ReadTemplate). The
// problem is "" when the answer is fine; the caller adds what the question
// expects, if it wants to. Documents and photos cannot be typed.
func (c *Campaign) parseAnswer(q *Question, answers map[string]Answer, t string) (Answer, string) {
	// Invisible characters (zero-width spaces, bidi overrides that would
	// reorder the office group's post) are dropped, whatever the type.
	t = CleanText(t)
	switch q.Type {
	case TypeInteger:
		v, problem := c.parseInteger(q, answers, t)
		return Answer{Num: v}, problem
	case TypeMoney:
		v, problem := c.parseMoney(q, answers, t)
		return Answer{Num: v}, problem
	case TypeText:
		return Answer{Text: t}, checkText(q, t)
	case TypePhone:
		p, ok := normalizePhone(t)
		if !ok {
			return Answer{}, quote(t) + "不是有效的电话号码。"
		}
		return Answer{Text: p}, ""
	case TypeChoice:
		id, ok := matchOption(q, t)
		if !ok {
			return Answer{}, quote(t) + "不是本题的选项。"
		}
		return Answer{Text: id}, ""
	case TypeMultiChoice:
		ids, problem := matchOptions(q, t)
		return Answer{Picks: ids}, problem
	case TypeDocument, TypePhotos:
		return Answer{}, "本题需要发送文件或照片，不能直接填写文字。"
	}
	return Answer{}, "本题的类型无法识别，请联系" + c.Office + "。"
}

// numberBounds is the range a number question accepts given the answers so
// far: its min/max, the 其中 total it may not exceed, and the sanity cap.
// stated tells whether the upper bound is the question's own (say it in the
// hint) rather than the sanity cap.
func (c *Campaign) numberBounds(q *Question, answers map[string]Answer) (lo, hi int64, stated bool) {
	scale := 1.0
	hi = maxInteger
	if q.Type == TypeMoney {
		scale, hi = 100, maxMoney
	}
	if q.Min != nil {
		lo = int64(math.Ceil(*q.Min*scale - 1e-9))
	}
	if q.Max != nil {
		hi, stated = int64(math.Floor(*q.Max*scale+1e-9)), true
	}
	if ref := c.Question(q.MaxOf); ref != nil {
		if a, ok := answers[ref.ID]; ok && !a.Skipped && a.Num < hi {
			hi, stated = a.Num, true
		}
	}
	return lo, hi, stated
}

// checkNumber checks a number against the question's range and its 其中 total.
func (c *Campaign) checkNumber(q *Question, answers map[string]Answer, v int64) string {
	lo, hi, _ := c.numberBounds(q, answers)
	show := func(n int64) string { return c.formatNumber(q, n) }
	if ref := c.Question(q.MaxOf); ref != nil {
		if a, ok := answers[ref.ID]; ok && !a.Skipped && v > a.Num {
			return fmt.Sprintf("“其中”的数不能大于总数：您填的是 %s，而「%s」只有 %s。", show(v), ref.Prompt, show(a.Num))
		}
	}
	switch {
	case v < lo:
		return fmt.Sprintf("本题不能小于 %s（收到 %s）。", show(lo), show(v))
	case v > hi && q.Max == nil:
		return fmt.Sprintf("%s太大了，请核对。", quote(show(v)))
	case v > hi:
		return fmt.Sprintf("本题不能大于 %s（收到 %s）。", show(hi), show(v))
	}
	return ""
}

// formatNumber shows a number of the question with its unit: "12 篇", "1.25 万元".
func (c *Campaign) formatNumber(q *Question, v int64) string {
	return FormatAnswer(q, Answer{Num: v})
}

// checkText checks a text answer's length in runes.
func checkText(q *Question, t string) string {
	n := utf8.RuneCountInString(t)
	limit := q.MaxLen
	if limit == 0 {
		limit = textRunes
	}
	switch {
	case n < q.MinLen:
		return fmt.Sprintf("您输入了 %d 个字，本题至少需要 %d 个字。", n, q.MinLen)
	case n > limit:
		return fmt.Sprintf("您输入了 %d 个字，超过了本题 %d 个字的上限，请删减后重新发送。", n, limit)
	}
	return ""
}

var (
	mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	digitsPattern = regexp.MustCompile(`^[0-9]+$`)
)

// normalizePhone reads a mainland mobile number (13912345678, +86 allowed)
// or a landline with its area code (0358-8498917, 03588498917,
// (0358)8498917, with an optional extension 转123 / -123). It returns the
// number as stored: 13912345678 or 0358-8498917 (转123).
func normalizePhone(raw string) (string, bool) {
	s := strings.TrimPrefix(strings.ToLower(toHalfWidth(raw)), "+")
	s = strings.NewReplacer("(", "-", ")", "-", "/", "-").Replace(s)
	main, ext := s, ""
	for _, sep := range []string{"转", "分机", "ext.", "ext", "#"} {
		if m, e, ok := strings.Cut(s, sep); ok {
			main, ext = m, strings.Trim(e, "-.:")
			break
		}
	}
	var parts []string
	for p := range strings.SplitSeq(main, "-") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	all := strings.Join(parts, "")
	if !digitsPattern.MatchString(all) {
		return "", false
	}
	if ext == "" {
		m := strings.TrimPrefix(all, "86")
		if len(all) == 11 {
			m = all
		}
		if mobilePattern.MatchString(m) {
			return m, true
		}
	}
	if !strings.HasPrefix(all, "0") {
		return "", false
	}
	if len(parts) == 3 && ext == "" {
		ext, parts = parts[2], parts[:2]
		all = parts[0] + parts[1]
	}
	var area, local string
	switch {
	case len(parts) == 2:
		area, local = parts[0], parts[1]
	case strings.HasPrefix(all, "01") || strings.HasPrefix(all, "02"):
		area, local = all[:min(3, len(all))], all[min(3, len(all)):]
	default:
		area, local = all[:min(4, len(all))], all[min(4, len(all)):]
	}
	if len(area) < 3 || len(area) > 4 || area[0] != '0' || len(local) < 7 || len(local) > 8 || local[0] < '2' {
		return "", false
	}
	if ext != "" && (!digitsPattern.MatchString(ext) || len(ext) > 6) {
		return "", false
	}
	out := area + "-" + local
	if ext != "" {
		out += "转" + ext
	}
	return out, true
}

// option returns the option with that id, or nil.
func (q *Question) option(id string) *Option {
	for i := range q.Options {
		if q.Options[i].ID == id {
			return &q.Options[i]
		}
	}
	return nil
}

// matchOption finds the option a contact typed: its label, or its id.
func matchOption(q *Question, typed string) (string, bool) {
	t := strings.Join(strings.Fields(typed), "")
	for _, o := range q.Options {
		if t == strings.Join(strings.Fields(o.Label), "") || strings.EqualFold(t, o.ID) {
			return o.ID, true
		}
	}
	return "", false
}

var pickSeparators = regexp.MustCompile(`[、，,；;/\s]+`)

// matchOptions reads a typed list of options ("产业帮扶、教育帮扶") into
// option ids in option order.
func matchOptions(q *Question, typed string) ([]string, string) {
	picked := map[string]bool{}
	for _, t := range pickSeparators.Split(typed, -1) {
		if t == "" {
			continue
		}
		id, ok := matchOption(q, t)
		if !ok {
			return nil, fmt.Sprintf("%s不是本题的选项。", quote(t))
		}
		picked[id] = true
	}
	if len(picked) == 0 {
		return nil, "没有认出任何选项。"
	}
	return orderedPicks(q, picked), ""
}

// orderedPicks lists the picked option ids in option order.
func orderedPicks(q *Question, picked map[string]bool) []string {
	var ids []string
	for _, o := range q.Options {
		if picked[o.ID] {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

var (
	documentExts  = []string{".pdf", ".doc", ".docx", ".wps", ".ofd"}
	documentMIMEs = []string{
		"application/pdf", "application/msword",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/ofd", "application/vnd.ofd", "application/kswps", "application/wps-office.doc",
		"application/wps-office.docx", "application/wps-office.wps",
	}
	imageExts = []string{".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".bmp"}
)

func fileExt(f File) string { return strings.ToLower(path.Ext(f.Name)) }

// isImage: a Telegram photo, or an image sent as a file.
func isImage(f File) bool {
	return f.Photo || strings.HasPrefix(strings.ToLower(f.MIME), "image/") || slices.Contains(imageExts, fileExt(f))
}

// isDocument: PDF, Word, WPS or OFD, by extension or MIME type.
func isDocument(f File) bool {
	return slices.Contains(documentExts, fileExt(f)) || slices.Contains(documentMIMEs, strings.ToLower(f.MIME))
}

// describeFile names a file in a message: 文件“表格.xlsx” or 照片.
func describeFile(f File) string {
	switch {
	case f.Photo:
		return "照片"
	case f.Name != "":
		return "文件" + quote(f.Name)
	case f.MIME != "":
		return "文件（" + f.MIME + "）"
	}
	return "文件"
}

// formatSize shows a size in MB with one decimal.
func formatSize(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// storedFile is what the draft keeps of an upload: everything but what a
// photo does not need (it is stored many times over, and the draft stays small).
func storedFile(f File) File {
	if f.Photo {
		return File{ID: f.ID, UniqueID: f.UniqueID, Photo: true}
	}
	return f
}
