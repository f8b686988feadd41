package flows

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
)

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
