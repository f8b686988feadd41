package telegramtest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The Bot API's JSON shapes, as far as the fake produces or consumes them.

type wireUser struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

type wireMe struct {
	wireUser
	CanJoinGroups           bool `json:"can_join_groups"`
	CanReadAllGroupMessages bool `json:"can_read_all_group_messages"`
	SupportsInlineQueries   bool `json:"supports_inline_queries"`
	CanConnectToBusiness    bool `json:"can_connect_to_business"`
	HasMainWebApp           bool `json:"has_main_web_app"`
}

type wireChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
}

type wireEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
}

type wireDocument struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wirePhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wireVideo struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Duration     int    `json:"duration"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wireInlineMarkup struct {
	InlineKeyboard [][]wireButton `json:"inline_keyboard"`
}

type wireMessage struct {
	MessageID         int               `json:"message_id"`
	MediaGroupID      string            `json:"media_group_id,omitempty"`
	From              *wireUser         `json:"from,omitempty"`
	Date              int64             `json:"date"`
	Chat              wireChat          `json:"chat"`
	ReplyToMessage    *wireMessage      `json:"reply_to_message,omitempty"`
	EditDate          int64             `json:"edit_date,omitempty"`
	Text              string            `json:"text,omitempty"`
	Entities          []wireEntity      `json:"entities,omitempty"`
	Document          *wireDocument     `json:"document,omitempty"`
	Photo             []wirePhotoSize   `json:"photo,omitempty"`
	Video             *wireVideo        `json:"video,omitempty"`
	Caption           string            `json:"caption,omitempty"`
	MigrateToChatID   int64             `json:"migrate_to_chat_id,omitempty"`
	MigrateFromChatID int64             `json:"migrate_from_chat_id,omitempty"`
	ReplyMarkup       *wireInlineMarkup `json:"reply_markup,omitempty"`
}

type wireCallbackQuery struct {
	ID           string       `json:"id"`
	From         wireUser     `json:"from"`
	Message      *wireMessage `json:"message,omitempty"`
	ChatInstance string       `json:"chat_instance"`
	Data         string       `json:"data,omitempty"`
}

type wireChatMember struct {
	User      wireUser `json:"user"`
	Status    string   `json:"status"`
	UntilDate *int64   `json:"until_date,omitempty"`
}

type wireChatMemberUpdated struct {
	Chat          wireChat       `json:"chat"`
	From          wireUser       `json:"from"`
	Date          int64          `json:"date"`
	OldChatMember wireChatMember `json:"old_chat_member"`
	NewChatMember wireChatMember `json:"new_chat_member"`
}

type wireFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int    `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

type wireWebhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	IPAddress            string   `json:"ip_address,omitempty"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"`
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}

type wireBotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

type wireCopyText struct {
	Text string `json:"text"`
}

// wireButton is an inline keyboard button. Presence matters for
// callback_data (an empty one is invalid, an absent one is another kind of
// button), hence the pointers.
type wireButton struct {
	Text                         string          `json:"text"`
	URL                          string          `json:"url,omitempty"`
	CallbackData                 *string         `json:"callback_data,omitempty"`
	WebApp                       json.RawMessage `json:"web_app,omitempty"`
	LoginURL                     json.RawMessage `json:"login_url,omitempty"`
	SwitchInlineQuery            *string         `json:"switch_inline_query,omitempty"`
	SwitchInlineQueryCurrentChat *string         `json:"switch_inline_query_current_chat,omitempty"`
	SwitchInlineQueryChosenChat  json.RawMessage `json:"switch_inline_query_chosen_chat,omitempty"`
	CopyText                     *wireCopyText   `json:"copy_text,omitempty"`
	CallbackGame                 json.RawMessage `json:"callback_game,omitempty"`
	Pay                          bool            `json:"pay,omitempty"`
}

func isNullJSON(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// normalize drops fields that carry nothing, such as the empty copy_text
// go-telegram puts on every button, so that stored keyboards compare and
// echo like Telegram's.
func (b *wireButton) normalize() {
	if b.CopyText != nil && b.CopyText.Text == "" {
		b.CopyText = nil
	}
	for _, raw := range []*json.RawMessage{&b.WebApp, &b.LoginURL, &b.SwitchInlineQueryChosenChat, &b.CallbackGame} {
		if isNullJSON(*raw) {
			*raw = nil
		}
	}
}

func (b *wireButton) validate() *apiError {
	if strings.TrimSpace(b.Text) == "" {
		return errBadRequest("BUTTON_TEXT_INVALID")
	}
	kinds := 0
	if b.CallbackData != nil {
		kinds++
		if n := len(*b.CallbackData); n < 1 || n > 64 {
			return errBadRequest("BUTTON_DATA_INVALID")
		}
	}
	if b.URL != "" {
		kinds++
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tg") || (u.Scheme != "tg" && u.Host == "") {
			return errBadRequest("BUTTON_URL_INVALID")
		}
	}
	for _, present := range []bool{
		b.WebApp != nil, b.LoginURL != nil, b.SwitchInlineQuery != nil,
		b.SwitchInlineQueryCurrentChat != nil, b.SwitchInlineQueryChosenChat != nil,
		b.CopyText != nil, b.CallbackGame != nil, b.Pay,
	} {
		if present {
			kinds++
		}
	}
	if kinds == 0 {
		return errBadRequest("text buttons are unallowed in the inline keyboard")
	}
	return nil
}

// markup is a parsed reply_markup.
type markup struct {
	inline [][]wireButton // nil when there is no inline keyboard
	reply  [][]string     // texts of a reply keyboard
	remove bool           // remove_keyboard
}

// parseReplyMarkup parses and validates a reply_markup parameter (a JSON
// object in every encoding).
func parseReplyMarkup(raw string) (markup, *apiError) {
	var m markup
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return m, errBadRequest("can't parse reply keyboard markup JSON object")
	}
	if v, ok := obj["inline_keyboard"]; ok {
		var rows [][]wireButton
		if !isNullJSON(v) {
			if err := json.Unmarshal(v, &rows); err != nil {
				return m, errBadRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
			}
		}
		var kept [][]wireButton
		total := 0
		for _, row := range rows {
			if len(row) == 0 {
				continue
			}
			for i := range row {
				row[i].normalize()
				if err := row[i].validate(); err != nil {
					return m, err
				}
			}
			total += len(row)
			kept = append(kept, row)
		}
		if total > 100 {
			return m, errBadRequest("reply markup is too long")
		}
		m.inline = kept
		return m, nil
	}
	if v, ok := obj["keyboard"]; ok {
		var rows [][]json.RawMessage
		if err := json.Unmarshal(v, &rows); err != nil {
			return m, errBadRequest("can't parse keyboard button: KeyboardButton must be a String or an Object")
		}
		for _, row := range rows {
			var texts []string
			for _, cell := range row {
				var text string
				if err := json.Unmarshal(cell, &text); err != nil {
					var btn struct {
						Text string `json:"text"`
					}
					if err := json.Unmarshal(cell, &btn); err != nil {
						return m, errBadRequest("can't parse keyboard button: KeyboardButton must be a String or an Object")
					}
					text = btn.Text
				}
				if text == "" {
					return m, errBadRequest("keyboard button text is empty")
				}
				texts = append(texts, text)
			}
			if len(texts) > 0 {
				m.reply = append(m.reply, texts)
			}
		}
		return m, nil
	}
	if _, ok := obj["remove_keyboard"]; ok {
		m.remove = true
		return m, nil
	}
	if _, ok := obj["force_reply"]; ok {
		return m, nil
	}
	return m, errBadRequest("can't find field \"inline_keyboard\"")
}

// sameKeyboard reports whether two inline keyboards are identical.
func sameKeyboard(a, b [][]wireButton) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// utf16Len is the length Telegram counts: UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// checkText validates a message text like sendMessage and editMessageText.
func checkText(text string) *apiError {
	if !utf8.ValidString(text) {
		return errBadRequest("text must be encoded in UTF-8")
	}
	if strings.TrimSpace(text) == "" {
		return errBadRequest("message text is empty")
	}
	if utf16Len(text) > 4096 {
		return errBadRequest("message is too long")
	}
	return nil
}

func checkCaption(caption string) *apiError {
	if !utf8.ValidString(caption) {
		return errBadRequest("text must be encoded in UTF-8")
	}
	if utf16Len(caption) > 1024 {
		return errBadRequest("message caption is too long")
	}
	return nil
}

// commandEntities finds bot commands the way Telegram marks them: a '/'
// at the start of the text or after whitespace, then 1..64 of [A-Za-z0-9_],
// optionally "@username", ending at the end of the text or at a character
// that is not part of a word. Offsets and lengths are in UTF-16 units.
func commandEntities(text string) []wireEntity {
	var out []wireEntity
	isWord := func(c byte) bool {
		return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '/' {
			continue
		}
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(text[:i])
			if !isSpace(prev) {
				continue
			}
		}
		j := i + 1
		for j < len(text) && isWord(text[j]) {
			j++
		}
		if j == i+1 || j-i-1 > 64 {
			continue
		}
		if j < len(text) && text[j] == '@' {
			k := j + 1
			for k < len(text) && isWord(text[k]) {
				k++
			}
			if k > j+1 {
				j = k
			}
		}
		if j < len(text) && (isWord(text[j]) || text[j] == '/') {
			continue
		}
		out = append(out, wireEntity{
			Type:   "bot_command",
			Offset: utf16Len(text[:i]),
			Length: utf16Len(text[i:j]),
		})
		i = j - 1
	}
	return out
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\u00a0', '\u3000':
		return true
	}
	return false
}
