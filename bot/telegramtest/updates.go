package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// pendingUpdate is an update not yet confirmed (getUpdates) or acknowledged
// (webhook).
type pendingUpdate struct {
	id        int64
	chatKey   int64 // webhook deliveries are sequential per chatKey
	kind      string
	raw       json.RawMessage
	dup       bool // re-delivered by InjectUpdateDuplicate
	delivered bool // returned by getUpdates at least once
	inflight  bool // being POSTed to the webhook
}

// historySize bounds how many past updates InjectUpdateDuplicate can repeat.
const historySize = 10000

var (
	errConflictWebhook    = &apiError{code: http.StatusConflict, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	errConflictTerminated = &apiError{code: http.StatusConflict, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
)

// allowedLocked applies allowed_updates: by default Telegram sends every
// kind except chat_member, message_reaction and message_reaction_count.
func (s *Server) allowedLocked(kind string) bool {
	if s.allowed == nil {
		return kind != "chat_member" && kind != "message_reaction" && kind != "message_reaction_count"
	}
	return slices.Contains(s.allowed, kind)
}

// enqueueLocked creates an update {"update_id":N,"<kind>":payload} and
// returns its id, or 0 when allowed_updates filters the kind out.
func (s *Server) enqueueLocked(kind string, chatKey int64, payload any) int64 {
	if !s.allowedLocked(kind) {
		return 0
	}
	body, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("telegramtest: marshal %s update: %v", kind, err))
	}
	id := s.nextUpdateID
	s.nextUpdateID++
	kindJSON, _ := json.Marshal(kind)
	raw := fmt.Appendf(nil, `{"update_id":%d,%s:%s}`, id, kindJSON, body)
	s.pending = append(s.pending, &pendingUpdate{id: id, chatKey: chatKey, kind: kind, raw: raw})
	s.history[id] = &pendingUpdate{id: id, chatKey: chatKey, kind: kind, raw: raw}
	s.historyOrder = append(s.historyOrder, id)
	if len(s.historyOrder) > historySize {
		delete(s.history, s.historyOrder[0])
		s.historyOrder = s.historyOrder[1:]
	}
	s.notifyLocked()
	return id
}

// confirmLocked applies a getUpdates offset.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset == 0:
		return
	case offset < 0:
		// Keep the last -offset updates; forget the rest.
		if keep := int(min(-offset, int64(len(s.pending)))); keep < len(s.pending) {
			s.pending = append([]*pendingUpdate(nil), s.pending[len(s.pending)-keep:]...)
		}
		return
	}
	kept := s.pending[:0]
	for _, u := range s.pending {
		// A duplicate injected below an offset already passed is dropped
		// once it has been delivered again.
		if u.id < offset && (!u.dup || u.delivered) {
			continue
		}
		kept = append(kept, u)
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}

func (s *Server) takeBatchLocked(limit int) []json.RawMessage {
	out := []json.RawMessage{}
	for _, u := range s.pending {
		if len(out) >= limit {
			break
		}
		u.delivered = true
		out = append(out, u.raw)
	}
	return out
}

func parseAllowed(p *params) ([]string, bool, *apiError) {
	raw := strings.TrimSpace(p.str("allowed_updates"))
	if raw == "" {
		return nil, false, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, false, errBadRequest("can't parse allowed updates")
	}
	return list, true, nil
}

func (s *Server) getUpdates(ctx context.Context, p *params) (any, *apiError) {
	offset, _, err := p.int64("offset")
	if err != nil {
		return nil, err
	}
	limit, hasLimit, err := p.int64("limit")
	if err != nil {
		return nil, err
	}
	// 0 (what a client without omitempty sends) means the default, 100.
	if !hasLimit || limit == 0 || limit > 100 {
		limit = 100
	}
	limit = max(limit, 1)
	timeout, _, err := p.int64("timeout")
	if err != nil {
		return nil, err
	}
	timeout = min(timeout, 3600)
	allowed, setAllowed, err := parseAllowed(p)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	if s.webhook != nil {
		s.mu.Unlock()
		return nil, errConflictWebhook
	}
	s.pollGen++
	gen := s.pollGen
	if setAllowed {
		s.allowed = nil
		if len(allowed) > 0 {
			s.allowed = allowed
		}
	}
	s.confirmLocked(offset)
	s.notifyLocked() // an older waiting call sees pollGen move and answers 409

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	for {
		if batch := s.takeBatchLocked(int(limit)); len(batch) > 0 || expired == nil || s.closed {
			s.mu.Unlock()
			return batch, nil
		}
		changed := s.changed
		s.polling++
		s.mu.Unlock()
		woken := true
		select {
		case <-changed:
		case <-expired:
			woken = false
		case <-ctx.Done():
			woken = false
		}
		s.mu.Lock()
		s.polling--
		if !woken {
			s.mu.Unlock()
			return []json.RawMessage{}, nil
		}
		if s.pollGen != gen {
			s.mu.Unlock()
			return nil, errConflictTerminated
		}
		if s.webhook != nil {
			s.mu.Unlock()
			return nil, errConflictWebhook
		}
	}
}

type webhookState struct {
	url              string
	secret           string
	maxConn          int
	ip               string
	ctx              context.Context // cancelled when the webhook is replaced or deleted
	cancel           context.CancelFunc
	lastErrorDate    time.Time
	lastErrorMessage string
	delivered        int
	failed           int
}

func validSecret(secret string) bool {
	if len(secret) > 256 {
		return false
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if c != '_' && c != '-' && (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func (s *Server) setWebhook(_ context.Context, p *params) (any, *apiError) {
	rawURL := strings.TrimSpace(p.str("url"))
	if rawURL == "" {
		return s.removeWebhook(p.bool("drop_pending_updates")), nil
	}
	u, perr := url.Parse(rawURL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errBadRequest("bad webhook: invalid webhook URL specified")
	}
	secret := p.str("secret_token")
	if !validSecret(secret) {
		return nil, errBadRequest("secret token contains unallowed characters")
	}
	maxConn, hasMax, err := p.int64("max_connections")
	if err != nil {
		return nil, err
	}
	if !hasMax {
		maxConn = 40
	}
	maxConn = min(max(maxConn, 1), 100)
	allowed, setAllowed, err := parseAllowed(p)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.pending = nil
	}
	if setAllowed {
		s.allowed = nil
		if len(allowed) > 0 {
			s.allowed = allowed
		}
	}
	if cur := s.webhook; cur != nil && cur.url == rawURL && cur.secret == secret && cur.maxConn == int(maxConn) {
		s.notifyLocked()
		return described{true, "Webhook is already set"}, nil
	}
	if s.webhook != nil {
		s.webhook.cancel()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.webhook = &webhookState{
		url: rawURL, secret: secret, maxConn: int(maxConn), ip: p.str("ip_address"),
		ctx: ctx, cancel: cancel,
	}
	if !s.dispatcherRun && !s.closed {
		s.dispatcherRun = true
		s.bg.Add(1)
		go s.dispatchWebhook()
	}
	s.notifyLocked()
	return described{true, "Webhook was set"}, nil
}

func (s *Server) deleteWebhook(_ context.Context, p *params) (any, *apiError) {
	return s.removeWebhook(p.bool("drop_pending_updates")), nil
}

func (s *Server) removeWebhook(drop bool) described {
	s.mu.Lock()
	defer s.mu.Unlock()
	if drop {
		s.pending = nil
	}
	s.notifyLocked()
	if s.webhook == nil {
		return described{true, "Webhook is already deleted"}
	}
	s.webhook.cancel()
	s.webhook = nil
	return described{true, "Webhook was deleted"}
}

func (s *Server) getWebhookInfo(context.Context, *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := wireWebhookInfo{PendingUpdateCount: len(s.pending)}
	if wh := s.webhook; wh != nil {
		info.URL = wh.url
		info.IPAddress = wh.ip
		info.MaxConnections = wh.maxConn
		info.AllowedUpdates = s.allowed
		info.LastErrorMessage = wh.lastErrorMessage
		if !wh.lastErrorDate.IsZero() {
			info.LastErrorDate = wh.lastErrorDate.Unix()
		}
	}
	return info, nil
}

// dispatchWebhook starts deliveries: the first pending update of each chat
// whose previous update has been acknowledged, up to max_connections at a
// time. It runs until Close.
func (s *Server) dispatchWebhook() {
	defer s.bg.Done()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		if wh := s.webhook; wh != nil {
			seen := map[int64]bool{}
			for _, u := range s.pending {
				if seen[u.chatKey] {
					continue
				}
				seen[u.chatKey] = true
				if u.inflight || s.whActive >= wh.maxConn {
					continue
				}
				u.inflight = true
				s.whActive++
				s.bg.Add(1)
				go s.deliver(wh, u)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-s.ctx.Done():
			return
		}
	}
}

// deliver POSTs one update until the webhook acknowledges it with 2xx or
// the webhook is replaced, deleted or the server closed.
func (s *Server) deliver(wh *webhookState, u *pendingUpdate) {
	defer s.bg.Done()
	backoff := s.retry
	for {
		failure := s.post(wh, u.raw)

		s.mu.Lock()
		if wh.ctx.Err() != nil {
			// The update stays pending for the next webhook or getUpdates.
			u.inflight = false
			s.whActive--
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
		if failure == "" {
			if i := slices.Index(s.pending, u); i >= 0 {
				s.pending = slices.Delete(s.pending, i, i+1)
			}
			u.inflight = false
			s.whActive--
			wh.delivered++
			s.emitLocked(Event{Kind: EventWebhookDelivered, ChatID: u.chatKey, UpdateID: u.id})
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
		wh.failed++
		wh.lastErrorDate = s.now()
		wh.lastErrorMessage = failure
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("telegramtest: webhook delivery of update %d failed: %s", u.id, failure)

		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-wh.ctx.Done():
			t.Stop()
		}
		backoff = min(backoff*2, time.Second)
	}
}

// post makes one delivery attempt and returns "" on success or Telegram's
// last_error_message.
func (s *Server) post(wh *webhookState, raw []byte) string {
	req, err := http.NewRequestWithContext(wh.ctx, http.MethodPost, wh.url, bytes.NewReader(raw))
	if err != nil {
		return "Invalid webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	if wh.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", wh.secret)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "Connection failed: " + err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "Wrong response from the webhook: " + resp.Status
	}
	return ""
}
