package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Setting keys shared by the bot and the scheduler.
const (
	SettingDeadline    = "deadline"     // RFC 3339; overrides the campaign file's deadline
	SettingOfficeGroup = "office_group" // chat id of the office group
	SettingReminders   = "reminders"    // "off" stops reminders after the deadline
)

// InviteTTL is how long an invite link stays valid.
const InviteTTL = 30 * 24 * time.Hour

// Service runs the engine against the store: load, step, apply atomically.
// It keeps a small cache of drafts so that a form step costs one store
// round trip; the cache is only a guess, the store's revision check
// decides (a stale cached draft gets ErrConflict and is reloaded).
type Service struct {
	Store Store
	Now   func() time.Time

	camp atomic.Pointer[Campaign] // the open campaign (Campaign)

	mu       sync.Mutex
	drafts   map[draftKey]Draft // last draft seen
	units    map[int64]cachedUnit
	deadline cachedDeadline
	reg      registryCache // the campaigns known to the store (registry.go)
}

// cacheTTL bounds how stale the cached deadline may be on a replica that
// did not make the change itself (the one that did forgets at once).
const cacheTTL = 5 * time.Second

// unitTTL is the same for units. A contact thinks longer than a few seconds
// over most questions, so with cacheTTL every step would reload the unit: a
// second store round trip. What a stale unit could get wrong is guarded
// elsewhere: removing a unit unbinds its contacts, which every Apply checks
// in the store; the category does not change; a new name shows up on other
// replicas within unitTTL.
const unitTTL = 10 * time.Minute

type cachedUnit struct {
	u  Unit
	at time.Time
}

type cachedDeadline struct {
	camp *Campaign // whose deadline
	t    time.Time
	at   time.Time
}

// NewService returns a service over store for campaign c.
func NewService(store Store, c *Campaign, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{Store: store, Now: now, drafts: map[draftKey]Draft{}, units: map[int64]cachedUnit{}}
	s.camp.Store(c)
	return s
}

// Campaign returns the campaign open for filling. It can change while the
// service runs (OpenCampaign, or another replica's); take it once per
// operation.
func (s *Service) Campaign() *Campaign { return s.camp.Load() }

// maxCached bounds the draft cache and the unit cache; state lives in the
// store. It is enough for the contacts in the middle of a form at one time
// (a miss costs one store read); at 2048, the caches were most of the live
// heap with 10,000 drafts open (`reportbot loadtest -open 10000`).
const maxCached = 512

// Deadline returns the effective deadline of the open campaign (see
// Current).
func (s *Service) Deadline(ctx context.Context) (time.Time, error) {
	_, t, err := s.Current(ctx)
	return t, err
}

// Current returns the open campaign and its effective deadline: an admin's
// override or the campaign file's. Both are cached for a few seconds (a
// form step should cost one store round trip); when the cache runs out,
// the registry is read again, so that a campaign another replica opened
// takes effect here too.
func (s *Service) Current(ctx context.Context) (*Campaign, time.Time, error) {
	c := s.Campaign()
	s.mu.Lock()
	cd := s.deadline
	s.mu.Unlock()
	if cd.camp == c && time.Since(cd.at) < cacheTTL {
		return c, cd.t, nil
	}
	c, err := s.followRegistry(ctx)
	if err != nil {
		return c, time.Time{}, err
	}
	t, err := s.DeadlineOf(ctx, c)
	if err != nil {
		return c, t, err
	}
	s.mu.Lock()
	s.deadline = cachedDeadline{camp: c, t: t, at: time.Now()}
	s.mu.Unlock()
	return c, t, nil
}

// DeadlineOf returns campaign c's effective deadline, read from the store.
func (s *Service) DeadlineOf(ctx context.Context, c *Campaign) (time.Time, error) {
	v, err := s.Store.Setting(ctx, c.ScopedKey(SettingDeadline))
	if errors.Is(err, ErrNotFound) {
		return c.Deadline, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load deadline: %w", err)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored deadline %q: %w", v, err)
	}
	return t.In(c.Location), nil
}

// SetDeadline moves the open campaign's deadline and returns the previous
// one.
func (s *Service) SetDeadline(ctx context.Context, t time.Time) (old time.Time, err error) {
	c := s.Campaign()
	old, err = s.DeadlineOf(ctx, c)
	if err != nil {
		return old, err
	}
	if err := s.Store.PutSetting(ctx, c.ScopedKey(SettingDeadline), t.Format(time.RFC3339)); err != nil {
		return old, fmt.Errorf("store deadline: %w", err)
	}
	s.mu.Lock()
	s.deadline = cachedDeadline{}
	s.mu.Unlock()
	return old, nil
}

// UserError is an error whose message is meant for the user (Chinese).
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// Origin is where an input came from: the chat to answer in, and the
// message whose button was pressed (0 when the input was typed).
type Origin struct {
	Chat    int64
	Pressed int
}

// DoneKeep is how long a committed update or command is remembered, so
// that its redelivery is recognised (Telegram keeps updates a day).
const DoneKeep = 72 * time.Hour

// UpdateKey is the key under which an update's work is claimed and
// committed (Store.Claim, Store.Commit).
func UpdateKey(updateID int64) string { return "upd:" + strconv.FormatInt(updateID, 10) }

// Handle applies one input of a contact to the contact's unit draft. The
// replies to the contact (and, for a submission, the office group's post)
// are written to the outbox with the draft, in one atomic write; the
// Result's Outbox has them, with their IDs, for the sender. updateID makes
// it idempotent: an input applied before (a redelivered update) changes
// nothing and writes no message again. A transition computed from a stale
// draft is recomputed.
func (s *Service) Handle(ctx context.Context, updateID int64, ct Contact, in Input, from Origin) (Result, error) {
	return s.handle(ctx, updateID, ct, from, func(c *Campaign, d Draft, env Env) Result {
		res := c.Step(d, env, in)
		if in.Cmd == "status" {
			res.Replies = append(res.Replies, s.earlierReports(ctx, c, env.Unit)...)
		}
		return res
	})
}

// HandleTemplate applies an uploaded template (read by sheet.ReadTemplate)
// to the contact's unit draft as Handle applies a typed answer: one step
// (Campaign.StepTemplate), stored with its replies in one atomic write.
func (s *Service) HandleTemplate(ctx context.Context, updateID int64, ct Contact, up TemplateUpload, from Origin) (Result, error) {
	return s.handle(ctx, updateID, ct, from, func(c *Campaign, d Draft, env Env) Result { return c.StepTemplate(d, env, up) })
}

// handle loads the unit's draft, steps it and stores the result (Handle).
//
// The campaign is the one open when the input arrives: a contact in the
// middle of a form when a new campaign opens goes on in the new one (a new
// draft), the old draft stays with the old campaign.
func (s *Service) handle(ctx context.Context, updateID int64, ct Contact, from Origin, step func(*Campaign, Draft, Env) Result) (Result, error) {
	u, err := s.unit(ctx, ct.UnitID)
	if err != nil {
		return Result{}, err
	}
	if u.Removed {
		return Result{}, s.errUnitRemoved(u)
	}
	c, deadline, err := s.Current(ctx)
	if err != nil {
		return Result{}, err
	}
	env := Env{Unit: u, UserID: ct.UserID, Now: s.Now(), Deadline: deadline}
	d, cached := s.cachedDraft(c.Key, u.ID)
	for attempt := 0; ; attempt++ {
		if !cached {
			if d, err = s.loadDraft(ctx, c, u.ID); err != nil {
				return Result{}, err
			}
		}
		res := step(c, d, env)
		res.Outbox = PlanReplies(from.Chat, from.Pressed, res.Replies, env.Now)
		if res.Report != nil {
			res.Outbox = append(res.Outbox, c.SubmissionPostBeside(u, *res.Report, res.Draft.Prev)...)
		}
		if !res.Changed {
			s.remember(c.Key, d)
			return s.commitView(ctx, updateID, res)
		}
		err = s.Store.Apply(ctx, Transition{
			Campaign: c.Key, UnitID: u.ID, UpdateID: updateID, UserID: ct.UserID,
			FromRev: d.Rev, Draft: res.Draft, Report: res.Report, Outbox: res.Outbox,
		})
		switch {
		case err == nil:
			s.remember(c.Key, res.Draft)
			return res, nil
		case errors.Is(err, ErrConflict) && attempt < 5:
			cached = false // someone else moved the draft: reload and recompute
			continue
		case errors.Is(err, ErrDuplicate):
			// Already applied (a redelivery, or a retried write that did
			// land): its messages were written with it.
			s.forget(c.Key, u.ID)
			return Result{Draft: d}, nil
		case errors.Is(err, ErrNotContact):
			s.forget(c.Key, u.ID)
			return Result{}, &UserError{Msg: "您已不再是“" + u.Name + "”的填报联系人（单位已交接给其他同事）。如有疑问，请联系" + c.Office + "。"}
		default:
			s.forget(c.Key, u.ID)
			return Result{}, fmt.Errorf("apply step of unit %d: %w", u.ID, err)
		}
	}
}

// loadDraft reads the unit's draft in campaign c. A draft not started yet
// in a campaign that names its previous one gets the unit's figures there
// (Draft.Prev), once: they are stored with the draft's first step.
func (s *Service) loadDraft(ctx context.Context, c *Campaign, unitID int64) (Draft, error) {
	d, err := s.Store.Draft(ctx, c.Key, unitID)
	if err != nil {
		return d, fmt.Errorf("load draft of unit %d: %w", unitID, err)
	}
	if d.Rev != 0 || d.Prev != nil || c.Previous == "" {
		return d, nil
	}
	if d.Prev, err = s.previousFigures(ctx, c, unitID); err != nil {
		return d, err
	}
	return d, nil
}

// commitView writes the replies of a step that changed nothing (a
// question shown again, a refused answer) to the outbox, once per update.
func (s *Service) commitView(ctx context.Context, updateID int64, res Result) (Result, error) {
	if len(res.Outbox) == 0 {
		return res, nil
	}
	first, err := s.Store.Commit(ctx, UpdateKey(updateID), DoneKeep, res.Outbox)
	if err != nil {
		return Result{}, fmt.Errorf("commit replies of update %d: %w", updateID, err)
	}
	if !first {
		res.Outbox = nil // a redelivery: they were written the first time
		res.Replies = nil
	}
	return res, nil
}

// Claim takes an update's work (a command) before it runs, so that a
// redelivery or a second replica does not run it twice; token names this
// process. Commit finishes it.
func (s *Service) Claim(ctx context.Context, updateID int64, token string, ttl time.Duration) (ClaimState, error) {
	st, err := s.Store.Claim(ctx, UpdateKey(updateID), token, ttl)
	if err != nil {
		return st, fmt.Errorf("claim update %d: %w", updateID, err)
	}
	return st, nil
}

// Commit writes an update's messages to the outbox and marks the update
// done, atomically (IDs are assigned in msgs). false: it was done before,
// and nothing was written.
func (s *Service) Commit(ctx context.Context, updateID int64, msgs []Outgoing) (bool, error) {
	first, err := s.Store.Commit(ctx, UpdateKey(updateID), DoneKeep, msgs)
	if err != nil {
		return false, fmt.Errorf("commit update %d: %w", updateID, err)
	}
	return first, nil
}

// Apply stores a transition computed elsewhere (e.g. an office return)
// from the unit's current draft, retrying on conflicts.
func (s *Service) Apply(ctx context.Context, unitID, updateID int64, change func(Draft) (Draft, *Report, error)) (Draft, error) {
	c := s.Campaign()
	for attempt := 0; ; attempt++ {
		d, err := s.Store.Draft(ctx, c.Key, unitID)
		if err != nil {
			return Draft{}, fmt.Errorf("load draft of unit %d: %w", unitID, err)
		}
		nd, rep, err := change(d)
		if err != nil {
			return d, err
		}
		nd.Rev = d.Rev + 1
		nd.UpdatedAt = s.Now()
		err = s.Store.Apply(ctx, Transition{Campaign: c.Key, UnitID: unitID, UpdateID: updateID, FromRev: d.Rev, Draft: nd, Report: rep})
		if errors.Is(err, ErrConflict) && attempt < 5 {
			continue
		}
		s.forget(c.Key, unitID)
		if err != nil {
			return d, fmt.Errorf("apply change to unit %d: %w", unitID, err)
		}
		return nd, nil
	}
}

// ForgetUnit drops cached data of a unit (after a rename or removal).
func (s *Service) ForgetUnit(id int64) {
	s.mu.Lock()
	delete(s.units, id)
	for k := range s.drafts {
		if k.unit == id {
			delete(s.drafts, k)
		}
	}
	s.mu.Unlock()
}

func (s *Service) unit(ctx context.Context, id int64) (Unit, error) {
	s.mu.Lock()
	c, ok := s.units[id]
	s.mu.Unlock()
	if ok && time.Since(c.at) < unitTTL {
		return c.u, nil
	}
	u, err := s.Store.Unit(ctx, id)
	if err != nil {
		return Unit{}, fmt.Errorf("load unit %d: %w", id, err)
	}
	s.mu.Lock()
	if len(s.units) >= maxCached {
		clear(s.units)
	}
	s.units[id] = cachedUnit{u: u, at: time.Now()}
	s.mu.Unlock()
	return u, nil
}

// draftKey names a cached draft: a unit's in a campaign (its store key).
type draftKey struct {
	camp string
	unit int64
}

func (s *Service) cachedDraft(camp string, unitID int64) (Draft, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.drafts[draftKey{camp, unitID}]
	return d, ok
}

func (s *Service) remember(camp string, d Draft) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.drafts) >= maxCached {
		clear(s.drafts) // crude but bounded; the store holds the truth
	}
	s.drafts[draftKey{camp, d.UnitID}] = d
}

func (s *Service) forget(camp string, unitID int64) {
	s.mu.Lock()
	delete(s.drafts, draftKey{camp, unitID})
	s.mu.Unlock()
}

// NewInvite makes a fresh invite token for a unit. The token goes into the
// link; only its hash is stored.
func NewInvite(unitID int64, now time.Time) (token string, inv Invite, err error) {
	var b [16]byte // 128 bits
	if _, err := rand.Read(b[:]); err != nil {
		return "", Invite{}, fmt.Errorf("random invite token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, Invite{Hash: HashToken(token), UnitID: unitID, Created: now, Expires: now.Add(InviteTTL)}, nil
}

// HashToken is how invite tokens are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
