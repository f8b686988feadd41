package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a failed Bot API call that got an answer: every error answer of
// the Bot API ({"ok":false,"error_code":…}), and an HTTP answer that is not
// the Bot API's JSON envelope at all (a proxy's 502 page; Code is then the
// HTTP status). Network failures are not Errors: they stay the standard
// library's (*url.Error, net.Error, io.ErrUnexpectedEOF, context errors).
type Error struct {
	Method      string        // the Bot API method, or "download" for a file download
	Code        int           // error_code, or the HTTP status of an answer that is not the envelope
	Description string        // Telegram's description, e.g. "Bad Request: chat not found"
	RetryAfter  time.Duration // parameters.retry_after of a 429 (or a proxy's Retry-After)
	MigrateTo   int64         // parameters.migrate_to_chat_id: the group is now this supergroup

	// bare: the answer was not the Bot API envelope, so Code is only the
	// HTTP status some proxy chose (a 403 from a proxy is not a user who
	// blocked the bot).
	bare bool
}

func (e *Error) Error() string {
	desc := e.Description
	if desc == "" {
		desc = http.StatusText(e.Code)
	}
	return "telegram " + e.Method + ": " + strconv.Itoa(e.Code) + " " + desc
}

// IsNotModified reports whether err is Telegram's 400 "message is not
// modified": an edit to what the message already shows. Callers treat it
// as success.
func IsNotModified(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.bare && e.Code == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(e.Description), "message is not modified")
}

// Outcome is what the error of one call means for whoever retries it.
type Outcome int

const (
	// OK: no error.
	OK Outcome = iota
	// NotModified: 400 "message is not modified"; the edit is already in
	// place, so it counts as success.
	NotModified
	// Permanent: retrying gives the same answer (other 4xx, an answer
	// that could not be decoded, a cancelled call, anything unknown —
	// retrying what we do not understand could send twice).
	Permanent
	// Transient: retry with backoff (5xx, a proxy's 5xx page, network
	// errors, timeouts, an answer cut short).
	Transient
	// Flood: 429; wait Error.RetryAfter (for everyone), then retry.
	Flood
	// Blocked: 403 from Telegram; the user blocked the bot or the bot is
	// no longer in the chat. Permanent for this chat.
	Blocked
	// Migrated: the group became a supergroup; Error.MigrateTo is its id.
	Migrated
)

var outcomeNames = [...]string{"ok", "not modified", "permanent", "transient", "flood", "blocked", "migrated"}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Classify sorts the error of one call. It looks only at our *Error and
// the standard library's network and context errors, through any
// wrapping.
func Classify(err error) Outcome {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case e.Code == http.StatusTooManyRequests:
			return Flood
		case e.bare:
			if e.Code >= 500 || e.Code == http.StatusRequestTimeout {
				return Transient
			}
			return Permanent
		case e.Code == http.StatusBadRequest && e.MigrateTo != 0:
			return Migrated
		case IsNotModified(e):
			return NotModified
		case e.Code == http.StatusForbidden:
			return Blocked
		case e.Code >= 500:
			return Transient
		}
		return Permanent
	}
	if errors.Is(err, context.Canceled) {
		return Permanent // the caller gave up: nothing to retry
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Transient
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return Transient
	}
	return Permanent
}

// ErrTooBig: a file is larger than Download was allowed to fetch.
var ErrTooBig = errors.New("telegram: file too big")

// redacted is what a token is replaced with.
const redacted = "<redacted>"

// tokenRe matches a bot token the way the Bot API puts it in URLs
// ("/bot<id>:<secret>/", "/file/bot<id>:<secret>/"), whoever's it is.
var tokenRe = regexp.MustCompile(`bot[0-9]+:[A-Za-z0-9_-]+`)

// redactString removes the client's token (as is and URL-escaped) and
// anything shaped like a token in a Bot API URL from s.
func (c *Client) redactString(s string) string {
	for _, t := range c.secrets {
		if strings.Contains(s, t) {
			s = strings.ReplaceAll(s, t, redacted)
		}
	}
	if strings.Contains(s, "bot") {
		s = tokenRe.ReplaceAllString(s, "bot"+redacted)
	}
	return s
}

// Redact returns err with the bot token removed from its text: every
// *url.Error in its chain has its URL cleaned (in place: these are
// the fresh errors of one request), and if the text still shows the token
// (or anything shaped like one) the result is a wrapper with the cleaned
// text that still unwraps to err, so errors.Is and errors.As keep working.
// Every error this package returns has been through it; callers can use it
// on errors from elsewhere.
func (c *Client) Redact(err error) error {
	if err == nil {
		return nil
	}
	walk(err, func(err error) {
		if ue, ok := err.(*url.Error); ok {
			ue.URL = c.redactString(ue.URL)
		}
	})
	msg := err.Error()
	if clean := c.redactString(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// walk calls fn on err and everything it wraps.
func walk(err error, fn func(error)) {
	for depth := 0; err != nil && depth < 100; depth++ {
		fn(err)
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e, fn)
			}
			return
		default:
			return
		}
	}
}

// redactedError shows a cleaned message but unwraps to the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// maxSnippet is how much of an answer that is not the envelope an Error
// quotes.
const maxSnippet = 200

// bareError is the Error for an HTTP answer that is not the Bot API
// envelope: Code is the HTTP status, Description quotes the start of the
// body (cleaned of the token: a proxy's page may echo the URL).
func (c *Client) bareError(method string, r *reply) *Error {
	snippet := strings.Join(strings.Fields(string(r.body[:min(len(r.body), 4*maxSnippet)])), " ")
	if len(snippet) > maxSnippet {
		cut := maxSnippet
		for cut > 0 && !utf8.RuneStart(snippet[cut]) {
			cut--
		}
		snippet = snippet[:cut] + "…"
	}
	snippet = strings.ToValidUTF8(snippet, "\uFFFD")
	ct := r.header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	e := &Error{
		Method:      method,
		Code:        r.status,
		Description: c.redactString(fmt.Sprintf("%s (%s): %s", http.StatusText(r.status), ct, snippet)),
		bare:        true,
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(r.header.Get("Retry-After"))); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}
