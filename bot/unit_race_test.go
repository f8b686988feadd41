package bot

import (
	"context"
	"slices"
	"sync"
	"testing"

	"reportbot/flows"
)

// meddlingStore runs meanwhile (another admin's edit, through the real
// store) just before the first PutUnit it is asked for, so that the bot's
// write comes from a stale read.
type meddlingStore struct {
	flows.Store
	mu        sync.Mutex
	meanwhile func(flows.Store)
}

func (m *meddlingStore) PutUnit(ctx context.Context, u flows.Unit) error {
	m.mu.Lock()
	f := m.meanwhile
	m.meanwhile = nil
	m.mu.Unlock()
	if f != nil {
		f(m.Store)
	}
	return m.Store.PutUnit(ctx, u)
}

func (m *meddlingStore) set(f func(flows.Store)) {
	m.mu.Lock()
	m.meanwhile = f
	m.mu.Unlock()
}

// TestAdminUnitEditsRace: /renameunit and /rmunit write with PutUnit's
// compare-and-set, so an edit landing between their read and their write
// is neither undone nor resurrects a removed unit.
func TestAdminUnitEditsRace(t *testing.T) {
	storeKinds(t, func(t *testing.T, kind string) {
		meddler := &meddlingStore{}
		h := newHarness(t, harnessOptions{store: kind, wrap: func(s flows.Store) flows.Store {
			meddler.Store = s
			return meddler
		}})
		ctx := context.Background()
		h.addUnit("示例企业甲", "企业")
		h.addUnit("示例企业乙", "企业")
		edit := func(name string, f func(*flows.Unit)) func(flows.Store) {
			return func(s flows.Store) {
				u, err := s.UnitByName(ctx, name)
				if err != nil {
					t.Errorf("meanwhile: UnitByName(%q): %v", name, err)
					return
				}
				f(&u)
				if err := s.PutUnit(ctx, u); err != nil {
					t.Errorf("meanwhile: PutUnit(%+v): %v", u, err)
				}
			}
		}

		// A rename racing a removal: refused, the unit stays removed.
		meddler.set(edit("示例企业甲", func(u *flows.Unit) { u.Removed = true }))
		wantText(t, h.say(h.admin, "/renameunit 示例企业甲 示例企业丙"), "刚刚被其他管理员修改", "请发送 /units 核对后重新发送命令")
		if got := h.unitNames(); !slices.Contains(got, "示例企业甲/enterprise/removed") || slices.ContainsFunc(got, func(s string) bool { return s == "示例企业丙/enterprise" }) {
			t.Errorf("units after a rename racing a removal = %v, want 示例企业甲 still removed and no 示例企业丙", got)
		}

		// A rename racing a note change: retried once on the fresh read,
		// both changes kept.
		meddler.set(edit("示例企业乙", func(u *flows.Unit) { u.Note = "备注" }))
		wantText(t, h.say(h.admin, "/renameunit 示例企业乙 示例企业丁"), "已将“示例企业乙”改名为“示例企业丁”")
		if u, err := h.store.UnitByName(ctx, "示例企业丁"); err != nil || u.Note != "备注" || u.Removed {
			t.Errorf("UnitByName(示例企业丁) after a rename racing a note change = %+v, %v; want renamed with the note", u, err)
		}

		// A removal racing a rename: retried, the unit is removed under
		// its new name (the rename is not undone).
		h.say(h.admin, "/rmunit 示例企业丁")
		meddler.set(edit("示例企业丁", func(u *flows.Unit) { u.Name = "示例企业戊" }))
		wantText(t, h.press(h.admin, "确认删除"), "已删除单位“示例企业戊”")
		if got := h.unitNames(); !slices.Contains(got, "示例企业戊/enterprise/removed") {
			t.Errorf("units after a removal racing a rename = %v, want 示例企业戊 removed", got)
		}
	})
}
