package flows

import (
	"fmt"
	"strings"
	"time"
)

// SummaryText is the office's progress report (/summary, and the daily
// digest): submitted / total by category, who is returned, unbound or
// unreachable, the newest submission and the totals of the main figures,
// overall and by category. It fits in one Telegram message: name lists that
// would not fit are cut and say how many more there are.
func SummaryText(o *Overview) string {
	c := o.Campaign
	n := o.Count()
	var head []string
	head = append(head, "📊 填报进度 · 截至 "+FormatTime(o.Now, c.Location))
	title := c.Title
	if c.Notice != "" {
		title += "（" + c.Notice + "）"
	}
	head = append(head, title, "截止时间："+FormatTime(o.Deadline, c.Location)+"（"+untilText(o.Deadline, o.Now)+"）", "")
	if n.Total == 0 {
		head = append(head, "还没有任何填报单位。管理员可用 /addunit 或 /import 添加单位。")
		return strings.Join(head, "\n")
	}
	head = append(head, summaryProgress(o, n)...)
	tail := summaryTotals(o, n)
	used := utf16Len(strings.Join(head, "\n")) + utf16Len(strings.Join(tail, "\n")) + 1
	mid := summaryNameLists(o, used)
	return strings.Join(append(append(head, mid...), tail...), "\n")
}

// summaryProgress is the summary's count of submitted units, overall and by
// category, and its newest submission.
func summaryProgress(o *Overview, n Count) []string {
	var lines []string
	lines = append(lines, fmt.Sprintf("已提交：%d / %d 个单位（%s）", n.Submitted, n.Total, percent(n.Submitted, n.Total)))
	for _, g := range o.Groups() {
		gn := countUnits(g.Units)
		if gn.Total == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("· %s：%d / %d（%s）", g.Category.Name, gn.Submitted, gn.Total, percent(gn.Submitted, gn.Total)))
	}
	if newest := o.Newest(); newest != nil {
		lines = append(lines, "最新提交："+newest.Unit.Name+"（"+FormatTime(newest.Latest.SubmittedAt, o.Campaign.Location)+"）")
	}
	return lines
}

// summaryTotals ends the summary: the totals of the main figures, overall
// and by category, and where to find the rest.
func summaryTotals(o *Overview, n Count) []string {
	c := o.Campaign
	tail := []string{""}
	t := o.Totals()
	keys := c.KeyQuestions()
	if n.Submitted == 0 {
		tail = append(tail, "尚无单位提交，暂无合计数据。")
	} else if len(keys) > 0 {
		tail = append(tail, fmt.Sprintf("主要数据合计（已提交的 %d 个单位）：", n.Submitted))
		prev := summaryPrevious(o, n)
		if prev != nil {
			tail[len(tail)-1] = prev.head
		}
		for _, q := range keys {
			var parts []string
			for _, cat := range c.Categories {
				ct := t.ByCategory[cat.ID]
				if ct.Reports == 0 || !q.ForCategory(cat.ID) {
					continue
				}
				parts = append(parts, ShortName(cat)+" "+FormatNumber(q, ct.Sums[q.ID]))
			}
			line := "· " + q.Title() + "：" + FormatNumber(q, t.Sums[q.ID])
			if len(parts) > 0 {
				line += "（" + strings.Join(parts, " · ") + "）"
			}
			tail = append(tail, line)
			if prev != nil {
				tail = append(tail, prev.line(q, t.Sums[q.ID]))
			}
		}
	}
	tail = append(tail, "", "未报单位名单：/pending；完整报表：/export")
	return tail
}

// summaryPrev is last year's side of the summary's totals: the same units'
// sums in the previous campaign (Overview.PreviousTotals).
type summaryPrev struct {
	head string // the totals' heading, saying what is compared
	sums map[string]int64
}

// summaryPrevious is last year's side of the totals; nil without last
// year's figures (Overview.SetPrevious).
func summaryPrevious(o *Overview, n Count) *summaryPrev {
	if o.PreviousCampaign() == nil {
		return nil
	}
	pt := o.PreviousTotals()
	head := fmt.Sprintf("主要数据合计（已提交的 %d 个单位；“上年同单位”为这些单位上年的合计", n.Submitted)
	if missing := n.Submitted - pt.Reports; missing > 0 {
		head += fmt.Sprintf("，其中 %d 个单位上年未提交，按 0 计", missing)
	}
	return &summaryPrev{head: head + "）：", sums: pt.Sums}
}

// line is the summary's line under a main figure's total cur: 上年同单位 300，
// +16.7% (no percentage when last year's was 0).
func (p *summaryPrev) line(q *Question, cur int64) string {
	prev := p.sums[q.ID]
	line := "　上年同单位 " + FormatNumber(q, prev)
	if pc := ChangePercent(prev, cur); pc != "" {
		line += "，" + pc
	}
	return line
}

// summaryNameLists lists the units returned, unbound and unreachable,
// sharing what is left of the message after used UTF-16 units.
func summaryNameLists(o *Overview, used int) []string {
	var returned, unbound, unreachable []string
	for i := range o.Units {
		u := &o.Units[i]
		switch {
		case u.State == StateReturned:
			returned = append(returned, u.Unit.Name)
		case u.State == StateNoContact:
			unbound = append(unbound, u.Unit.Name)
		}
		if u.Unreachable() && !u.Submitted() {
			unreachable = append(unreachable, u.Unit.Name)
		}
	}

	lists := []struct {
		label string
		names []string
	}{
		{"退回修改", returned},
		{"尚未绑定联系人", unbound},
		{"联系人已屏蔽机器人", unreachable},
	}
	shown := 0
	for _, l := range lists {
		if len(l.names) > 0 {
			shown++
		}
	}
	var mid []string
	for _, l := range lists {
		if len(l.names) == 0 {
			continue
		}
		budget := (MaxMessageLen - used - 8) / shown
		line := nameList(fmt.Sprintf("%s：%d 个 — ", l.label, len(l.names)), l.names, budget)
		mid = append(mid, line)
		used += utf16Len(line) + 1
		shown--
	}
	return mid
}

// nameList is label followed by names joined by 、, cut to at most budget
// UTF-16 units with a note of how many were left out.
func nameList(label string, names []string, budget int) string {
	full := label + strings.Join(names, "、")
	if utf16Len(full) <= budget {
		return full
	}
	var b strings.Builder
	b.WriteString(label)
	for i, name := range names {
		more := fmt.Sprintf("……另有 %d 个，完整名单请用 /pending 或 /export 查看", len(names)-i)
		sep := ""
		if i > 0 {
			sep = "、"
		}
		if utf16Len(b.String())+utf16Len(sep+name)+utf16Len(more) > budget {
			b.WriteString(more)
			return b.String()
		}
		b.WriteString(sep + name)
	}
	return b.String()
}

// PendingText lists the units without a standing version, by category, each
// with where it stands — the list a clerk phones through. It is cut at
// limit UTF-16 units (the caller splits it into messages) with a pointer to
// /export.
func PendingText(o *Overview, limit int) string {
	c := o.Campaign
	n := o.Count()
	var ls []string
	if n.Total == 0 {
		return "还没有任何填报单位。管理员可用 /addunit 或 /import 添加单位。"
	}
	if n.Pending() == 0 {
		return fmt.Sprintf("🎉 全部 %d 个单位均已提交（截至 %s）。", n.Total, FormatTime(o.Now, c.Location))
	}
	ls = append(ls, fmt.Sprintf("📋 未提交单位：%d / %d 个 · 截至 %s", n.Pending(), n.Total, FormatTime(o.Now, c.Location)))
	var parts []string
	for _, p := range []struct {
		label string
		n     int
	}{{"退回修改", n.Returned}, {"填写中", n.Filling}, {"已绑定未开始", n.NotStarted}, {"未绑定联系人", n.NoContact}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p.label, p.n))
		}
	}
	ls = append(ls, strings.Join(parts, " · "))
	if n.Unreachable > 0 {
		ls = append(ls, fmt.Sprintf("其中 %d 个单位的联系人已屏蔽机器人，需电话联系。", n.Unreachable))
	}
	used := utf16Len(strings.Join(ls, "\n"))
	left := n.Pending()
	const reserve = 60 // room for the "另有 N 个" line
groups:
	for _, g := range o.Groups() {
		var pending []*UnitOverview
		for _, u := range g.Units {
			if !u.Submitted() {
				pending = append(pending, u)
			}
		}
		if len(pending) == 0 {
			continue
		}
		head := fmt.Sprintf("\n【%s】%d 个", g.Category.Name, len(pending))
		if used+utf16Len(head)+reserve > limit {
			break groups
		}
		ls = append(ls, head)
		used += utf16Len(head) + 1
		for i, u := range pending {
			line := fmt.Sprintf("%d. %s — %s", i+1, u.Unit.Name, o.StateText(u))
			if names := u.ContactNames(); names != "" && u.State != StateNoContact {
				line += " · 联系人：" + names
			} else if u.Unit.Note != "" {
				line += " · " + u.Unit.Note
			}
			if used+utf16Len(line)+1+reserve > limit {
				break groups
			}
			ls = append(ls, line)
			used += utf16Len(line) + 1
			left--
		}
	}
	if left > 0 {
		ls = append(ls, "", fmt.Sprintf("……另有 %d 个单位未列出。完整名单请用 /export 导出报表（见“未报单位”表）。", left))
	}
	return strings.Join(ls, "\n")
}

// percent is part of whole as 66.7%.
func percent(part, whole int) string {
	if whole == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", float64(part)*100/float64(whole))
}

// untilText says how long until the deadline, or how long it has passed.
func untilText(deadline, now time.Time) string {
	d := deadline.Sub(now)
	past := d <= 0
	if past {
		d = -d
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	var span string
	switch {
	case days > 0 && hours > 0:
		span = fmt.Sprintf("%d 天 %d 小时", days, hours)
	case days > 0:
		span = fmt.Sprintf("%d 天", days)
	case hours > 0:
		span = fmt.Sprintf("%d 小时", hours)
	default:
		span = fmt.Sprintf("%d 分钟", int(d/time.Minute))
	}
	switch {
	case d < time.Minute && past:
		return "已到截止时间"
	case d < time.Minute:
		return "还有不到 1 分钟"
	case past:
		return "已过截止时间 " + span
	}
	return "还有 " + span
}
