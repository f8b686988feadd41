package flows

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Invite links: making them (one unit, a handover, every unit without a
// contact) and revoking the open ones.

// CreateInvite stores a fresh invite for a unit, made by the user by;
// handover is the contact handing the unit over with it (0 for none). It
// returns the token for the link.
func (s *Service) CreateInvite(ctx context.Context, unitID, by, handover int64) (string, error) {
	token, inv, err := NewInvite(unitID, s.Now())
	if err != nil {
		return "", err
	}
	inv.CreatedBy = by
	inv.Handover = handover
	if err := s.Store.PutInvite(ctx, inv); err != nil {
		return "", fmt.Errorf("store invite for unit %d: %w", unitID, err)
	}
	return token, nil
}

// OpenInvites counts the unit's open invites and returns the newest one's
// creation time (the cutoff for revoking them later); call it before
// making a new link.
func (s *Service) OpenInvites(ctx context.Context, unitID int64) (n int, newest time.Time, err error) {
	invs, err := s.Store.Invites(ctx, unitID)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("invites of unit %d: %w", unitID, err)
	}
	now := s.Now()
	for _, inv := range invs {
		if inv.Open(now) {
			n++
			if inv.Created.After(newest) {
				newest = inv.Created
			}
		}
	}
	return n, newest, nil
}

// UnitInvite is a fresh invite token for a unit.
type UnitInvite struct {
	Unit  Unit
	Token string
}

// InviteBatch is a fresh invite for every unit without a contact, and the
// open invites those units had before (Older of them, the newest made at
// Cutoff).
type InviteBatch struct {
	Invites []UnitInvite
	Older   int
	Cutoff  time.Time
}

// InviteUnbound makes a fresh invite, by the user by, for every unit (not
// removed) that has no contact.
func (s *Service) InviteUnbound(ctx context.Context, by int64) (InviteBatch, error) {
	units, err := s.Units(ctx)
	if err != nil {
		return InviteBatch{}, err
	}
	var b InviteBatch
	for _, unit := range units {
		if unit.Removed {
			continue
		}
		cts, err := s.Contacts(ctx, unit.ID)
		if err != nil {
			return InviteBatch{}, err
		}
		if len(cts) > 0 {
			continue
		}
		n, newest, err := s.OpenInvites(ctx, unit.ID)
		if err != nil {
			return InviteBatch{}, err
		}
		b.Older += n
		if newest.After(b.Cutoff) {
			b.Cutoff = newest
		}
		token, err := s.CreateInvite(ctx, unit.ID, by, 0)
		if err != nil {
			return InviteBatch{}, err
		}
		b.Invites = append(b.Invites, UnitInvite{Unit: unit, Token: token})
	}
	return b, nil
}

// RevokeInvites revokes the unit's invites open now (see
// Store.RevokeInvites) and returns how many.
func (s *Service) RevokeInvites(ctx context.Context, unitID int64) (int, error) {
	return s.revokeInvites(ctx, unitID, s.Now())
}

func (s *Service) revokeInvites(ctx context.Context, unitID int64, cutoff time.Time) (int, error) {
	n, err := s.Store.RevokeInvites(ctx, unitID, cutoff)
	if err != nil {
		return 0, fmt.Errorf("revoke invites of unit %d: %w", unitID, err)
	}
	return n, nil
}

// RevokeOlderInvites revokes the unit's open invites made at or before
// cutoff (the links an admin had before the newest one) and returns the
// unit and how many it revoked.
func (s *Service) RevokeOlderInvites(ctx context.Context, unitID int64, cutoff time.Time) (Unit, int, error) {
	unit, err := s.LoadUnit(ctx, unitID)
	if errors.Is(err, ErrNotFound) {
		return unit, 0, errUnitGone
	}
	if err != nil {
		return unit, 0, err
	}
	n, err := s.revokeInvites(ctx, unitID, cutoff)
	return unit, n, err
}

// RevokeOlderUnbound is RevokeOlderInvites for every unit (not removed)
// that has no contact (the units InviteUnbound makes links for); it
// returns how many it revoked in all.
func (s *Service) RevokeOlderUnbound(ctx context.Context, cutoff time.Time) (int, error) {
	units, err := s.Units(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, unit := range units {
		if unit.Removed {
			continue
		}
		cts, err := s.Contacts(ctx, unit.ID)
		if err != nil {
			return 0, err
		}
		if len(cts) > 0 {
			continue
		}
		n, err := s.revokeInvites(ctx, unit.ID, cutoff)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
