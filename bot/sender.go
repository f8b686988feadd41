package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	tgbot "github.com/go-telegram/bot"
	"golang.org/x/time/rate"
)

// MaxTextUnits is the longest message text Telegram accepts, counted in
// UTF-16 code units.
const MaxTextUnits = 4096

// ErrBlocked is returned (wrapped) by Sender.Do when Telegram answers 403:
// the user blocked the bot or left the chat. It is permanent; Do does not retry.
var ErrBlocked = errors.New("bot was blocked by the user")

// MigratedError is returned by Sender.Do when a group became a supergroup.
// Messages for it must now go to NewChatID; the caller should store the new id.
type MigratedError struct {
	ChatID    int64
	NewChatID int64
	err       error // the library's *tgbot.MigrateError, redacted
}

func (e *MigratedError) Error() string {
	return fmt.Sprintf("send to chat %d: group migrated to supergroup %d", e.ChatID, e.NewChatID)
}

// Unwrap gives access to the underlying *tgbot.MigrateError.
func (e *MigratedError) Unwrap() error { return e.err }

// Limits are the sending rates the Sender keeps to. A zero field turns that
// limit off.
type Limits struct {
	Global         float64 // messages per second across all chats (Telegram: ~30; our default 25); 0 = off
	PerChat        float64 // messages per second per private chat (default 1); 0 = off
	PerGroupMinute float64 // messages per minute per group chat (default 20); 0 = off
	// ChatBurst is how many messages one chat may get back to back before
	// PerChat or PerGroupMinute applies (Telegram tolerates short bursts, and a
	// reply split into parts should not trickle out). Values below 1 mean 1.
	ChatBurst int
}

// DefaultLimits stays below Telegram's published limits.
func DefaultLimits() Limits {
	return Limits{Global: 25, PerChat: 1, PerGroupMinute: 20, ChatBurst: 3}
}

// SenderHooks are optional callbacks for metrics. They run synchronously on
// the sending goroutine and must be fast. Errors passed to them are redacted.
type SenderHooks struct {
	// OnSent is called once per successful Do with the number of attempts
	// and the time since Do was called (waits included).
	OnSent func(chatID int64, attempts int, elapsed time.Duration)
	// On429 is called for every 429 answer with the pause Telegram asked for.
	On429 func(chatID int64, retryAfter time.Duration)
	// OnRetry is called before each retry: attempt is the attempt that
	// failed, delay the backoff before the next one (0 after a 429, whose
	// wait is the shared pause).
	OnRetry func(chatID int64, attempt int, delay time.Duration, err error)
	// OnFailed is called once per Do that returns an error.
	OnFailed func(chatID int64, attempts int, err error)
}

// SenderOption configures a Sender.
type SenderOption func(*Sender)

// WithSenderMaxAttempts sets how many times Do calls the API for one
// message, 429 answers included (default 5; values below 1 mean 1).
func WithSenderMaxAttempts(n int) SenderOption {
	return func(s *Sender) { s.maxAttempts = max(n, 1) }
}

// WithSenderBackoff sets the exponential backoff after 5xx and network
// errors: base before the first retry, doubling up to maxDelay, with jitter
// (defaults 500ms and 30s).
func WithSenderBackoff(base, maxDelay time.Duration) SenderOption {
	return func(s *Sender) {
		s.backoffBase = max(base, 0)
		s.backoffMax = max(maxDelay, s.backoffBase)
	}
}

// WithSenderMaxPause caps the shared pause a 429 may impose (default 1
// minute). A longer retry_after usually means one chat is flooded; stopping
// every chat for that long would stall all replies, so Do returns the 429
// error instead, without pausing.
func WithSenderMaxPause(d time.Duration) SenderOption {
	return func(s *Sender) { s.maxPause = d }
}

// WithSenderAttemptTimeout bounds each API call; a call that times out is
// retried like a network error. 0 (the default) leaves it to the HTTP
// client's timeout and the caller's context.
func WithSenderAttemptTimeout(d time.Duration) SenderOption {
	return func(s *Sender) { s.attemptTimeout = d }
}

// WithSenderClock replaces the clock and the sleep used for limits, pauses
// and backoff (for tests). sleep must return ctx.Err() as soon as ctx is done.
func WithSenderClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) SenderOption {
	return func(s *Sender) { s.now, s.sleep = now, sleep }
}

// WithSenderCallbacks installs metrics callbacks, replacing any set before.
func WithSenderCallbacks(h SenderHooks) SenderOption {
	return func(s *Sender) { s.hooks = h }
}

// WithSenderHooks is the short form of WithSenderCallbacks for plain
// counters: sent runs once per successful Do, throttled once per 429
// answer, retried once per retry. Nil functions are skipped.
func WithSenderHooks(sent, throttled, retried func()) SenderOption {
	return func(s *Sender) {
		if sent != nil {
			s.hooks.OnSent = func(int64, int, time.Duration) { sent() }
		}
		if throttled != nil {
			s.hooks.On429 = func(int64, time.Duration) { throttled() }
		}
		if retried != nil {
			s.hooks.OnRetry = func(int64, int, time.Duration, error) { retried() }
		}
	}
}

// WithRedactToken gives the bot token, so that it is cut out of every error
// Do returns or logs. Token-shaped strings in "/bot<token>/" form are
// redacted even without it.
func WithRedactToken(token string) SenderOption {
	return func(s *Sender) { s.token = token }
}

// Sender is the one way out to the Bot API: it keeps the rate limits,
// honours 429 pauses for everyone, retries what is worth retrying and
// classifies what is not. It is safe for concurrent use and starts no
// goroutines, so it needs no Close.
type Sender struct {
	log            *slog.Logger
	hooks          SenderHooks
	token          string
	maxAttempts    int
	backoffBase    time.Duration
	backoffMax     time.Duration
	maxPause       time.Duration
	attemptTimeout time.Duration
	now            func() time.Time
	sleep          func(ctx context.Context, d time.Duration) error

	global   *rate.Limiter // nil when off
	perChat  rate.Limit    // 0 when off
	perGroup rate.Limit    // 0 when off
	burst    int

	// pausedUntil is the end of the last 429 pause, on s.now's clock.
	pausedUntil atomic.Pointer[time.Time]

	mu        sync.Mutex
	chats     map[int64]*rate.Limiter // per-chat limiters; idle ones are evicted
	lastSweep time.Time
	sweepAt   int // sweep when a new chat arrives and len(chats) reached this
}

const (
	// senderSweepEvery is the longest time between evictions of idle limiters
	// (checked when a new chat arrives).
	senderSweepEvery = time.Minute
	// senderSweepMin is the smallest map size that triggers an eviction pass.
	senderSweepMin = 1024
	// senderMaxErrLen caps the length of error texts we hand on: the library
	// puts whole response bodies (an HTML error page of a proxy) in errors.
	senderMaxErrLen = 1000
)

// NewSender makes a Sender. logger may be nil.
func NewSender(lim Limits, logger *slog.Logger, opts ...SenderOption) *Sender {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{
		log:         logger,
		maxAttempts: 5,
		backoffBase: 500 * time.Millisecond,
		backoffMax:  30 * time.Second,
		maxPause:    time.Minute,
		now:         time.Now,
		sleep:       senderSleep,
		burst:       max(lim.ChatBurst, 1),
		chats:       make(map[int64]*rate.Limiter),
		sweepAt:     senderSweepMin,
	}
	for _, o := range opts {
		o(s)
	}
	if lim.Global > 0 {
		// Burst 1: a burst on top of the full rate would overshoot
		// Telegram's per-second budget.
		s.global = rate.NewLimiter(rate.Limit(lim.Global), 1)
	}
	if lim.PerChat > 0 {
		s.perChat = rate.Limit(lim.PerChat)
	}
	if lim.PerGroupMinute > 0 {
		s.perGroup = rate.Limit(lim.PerGroupMinute / 60)
	}
	s.lastSweep = s.now()
	return s
}

// Do runs one Bot API call for chatID under the limits, with retries.
// Group chats (and channels) have negative ids. call must be safe to repeat:
// after a timeout Telegram may have delivered the message anyway.
//
// The returned error wraps ErrBlocked on 403, is a *MigratedError when the
// group became a supergroup, wraps ctx.Err() when ctx ended first, and
// otherwise wraps the (redacted) error of the last attempt. A 400 "message
// is not modified" counts as success.
func (s *Sender) Do(ctx context.Context, chatID int64, call func(ctx context.Context) error) error {
	start := s.now()
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := s.senderAcquire(ctx, chatID); err != nil {
			return s.senderFailed(chatID, attempt-1, senderStopped(chatID, attempt-1, err, lastErr))
		}
		err := s.senderCall(ctx, call)
		kind := senderClassify(err)
		if kind == senderOK {
			if s.hooks.OnSent != nil {
				s.hooks.OnSent(chatID, attempt, s.now().Sub(start))
			}
			return nil
		}
		err = redactToken(err, s.token)
		lastErr = err

		var delay time.Duration
		switch kind {
		case senderBlocked:
			return s.senderFailed(chatID, attempt, fmt.Errorf("send to chat %d: %w: %w", chatID, ErrBlocked, err))
		case senderMigrated:
			var mig *tgbot.MigrateError
			errors.As(err, &mig)
			return s.senderFailed(chatID, attempt, &MigratedError{ChatID: chatID, NewChatID: int64(mig.MigrateToChatID), err: err})
		case senderPermanent:
			return s.senderFailed(chatID, attempt, fmt.Errorf("send to chat %d: %w", chatID, err))
		case senderFlood:
			var flood *tgbot.TooManyRequestsError
			errors.As(err, &flood)
			pause := time.Duration(max(flood.RetryAfter, 1)) * time.Second
			tooLong := pause > s.maxPause
			if !tooLong {
				s.senderPause(pause) // before the hook: it may start more sends
			}
			if s.hooks.On429 != nil {
				s.hooks.On429(chatID, pause)
			}
			if tooLong {
				return s.senderFailed(chatID, attempt, fmt.Errorf("send to chat %d: retry_after %s exceeds the longest pause %s: %w", chatID, pause, s.maxPause, err))
			}
			s.log.Warn("telegram rate limit hit, pausing all sends",
				"chat_id", chatID, "retry_after", pause, "attempt", attempt)
		case senderTransient:
			delay = s.senderBackoff(attempt)
		}

		if ctx.Err() != nil {
			return s.senderFailed(chatID, attempt, senderStopped(chatID, attempt, ctx.Err(), err))
		}
		if attempt >= s.maxAttempts {
			return s.senderFailed(chatID, attempt, fmt.Errorf("send to chat %d: giving up after %d attempts: %w", chatID, attempt, err))
		}
		if s.hooks.OnRetry != nil {
			s.hooks.OnRetry(chatID, attempt, delay, err)
		}
		if kind == senderTransient {
			s.log.Info("telegram call failed, retrying",
				"chat_id", chatID, "attempt", attempt, "delay", delay, "err", err)
		}
		if delay > 0 {
			if err := s.sleep(ctx, delay); err != nil {
				return s.senderFailed(chatID, attempt, senderStopped(chatID, attempt, err, lastErr))
			}
		}
	}
}

// SendText splits text at line breaks into parts of at most MaxTextUnits
// UTF-16 units (see SplitText) and sends them in order, each through Do with
// send(ctx, part, last). It stops at the first part that fails and returns
// its error, wrapped with the part's number.
//
// The count is of the text as given: with a parse mode, markup makes it
// conservative, but a tag spanning a line break may end up split.
func (s *Sender) SendText(ctx context.Context, chatID int64, text string, send func(ctx context.Context, part string, last bool) error) error {
	parts := SplitText(text, MaxTextUnits)
	if len(parts) == 0 {
		return fmt.Errorf("send text to chat %d: text is empty", chatID)
	}
	for i, part := range parts {
		last := i == len(parts)-1
		err := s.Do(ctx, chatID, func(ctx context.Context) error {
			return send(ctx, part, last)
		})
		if err != nil {
			if len(parts) == 1 {
				return err
			}
			return fmt.Errorf("part %d of %d: %w", i+1, len(parts), err)
		}
	}
	return nil
}

// SplitText splits text into parts of at most maxUnits UTF-16 code units (the
// unit Telegram counts in). Text that fits is returned as the only part,
// unchanged. Otherwise parts are cut at line breaks, the line breaks at the
// cuts are dropped (as are line breaks at either end of a part, and parts
// that would be empty), and a single line longer than maxUnits is cut at rune
// boundaries, never inside a surrogate pair. Joining the parts with "\n"
// therefore keeps every other character in order. Empty text gives no
// parts. maxUnits below 1 means 1; a rune needing 2 units then still makes one
// part on its own.
func SplitText(text string, maxUnits int) []string {
	if text == "" {
		return nil
	}
	maxUnits = max(maxUnits, 1)
	if senderUnits(text) <= maxUnits {
		return []string{text}
	}

	var parts []string
	flush := func(p string) {
		if p = strings.Trim(p, "\r\n"); p != "" {
			parts = append(parts, p)
		}
	}
	// The current part is text[curStart:curEnd] (lines joined by their
	// original "\n"), curUnits long; curStart < 0 means none yet.
	curStart, curEnd, curUnits := -1, 0, 0
	for pos := 0; ; {
		end := len(text)
		nl := strings.IndexByte(text[pos:], '\n')
		if nl >= 0 {
			end = pos + nl
		}
		line := text[pos:end]
		lineUnits := senderUnits(line)
		switch {
		case curStart >= 0 && curUnits+1+lineUnits <= maxUnits:
			curEnd, curUnits = end, curUnits+1+lineUnits
		case lineUnits <= maxUnits:
			if curStart >= 0 {
				flush(text[curStart:curEnd])
			}
			curStart, curEnd, curUnits = pos, end, lineUnits
		default:
			if curStart >= 0 {
				flush(text[curStart:curEnd])
			}
			// Emit full chunks; the rest starts the next part so that
			// following lines can join it.
			for {
				n := senderCut(line, maxUnits)
				if n == len(line) {
					break
				}
				flush(line[:n])
				line = line[n:]
			}
			curStart, curEnd, curUnits = end-len(line), end, senderUnits(line)
		}
		if nl < 0 {
			break
		}
		pos = end + 1
	}
	if curStart >= 0 {
		flush(text[curStart:curEnd])
	}
	return parts
}

// senderUnits counts s in UTF-16 code units. Invalid bytes count as one
// unit each (they decode to U+FFFD).
func senderUnits(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// senderCut returns the byte length of the longest prefix of s that fits in
// maxUnits UTF-16 units, but at least one rune.
func senderCut(s string, maxUnits int) int {
	units := 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if units+u > maxUnits {
			if i == 0 {
				_, size := utf8.DecodeRuneInString(s)
				return size
			}
			return i
		}
		units += u
	}
	return len(s)
}

// senderOutcome is what an attempt's error means for the sender.
type senderOutcome int

const (
	senderOK        senderOutcome = iota // sent (or "message is not modified")
	senderPermanent                      // do not retry
	senderTransient                      // retry with backoff
	senderFlood                          // 429: pause everyone, then retry
	senderBlocked                        // 403
	senderMigrated                       // group became a supergroup
)

// senderStatusRe finds the HTTP status in the library's error for answers it
// has no sentinel for (5xx among them):
// "error response from telegram for method %s, %d %s". The tests run the
// real client, so a change of that text fails them.
var senderStatusRe = regexp.MustCompile(`error response from telegram for method [^,]*, (\d{3})\b`)

// senderClassify sorts an error of one attempt. Unknown errors are
// permanent: retrying what we do not understand could send twice.
func senderClassify(err error) senderOutcome {
	if err == nil {
		return senderOK
	}
	var flood *tgbot.TooManyRequestsError
	if errors.As(err, &flood) {
		return senderFlood
	}
	var mig *tgbot.MigrateError
	if errors.As(err, &mig) {
		return senderMigrated
	}
	if errors.Is(err, tgbot.ErrorForbidden) {
		return senderBlocked
	}
	if errors.Is(err, tgbot.ErrorBadRequest) {
		if strings.Contains(strings.ToLower(err.Error()), "message is not modified") {
			return senderOK
		}
		return senderPermanent
	}
	if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) || errors.Is(err, tgbot.ErrorConflict) {
		return senderPermanent
	}
	msg := err.Error()
	if m := senderStatusRe.FindStringSubmatch(msg); m != nil {
		if code, _ := strconv.Atoi(m[1]); code >= 500 {
			return senderTransient
		}
		return senderPermanent
	}
	// Network trouble and timeouts (the caller has already checked that its
	// own context is still alive).
	var urlErr *url.Error
	var netErr net.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return senderTransient
	}
	// A body that is not the JSON envelope is a proxy's error page (502 from
	// a load balancer); a body cut short is a dropped connection.
	if strings.Contains(msg, "error decode response body") || strings.Contains(msg, "error read response body") {
		return senderTransient
	}
	return senderPermanent
}

// senderCall runs one attempt, under the attempt timeout if one is set.
func (s *Sender) senderCall(ctx context.Context, call func(ctx context.Context) error) error {
	if s.attemptTimeout <= 0 {
		return call(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, s.attemptTimeout)
	defer cancel()
	return call(ctx)
}

// senderAcquire waits for the shared pause, then for the chat's and the
// global limiter. The chat comes first so that a chat that must wait does
// not hold a global slot meanwhile.
func (s *Sender) senderAcquire(ctx context.Context, chatID int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.senderWaitPause(ctx); err != nil {
		return err
	}
	limit := s.perChat
	if chatID < 0 {
		limit = s.perGroup
	}
	for {
		if limit > 0 {
			now := s.now()
			if err := s.senderWaitReservation(ctx, s.senderReserveChat(chatID, limit, now), now); err != nil {
				return err
			}
		}
		if s.global != nil {
			now := s.now()
			if err := s.senderWaitReservation(ctx, s.global.ReserveN(now, 1), now); err != nil {
				return err
			}
		}
		// A 429 may have come in while we waited for the limiters. Slots
		// reserved before it fell due during the pause: everyone holding
		// one would send the moment it ends, a burst that earns the next
		// 429. Reserve again after the pause, so sends spread out anew.
		paused, err := s.senderWaitPause(ctx)
		if err != nil || !paused {
			return err
		}
	}
}

// senderWaitReservation sleeps until r's token is due; on cancellation the
// token is handed back.
func (s *Sender) senderWaitReservation(ctx context.Context, r *rate.Reservation, now time.Time) error {
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := s.sleep(ctx, d); err != nil {
		r.CancelAt(s.now())
		return err
	}
	return nil
}

// senderReserveChat takes a token from chatID's limiter, creating it if
// needed. Reserving under s.mu means a limiter is never used after a sweep
// dropped it.
func (s *Sender) senderReserveChat(chatID int64, limit rate.Limit, now time.Time) *rate.Reservation {
	s.mu.Lock()
	defer s.mu.Unlock()
	lim, ok := s.chats[chatID]
	if !ok {
		if len(s.chats) >= s.sweepAt || now.Sub(s.lastSweep) >= senderSweepEvery {
			s.senderSweepLocked(now)
		}
		lim = rate.NewLimiter(limit, s.burst)
		s.chats[chatID] = lim
	}
	return lim.ReserveN(now, 1)
}

// senderSweepLocked drops limiters whose bucket is full again: such a
// limiter behaves exactly like a new one, so dropping it loses nothing. The
// map thus holds only chats served within the last few seconds, and the
// next size-triggered sweep waits until it has doubled (amortised O(1)).
func (s *Sender) senderSweepLocked(now time.Time) {
	for id, lim := range s.chats {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(s.chats, id)
		}
	}
	s.lastSweep = now
	s.sweepAt = max(2*len(s.chats), senderSweepMin)
}

// senderChatLimiters reports how many per-chat limiters are kept.
func (s *Sender) senderChatLimiters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.chats)
}

// senderPause extends the shared pause to at least now+d.
func (s *Sender) senderPause(d time.Duration) {
	until := s.now().Add(d)
	for {
		cur := s.pausedUntil.Load()
		if cur != nil && !cur.Before(until) {
			return
		}
		if s.pausedUntil.CompareAndSwap(cur, &until) {
			return
		}
	}
}

// senderWaitPause returns once no 429 pause is in force, and whether it
// had to wait for one.
func (s *Sender) senderWaitPause(ctx context.Context) (waited bool, err error) {
	for {
		until := s.pausedUntil.Load()
		if until == nil {
			return waited, nil
		}
		d := until.Sub(s.now())
		if d <= 0 {
			return waited, nil
		}
		if err := s.sleep(ctx, d); err != nil {
			return waited, err
		}
		waited = true
	}
}

// senderBackoff is the delay after failed attempt n (1-based): base·2^(n-1)
// capped at backoffMax, with "equal jitter" (a random point in [d/2, d)) so
// that senders failing together do not retry together.
func (s *Sender) senderBackoff(n int) time.Duration {
	d := s.backoffBase
	for i := 1; i < n && d < s.backoffMax; i++ {
		d *= 2
	}
	d = min(d, s.backoffMax)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half)
}

// senderFailed reports a failed Do to the hook and returns err.
func (s *Sender) senderFailed(chatID int64, attempts int, err error) error {
	if s.hooks.OnFailed != nil {
		s.hooks.OnFailed(chatID, attempts, err)
	}
	return err
}

// senderStopped is the error for a Do whose context ended.
func senderStopped(chatID int64, attempts int, ctxErr, lastErr error) error {
	if lastErr == nil {
		return fmt.Errorf("send to chat %d: %w", chatID, ctxErr)
	}
	return fmt.Errorf("send to chat %d: %w after %d attempts, last error: %w", chatID, ctxErr, attempts, lastErr)
}

// senderSleep waits for d or until ctx is done.
func senderSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// senderTokenRe matches a bot token in the form the Bot API puts in URLs
// ("/bot<id>:<secret>/", also "/file/bot<id>:<secret>/").
var senderTokenRe = regexp.MustCompile(`bot[0-9]+:[A-Za-z0-9_-]+`)

// redactToken returns err with the bot token cut out of its message: every
// occurrence of token, and anything shaped like "bot<id>:<secret>" (the
// form in Bot API and file URLs). Over-long messages are shortened. The
// result still unwraps to err, so errors.Is and errors.As keep working; err
// itself is returned when there was nothing to change.
func redactToken(err error, token string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := senderRedactString(msg, token)
	if len(clean) > senderMaxErrLen {
		cut := senderMaxErrLen
		for cut > 0 && !utf8.RuneStart(clean[cut]) {
			cut--
		}
		clean = clean[:cut] + "…"
	}
	if clean == msg {
		return err
	}
	return &senderRedactedError{msg: clean, err: err}
}

func senderRedactString(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, "<redacted>")
	}
	return senderTokenRe.ReplaceAllString(s, "bot<redacted>")
}

// senderRedactedError shows a cleaned message but unwraps to the original.
type senderRedactedError struct {
	msg string
	err error
}

func (e *senderRedactedError) Error() string { return e.msg }
func (e *senderRedactedError) Unwrap() error { return e.err }
