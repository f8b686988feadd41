package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The office's side: its group chat, the overview of the campaign and a
// unit's submitted material.

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

// SetOfficeGroup makes the chat the office group.
func (s *Service) SetOfficeGroup(ctx context.Context, chatID int64) error {
	if err := s.Store.PutSetting(ctx, SettingOfficeGroup, fmt.Sprint(chatID)); err != nil {
		return fmt.Errorf("store office group: %w", err)
	}
	return nil
}

// FollowMigration moves the office group to its new supergroup id when
// the group that migrated is the office group; it says whether it did.
func (s *Service) FollowMigration(ctx context.Context, oldID, newID int64) (bool, error) {
	group, err := s.OfficeGroup(ctx)
	if err != nil {
		return false, err
	}
	if group != oldID || newID == 0 {
		return false, nil
	}
	if err := s.Store.PutSetting(ctx, SettingOfficeGroup, fmt.Sprint(newID)); err != nil {
		return false, fmt.Errorf("store migrated office group: %w", err)
	}
	return true, nil
}

// Overview loads the office's view of the open campaign now.
func (s *Service) Overview(ctx context.Context) (*Overview, error) {
	c, deadline, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	return s.overview(ctx, c, deadline)
}

// OverviewOf loads the office's view of campaign c (the open one or an
// earlier one, see CampaignByID) now.
func (s *Service) OverviewOf(ctx context.Context, c *Campaign) (*Overview, error) {
	deadline, err := s.DeadlineOf(ctx, c)
	if err != nil {
		return nil, err
	}
	return s.overview(ctx, c, deadline)
}

// overview loads campaign c's overview and, when c names its previous
// campaign, that one's figures beside (Overview.SetPrevious).
func (s *Service) overview(ctx context.Context, c *Campaign, deadline time.Time) (*Overview, error) {
	o, err := LoadOverview(ctx, s.Store, c, deadline, s.Now())
	if err != nil {
		return nil, fmt.Errorf("load overview of campaign %s: %w", c.ID, err)
	}
	if c.Previous == "" {
		return o, nil
	}
	prev, err := s.CampaignByID(ctx, c.Previous)
	var ue *UserError
	if errors.As(err, &ue) {
		return o, nil // not in this store: nothing to compare with
	}
	if err != nil {
		return nil, err
	}
	pd, err := s.DeadlineOf(ctx, prev)
	if err != nil {
		return nil, err
	}
	po, err := LoadOverview(ctx, s.Store, prev, pd, s.Now())
	if err != nil {
		return nil, fmt.Errorf("load overview of previous campaign %s: %w", prev.ID, err)
	}
	o.SetPrevious(po)
	return o, nil
}

// OverviewTexts reads the text answers of a unit of the overview (see
// Overview.LoadTexts).
func (s *Service) OverviewTexts(ctx context.Context, o *Overview, u *UnitOverview) ([]string, error) {
	return o.LoadTexts(ctx, s.Store, u)
}

// LatestReport returns the unit's newest submitted report, and whether it
// has been returned for correction since.
func (s *Service) LatestReport(ctx context.Context, unit Unit) (r Report, returned bool, err error) {
	reps, err := s.Store.Reports(ctx, s.Campaign().Key, unit.ID)
	if err != nil {
		return Report{}, false, fmt.Errorf("reports of unit %d: %w", unit.ID, err)
	}
	if len(reps) == 0 {
		return Report{}, false, &UserError{Msg: "“" + unit.Name + "”尚未提交报告，暂无材料。发送 /pending 查看各单位进度。"}
	}
	d, err := s.Store.Draft(ctx, s.Campaign().Key, unit.ID)
	return reps[len(reps)-1], err == nil && d.Status == StatusReturned, nil
}
