package flows

import (
	"context"
	"errors"
	"fmt"
)

// What the reminders and digests (reportbot/remind) and their admin
// commands ask of the store, in the domain's terms.

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

// RemindersOff reports whether the office stopped the reminders after the
// deadline (/reminders off).
func (s *Service) RemindersOff(ctx context.Context) (bool, error) {
	v, err := s.Store.Setting(ctx, s.Campaign().ScopedKey(SettingReminders))
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
	if err := s.Store.PutSetting(ctx, s.Campaign().ScopedKey(SettingReminders), value); err != nil {
		return fmt.Errorf("store reminders setting: %w", err)
	}
	return nil
}
