package flows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// What ids, option ids and clock times look like, and the question types.
var (
	idPattern     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	optionPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,16}$`)
	clockPattern  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	knownTypes    = []string{TypeInteger, TypeMoney, TypeText, TypePhone, TypeChoice, TypeMultiChoice, TypeDocument, TypePhotos}
)

// addProblem records a problem of the campaign file at a line.
type addProblem func(line int, format string, args ...any)

// check validates the campaign read from the file, fills in defaults and
// what is derived (location, deadline, the question index), and adds a
// problem for everything wrong, with the line it is on.
func (c *Campaign) check(l lineIndex, probs *ProblemsError) {
	add := func(line int, format string, args ...any) {
		*probs = append(*probs, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	loc := c.checkHeader(l, add)
	checkCats := c.checkCategories(l, add)
	c.checkSections(l, add, checkCats)
	c.checkReferences(l, add)
	c.checkSchedule(l, loc, add)
	c.checkPrevious(l, add)
}

// checkHeader checks the campaign's own fields (id, title, time zone,
// deadline), fills in the receipt prefix and time zone when unset, and
// returns the campaign's location.
func (c *Campaign) checkHeader(l lineIndex, add addProblem) *time.Location {
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
	return loc
}

// checkCategories checks the unit categories (ids, names and aliases
// unique) and returns a check of applies_to lists against them.
func (c *Campaign) checkCategories(l lineIndex, add addProblem) (checkCats func(line int, list []string)) {
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
	return func(line int, list []string) {
		for _, id := range list {
			if !cats[id] {
				add(line, "applies_to 中的类别 %q 未定义", id)
			}
		}
	}
}

// checkSections checks the sections and their questions and indexes the
// questions (Questions, Question).
func (c *Campaign) checkSections(l lineIndex, add addProblem, checkCats func(int, []string)) {
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
}

// checkReferences checks that when and max_of name earlier questions of a
// fitting type, and parses each when.
func (c *Campaign) checkReferences(l lineIndex, add addProblem) {
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
}

// checkSchedule checks the reminder and digest schedule and fills in its
// defaults.
func (c *Campaign) checkSchedule(l lineIndex, loc *time.Location, add addProblem) {
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

// checkQuestion checks one question's own fields and fills in max_files of
// photo questions.
func (c *Campaign) checkQuestion(q *Question, qm map[string]int, add addProblem, checkCats func(int, []string)) {
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

// checkPrevious checks what compares a unit's figures with the previous
// campaign's: previous names another campaign, outliers' ratio and floor
// make sense (and get their defaults), each question's same_as,
// typical_max and outlier_floor are on number questions, and no two number
// questions take the same previous question.
func (c *Campaign) checkPrevious(l lineIndex, add addProblem) {
	if c.Previous != "" && c.Previous == c.ID {
		add(at(l.top, "previous"), "previous 应为上一期活动的 id，不能是本活动自己的 id %q", c.ID)
	}
	if strings.TrimSpace(c.Previous) != c.Previous {
		add(at(l.top, "previous"), "previous %q 的前后有空格，请删除", c.Previous)
	}
	r := &c.Outliers
	if _, set := l.outliers["ratio"]; !set && r.Ratio == 0 {
		r.Ratio = DefaultOutlierRatio
	} else if r.Ratio <= 1 {
		add(at(l.outliers, "ratio"), "outliers 的 ratio 须大于 1（例如 5：比上年多 5 倍以上或少到 1/5 以下时请填报人确认），现为 %v", r.Ratio)
	}
	if _, set := l.outliers["floor"]; !set && r.Floor == 0 {
		r.Floor = DefaultOutlierFloor
	} else if r.Floor < 0 {
		add(at(l.outliers, "floor"), "outliers 的 floor 不能是负数，现为 %v", r.Floor)
	}
	taken := map[string]string{} // previous id → question id
	for si := range c.Sections {
		for qi := range c.Sections[si].Questions {
			q := &c.Sections[si].Questions[qi]
			c.checkQuestionPrevious(q, idx(idx(l.questions, si), qi), add, taken)
		}
	}
}

// checkQuestionPrevious checks one question's same_as, typical_max and
// outlier_floor; taken maps the previous ids of the number questions
// before it to their questions.
func (c *Campaign) checkQuestionPrevious(q *Question, qm map[string]int, add addProblem, taken map[string]string) {
	if q.SameAs != "" {
		switch {
		case !q.IsNumber():
			add(at(qm, "same_as"), "题目 %s 不是数字题，不能设置 same_as（只有数字题与上年对比）", q.ID)
		case !idPattern.MatchString(q.SameAs):
			add(at(qm, "same_as"), "题目 %s 的 same_as %q 不是有效的题目 id", q.ID, q.SameAs)
		case c.Previous == "":
			add(at(qm, "same_as"), "题目 %s 设置了 same_as，但活动没有设置上一期活动 previous", q.ID)
		}
	}
	if c.Previous != "" && q.IsNumber() && c.byID[q.ID] == q { // a duplicate id is reported already
		if other, dup := taken[q.PreviousID()]; dup {
			add(at(qm, "same_as"), "题目 %s 和 %s 都对应上一期的题目 %q，只能有一题对应（用 same_as 区分）", other, q.ID, q.PreviousID())
		} else {
			taken[q.PreviousID()] = q.ID
		}
	}
	for _, f := range []struct {
		key string
		v   *float64
	}{{"typical_max", q.TypicalMax}, {"outlier_floor", q.OutlierFloor}} {
		switch {
		case f.v == nil:
		case !q.IsNumber():
			add(at(qm, f.key), "题目 %s 不是数字题，不能设置 %s", q.ID, f.key)
		case *f.v < 0:
			add(at(qm, f.key), "题目 %s 的 %s 不能是负数，现为 %v", q.ID, f.key, *f.v)
		}
	}
}
