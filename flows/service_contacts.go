package flows

import (
	"context"
	"errors"
	"fmt"
)

// Contacts: binding with an invite, where a contact can be reached, and
// an admin taking a contact's access back. Refusals are *UserError with
// the text the user sees.

// Contact reads a user's contact record from the store; ErrNotFound
// (unwrapped, as the store says it) if the user is no contact.
func (s *Service) Contact(ctx context.Context, userID int64) (Contact, error) {
	return s.Store.Contact(ctx, userID)
}

// Contacts lists a unit's contacts.
func (s *Service) Contacts(ctx context.Context, unitID int64) ([]Contact, error) {
	cts, err := s.Store.Contacts(ctx, unitID)
	if err != nil {
		return nil, fmt.Errorf("contacts of unit %d: %w", unitID, err)
	}
	return cts, nil
}

// ReachedAt records that a contact wrote from chatID: reachable (again),
// at that chat. It writes only when that changes the contact, and says
// whether it did.
func (s *Service) ReachedAt(ctx context.Context, ct Contact, chatID int64) (Contact, bool, error) {
	if !ct.Unreachable && ct.ChatID == chatID {
		return ct, false, nil
	}
	ct.Unreachable = false
	ct.ChatID = chatID
	if err := s.Store.PutContact(ctx, ct); err != nil {
		return ct, false, fmt.Errorf("mark contact %d reachable: %w", ct.UserID, err)
	}
	return ct, true, nil
}

// MarkUnreachable records that the contact with this user id blocked the
// bot. marked is false when the user is no contact (or cannot be read
// now) or was marked before; err is a failed write (ct and marked are
// still returned: the contact is unreachable either way).
func (s *Service) MarkUnreachable(ctx context.Context, userID int64) (ct Contact, marked bool, err error) {
	ct, err = s.Store.Contact(ctx, userID)
	if err != nil || ct.Unreachable {
		return ct, false, nil
	}
	ct.Unreachable = true
	if err := s.Store.PutContact(ctx, ct); err != nil {
		return ct, true, fmt.Errorf("mark contact %d unreachable: %w", userID, err)
	}
	return ct, true, nil
}

// Bind makes ct (UserID, ChatID, Name) a contact of the unit whose invite
// has this token and returns the unit; added is false when the user was
// bound to it by this invite before (the same Bind again).
func (s *Service) Bind(ctx context.Context, token string, ct Contact) (unit Unit, added bool, err error) {
	now := s.Now()
	ct.BoundAt = now
	prev, perr := s.Store.Contact(ctx, ct.UserID)
	unit, err = s.Store.Bind(ctx, HashToken(token), ct, now)
	if err != nil {
		return unit, false, s.bindRefusal(ctx, ct.UserID, err)
	}
	return unit, perr != nil || prev.UnitID != unit.ID, nil
}

// bindRefusal tells the user why their invite did not bind them; an
// error that is not a refusal is returned wrapped.
func (s *Service) bindRefusal(ctx context.Context, userID int64, err error) error {
	msg := ""
	switch {
	case errors.Is(err, ErrNotFound):
		msg = "邀请链接无效或不存在。请确认链接完整；如仍有问题，请联系市双拥办重新获取邀请链接。"
	case errors.Is(err, ErrInviteUsed):
		msg = "此邀请链接已被使用过，每个链接只能绑定一次。如需绑定，请联系市双拥办获取新的邀请链接。"
	case errors.Is(err, ErrInviteExpired):
		msg = "此邀请链接已过期（有效期 30 天）。请联系市双拥办获取新的邀请链接。"
	case errors.Is(err, ErrInviteRevoked):
		msg = "此邀请链接已被市双拥办作废，不能再使用。如需绑定，请联系市双拥办获取新的邀请链接。"
	case errors.Is(err, ErrUnitRemoved):
		msg = "该单位已不在本次填报名单中，邀请链接不能再使用。如有疑问，请联系" + s.Campaign().Office + "。"
	case errors.Is(err, ErrAlreadyBound):
		cur, _ := s.Store.Contact(ctx, userID)
		name := "其他单位"
		if cu, err := s.Store.Unit(ctx, cur.UnitID); err == nil {
			name = "“" + cu.Name + "”"
		}
		msg = "您已是" + name + "的填报联系人，一个账号只能绑定一个单位。如需更换单位，请先在原单位使用 /handover 交接，或联系市双拥办。"
	default:
		return fmt.Errorf("bind user %d: %w", userID, err)
	}
	return &UserError{Msg: msg}
}

// HandedOver returns the users who handed unitID over to userID with the
// handover invites userID used: they are contacts no longer.
func (s *Service) HandedOver(ctx context.Context, unitID, userID int64) ([]int64, error) {
	invs, err := s.Store.Invites(ctx, unitID)
	if err != nil {
		return nil, fmt.Errorf("invites of unit %d: %w", unitID, err)
	}
	var from []int64
	for _, inv := range invs {
		if inv.UsedBy == userID && inv.Handover != 0 && inv.Handover != userID {
			from = append(from, inv.Handover)
		}
	}
	return from, nil
}

// ContactRemoved is what taking a contact's access back did: the unit,
// the contact as they were, and how many of the unit's open invite links
// were revoked with them.
type ContactRemoved struct {
	Unit    Unit
	Contact Contact
	Revoked int
}

// RemoveContact unbinds the user from unitID. A handover link the contact
// made would let them (or whoever has it) back in, so when there is such
// an open link, the unit's open links are revoked too. Removing again
// after it worked is refused saying so.
func (s *Service) RemoveContact(ctx context.Context, unitID, userID int64) (ContactRemoved, error) {
	unit, err := s.LoadUnit(ctx, unitID)
	if errors.Is(err, ErrNotFound) {
		return ContactRemoved{}, errUnitGone
	}
	if err != nil {
		return ContactRemoved{}, err
	}
	ct, err := s.Store.Contact(ctx, userID)
	if errors.Is(err, ErrNotFound) || err == nil && ct.UnitID != unitID {
		return ContactRemoved{}, &UserError{Msg: fmt.Sprintf("用户 %d 已不是“%s”的填报联系人。", userID, unit.Name)}
	}
	if err != nil {
		return ContactRemoved{}, fmt.Errorf("load contact %d: %w", userID, err)
	}
	revoked, err := s.revokeLinksOf(ctx, unitID, userID)
	if err != nil {
		return ContactRemoved{}, err
	}
	if err := s.Store.RemoveContact(ctx, userID); err != nil && !errors.Is(err, ErrNotFound) {
		return ContactRemoved{}, fmt.Errorf("remove contact %d of unit %d: %w", userID, unitID, err)
	}
	return ContactRemoved{Unit: unit, Contact: ct, Revoked: revoked}, nil
}

// revokeLinksOf revokes the unit's open invite links if one of them was
// made by the user or hands the unit over from them; it returns how many
// it revoked.
func (s *Service) revokeLinksOf(ctx context.Context, unitID, userID int64) (int, error) {
	invs, err := s.Store.Invites(ctx, unitID)
	if err != nil {
		return 0, fmt.Errorf("invites of unit %d: %w", unitID, err)
	}
	now := s.Now()
	for _, inv := range invs {
		if inv.Open(now) && (inv.CreatedBy == userID || inv.Handover == userID) {
			n, err := s.Store.RevokeInvites(ctx, unitID, now)
			if err != nil {
				return 0, fmt.Errorf("revoke invites of unit %d: %w", unitID, err)
			}
			return n, nil
		}
	}
	return 0, nil
}
