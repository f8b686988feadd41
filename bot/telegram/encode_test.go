package telegram

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func marshalForTest(t testing.TB, v any) string {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// keyboardJSON is the InlineKeyboardMarkup that appendKeyboard encodes.
type keyboardJSON struct {
	InlineKeyboard [][]buttonJSON `json:"inline_keyboard"`
}

type buttonJSON struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

func toJSONKeyboard(kb Keyboard) keyboardJSON {
	out := keyboardJSON{InlineKeyboard: [][]buttonJSON{}}
	for _, row := range kb {
		r := []buttonJSON{}
		for _, b := range row {
			r = append(r, buttonJSON{b.Text, b.Data})
		}
		out.InlineKeyboard = append(out.InlineKeyboard, r)
	}
	return out
}

// appendJSONString and appendKeyboard encode as encoding/json does
// (without its HTML escaping).
func TestAppendJSON(t *testing.T) {
	for _, s := range []string{"", "abc", "问题 1/3", "a\"b\\c", "\x00\x01\x1f\x7f", "\n\r\t\b\f", "<>&", "😀", "\u2028\u2029", "bad \xff\xfe utf8 \xe4\xb8", "x\u00e9y"} {
		if got, want := string(appendJSONString(nil, s)), marshalForTest(t, s); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
	for _, kb := range []Keyboard{
		{{{Text: "是\"", Data: "q:1"}, {Text: "否", Data: "q:0"}}, {{Text: "<返回>", Data: "back"}}},
		{},
		{{}},
	} {
		if got, want := string(appendKeyboard(nil, kb)), marshalForTest(t, toJSONKeyboard(kb)); got != want {
			t.Errorf("appendKeyboard(%v) = %s, want %s", kb, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("问题\n\"x\"")
	f.Add("\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		if want := marshalForTest(t, s); string(got) != want {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
	})
}

// The hand-encoded bodies are the JSON encoding/json would produce for the
// same parameters.
func TestBodies(t *testing.T) {
	kb := Keyboard{{{Text: "甲", Data: "a"}}}
	tests := []struct {
		name string
		got  []byte
		want any
	}{
		{"sendMessage", messageBody(-100123, 0, true, "文本\n<b>", kb), struct {
			ChatID      int64        `json:"chat_id"`
			Text        string       `json:"text"`
			ReplyMarkup keyboardJSON `json:"reply_markup"`
		}{-100123, "文本\n<b>", toJSONKeyboard(kb)}},
		{"sendMessage without buttons", messageBody(5, 0, true, "x", nil), struct {
			ChatID int64  `json:"chat_id"`
			Text   string `json:"text"`
		}{5, "x"}},
		{"editMessageText", messageBody(5, 7, true, "y", nil), struct {
			ChatID    int64  `json:"chat_id"`
			MessageID int    `json:"message_id"`
			Text      string `json:"text"`
		}{5, 7, "y"}},
		{"editMessageReplyMarkup removing", messageBody(5, 7, false, "", Keyboard{}), struct {
			ChatID      int64        `json:"chat_id"`
			MessageID   int          `json:"message_id"`
			ReplyMarkup keyboardJSON `json:"reply_markup"`
		}{5, 7, toJSONKeyboard(Keyboard{})}},
		{"answerCallbackQuery", callbackBody("123", "已收到"), struct {
			ID   string `json:"callback_query_id"`
			Text string `json:"text"`
		}{"123", "已收到"}},
		{"answerCallbackQuery silent", callbackBody("123", ""), struct {
			ID string `json:"callback_query_id"`
		}{"123"}},
		{"sendDocument by id", fileBody(5, "document", "BQAC\"x", "说明"), struct {
			ChatID   int64  `json:"chat_id"`
			Document string `json:"document"`
			Caption  string `json:"caption"`
		}{5, "BQAC\"x", "说明"}},
		{"sendPhoto by id", fileBody(5, "photo", "AgAC", ""), struct {
			ChatID int64  `json:"chat_id"`
			Photo  string `json:"photo"`
		}{5, "AgAC"}},
	}
	for _, tt := range tests {
		if want := marshalForTest(t, tt.want); string(tt.got) != want {
			t.Errorf("%s body = %s, want %s", tt.name, tt.got, want)
		}
	}
}

// fastOK agrees with decoding the whole answer where it answers at all.
func TestFastOK(t *testing.T) {
	for _, tt := range []struct {
		body string
		id   int
		ok   bool
	}{
		{`{"ok":true,"result":{"message_id":123,"date":1,"chat":{"id":5}}}`, 123, true},
		{`{"ok":true,"result":{"message_id":7}}`, 7, true},
		{`{"ok":true,"result":{"message_id":8,"media_group_id":"1"}}`, 8, true},
		{`{"ok":true,"result":true}`, 0, true},
		{"{\"ok\":true,\"result\":true}\n", 0, true},
		{`{"ok":true,"result":{"message_id":-1}}`, 0, false},
		{`{"ok":true,"result":{"message_id":12x}}`, 0, false},
		{`{"ok":true,"result":{"message_id":`, 0, false},
		{`{"ok":true,"result":{"message_id":1234567890123456789}}`, 0, false},
		{`{"ok":true,"result":{"chat":{"id":5},"message_id":9}}`, 0, false},
		{`{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":3}}`, 0, false},
		{`{"result":true,"ok":true}`, 0, false},
	} {
		id, ok := fastOK([]byte(tt.body))
		if id != tt.id || ok != tt.ok {
			t.Errorf("fastOK(%s) = %d, %v; want %d, %v", tt.body, id, ok, tt.id, tt.ok)
		}
		if !ok {
			continue
		}
		var a answer[messageResult]
		if err := json.Unmarshal([]byte(tt.body), &a); err != nil || !a.OK || a.Result.MessageID != id {
			t.Errorf("decoding %s: %+v, %v; the fast path said %d", tt.body, a, err, id)
		}
	}
}

// The hand encoding against encoding/json, for the record (see the top of
// encode.go).
func BenchmarkMessageBody(b *testing.B) {
	text := strings.Repeat("请填写本单位本月的报表。", 8)
	kb := Keyboard{{{Text: "是", Data: "q7:yes"}, {Text: "否", Data: "q7:no"}}, {{Text: "返回上一题", Data: "back"}}}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = messageBody(-1001234567890, 0, true, text, kb)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		v := struct {
			ChatID      int64        `json:"chat_id"`
			Text        string       `json:"text"`
			ReplyMarkup keyboardJSON `json:"reply_markup"`
		}{-1001234567890, text, toJSONKeyboard(kb)}
		for b.Loop() {
			_, _ = json.Marshal(v)
		}
	})
}

func TestFileName(t *testing.T) {
	for _, tt := range []struct{ name, kind, want string }{
		{"报表.xlsx", MediaDocument, "报表.xlsx"},
		{"a\r\nContent-Type: x", MediaDocument, "a  Content-Type: x"},
		{"", MediaDocument, "document"},
		{" ", MediaPhoto, "photo.jpg"},
		{"", MediaVideo, "video.mp4"},
	} {
		if got := fileName(tt.name, tt.kind); got != tt.want {
			t.Errorf("fileName(%q, %s) = %q, want %q", tt.name, tt.kind, got, tt.want)
		}
	}
}

// Reading the usual answer without decoding the Message it carries.
func BenchmarkAnswer(b *testing.B) {
	body := []byte(`{"ok":true,"result":{"message_id":4711,"from":{"id":123456,"is_bot":true,"first_name":"填报助手","username":"report_bot"},"chat":{"id":-1001234567890,"title":"一中填报群","type":"supergroup"},"date":1772413200,"text":"请填写本单位本月的报表。","reply_markup":{"inline_keyboard":[[{"text":"是","callback_data":"q7:yes"},{"text":"否","callback_data":"q7:no"}]]}}}`)
	b.Run("fastOK", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if id, ok := fastOK(body); !ok || id != 4711 {
				b.Fatal(id, ok)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a answer[messageResult]
			if err := json.Unmarshal(body, &a); err != nil || a.Result.MessageID != 4711 {
				b.Fatal(err)
			}
		}
	})
}
