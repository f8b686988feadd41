package flows

import (
	"slices"
	"strings"
	"time"
)

// Question types.
const (
	TypeInteger     = "integer"     // non-negative whole number (unless min says otherwise)
	TypeMoney       = "money"       // 万元, at most two decimals, stored in hundredths
	TypeText        = "text"        // free text with min_len/max_len (runes)
	TypePhone       = "phone"       // mainland mobile or landline
	TypeChoice      = "choice"      // one option, as buttons
	TypeMultiChoice = "multichoice" // several options, toggled, then 完成
	TypeDocument    = "document"    // one file: PDF, Word, WPS, OFD or a photo
	TypePhotos      = "photos"      // up to max_files photos, then 完成
)

// Campaign is one reporting campaign, loaded from a YAML campaign file.
type Campaign struct {
	ID string `yaml:"id"`
	// Key is the campaign's store key (see Store.Draft): "" for a store's
	// first campaign, the ID for later ones. The campaign registry sets it;
	// it is not part of the YAML.
	Key    string `yaml:"-"`
	Title  string `yaml:"title"`  // 关于做好2022年元旦春节期间拥军优属拥政爱民工作的通知
	Notice string `yaml:"notice"` // 文号, e.g. 吕拥办电〔2021〕4号
	// Receipt is the receipt number prefix; a unit's receipt is
	// <Receipt>-<unit id, 4 digits>, with -<version> from version 2 on.
	Receipt string `yaml:"receipt"` // e.g. SY-2022
	// Office is whom a contact should call once the report is locked.
	Office   string `yaml:"office"` // e.g. 市双拥办（电话 0358-8498917）
	TimeZone string `yaml:"time_zone"`
	// Deadline in the campaign's time zone, "2006-01-02 15:04".
	DeadlineText string `yaml:"deadline"`

	Categories []Category `yaml:"categories"`
	Sections   []Section  `yaml:"sections"`
	Schedule   Schedule   `yaml:"schedule"`

	// Previous is the id of the campaign before this one (last year's), whose
	// reports a unit's figures are compared with; "" for none.
	Previous string `yaml:"previous"`
	// Outliers is when an answer counts as far from the unit's previous
	// value (see OutlierRule).
	Outliers OutlierRule `yaml:"outliers"`

	// Filled in by ParseCampaign.
	Location  *time.Location `yaml:"-"`
	Deadline  time.Time      `yaml:"-"`
	questions []*Question
	byID      map[string]*Question
}

// Category is a kind of unit, e.g. county / 县市区.
type Category struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`    // 县（市、区）双拥工作领导小组
	Aliases []string `yaml:"aliases"` // other names accepted in commands and CSV, e.g. 县市区
}

// Section groups questions under a title, e.g. 一、双拥宣传教育活动.
type Section struct {
	ID        string     `yaml:"id"`
	Title     string     `yaml:"title"`
	AppliesTo []string   `yaml:"applies_to"` // category ids; empty = all
	Questions []Question `yaml:"questions"`
}

// Question is one question of the form.
type Question struct {
	ID       string `yaml:"id"`
	Prompt   string `yaml:"prompt"`
	Type     string `yaml:"type"`
	Unit     string `yaml:"unit"` // 篇, 次, 万元… shown after the prompt and in column titles
	Required bool   `yaml:"required"`
	// AppliesTo narrows the section's categories for this question.
	AppliesTo []string `yaml:"applies_to"`
	// When makes the question depend on an earlier answer:
	// "<question id> <op> <value>", op one of > >= < <= = !=, or
	// "<question id> has <option id>" for multichoice.
	When string `yaml:"when"`
	// MaxOf names an earlier number question this one may not exceed (其中).
	MaxOf    string   `yaml:"max_of"`
	Min      *float64 `yaml:"min"`
	Max      *float64 `yaml:"max"`
	MinLen   int      `yaml:"min_len"`
	MaxLen   int      `yaml:"max_len"`
	MaxFiles int      `yaml:"max_files"` // photos; default 9
	Options  []Option `yaml:"options"`   // choice, multichoice
	// Key marks a main figure: shown in the office group's posts and in
	// /summary's totals (every number is in the export).
	Key bool `yaml:"key"`
	// SameAs is the id this question had in the previous campaign when it
	// was renamed; "" means the same id.
	SameAs string `yaml:"same_as"`
	// TypicalMax is the largest answer the office expects; a larger one is
	// asked to be confirmed even without a previous value. nil for none.
	TypicalMax *float64 `yaml:"typical_max"`
	// OutlierFloor overrides OutlierRule.Floor for this question.
	OutlierFloor *float64 `yaml:"outlier_floor"`

	Section *Section `yaml:"-"` // filled in by ParseCampaign
	Index   int      `yaml:"-"` // position in the whole form, filled in by ParseCampaign
	cond    *cond    // parsed When
}

// Option is one option of a choice question. The ID goes into callback data
// (≤ 64 bytes), the label is shown.
type Option struct {
	ID    string `yaml:"id"`
	Label string `yaml:"label"`
}

// Schedule is the campaign's reminder ladder and digest, in its time zone.
type Schedule struct {
	// Reminders before the deadline: days before the deadline day, at At.
	RemindDaysBefore []int  `yaml:"remind_days_before"` // default 7, 3, 1, 0
	RemindAt         string `yaml:"remind_at"`          // "09:00"
	// After the deadline: every working day at RemindAt while units are missing.
	RemindAfter bool   `yaml:"remind_after"`
	DigestAt    string `yaml:"digest_at"` // "18:00", daily while open
	// Holidays: a reminder that falls in one moves to the last working day before it.
	Holidays []Holiday `yaml:"holidays"`
	// Quiet hours: no reminder is sent between QuietFrom and QuietTo ("22:00"–"08:00").
	QuietFrom string `yaml:"quiet_from"`
	QuietTo   string `yaml:"quiet_to"`
	// Working days that fall on a weekend (调休上班), "2006-01-02".
	Workdays []string `yaml:"workdays"`
}

// Holiday is a closed range of dates, "2006-01-02".
type Holiday struct {
	Name string `yaml:"name"`
	From string `yaml:"from"`
	To   string `yaml:"to"`
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
