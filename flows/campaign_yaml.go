package flows

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the campaign's zone must load on machines without tzdata

	"go.yaml.in/yaml/v3"
)

//go:embed campaigns/default.yaml
var defaultCampaign []byte

// DefaultCampaignYAML is the embedded default campaign file.
func DefaultCampaignYAML() []byte { return slices.Clone(defaultCampaign) }

// DefaultCampaign returns the embedded default campaign (the notice's own).
func DefaultCampaign() *Campaign {
	c, err := ParseCampaign(defaultCampaign)
	if err != nil {
		panic("embedded default campaign is invalid: " + err.Error())
	}
	return c
}

// LoadCampaign reads and checks a campaign file.
func LoadCampaign(path string) (*Campaign, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read campaign file: %w", err)
	}
	c, err := ParseCampaign(data)
	if err != nil {
		return nil, fmt.Errorf("campaign file %s: %w", path, err)
	}
	return c, nil
}

// Problem is one thing wrong with a campaign file, with its line number
// (0 when it concerns the whole file).
type Problem struct {
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.Msg
	}
	return fmt.Sprintf("第 %d 行：%s", p.Line, p.Msg)
}

// ProblemsError lists every problem found in a campaign file.
type ProblemsError []Problem

func (e ProblemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s) in campaign file:", len(e))
	for _, p := range e {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ValidateCampaign returns every problem of a campaign file; none means it loads.
func ValidateCampaign(data []byte) []Problem {
	_, err := ParseCampaign(data)
	var pe ProblemsError
	if errors.As(err, &pe) {
		return pe
	}
	if err != nil {
		return []Problem{{Msg: err.Error()}}
	}
	return nil
}

var (
	idPattern     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	optionPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,16}$`)
	clockPattern  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	knownTypes    = []string{TypeInteger, TypeMoney, TypeText, TypePhone, TypeChoice, TypeMultiChoice, TypeDocument, TypePhotos}
)

// ParseCampaign parses and checks a campaign file. On problems it returns a
// ProblemsError listing all of them with line numbers.
func ParseCampaign(data []byte) (*Campaign, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, ProblemsError{{Line: yamlErrLine(err), Msg: "YAML 格式错误：" + err.Error()}}
	}
	var c Campaign
	var probs ProblemsError
	if err := root.Decode(&c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, m := range te.Errors {
				probs = append(probs, Problem{Line: yamlErrLine(errors.New(m)), Msg: "字段类型错误：" + m})
			}
			return nil, probs
		}
		return nil, ProblemsError{{Msg: "YAML 格式错误：" + err.Error()}}
	}
	probs = append(probs, unknownKeys(&root)...)
	l := lines(&root)
	c.check(l, &probs)
	if len(probs) > 0 {
		slices.SortStableFunc(probs, func(a, b Problem) int { return a.Line - b.Line })
		return nil, probs
	}
	return &c, nil
}

var lineNumber = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	m := lineNumber.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// lineIndex knows where each part of the file stands.
type lineIndex struct {
	top       map[string]int     // top-level key → line
	sections  []map[string]int   // per section: key → line ("" = the section itself)
	questions [][]map[string]int // per section, per question: key → line
	cats      []map[string]int   // per category
	schedule  map[string]int     // schedule keys
	holidays  []map[string]int   // per holiday
}

func keyLines(n *yaml.Node) map[string]int {
	m := map[string]int{"": n.Line}
	if n.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i].Line
	}
	return m
}

func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func lines(root *yaml.Node) lineIndex {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	l := lineIndex{top: keyLines(doc)}
	for _, s := range items(child(doc, "sections")) {
		l.sections = append(l.sections, keyLines(s))
		var qs []map[string]int
		for _, q := range items(child(s, "questions")) {
			qs = append(qs, keyLines(q))
		}
		l.questions = append(l.questions, qs)
	}
	for _, c := range items(child(doc, "categories")) {
		l.cats = append(l.cats, keyLines(c))
	}
	sch := child(doc, "schedule")
	l.schedule = keyLines(orEmpty(sch))
	for _, h := range items(child(sch, "holidays")) {
		l.holidays = append(l.holidays, keyLines(h))
	}
	return l
}

func orEmpty(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{}
	}
	return n
}

// at returns the line of key in m, or of the mapping itself.
func at(m map[string]int, key string) int {
	if m == nil {
		return 0
	}
	if n, ok := m[key]; ok {
		return n
	}
	return m[""]
}

func idx[T any](s []T, i int) T {
	var zero T
	if i < len(s) {
		return s[i]
	}
	return zero
}

// known keys per mapping, for typo detection.
var (
	topKeys      = yamlKeys(Campaign{})
	sectionKeys  = yamlKeys(Section{})
	questionKeys = yamlKeys(Question{})
	categoryKeys = yamlKeys(Category{})
	scheduleKeys = yamlKeys(Schedule{})
	holidayKeys  = yamlKeys(Holiday{})
	optionKeys   = yamlKeys(Option{})
)

func unknownKeys(root *yaml.Node) []Problem {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	var probs []Problem
	check := func(n *yaml.Node, known []string, where string) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !slices.Contains(known, k.Value) {
				probs = append(probs, Problem{Line: k.Line, Msg: fmt.Sprintf("%s中有未知字段 %q（可用：%s）", where, k.Value, strings.Join(known, ", "))})
			}
		}
	}
	check(doc, topKeys, "活动")
	for _, c := range items(child(doc, "categories")) {
		check(c, categoryKeys, "类别")
	}
	sch := child(doc, "schedule")
	check(sch, scheduleKeys, "schedule ")
	for _, h := range items(child(sch, "holidays")) {
		check(h, holidayKeys, "节假日")
	}
	for _, s := range items(child(doc, "sections")) {
		check(s, sectionKeys, "部分")
		for _, q := range items(child(s, "questions")) {
			check(q, questionKeys, "题目")
			for _, o := range items(child(q, "options")) {
				check(o, optionKeys, "选项")
			}
		}
	}
	return probs
}

func (c *Campaign) check(l lineIndex, probs *ProblemsError) {
	add := func(line int, format string, args ...any) {
		*probs = append(*probs, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if c.ID == "" {
		add(at(l.top, "id"), "缺少活动 id")
	}
	if c.Title == "" {
		add(at(l.top, "title"), "缺少活动标题 title")
	}
	if c.Receipt == "" {
		c.Receipt = "SY"
	}
	if c.TimeZone == "" {
		c.TimeZone = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		add(at(l.top, "time_zone"), "时区 %q 无法识别（例如 Asia/Shanghai）", c.TimeZone)
		loc = time.FixedZone("CST", 8*3600)
	}
	c.Location = loc
	if c.DeadlineText == "" {
		add(at(l.top, "deadline"), "缺少截止时间 deadline（格式 2022-02-10 18:00）")
	} else if d, err := time.ParseInLocation("2006-01-02 15:04", c.DeadlineText, loc); err != nil {
		add(at(l.top, "deadline"), "截止时间 %q 格式错误，应为 2022-02-10 18:00", c.DeadlineText)
	} else {
		c.Deadline = d
	}

	cats := map[string]bool{}
	names := map[string]string{}
	if len(c.Categories) == 0 {
		add(at(l.top, "categories"), "至少需要一个单位类别 categories")
	}
	for i, cat := range c.Categories {
		m := idx(l.cats, i)
		if !idPattern.MatchString(cat.ID) {
			add(at(m, "id"), "类别 id %q 不合规（小写字母开头，只含小写字母、数字、下划线）", cat.ID)
		}
		if cats[cat.ID] {
			add(at(m, "id"), "类别 id %q 重复", cat.ID)
		}
		cats[cat.ID] = true
		if cat.Name == "" {
			add(at(m, ""), "类别 %s 缺少名称 name", cat.ID)
		}
		for _, n := range append([]string{cat.ID, cat.Name}, cat.Aliases...) {
			if n == "" {
				continue
			}
			if other, ok := names[n]; ok && other != cat.ID {
				add(at(m, ""), "类别名称 %q 同时属于 %s 和 %s", n, other, cat.ID)
			}
			names[n] = cat.ID
		}
	}
	checkCats := func(line int, list []string) {
		for _, id := range list {
			if !cats[id] {
				add(line, "applies_to 中的类别 %q 未定义", id)
			}
		}
	}

	c.byID = map[string]*Question{}
	c.questions = nil
	if len(c.Sections) == 0 {
		add(at(l.top, "sections"), "表单没有任何部分 sections")
	}
	sectionIDs := map[string]bool{}
	for si := range c.Sections {
		s := &c.Sections[si]
		sm := idx(l.sections, si)
		if s.ID != "" && sectionIDs[s.ID] {
			add(at(sm, "id"), "部分 id %q 重复", s.ID)
		}
		sectionIDs[s.ID] = true
		if s.Title == "" {
			add(at(sm, "title"), "部分缺少标题 title")
		}
		checkCats(at(sm, "applies_to"), s.AppliesTo)
		if len(s.Questions) == 0 {
			add(at(sm, ""), "部分 %q 没有题目", s.Title)
		}
		for qi := range s.Questions {
			q := &s.Questions[qi]
			q.Section = s
			q.Index = len(c.questions)
			qm := idx(idx(l.questions, si), qi)
			c.checkQuestion(q, qm, add, checkCats)
			if q.ID != "" {
				if _, dup := c.byID[q.ID]; dup {
					add(at(qm, "id"), "题目 id %q 重复", q.ID)
				} else {
					c.byID[q.ID] = q
				}
			}
			c.questions = append(c.questions, q)
		}
	}
	// when and max_of may only point at earlier questions.
	for si := range c.Sections {
		for qi := range c.Sections[si].Questions {
			q := &c.Sections[si].Questions[qi]
			qm := idx(idx(l.questions, si), qi)
			if q.When != "" {
				cond, err := parseCond(q.When)
				if err != nil {
					add(at(qm, "when"), "题目 %s 的 when %q 无法解析：%v", q.ID, q.When, err)
				} else if ref, ok := c.byID[cond.ID]; !ok {
					add(at(qm, "when"), "题目 %s 的 when 引用了不存在的题目 %q", q.ID, cond.ID)
				} else if ref.Index >= q.Index {
					add(at(qm, "when"), "题目 %s 的 when 引用了在它之后的题目 %q（只能依赖前面的题目）", q.ID, cond.ID)
				} else if err := cond.fits(ref); err != nil {
					add(at(qm, "when"), "题目 %s 的 when：%v", q.ID, err)
				} else {
					q.cond = &cond
				}
			}
			if q.MaxOf != "" {
				ref, ok := c.byID[q.MaxOf]
				switch {
				case !ok:
					add(at(qm, "max_of"), "题目 %s 的 max_of 引用了不存在的题目 %q", q.ID, q.MaxOf)
				case ref.Index >= q.Index:
					add(at(qm, "max_of"), "题目 %s 的 max_of 引用了在它之后的题目 %q", q.ID, q.MaxOf)
				case ref.Type != q.Type || !q.IsNumber():
					add(at(qm, "max_of"), "题目 %s 的 max_of 只能指向同类型的数字题（%s 是 %s）", q.ID, ref.ID, ref.Type)
				}
			}
		}
	}

	sc := &c.Schedule
	if sc.RemindDaysBefore == nil {
		sc.RemindDaysBefore = []int{7, 3, 1, 0}
	}
	for _, d := range sc.RemindDaysBefore {
		if d < 0 || d > 60 {
			add(at(l.schedule, "remind_days_before"), "remind_days_before 中的 %d 超出范围（0–60 天）", d)
		}
	}
	if sc.RemindAt == "" {
		sc.RemindAt = "09:00"
	}
	if sc.DigestAt == "" {
		sc.DigestAt = "18:00"
	}
	for key, v := range map[string]string{"remind_at": sc.RemindAt, "digest_at": sc.DigestAt, "quiet_from": sc.QuietFrom, "quiet_to": sc.QuietTo} {
		if v != "" && !clockPattern.MatchString(v) {
			add(at(l.schedule, key), "%s 的时间 %q 格式错误，应为 09:00", key, v)
		}
	}
	if (sc.QuietFrom == "") != (sc.QuietTo == "") {
		add(at(l.schedule, "quiet_from"), "quiet_from 和 quiet_to 须同时设置")
	}
	for i, h := range sc.Holidays {
		m := idx(l.holidays, i)
		from, err1 := time.ParseInLocation("2006-01-02", h.From, loc)
		to, err2 := time.ParseInLocation("2006-01-02", h.To, loc)
		if err1 != nil || err2 != nil {
			add(at(m, ""), "节假日 %q 的日期格式错误，应为 2022-01-31", h.Name)
		} else if to.Before(from) {
			add(at(m, "to"), "节假日 %q 的结束日期早于开始日期", h.Name)
		}
	}
	for _, w := range sc.Workdays {
		if _, err := time.ParseInLocation("2006-01-02", w, loc); err != nil {
			add(at(l.schedule, "workdays"), "调休上班日 %q 格式错误，应为 2022-01-29", w)
		}
	}
}

func (c *Campaign) checkQuestion(q *Question, qm map[string]int, add func(int, string, ...any), checkCats func(int, []string)) {
	if !idPattern.MatchString(q.ID) {
		add(at(qm, "id"), "题目 id %q 不合规（小写字母开头，只含小写字母、数字、下划线，最长 32 字符）", q.ID)
	}
	if q.Prompt == "" {
		add(at(qm, "prompt"), "题目 %s 缺少提示语 prompt", q.ID)
	}
	if !slices.Contains(knownTypes, q.Type) {
		add(at(qm, "type"), "题目 %s 的类型 %q 未知（可用：%s）", q.ID, q.Type, strings.Join(knownTypes, ", "))
	}
	checkCats(at(qm, "applies_to"), q.AppliesTo)
	if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
		add(at(qm, "min"), "题目 %s 的 min 大于 max", q.ID)
	}
	if (q.Min != nil || q.Max != nil) && !q.IsNumber() {
		add(at(qm, "min"), "题目 %s 不是数字题，不能设置 min/max", q.ID)
	}
	if q.MinLen < 0 || q.MaxLen < 0 || (q.MaxLen > 0 && q.MinLen > q.MaxLen) {
		add(at(qm, "min_len"), "题目 %s 的 min_len/max_len 不合理", q.ID)
	}
	if q.Type == TypeText && q.MaxLen > 3500 {
		add(at(qm, "max_len"), "题目 %s 的 max_len 不能超过 3500（Telegram 单条消息上限）", q.ID)
	}
	switch q.Type {
	case TypeChoice, TypeMultiChoice:
		if len(q.Options) < 2 {
			add(at(qm, "options"), "选择题 %s 至少需要两个选项", q.ID)
		}
		seen := map[string]bool{}
		for _, o := range q.Options {
			if !optionPattern.MatchString(o.ID) {
				add(at(qm, "options"), "题目 %s 的选项 id %q 不合规（字母数字下划线，最长 16 字符）", q.ID, o.ID)
			}
			if seen[o.ID] {
				add(at(qm, "options"), "题目 %s 的选项 id %q 重复", q.ID, o.ID)
			}
			seen[o.ID] = true
			if o.Label == "" {
				add(at(qm, "options"), "题目 %s 的选项 %s 缺少 label", q.ID, o.ID)
			}
		}
	default:
		if len(q.Options) > 0 {
			add(at(qm, "options"), "题目 %s 不是选择题，不能设置 options", q.ID)
		}
	}
	if q.Type == TypePhotos {
		if q.MaxFiles == 0 {
			q.MaxFiles = 9
		}
		if q.MaxFiles < 1 || q.MaxFiles > 10 {
			add(at(qm, "max_files"), "题目 %s 的 max_files 应在 1–10 之间", q.ID)
		}
	}
}

// IsNumber reports whether the question's answer is a number (integer or money).
func (q *Question) IsNumber() bool { return q.Type == TypeInteger || q.Type == TypeMoney }

// Title is the prompt with its unit, e.g. 组织双拥主题征文（篇）: the column
// title in exports and the label in summaries.
func (q *Question) Title() string {
	if q.Unit == "" {
		return q.Prompt
	}
	return q.Prompt + "（" + q.Unit + "）"
}

// Questions returns every question of the form in order.
func (c *Campaign) Questions() []*Question { return c.questions }

// Question returns the question with that id, or nil.
func (c *Campaign) Question(id string) *Question { return c.byID[id] }

// NumberQuestions returns the integer and money questions in form order.
func (c *Campaign) NumberQuestions() []*Question {
	var qs []*Question
	for _, q := range c.questions {
		if q.IsNumber() {
			qs = append(qs, q)
		}
	}
	return qs
}

// ForCategory reports whether the question is asked of units of that
// category at all (section and question applies_to), regardless of answers.
func (q *Question) ForCategory(category string) bool {
	if len(q.Section.AppliesTo) > 0 && !slices.Contains(q.Section.AppliesTo, category) {
		return false
	}
	return len(q.AppliesTo) == 0 || slices.Contains(q.AppliesTo, category)
}

// Applies reports whether the question is asked of a unit of this category
// given the answers so far.
func (c *Campaign) Applies(q *Question, category string, answers map[string]Answer) bool {
	if !q.ForCategory(category) {
		return false
	}
	if q.cond == nil {
		return true
	}
	ref := c.byID[q.cond.ID]
	if !c.Applies(ref, category, answers) {
		return false
	}
	a, ok := answers[q.cond.ID]
	if !ok || a.Skipped {
		return false
	}
	return q.cond.holds(ref, a)
}

// Path returns the questions that apply to the unit, given the answers so
// far, in form order.
func (c *Campaign) Path(category string, answers map[string]Answer) []*Question {
	var qs []*Question
	for _, q := range c.questions {
		if c.Applies(q, category, answers) {
			qs = append(qs, q)
		}
	}
	return qs
}

// Category returns the category with that id.
func (c *Campaign) Category(id string) (Category, bool) {
	for _, cat := range c.Categories {
		if cat.ID == id {
			return cat, true
		}
	}
	return Category{}, false
}

// CategoryByName finds a category by its id, name or one of its aliases.
func (c *Campaign) CategoryByName(s string) (Category, bool) {
	s = strings.TrimSpace(s)
	for _, cat := range c.Categories {
		if s == cat.ID || s == cat.Name || slices.Contains(cat.Aliases, s) {
			return cat, true
		}
	}
	return Category{}, false
}

// CategoryNames lists the categories as 名称（id） for messages.
func (c *Campaign) CategoryNames() string {
	var parts []string
	for _, cat := range c.Categories {
		name := cat.Name
		if len(cat.Aliases) > 0 {
			name = cat.Aliases[0]
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, " / ")
}

// cond is a parsed `when`.
type cond struct {
	ID    string
	Op    string
	Value string
}

var condPattern = regexp.MustCompile(`^\s*([a-z][a-z0-9_]*)\s*(>=|<=|!=|==|=|>|<|has)\s*(\S+)\s*$`)

func parseCond(s string) (cond, error) {
	m := condPattern.FindStringSubmatch(s)
	if m == nil {
		return cond{}, errors.New("应为 “题目id 运算符 值”，例如 troop_visits > 0 或 help_kinds has health")
	}
	op := m[2]
	if op == "==" {
		op = "="
	}
	return cond{ID: m[1], Op: op, Value: m[3]}, nil
}

func (k cond) fits(ref *Question) error {
	switch {
	case ref.IsNumber():
		if k.Op == "has" {
			return fmt.Errorf("数字题 %s 不能用 has", ref.ID)
		}
		if _, err := parseNumber(ref, k.Value); err != nil {
			return fmt.Errorf("值 %q 不是有效的数字", k.Value)
		}
	case ref.Type == TypeChoice, ref.Type == TypeMultiChoice:
		want := "="
		if ref.Type == TypeMultiChoice {
			want = "has"
		}
		if k.Op != want && !(ref.Type == TypeChoice && k.Op == "!=") {
			return fmt.Errorf("题目 %s 只能用 %s 比较", ref.ID, want)
		}
		if !slices.ContainsFunc(ref.Options, func(o Option) bool { return o.ID == k.Value }) {
			return fmt.Errorf("题目 %s 没有选项 %q", ref.ID, k.Value)
		}
	default:
		return fmt.Errorf("只能依赖数字题或选择题（%s 是 %s）", ref.ID, ref.Type)
	}
	return nil
}

func (k cond) holds(ref *Question, a Answer) bool {
	switch ref.Type {
	case TypeChoice:
		if k.Op == "!=" {
			return a.Text != k.Value
		}
		return a.Text == k.Value
	case TypeMultiChoice:
		return slices.Contains(a.Picks, k.Value)
	}
	v, err := parseNumber(ref, k.Value)
	if err != nil {
		return false
	}
	switch k.Op {
	case ">":
		return a.Num > v
	case ">=":
		return a.Num >= v
	case "<":
		return a.Num < v
	case "<=":
		return a.Num <= v
	case "=":
		return a.Num == v
	case "!=":
		return a.Num != v
	}
	return false
}

// parseNumber parses a plain number as the question stores it: integers as
// they are, money in hundredths.
func parseNumber(q *Question, s string) (int64, error) {
	if q.Type == TypeMoney {
		return ParseMoney(s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// ParseMoney parses 万元 with at most two decimals into hundredths: "1.5" → 150.
func ParseMoney(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || len(frac) > 2 {
		return 0, fmt.Errorf("bad money %q", s)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad money %q", s)
		}
	}
	if len(whole) > 12 {
		return 0, fmt.Errorf("money too large %q", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad money %q: %w", s, err)
	}
	if neg {
		n = -n
	}
	return n, nil
}

// FormatMoney formats hundredths of 万元: 150 → "1.50".
func FormatMoney(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// yamlKeys lists the yaml keys of a struct's fields.
func yamlKeys(v any) []string {
	t := reflect.TypeOf(v)
	var keys []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}
