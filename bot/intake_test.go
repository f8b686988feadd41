package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

func msgUpdate(id, chat int64) models.Update {
	return models.Update{ID: id, Message: &models.Message{ID: int(id), Chat: models.Chat{ID: chat, Type: models.ChatTypePrivate}}}
}

// TestBatchHoldsBackAfterFailure: when an update fails, later updates of
// the same chat in the batch are not handled (they come back with it, in
// order), other chats go on, and the offset confirms only what precedes
// the failure.
func TestBatchHoldsBackAfterFailure(t *testing.T) {
	var mu sync.Mutex
	var handled []int64
	b := &Bot{}
	b.disp = newDispatcher(4, func(_ context.Context, up *models.Update, _ time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		if up.ID == 11 {
			return errors.New("store down")
		}
		handled = append(handled, up.ID)
		return nil
	})
	defer b.disp.close()
	ups := []models.Update{msgUpdate(10, 1), msgUpdate(11, 1), msgUpdate(12, 2), msgUpdate(13, 1), msgUpdate(14, 2)}
	next, failed := b.handleBatch(context.Background(), ups)
	if !failed || next != 11 {
		t.Fatalf("handleBatch = next %d failed %v, want 11 true", next, failed)
	}
	got := map[int64]bool{}
	for _, id := range handled {
		got[id] = true
	}
	if !got[10] || !got[12] || !got[14] {
		t.Errorf("handled %v, want 10, 12 and 14", handled)
	}
	if got[13] {
		t.Errorf("update 13 of chat 1 overtook the failed update 11 of the same chat")
	}

	// All good: the whole batch is confirmed.
	handled = nil
	next, failed = b.handleBatch(context.Background(), []models.Update{msgUpdate(20, 1), msgUpdate(21, 3)})
	if failed || next != 22 {
		t.Fatalf("handleBatch = next %d failed %v, want 22 false", next, failed)
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text, cmd, args string
	}{
		{"/start abc", "start", "abc"},
		{"/start@lvliang_report_bot abc", "start", "abc"},
		{"/Report", "report", ""},
		{"/summary@other_bot", "", ""},
		{"你好 /report", "", ""},
		{"/addunit 离石区双拥工作领导小组 县市区", "addunit", "离石区双拥工作领导小组 县市区"},
		{"/", "", ""},
		{"/reopen\n市总工会 数据有误", "reopen", "市总工会 数据有误"},
	}
	for _, tt := range tests {
		cmd, args := parseCommand(tt.text, "lvliang_report_bot")
		if cmd != tt.cmd || args != tt.args {
			t.Errorf("parseCommand(%q) = %q, %q; want %q, %q", tt.text, cmd, args, tt.cmd, tt.args)
		}
	}
}

// TestDispatcherLanes: a chat's updates are handled in order, one at a
// time; different chats at once, never more than the limit; after close,
// updates are refused.
func TestDispatcherLanes(t *testing.T) {
	const limit, chats, perChat = 3, 8, 5
	var (
		mu      sync.Mutex
		order   = map[int64][]int64{}
		busy    = map[int64]bool{}
		running int
		peak    int
		release = make(chan struct{})
	)
	d := newDispatcher(limit, func(_ context.Context, up *models.Update, _ time.Duration) error {
		chat := up.Message.Chat.ID
		mu.Lock()
		if busy[chat] {
			t.Errorf("chat %d: two updates handled at once", chat)
		}
		busy[chat] = true
		running++
		peak = max(peak, running)
		mu.Unlock()
		<-release
		mu.Lock()
		order[chat] = append(order[chat], up.ID)
		busy[chat] = false
		running--
		mu.Unlock()
		return nil
	})
	var dones []chan error
	for i := range int64(perChat) {
		for c := range int64(chats) {
			up := msgUpdate(100*c+i, c+1)
			dones = append(dones, d.submit(context.Background(), &up, nil, 0))
		}
	}
	// Let the handlers go one at a time once the lanes are full.
	go func() {
		for range chats * perChat {
			release <- struct{}{}
		}
	}()
	for _, done := range dones {
		if err := <-done; err != nil {
			t.Fatalf("update error: %v", err)
		}
	}
	if peak > limit {
		t.Errorf("%d updates handled at once, limit %d", peak, limit)
	}
	if peak < 2 {
		t.Errorf("at most %d update handled at once, want chats handled concurrently", peak)
	}
	for c := range int64(chats) {
		want := make([]int64, perChat)
		for i := range want {
			want[i] = 100*c + int64(i)
		}
		if got := order[c+1]; !slices.Equal(got, want) {
			t.Errorf("chat %d handled %v, want %v", c+1, got, want)
		}
	}
	d.close()
	up := msgUpdate(999, 1)
	if err := <-d.submit(context.Background(), &up, nil, 0); !errors.Is(err, errClosed) {
		t.Errorf("submit after close = %v, want errClosed", err)
	}
}

// TestDoneIDsForgetsOldest: the memory of handled updates is bounded and
// forgets the oldest first.
func TestDoneIDsForgetsOldest(t *testing.T) {
	d := newDoneIDs(3)
	for _, id := range []int64{1, 2, 3, 2, 4} {
		d.add(id)
	}
	for id, want := range map[int64]bool{1: false, 2: true, 3: true, 4: true, 5: false} {
		if got := d.has(id); got != want {
			t.Errorf("after adding 1 2 3 2 4 to a memory of 3, has(%d) = %v, want %v", id, got, want)
		}
	}
}
