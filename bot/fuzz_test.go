package bot

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"reportbot/flows"
)

// Fuzz targets of what a stranger sends the bot: the webhook body, the
// update it decodes to, commands and their arguments, deep-link tokens.

const fuzzBotName = "lvliang_report_bot"

var tokenChars = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// FuzzValidToken: validToken accepts exactly 16–64 URL-safe base64
// characters, and every token NewInvite makes.
func FuzzValidToken(f *testing.F) {
	for range 3 {
		token, _, err := flows.NewInvite(1, time.Now())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(token)
	}
	for _, s := range []string{"", "abc", strings.Repeat("a", 15), strings.Repeat("a", 16), strings.Repeat("a", 64), strings.Repeat("a", 65),
		"AAAAAAAAAAAAAAAAAAAAAA==", "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰ", "aaaaaaaaaaaaaaa\u200b", "aaaaaaaaaaaaaaaa\x00", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0",
		"unit-7_invite-XYZ", "邀请邀请邀请邀请邀请邀", "../../../../etc/passwd", "a b c d e f g h i"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validToken(s), tokenChars.MatchString(s); got != want {
			t.Errorf("validToken(%q) = %v, want %v", s, got, want)
		}
	})
}

// FuzzParseCommand: a command is the text's first word without its slash
// and @bot, lower case; a command to another bot, or no command, is "".
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"/start", "/start abcdefghijklmnop", "/report@lvliang_report_bot", "/report@Lvliang_Report_Bot 1", "/report@other_bot",
		"/addunit 离石区双拥工作领导小组 县市区", "/reopen 市财政局 慰问金数额与附件不符 veteran_cash", "/deadline 2022年2月10日 18：00",
		"/rmunit\n市财政局", "/renameunit  市卫健委   市卫生健康委员会 ", "/", "//", "/@", "/@lvliang_report_bot", "/ report", "／report",
		"/REPORT", "/İmport", "/start\u200b", "/\u202ereport", "/😀", "/report\r\nx", "report", "", "\xff/", "/\xff",
	} {
		f.Add(s, fuzzBotName)
	}
	f.Add("/report@", "")
	f.Fuzz(func(t *testing.T, text, username string) {
		cmd, args := parseCommand(text, username)
		if cmd == "" {
			if args != "" {
				t.Errorf("parseCommand(%q, %q) = no command with args %q", text, username, args)
			}
			return
		}
		if !strings.HasPrefix(text, "/") {
			t.Errorf("parseCommand(%q, %q) = command %q from text without a slash", text, username, cmd)
		}
		if strings.ContainsAny(cmd, " \n@") {
			t.Errorf("parseCommand(%q, %q) = command %q with a space, line break or @", text, username, cmd)
		}
		if args != strings.TrimSpace(args) {
			t.Errorf("parseCommand(%q, %q) = args %q, not trimmed", text, username, args)
		}
	})
}

// FuzzParseUpdate: any JSON the intake decodes into models.Update (as the
// webhook does) is parsed without a panic into an update of a known kind,
// with its file if it has one.
func FuzzParseUpdate(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"王"},"text":"/start abcdefghijklmnop"}}`,
		`{"update_id":2,"message":{"message_id":1,"date":1,"chat":{"id":-100500,"type":"supergroup"},"text":"/summary@lvliang_report_bot"}}`,
		`{"update_id":3,"message":{"message_id":1,"chat":{"id":5,"type":"private"},"document":{"file_id":"x","file_unique_id":"y","file_name":"单位.csv","file_size":-1},"caption":"/import"}}`,
		`{"update_id":4,"message":{"message_id":1,"chat":{"id":5,"type":"private"},"photo":[]}}`,
		`{"update_id":5,"message":{"message_id":1,"chat":{"id":5,"type":"private"},"photo":[{"file_id":"a","file_size":1},{"file_id":"b","file_size":2}]}}`,
		`{"update_id":6,"callback_query":{"id":"q","from":{"id":5},"data":"3:opt:help_kinds.industry"}}`,
		`{"update_id":7,"callback_query":{"id":"q","from":{"id":5},"message":{"message_id":9,"date":0,"chat":{"id":5,"type":"private"}},"data":"adm:rm:1"}}`,
		`{"update_id":8,"callback_query":{"id":"q","from":{"id":5},"message":{"message_id":9,"date":1,"chat":{"id":-5,"type":"group"}},"data":"go"}}`,
		`{"update_id":9,"my_chat_member":{"chat":{"id":-100500,"type":"group"},"from":{"id":9001},"date":1,"old_chat_member":{"status":"member","user":{"id":1}},"new_chat_member":{"status":"left","user":{"id":1}}}}`,
		`{"update_id":10,"message":{"message_id":1,"chat":{"id":-1,"type":"group"},"migrate_to_chat_id":-1001}}`,
		`{"update_id":11,"edited_message":{"message_id":1,"chat":{"id":5,"type":"private"},"text":"x"}}`,
		`{"update_id":12,"message":null,"callback_query":null}`, `{}`, `null`, `[]`, `{"update_id":"1"}`, `{"update_id":1e30}`,
		`{"update_id":13,"message":{"chat":{"id":5,"type":"private"},"text":"\u0000\ud800/start"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var up models.Update
		if err := json.Unmarshal(body, &up); err != nil {
			return
		}
		u := parseUpdate(&up, fuzzBotName)
		switch u.kind {
		case "command", "document", "photo", "message", "callback", "member", "other":
		default:
			t.Errorf("parseUpdate(%s) kind = %q", body, u.kind)
		}
		if u.kind == "command" && u.cmd == "" {
			t.Errorf("parseUpdate(%s) is a command without one", body)
		}
		if f := fileOf(u.msg); f != nil && u.kind != "document" && u.kind != "photo" && u.kind != "command" {
			t.Errorf("parseUpdate(%s) has a file but kind %q", body, u.kind)
		}
		_ = chatOf(&up)
	})
}

// FuzzParseDeadline: /deadline's argument. What it accepts is a time in
// the campaign's zone, and the way the bot shows a deadline (FormatTime)
// reads back as the same time.
func FuzzParseDeadline(f *testing.F) {
	loc := flows.DefaultCampaign().Location
	for _, s := range []string{
		"2022-02-10 18:00", "2022/2/10 18:00", "2022.2.10 18:00", "2022年2月10日 18:00", "2022年2月10日18：00", "2022年2月10日  18:00",
		"２０２２-０２-１０ １８:００", "2022-02-30 18:00", "2022-02-10 24:00", "2022-02-10", "18:00", "明天 18:00", "0000-1-1 00:00",
		"9999-12-31 23:59", "2022-02-10\u200b 18:00", "2022-02-10\t18:00", "\u202e2022-02-10 18:00", "", "\xff", "1988-4-10 02:30",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDeadline(s, loc)
		if !ok {
			if !d.IsZero() {
				t.Errorf("parseDeadline(%q) = %v, false; want the zero time", s, d)
			}
			return
		}
		if d.Location() != loc {
			t.Errorf("parseDeadline(%q) = %v, not in %v", s, d, loc)
		}
		if d.Year() < 1000 {
			return // FormatTime shows the year without leading zeros
		}
		shown := flows.FormatTime(d, loc)
		if back, ok := parseDeadline(shown, loc); !ok || !back.Equal(d) {
			t.Errorf("parseDeadline(%q) = %v shown as %q, which reads back as %v (ok %v)", s, d, shown, back, ok)
		}
	})
}

// logWatch collects the lines the bot logs that mean an update went wrong.
type logWatch struct {
	mu  sync.Mutex
	bad []string
}

func (w *logWatch) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(string(p), "\n") {
		if strings.Contains(line, "panic while handling update") || strings.Contains(line, `msg="handle update"`) || strings.Contains(line, "giving up on update") {
			w.mu.Lock()
			w.bad = append(w.bad, line)
			w.mu.Unlock()
		}
	}
	return len(p), nil
}

func (w *logWatch) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	bad := w.bad
	w.bad = nil
	return bad
}

// FuzzWebhook: any body posted to the webhook with the right secret gets
// 200, 400 or 413, and its handling neither panics (the bot recovers and
// logs it) nor fails. The bot is the end-to-end harness's: a real bbolt
// store and the fake Bot API, with an admin, so that admin commands and
// buttons are parsed too.
func FuzzWebhook(f *testing.F) {
	logs := &logWatch{}
	h := newHarness(f, harnessOptions{webhook: true, logTo: logs})
	handler := h.bot.WebhookHandler()
	admin := h.admin.ID
	msg := func(id int64, from int64, text string) []byte {
		b, _ := json.Marshal(map[string]any{"update_id": id, "message": map[string]any{
			"message_id": id, "date": h.clock.Now().Unix(),
			"chat": map[string]any{"id": from, "type": "private"},
			"from": map[string]any{"id": from, "first_name": "管理员"},
			"text": text,
		}})
		return b
	}
	press := func(id int64, from int64, data string) []byte {
		b, _ := json.Marshal(map[string]any{"update_id": id, "callback_query": map[string]any{
			"id": "cb", "from": map[string]any{"id": from, "first_name": "王"}, "data": data,
			"message": map[string]any{"message_id": 3, "date": h.clock.Now().Unix(), "chat": map[string]any{"id": from, "type": "private"}},
		}})
		return b
	}
	for i, text := range []string{
		"/addunit 离石区双拥工作领导小组 县市区", "/addunit 市 教育 局 市直", "/addunit 😀 部队", "/addunit 甲乙丙", "/rmunit 市 教育 局",
		"/renameunit 离石区双拥工作领导小组 离石区双拥办", "/renameunit 不存在 新名", "/reopen 离石区双拥工作领导小组 数字有误 3",
		"/reopen 离石区双拥工作领导小组 数字有误 veteran_cash", "/reopen", "/deadline 2022年2月10日 18：00", "/deadline 明天",
		"/deadline 2021-01-01 00:00", "/invite 离石区双拥工作领导小组", "/units", "/summary", "/pending", "/remind", "/reminders off",
		"/start abcdefghijklmnop", "/start \xff", "/report", "/status", "/cancel", "12", "/help", "/nosuch", "/REPORT@lvliang_report_bot",
	} {
		f.Add(msg(int64(100+i), admin, text))
		f.Add(msg(int64(200+i), 4242, text))
	}
	for i, data := range []string{"adm:rm:1", "adm:rm:x", "adm:rm:99999999999999999999", "adm:rmno", "adm:remind:m202201201000", "adm:remind:mx", "adm:", "go", "1:submit", "\u202e"} {
		f.Add(press(int64(300+i), admin, data))
		f.Add(press(int64(400+i), 4242, data))
	}
	for _, s := range []string{"", "{", "null", "[]", `{"update_id":-1}`, `{"update_id":1,"message":{"chat":{"id":0}}}`, "\xff\xfe", strings.Repeat("[", 10000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		logs.take()
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret-hook")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("webhook(%q) answered %d %q", body, rec.Code, rec.Body.String())
		}
		for _, line := range logs.take() {
			if len(line) > 2000 || !utf8.ValidString(line) {
				line = strings.ToValidUTF8(line[:min(len(line), 2000)], "?")
			}
			t.Errorf("webhook(%q) logged: %s", body, line)
		}
	})
}
