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

// String is the problem as the admin sees it: 第 n 行：msg, or msg alone
// when it concerns the whole file.
func (p Problem) String() string {
	if p.Line == 0 {
		return p.Msg
	}
	return fmt.Sprintf("第 %d 行：%s", p.Line, p.Msg)
}

// ProblemsError lists every problem found in a campaign file.
type ProblemsError []Problem

// Error lists the problems, one a line.
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
	outliers  map[string]int     // outliers keys
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
	l.outliers = keyLines(orEmpty(child(doc, "outliers")))
	if l.outliers[""] == 0 {
		l.outliers[""] = l.top["outliers"]
	}
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
	outlierKeys  = yamlKeys(OutlierRule{})
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
	check(child(doc, "outliers"), outlierKeys, "outliers ")
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
