package bot

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/storage/redis/redistest"
)

// newMessages returns the bot's messages in the user's chat after the
// first n.
func newMessages(h *harness, u telegramtest.User, n int) []string {
	var out []string
	for _, m := range h.tg.Messages(u.ID)[n:] {
		out = append(out, m.Text)
	}
	return out
}

// outage is how long TestStoreOutageLosesNothing keeps Redis down: a
// minute, as a restart or a Sentinel failover may take (the old intake
// gave up after 8 tries 1 s apart). -short: 10 s.
func outage() time.Duration {
	if testing.Short() {
		return 10 * time.Second
	}
	return time.Minute
}

// TestStoreOutageLosesNothing: Redis goes away mid-form for longer than the
// old intake waited (8 tries 1 s apart); the contact's answer waits for it
// and is applied once, the next question asked once, nothing else said.
func TestStoreOutageLosesNothing(t *testing.T) {
	srv := redistest.StartServer(t, redistest.Options{AppendOnly: true})
	h := newHarness(t, harnessOptions{store: "redis", redisURL: srv.URL})
	u := telegramtest.User{ID: 5301, FirstName: "甲"}
	startForm(h, "离石区双拥工作领导小组", u)
	h.expectQuestion(u, "essays")
	before := len(h.tg.Messages(u.ID))

	srv.Kill(t)
	h.tg.SendText(u, u.Chat(), "7")
	time.Sleep(outage()) // the old intake gave up after ~7 s
	if got := newMessages(h, u, before); len(got) != 0 {
		t.Fatalf("during the outage the bot said %q, want nothing yet", got)
	}
	srv.Restart(t)
	h.settle()

	if got := h.draftOf("离石区双拥工作领导小组").Answers["essays"].Num; got != 7 {
		t.Errorf("after the outage essays = %d, want 7 (the answer sent during it)", got)
	}
	got := newMessages(h, u, before)
	if len(got) != 1 {
		t.Fatalf("after the outage the bot said %d messages %q, want the next question once", len(got), got)
	}
	h.expectQuestion(u, "columns")
}

// unreachableStore makes Apply of one unit fail as if the store could not
// be reached, a given number of times.
type unreachableStore struct {
	flows.Store
	mu    sync.Mutex
	unit  int64
	fails int
}

func (s *unreachableStore) Apply(ctx context.Context, tr flows.Transition) error {
	s.mu.Lock()
	fail := tr.UnitID == s.unit && s.fails > 0
	if fail {
		s.fails--
	}
	s.mu.Unlock()
	if fail {
		return &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return s.Store.Apply(ctx, tr)
}

// TestFailingChatRepeatsNobody: when one chat's update fails (its unit's
// writes do not go through for a while), the other chats of the same batch
// are answered once — not again each time the batch comes back — and the
// failing chat's answer is applied once it goes through.
func TestFailingChatRepeatsNobody(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		faulty := &unreachableStore{}
		h := newHarness(t, harnessOptions{store: kind, wrap: func(s flows.Store) flows.Store {
			faulty.Store = s
			return faulty
		}})
		a := telegramtest.User{ID: 5311, FirstName: "甲"}
		b := telegramtest.User{ID: 5312, FirstName: "乙"}
		startForm(h, "孝义市双拥工作领导小组", a)
		startForm(h, "汾阳市双拥工作领导小组", b)
		unitA, err := h.store.UnitByName(context.Background(), "孝义市双拥工作领导小组")
		if err != nil {
			t.Fatal(err)
		}
		faulty.mu.Lock()
		faulty.unit, faulty.fails = unitA.ID, 2
		faulty.mu.Unlock()
		na, nb := len(h.tg.Messages(a.ID)), len(h.tg.Messages(b.ID))
		h.tg.SendText(a, a.Chat(), "3")
		h.tg.SendText(b, b.Chat(), "4")
		h.tg.SendText(b, b.Chat(), "5")
		h.settle()

		gotB := newMessages(h, b, nb)
		if len(gotB) != 2 || !strings.Contains(gotB[0], "专栏") {
			t.Errorf("the healthy chat got %d messages %q, want the two next questions once each", len(gotB), gotB)
		}
		gotA := newMessages(h, a, na)
		if len(gotA) != 1 {
			t.Errorf("the failing chat got %d messages %q, want the next question once", len(gotA), gotA)
		}
		if got := h.draftOf("孝义市双拥工作领导小组").Answers["essays"].Num; got != 3 {
			t.Errorf("failing chat's essays = %d, want 3", got)
		}
		if got := h.draftOf("汾阳市双拥工作领导小组").Answers["columns"].Num; got != 5 {
			t.Errorf("healthy chat's columns = %d, want 5", got)
		}
	})
}

// TestStrangerFloodIsCheap: a user who is not a contact and floods the bot
// gets best-effort answers, at most about 20, then is ignored; nothing of
// theirs is written to the store, and a contact's form goes on meanwhile.
func TestStrangerFloodIsCheap(t *testing.T) {
	h := newHarness(t, harnessOptions{store: "bolt"})
	u := telegramtest.User{ID: 5321, FirstName: "甲"}
	startForm(h, "交城县双拥工作领导小组", u)
	stranger := telegramtest.User{ID: 5399, FirstName: "路人"}
	h.tg.AddUser(stranger)
	var ids []int64
	for i := range 40 {
		ids = append(ids, h.tg.SendText(stranger, stranger.Chat(), fmt.Sprintf("你好 %d", i)))
	}
	h.fill(u, "essays", "3")
	h.settle()
	if n := len(h.tg.Messages(stranger.ID)); n == 0 || n > strangerBurst {
		t.Errorf("a stranger who sent 40 messages got %d answers, want 1 to %d", n, strangerBurst)
	}
	for _, id := range ids {
		st, err := h.store.Claim(context.Background(), flows.UpdateKey(id), "probe", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if st != flows.Claimed {
			t.Fatalf("the stranger's update %d left %v in the store, want nothing", id, st)
		}
	}
	h.expectQuestion(u, "columns")
}
