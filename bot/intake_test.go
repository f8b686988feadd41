package bot

import (
	"errors"
	"sync"
	"testing"

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
	b.disp = newDispatcher(4, func(up *models.Update) error {
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
	next, failed := b.handleBatch(ups)
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
	next, failed = b.handleBatch([]models.Update{msgUpdate(20, 1), msgUpdate(21, 3)})
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
