package telegramtest_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
)

func TestGetUpdatesOffset(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	u1 := srv.SendText(alice, alice.Chat(), "一")
	u2 := srv.SendText(alice, alice.Chat(), "二")
	u3 := srv.SendText(bob, bob.Chat(), "三")
	if u2 != u1+1 || u3 != u2+1 {
		t.Fatalf("update ids %d %d %d, want consecutive", u1, u2, u3)
	}

	steps := []struct {
		req  map[string]any
		want []int64
	}{
		{map[string]any{}, []int64{u1, u2, u3}},                 // nothing confirmed yet
		{map[string]any{"offset": 0}, []int64{u1, u2, u3}},      // offset 0 confirms nothing
		{map[string]any{"limit": 2}, []int64{u1, u2}},           // limit
		{map[string]any{"offset": u2}, []int64{u2, u3}},         // confirms u1
		{map[string]any{"offset": 0}, []int64{u2, u3}},          // u1 is gone for good
		{map[string]any{"offset": u3 + 1}, []int64{}},           // confirms everything
		{map[string]any{"offset": u1, "timeout": 0}, []int64{}}, // an old offset brings nothing back
	}
	for _, st := range steps {
		if got := updateIDs(getUpdates(t, srv, st.req)); !reflect.DeepEqual(got, st.want) {
			t.Errorf("getUpdates(%v) = %v, want %v", st.req, got, st.want)
		}
	}
	if n := srv.PendingUpdates(); n != 0 {
		t.Errorf("PendingUpdates = %d, want 0", n)
	}

	// A negative offset keeps only the last updates.
	v1 := srv.SendText(alice, alice.Chat(), "a")
	v2 := srv.SendText(alice, alice.Chat(), "b")
	if got := updateIDs(getUpdates(t, srv, map[string]any{"offset": -1})); !reflect.DeepEqual(got, []int64{v2}) {
		t.Errorf("getUpdates(offset -1) = %v, want [%d] (and %d forgotten)", got, v2, v1)
	}
	if got := updateIDs(getUpdates(t, srv, nil)); !reflect.DeepEqual(got, []int64{v2}) {
		t.Errorf("getUpdates after offset -1 = %v, want [%d]", got, v2)
	}
}

func TestGetUpdatesEncodings(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	id := srv.SendText(alice, alice.Chat(), "x")
	base := srv.URL() + "/bot" + token + "/getUpdates"

	form := url.Values{"offset": {"0"}, "limit": {"5"}}
	if r := post(t, base, "application/x-www-form-urlencoded", []byte(form.Encode())); !r.OK || len(r.Result) < 10 {
		t.Errorf("urlencoded getUpdates = %+v, want ok with the update", r)
	}
	resp, err := httpClient.Get(base + "?offset=" + url.QueryEscape("0"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET getUpdates: status %d, want 200", resp.StatusCode)
	}
	if r := post(t, base, "application/json", []byte(`{"offset":"nope"}`)); r.Status != 400 || r.ErrorCode != 400 {
		t.Errorf("getUpdates with offset \"nope\" = %d %+v, want 400", r.Status, r)
	}
	if got := updateIDs(getUpdates(t, srv, map[string]any{"offset": id + 1})); len(got) != 0 {
		t.Errorf("getUpdates = %v, want none", got)
	}
}

func TestGetUpdatesLongPoll(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	ctx := testContext(t)

	start := time.Now()
	done := pollAsync(srv, map[string]any{"timeout": 20})
	if err := srv.WaitFor(ctx, func() bool { return srv.Polling() == 1 }); err != nil {
		t.Fatalf("waiting for the long poll: %v", err)
	}
	id := srv.SendText(alice, alice.Chat(), "醒来")
	r := <-done
	d := time.Since(start)
	var ups []update
	if err := json.Unmarshal(r.Result, &ups); err != nil || !r.OK {
		t.Fatalf("long poll = %+v (%v), want ok", r, err)
	}
	if got := updateIDs(ups); !reflect.DeepEqual(got, []int64{id}) || d > 5*time.Second {
		t.Errorf("long poll returned %v after %v, want [%d] right after the message", got, d, id)
	}

	start = time.Now()
	if got := getUpdates(t, srv, map[string]any{"offset": id + 1, "timeout": 1}); len(got) != 0 {
		t.Errorf("getUpdates(timeout 1) = %v, want []", updateIDs(got))
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 5*time.Second {
		t.Errorf("getUpdates(timeout 1) took %v, want about 1s", d)
	}
}

func TestGetUpdatesNewerCallWins(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	ctx := testContext(t)
	older := pollAsync(srv, map[string]any{"timeout": 20})
	if err := srv.WaitFor(ctx, func() bool { return srv.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	newer := pollAsync(srv, map[string]any{"timeout": 20})

	r := <-older
	if r.Status != 409 || r.ErrorCode != 409 || r.Description != "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" {
		t.Errorf("older getUpdates = %d %+v, want 409 terminated by other getUpdates request", r.Status, r)
	}
	id := srv.SendText(alice, alice.Chat(), "x")
	r = <-newer
	var ups []update
	if err := json.Unmarshal(r.Result, &ups); err != nil || !r.OK || len(ups) != 1 || ups[0].UpdateID != id {
		t.Errorf("newer getUpdates = %+v, want the update %d", r, id)
	}
}

func TestGetUpdatesDuplicate(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	id := srv.SendText(alice, alice.Chat(), "/start")
	if got := updateIDs(getUpdates(t, srv, nil)); !reflect.DeepEqual(got, []int64{id}) {
		t.Fatalf("getUpdates = %v, want [%d]", got, id)
	}
	next := srv.SendText(alice, alice.Chat(), "下一条")
	if got := updateIDs(getUpdates(t, srv, map[string]any{"offset": next + 1})); len(got) != 0 {
		t.Fatalf("getUpdates after confirming everything = %v, want []", got)
	}
	if err := srv.InjectUpdateDuplicate(id); err != nil {
		t.Fatal(err)
	}
	if got := updateIDs(getUpdates(t, srv, map[string]any{"offset": next + 1})); !reflect.DeepEqual(got, []int64{id}) {
		t.Errorf("getUpdates after InjectUpdateDuplicate(%d) = %v, want the same update again", id, got)
	}
	if got := updateIDs(getUpdates(t, srv, map[string]any{"offset": next + 1})); len(got) != 0 {
		t.Errorf("getUpdates after the duplicate was delivered = %v, want []", got)
	}
	if err := srv.InjectUpdateDuplicate(999999); err == nil {
		t.Errorf("InjectUpdateDuplicate(unknown) = nil, want an error")
	}
}

func TestGetUpdatesAllowedUpdates(t *testing.T) {
	srv := newServer(t, telegramtest.Options{})
	getUpdates(t, srv, map[string]any{"allowed_updates": []string{"callback_query"}})
	if id := srv.SendText(alice, alice.Chat(), "filtered"); id != 0 {
		t.Errorf("SendText with allowed_updates [callback_query] = update %d, want 0 (filtered)", id)
	}
	getUpdates(t, srv, map[string]any{"allowed_updates": []string{}})
	if id := srv.SendText(alice, alice.Chat(), "kept"); id == 0 {
		t.Errorf("SendText after resetting allowed_updates = 0, want an update")
	}
}

func TestCloseEndsLongPoll(t *testing.T) {
	srv := telegramtest.New(telegramtest.Options{Token: token})
	defer srv.Close()
	ctx := testContext(t)
	done := pollAsync(srv, map[string]any{"timeout": 50})
	if err := srv.WaitFor(ctx, func() bool { return srv.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case r := <-done:
		if !r.OK {
			t.Errorf("long poll ended by Close = %+v, want an ok empty result", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the long poll")
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
}
