package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// What the reminders and digests (reportbot/remind) and their admin
// commands ask of the store, in the domain's terms.

// DraftsByUnit returns every stored draft by its unit's id.
func (s *Service) DraftsByUnit(ctx context.Context) (map[int64]Draft, error) {
	ds, err := s.Store.Drafts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	m := make(map[int64]Draft, len(ds))
	for _, d := range ds {
		m[d.UnitID] = d
	}
	return m, nil
}

// UnitsToRemind returns the units a reminder round reaches now (not
// removed, without a standing version) and every unit's draft by its id.
func (s *Service) UnitsToRemind(ctx context.Context) ([]Unit, map[int64]Draft, error) {
	units, err := s.Store.Units(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list units: %w", err)
	}
	drafts, err := s.DraftsByUnit(ctx)
	if err != nil {
		return nil, nil, err
	}
	var todo []Unit
	for _, u := range units {
		if !u.Removed && NeedsReminder(drafts[u.ID]) {
			todo = append(todo, u)
		}
	}
	return todo, drafts, nil
}

// OfficeGroup returns the office group's chat id, 0 if none is set.
func (s *Service) OfficeGroup(ctx context.Context) (int64, error) {
	v, err := s.Store.Setting(ctx, SettingOfficeGroup)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load office group: %w", err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stored office group %q: %w", v, err)
	}
	return id, nil
}

// RemindersOff reports whether the office stopped the reminders after the
// deadline (/reminders off).
func (s *Service) RemindersOff(ctx context.Context) (bool, error) {
	v, err := s.Store.Setting(ctx, SettingReminders)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load reminders setting: %w", err)
	}
	return v == "off", nil
}

// SetRemindersOff stops (off) or starts again the reminders after the
// deadline.
func (s *Service) SetRemindersOff(ctx context.Context, off bool) error {
	value := "on"
	if off {
		value = "off"
	}
	if err := s.Store.PutSetting(ctx, SettingReminders, value); err != nil {
		return fmt.Errorf("store reminders setting: %w", err)
	}
	return nil
}
