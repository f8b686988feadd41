package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The office's work on the list of units: add, import, find, list, rename
// and remove. Refusals are *UserError with the text the admin sees.

// Units lists the units in ID order, removed ones included.
func (s *Service) Units(ctx context.Context) ([]Unit, error) {
	units, err := s.Store.Units(ctx)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return units, nil
}

// LoadUnit reads a unit from the store (not from the service's cache);
// ErrNotFound (wrapped) if there is none.
func (s *Service) LoadUnit(ctx context.Context, id int64) (Unit, error) {
	u, err := s.Store.Unit(ctx, id)
	if err != nil {
		return u, fmt.Errorf("load unit %d: %w", id, err)
	}
	return u, nil
}

// Draft reads a unit's draft from the store (a unit never started has a
// zero Draft).
func (s *Service) Draft(ctx context.Context, unitID int64) (Draft, error) {
	d, err := s.Store.Draft(ctx, s.Campaign().Key, unitID)
	if err != nil {
		return d, fmt.Errorf("load draft of unit %d: %w", unitID, err)
	}
	return d, nil
}

// UnitDraft is Draft for a contact acting for their unit: a removed unit
// is refused as a form step refuses it.
func (s *Service) UnitDraft(ctx context.Context, u Unit) (Draft, error) {
	if u.Removed {
		return Draft{}, s.errUnitRemoved(u)
	}
	return s.Draft(ctx, u.ID)
}

// errUnitRemoved tells a contact that their unit left the campaign.
func (s *Service) errUnitRemoved(u Unit) error {
	return &UserError{Msg: "“" + u.Name + "”已从本次填报名单中移除，无需再填报。如有疑问，请联系" + s.Campaign().Office + "。"}
}

// errNoSuchUnit tells an admin that no unit has the exact name.
func errNoSuchUnit(name string) error {
	return &UserError{Msg: "找不到单位“" + name + "”。请检查名称（需与单位列表完全一致），发送 /units 查看全部单位。"}
}

// errUnitGone answers a button whose unit no longer exists.
var errUnitGone = &UserError{Msg: "找不到这个单位，可能已被删除。"}

// AddUnit adds a unit named name (normalised and checked) of the category
// named catName (a name or an alias) and returns it with its category.
func (s *Service) AddUnit(ctx context.Context, name, catName string) (Unit, Category, error) {
	cat, ok := s.Campaign().CategoryByName(catName)
	if !ok {
		return Unit{}, cat, &UserError{Msg: "类别“" + catName + "”不存在，单位未添加。\n类别可选：" + s.Campaign().CategoryNames()}
	}
	name, err := NormalizeName(name)
	if ue := (*UserError)(nil); errors.As(err, &ue) {
		return Unit{}, cat, &UserError{Msg: ue.Msg + "单位未添加。"}
	}
	if msg := CheckUnitName(name); msg != "" {
		return Unit{}, cat, &UserError{Msg: msg}
	}
	unit, err := s.Store.AddUnit(ctx, Unit{Name: name, Category: cat.ID, Created: s.Now()})
	if errors.Is(err, ErrExists) {
		return unit, cat, &UserError{Msg: "单位“" + name + "”已存在，未重复添加。发送 /units 查看全部单位。"}
	}
	if err != nil {
		return unit, cat, fmt.Errorf("add unit: %w", err)
	}
	return unit, cat, nil
}

// UnitsImported is what an import of a units file did: the file's
// problems (nothing imported), or the units added and the names that were
// there already. Unchanged: every unit of the file exists already.
type UnitsImported struct {
	Problems  []Problem
	Added     []Unit
	Same      []string
	Unchanged bool
}

// ImportUnits adds the units of a units file (see ParseUnitsCSV): all or
// none.
func (s *Service) ImportUnits(ctx context.Context, data []byte) (UnitsImported, error) {
	existing, err := s.Units(ctx)
	if err != nil {
		return UnitsImported{}, err
	}
	imp, probs := ParseUnitsCSV(data, s.Campaign(), existing)
	if len(probs) > 0 {
		return UnitsImported{Problems: probs}, nil
	}
	if len(imp.Add) == 0 {
		return UnitsImported{Same: imp.Same, Unchanged: true}, nil
	}
	now := s.Now()
	for i := range imp.Add {
		imp.Add[i].Created = now
	}
	added, err := s.Store.AddUnits(ctx, imp.Add)
	if errors.Is(err, ErrExists) {
		return UnitsImported{}, &UserError{Msg: "导入未完成：有单位名称刚刚被占用（可能有人同时添加了单位），所有单位均未导入。请重新发送文件。"}
	}
	if err != nil {
		return UnitsImported{}, fmt.Errorf("import %d units: %w", len(imp.Add), err)
	}
	return UnitsImported{Added: added, Same: imp.Same}, nil
}

// UnitNamed finds a unit (not removed) by its exact name.
func (s *Service) UnitNamed(ctx context.Context, name string) (Unit, error) {
	unit, err := s.Store.UnitByName(ctx, name)
	if errors.Is(err, ErrNotFound) || err == nil && unit.Removed {
		return Unit{}, errNoSuchUnit(name)
	}
	if err != nil {
		return Unit{}, fmt.Errorf("find unit %q: %w", name, err)
	}
	return unit, nil
}

// LeadingUnit finds the unit (not removed) named by the longest leading
// run of fields (a name may contain spaces); rest is what follows it (nil,
// not empty, when no unit matches).
func (s *Service) LeadingUnit(ctx context.Context, fields []string) (Unit, []string, error) {
	for i := len(fields); i >= 1; i-- {
		unit, err := s.Store.UnitByName(ctx, strings.Join(fields[:i], " "))
		if errors.Is(err, ErrNotFound) || err == nil && unit.Removed {
			continue
		}
		if err != nil {
			return Unit{}, nil, fmt.Errorf("find unit: %w", err)
		}
		return unit, append([]string{}, fields[i:]...), nil
	}
	return Unit{}, nil, nil
}

// FindUnit finds a unit for the office by its exact name or, failing
// that, by a part of its name that only one unit (not removed) has.
func (s *Service) FindUnit(ctx context.Context, name string) (Unit, error) {
	unit, err := s.Store.UnitByName(ctx, name)
	if err == nil && !unit.Removed {
		return unit, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Unit{}, fmt.Errorf("find unit %q: %w", name, err)
	}
	units, err := s.Units(ctx)
	if err != nil {
		return Unit{}, err
	}
	var matches []Unit
	for _, x := range units {
		if !x.Removed && strings.Contains(x.Name, name) {
			matches = append(matches, x)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return Unit{}, &UserError{Msg: "找不到单位“" + name + "”。请检查名称，或发送 /pending 查看单位名单。"}
	}
	var names []string
	for i, x := range matches {
		if i == 10 {
			names = append(names, fmt.Sprintf("……共 %d 个", len(matches)))
			break
		}
		names = append(names, x.Name)
	}
	return Unit{}, &UserError{Msg: "有多个单位的名称包含“" + name + "”，请写完整名称：\n" + strings.Join(names, "\n")}
}

// DraftsByUnit returns the drafts of all units that have one, by unit id.
func (s *Service) DraftsByUnit(ctx context.Context) (map[int64]Draft, error) {
	ds, err := s.Store.Drafts(ctx, s.Campaign().Key)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	m := make(map[int64]Draft, len(ds))
	for _, d := range ds {
		m[d.UnitID] = d
	}
	return m, nil
}

// UnitStatus is a unit with its contacts and its draft (as /units lists
// it).
type UnitStatus struct {
	Unit     Unit
	Contacts []Contact
	Draft    Draft
}

// UnitStatuses lists the units not removed, in ID order.
func (s *Service) UnitStatuses(ctx context.Context) ([]UnitStatus, error) {
	units, err := s.Units(ctx)
	if err != nil {
		return nil, err
	}
	drafts, err := s.DraftsByUnit(ctx)
	if err != nil {
		return nil, err
	}
	var list []UnitStatus
	for _, unit := range units {
		if unit.Removed {
			continue
		}
		cts, err := s.Contacts(ctx, unit.ID)
		if err != nil {
			return nil, err
		}
		list = append(list, UnitStatus{Unit: unit, Contacts: cts, Draft: drafts[unit.ID]})
	}
	return list, nil
}

// RenameUnit renames unit (as read by the command) to newName (normalised
// and checked); it refuses when another admin renamed or removed the unit
// since it was read.
func (s *Service) RenameUnit(ctx context.Context, unit Unit, newName string) (Unit, error) {
	newName, err := NormalizeName(newName)
	if ue := (*UserError)(nil); errors.As(err, &ue) {
		return unit, &UserError{Msg: ue.Msg + "未修改。"}
	}
	if newName == unit.Name {
		return unit, &UserError{Msg: "新名称与原名称相同，未修改。"}
	}
	if msg := CheckUnitName(newName); msg != "" {
		return unit, &UserError{Msg: msg + "未修改。"}
	}
	old := unit.Name
	next, changed, err := s.editUnit(ctx, unit, func(cur *Unit) bool {
		if cur.Removed || cur.Name != old {
			return false // removed or renamed since the command read it
		}
		cur.Name = newName
		return true
	})
	if errors.Is(err, ErrExists) {
		return unit, &UserError{Msg: "名称“" + newName + "”已被其他单位使用，未修改。"}
	}
	if errors.Is(err, ErrConflict) || err == nil && !changed {
		return unit, &UserError{Msg: "单位“" + old + "”刚刚被其他管理员修改（改名或删除），未修改。请发送 /units 核对后重新发送命令。"}
	}
	if err != nil {
		return unit, fmt.Errorf("rename unit %d: %w", unit.ID, err)
	}
	s.ForgetUnit(unit.ID)
	return next, nil
}

// UnitRemoved is what removing a unit did: the unit, the contacts it
// unbound, and whether it had been removed before.
type UnitRemoved struct {
	Unit     Unit
	Contacts []Contact
	Already  bool
}

// RemoveUnit archives a unit (Removed; its reports are kept) and unbinds
// its contacts. Removing it again finishes what a failed attempt left.
func (s *Service) RemoveUnit(ctx context.Context, id int64) (UnitRemoved, error) {
	unit, err := s.LoadUnit(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return UnitRemoved{}, errUnitGone
	}
	if err != nil {
		return UnitRemoved{}, err
	}
	already := false
	unit, changed, err := s.editUnit(ctx, unit, func(cur *Unit) bool {
		already = cur.Removed
		cur.Removed = true
		return !already
	})
	if errors.Is(err, ErrConflict) {
		return UnitRemoved{}, &UserError{Msg: "单位“" + unit.Name + "”刚刚被其他管理员修改，未删除。请重新发送命令 /rmunit。"}
	}
	if err != nil {
		return UnitRemoved{}, fmt.Errorf("remove unit %d: %w", id, err)
	}
	if changed {
		s.ForgetUnit(id)
	}
	cts, err := s.Contacts(ctx, id)
	if err != nil {
		return UnitRemoved{}, err
	}
	for _, ct := range cts {
		if err := s.Store.RemoveContact(ctx, ct.UserID); err != nil {
			return UnitRemoved{}, fmt.Errorf("unbind contact %d of unit %d: %w", ct.UserID, id, err)
		}
	}
	return UnitRemoved{Unit: unit, Contacts: cts, Already: already}, nil
}

// editUnit writes what edit makes of unit with PutUnit's compare-and-set
// (Unit.Rev), so that two admins' edits of one unit cannot undo each other
// (a rename racing a removal must not bring the unit back). edit changes
// the unit in place and returns false to write nothing. When another edit
// landed since unit was read (ErrConflict), editUnit reads the unit again
// and calls edit once more with it, so edit must decide from the unit it
// is given; a second conflict returns ErrConflict. It returns the unit as
// stored (or as last read, when nothing was written).
func (s *Service) editUnit(ctx context.Context, unit Unit, edit func(*Unit) bool) (Unit, bool, error) {
	for retried := false; ; retried = true {
		next := unit
		if !edit(&next) {
			return unit, false, nil
		}
		err := s.Store.PutUnit(ctx, next)
		if err == nil {
			next.Rev++
			return next, true, nil
		}
		if !errors.Is(err, ErrConflict) || retried {
			return unit, false, err
		}
		if unit, err = s.Store.Unit(ctx, unit.ID); err != nil {
			return unit, false, fmt.Errorf("reload unit: %w", err)
		}
	}
}
