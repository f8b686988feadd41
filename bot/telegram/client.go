// Package telegram is the one place reportbot calls the Telegram Bot API.
//
// Every call is a POST of a JSON body (multipart/form-data for uploads) to
// <apiURL>/bot<token>/<method>. Every failure that got an answer is an
// *Error; Classify says what an error means for a retrying sender. No error
// returned by this package contains the token (request and file URLs do).
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// Client calls the Bot API. It is safe for concurrent use.
type Client struct {
	base    string       // <apiURL>/bot<token>/
	files   string       // <apiURL>/file/bot<token>/
	secrets []string     // the token as it may appear in a URL or a text
	httpc   *http.Client // all calls but getUpdates
	pollc   *http.Client // getUpdates: httpc without its timeout (the call's context has one)
}

// New returns a client of the Bot API at apiURL (e.g.
// "https://api.telegram.org"; a trailing slash is trimmed) with the bot's
// token, making its requests with httpc (nil: a client with a 60 s
// timeout). httpc's timeout bounds every call but getUpdates, which runs
// under its own deadline of the poll timeout plus PollGrace; give httpc's
// transport enough idle connections per host for the concurrent senders
// (MaxIdleConnsPerHost), or most sends open a new connection.
func New(apiURL, token string, httpc *http.Client) *Client {
	if httpc == nil {
		httpc = &http.Client{Timeout: 60 * time.Second}
	}
	pollc := *httpc
	pollc.Timeout = 0
	apiURL = strings.TrimRight(apiURL, "/")
	c := &Client{
		base:  apiURL + "/bot" + token + "/",
		files: apiURL + "/file/bot" + token + "/",
		httpc: httpc,
		pollc: &pollc,
	}
	if token != "" {
		c.secrets = append(c.secrets, token)
		for _, t := range []string{url.PathEscape(token), url.QueryEscape(token)} {
			if t != token {
				c.secrets = append(c.secrets, t)
			}
		}
	}
	return c
}

// PollGrace is how much longer than its poll timeout a getUpdates call
// may take before it is abandoned.
const PollGrace = 15 * time.Second

// maxAnswer caps the answer body read from the Bot API.
const maxAnswer = 64 << 20

var jsonType = []string{"application/json"}

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// post makes one request to method and reads the answer. Its errors are
// transport failures (never an *Error), cleaned of the token.
func (c *Client) post(ctx context.Context, hc *http.Client, method string, contentType []string, body []byte) (*reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+method, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, c.Redact(err))
	}
	req.Header["Content-Type"] = contentType
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, c.Redact(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("telegram %s: read answer: %w", method, c.Redact(err))
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// decode reads r as the Bot API envelope: the result into out, an error
// answer as an *Error, anything else as a bare *Error.
func decode[T any](c *Client, method string, r *reply, out *T) error {
	var a answer[T]
	err := json.Unmarshal(r.body, &a)
	switch {
	case err == nil && a.OK:
		*out = a.Result
		return nil
	case a.OK:
		// The call succeeded, but its result is not what we expect: not
		// an *Error, and Permanent (a retry would do it again).
		return fmt.Errorf("telegram %s: decode result: %w", method, err)
	case err == nil && a.ErrorCode != 0:
		return &Error{
			Method:      method,
			Code:        a.ErrorCode,
			Description: c.redactString(a.Description),
			RetryAfter:  time.Duration(a.Parameters.RetryAfter) * time.Second,
			MigrateTo:   a.Parameters.MigrateToChatID,
		}
	}
	return c.bareError(method, r)
}

// call makes a JSON call and decodes its result into out (nil: ignored).
func call[T any](ctx context.Context, c *Client, hc *http.Client, method string, body []byte, out *T) error {
	r, err := c.post(ctx, hc, method, jsonType, body)
	if err != nil {
		return err
	}
	if out == nil {
		var d discard
		return decode(c, method, r, &d)
	}
	return decode(c, method, r, out)
}

// callMessage makes a call whose result is a Message and returns its id,
// reading the usual answers without decoding them.
func (c *Client) callMessage(ctx context.Context, method string, contentType []string, body []byte) (int, error) {
	r, err := c.post(ctx, c.httpc, method, contentType, body)
	if err != nil {
		return 0, err
	}
	if r.status == http.StatusOK {
		if id, ok := fastOK(r.body); ok {
			return id, nil
		}
	}
	var m messageResult
	if err := decode(c, method, r, &m); err != nil {
		return 0, err
	}
	return m.MessageID, nil
}

// marshal encodes v as JSON for a request body (no HTML escaping).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Keyboard is an inline keyboard of callback buttons, row by row. A nil
// Keyboard sends no reply_markup; an empty non-nil one sends an empty
// keyboard (both remove a message's buttons when editing).
type Keyboard [][]Button

// Button is an inline button; Data is its callback_data (1-64 bytes).
type Button struct{ Text, Data string }

// Command is a bot command for the menu.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// GetMe returns the bot's own user (and checks the token).
func (c *Client) GetMe(ctx context.Context) (models.User, error) {
	var u models.User
	err := call(ctx, c, c.httpc, "getMe", []byte("{}"), &u)
	return u, err
}

// GetUpdates asks for the updates from offset on (0: the oldest
// unconfirmed; asking for offset confirms every update below it), waiting
// up to timeout (whole seconds) for one to arrive. limit 0 means
// Telegram's default (100); allowed nil keeps the previous list of update
// kinds (an empty non-nil list means Telegram's default kinds). The call
// runs under its own deadline of timeout plus PollGrace, whatever the
// HTTP client's timeout.
func (c *Client) GetUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int, allowed []string) ([]models.Update, error) {
	body, err := marshal(struct {
		Offset  int64    `json:"offset,omitempty"`
		Limit   int      `json:"limit,omitempty"`
		Timeout int      `json:"timeout"`
		Allowed []string `json:"allowed_updates,omitzero"`
	}{offset, limit, int(max(timeout, 0) / time.Second), allowed})
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, max(timeout, 0)+PollGrace)
	defer cancel()
	var ups []models.Update
	if err := call(ctx, c, c.pollc, "getUpdates", body, &ups); err != nil {
		return nil, err
	}
	return ups, nil
}

// SendMessage sends text with the buttons kb (nil: none) and returns the
// message's id.
func (c *Client) SendMessage(ctx context.Context, chat int64, text string, kb Keyboard) (int, error) {
	return c.callMessage(ctx, "sendMessage", jsonType, messageBody(chat, 0, true, text, kb))
}

// EditMessageText replaces a message's text and its buttons with kb (nil
// or empty: the message keeps no buttons, as on Telegram).
func (c *Client) EditMessageText(ctx context.Context, chat int64, msgID int, text string, kb Keyboard) error {
	_, err := c.callMessage(ctx, "editMessageText", jsonType, messageBody(chat, msgID, true, text, kb))
	return err
}

// EditMessageReplyMarkup replaces a message's buttons with kb; an empty
// (or nil) kb removes them.
func (c *Client) EditMessageReplyMarkup(ctx context.Context, chat int64, msgID int, kb Keyboard) error {
	_, err := c.callMessage(ctx, "editMessageReplyMarkup", jsonType, messageBody(chat, msgID, false, "", kb))
	return err
}

// AnswerCallbackQuery answers a pressed button; text is a notification
// shown to the user (empty: none).
func (c *Client) AnswerCallbackQuery(ctx context.Context, id, text string) error {
	_, err := c.callMessage(ctx, "answerCallbackQuery", jsonType, callbackBody(id, text))
	return err
}

// CommandScope selects whose command menu SetMyCommands sets (the Bot
// API's BotCommandScope). The zero value is the default scope (every chat
// without a menu of its own); ChatScope is one chat's.
type CommandScope struct {
	Type   string `json:"type"`
	ChatID int64  `json:"chat_id,omitempty"`
}

// ChatScope is the menu scope of one chat (a user's private chat or a
// group).
func ChatScope(chatID int64) CommandScope { return CommandScope{Type: "chat", ChatID: chatID} }

// commandsBody is the body of setMyCommands and deleteMyCommands.
type commandsBody struct {
	Commands *[]Command    `json:"commands,omitempty"`
	Scope    *CommandScope `json:"scope,omitempty"`
}

func newCommandsBody(scope CommandScope, cmds *[]Command) commandsBody {
	b := commandsBody{Commands: cmds}
	if scope.Type != "" {
		b.Scope = &scope
	}
	return b
}

// SetMyCommands sets the bot's command menu of a scope (default language).
func (c *Client) SetMyCommands(ctx context.Context, scope CommandScope, cmds []Command) error {
	if cmds == nil {
		cmds = []Command{}
	}
	body, err := marshal(newCommandsBody(scope, &cmds))
	if err != nil {
		return fmt.Errorf("telegram setMyCommands: %w", err)
	}
	return call[discard](ctx, c, c.httpc, "setMyCommands", body, nil)
}

// DeleteMyCommands deletes the command menu of a scope; its chats show the
// menu of the scope below (the default one) again.
func (c *Client) DeleteMyCommands(ctx context.Context, scope CommandScope) error {
	body, err := marshal(newCommandsBody(scope, nil))
	if err != nil {
		return fmt.Errorf("telegram deleteMyCommands: %w", err)
	}
	return call[discard](ctx, c, c.httpc, "deleteMyCommands", body, nil)
}

// SetWebhook makes Telegram POST updates to url with the header
// X-Telegram-Bot-Api-Secret-Token: secret (empty: none), for the update
// kinds allowed (nil: unchanged), over at most maxConn connections (0:
// Telegram's default, 40).
func (c *Client) SetWebhook(ctx context.Context, url, secret string, allowed []string, maxConn int) error {
	body, err := marshal(struct {
		URL     string   `json:"url"`
		Secret  string   `json:"secret_token,omitempty"`
		Allowed []string `json:"allowed_updates,omitzero"`
		MaxConn int      `json:"max_connections,omitempty"`
	}{url, secret, allowed, maxConn})
	if err != nil {
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	return call[discard](ctx, c, c.httpc, "setWebhook", body, nil)
}

// DeleteWebhook removes the webhook (pending updates are kept), so that
// getUpdates works again.
func (c *Client) DeleteWebhook(ctx context.Context) error {
	return call[discard](ctx, c, c.httpc, "deleteWebhook", []byte("{}"), nil)
}

// errNoFile: an InputFile with neither a file id nor data.
var errNoFile = errors.New("input file has neither a file id nor data")
