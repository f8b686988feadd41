package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"reportbot/flows"
)

// chromiumPath finds Debian's chromium. Without it the browser test fails
// on CI and is skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium is not installed: run ./test.sh (it installs Debian's chromium), or apt-get install chromium"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestInBrowser drives the demo page in headless Chromium with two
// tabs: a unit's contact fills in the real form through the page's buttons,
// text box and file picker and submits; the office group's tab shows the
// post; /export there yields an XLSX, downloaded through the page's link.
// Screenshots of both tabs go to the test's artifact folder (kept with
// go test -artifacts).
func TestInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	r := mustStart(t)
	contactKey := r.personKey(t, "离石区双拥工作领导小组")

	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	contactTab, closeContact := chromedp.NewContext(allocCtx)
	defer closeContact()

	open := func(tab context.Context, key string) {
		t.Helper()
		if err := chromedp.Do(tab,
			chromedp.Navigate(r.url+"/?as="+key),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"] #messages`)),
		); err != nil {
			t.Fatalf("open the page as %s: %v", key, err)
		}
	}
	// Any uncaught JavaScript error on the page fails the test.
	var jsMu sync.Mutex
	var jsErrors []string
	watch := func(tab context.Context) {
		err := chromedp.Listen(tab, func(ev any) {
			if e, ok := ev.(*runtime.EventExceptionThrown); ok {
				msg := e.ExceptionDetails.Text
				if ex := e.ExceptionDetails.Exception; ex != nil {
					msg += " " + ex.Description
				}
				jsMu.Lock()
				jsErrors = append(jsErrors, msg)
				jsMu.Unlock()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		jsMu.Lock()
		defer jsMu.Unlock()
		for _, e := range jsErrors {
			t.Errorf("JavaScript error on the page: %s", e)
		}
	}()
	watch(contactTab)
	open(contactTab, contactKey) // starts the browser
	// A second tab of the same browser (the browser must run first).
	officeTab, closeOffice := chromedp.NewContext(contactTab)
	defer closeOffice()
	watch(officeTab)
	open(officeTab, "office")

	b := &pageDriver{t: t, camp: r.camp}
	pdf := filepath.Join(t.TempDir(), "离石区双拥工作专题报告.pdf")
	if err := os.WriteFile(pdf, samplePDF("离石区"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.fillForm(contactTab, pdf)
	b.waitText(contactTab, ".msg.bot", "SY-2022-0001")

	// The office tab receives the post.
	b.waitText(officeTab, ".msg.bot", "离石区双拥工作领导小组")
	b.waitText(officeTab, ".msg.bot", "新提交")

	// /export in the office tab: an XLSX document, downloaded by its link.
	b.send(officeTab, "/export")
	dir := t.TempDir()
	xlsx := chromedp.CSS(`#messages .msg.bot a.file-link[download$=".xlsx"]`)
	if err := chromedp.Do(officeTab, chromedp.WaitVisible(xlsx)); err != nil {
		t.Fatalf("/export gave no XLSX document in the office tab: %v\n%s", err, b.lastTexts(officeTab))
	}
	href, err := chromedp.Run(officeTab, chromedp.AttributeValue(xlsx, "href"))
	if err != nil || strings.Contains(href.Value, r.tg.Token()) || !strings.HasPrefix(href.Value, "/api/file/") {
		t.Errorf("the download link %q (%v) is not the page's proxy", href.Value, err)
	}
	events := true
	if _, err := chromedp.CallBrowser(officeTab, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	progress := chromedp.BrowserEvents(officeTab, browser.DownloadProgress) // subscribed before the click
	if err := chromedp.Do(officeTab, chromedp.Click(xlsx)); err != nil {
		t.Fatal(err)
	}
	guid := ""
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the XLSX download did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the XLSX download was cancelled")
		}
	}
	f, err := excelize.OpenFile(filepath.Join(dir, guid))
	if err != nil {
		t.Fatalf("the downloaded export is not an XLSX file: %v", err)
	}
	defer f.Close()
	found := false
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		for _, row := range rows {
			found = found || strings.Contains(strings.Join(row, "|"), "离石区双拥工作领导小组")
		}
	}
	if !found {
		t.Errorf("the export (sheets %v) does not list 离石区双拥工作领导小组", f.GetSheetList())
	}
	// Last year beside this year: the demo's campaign names last year's,
	// so the export compares (上年, 增减%, 与上年对比) and /summary too.
	header := ""
	if rows, err := f.GetRows("汇总表"); err == nil {
		for _, row := range rows[:min(len(rows), 6)] {
			header += strings.Join(row, "|")
		}
	}
	if !strings.Contains(header, "上年") || !strings.Contains(header, "增减%") {
		t.Errorf("the export's 汇总表 has no 上年/增减%% columns: %q", header)
	}
	if idx, err := f.GetSheetIndex("与上年对比"); err != nil || idx < 0 {
		t.Errorf("the export has no sheet 与上年对比 (sheets %v)", f.GetSheetList())
	}
	b.send(officeTab, "/summary")
	b.waitText(officeTab, ".msg.bot", "上年同单位")

	// Both tabs, in front, once the page has caught up: the contact's
	// header and the people list show the unit as submitted.
	out := t.ArtifactDir()
	for _, shot := range []struct {
		name string
		tab  context.Context
	}{{"demo-office.png", officeTab}, {"demo-contact.png", contactTab}} {
		tab := shot.tab
		if _, err := chromedp.Call(tab, page.BringToFront, cdp.Empty{}); err != nil {
			t.Fatalf("bring the tab to front: %v", err)
		}
		caughtUp := `!document.querySelector('.toast') && [...document.querySelectorAll('#people .person')].some(p => p.textContent.includes('离石区') && p.textContent.includes('已提交第 1 版'))`
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](caughtUp, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Errorf("%s: the people list does not show 离石区 as submitted: %v", shot.name, err)
		}
		if tab == contactTab {
			if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.querySelector('#iam').textContent.includes('已提交第 1 版')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
				t.Errorf("the contact's header does not say 已提交第 1 版: %v", err)
			}
		}
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(out, shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", out)
}

// pageDriver acts on the demo page like a person.
type pageDriver struct {
	t    *testing.T
	camp *flows.Campaign
}

// lastBot is the newest bot message on the page.
type lastBot struct {
	ID      int      `json:"id"`
	Text    string   `json:"text"`
	Buttons []string `json:"buttons"`
}

const lastBotJS = `(() => {
	const ms = document.querySelectorAll('#messages .msg.bot');
	const m = ms[ms.length - 1];
	if (!m) return null;
	const t = m.querySelector('.text');
	return {id: Number(m.dataset.id), text: t ? t.textContent : '', buttons: [...m.querySelectorAll('.kb button')].map(b => b.textContent)};
})()`

func (b *pageDriver) last(tab context.Context) *lastBot {
	b.t.Helper()
	m, err := chromedp.Run(tab, chromedp.Evaluate[*lastBot](lastBotJS))
	if err != nil {
		b.t.Fatalf("read the page: %v", err)
	}
	return m
}

// send types text into the page's text box and presses 发送.
func (b *pageDriver) send(tab context.Context, text string) {
	b.t.Helper()
	if err := chromedp.Do(tab,
		chromedp.SetValue(chromedp.CSS("#text"), text),
		chromedp.Click(chromedp.CSS("#send")),
	); err != nil {
		b.t.Fatalf("send %q: %v", text, err)
	}
}

// press clicks the newest inline button whose label starts with label.
func (b *pageDriver) press(tab context.Context, label string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
		const ms = [...document.querySelectorAll('#messages .msg.bot')];
		for (let i = ms.length - 1; i >= 0; i--) {
			for (const b of ms[i].querySelectorAll('.kb button')) {
				if (b.textContent.startsWith(%s)) { b.click(); return true; }
			}
		}
		return false;
	})()`, jsString(label))
	if ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](js)); err != nil || !ok {
		b.t.Fatalf("press %q: no such button (%v)\n%s", label, err, b.lastTexts(tab))
	}
}

// upload picks a file with the page's 📎 file input.
func (b *pageDriver) upload(tab context.Context, path string) {
	b.t.Helper()
	if err := chromedp.Do(tab, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path})); err != nil {
		b.t.Fatalf("upload %s: %v", path, err)
	}
}

// waitText waits for an element matching sel whose text contains substr.
func (b *pageDriver) waitText(tab context.Context, sel, substr string) {
	b.t.Helper()
	js := fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.textContent.includes(%s))`, jsString("#messages "+sel), jsString(substr))
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		b.t.Fatalf("waiting for %q on the page: %v\n%s", substr, err, b.lastTexts(tab))
	}
}

// lastTexts describes the newest messages on the page, for failures.
func (b *pageDriver) lastTexts(tab context.Context) string {
	texts, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#messages .msg')].slice(-4).map(m => m.innerText)`))
	return "latest messages on the page:\n" + strings.Join(texts, "\n---\n")
}

func jsString(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}

var pageQuestion = regexp.MustCompile(`第 \d+/\d+ 题 · [^\n]+\n([^\n]+)`)

// question tells which question a bot message asks.
func (b *pageDriver) question(text string) *flows.Question {
	m := pageQuestion.FindStringSubmatch(text)
	if m == nil {
		return nil
	}
	for _, q := range b.camp.Questions() {
		if strings.HasPrefix(m[1], q.Title()) {
			return q
		}
	}
	return nil
}

// fillForm walks the contact's form from the greeting to the receipt: the
// answers go through the text box, the buttons and the file picker, one
// step each time the bot's newest message changes.
func (b *pageDriver) fillForm(tab context.Context, pdf string) {
	b.t.Helper()
	seen := ""
	for step := 0; step < 120; step++ {
		var m *lastBot
		deadline := time.Now().Add(10 * time.Second)
		for {
			m = b.last(tab)
			if m != nil && fmt.Sprint(m.ID, m.Text, m.Buttons) != seen {
				break
			}
			if time.Now().After(deadline) {
				b.t.Fatalf("step %d: the bot did not answer\n%s", step, b.lastTexts(tab))
			}
			time.Sleep(40 * time.Millisecond)
		}
		seen = fmt.Sprint(m.ID, m.Text, m.Buttons)
		has := func(label string) bool {
			for _, t := range m.Buttons {
				if strings.HasPrefix(t, label) {
					return true
				}
			}
			return false
		}
		q := b.question(m.Text)
		switch {
		case strings.Contains(m.Text, "回执编号"):
			return
		case has("✅ 确认提交"):
			b.press(tab, "✅ 确认提交")
		case has("开始填报"):
			b.press(tab, "开始填报")
		case q == nil || len(m.Buttons) == 0:
			// Not a question (a note before the next one), or one already
			// answered (its keyboard removed, the next not here yet): wait.
		case q.Type == flows.TypeMultiChoice && has("✅"):
			b.press(tab, "完成")
		case q.Type == flows.TypeMultiChoice || q.Type == flows.TypeChoice:
			b.press(tab, q.Options[0].Label)
		case q.Type == flows.TypeDocument:
			b.upload(tab, pdf)
		case !q.Required:
			b.press(tab, "跳过")
		case q.Type == flows.TypeInteger:
			b.send(tab, "2")
		case q.Type == flows.TypeMoney:
			b.send(tab, "1.5")
		case q.Type == flows.TypePhone:
			b.send(tab, "0358-8498917")
		case q.ID == "filler_name":
			b.send(tab, "王晓明")
		default:
			b.send(tab, "春节期间走访慰问驻地部队和优抚对象，开展双拥宣传。")
		}
	}
	b.t.Fatalf("the form did not end in a receipt\n%s", b.lastTexts(tab))
}
