package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
)

// Stale permissions across replicas: replica A has a contact cached; the
// unit is handed over (or the contact removed) through replica B. A must
// not show the unit's report to the former contact.

// replicaB is a second bot on the harness's Redis and fake Bot API that
// gets its updates by webhook from the test (so that A's poller does not
// take them).
type replicaB struct {
	h   *harness
	srv *httptest.Server
}

func startReplicaB(t *testing.T, a *harness) *replicaB {
	t.Helper()
	h := newHarness(t, harnessOptions{store: "redis", redisURL: a.redisURL, tg: a.tg, webhook: true})
	srv := httptest.NewServer(h.bot.WebhookHandler())
	t.Cleanup(srv.Close)
	return &replicaB{h: h, srv: srv}
}

var webhookUpdateID atomic.Int64

// say delivers a private text message of u to replica B and waits until B
// answered the webhook (after the update's effects are stored) and sent
// what it said.
func (r *replicaB) say(t *testing.T, u telegramtest.User, text string) {
	t.Helper()
	id := 1<<40 + webhookUpdateID.Add(1) // far from the fake's own update ids
	msg := map[string]any{
		"message_id": id, "date": time.Now().Unix(),
		"chat": map[string]any{"id": u.ID, "type": "private"},
		"from": map[string]any{"id": u.ID, "first_name": u.FirstName},
		"text": text,
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(cmd)}}
	}
	body, err := json.Marshal(map[string]any{"update_id": id, "message": msg})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret-hook")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("webhook of replica B: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("replica B answered %q with %d, want 200", text, resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.h.tg.WaitFor(ctx, func() bool { return r.h.bot.Outbox().Pending() == 0 }); err != nil {
		t.Fatalf("replica B did not deliver its messages: %v", err)
	}
}

// saidSince returns everything the bot said in a chat after the first n
// messages.
func saidSince(tg *telegramtest.Server, chatID int64, n int) string {
	var s strings.Builder
	for _, m := range tg.Messages(chatID)[n:] {
		s.WriteString(m.Text + m.Caption + "\n")
	}
	return s.String()
}

// wantRefused fails unless what the bot said after the first n messages
// refuses the former contact and shows nothing of the unit's report.
func wantRefused(t *testing.T, h *harness, u telegramtest.User, n int, cmd, unit, refusal string) {
	t.Helper()
	said := saidSince(h.tg, u.ID, n)
	if !strings.Contains(said, refusal) {
		t.Errorf("%s of a former contact on replica A: bot said %q, want %q", cmd, said, refusal)
	}
	for _, secret := range []string{"【" + unit + "】", "王晓明", "13912345678", "已填"} {
		if strings.Contains(said, secret) {
			t.Errorf("%s of a former contact on replica A showed %q of the unit's report: %q", cmd, secret, said)
		}
	}
}

func TestFormerContactCannotReadAcrossReplicas(t *testing.T) {
	const unit = "汾阳市双拥工作领导小组"
	setup := func(t *testing.T) (a *harness, b *replicaB, u telegramtest.User) {
		a = newHarness(t, harnessOptions{store: "redis"})
		b = startReplicaB(t, a)
		u = telegramtest.User{ID: 6101, FirstName: "前任"}
		startForm(a, unit, u)
		// A reads the status: the contact is in A's cache now.
		m := a.say(u, "/status")
		wantText(t, m, "【"+unit+"】", "已填")
		return a, b, u
	}

	t.Run("handover through B", func(t *testing.T) {
		a, b, u := setup(t)
		m := a.say(u, "/handover")
		match := inviteLink.FindStringSubmatch(m.Text)
		if match == nil {
			t.Fatalf("/handover answered %q, want a link", m.Text)
		}
		colleague := telegramtest.User{ID: 6102, FirstName: "接任"}
		a.tg.AddUser(colleague)
		b.say(t, colleague, "/start "+match[1])
		if said := saidSince(a.tg, colleague.ID, 0); !strings.Contains(said, "绑定成功") {
			t.Fatalf("the colleague's /start on replica B: bot said %q, want 绑定成功", said)
		}

		n := len(a.tg.Messages(u.ID))
		a.say(u, "/status")
		wantRefused(t, a, u, n, "/status", unit, "您已不再是“"+unit+"”的填报联系人")
		n = len(a.tg.Messages(u.ID))
		a.say(u, "/report")
		wantRefused(t, a, u, n, "/report", unit, "填报")
		// The colleague still sees the report on A.
		wantText(t, a.say(colleague, "/status"), "【"+unit+"】", "已填 2/")
	})

	t.Run("removed through the store", func(t *testing.T) {
		a, _, u := setup(t)
		if err := a.store.RemoveContact(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		n := len(a.tg.Messages(u.ID))
		a.say(u, "/report")
		wantRefused(t, a, u, n, "/report", unit, "您已不再是“"+unit+"”的填报联系人")
		n = len(a.tg.Messages(u.ID))
		a.say(u, "/status")
		wantRefused(t, a, u, n, "/status", unit, "填报")
	})

	t.Run("template after removal", func(t *testing.T) {
		a, _, u := setup(t)
		if err := a.store.RemoveContact(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		docs := a.tg.Calls("sendDocument")
		n := len(a.tg.Messages(u.ID))
		a.say(u, "/template")
		if got := a.tg.Calls("sendDocument") - docs; got != 0 {
			t.Errorf("/template of a former contact on replica A sent %d documents, want none; bot said %q", got, saidSince(a.tg, u.ID, n))
		}
	})
}
