package telegram

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The hot-path calls of a form step — sendMessage, editMessageText,
// editMessageReplyMarkup, answerCallbackQuery — are small JSON bodies
// encoded here by hand, and their usual success answers are read by
// fastOK without decoding the sent Message. Building a form by reflection
// for every call and decoding the whole Message (what go-telegram does)
// was about a fifth of the bot's CPU per step.

// messageBody encodes the common fields of sendMessage and the edits: the
// chat, the message (msgID 0: none), the text (omitted when withText is
// false) and the buttons (no reply_markup when kb is nil).
func messageBody(chatID int64, msgID int, withText bool, text string, kb Keyboard) []byte {
	body := make([]byte, 0, 80+len(text)+keyboardSize(kb))
	body = append(body, `{"chat_id":`...)
	body = strconv.AppendInt(body, chatID, 10)
	if msgID != 0 {
		body = append(body, `,"message_id":`...)
		body = strconv.AppendInt(body, int64(msgID), 10)
	}
	if withText {
		body = append(body, `,"text":`...)
		body = appendJSONString(body, text)
	}
	if kb != nil {
		body = append(body, `,"reply_markup":`...)
		body = appendKeyboard(body, kb)
	}
	return append(body, '}')
}

// callbackBody encodes answerCallbackQuery (text: a notification, omitted
// when empty).
func callbackBody(id, text string) []byte {
	body := make([]byte, 0, 48+len(id)+len(text))
	body = append(body, `{"callback_query_id":`...)
	body = appendJSONString(body, id)
	if text != "" {
		body = append(body, `,"text":`...)
		body = appendJSONString(body, text)
	}
	return append(body, '}')
}

// fileBody encodes sendDocument or sendPhoto of a file Telegram already has.
func fileBody(chatID int64, field, fileID, caption string) []byte {
	body := make([]byte, 0, 64+len(fileID)+len(caption))
	body = append(body, `{"chat_id":`...)
	body = strconv.AppendInt(body, chatID, 10)
	body = append(body, `,"`...)
	body = append(body, field...)
	body = append(body, `":`...)
	body = appendJSONString(body, fileID)
	if caption != "" {
		body = append(body, `,"caption":`...)
		body = appendJSONString(body, caption)
	}
	return append(body, '}')
}

// keyboardSize estimates the encoded size of kb.
func keyboardSize(kb Keyboard) int {
	if kb == nil {
		return 0
	}
	n := 24
	for _, row := range kb {
		n += 2
		for _, btn := range row {
			n += 32 + len(btn.Text) + len(btn.Data)
		}
	}
	return n
}

// appendKeyboard appends kb as an InlineKeyboardMarkup of callback
// buttons, byte for byte as encoding/json would encode
// {"inline_keyboard":[[{"text":…,"callback_data":…}]]} (without its HTML
// escaping). An empty kb is {"inline_keyboard":[]}.
func appendKeyboard(dst []byte, kb Keyboard) []byte {
	dst = append(dst, `{"inline_keyboard":[`...)
	for i, row := range kb {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j, btn := range row {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"text":`...)
			dst = appendJSONString(dst, btn.Text)
			dst = append(dst, `,"callback_data":`...)
			dst = appendJSONString(dst, btn.Data)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, "]}"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Like encoding/json it
// escapes control characters, '"', '\\', U+2028 and U+2029, and replaces
// invalid UTF-8 with U+FFFD; unlike it, it leaves '<', '>' and '&' as
// they are (JSON does not require escaping them).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// fastOK reads the usual success answers without decoding the rest of
// them: {"ok":true,"result":{"message_id":N,… (a sent or edited Message)
// and {"ok":true,"result":true}. Anything else (errors, other layouts) is
// left to encoding/json.
func fastOK(data []byte) (id int, ok bool) {
	if rest, found := bytes.CutPrefix(data, messagePrefix); found {
		i := 0
		for i < len(rest) && i < 18 && '0' <= rest[i] && rest[i] <= '9' {
			id = id*10 + int(rest[i]-'0')
			i++
		}
		if i > 0 && i < len(rest) && (rest[i] == ',' || rest[i] == '}') {
			return id, true
		}
		return 0, false
	}
	return 0, bytes.Equal(bytes.TrimSpace(data), trueAnswer)
}

var (
	messagePrefix = []byte(`{"ok":true,"result":{"message_id":`)
	trueAnswer    = []byte(`{"ok":true,"result":true}`)
)

// answer is the Bot API envelope with the result decoded as T.
type answer[T any] struct {
	OK          bool   `json:"ok"`
	Result      T      `json:"result"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// messageResult is a result of which only the message id is read: the id
// of a Message, 0 for anything else (true, for an edit of an inline
// message).
type messageResult struct{ MessageID int }

func (r *messageResult) UnmarshalJSON(data []byte) error {
	if len(data) == 0 || data[0] != '{' {
		return nil
	}
	var m struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	r.MessageID = m.MessageID
	return nil
}

// discard is a result nobody reads (true, mostly).
type discard struct{}

func (*discard) UnmarshalJSON([]byte) error { return nil }
