package telegramtest

import (
	"time"
)

// Chat types.
const (
	ChatPrivate    = "private"
	ChatGroup      = "group"
	ChatSupergroup = "supergroup"
)

// User is a Telegram user played by a test.
type User struct {
	ID           int64  `json:"id"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Chat returns the user's private chat with the bot.
func (u User) Chat() Chat { return Chat{ID: u.ID, Type: ChatPrivate} }

func (u User) wire() wireUser {
	first := u.FirstName
	if first == "" {
		first = "User"
	}
	return wireUser{ID: u.ID, FirstName: first, LastName: u.LastName, Username: u.Username, LanguageCode: u.LanguageCode}
}

// Chat identifies a chat. The zero Chat, or a Chat whose ID is the sender's
// user id, is the sender's private chat. Group ids are negative; when Type
// is empty, ids at or below -1000000000000 are supergroups and other
// negative ids basic groups.
type Chat struct {
	ID       int64  `json:"id"`
	Type     string `json:"type,omitempty"`
	Title    string `json:"title,omitempty"`
	Username string `json:"username,omitempty"`
}

// Button is an inline keyboard button. Data is its callback_data.
type Button struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

// File is a document or photo stored by the fake. Content is shared: do
// not modify it.
type File struct {
	ID       string `json:"file_id"`
	UniqueID string `json:"file_unique_id"`
	Path     string `json:"file_path"`
	Name     string `json:"file_name,omitempty"`
	MIME     string `json:"mime_type,omitempty"`
	Size     int    `json:"file_size"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
	Content  []byte `json:"-"`
}

// Message is a message as it stands now, edits applied.
type Message struct {
	MessageID int       `json:"message_id"`
	ChatID    int64     `json:"chat_id"`
	From      User      `json:"from"`
	FromBot   bool      `json:"from_bot"`
	Date      time.Time `json:"date"`
	// EditDate is zero for a message that was never edited.
	EditDate time.Time `json:"edit_date,omitzero"`
	Text     string    `json:"text,omitempty"`
	Caption  string    `json:"caption,omitempty"`
	// ParseMode is recorded as sent; the fake does not interpret it.
	ParseMode string `json:"parse_mode,omitempty"`
	// Keyboard is the inline keyboard, nil when there is none.
	Keyboard [][]Button `json:"keyboard,omitempty"`
	// ReplyKeyboard holds the button texts of a reply keyboard sent with
	// the message; RemoveKeyboard is set when it carried remove_keyboard.
	ReplyKeyboard  [][]string `json:"reply_keyboard,omitempty"`
	RemoveKeyboard bool       `json:"remove_keyboard,omitempty"`
	Document       *File      `json:"document,omitempty"`
	// Photo is the largest size of a photo.
	Photo *File `json:"photo,omitempty"`
	// Video is a video sent in an album (the fake does not model sendVideo).
	Video *File `json:"video,omitempty"`
	// MediaGroupID is shared by the messages of one album (sendMediaGroup).
	MediaGroupID string `json:"media_group_id,omitempty"`
	ReplyTo      int    `json:"reply_to,omitempty"`
	// MigrateToChatID and MigrateFromChatID are set on the service messages
	// of MigrateGroup.
	MigrateToChatID   int64 `json:"migrate_to_chat_id,omitempty"`
	MigrateFromChatID int64 `json:"migrate_from_chat_id,omitempty"`
}

// Buttons lists every button of the inline keyboard, row by row.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// Command is a bot command as set by setMyCommands.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// CommandScope selects the command list of a scope: Type is a
// BotCommandScope type ("default", "all_private_chats", "all_group_chats",
// "all_chat_administrators", "chat", "chat_administrators", "chat_member").
type CommandScope struct {
	Type   string
	ChatID int64
	UserID int64
}

// CallbackQuery is a button press made with Press and how the bot answered.
type CallbackQuery struct {
	ID         string    `json:"id"`
	UpdateID   int64     `json:"update_id"`
	From       User      `json:"from"`
	ChatID     int64     `json:"chat_id"`
	MessageID  int       `json:"message_id"`
	Data       string    `json:"data"`
	PressedAt  time.Time `json:"pressed_at"`
	Answered   bool      `json:"answered"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Text       string    `json:"text,omitempty"`
	ShowAlert  bool      `json:"show_alert,omitempty"`
	URL        string    `json:"url,omitempty"`
}

// WebhookInfo describes the webhook, if any.
type WebhookInfo struct {
	URL            string   `json:"url"`
	SecretToken    string   `json:"secret_token,omitempty"`
	MaxConnections int      `json:"max_connections,omitempty"`
	AllowedUpdates []string `json:"allowed_updates,omitempty"`
	// PendingUpdateCount counts updates not yet acknowledged.
	PendingUpdateCount int       `json:"pending_update_count"`
	LastErrorDate      time.Time `json:"last_error_date,omitzero"`
	LastErrorMessage   string    `json:"last_error_message,omitempty"`
	// Delivered counts updates acknowledged with 2xx; Failed counts failed
	// attempts, retries included.
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// Send is one accepted sending call (sendMessage, sendDocument, sendPhoto,
// editMessageText, editMessageCaption, editMessageReplyMarkup), or one
// message of an accepted sendMediaGroup: an album of N is N Sends.
type Send struct {
	Time   time.Time `json:"time"`
	ChatID int64     `json:"chat_id"`
	Method string    `json:"method"`
}

// Stats count sending calls.
type Stats struct {
	// Sends counts accepted sending calls, an album of N as N.
	Sends int `json:"sends"`
	// TooManyRequests counts 429 answers, from Limits and FailNext.
	TooManyRequests int `json:"too_many_requests"`
	// Accepted lists the accepted sending calls in order, an album of N
	// as N entries.
	Accepted []Send `json:"accepted"`
}

// Rate is the sustained rate of the accepted sends in sends per second:
// (n-1) divided by the time between the first and the last. It is 0 for
// fewer than two sends.
func (st Stats) Rate() float64 {
	n := len(st.Accepted)
	if n < 2 {
		return 0
	}
	d := st.Accepted[n-1].Time.Sub(st.Accepted[0].Time)
	if d <= 0 {
		return 0
	}
	return float64(n-1) / d.Seconds()
}

// EventKind names a change reported by Subscribe.
type EventKind string

// Event kinds.
const (
	// EventMessageSent: the bot sent a message (Message set).
	EventMessageSent EventKind = "message_sent"
	// EventMessageEdited: the bot edited a message (Message is the new state).
	EventMessageEdited EventKind = "message_edited"
	// EventMessageDeleted: a message was deleted (Message as it was).
	EventMessageDeleted EventKind = "message_deleted"
	// EventUserMessage: a simulated user sent a message (Message, UpdateID).
	EventUserMessage EventKind = "user_message"
	// EventCallbackPressed: a simulated user pressed a button (Callback).
	EventCallbackPressed EventKind = "callback_pressed"
	// EventCallbackAnswered: the bot answered a callback query (Callback).
	EventCallbackAnswered EventKind = "callback_answered"
	// EventChatAction: the bot sent a chat action such as "typing" (Action).
	EventChatAction EventKind = "chat_action"
	// EventWebhookDelivered: an update was acknowledged by the webhook.
	EventWebhookDelivered EventKind = "webhook_delivered"
)

// Event is one change of the fake's state.
type Event struct {
	Kind     EventKind      `json:"kind"`
	Time     time.Time      `json:"time"`
	ChatID   int64          `json:"chat_id,omitempty"`
	UpdateID int64          `json:"update_id,omitempty"`
	Message  *Message       `json:"message,omitempty"`
	Callback *CallbackQuery `json:"callback,omitempty"`
	Action   string         `json:"action,omitempty"`
}
