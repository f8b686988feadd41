package flows

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Typed and sent answers, good and bad, for every question type. A bad
// answer re-asks the same question, keeps the draft, and says what is wrong
// and what is expected; the texts are in testdata/golden/answers.txt.
func TestAnswers(t *testing.T) {
	county := map[string]string{"veteran_visits": "10", "hardship_people": "2"}
	tests := []struct {
		q       string // question id
		in      string // typed text (or a file, below)
		file    *File
		want    *Answer // stored answer; nil: refused
		problem string  // part of the error message
	}{
		// integer
		{q: "essays", in: "12", want: &Answer{Num: 12}},
		{q: "essays", in: "0", want: &Answer{Num: 0}},
		{q: "essays", in: "１２", want: &Answer{Num: 12}},
		{q: "essays", in: "12篇", want: &Answer{Num: 12}},
		{q: "essays", in: "12 篇", want: &Answer{Num: 12}},
		{q: "essays", in: "12次", want: &Answer{Num: 12}},
		{q: "essays", in: "12。", want: &Answer{Num: 12}},
		{q: "essays", in: "1,200", want: &Answer{Num: 1200}},
		{q: "essays", in: "无", want: &Answer{Num: 0}},
		{q: "essays", in: "abc", problem: "“abc”不是数字。请输入不小于 0 的整数（单位：篇），没有请填 0。"},
		{q: "essays", in: "-3", problem: "不能填负数"},
		{q: "essays", in: "1.5", problem: "带有小数"},
		{q: "essays", in: "1。5", problem: "带有小数"},
		{q: "essays", in: "12万", problem: "不是数字"},
		{q: "essays", in: "123456789", problem: "太大了"},
		{q: "essays", in: "99999999999999999999999", problem: "太大了"},
		{q: "essays", in: "十二", problem: "不是数字"},
		// 其中 may not exceed its total
		{q: "frontier_family_visits", in: "10", want: &Answer{Num: 10}},
		{q: "frontier_family_visits", in: "12", problem: "您填的是 12 户，而「走访慰问退役军人和其他优抚对象」只有 10 户"},
		// money
		{q: "troop_cash", in: "1.25", want: &Answer{Num: 125}},
		{q: "troop_cash", in: "3", want: &Answer{Num: 300}},
		{q: "troop_cash", in: "0.5万元", want: &Answer{Num: 50}},
		{q: "troop_cash", in: ".5", want: &Answer{Num: 50}},
		{q: "troop_cash", in: "１．２", want: &Answer{Num: 120}},
		{q: "troop_cash", in: "没有", want: &Answer{Num: 0}},
		{q: "troop_cash", in: "1.234", problem: "最多保留两位小数"},
		{q: "troop_cash", in: "-1", problem: "金额不能是负数"},
		{q: "troop_cash", in: "五万", problem: "不是有效的金额"},
		{q: "troop_cash", in: "5000元", problem: "单位是万元"},
		{q: "troop_cash", in: "20000000", problem: "太大了"},
		// text
		{q: "filler_name", in: "王晓明", want: &Answer{Text: "王晓明"}},
		{q: "filler_name", in: "王", problem: "您输入了 1 个字，本题至少需要 2 个字。请直接输入文字，2–20 个字。"},
		{q: "filler_name", in: strings.Repeat("长", 21), problem: "您输入了 21 个字，超过了本题 20 个字的上限"},
		{q: "summary_text", in: strings.Repeat("好", 1001), problem: "您输入了 1001 个字，超过了本题 1000 个字的上限"},
		// phone
		{q: "filler_phone", in: "13912345678", want: &Answer{Text: "13912345678"}},
		{q: "filler_phone", in: "139 1234 5678", want: &Answer{Text: "13912345678"}},
		{q: "filler_phone", in: "+86 139-1234-5678", want: &Answer{Text: "13912345678"}},
		{q: "filler_phone", in: "0358-8498917", want: &Answer{Text: "0358-8498917"}},
		{q: "filler_phone", in: "03588498917", want: &Answer{Text: "0358-8498917"}},
		{q: "filler_phone", in: "（0358）8498917", want: &Answer{Text: "0358-8498917"}},
		{q: "filler_phone", in: "010-62345678", want: &Answer{Text: "010-62345678"}},
		{q: "filler_phone", in: "0358-8498917转123", want: &Answer{Text: "0358-8498917转123"}},
		{q: "filler_phone", in: "0358-8498917-123", want: &Answer{Text: "0358-8498917转123"}},
		{q: "filler_phone", in: "12345", problem: "“12345”不是有效的电话号码。请输入手机号"},
		{q: "filler_phone", in: "12912345678", problem: "不是有效的电话号码"},
		{q: "filler_phone", in: "8498917", problem: "不是有效的电话号码"},
		{q: "filler_phone", in: "张三", problem: "不是有效的电话号码"},
		// multichoice typed
		{q: "hardship_kinds", in: "生活、医疗", want: &Answer{Picks: []string{"living", "medical"}}},
		{q: "hardship_kinds", in: "住房，生活", want: &Answer{Picks: []string{"living", "housing"}}},
		{q: "hardship_kinds", in: "吃饭", problem: "“吃饭”不是本题的选项"},
		{q: "hardship_kinds", in: "完成", problem: "请至少选择一项"},
		{q: "hardship_kinds", in: "、，", problem: "没有认出任何选项"},
		// document
		{q: "report_doc", file: &pdfFile, want: &Answer{Files: []File{pdfFile}}},
		{q: "report_doc", file: &docxFile, want: &Answer{Files: []File{docxFile}}},
		{q: "report_doc", file: &File{ID: "x", Name: "报告.WPS", Size: 10}, want: &Answer{Files: []File{{ID: "x", Name: "报告.WPS", Size: 10}}}},
		{q: "report_doc", file: &File{ID: "y", Name: "报告.ofd", Size: 10}, want: &Answer{Files: []File{{ID: "y", Name: "报告.ofd", Size: 10}}}},
		{q: "report_doc", file: &xlsxFile, problem: "文件“统计表.xlsx”不是可以接受的文件类型。请以文件形式发送 PDF"},
		{q: "report_doc", file: &bigPDF, problem: "文件“扫描件.pdf”太大（25.0 MB），上限为 20 MB。"},
		{q: "report_doc", in: "已经发邮件了", problem: "本题需要发送文件，不能直接输入文字。"},
		{q: "report_doc", in: "完成", problem: "还没有收到文件"},
		// photos
		{q: "photos", file: &xlsxFile, problem: "本题需要照片，收到的是文件“统计表.xlsx”"},
		{q: "photos", in: "照片在群里", problem: "本题需要发送照片，不能直接输入文字"},
		// a file to a question that is not about files
		{q: "essays", file: &pdfFile, problem: "本题不需要上传文件“专题报告.pdf”。请输入不小于 0 的整数"},
		{q: "filler_name", file: func() *File { f := photo(1); return &f }(), problem: "本题不需要上传照片"},
		// skipping a required question
		{q: "essays", in: "跳过", problem: "本题为必填题，不能跳过。"},
		{q: "highlights", in: "跳过", want: &Answer{Skipped: true}},
	}
	var golden strings.Builder
	for _, tt := range tests {
		name := tt.in
		if tt.file != nil {
			name = describeInput(Input{File: tt.file})
		}
		t.Run(tt.q+"/"+name, func(t *testing.T) {
			s := draftAt(t, countyUnit, tt.q, county)
			before := s.d
			var r Result
			if tt.file != nil {
				r = s.send(*tt.file)
			} else {
				r = s.text(tt.in)
			}
			if tt.want == nil {
				if r.Changed || s.cursor() != tt.q {
					t.Errorf("Step(%q) = question %s (changed %v), want %s again", name, s.cursor(), r.Changed, tt.q)
				}
				if !reflect.DeepEqual(s.d, before) {
					t.Errorf("Step(%q) changed the draft on a wrong answer", name)
				}
				s.wantSaid(tt.problem)
				if len(r.Replies) != 1 || len(r.Replies[0].Buttons) == 0 {
					t.Errorf("Step(%q) = %d replies, want one that re-asks with buttons", name, len(r.Replies))
				}
				fmt.Fprintf(&golden, "%s ← %s\n%s\n\n", tt.q, name, r.Replies[0].Text)
				return
			}
			if got := s.d.Answers[tt.q]; !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("Step(%q) stored %+v, want %+v; replies:\n%s", name, got, *tt.want, renderReplies(r.Replies))
			}
			if s.cursor() == tt.q {
				t.Errorf("Step(%q) = question %s, want the next one", name, s.cursor())
			}
		})
	}
	if !t.Failed() {
		checkGolden(t, "answers", golden.String())
	}
}

// Back keeps the answers and shows the current one; 保留当前答案 keeps it,
// typing a new value changes it; the first question has no 上一题; cancel
// keeps everything and /report resumes at the same question.
func TestBackKeepCancelResume(t *testing.T) {
	s := draftAt(t, countyUnit, "columns", nil)
	s.press("上一题")
	s.wantCursor("essays")
	s.wantSaid("第 3/", "当前答案：3 篇", "保留当前答案")
	s.press("保留当前答案")
	s.wantCursor("columns")
	if s.d.Answers["essays"].Num != 3 {
		t.Errorf("keep changed essays to %+v", s.d.Answers["essays"])
	}
	s.press("上一题")
	s.text("5")
	s.wantCursor("columns")
	if s.d.Answers["essays"].Num != 5 {
		t.Errorf("after back and 5, essays = %+v, want 5", s.d.Answers["essays"])
	}
	// All the way back: the first question has no 上一题.
	s.press("上一题")
	s.press("上一题")
	s.press("上一题")
	s.wantCursor("filler_name")
	for _, row := range s.last.Replies[0].Buttons {
		for _, b := range row {
			if b.Text == "上一题" {
				t.Errorf("the first question has a 上一题 button")
			}
		}
	}
	// Cancel: nothing changes; /report resumes here.
	r := s.press("取消")
	if r.Changed {
		t.Errorf("cancel changed the draft")
	}
	s.wantSaid("/report 可从第 1 题继续")
	r = s.cmd("cancel")
	if r.Changed {
		t.Errorf("/cancel changed the draft")
	}
	s.cmd("report")
	s.wantCursor("filler_name")
	s.wantSaid("第 1/", "填报人姓名", "当前答案：")
	checkGolden(t, "back-cancel", s.transcript.String())
}

// Skip exists only on optional questions; skipping one stores Skipped.
func TestSkip(t *testing.T) {
	s := draftAt(t, countyUnit, "summary_text", nil)
	if strings.Contains(renderReplies(s.last.Replies), "跳过") {
		t.Errorf("required question summary_text offers 跳过:\n%s", renderReplies(s.last.Replies))
	}
	s.text("简述")
	s.wantCursor("highlights")
	s.press("跳过")
	s.wantCursor("suggestions")
	if a := s.d.Answers["highlights"]; !a.Skipped {
		t.Errorf("highlights = %+v after 跳过, want skipped", a)
	}
	// A forged skip of a required question is refused.
	s.press("上一题")
	s.press("上一题")
	s.wantCursor("summary_text")
	r := s.do(Input{Data: fmt.Sprintf("%d:skip:summary_text", s.d.Rev)})
	if r.Changed {
		t.Errorf("skip of a required question changed the draft")
	}
	s.wantSaid("本题为必填题，不能跳过。")
}

// Buttons shown at an older revision change nothing and re-show where the
// contact is; buttons of the question the contact is still on keep working
// (photos, toggles); the go button always works.
func TestStaleButtons(t *testing.T) {
	s := draftAt(t, countyUnit, "columns", nil)
	oldBack := s.button("上一题")
	s.text("4")
	s.wantCursor("films")
	r := s.do(Input{Data: oldBack})
	if r.Changed {
		t.Errorf("a stale 上一题 changed the draft")
	}
	s.wantCursor("films")
	s.wantSaid("按钮已过期", "制播双拥公益短片")

	// Summary buttons from before an edit are stale.
	f := filledDraft(t, countyUnit, nil)
	oldSubmit := f.button("✅ 确认提交")
	oldEdit := f.button("改 3")
	f.press("改 4")
	f.text("9")
	f.wantCursor("")
	for _, data := range []string{oldSubmit, oldEdit} {
		if r := f.do(Input{Data: data}); r.Changed || r.Report != nil {
			t.Errorf("stale %s changed the draft", data)
		}
		f.wantSaid("按钮已过期", "📋 填报内容汇总")
	}
	// A second press of 确认提交 after submitting is stale, not a version 2.
	submit := f.button("✅ 确认提交")
	f.do(Input{Data: submit})
	if f.d.Version != 1 {
		t.Fatalf("submit: version %d", f.d.Version)
	}
	if r := f.do(Input{Data: submit}); r.Changed || r.Report != nil {
		t.Errorf("second submit changed the draft")
	}
	f.wantSaid("按钮已过期", "已提交第 1 版")

	// Garbage data.
	for _, data := range []string{"x", "1:", "abc:back", "5:frobnicate:x", "1:edit"} {
		if r := s.do(Input{Data: data}); r.Changed {
			t.Errorf("data %q changed the draft", data)
		}
	}
	// go works at any revision.
	s.do(Input{Data: DataGo})
	s.wantCursor("films")
	s.wantSaid("制播双拥公益短片")
	checkGolden(t, "stale", s.transcript.String()+f.transcript.String())
}

// Multichoice: option buttons toggle and redraw the keyboard in place with
// ✅ marks; 完成 stores the picks in option order; 完成 with nothing picked
// on a required question is an error; quick taps on the keyboard drawn
// before the last toggle still toggle.
func TestMultichoice(t *testing.T) {
	s := draftAt(t, militaryUnit, "help_kinds", map[string]string{"revitalization_help": "2"})
	first := s.last
	r := s.press("健康帮扶")
	if len(r.Replies) != 1 || !r.Replies[0].Edit {
		t.Fatalf("toggle = %+v, want one edit reply", r.Replies)
	}
	s.wantSaid("已选：健康帮扶")
	if s.button("✅ 健康帮扶") == "" {
		t.Errorf("no ✅ mark")
	}
	// A tap on the keyboard as first drawn (rev older) still toggles.
	s.last = first
	s.press("产业帮扶")
	s.wantSaid("已选：产业帮扶、健康帮扶")
	s.press("✅ 健康帮扶") // untick
	s.wantSaid("已选：产业帮扶")
	s.press("✅ 产业帮扶")
	s.wantSaid("已选：（无）")
	r = s.press("完成")
	if r.Changed {
		t.Errorf("完成 with nothing picked changed the draft")
	}
	s.wantSaid("请至少选择一项")
	s.wantCursor("help_kinds")
	s.press("生态帮扶")
	s.press("教育帮扶")
	s.press("完成")
	s.wantCursor("medical_people")
	if got := s.d.Answers["help_kinds"].Picks; !slices.Equal(got, []string{"education", "ecology"}) {
		t.Errorf("help_kinds = %v, want [education ecology]", got)
	}
	if s.d.Pending != nil {
		t.Errorf("pending left after 完成")
	}
	// Back: the stored picks are ticked, 完成 keeps them.
	s.press("上一题")
	s.wantSaid("已选：教育帮扶、生态帮扶")
	s.press("完成")
	s.wantCursor("medical_people")
	checkGolden(t, "multichoice", s.transcript.String())
}

// Photos: each is acknowledged; 完成 on any acknowledgement (even an older
// one) finishes; the ninth completes by itself; a repeated photo is not
// counted twice; 完成 with none on the optional question skips it.
func TestPhotos(t *testing.T) {
	s := draftAt(t, countyUnit, "photos", nil)
	s.send(photo(1))
	s.wantSaid("已收到第 1 张")
	firstAck := s.last
	s.send(photo(2))
	s.send(photo(2))
	s.wantSaid("这张照片已经收到过了（目前共 2 张）")
	s.send(photo(3))
	s.wantSaid("已收到第 3 张")
	s.last = firstAck // the contact scrolls up and presses the first 完成
	s.press("完成")
	s.wantCursor("")
	if n := len(s.d.Answers["photos"].Files); n != 3 {
		t.Errorf("photos = %d files, want 3", n)
	}
	s.wantSaid("活动照片（最多9张）：3 张")

	// Nine photos complete the question without 完成.
	s = draftAt(t, countyUnit, "photos", nil)
	for i := 1; i <= 9; i++ {
		s.send(photo(i))
	}
	s.wantCursor("")
	s.wantSaid("已收到第 9 张，已达 9 张的上限。")

	// 完成 with none: the optional question is skipped.
	s = draftAt(t, countyUnit, "photos", nil)
	s.text("完成")
	s.wantCursor("")
	if a := s.d.Answers["photos"]; !a.Skipped {
		t.Errorf("photos = %+v, want skipped", a)
	}
	// A photo sent as a file (image document) counts.
	s = draftAt(t, countyUnit, "photos", nil)
	s.send(File{ID: "img", UniqueID: "u-img", Name: "IMG_0001.JPG", MIME: "image/jpeg", Size: 3 << 20})
	s.wantSaid("已收到第 1 张")
}

// The document question takes one file, or photos of the signed pages
// finished with 完成.
func TestDocumentAsPhotos(t *testing.T) {
	s := draftAt(t, countyUnit, "report_doc", nil)
	s.send(photo(1))
	s.wantCursor("report_doc")
	s.wantSaid("已收到第 1 页照片")
	s.send(photo(2))
	s.press("完成")
	s.wantCursor("photos")
	if a := s.d.Answers["report_doc"]; len(a.Files) != 2 || !a.Files[0].Photo {
		t.Errorf("report_doc = %+v, want two photos", a)
	}
	s.press("上一题")
	s.wantSaid("当前答案：照片 2 张", "保留当前答案")
	s.send(pdfFile)
	if a := s.d.Answers["report_doc"]; len(a.Files) != 1 || a.Files[0].Name != "专题报告.pdf" {
		t.Errorf("report_doc = %+v, want the PDF replacing the photos", a)
	}
}

// Changing an answer from the summary: the question is asked with its
// current answer, and then the contact is back on the summary; answers the
// change makes irrelevant are dropped, newly applicable questions and a
// 其中 above its new total are asked first.
func TestSummaryEdits(t *testing.T) {
	s := filledDraft(t, countyUnit, map[string]string{"troop_visits": "0", "veteran_visits": "10", "frontier_family_visits": "8"})
	if _, ok := s.d.Answers["troop_cash"]; ok {
		t.Fatalf("troop_cash answered with troop_visits 0")
	}
	// A plain edit returns to the summary.
	s.press("改 3")
	s.wantCursor("essays")
	s.wantSaid("当前答案：3 篇")
	s.text("7")
	s.wantCursor("")
	s.wantSaid("3. 组织双拥主题征文：7 篇", "已保存")

	// troop_visits 0 → 3: troop_cash and troop_goods now apply and are asked.
	n := position(s.c.Path("county", s.d.Answers), s.c.Question("troop_visits")) + 1
	s.press(fmt.Sprintf("改 %d", n))
	s.wantCursor("troop_visits")
	s.text("3")
	s.wantCursor("troop_cash")
	s.wantSaid("还需要填写下面这一题")
	s.text("2")
	s.wantCursor("troop_goods")
	s.text("0.5")
	s.wantCursor("")
	s.wantSaid("慰问部队资金：2.00 万元", "慰问部队物资折价：0.50 万元")

	// troop_visits 3 → 0: the two money answers are dropped.
	n = position(s.c.Path("county", s.d.Answers), s.c.Question("troop_visits")) + 1
	s.press(fmt.Sprintf("改 %d", n))
	s.text("0")
	s.wantCursor("")
	s.wantSaid("以下 2 项不再需要填写，原答案已删除：慰问部队资金、慰问部队物资折价。")
	for _, id := range []string{"troop_cash", "troop_goods"} {
		if _, ok := s.d.Answers[id]; ok {
			t.Errorf("%s kept after troop_visits became 0", id)
		}
	}

	// veteran_visits 10 → 5: the 其中 answer 8 is now too big and asked again.
	n = position(s.c.Path("county", s.d.Answers), s.c.Question("veteran_visits")) + 1
	s.press(fmt.Sprintf("改 %d", n))
	s.text("5")
	s.wantCursor("frontier_family_visits")
	s.wantSaid("需要重新核对", "请输入 0 到 5 之间的整数")
	if strings.Contains(renderReplies(s.last.Replies), "保留当前答案") {
		t.Errorf("a 其中 above its total may be kept:\n%s", renderReplies(s.last.Replies))
	}
	r := s.do(Input{Data: fmt.Sprintf("%d:keep:frontier_family_visits", s.d.Rev)})
	if r.Changed {
		t.Errorf("keeping a 其中 above its total changed the draft")
	}
	s.wantSaid("您填的是 8 户，而「走访慰问退役军人和其他优抚对象」只有 5 户")
	s.text("5")
	s.wantCursor("")
	checkGolden(t, "summary-edits", s.transcript.String())
}

// Submitting goes first to a question that still needs an answer.
func TestSubmitAsksMissing(t *testing.T) {
	s := filledDraft(t, countyUnit, nil)
	d := s.d
	delete(d.Answers, "forums") // e.g. a campaign file that gained a question
	d.Answers = func() map[string]Answer {
		m := map[string]Answer{}
		for k, v := range s.d.Answers {
			if k != "forums" {
				m[k] = v
			}
		}
		return m
	}()
	s.d = d
	r := s.do(Input{Data: fmt.Sprintf("%d:submit", s.d.Rev)})
	if r.Report != nil {
		t.Fatalf("submitted with forums missing")
	}
	s.wantCursor("forums")
	s.wantSaid("还有题目需要填写")
	s.text("2")
	s.wantCursor("")
	s.press("✅ 确认提交")
	if s.last.Report == nil {
		t.Errorf("no report after filling the missing answer")
	}
}

// Submit, then revise before the deadline: version 2 with its own receipt;
// after the deadline the report is locked.
func TestSubmitReviseLock(t *testing.T) {
	s := filledDraft(t, countyUnit, nil)
	s.press("✅ 确认提交")
	r := s.last.Report
	if r == nil || r.Version != 1 || r.Receipt != "SY-2022-0007" {
		t.Fatalf("report = %+v, want version 1 SY-2022-0007", r)
	}
	if s.d.Status != StatusSubmitted || s.d.Version != 1 || s.d.Receipt != r.Receipt || s.d.Cursor != "" || !s.d.SubmittedAt.Equal(beforeDeadline) {
		t.Errorf("draft after submit = %+v", s.d)
	}
	s.wantSaid("回执编号：SY-2022-0007", "2022年2月10日 18:00")
	for _, q := range s.c.Path("county", s.d.Answers) {
		if _, ok := r.Answers[q.ID]; !ok {
			t.Errorf("report lacks %s", q.ID)
		}
	}
	if _, ok := r.Answers["local_projects"]; ok {
		t.Errorf("report has a military answer")
	}

	// Typing after submitting: the status and 修改报告.
	s.text("你好")
	s.wantSaid("已提交第 1 版", "修改报告")
	s.cmd("status")
	s.wantSaid("已提交第 1 版（回执编号 SY-2022-0007，提交时间 2022年2月3日 10:15）", "前可以修改")
	s.cmd("report")
	s.wantSaid("已提交第 1 版", "修改报告")
	s.press("修改报告")
	if s.d.Status != StatusRevising || s.d.Cursor != "" {
		t.Fatalf("after 修改报告 status %q cursor %q", s.d.Status, s.d.Cursor)
	}
	s.wantSaid("正在修改已提交的第 1 版")
	s.button("✅ 确认提交（第 2 版）")
	s.press("改 3")
	s.text("11")
	s.press("✅ 确认提交")
	r = s.last.Report
	if r == nil || r.Version != 2 || r.Receipt != "SY-2022-0007-2" || r.Answers["essays"].Num != 11 {
		t.Fatalf("revised report = %+v, want version 2 SY-2022-0007-2 with essays 11", r)
	}
	s.wantSaid("第 2 版提交成功", "SY-2022-0007-2")

	// After the deadline: locked, whatever is tried.
	s.at(afterDeadline)
	for _, in := range []Input{{Cmd: "report"}, {Text: "12"}, {Data: DataGo}, {Data: fmt.Sprintf("%d:revise", s.d.Rev)}, {File: &pdfFile}} {
		if r := s.do(in); r.Changed {
			t.Errorf("Step(%s) after the deadline changed a submitted report", describeInput(in))
		}
		s.wantSaid("已过截止时间", "报告已锁定", "0358-8498917")
	}
	s.cmd("status")
	s.wantSaid("已提交第 2 版", "报告已锁定")
	checkGolden(t, "submit-revise-lock", s.transcript.String())
}

// A revision begun before the deadline cannot be submitted after it.
func TestRevisingLockedAtDeadline(t *testing.T) {
	s := filledDraft(t, countyUnit, nil)
	s.press("✅ 确认提交")
	s.cmd("report")
	s.press("修改报告")
	submit := s.button("✅ 确认提交")
	s.at(afterDeadline)
	if r := s.do(Input{Data: submit}); r.Changed || r.Report != nil {
		t.Errorf("submitting a revision after the deadline changed the draft")
	}
	s.wantSaid("报告已锁定", "未提交的修改不会生效")
}

// A unit that never submitted may still fill in and submit after the
// deadline; it is told the submission is late.
func TestLateFirstSubmission(t *testing.T) {
	s := newSession(t, countyUnit, afterDeadline)
	s.text("你好")
	s.wantSaid("已过截止时间", "开始填报")
	s.press("开始填报")
	s.wantSaid("已过截止时间（2022年2月10日 18:00），仍可填报提交，将记为逾期提交。", "第 1/")
	s.fill(nil)
	s.wantSaid("现在提交将记为逾期提交")
	s.press("✅ 确认提交")
	if s.last.Report == nil || s.last.Report.Receipt != "SY-2022-0007" {
		t.Fatalf("late submit: report %+v", s.last.Report)
	}
	s.wantSaid("已提交（逾期提交）", "报告提交后即锁定")
	s.cmd("report")
	s.wantSaid("报告已锁定")
	checkGolden(t, "late", s.transcript.String())
}

// The office returns a report for correction: the contact lands on the
// flagged question, told why, returns to the summary after it, and may
// resubmit even after the deadline; then it is locked again.
func TestReturnForCorrection(t *testing.T) {
	s := filledDraft(t, countyUnit, nil)
	c := s.c
	if _, err := c.Return(s.d, "原因", "", 9, beforeDeadline); err == nil {
		t.Errorf("Return of a report never submitted: no error")
	}
	s.press("✅ 确认提交")
	if _, err := c.Return(s.d, "原因", "no_such_question", 9, beforeDeadline); err == nil {
		t.Errorf("Return with an unknown question: no error")
	}
	if _, err := c.Return(s.d, "  ", "", 9, beforeDeadline); err == nil {
		t.Errorf("Return without a reason: no error")
	}
	d, err := c.Return(s.d, "慰问金数额与财政拨付不符，请核实。", "veteran_cash", 9, afterDeadline)
	if err != nil {
		t.Fatal(err)
	}
	if d.Rev != s.d.Rev+1 || d.Status != StatusReturned || d.Cursor != "veteran_cash" || !d.Editing || d.Returned == nil || d.Returned.By != 9 {
		t.Fatalf("Return = %+v", d)
	}
	s.d = d
	s.at(afterDeadline)
	s.cmd("status")
	s.wantSaid("第 1 版已被退回修改", "慰问金数额与财政拨付不符", "需修改：发放慰问金")
	s.cmd("report")
	s.wantCursor("veteran_cash")
	s.wantSaid("已被退回修改", "退回原因：慰问金数额与财政拨付不符，请核实。", "发放慰问金", "当前答案：1.25 万元")
	s.text("2.4")
	s.wantCursor("")
	s.wantSaid("退回修改原因", "发放慰问金：2.40 万元")
	s.press("✅ 确认提交")
	r := s.last.Report
	if r == nil || r.Version != 2 || r.Receipt != "SY-2022-0007-2" {
		t.Fatalf("resubmission = %+v", r)
	}
	if s.d.Returned != nil || s.d.Status != StatusSubmitted {
		t.Errorf("after resubmission: %+v", s.d)
	}
	s.wantSaid("第 2 版提交成功", "报告提交后即锁定")
	s.cmd("report")
	s.wantSaid("报告已锁定")

	// Returned to the summary (no flagged question).
	d, err = c.Return(s.d, "请补充活动照片。", "", 9, afterDeadline)
	if err != nil {
		t.Fatal(err)
	}
	s.d = d
	s.cmd("report")
	s.wantCursor("")
	s.wantSaid("请补充活动照片。", "📋 填报内容汇总")
	checkGolden(t, "returned", s.transcript.String())
}

// Inputs before starting, unknown commands, and /status of each state.
func TestNotStartedAndStatus(t *testing.T) {
	s := newSession(t, countyUnit, beforeDeadline)
	for _, in := range []Input{{Text: "你好"}, {File: &pdfFile}, {Cmd: "cancel"}, {Data: "3:back:essays"}, {Cmd: "frobnicate"}} {
		if r := s.do(in); r.Changed {
			t.Errorf("Step(%s) before starting changed the draft", describeInput(in))
		}
	}
	s.cmd("status")
	s.wantSaid("尚未开始填报", "截止时间：2022年2月10日 18:00")
	s.cmd("report")
	if s.d.Status != StatusFilling || s.d.Cursor != "filler_name" || !s.d.StartedAt.Equal(beforeDeadline) {
		t.Errorf("after /report: %+v", s.d)
	}
	s.text("王晓明")
	s.cmd("status")
	s.wantSaid("正在填报：已填 1/26 题")
	checkGolden(t, "not-started", s.transcript.String())
}

// At the summary, typed text and files are answered with a hint, not taken
// as answers.
func TestInputAtSummary(t *testing.T) {
	s := filledDraft(t, countyUnit, nil)
	for _, in := range []Input{{Text: "好了"}, {File: &pdfFile}} {
		if r := s.do(in); r.Changed {
			t.Errorf("Step(%s) at the summary changed the draft", describeInput(in))
		}
		s.wantSaid("所有题目已填完")
	}
	s.press("查看汇总")
	s.wantSaid("📋 填报内容汇总")
	s.cmd("cancel")
	s.wantSaid("还没有提交")
}

// A draft at the summary of a full county form stays small.
func TestDraftSize(t *testing.T) {
	s := filledDraft(t, countyUnit, map[string]string{"summary_text": strings.Repeat("开展走访慰问活动，", 20)})
	b, err := json.Marshal(s.d)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 2048 {
		t.Errorf("draft at the summary is %d bytes, want ≤ 2048:\n%s", len(b), b)
	}
	t.Logf("draft at the summary: %d bytes", len(b))
}

// Callback data fits Telegram's 64 bytes even for long ids and a huge
// revision.
func TestCallbackDataFits(t *testing.T) {
	c := DefaultCampaign()
	q := &Question{ID: strings.Repeat("q", 32)}
	for _, rev := range []int64{0, 9_999_999_999, 1 << 62} {
		d := optData(rev, q, strings.Repeat("o", 16))
		if len(d) > maxDataLen {
			t.Errorf("optData at rev %d = %d bytes", rev, len(d))
		}
		cb, ok := parseCallback(d)
		if !ok || cb.arg != strings.Repeat("o", 16) || cb.rev != rev {
			t.Errorf("parseCallback(%q) = %+v, %v", d, cb, ok)
		}
		if d := data(rev, verbEdit, strings.Repeat("q", 32)); len(d) > maxDataLen {
			t.Errorf("edit data at rev %d = %d bytes", rev, len(d))
		}
	}
	for _, q := range c.Questions() {
		for _, o := range q.Options {
			if d := optData(9_999_999_999, q, o.ID); !strings.Contains(d, q.ID+".") {
				t.Errorf("optData(%s, %s) = %q, want the question id in it", q.ID, o.ID, d)
			}
		}
	}
}

// A choice question (the default form has none): buttons or the typed
// label; a `when` on a choice; min/max of an integer.
func TestChoiceAndBounds(t *testing.T) {
	c, err := ParseCampaign([]byte(`
id: t
title: 测试
deadline: "2022-02-10 18:00"
categories: [{id: county, name: 县}]
sections:
  - id: s
    title: 一、测试
    questions:
      - id: kind
        prompt: 活动形式
        type: choice
        required: true
        options: [{id: online, label: 线上}, {id: offline, label: 线下}]
      - {id: venue, prompt: 活动地点, type: text, required: true, when: "kind = offline"}
      - {id: people, prompt: 参加人数, unit: 人, type: integer, required: true, min: 1, max: 500}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, Unit{ID: 3, Name: "测试单位", Category: "county"}, beforeDeadline)
	s.c = c
	s.cmd("report")
	s.wantCursor("kind")
	s.text("线")
	s.wantSaid("“线”不是本题的选项。请点选下面的一个选项")
	s.press("线下")
	s.wantCursor("venue")
	s.text("市民广场")
	s.wantCursor("people")
	s.wantSaid("请输入 1 到 500 之间的整数（单位：人）。")
	if strings.Contains(s.lastText(), "没有请填 0") {
		t.Errorf("a question with min 1 says 没有请填 0")
	}
	s.text("0")
	s.wantSaid("本题不能小于 1 人（收到 0 人）。")
	s.text("501")
	s.wantSaid("本题不能大于 500 人（收到 501 人）。")
	s.press("上一题")
	s.press("上一题")
	s.wantCursor("kind")
	s.button("✅ 线下")
	s.text("线上") // typed label
	s.wantCursor("people")
	if _, ok := s.d.Answers["venue"]; ok || s.d.Answers["kind"].Text != "online" {
		t.Errorf("after 线上: answers %+v, want kind online and no venue", s.d.Answers)
	}
	s.wantSaid("以下 1 项不再需要填写，原答案已删除：活动地点。")
	s.text("20人")
	s.wantCursor("")
	s.wantSaid("1. 活动形式：线上", "2. 参加人数：20 人")
	checkGolden(t, "choice", s.transcript.String())
}
