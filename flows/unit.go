package flows

import "time"

// Unit is a reporting unit (填报单位), e.g. 离石区双拥工作领导小组.
type Unit struct {
	ID       int64     `json:"id"`       // assigned by the store, 1, 2, 3…; also the receipt's serial
	Name     string    `json:"name"`     // unique within the campaign
	Category string    `json:"category"` // a category id of the campaign, e.g. "county"
	Note     string    `json:"note,omitempty"`
	Created  time.Time `json:"created"`
	Removed  bool      `json:"removed,omitempty"` // archived by /rmunit; reports are kept
	// Rev is the store's revision of the unit: PutUnit writes only if the
	// stored Rev is still this one, and stores Rev+1. Units stored before
	// revisions existed have none, which reads as 0.
	Rev int64 `json:"rev,omitempty"`
}

// Contact is a Telegram user bound to a unit (填报联系人).
type Contact struct {
	UserID      int64     `json:"user_id"`
	UnitID      int64     `json:"unit_id"`
	ChatID      int64     `json:"chat_id"` // private chat with the bot
	Name        string    `json:"name,omitempty"`
	BoundAt     time.Time `json:"bound_at"`
	Unreachable bool      `json:"unreachable,omitempty"` // blocked the bot (403)
}

// Invite is a single-use invite link token for a unit. Only the hash of the
// token is stored.
type Invite struct {
	Hash      string    `json:"hash"` // hex SHA-256 of the token
	UnitID    int64     `json:"unit_id"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	UsedBy    int64     `json:"used_by,omitempty"`
	UsedAt    time.Time `json:"used_at,omitzero"`
	Handover  int64     `json:"handover,omitempty"` // user id that hands the unit over; loses access when the invite is used
	CreatedBy int64     `json:"created_by,omitempty"`
	Revoked   time.Time `json:"revoked_at,omitzero"` // revoked by an admin (/revoke); cannot bind
}

// Open reports whether the invite can still bind someone at now: unused,
// not revoked, not expired.
func (inv Invite) Open(now time.Time) bool {
	return inv.UsedBy == 0 && inv.Revoked.IsZero() && (inv.Expires.IsZero() || now.Before(inv.Expires))
}
