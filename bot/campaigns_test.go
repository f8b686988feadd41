package bot

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// Campaigns over time, end to end through the fake Bot API: campaign A is
// the store's first; a unit submits; /newcampaign opens B, which names A
// as previous and renames a question (same_as); the unit submits in B with
// an outlier and confirms it; A's export is unchanged, B's has last year's
// figures; /status, /campaigns and /summary know both; a restart keeps it
// all. A second contact, mid-form in A when B opens, goes on in B; the A
// draft stays in A.

const (
	campA = "test-2022"
	campB = "test-2023"
	unitX = "离石区双拥工作领导小组"
	unitY = "孝义市双拥工作领导小组"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sheetCells reads every cell of every sheet of an XLSX workbook.
func sheetCells(t *testing.T, content []byte) map[string][][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(content))
	if err != nil {
		t.Fatalf("open export: %v", err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatalf("rows of sheet %s: %v", name, err)
		}
		out[name] = rows
	}
	return out
}

// exportOf asks the office group for /export args and returns the
// workbook's cells.
func (h *harness) exportOf(args string) map[string][][]string {
	h.t.Helper()
	m := h.sayGroup(h.member, h.group, strings.TrimSpace("/export "+args))
	if m.Document == nil {
		h.t.Fatalf("/export %s answered %q, want a document", args, m.Text)
	}
	return sheetCells(h.t.(*testing.T), m.Document.Content)
}

// submitSmall fills the small test form (troop_visits, then the
// households question of either campaign, then skips the note) and
// submits; an outlier must be asked about (with the words outlier), and is
// confirmed.
func (h *harness) submitSmall(u telegramtest.User, visits, households, outlier string) telegramtest.Message {
	h.t.Helper()
	h.say(u, "/report")
	h.say(u, visits)
	m := h.say(u, households)
	if outlier != "" {
		wantText(h.t, m, outlier)
		m = h.press(u, "确认无误")
	} else if hasButton(m, "确认无误") {
		h.t.Fatalf("%s asked to confirm an answer: %q", households, m.Text)
	}
	if hasButton(m, "跳过") {
		m = h.press(u, "跳过")
	}
	m = h.press(u, "提交")
	wantText(h.t, m, "回执编号")
	return m
}

// uploadCommand sends a file with a command as its caption.
func (h *harness) uploadCommand(u telegramtest.User, cmd, name string, content []byte) telegramtest.Message {
	h.t.Helper()
	if _, err := h.tg.Send(u, u.Chat(), telegramtest.Incoming{Document: &telegramtest.Attachment{Name: name, Content: content}, Caption: cmd}); err != nil {
		h.t.Fatal(err)
	}
	h.settle()
	return h.last(u.ID)
}

func TestCampaignsEndToEnd(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind, campaignFile: readTestdata(t, "campaign-a.yaml")})
		h.setGroup()
		x := telegramtest.User{ID: 5001, FirstName: "张"}
		y := telegramtest.User{ID: 5002, FirstName: "李"}
		h.bind(x, h.addUnit(unitX, "县市区"))
		h.bind(y, h.addUnit(unitY, "县市区"))

		receiptA := h.submitSmall(x, "2", "120", "")
		h.say(y, "/report")
		h.say(y, "7") // y is mid-form in A when B opens
		exportA := h.exportOf("")

		// A bad file, then B, then B again.
		bad := bytes.Replace(readTestdata(t, "campaign-b.yaml"), []byte("previous: test-2022"), []byte("previous: test-1999"), 1)
		m := h.uploadCommand(h.admin, "/newcampaign", "b.yaml", bad)
		wantText(t, m, "未作任何更改", "test-1999", "第 10 行")
		m = h.uploadCommand(h.admin, "/newcampaign", "b.yaml", readTestdata(t, "campaign-b.yaml"))
		wantText(t, m, "确定开启新的填报活动", campB, "2022年测试填报", "停止填报")
		if got := h.svc.Campaign().ID; got != campA {
			t.Fatalf("open campaign before the confirmation = %s, want %s", got, campA)
		}
		m = h.press(h.admin, "确认开启")
		wantText(t, m, "已开启新的填报活动", campB)
		wantText(t, h.last(h.group.ID), "已开启新的填报活动")
		m = h.uploadCommand(h.admin, "/newcampaign", "b.yaml", readTestdata(t, "campaign-b.yaml"))
		wantText(t, m, "已经存在", campB)

		// y's next input goes to B; the A draft stays in A.
		h.say(y, "/report")
		checkDraft(t, h, campA, "", unitY, func(d flows.Draft) bool { return d.Answers["troop_visits"].Num == 7 && d.Version == 0 })
		checkDraft(t, h, campB, campB, unitY, func(d flows.Draft) bool { return d.Rev > 0 && len(d.Answers) == 0 })

		// x submits in B with an outlier (2400 households, 120 last year).
		h.submitSmall(x, "3", "2400", "比上年（120 户）增加约")
		checkDraft(t, h, campB, campB, unitX, func(d flows.Draft) bool {
			return d.Prev != nil && d.Prev.Nums["troop_visits"] == 2 && d.Prev.Nums["families"] == 120
		})

		checkAll := func() {
			t.Helper()
			if got := h.exportOf(campA); !reflect.DeepEqual(got, exportA) {
				t.Errorf("/export %s after B opened differs from before:\n%v\nwant\n%v", campA, got, exportA)
			}
			checkExportB(t, h.exportOf(""), exportA)
			m := h.say(x, "/status")
			wantText(t, m, "往期填报记录", "2022年测试填报", receiptNumber(receiptA.Text))
			m = h.say(h.admin, "/campaigns")
			wantText(t, m, "共有 2 个填报活动", campA, campB, "正在填报", "已结束填报", "已提交 1 / 2")
			m = h.sayGroup(h.member, h.group, "/summary "+campA)
			wantText(t, m, "2022年测试填报")
			m = h.sayGroup(h.member, h.group, "/summary test-1999")
			wantText(t, m, "没有编号为“test-1999”", campA, campB)
		}
		checkAll()
		h.restart()
		if got := h.svc.Campaign().ID; got != campB {
			t.Fatalf("open campaign after a restart with A's file = %s, want %s", got, campB)
		}
		checkAll()
	})
}

// checkDraft checks a unit's draft in a campaign (by its store key).
func checkDraft(t *testing.T, h *harness, id, key, unit string, ok func(flows.Draft) bool) {
	t.Helper()
	ctx := context.Background()
	u, err := h.store.UnitByName(ctx, unit)
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.store.Draft(ctx, key, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ok(d) {
		t.Fatalf("draft of %s in campaign %s is not as wanted: %+v", unit, id, d)
	}
}

// receiptNumber finds the receipt number in a submission's answer.
func receiptNumber(text string) string {
	i := strings.Index(text, "TA-2022")
	if i < 0 {
		return "TA-2022"
	}
	j := i
	for j < len(text) && (text[j] == '-' || text[j] >= '0' && text[j] <= '9' || text[j] >= 'A' && text[j] <= 'Z') {
		j++
	}
	return text[i:j]
}

// checkExportB checks B's export against A's: in 汇总表, every 上年 column
// holds, for each unit, A's value of the question before it (by same_as),
// cell by cell; 与上年对比 lists the confirmed outlier.
func checkExportB(t *testing.T, b, a map[string][][]string) {
	t.Helper()
	renamed := map[string]string{"走访慰问军属家庭（户）": "走访慰问军属（户）"}
	aRows, bRows := a["汇总表"], b["汇总表"]
	aHead, bHead := headerRow(t, aRows), headerRow(t, bRows)
	compared := 0
	for col, title := range bRows[bHead] {
		if title != "上年" {
			continue
		}
		qTitle := bRows[bHead][col-1]
		if old, ok := renamed[qTitle]; ok {
			qTitle = old
		}
		aCol := slices.Index(aRows[aHead], qTitle)
		if aCol < 0 {
			t.Fatalf("A's export has no column %q: %v", qTitle, aRows[aHead])
		}
		for _, row := range bRows[bHead+1:] {
			if len(row) <= col || row[0] == "" { // subtotal rows
				continue
			}
			want := ""
			for _, ar := range aRows[aHead+1:] {
				if len(ar) > aCol && len(ar) > 1 && ar[1] == row[1] {
					want = ar[aCol]
				}
			}
			if row[col] != want {
				t.Errorf("B's 汇总表: %s, 上年 of %s = %q, want A's %q", row[1], qTitle, row[col], want)
			}
			compared++
		}
	}
	if compared != 2 {
		t.Errorf("B's 汇总表 compared %d cells with A's, want 2 (two figures of one unit): %v", compared, bRows)
	}
	found := false
	for _, row := range b["与上年对比"] {
		if len(row) >= 9 && row[1] == unitX && row[3] == "走访慰问军属家庭（户）" {
			found = row[4] == "120" && row[5] == "2400" && row[8] == "已确认"
		}
	}
	if !found {
		t.Errorf("与上年对比 lacks the confirmed outlier of %s: %v", unitX, b["与上年对比"])
	}
}

// headerRow is the index of the row of column titles (the one with 序号
// and the questions).
func headerRow(t *testing.T, rows [][]string) int {
	t.Helper()
	last := -1
	for i, r := range rows {
		if len(r) > 0 && r[0] == "序号" {
			last = i
		}
	}
	if last < 0 {
		t.Fatalf("no header row in %v", rows)
	}
	return last
}

// TestNewCampaignCancelled: /newcampaign without a file says how; 取消
// changes nothing; a contact cannot use it.
func TestNewCampaignCancelled(t *testing.T) {
	h := newHarness(t, harnessOptions{campaignFile: readTestdata(t, "campaign-a.yaml")})
	wantText(t, h.say(h.admin, "/newcampaign"), "请把新的填报活动文件", "/newcampaign")
	m := h.uploadCommand(h.admin, "/newcampaign", "b.yaml", readTestdata(t, "campaign-b.yaml"))
	wantText(t, m, "确定开启新的填报活动")
	wantText(t, h.press(h.admin, "取消"), "已取消，填报活动没有变化")
	if got := h.svc.Campaign().ID; got != campA {
		t.Fatalf("open campaign after 取消 = %s, want %s", got, campA)
	}
	list, err := h.svc.Campaigns(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("Campaigns after 取消 = %+v, %v; want A alone", list, err)
	}
	// A contact is not an admin: the command is refused.
	c := telegramtest.User{ID: 5003, FirstName: "王"}
	h.bind(c, h.addUnit(unitX, "县市区"))
	if m := h.uploadCommand(c, "/newcampaign", "b.yaml", readTestdata(t, "campaign-b.yaml")); strings.Contains(m.Text, "确定开启") {
		t.Fatalf("a contact's /newcampaign was answered %q", m.Text)
	}
}
