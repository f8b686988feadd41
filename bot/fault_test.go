package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

// startForm binds a county unit's contact and answers the first questions.
func startForm(h *harness, name string, u telegramtest.User) {
	h.t.Helper()
	token := h.addUnit(name, "县市区")
	h.bind(u, token)
	h.say(u, "/report")
	h.fill(u, "filler_name", "王晓明")
	h.fill(u, "filler_phone", "13912345678")
}

// TestDuplicateUpdateChangesNothing: Telegram may deliver an update again;
// the second delivery changes nothing (it would otherwise answer the next
// question with the same text).
func TestDuplicateUpdateChangesNothing(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		u := telegramtest.User{ID: 5201, FirstName: "甲"}
		startForm(h, "孝义市双拥工作领导小组", u)
		h.expectQuestion(u, "essays")
		id := h.tg.SendText(u, u.Chat(), "7")
		h.settle()
		before := h.draftOf("孝义市双拥工作领导小组")
		if err := h.tg.InjectUpdateDuplicate(id); err != nil {
			t.Fatal(err)
		}
		h.settle()
		after := h.draftOf("孝义市双拥工作领导小组")
		if after.Rev != before.Rev || len(after.Answers) != len(before.Answers) {
			t.Fatalf("duplicate update changed the draft: rev %d→%d, answers %d→%d", before.Rev, after.Rev, len(before.Answers), len(after.Answers))
		}
		if _, ok := after.Answers["columns"]; ok {
			t.Fatalf("the redelivered answer was applied to the next question")
		}
		h.expectQuestion(u, "columns")

		// A duplicated command is not applied twice either.
		id = h.tg.SendText(h.admin, h.admin.Chat(), "/addunit 汾阳市双拥工作领导小组 县市区")
		h.settle()
		n := len(h.tg.Messages(h.admin.ID))
		if err := h.tg.InjectUpdateDuplicate(id); err != nil {
			t.Fatal(err)
		}
		h.settle()
		if got := len(h.tg.Messages(h.admin.ID)); got != n {
			t.Errorf("a duplicated /addunit was answered again (%d → %d messages)", n, got)
		}
	})
}

// TestRestartMidFormLosesNothing stops the bot in the middle of the form
// (gracefully and, with Redis, by abandoning a running instance without
// draining it) and goes on: every answer is there exactly once.
func TestRestartMidFormLosesNothing(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, harnessOptions{store: kind})
		u := telegramtest.User{ID: 5301, FirstName: "乙"}
		startForm(h, "汾阳市双拥工作领导小组", u)
		h.fill(u, "essays", "1")
		h.restart()
		h.fill(u, "columns", "2")
		h.fill(u, "films", "3")

		// Several answers in flight, then the intake is cancelled without
		// waiting for the handlers; a new instance takes over.
		for _, v := range []string{"4", "5", "6"} {
			h.tg.SendText(u, u.Chat(), v)
		}
		if kind == "redis" {
			h.cancel() // abandon: no drain, no close
			h.start()
		} else {
			h.restart() // bbolt allows one process: a graceful restart
		}
		h.settle()
		d := h.draftOf("汾阳市双拥工作领导小组")
		want := map[string]int64{"essays": 1, "columns": 2, "films": 3, "new_media_posts": 4, "outdoor_screens": 5, "model_events": 6}
		for id, v := range want {
			if a, ok := d.Answers[id]; !ok || a.Num != v {
				t.Errorf("after restarts %s = %v (present %v), want %d", id, a.Num, ok, v)
			}
		}
		h.expectQuestion(u, "merit_notices")
	})
}

// TestWebhookSecret: a webhook request with a wrong or missing secret gets
// 401 and changes nothing; the right secret is handled and answered 200
// only after its effects are stored.
func TestWebhookSecret(t *testing.T) {
	h := newHarness(t, harnessOptions{webhook: true})
	srv := httptest.NewServer(h.bot.WebhookHandler())
	defer srv.Close()
	h.tg.AddUser(h.admin)
	post := func(secret string, up map[string]any) int {
		body, _ := json.Marshal(up)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	addUnit := func(id int64, name string) map[string]any {
		return map[string]any{"update_id": id, "message": map[string]any{
			"message_id": id, "date": time.Now().Unix(),
			"chat":     map[string]any{"id": h.admin.ID, "type": "private"},
			"from":     map[string]any{"id": h.admin.ID, "first_name": "管理员"},
			"text":     "/addunit " + name + " 县市区",
			"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": 8}},
		}}
	}
	for _, secret := range []string{"", "wrong", "s3cret-hook-but-longer"} {
		if code := post(secret, addUnit(1, "文水县双拥工作领导小组")); code != http.StatusUnauthorized {
			t.Errorf("webhook with secret %q answered %d, want 401", secret, code)
		}
	}
	if units, _ := h.store.Units(context.Background()); len(units) != 0 {
		t.Fatalf("a request with a wrong secret changed the store: %v", units)
	}
	if code := post("s3cret-hook", addUnit(2, "文水县双拥工作领导小组")); code != http.StatusOK {
		t.Fatalf("webhook with the right secret answered %d, want 200", code)
	}
	if _, err := h.store.UnitByName(context.Background(), "文水县双拥工作领导小组"); err != nil {
		t.Fatalf("the unit is not stored when 200 is answered: %v", err)
	}
	// Method and body are checked too.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on the webhook answered %d, want 405", resp.StatusCode)
	}
	big := bytes.Repeat([]byte("x"), maxWebhookBody+10)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(big))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret-hook")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("oversized body answered %d, want 413 or 400", resp.StatusCode)
	}
}

// TestWebhookRegisteredWithSecret: in webhook mode Setup registers the
// webhook with its secret; in polling mode it deletes any webhook.
func TestWebhookRegisteredWithSecret(t *testing.T) {
	h := newHarness(t, harnessOptions{webhook: true})
	if err := h.bot.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	info := h.tg.Webhook()
	if info.URL != "http://127.0.0.1/unused" {
		t.Errorf("webhook url = %q", info.URL)
	}
	h2 := newHarness(t, harnessOptions{})
	if info := h2.tg.Webhook(); info.URL != "" {
		t.Errorf("polling mode left a webhook: %q", info.URL)
	}
}

// TestPanicIsRecovered: a panic while handling an update is logged, the
// user gets an apology and the bot keeps working.
func TestPanicIsRecovered(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u := telegramtest.User{ID: 5401, FirstName: "丙"}
	startForm(h, "交城县双拥工作领导小组", u)
	// A campaign whose Step panics for one input is hard to build; make
	// the service's store panic instead, for one call.
	h.svc.Store = panicStore{Store: h.store, on: "Draft"}
	h.svc.ForgetUnit(h.draftOf("交城县双拥工作领导小组").UnitID)
	m := h.say(u, "5")
	wantText(t, m, "抱歉")
	h.svc.Store = h.store
	h.say(u, "5")
	h.expectQuestion(u, "columns")
}

type panicStore struct {
	flows.Store
	on string
}

func (p panicStore) Draft(ctx context.Context, campaign string, unitID int64) (flows.Draft, error) {
	panic(fmt.Sprintf("planted panic in %s", p.on))
}
