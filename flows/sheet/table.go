// Package sheet writes the office's export of a campaign — the 报表 a clerk
// would otherwise type up by hand — as an Excel workbook (excelize) or a
// CSV file, from a flows.Overview and the text answers a TextSource gives;
// it also writes a unit's fill-in template (WriteTemplate) and reads a
// filled one back (ReadTemplate). It reads and writes only the bytes and
// writers it is given.
package sheet

import (
	"fmt"
	"strings"
	"time"

	"reportbot/flows"
)

// money is a money figure in hundredths of 万元, written as 万元 decimals.
type money int64

// blank is an empty cell of a figure column (the question does not apply
// to the unit): styled like the column's numbers, so that a number typed
// into it later looks like the others.
type blank struct{ money bool }

// pct is a change from last year (增减%) as a fraction: 0.25 for +25%.
type pct float64

// diff is a change from last year (增减) in a figure's unit: signed.
type diff struct {
	n     int64
	money bool
}

// marked is a unit's figure (int64 or money) that its contact confirmed as
// far from last year's: marked in its cell, with note as the cell's comment.
type marked struct {
	v    any
	note string
}

// rowKind tells a unit's row from a subtotal or the grand total.
type rowKind int

const (
	unitRow rowKind = iota
	subtotalRow
	totalRow
)

// Sheet names of the workbook.
const (
	SheetSummary = "汇总表"
	SheetTexts   = "文字材料"
	SheetPending = "未报单位"
	SheetCompare = "与上年对比" // only when the overview has last year's figures
)

// TextSource gives the text answers of a submitted unit's standing version,
// in Overview.TextQuestions order (Overview.Texts). The overview does not
// keep them, so the export reads them unit by unit: in the bot from the
// store (Overview.LoadTexts).
type TextSource func(u *flows.UnitOverview) ([]string, error)

// table lays out the export: which columns, and the rows of every sheet as
// cell values (int64, money, string, blank, or nil for an empty cell).
// Strings are user text as they are; each writer makes them safe for its
// format.
type table struct {
	o       *flows.Overview
	numbers []*flows.Question // number questions, form order
	texts   []*flows.Question // every other question, form order
	source  TextSource
	// compare: every figure has a 上年 and a 增减% column beside it (the
	// overview has last year's figures: Overview.SetPrevious).
	compare bool
}

func newTable(o *flows.Overview, texts TextSource) *table {
	return &table{o: o, numbers: o.Campaign.NumberQuestions(), texts: o.TextQuestions(), source: texts,
		compare: o.PreviousCampaign() != nil}
}

// Titles of the columns beside each figure when comparing with last year.
const (
	titlePrevious = "上年"
	titleChange   = "增减%"
)

// stride is how many columns each figure takes in 汇总表: itself, and with
// last year's figures its 上年 and 增减% columns.
func (t *table) stride() int {
	if t.compare {
		return 3
	}
	return 1
}

// summaryFixed are the columns of 汇总表 before the figures.
var summaryFixed = []string{"序号", "单位名称", "类别", "联系人", "提交时间", "版本", "回执编号", "状态"}

// summaryTitles are the column titles of 汇总表: the fixed ones, then every
// number question with its unit, e.g. 组织双拥主题征文（篇）.
func (t *table) summaryTitles() []string {
	titles := append([]string(nil), summaryFixed...)
	for _, q := range t.numbers {
		titles = append(titles, q.Title())
		if t.compare {
			titles = append(titles, titlePrevious, titleChange)
		}
	}
	return titles
}

// summaryRows calls row for every row of 汇总表 after the titles: the
// submitted units of each category followed by the category's subtotal,
// then the grand total. Categories without any unit are left out. u is the
// unit of a unit's row, nil for sums.
func (t *table) summaryRows(row func(kind rowKind, u *flows.UnitOverview, cells []any) error) error {
	totals := t.o.Totals()
	var prev flows.Totals
	if t.compare {
		prev = t.o.PreviousTotals()
	}
	n := 0
	for _, g := range t.o.Groups() {
		if len(g.Units) == 0 {
			continue
		}
		for _, u := range g.Units {
			if !u.Submitted() {
				continue
			}
			n++
			if err := row(unitRow, u, t.unitCells(n, u)); err != nil {
				return err
			}
		}
		ct := totals.ByCategory[g.Category.ID]
		label := fmt.Sprintf("小计（%d 个单位）", ct.Reports)
		if err := row(subtotalRow, nil, t.sumCells(label, g.Category.Name, ct.Sums, prev.ByCategory[g.Category.ID].Sums)); err != nil {
			return err
		}
	}
	return row(totalRow, nil, t.sumCells(fmt.Sprintf("合计（%d 个单位）", totals.Reports), "全部", totals.Sums, prev.Sums))
}

func (t *table) unitCells(n int, u *flows.UnitOverview) []any {
	state := "已提交"
	if u.Status == flows.StatusRevising {
		state = "已提交，修改中"
	}
	cells := make([]any, 0, len(summaryFixed)+len(t.numbers)*t.stride())
	cells = append(cells, int64(n), u.Unit.Name, u.Category.Name, u.ContactNames(),
		t.timeText(u.Latest.SubmittedAt), int64(u.Latest.Version), u.Latest.Receipt, state)
	for _, q := range t.numbers {
		v, ok := t.o.Figure(u, q)
		cur := figureCell(q, v, ok)
		if ok && u.Confirmed(q) {
			cur = marked{v: cur, note: t.o.OutlierNote(u, q)}
		}
		cells = append(cells, cur)
		if t.compare {
			p, pok := t.o.PreviousFigure(u, q)
			cells = append(cells, figureCell(q, p, pok), changeCell(p, v, ok && pok))
		}
	}
	return cells
}

// figureCell is the cell of a figure n of q: blank unless ok.
func figureCell(q *flows.Question, n int64, ok bool) any {
	switch {
	case !ok:
		return blank{money: q.Type == flows.TypeMoney}
	case q.Type == flows.TypeMoney:
		return money(n)
	}
	return n
}

// changeCell is the 增减% cell from last year's prev to cur: empty unless
// both are known (ok) and last year's is more than zero.
func changeCell(prev, cur int64, ok bool) any {
	if r, rok := flows.Change(prev, cur); ok && rok {
		return pct(r)
	}
	return nil
}

// sumCells are the cells of a subtotal or total row: this year's sums and,
// when comparing, last year's of the same units and the change between them.
func (t *table) sumCells(label, category string, sums, prev map[string]int64) []any {
	cells := make([]any, len(summaryFixed), len(summaryFixed)+len(t.numbers)*t.stride())
	cells[1], cells[2] = label, category
	for _, q := range t.numbers {
		cells = append(cells, figureCell(q, sums[q.ID], true))
		if t.compare {
			// A question new this year has no sums of last year.
			known := t.o.PreviousQuestion(q) != nil
			cells = append(cells, figureCell(q, prev[q.ID], known), changeCell(prev[q.ID], sums[q.ID], known))
		}
	}
	return cells
}

// textTitles are the column titles of 文字材料.
func (t *table) textTitles() []string {
	titles := []string{"序号", "单位名称", "类别", "版本"}
	for _, q := range t.texts {
		titles = append(titles, textTitle(q))
	}
	return titles
}

// textTitle is a question's prompt up to its first colon: 专题报告（正式文件）
// rather than the whole upload instruction.
func textTitle(q *flows.Question) string {
	title, _, _ := strings.Cut(q.Prompt, "：")
	return title
}

// textRows calls row for each submitted unit with its text answers (choices
// by their labels, files by name or count).
func (t *table) textRows(row func(cells []any) error) error {
	n := 0
	for _, g := range t.o.Groups() {
		for _, u := range g.Units {
			if !u.Submitted() {
				continue
			}
			n++
			texts, err := t.textCells(u)
			if err != nil {
				return err
			}
			cells := append([]any{int64(n), u.Unit.Name, u.Category.Name, int64(u.Latest.Version)}, texts...)
			if err := row(cells); err != nil {
				return err
			}
		}
	}
	return nil
}

// textCells are a submitted unit's answers to the questions that are not
// numbers: text as it is, choices by their labels, files by name or count.
func (t *table) textCells(u *flows.UnitOverview) ([]any, error) {
	texts, err := t.source(u)
	if err != nil {
		return nil, err
	}
	if len(texts) != len(t.texts) {
		return nil, fmt.Errorf("texts of unit %d: %d answers for %d questions", u.Unit.ID, len(texts), len(t.texts))
	}
	cells := make([]any, len(texts))
	for i, s := range texts {
		if s != "" {
			cells[i] = s
		}
	}
	return cells, nil
}

// pendingTitles are the column titles of 未报单位.
var pendingTitles = []string{"序号", "单位名称", "类别", "联系人说明", "状态", "联系人", "最后填写时间"}

// pendingRows calls row for each unit without a standing version, by category.
func (t *table) pendingRows(row func(cells []any) error) error {
	n := 0
	for _, g := range t.o.Groups() {
		for _, u := range g.Units {
			if u.Submitted() {
				continue
			}
			n++
			var updated any
			if !u.UpdatedAt.IsZero() {
				updated = t.timeText(u.UpdatedAt)
			}
			if err := row([]any{int64(n), u.Unit.Name, u.Category.Name, u.Unit.Note, t.o.StateText(u), u.ContactNames(), updated}); err != nil {
				return err
			}
		}
	}
	return nil
}

// timeText is a time as the export shows it: 2022-02-05 10:00 in the
// campaign's zone (sortable as text).
func (t *table) timeText(at time.Time) string {
	return at.In(t.o.Campaign.Location).Format("2006-01-02 15:04")
}

// FileName is the export's file name: the campaign title and the time of
// the overview, e.g. 2022年元旦春节期间…情况报告_20220205-1000.xlsx.
func FileName(o *flows.Overview, ext string) string {
	title := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, strings.TrimSpace(o.Campaign.Title))
	if title == "" {
		title = "报表"
	}
	return title + "_" + o.Now.In(o.Campaign.Location).Format("20060102-1504") + "." + ext
}
