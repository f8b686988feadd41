package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	tgbot "github.com/go-telegram/bot"
)

// The hot-path calls of a form step — sendMessage, editMessageText,
// editMessageReplyMarkup, answerCallbackQuery — are sent as small JSON
// bodies encoded here by hand, over the go-telegram client's HTTP client
// (b.apic, with apiTransport). go-telegram builds a multipart form by
// reflection for every call and decodes the whole sent Message; that was
// about a fifth of the bot's CPU per step. Everything else (getMe, uploads,
// sendDocument, sendPhoto) still goes through go-telegram.
//
// Errors are the ones go-telegram returns for the same answer
// (*tgbot.TooManyRequestsError, *tgbot.MigrateError, tgbot.ErrorForbidden,
// "error response from telegram for method …, 500 …" and so on), so the
// Sender classifies them exactly as before.

// messageBody encodes the common fields of sendMessage and the edits:
// the chat, the message (msgID 0: none), the text (omitted when withText
// is false) and the buttons (none: kb nil).
func messageBody(chatID int64, msgID int, withText bool, text string, kb *inlineKeyboard) []byte {
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

// apiSendMessage sends a text message and returns its message id.
func (b *Bot) apiSendMessage(ctx context.Context, chatID int64, text string, kb *inlineKeyboard) (int, error) {
	return b.apiPost(ctx, "sendMessage", messageBody(chatID, 0, true, text, kb))
}

// apiEditMessageText replaces a message's text and buttons (none: kb nil).
func (b *Bot) apiEditMessageText(ctx context.Context, chatID int64, msgID int, text string, kb *inlineKeyboard) error {
	_, err := b.apiPost(ctx, "editMessageText", messageBody(chatID, msgID, true, text, kb))
	return err
}

// apiEditMessageReplyMarkup replaces a message's buttons.
func (b *Bot) apiEditMessageReplyMarkup(ctx context.Context, chatID int64, msgID int, kb *inlineKeyboard) error {
	_, err := b.apiPost(ctx, "editMessageReplyMarkup", messageBody(chatID, msgID, false, "", kb))
	return err
}

// apiAnswerCallbackQuery answers a pressed button (text: a notification, may be empty).
func (b *Bot) apiAnswerCallbackQuery(ctx context.Context, id, text string) error {
	body := make([]byte, 0, 48+len(id)+len(text))
	body = append(body, `{"callback_query_id":`...)
	body = appendJSONString(body, id)
	if text != "" {
		body = append(body, `,"text":`...)
		body = appendJSONString(body, text)
	}
	body = append(body, '}')
	_, err := b.apiPost(ctx, "answerCallbackQuery", body)
	return err
}

// apiAnswer is the part of a Bot API answer we read. Result keeps only the
// message id of a returned Message.
type apiAnswer struct {
	OK          bool      `json:"ok"`
	Result      apiResult `json:"result"`
	ErrorCode   int       `json:"error_code"`
	Description string    `json:"description"`
	Parameters  struct {
		RetryAfter      int `json:"retry_after"`
		MigrateToChatID int `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// apiResult is a call's result: the message id when it is a Message, 0
// when it is anything else (true for answerCallbackQuery).
type apiResult struct{ MessageID int }

func (r *apiResult) UnmarshalJSON(data []byte) error {
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

// apiPost makes one JSON call with the API HTTP client and returns the
// message id of the result (0 if it is not a Message). Its errors are shaped
// like go-telegram's (see the top of the file) and never contain the token.
func (b *Bot) apiPost(ctx context.Context, method string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.cfg.APIURL+"/bot"+b.cfg.Token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("error create request for method %s, %w", method, b.redact(err))
	}
	req.Header["Content-Type"] = apiJSONType
	resp, err := b.apic.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && b.cfg.Token != "" {
			ue.URL = strings.ReplaceAll(ue.URL, b.cfg.Token, "***")
		}
		return 0, fmt.Errorf("error do request for method %s, %w", method, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("error read response body for method %s, %w", method, err)
	}
	if id, ok := apiFastOK(data); ok {
		return id, nil
	}
	var a apiAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return 0, fmt.Errorf("error decode response body for method %s, %s, %w", method, data, err)
	}
	if !a.OK {
		return 0, apiAnswerError(method, &a)
	}
	return a.Result.MessageID, nil
}

var apiJSONType = []string{"application/json"}

// apiFastOK reads the usual success answers without decoding the rest of
// them: {"ok":true,"result":{"message_id":N,… (a sent or edited Message) and
// {"ok":true,"result":true}. Anything else (errors, other layouts) is left
// to encoding/json.
func apiFastOK(data []byte) (id int, ok bool) {
	if rest, found := bytes.CutPrefix(data, apiMessagePrefix); found {
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
	return 0, bytes.Equal(bytes.TrimSpace(data), apiTrueAnswer)
}

var (
	apiMessagePrefix = []byte(`{"ok":true,"result":{"message_id":`)
	apiTrueAnswer    = []byte(`{"ok":true,"result":true}`)
)

// apiAnswerError is the error go-telegram returns for the same answer.
func apiAnswerError(method string, a *apiAnswer) error {
	switch a.ErrorCode {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tgbot.ErrorForbidden, a.Description)
	case http.StatusBadRequest:
		if a.Parameters.MigrateToChatID != 0 {
			return &tgbot.MigrateError{
				Message:         fmt.Sprintf("%s: %s", tgbot.ErrorBadRequest, a.Description),
				MigrateToChatID: a.Parameters.MigrateToChatID,
			}
		}
		return fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, a.Description)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tgbot.ErrorUnauthorized, a.Description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tgbot.ErrorNotFound, a.Description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tgbot.ErrorConflict, a.Description)
	case http.StatusTooManyRequests:
		return &tgbot.TooManyRequestsError{
			Message:    fmt.Sprintf("%s, %s", tgbot.ErrorTooManyRequests, a.Description),
			RetryAfter: a.Parameters.RetryAfter,
		}
	default:
		return fmt.Errorf("error response from telegram for method %s, %d %s", method, a.ErrorCode, a.Description)
	}
}

// keyboardSize estimates the encoded size of kb.
func keyboardSize(kb *inlineKeyboard) int {
	if kb == nil {
		return 0
	}
	n := 24
	for _, row := range kb.InlineKeyboard {
		n += 2
		for _, btn := range row {
			n += 32 + len(btn.Text) + len(btn.CallbackData)
		}
	}
	return n
}

// appendKeyboard appends kb as JSON, as encoding/json would encode it.
func appendKeyboard(dst []byte, kb *inlineKeyboard) []byte {
	dst = append(dst, `{"inline_keyboard":[`...)
	for i, row := range kb.InlineKeyboard {
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
			dst = appendJSONString(dst, btn.CallbackData)
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
