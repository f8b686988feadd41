package flows

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Message texts and keyboards the contact sees. Nothing here is stored: the
// draft keeps ids and values, and every text is rendered from it.

// MaxMessageLen is Telegram's limit on a message text, in UTF-16 code units.
const MaxMessageLen = 4096

// summaryTextRunes is how much of a text answer the summary shows.
const summaryTextRunes = 40

// editButtonsPerRow is how many 改 n buttons stand in one row of the summary.
const editButtonsPerRow = 6

// FormatAnswer shows an answer to people: "12 篇", "1.25 万元", a choice by
// its label, several choices joined by 、, a document by its file name,
// photos as "3 张". Text answers are returned whole.
func FormatAnswer(q *Question, a Answer) string {
	if a.Skipped {
		return "（已跳过）"
	}
	switch q.Type {
	case TypeInteger:
		if q.Unit == "" {
			return strconv.FormatInt(a.Num, 10)
		}
		return strconv.FormatInt(a.Num, 10) + " " + q.Unit
	case TypeMoney:
		return FormatMoney(a.Num) + " 万元"
	case TypeChoice:
		if o := q.option(a.Text); o != nil {
			return o.Label
		}
		return a.Text
	case TypeMultiChoice:
		if len(a.Picks) == 0 {
			return "（未选）"
		}
		labels := make([]string, len(a.Picks))
		for i, id := range a.Picks {
			labels[i] = id
			if o := q.option(id); o != nil {
				labels[i] = o.Label
			}
		}
		return strings.Join(labels, "、")
	case TypeDocument:
		return formatFiles(a.Files)
	case TypePhotos:
		return fmt.Sprintf("%d 张", len(a.Files))
	}
	return a.Text
}

// formatFiles names documents by file name and counts photos.
func formatFiles(fs []File) string {
	var parts []string
	photos := 0
	for _, f := range fs {
		if f.Name == "" || f.Photo {
			photos++
			continue
		}
		parts = append(parts, f.Name)
	}
	if photos > 0 {
		parts = append(parts, fmt.Sprintf("照片 %d 张", photos))
	}
	if len(parts) == 0 {
		return "（无）"
	}
	return strings.Join(parts, "、")
}

// rows lays buttons out n to a row.
func rows(bs []Button, n int) [][]Button {
	var out [][]Button
	for len(bs) > 0 {
		k := min(n, len(bs))
		out = append(out, bs[:k:k])
		bs = bs[k:]
	}
	return out
}

// expect says in one sentence what the question expects; error messages
// end with it and question messages show it as the hint.
func (c *Campaign) expect(q *Question, answers map[string]Answer) string {
	unit := ""
	if q.Unit != "" && q.Type == TypeInteger {
		unit = "（单位：" + q.Unit + "）"
	}
	switch q.Type {
	case TypeInteger:
		lo, hi, stated := c.numberBounds(q, answers)
		var s string
		if stated {
			s = fmt.Sprintf("请输入 %d 到 %d 之间的整数%s", lo, hi, unit)
		} else {
			s = fmt.Sprintf("请输入不小于 %d 的整数%s", lo, unit)
		}
		if lo <= 0 {
			s += "，没有请填 0"
		}
		return s + "。"
	case TypeMoney:
		lo, hi, stated := c.numberBounds(q, answers)
		s := "请输入金额（单位：万元），最多保留两位小数"
		if stated {
			s = fmt.Sprintf("请输入 %s 到 %s 之间的金额（单位：万元），最多保留两位小数", FormatMoney(lo), FormatMoney(hi))
		}
		if lo <= 0 {
			s += "，没有请填 0"
		}
		return s + "。例如 1.25 万元填 1.25，5000 元填 0.5。"
	case TypeText:
		limit := q.MaxLen
		if limit == 0 {
			limit = textRunes
		}
		if q.MinLen > 1 {
			return fmt.Sprintf("请直接输入文字，%d–%d 个字。", q.MinLen, limit)
		}
		return fmt.Sprintf("请直接输入文字，不超过 %d 个字。", limit)
	case TypePhone:
		return "请输入手机号（11 位，如 13912345678）或带区号的座机号（如 0358-8498917）。"
	case TypeChoice:
		return "请点选下面的一个选项，也可以直接输入选项名称。"
	case TypeMultiChoice:
		return "可多选：点选项打勾（再点一次取消），选好后点「完成」。"
	case TypeDocument:
		return "请以文件形式发送 PDF、Word（doc/docx）、WPS 或 OFD 文件，不超过 20 MB；也可以发送盖章文件的照片（多页请逐页发送，发完点「完成」）。"
	case TypePhotos:
		return fmt.Sprintf("请发送照片，最多 %d 张，发完后点「完成」。", photoLimit(q))
	}
	return ""
}

// photoLimit is how many photos the question takes.
func photoLimit(q *Question) int {
	switch {
	case q.Type == TypeDocument:
		return docPhotoLimit
	case q.MaxFiles > 0:
		return q.MaxFiles
	}
	return 9
}

// position is the question's 0-based place in path, or -1.
func position(path []*Question, q *Question) int { return slices.Index(path, q) }

// picks are the options of a multichoice question ticked so far: the
// pending selection, or the stored answer when nothing was toggled yet.
func picks(d Draft, q *Question) []string {
	if d.Pending != nil && d.Cursor == q.ID {
		return d.Pending.Picks
	}
	return d.Answers[q.ID].Picks
}

// pendingFiles are the photos (or pages) received for the current question
// before 完成.
func pendingFiles(d Draft, q *Question) []File {
	if d.Pending != nil && d.Cursor == q.ID {
		return d.Pending.Files
	}
	return nil
}

// questionReply asks q. note goes before the question; problem (what was
// wrong with the last input) replaces the hint and is followed by what is
// expected.
func (c *Campaign) questionReply(d Draft, category string, q *Question, note, problem string) Reply {
	if confirming(d, q) {
		return c.confirmReply(d, category, q, note, problem)
	}
	path := c.Path(category, d.Answers)
	pos := position(path, q)
	var b strings.Builder
	switch {
	case problem != "":
		b.WriteString(problem + c.expect(q, d.Answers) + "\n\n")
	case note != "":
		b.WriteString(note + "\n\n")
	}
	if pos >= 0 {
		fmt.Fprintf(&b, "第 %d/%d 题 · %s\n", pos+1, len(path), q.Section.Title)
	} else {
		b.WriteString(q.Section.Title + "\n")
	}
	b.WriteString(q.Title())
	if problem == "" {
		b.WriteString("\n" + c.expect(q, d.Answers))
		if !q.Required {
			b.WriteString("本题选填，没有可点「跳过」。")
		}
	}
	a, answered := d.Answers[q.ID]
	switch {
	case q.Type == TypeMultiChoice:
		if p := picks(d, q); len(p) > 0 {
			b.WriteString("\n已选：" + FormatAnswer(q, Answer{Picks: p}))
		} else if d.Pending != nil && d.Cursor == q.ID {
			b.WriteString("\n已选：（无）")
		}
	case len(pendingFiles(d, q)) > 0:
		fmt.Fprintf(&b, "\n已收到 %d 张，发完请点「完成」。", len(pendingFiles(d, q)))
	case answered:
		b.WriteString("\n当前答案：" + shorten(FormatAnswer(q, a), 200))
		switch q.Type {
		case TypeDocument, TypePhotos:
			b.WriteString("\n重新发送将替换当前答案")
		case TypeChoice:
			b.WriteString("\n点选其他选项即可修改")
		default:
			b.WriteString("\n直接发送新的答案即可修改")
		}
		if c.keepable(d, q) {
			b.WriteString("；不改请点「保留当前答案」")
		}
		b.WriteString("。")
	}
	return Reply{Text: b.String(), Buttons: c.questionButtons(d, q, pos)}
}

// questionButtons: the options, 完成 where it applies, 保留当前答案, then
// 上一题 (not on the first question), 跳过 (optional questions) and 取消.
func (c *Campaign) questionButtons(d Draft, q *Question, pos int) [][]Button {
	var kb [][]Button
	switch q.Type {
	case TypeChoice, TypeMultiChoice:
		ticked := picks(d, q)
		if a, ok := d.Answers[q.ID]; q.Type == TypeChoice && ok && !a.Skipped {
			ticked = []string{a.Text}
		}
		var bs []Button
		for _, o := range q.Options {
			label := o.Label
			if slices.Contains(ticked, o.ID) {
				label = "✅ " + label
			}
			bs = append(bs, Button{Text: label, Data: optData(d.Rev, q, o.ID)})
		}
		kb = append(kb, rows(bs, 2)...)
		if q.Type == TypeMultiChoice {
			kb = append(kb, []Button{{Text: "完成", Data: data(d.Rev, verbDone, q.ID)}})
		}
	case TypeDocument, TypePhotos:
		if n := len(pendingFiles(d, q)); n > 0 {
			kb = append(kb, []Button{{Text: fmt.Sprintf("完成（共 %d 张）", n), Data: data(d.Rev, verbDone, q.ID)}})
		}
	}
	if c.keepable(d, q) {
		kb = append(kb, []Button{{Text: "保留当前答案", Data: data(d.Rev, verbKeep, q.ID)}})
	}
	var nav []Button
	if pos > 0 {
		nav = append(nav, Button{Text: "上一题", Data: data(d.Rev, verbBack, q.ID)})
	}
	if !q.Required {
		nav = append(nav, Button{Text: "跳过", Data: data(d.Rev, verbSkip, q.ID)})
	}
	nav = append(nav, Button{Text: "取消", Data: data(d.Rev, verbCancel, q.ID)})
	return append(kb, nav)
}

// keepable: q has an answer that may be kept as it is (保留当前答案). A
// multichoice answer is kept with 完成, received photos are finished with 完成.
func (c *Campaign) keepable(d Draft, q *Question) bool {
	_, answered := d.Answers[q.ID]
	return answered && q.Type != TypeMultiChoice && len(pendingFiles(d, q)) == 0 && !c.needs(q, d.Answers)
}

// QuestionMessage re-asks the question the contact is on; false when the
// draft is not at a question (not started, at the summary, submitted).
func (c *Campaign) QuestionMessage(d Draft, u Unit) (Reply, bool) {
	q := c.Question(d.Cursor)
	if q == nil || !inProgress(d) {
		return Reply{}, false
	}
	return c.questionReply(d, u.Category, q, "", ""), true
}

// summaryReplies shows every answer, numbered, grouped by section, split
// into messages Telegram accepts; the last carries 改 n and 确认提交.
func (c *Campaign) summaryReplies(d Draft, env Env, note string) []Reply {
	path := c.Path(env.Unit.Category, d.Answers)
	var ls []string
	if note != "" {
		ls = append(ls, note, "")
	}
	ls = append(ls, "📋 填报内容汇总 · "+env.Unit.Name)
	switch {
	case d.Status == StatusReturned && d.Returned != nil:
		ls = append(ls, "退回修改原因："+d.Returned.Reason)
	case d.Version > 0:
		ls = append(ls, fmt.Sprintf("正在修改已提交的第 %d 版（回执编号 %s），修改须重新提交才生效。", d.Version, d.Receipt))
	}
	var sec *Section
	for i, q := range path {
		if q.Section != sec {
			sec = q.Section
			ls = append(ls, "", sec.Title)
		}
		ls = append(ls, fmt.Sprintf("%d. %s：%s", i+1, label(q), c.summaryAnswer(q, d.Answers, d.Prev)))
	}
	ls = append(ls, "", "确认无误请点「✅ 确认提交」；要修改某一项，请点对应的「改 n」。")
	due := FormatTime(env.Deadline, c.Location)
	switch {
	case env.Now.Before(env.Deadline):
		ls = append(ls, "截止时间："+due)
	case d.Version == 0:
		ls = append(ls, "已过截止时间（"+due+"），现在提交将记为逾期提交。")
	default:
		ls = append(ls, "截止时间（"+due+"）已过，退回修改的报告仍可修改后重新提交，提交后即锁定。")
	}
	texts := packLines(ls, MaxMessageLen)
	replies := make([]Reply, len(texts))
	for i, t := range texts {
		replies[i] = Reply{Text: t}
	}
	var edits []Button
	for i, q := range path {
		edits = append(edits, Button{Text: fmt.Sprintf("改 %d", i+1), Data: data(d.Rev, verbEdit, q.ID)})
	}
	submit := "✅ 确认提交"
	if d.Version > 0 {
		submit = fmt.Sprintf("✅ 确认提交（第 %d 版）", d.Version+1)
	}
	kb := append(rows(edits, editButtonsPerRow), []Button{{Text: submit, Data: data(d.Rev, verbSubmit, "")}})
	replies[len(replies)-1].Buttons = kb
	return replies
}

// label names a question on the summary: its prompt without instructions
// after a colon ("专题报告（正式文件）：请上传…" → "专题报告（正式文件）"),
// unless what stands before the colon is too short to be a name (其中：…).
func label(q *Question) string {
	if before, _, ok := strings.Cut(q.Prompt, "："); ok && utf8.RuneCountInString(before) > 3 {
		return before
	}
	return q.Prompt
}

// summaryAnswer is one answer on the summary: shortened, or a warning.
// A number shows the unit's previous value beside it, where there was one
// (prev may be nil): 3 次（上年 2 次）.
func (c *Campaign) summaryAnswer(q *Question, answers map[string]Answer, prev *Previous) string {
	a, ok := answers[q.ID]
	if !ok {
		return "⚠️ 未填"
	}
	s := shorten(FormatAnswer(q, a), summaryTextRunes)
	if p, ok := previousNum(prev, q); ok {
		s += "（上年 " + FormatAnswer(q, Answer{Num: p}) + "）"
	}
	if c.needs(q, answers) {
		s += "（⚠️ 需修改）"
	}
	return s
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// packLines joins lines into as few texts as possible, each at most limit
// UTF-16 units, breaking between lines (and inside a line only if it alone
// is too long). Blank lines at the start of a text are dropped.
func packLines(lines []string, limit int) []string {
	var out []string
	var cur strings.Builder
	n := 0
	flush := func() {
		if t := strings.TrimRight(cur.String(), "\n"); t != "" {
			out = append(out, t)
		}
		cur.Reset()
		n = 0
	}
	add := func(l string) {
		w := utf16Len(l)
		if n > 0 && n+1+w > limit {
			flush()
		}
		if n == 0 && l == "" {
			return
		}
		if n > 0 {
			cur.WriteByte('\n')
			n++
		}
		cur.WriteString(l)
		n += w
	}
	for _, l := range lines {
		for utf16Len(l) > limit {
			// Cut the line at the limit (never inside a surrogate pair).
			k, w := 0, 0
			for i, r := range l {
				if w+utf16.RuneLen(r) > limit {
					k = i
					break
				}
				w += utf16.RuneLen(r)
			}
			add(l[:k])
			flush()
			l = l[k:]
		}
		add(l)
	}
	flush()
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

// Progress counts the answered questions among those that apply to the
// unit now, and how many apply.
func (c *Campaign) Progress(d Draft, category string) (answered, total int) {
	path := c.Path(category, d.Answers)
	for _, q := range path {
		if _, ok := d.Answers[q.ID]; ok {
			answered++
		}
	}
	return answered, len(path)
}

// StatusText tells where a unit's report stands, for /status and for the
// office: not started, 已填 n/N 题, 已提交第 k 版 (receipt, time), locked,
// or returned with the reason. deadline is the effective deadline (zero:
// the campaign's).
func (c *Campaign) StatusText(d Draft, u Unit, deadline, now time.Time) string {
	if deadline.IsZero() {
		deadline = c.Deadline
	}
	due := FormatTime(deadline, c.Location)
	past := !now.Before(deadline)
	answered, total := c.Progress(d, u.Category)
	var b strings.Builder
	b.WriteString("【" + u.Name + "】\n")
	submitted := func() {
		fmt.Fprintf(&b, "已提交第 %d 版（回执编号 %s，提交时间 %s）。", d.Version, d.Receipt, FormatTime(d.SubmittedAt, c.Location))
	}
	switch d.Status {
	case StatusNew:
		b.WriteString("尚未开始填报。")
	case StatusSubmitted:
		submitted()
	case StatusRevising:
		submitted()
		fmt.Fprintf(&b, "\n正在修改（已填 %d/%d 题），修改须重新提交才生效。", answered, total)
	case StatusReturned:
		fmt.Fprintf(&b, "第 %d 版已被退回修改，请修改后重新提交。", d.Version)
		if d.Returned != nil {
			b.WriteString("\n退回原因：" + d.Returned.Reason)
			if q := c.Question(d.Returned.Question); q != nil {
				b.WriteString("\n需修改：" + q.Prompt)
			}
		}
	default:
		if d.Cursor == "" {
			fmt.Fprintf(&b, "已填完 %d 题，尚未提交：请核对汇总后确认提交。", total)
		} else {
			fmt.Fprintf(&b, "正在填报：已填 %d/%d 题，尚未提交。", answered, total)
		}
	}
	b.WriteString("\n")
	switch {
	case lockedAt(d, deadline, now):
		fmt.Fprintf(&b, "已过截止时间（%s），报告已锁定。", due)
		if d.Status == StatusRevising {
			b.WriteString("未提交的修改不会生效。")
		}
	case d.Status == StatusSubmitted:
		fmt.Fprintf(&b, "截止时间（%s）前可以修改。", due)
	case past && d.Version == 0:
		fmt.Fprintf(&b, "已过截止时间（%s），请尽快填报提交（逾期提交）。", due)
	case past:
		fmt.Fprintf(&b, "截止时间（%s）已过，退回修改的报告仍可修改后重新提交。", due)
	default:
		fmt.Fprintf(&b, "截止时间：%s。", due)
	}
	return b.String()
}

// ReceiptNumber is the receipt of a unit's version: <prefix>-<unit id as 4
// digits>, with -<version> from version 2 on (SY-2022-0007, SY-2022-0007-2).
func (c *Campaign) ReceiptNumber(unitID int64, version int) string {
	s := fmt.Sprintf("%s-%04d", c.Receipt, unitID)
	if version > 1 {
		s += "-" + strconv.Itoa(version)
	}
	return s
}
