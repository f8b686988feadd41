package flows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ErrNotSubmitted: the report has no submitted version yet (Return).
var ErrNotSubmitted = errors.New("report not submitted")

// Step applies one input to a unit's draft. It does no I/O; the caller
// stores Result.Draft (when Changed) atomically, with Result.Report if set.
//
// Input is read in this order: Cmd, then Data (a pressed button), then
// File, then Text. A user error (a wrong answer) changes nothing and
// re-asks the same question saying what is wrong and what is expected.
// env.Deadline zero means the campaign's deadline.
func (c *Campaign) Step(d Draft, env Env, in Input) Result {
	return c.stepWith(d, env, func(s *step) { s.run(in) })
}

// stepWith runs one step: run applies the input to s, a working copy of d.
func (c *Campaign) stepWith(d Draft, env Env, run func(s *step)) Result {
	if env.Deadline.IsZero() {
		env.Deadline = c.Deadline
	}
	s := &step{c: c, env: env, cat: env.Unit.Category, d: d}
	s.d.Answers = maps.Clone(d.Answers)
	run(s)
	if !s.changed {
		return Result{Draft: d, Replies: s.replies}
	}
	s.d.UpdatedAt = env.Now
	return Result{Draft: s.d, Changed: true, Replies: s.replies, Report: s.report}
}

// step is one application of an input. d is a working copy of the draft:
// its Answers map is a copy, and Answer values and Pending are replaced,
// never modified in place, so the caller's draft is untouched.
type step struct {
	c       *Campaign
	env     Env
	cat     string
	d       Draft
	changed bool
	replies []Reply
	report  *Report
}

// touch marks the draft changed. It moves Rev on at the first change, so
// every button rendered afterwards names the new revision; a step renders
// only after it has made its changes.
func (s *step) touch() {
	if !s.changed {
		s.changed = true
		s.d.Rev++
	}
}

func (s *step) say(rs ...Reply) { s.replies = append(s.replies, rs...) }

func (s *step) sayText(text string, kb ...[]Button) {
	s.say(Reply{Text: text, Buttons: kb})
}

func inProgress(d Draft) bool {
	switch d.Status {
	case StatusFilling, StatusRevising, StatusReturned:
		return true
	}
	return false
}

// lockedAt: a submitted report cannot be changed from the deadline on,
// unless the office returned it for correction.
func lockedAt(d Draft, deadline, now time.Time) bool {
	return d.Version > 0 && d.Status != StatusReturned && !now.Before(deadline)
}

func (s *step) locked() bool { return lockedAt(s.d, s.env.Deadline, s.env.Now) }

func (s *step) due() string { return FormatTime(s.env.Deadline, s.c.Location) }

func (s *step) path() []*Question { return s.c.Path(s.cat, s.d.Answers) }

// cursor is the question the contact is on, or nil at the summary.
func (s *step) cursor() *Question {
	if s.d.Cursor == "" {
		return nil
	}
	return s.c.Question(s.d.Cursor)
}

func (s *step) run(in Input) {
	switch {
	case in.Cmd != "":
		s.command(strings.TrimPrefix(in.Cmd, "/"))
	case in.Data != "":
		s.button(in.Data)
	case in.File != nil:
		if s.ready() {
			s.file(s.cursor(), *in.File)
		}
	default:
		if s.ready() {
			s.text(s.cursor(), strings.TrimSpace(in.Text))
		}
	}
}

// ready reports whether the draft is at a question or the summary and may
// change; otherwise it has told the contact why not and what to do.
func (s *step) ready() bool {
	switch {
	case s.d.Status == StatusNew:
		s.say(s.notStarted("您还没有开始填报。"))
	case s.locked():
		s.sayLocked()
	case !inProgress(s.d):
		s.submittedView("您的报告已经提交。")
	case s.repair():
		s.show("")
	case s.d.Cursor == "":
		s.sayText("所有题目已填完。请核对汇总后点「✅ 确认提交」，或点「改 n」修改某一项。",
			[]Button{{Text: "✅ 确认提交", Data: data(s.d.Rev, verbSubmit, "")}, {Text: "查看汇总", Data: data(s.d.Rev, verbSum, "")}})
	default:
		return true
	}
	return false
}

// repair moves a cursor that names a question which no longer applies (the
// campaign file or the unit's category changed) to the first question that
// needs an answer, or to the summary. It reports whether it moved it.
func (s *step) repair() bool {
	if s.d.Cursor == "" {
		return false
	}
	if q := s.cursor(); q != nil && s.c.Applies(q, s.cat, s.d.Answers) {
		return false
	}
	s.moveTo(s.firstNeeded(), true)
	return true
}

func (s *step) command(cmd string) {
	switch cmd {
	case "report":
		s.resume()
	case "cancel":
		s.cancel()
	case "status":
		s.say(Reply{Text: s.c.StatusText(s.d, s.env.Unit, s.env.Deadline, s.env.Now), Buttons: s.statusButtons()})
	default:
		s.sayText("没有这个命令。可用的命令：/report 填报或修改报告，/status 查看填报进度，/cancel 暂停填报（已填内容会保存）。")
	}
}

// statusButtons offer the next thing to do under /status.
func (s *step) statusButtons() [][]Button {
	switch {
	case s.locked():
		return nil
	case s.d.Status == StatusNew:
		return [][]Button{{{Text: "开始填报", Data: DataGo}}}
	case s.d.Status == StatusSubmitted:
		return [][]Button{{{Text: "修改报告", Data: data(s.d.Rev, verbRevise, "")}}}
	}
	return [][]Button{{{Text: "继续填报", Data: DataGo}}}
}

// resume is /report: start, continue where the contact stopped, or show
// the submitted report.
func (s *step) resume() {
	switch {
	case s.locked():
		s.sayLocked()
	case s.d.Status == StatusNew:
		s.start()
	case !inProgress(s.d):
		s.submittedView("")
	default:
		s.repair()
		note := ""
		if s.d.Status == StatusReturned && s.d.Returned != nil {
			note = s.returnedNote()
		}
		s.show(note)
	}
}

func (s *step) start() {
	path := s.path()
	if len(path) == 0 {
		s.sayText("本单位没有需要填报的题目，请联系" + s.c.Office + "核对单位类别。")
		return
	}
	s.touch()
	s.d.Status = StatusFilling
	s.d.StartedAt = s.env.Now
	if s.d.UnitID == 0 {
		s.d.UnitID = s.env.Unit.ID
	}
	s.moveTo(path[0], false)
	title := "《" + s.c.Title + "》"
	if s.c.Notice != "" {
		title += "（" + s.c.Notice + "）"
	}
	intro := fmt.Sprintf("开始填报%s，单位：%s。\n共约 %d 题，逐题回答即可。随时可以发送 /cancel 暂停，已填内容会自动保存，发送 /report 继续。",
		title, s.env.Unit.Name, len(path))
	if s.env.Now.Before(s.env.Deadline) {
		intro += "\n截止时间：" + s.due() + "。"
	} else {
		intro += "\n已过截止时间（" + s.due() + "），仍可填报提交，将记为逾期提交。"
	}
	s.ask(path[0], intro)
}

// show shows where the contact is: the question, or the summary.
func (s *step) show(note string) {
	if q := s.cursor(); q != nil {
		s.ask(q, note)
		return
	}
	s.say(s.c.summaryReplies(s.d, s.env, note)...)
}

// view re-shows where the unit's report stands, whatever its status.
func (s *step) view() {
	switch {
	case s.d.Status == StatusNew:
		s.say(s.notStarted(""))
	case s.locked():
		s.sayLocked()
	case !inProgress(s.d):
		s.submittedView("")
	default:
		s.show("")
	}
}

// View returns the messages that show a contact where the unit's report
// stands now (what a stale button or /report without changes would show):
// the greeting with 开始填报, the current question, the summary, or the
// submitted report's status.
func (c *Campaign) View(d Draft, env Env) []Reply {
	if env.Deadline.IsZero() {
		env.Deadline = c.Deadline
	}
	s := &step{c: c, env: env, cat: env.Unit.Category, d: d}
	s.view()
	return s.replies
}

func (s *step) ask(q *Question, note string) {
	s.say(s.c.questionReply(s.d, s.cat, q, note, ""))
}

// reask re-asks q after a user error; the draft does not change.
func (s *step) reask(q *Question, problem string) {
	s.say(s.c.questionReply(s.d, s.cat, q, "", problem))
}

func (s *step) notStarted(note string) Reply {
	t := note + "请点「开始填报」或发送 /report 开始填报《" + s.c.Title + "》。"
	if s.env.Now.Before(s.env.Deadline) {
		t += "\n截止时间：" + s.due() + "。"
	} else {
		t += "\n已过截止时间（" + s.due() + "），仍可填报提交，将记为逾期提交。"
	}
	return Reply{Text: t, Buttons: [][]Button{{{Text: "开始填报", Data: DataGo}}}}
}

func (s *step) submittedView(note string) {
	t := note + fmt.Sprintf("已提交第 %d 版，回执编号 %s，提交时间 %s。\n截止时间（%s）前可以修改：点「修改报告」，改完重新提交即为第 %d 版。",
		s.d.Version, s.d.Receipt, FormatTime(s.d.SubmittedAt, s.c.Location), s.due(), s.d.Version+1)
	s.sayText(t, []Button{{Text: "修改报告", Data: data(s.d.Rev, verbRevise, "")}})
}

func (s *step) sayLocked() {
	t := fmt.Sprintf("已过截止时间（%s），报告已锁定，不能再修改。\n已提交的第 %d 版有效，回执编号 %s。", s.due(), s.d.Version, s.d.Receipt)
	if s.d.Status == StatusRevising {
		t += "未提交的修改不会生效。"
	}
	s.sayText(t + "\n如确需修改，请联系" + s.c.Office + "。")
}

func (s *step) returnedNote() string {
	t := fmt.Sprintf("⚠️ 您提交的第 %d 版报告已被退回修改。\n退回原因：%s\n", s.d.Version, s.d.Returned.Reason)
	if s.cursor() != nil {
		return t + "请修改下面这一题，改完后回到汇总页重新提交。"
	}
	return t + "请核对修改后重新提交。"
}

func (s *step) cancel() {
	resume := [][]Button{{{Text: "继续填报", Data: DataGo}}}
	switch {
	case s.d.Status == StatusNew:
		s.say(s.notStarted("您还没有开始填报，没有需要暂停的内容。"))
	case !inProgress(s.d) || s.locked():
		s.sayText("当前没有正在进行的填报。发送 /status 可查看报告状态。")
	case s.cursor() != nil:
		n := position(s.path(), s.cursor()) + 1
		s.sayText(fmt.Sprintf("已暂停。已填的内容都已保存，发送 /report 可从第 %d 题继续。\n截止时间：%s。", n, s.due()), resume...)
	default:
		s.sayText("已暂停。所有答案都已保存，但还没有提交；发送 /report 回到汇总页确认提交。\n截止时间："+s.due()+"。", resume...)
	}
}

// button handles a pressed inline button.
func (s *step) button(raw string) {
	if raw == DataGo {
		s.resume()
		return
	}
	cb, ok := parseCallback(raw)
	switch {
	case !ok:
		s.stale("无法识别这个按钮，请按下面最新的消息操作。")
		return
	case cb.verb == verbCancel:
		s.cancel() // changes nothing, so never stale
		return
	case s.locked():
		s.sayLocked()
		return
	}
	q := s.cursor()
	// A button of the question the contact is on keeps working after the
	// draft moved on within it, except 确认无误 and 重新填写: they are
	// about one answer, and a newer one may be waiting.
	current := inProgress(s.d) && q != nil && cb.qid == q.ID && cb.verb != verbSure && cb.verb != verbRedo
	if cb.rev != s.d.Rev && !current {
		s.stale("")
		return
	}
	switch cb.verb {
	case verbRevise:
		s.revise()
	case verbSubmit, verbEdit, verbSum:
		if !inProgress(s.d) || q != nil {
			s.stale("")
			return
		}
		switch cb.verb {
		case verbSubmit:
			s.submit()
		case verbEdit:
			s.edit(cb.arg)
		default:
			s.show("")
		}
	default:
		if !inProgress(s.d) || q == nil || (cb.qid != "" && cb.qid != q.ID) {
			s.stale("")
			return
		}
		s.questionButton(q, cb)
	}
}

func (s *step) questionButton(q *Question, cb callback) {
	switch cb.verb {
	case verbBack:
		s.back(q)
	case verbSkip:
		s.skip(q)
	case verbKeep:
		s.keep(q)
	case verbDone:
		s.done(q)
	case verbOpt:
		s.option(q, cb.arg)
	case verbSure:
		s.sure(q)
	case verbRedo:
		s.redo(q)
	}
}

// stale tells that a button is outdated and shows where things stand.
func (s *step) stale(note string) {
	if note == "" {
		note = "这个按钮已过期（填报内容已有更新），请按下面最新的消息操作。"
	}
	s.sayText(note)
	s.view()
}

// moveTo puts the cursor on q (nil: the summary).
func (s *step) moveTo(q *Question, editing bool) {
	s.touch()
	s.d.Pending = nil
	if q == nil {
		s.d.Cursor, s.d.Editing = "", false
		return
	}
	s.d.Cursor, s.d.Editing = q.ID, editing
}

// text answers q with typed text.
func (s *step) text(q *Question, t string) {
	if t == "" {
		s.reask(q, "没有收到内容。")
		return
	}
	if t == "跳过" {
		s.skip(q)
		return
	}
	switch q.Type {
	case TypeMultiChoice:
		if t == "完成" {
			s.done(q)
			return
		}
	case TypeDocument, TypePhotos:
		if t == "完成" {
			s.done(q)
			return
		}
		what := "文件"
		if q.Type == TypePhotos {
			what = "照片"
		}
		s.reask(q, "本题需要发送"+what+"，不能直接输入文字。")
		return
	}
	a, problem := s.c.parseAnswer(q, s.d.Answers, t)
	if problem != "" {
		s.reask(q, problem)
		return
	}
	if s.needsConfirming(q, a) {
		s.holdForConfirming(q, a)
		return
	}
	s.answer(q, a, "")
}

// file answers q with an uploaded file or photo.
func (s *step) file(q *Question, f File) {
	if q.Type != TypeDocument && q.Type != TypePhotos {
		s.reask(q, "本题不需要上传"+describeFile(f)+"。")
		return
	}
	if f.Size > MaxFileSize {
		s.reask(q, fmt.Sprintf("%s太大（%s），上限为 20 MB。", describeFile(f), formatSize(f.Size)))
		return
	}
	image := isImage(f)
	if q.Type == TypeDocument && !image {
		if !isDocument(f) {
			s.reask(q, describeFile(f)+"不是可以接受的文件类型。")
			return
		}
		s.answer(q, Answer{Files: []File{storedFile(f)}}, "已收到"+describeFile(f)+"。")
		return
	}
	if !image {
		s.reask(q, "本题需要照片，收到的是"+describeFile(f)+"。")
		return
	}
	files := pendingFiles(s.d, q)
	for _, g := range files {
		if f.UniqueID != "" && g.UniqueID == f.UniqueID {
			s.sayText(fmt.Sprintf("这张照片已经收到过了（目前共 %d 张）。", len(files)), s.doneRow(q, len(files)))
			return
		}
	}
	// Full slice expression: append copies, so the caller's Pending is untouched.
	files = append(files[:len(files):len(files)], storedFile(f))
	limit := photoLimit(q)
	if len(files) >= limit {
		s.answer(q, Answer{Files: files}, fmt.Sprintf("已收到第 %d 张，已达 %d 张的上限。", len(files), limit))
		return
	}
	s.touch()
	s.d.Pending = &Answer{Files: files}
	msg := fmt.Sprintf("已收到第 %d 张（最多 %d 张）。可以继续发送，发完请点「完成」。", len(files), limit)
	if q.Type == TypeDocument {
		msg = fmt.Sprintf("已收到第 %d 页照片。文件有多页请逐页继续发送，发完请点「完成」。", len(files))
	}
	s.sayText(msg, s.doneRow(q, len(files)))
}

func (s *step) doneRow(q *Question, n int) []Button {
	return []Button{{Text: fmt.Sprintf("完成（共 %d 张）", n), Data: data(s.d.Rev, verbDone, q.ID)}}
}

// answer stores the answer to q and moves on; ack is said first. An
// outlier answer the contact confirmed before stays confirmed when it is
// given again unchanged (needsConfirming let it through).
func (s *step) answer(q *Question, a Answer, ack string) {
	old, ok := s.d.Answers[q.ID]
	same := ok && q.IsNumber() && !old.Skipped && !a.Skipped && old.Num == a.Num
	s.store(q, a, ack, same && slices.Contains(s.d.Confirmed, q.ID))
}

// store stores the answer to q, marks it confirmed (an outlier the contact
// confirmed) or not, and moves on; ack is said first.
func (s *step) store(q *Question, a Answer, ack string, confirmed bool) {
	s.touch()
	if s.d.Answers == nil {
		s.d.Answers = map[string]Answer{}
	}
	s.d.Answers[q.ID] = a
	s.d.Pending = nil
	s.setConfirmed(q.ID, confirmed)
	s.advance(q, ack, s.prune())
}

// prune drops the answers of questions that no longer apply because of a
// changed answer (their `when` no longer holds) and returns their prompts.
// Answers of questions outside the unit's category are left alone: they can
// only come from a category change, which an admin may undo.
func (s *step) prune() []string {
	var dropped []string
	for _, q := range s.c.Questions() {
		if _, ok := s.d.Answers[q.ID]; ok && q.ForCategory(s.cat) && !s.c.Applies(q, s.cat, s.d.Answers) {
			delete(s.d.Answers, q.ID)
			s.setConfirmed(q.ID, false)
			dropped = append(dropped, q.Prompt)
		}
	}
	return dropped
}

// needs reports whether q must still be answered before submitting: no
// answer, a required one skipped or empty, or a number out of range (a 其中
// larger than its total after the total was changed).
func (c *Campaign) needs(q *Question, answers map[string]Answer) bool {
	a, ok := answers[q.ID]
	switch {
	case !ok:
		return true
	case a.Skipped:
		return q.Required
	case q.IsNumber():
		return c.checkNumber(q, answers, a.Num) != ""
	case q.Type == TypeMultiChoice:
		return q.Required && len(a.Picks) == 0
	case q.Type == TypeDocument || q.Type == TypePhotos:
		return q.Required && len(a.Files) == 0
	}
	return false
}

func (s *step) firstNeeded() *Question {
	for _, q := range s.path() {
		if s.c.needs(q, s.d.Answers) {
			return q
		}
	}
	return nil
}

// advance moves on from q, which was just answered (or kept). Filling in,
// that is the next question that applies; when changing an answer (from the
// summary, or a returned report), the first question that still needs an
// answer (one the change made applicable, or a 其中 now above its total),
// else the summary.
func (s *step) advance(q *Question, ack string, dropped []string) {
	var notes []string
	if ack != "" {
		notes = append(notes, ack)
	}
	if len(dropped) > 0 {
		notes = append(notes, fmt.Sprintf("根据您的修改，以下 %d 项不再需要填写，原答案已删除：%s。", len(dropped), strings.Join(dropped, "、")))
	}
	path := s.path()
	wasEditing := s.d.Editing
	editing := wasEditing
	var next *Question
	if !editing {
		if i := position(path, q); i >= 0 && i+1 < len(path) {
			next = path[i+1]
		}
	}
	if next == nil {
		next = s.firstNeeded()
		if next != nil && next != q && editing {
			if _, ok := s.d.Answers[next.ID]; ok {
				notes = append(notes, "根据您的修改，下面这一题的答案需要重新核对。")
			} else {
				notes = append(notes, "根据您的修改，还需要填写下面这一题。")
			}
		}
		editing = true
	}
	note := strings.Join(notes, "\n")
	if next == nil {
		s.moveTo(nil, false)
		if wasEditing || s.d.Version > 0 {
			note = strings.TrimSpace(note + "\n已保存。")
		}
		s.say(s.c.summaryReplies(s.d, s.env, note)...)
		return
	}
	s.moveTo(next, editing)
	s.ask(next, note)
}

func (s *step) back(q *Question) {
	path := s.path()
	i := position(path, q)
	if i <= 0 {
		s.reask(q, "已经是第一题了。")
		return
	}
	s.moveTo(path[i-1], s.d.Editing)
	s.ask(path[i-1], "")
}

func (s *step) skip(q *Question) {
	if q.Required {
		s.reask(q, "本题为必填题，不能跳过。")
		return
	}
	s.answer(q, Answer{Skipped: true}, "")
}

// keep keeps q's current answer (after 上一题, an edit, or a return).
func (s *step) keep(q *Question) {
	if _, ok := s.d.Answers[q.ID]; !ok {
		s.reask(q, "本题还没有答案。")
		return
	}
	if s.c.needs(q, s.d.Answers) {
		problem := "当前答案不符合要求，请重新填写。"
		if a := s.d.Answers[q.ID]; q.IsNumber() && !a.Skipped {
			problem = s.c.checkNumber(q, s.d.Answers, a.Num)
		}
		s.reask(q, problem)
		return
	}
	s.touch() // the cursor moves
	s.advance(q, "", nil)
}

// option handles an option button: choose it (choice) or toggle it
// (multichoice, the keyboard is redrawn in place).
func (s *step) option(q *Question, id string) {
	if q.option(id) == nil {
		s.stale("")
		return
	}
	switch q.Type {
	case TypeChoice:
		s.answer(q, Answer{Text: id}, "")
	case TypeMultiChoice:
		ticked := map[string]bool{}
		for _, p := range picks(s.d, q) {
			ticked[p] = true
		}
		ticked[id] = !ticked[id]
		s.touch()
		s.d.Pending = &Answer{Picks: orderedPicks(q, ticked)}
		r := s.c.questionReply(s.d, s.cat, q, "", "")
		r.Edit = true
		s.say(r)
	default:
		s.stale("")
	}
}

// done finishes a multichoice question or the photos (pages) sent so far.
func (s *step) done(q *Question) {
	switch q.Type {
	case TypeMultiChoice:
		p := picks(s.d, q)
		switch {
		case len(p) > 0:
			s.answer(q, Answer{Picks: p}, "")
		case q.Required:
			s.reask(q, "还没有选择任何一项，请至少选择一项，再点「完成」。")
		default:
			s.answer(q, Answer{Skipped: true}, "")
		}
	case TypeDocument, TypePhotos:
		files := pendingFiles(s.d, q)
		_, answered := s.d.Answers[q.ID]
		switch {
		case len(files) > 0:
			s.answer(q, Answer{Files: files}, fmt.Sprintf("已保存 %d 张。", len(files)))
		case answered:
			s.keep(q)
		case q.Type == TypePhotos && q.Required:
			s.reask(q, "还没有收到照片。")
		case q.Required:
			s.reask(q, "还没有收到文件。")
		default:
			s.answer(q, Answer{Skipped: true}, "")
		}
	default:
		s.stale("")
	}
}

// edit, from the summary, asks q again; after it the contact returns to
// the summary.
func (s *step) edit(id string) {
	q := s.c.Question(id)
	if q == nil || !s.c.Applies(q, s.cat, s.d.Answers) {
		s.stale("")
		return
	}
	s.moveTo(q, true)
	s.ask(q, "")
}

// submit submits the draft as the next version, if nothing is missing.
func (s *step) submit() {
	if q := s.firstNeeded(); q != nil {
		s.moveTo(q, true)
		s.ask(q, "还有题目需要填写，请先完成这一题，然后回到汇总页提交。")
		return
	}
	late := s.d.Version == 0 && !s.env.Now.Before(s.env.Deadline)
	answers := map[string]Answer{}
	for _, q := range s.path() {
		answers[q.ID] = s.d.Answers[q.ID]
	}
	version := s.d.Version + 1
	unitID := s.env.Unit.ID
	receipt := s.c.ReceiptNumber(unitID, version)
	s.report = &Report{
		UnitID: unitID, Version: version, Receipt: receipt,
		SubmittedAt: s.env.Now, SubmittedBy: s.env.UserID, Answers: answers,
		Outliers: s.c.confirmedOutliers(s.d.Confirmed, answers),
	}
	s.moveTo(nil, false)
	s.d.Status = StatusSubmitted
	s.d.Version = version
	s.d.Receipt = receipt
	s.d.SubmittedAt = s.env.Now
	s.d.Returned = nil
	s.d.Answers = maps.Clone(answers)
	s.d.Confirmed = s.report.Outliers
	if s.d.UnitID == 0 {
		s.d.UnitID = unitID
	}

	var b strings.Builder
	switch {
	case late:
		b.WriteString("✅ 已提交（逾期提交）。\n")
	case version > 1:
		fmt.Fprintf(&b, "✅ 第 %d 版提交成功！\n", version)
	default:
		b.WriteString("✅ 提交成功！\n")
	}
	fmt.Fprintf(&b, "回执编号：%s\n提交时间：%s\n\n", receipt, FormatTime(s.env.Now, s.c.Location))
	if s.env.Now.Before(s.env.Deadline) {
		fmt.Fprintf(&b, "截止时间（%s）前如需修改，发送 /report 后点「修改报告」，改完重新提交即为第 %d 版。", s.due(), version+1)
	} else {
		fmt.Fprintf(&b, "已过截止时间（%s），报告提交后即锁定；如需修改，请联系%s。", s.due(), s.c.Office)
	}
	s.sayText(b.String())
}

// revise opens a submitted report for changes, at the summary.
func (s *step) revise() {
	if s.d.Status != StatusSubmitted {
		s.view()
		return
	}
	s.moveTo(nil, false)
	s.d.Status = StatusRevising
	s.say(s.c.summaryReplies(s.d, s.env, fmt.Sprintf("修改报告：点「改 n」修改对应的题目，改完后点「✅ 确认提交」，即为第 %d 版。提交修改前，已提交的第 %d 版仍然有效。", s.d.Version+1, s.d.Version))...)
}

// Return returns a submitted report to its unit for correction (退回修改):
// the draft's status becomes returned with the reason, and the cursor is on
// the flagged question (changed as from the summary) or, with questionID
// "", on the summary. The report may be corrected and resubmitted even
// after the deadline. Like Step, it moves Rev on and sets UpdatedAt; the
// caller stores the draft.
func (c *Campaign) Return(d Draft, reason, questionID string, by int64, now time.Time) (Draft, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case d.Version == 0:
		return d, fmt.Errorf("return report of unit %d: %w", d.UnitID, ErrNotSubmitted)
	case reason == "":
		return d, fmt.Errorf("return report of unit %d: empty reason", d.UnitID)
	case questionID != "" && c.Question(questionID) == nil:
		return d, fmt.Errorf("return report of unit %d: question %q: %w", d.UnitID, questionID, ErrNotFound)
	}
	d.Status = StatusReturned
	d.Returned = &Return{Reason: reason, Question: questionID, By: by, At: now}
	d.Cursor, d.Editing, d.Pending = questionID, questionID != "", nil
	d.Rev++
	d.UpdatedAt = now
	return d, nil
}
