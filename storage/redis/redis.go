// Package redis implements flows.Store on Redis (7.0 or later), standalone,
// behind Sentinel or as a Cluster.
//
// # Key schema
//
// Keys of one unit carry the hash tag {u:<id>}, so that every key a per-unit
// script touches hashes to one Cluster slot:
//
//	rb:{u:42}:draft     hash: rev, data (Draft, storage/internal/codec: CBOR, S2-compressed if large), op (id of the Apply call that wrote it)
//	rb:{u:42}:seen      sorted set: update ids applied to the unit, scored by time in ms; trimmed to seenKeep
//	rb:{u:42}:reports   list of Report JSON, oldest first
//	rb:{u:42}:contacts  hash: user id → Contact JSON (the truth about who is a contact)
//	rb:{u:42}:invites   hash: token hash → Invite JSON
//	rb:{u:42}:out       hash: message id → flows.Outgoing without its ID (storage/internal/codec: CBOR); the unit's outbox
//
// Drafts and reports belong to a campaign (flows.Store.Draft): the keys
// above, rb:{u:42}:draft and rb:{u:42}:reports, are those of campaign key ""
// (a store's first campaign: the keys of a store written before campaigns
// existed, read as they are). Another campaign's are under the same tag:
//
//	rb:{u:42}:c:<campaign>:draft    as rb:{u:42}:draft, for the campaign with that store key (e.g. rb:{u:42}:c:2023:draft)
//	rb:{u:42}:c:<campaign>:reports  as rb:{u:42}:reports
//
// so that Apply's keys (the campaign's draft and reports, the unit's
// contacts, dedupe set and outbox) are still on one slot. Everything else
// is shared by all campaigns, Apply's dedupe set rb:{u:42}:seen included:
// an update id is unique across campaigns.
//
// The unit registry shares the tag {units}:
//
//	rb:{units}:data     hash: unit id → Unit JSON (its "id" is 0; the field is the id)
//	rb:{units}:names    hash: name → unit id
//	rb:{units}:seq      the last unit id
//	rb:{units}:ops      hash: unit id → id of the AddUnit(s) call that created it
//
// Global lookups and markers, one key each:
//
//	rb:invite:<hash>    unit id of the invite
//	rb:user:<user id>   unit id of the contact (an index into the unit's contacts hash)
//	rb:settings         hash: key → value
//	rb:seen:<update id> marker of Seen, expires after seenKeep
//	rb:once:<key>       marker of Once
//	rb:lock:<key>       token of Lock
//
// Commit's and Claim's keys are spread over 64 buckets by the CRC-32 of the
// key; the keys of a bucket share the tag {k:<crc % 64>}:
//
//	rb:{k:7}:out          hash: message id → message, as rb:{u:N}:out (Commit's messages)
//	rb:{k:7}:done         sorted set: committed key → expiry in ms (+inf: for ever); trimmed by Commit
//	rb:{k:7}:ops          sorted set: id of a Commit call → expiry in ms (opKeep), by which a retried Commit recognises itself
//	rb:{k:7}:claim:<key>  token of Claim, expiring with the claim
//
// and one global key lists the outboxes written to since Outbox(false)
// last looked:
//
//	rb:outbox:dirty     set: names of out hashes (rb:{u:42}:out, rb:{k:7}:out)
//
// A message id is <19-digit sequence>.<process id>/<tag>, e.g.
// 1641805200000000000.Xf3kq9Ab/u:42: the sequence (unix nanoseconds,
// strictly increasing within a process) makes ids sort in the order of
// writing within one process, the process id makes them unique, and the
// tag names the hash that holds the message, for Delivered.
//
// # Atomicity
//
// Every state change that must be atomic is one Lua script on one slot:
// AddUnit, AddUnits and PutUnit on {units}; Apply (dedupe, revision check,
// contact check, draft write, report append, outbox messages: one script,
// one round trip) on {u:N}; Commit (done mark, claim release, messages)
// and Claim on {k:B}; the consuming half of Bind on {u:N}; Seen, Once, Lock
// and Unlock on their single key. go-redis retries a command after a
// timeout even if Redis already ran it, so every script recognises its own
// second run (by an id unique to the call, or by finding its own result)
// and answers as the first run did, writing nothing again.
//
// These operations touch more than one slot and are not atomic as a whole;
// each is safe because the per-unit hashes are the truth and the global keys
// only indexes into them, written in an order whose every prefix is harmless:
//
//   - PutInvite writes the invite into the unit's hash, then rb:invite:<hash>.
//     A crash in between leaves an invite nobody can find (make another); a
//     pointer to a missing invite is ErrNotFound.
//   - Bind reads rb:invite:<hash> and the invite, claims rb:user:<id> for the
//     unit with a short expiry (pendingClaim) unless another unit holds it,
//     runs the unit script (compare-and-set of the invite, add the contact,
//     remove the handover contact), then makes the claim permanent and deletes
//     the handed-over user's pointer if it still names the unit. The claim
//     keeps one user from being bound to two units by two concurrent Binds; a
//     crash leaves either a claim that expires by itself or a pointer whose
//     user is not in the unit's contacts hash, which Contact treats as absent
//     and the next Bind of that user takes over.
//   - RevokeInvites reads the unit's invites, then revokes those still open
//     by a compare-and-set script on the unit's slot.
//   - PutContact and RemoveContact read rb:user:<id>, then change the unit's
//     contacts hash (the truth), then (RemoveContact) delete the pointer if it
//     still names the unit.
//   - Drafts reads the unit ids, then the drafts, in a pipeline: a list, not a
//     snapshot.
//   - A write of outbox messages (Apply, Commit) is its script followed, in
//     the same pipeline (one round trip), by the SADD of the out hash's
//     name to rb:outbox:dirty. The mark only tells Outbox(false) where to
//     look; see dirtyMarks for why no message written is missed.
//   - Outbox(true) scans for rb:{*}:out (on every master of a Cluster) and
//     reads the hashes: a list, not a snapshot.
//   - Delivered deletes from the out hashes in one round trip: one script
//     on a standalone server, one pipeline on a Cluster.
package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"reportbot/flows"
	"reportbot/storage/internal/codec"
)

const (
	// seenKeep is how long update ids are remembered for dedupe.
	seenKeep = 72 * time.Hour
	// pendingClaim is how long Bind's claim on a user lasts before the
	// bind completes; a crashed Bind's claim expires after it.
	pendingClaim = 30 * time.Second
	// bindAttempts bounds Bind's retries when the invite changes under it.
	bindAttempts = 8
)

const (
	keyUnits     = "rb:{units}:data"
	keyUnitNames = "rb:{units}:names"
	keyUnitSeq   = "rb:{units}:seq"
	keyUnitOps   = "rb:{units}:ops"
	keySettings  = "rb:settings"
)

func unitKey(unitID int64, what string) string {
	return tagKey(unitTag(unitID), what)
}

// campaignKey is the key named what of the unit in the campaign with this
// store key: today's unitKey for "" (a store's first campaign), else
// rb:{u:N}:c:<campaign>:<what>, under the same hash tag, so that Apply's
// keys of one unit and one campaign, and the unit's contacts and outbox,
// stay in one Cluster slot. what is "draft" or "reports": such a key
// never ends in ":out", so Outbox's scan for rb:{*}:out never matches it
// whatever the campaign key holds.
func campaignKey(campaign string, unitID int64, what string) string {
	if campaign == "" {
		return unitKey(unitID, what)
	}
	return unitKey(unitID, "c:"+campaign+":"+what)
}

// unitTag is the hash tag of a unit's keys, without the braces.
func unitTag(unitID int64) string { return "u:" + strconv.FormatInt(unitID, 10) }

// tagKey is the key named what under the hash tag tag.
func tagKey(tag, what string) string { return "rb:{" + tag + "}:" + what }

func inviteKey(hash string) string   { return "rb:invite:" + hash }
func userKey(userID int64) string    { return "rb:user:" + strconv.FormatInt(userID, 10) }
func seenKey(updateID int64) string  { return "rb:seen:" + strconv.FormatInt(updateID, 10) }
func onceKey(key string) string      { return "rb:once:" + key }
func lockKey(key string) string      { return "rb:lock:" + key }
func itoa(n int64) string            { return strconv.FormatInt(n, 10) }
func ms(d time.Duration) int64       { return d.Milliseconds() }
func unixMS(t time.Time) int64       { return t.UnixMilli() }
func isNil(err error) bool           { return errors.Is(err, goredis.Nil) }
func parseID(s string) (int64, bool) { n, err := strconv.ParseInt(s, 10, 64); return n, err == nil }

// Store is a flows.Store on Redis. It is safe for concurrent use.
type Store struct {
	c     goredis.UniversalClient
	trips atomic.Int64
	now   func() time.Time

	// opPrefix and opSeq make ids unique to one call, by which a script
	// recognises its own second run.
	opPrefix string
	opSeq    atomic.Uint64

	// procID and idSeq make outbox message ids (see newIDs).
	procID string
	idSeq  atomic.Int64

	// cluster: the client is a Cluster client, whose pipelines run their
	// commands on different nodes concurrently (see dirtyMarks).
	cluster bool
	// dirtyMu serialises Outbox(false). popped holds the out hashes it
	// popped from the dirty set in the last dirtyGrace (Cluster only),
	// unread those it must read (again) on its next call.
	dirtyMu sync.Mutex
	popped  map[string]time.Time
	unread  map[string]bool

	closeOnce sync.Once
	closeErr  error
}

var _ flows.Store = (*Store)(nil)

// Open connects to Redis and checks it answers. The URL is one of
//
//	redis://[user:password@]host:port[/db][?options]   (also rediss://, unix://)
//	redis+sentinel://[user:password@]sentinel:port[/db]?master_name=NAME[&addr=sentinel2:port][&password=…]
//	redis+cluster://[user:password@]node:port[?addr=node2:port…]
//
// with the options of go-redis's ParseURL, ParseFailoverURL and
// ParseClusterURL respectively (rediss+… for TLS). Errors name the host, never
// the password.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, host, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	var prefix [6]byte
	_, _ = rand.Read(prefix[:])
	procID := base64.RawURLEncoding.EncodeToString(prefix[:])
	s := &Store{c: c, now: time.Now, opPrefix: procID + ":", procID: procID,
		popped: map[string]time.Time{}, unread: map[string]bool{}}
	_, s.cluster = c.(*goredis.ClusterClient)
	c.AddHook(countHook{&s.trips})
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("open redis at %s: %w", host, err)
	}
	// Load the scripts so that the first call of each is one EVALSHA; after
	// a Redis restart empties the cache, Script.Run falls back to EVAL once.
	for _, sc := range allScripts {
		if err := sc.Load(ctx, c).Err(); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("open redis at %s: load script: %w", host, err)
		}
	}
	return s, nil
}

// newClient parses the URL and builds the matching client. It returns the
// host for messages: the URL may hold a password.
func newClient(rawURL string) (goredis.UniversalClient, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// A url.Error quotes the whole URL, password included: keep only
		// what went wrong, and not even that if it may quote the password.
		var ue *url.Error
		var ee url.EscapeError
		if errors.As(err, &ue) && !errors.As(err, &ee) {
			return nil, "", fmt.Errorf("parse redis url: %w", ue.Err)
		}
		return nil, "", errors.New("parse redis url: malformed url")
	}
	host := u.Host
	if host == "" {
		host = u.Path
	}
	base, mode, _ := strings.Cut(u.Scheme, "+")
	u.Scheme = base
	switch mode {
	case "":
		o, err := goredis.ParseURL(u.String())
		if err != nil {
			return nil, "", fmt.Errorf("parse redis url for %s: %w", host, err)
		}
		return goredis.NewClient(o), host, nil
	case "sentinel":
		o, err := goredis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, "", fmt.Errorf("parse redis sentinel url for %s: %w", host, err)
		}
		if o.MasterName == "" {
			return nil, "", fmt.Errorf("parse redis sentinel url for %s: no master_name", host)
		}
		return goredis.NewFailoverClient(o), host, nil
	case "cluster":
		o, err := goredis.ParseClusterURL(u.String())
		if err != nil {
			return nil, "", fmt.Errorf("parse redis cluster url for %s: %w", host, err)
		}
		return goredis.NewClusterClient(o), host, nil
	default:
		return nil, "", fmt.Errorf("parse redis url for %s: unknown scheme %q", host, base+"+"+mode)
	}
}

// countHook counts round trips: one per command and one per pipeline.
type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// RoundTrips returns the number of commands and pipelines sent since Open:
// the round trips to Redis, not counting go-redis's own retries and
// connection setup. (A Cluster pipeline that spans nodes counts once.)
func (s *Store) RoundTrips() int64 { return s.trips.Load() }

// Client returns the underlying client, e.g. for tests and metrics.
func (s *Store) Client() goredis.UniversalClient { return s.c }

// Close closes the client. It may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.c.Close(); err != nil {
			s.closeErr = fmt.Errorf("close redis: %w", err)
		}
	})
	return s.closeErr
}

// Ping checks Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// op returns an id unique to one call.
func (s *Store) op() string {
	return s.opPrefix + strconv.FormatUint(s.opSeq.Add(1), 36)
}

// Units.

func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if !utf8.ValidString(name) {
		return errors.New("name is not valid UTF-8")
	}
	return nil
}

// encodeUnit encodes a unit for rb:{units}:data, where the field is the id.
func encodeUnit(u flows.Unit) (string, error) {
	u.ID = 0
	b, err := json.Marshal(u)
	if err != nil {
		return "", fmt.Errorf("encode unit: %w", err)
	}
	return string(b), nil
}

func decodeUnit(field, data string) (flows.Unit, error) {
	var u flows.Unit
	if err := json.Unmarshal([]byte(data), &u); err != nil {
		return u, fmt.Errorf("decode unit %s: %w", field, err)
	}
	u.ID, _ = parseID(field)
	return u, nil
}

// addUnitsScript adds the units whose names are new, all or none.
//
// KEYS: names, data, seq, ops. ARGV: op, then name, category, JSON per unit.
// Returns {1, index, id, index, id…} for the units added (index 1-based), or
// {0, name, category} for the first name taken with another category. With
// ARGV[2] = "strict" any taken name fails (AddUnit).
var addUnitsScript = goredis.NewScript(`
local op, strict = ARGV[1], ARGV[2] == 'strict'
local n = (#ARGV - 2) / 3
local plan, batch = {}, {}
for i = 0, n - 1 do
  local name, cat = ARGV[3 + 3*i], ARGV[4 + 3*i]
  if batch[name] then
    if strict or batch[name] ~= cat then return {0, name, batch[name]} end
    plan[i] = false
  else
    batch[name] = cat
    local id = redis.call('HGET', KEYS[1], name)
    if not id then
      plan[i] = 'add'
    elseif redis.call('HGET', KEYS[4], id) == op then
      plan[i] = id -- added by this very call, run a second time by a retry
    else
      local old = cjson.decode(redis.call('HGET', KEYS[2], id)).category
      if strict or old ~= cat then return {0, name, old} end
      plan[i] = false
    end
  end
end
local out = {1}
for i = 0, n - 1 do
  local id = plan[i]
  if id == 'add' then
    id = redis.call('INCR', KEYS[3])
    redis.call('HSET', KEYS[1], ARGV[3 + 3*i], id)
    redis.call('HSET', KEYS[2], id, ARGV[5 + 3*i])
    redis.call('HSET', KEYS[4], id, op)
  end
  if id then
    table.insert(out, i + 1)
    table.insert(out, tonumber(id))
  end
end
return out
`)

func (s *Store) addUnits(ctx context.Context, us []flows.Unit, strict bool) ([]flows.Unit, error) {
	now := s.now().UTC()
	mode := ""
	if strict {
		mode = "strict"
	}
	args := []any{s.op(), mode}
	for i := range us {
		if err := checkName(us[i].Name); err != nil {
			return nil, fmt.Errorf("unit %q: %w", us[i].Name, err)
		}
		if us[i].Created.IsZero() {
			us[i].Created = now
		}
		us[i].Rev = 0
		data, err := encodeUnit(us[i])
		if err != nil {
			return nil, err
		}
		args = append(args, us[i].Name, us[i].Category, data)
	}
	res, err := addUnitsScript.Run(ctx, s.c, []string{keyUnitNames, keyUnits, keyUnitSeq, keyUnitOps}, args...).Slice()
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, errors.New("add units: empty script reply")
	}
	if ok, _ := res[0].(int64); ok == 0 {
		if len(res) < 3 {
			return nil, errors.New("add units: short script reply")
		}
		return nil, fmt.Errorf("unit %q (category %v): %w", res[1], res[2], flows.ErrExists)
	}
	var added []flows.Unit
	for i := 1; i+1 < len(res); i += 2 {
		idx, _ := res[i].(int64)
		unitID, _ := res[i+1].(int64)
		if idx < 1 || int(idx) > len(us) {
			return nil, fmt.Errorf("add units: bad script reply index %d", idx)
		}
		u := us[idx-1]
		u.ID = unitID
		added = append(added, u)
	}
	return added, nil
}

// AddUnit creates a unit; ErrExists if the name is taken.
func (s *Store) AddUnit(ctx context.Context, u flows.Unit) (flows.Unit, error) {
	added, err := s.addUnits(ctx, []flows.Unit{u}, true)
	if err != nil {
		return flows.Unit{}, fmt.Errorf("add unit %q: %w", u.Name, err)
	}
	if len(added) != 1 {
		return flows.Unit{}, fmt.Errorf("add unit %q: script added %d units", u.Name, len(added))
	}
	return added[0], nil
}

// AddUnits creates all new units or none; see flows.Store.
func (s *Store) AddUnits(ctx context.Context, us []flows.Unit) ([]flows.Unit, error) {
	if len(us) == 0 {
		return nil, nil
	}
	added, err := s.addUnits(ctx, slices.Clone(us), false)
	if err != nil {
		return nil, fmt.Errorf("add units: %w", err)
	}
	return added, nil
}

// Unit returns the unit with this id.
func (s *Store) Unit(ctx context.Context, unitID int64) (flows.Unit, error) {
	data, err := s.c.HGet(ctx, keyUnits, itoa(unitID)).Result()
	if isNil(err) {
		err = flows.ErrNotFound
	}
	if err != nil {
		return flows.Unit{}, fmt.Errorf("unit %d: %w", unitID, err)
	}
	return decodeUnit(itoa(unitID), data)
}

// UnitByName returns the unit with this exact name.
func (s *Store) UnitByName(ctx context.Context, name string) (flows.Unit, error) {
	field, err := s.c.HGet(ctx, keyUnitNames, name).Result()
	if isNil(err) {
		err = flows.ErrNotFound
	}
	if err != nil {
		return flows.Unit{}, fmt.Errorf("unit %q: %w", name, err)
	}
	unitID, ok := parseID(field)
	if !ok {
		return flows.Unit{}, fmt.Errorf("unit %q: bad id %q in the name index", name, field)
	}
	return s.Unit(ctx, unitID)
}

// Units lists all units in id order.
func (s *Store) Units(ctx context.Context) ([]flows.Unit, error) {
	m, err := s.c.HGetAll(ctx, keyUnits).Result()
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	us := make([]flows.Unit, 0, len(m))
	for field, data := range m {
		u, err := decodeUnit(field, data)
		if err != nil {
			return nil, fmt.Errorf("list units: %w", err)
		}
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b flows.Unit) int { return cmp.Compare(a.ID, b.ID) })
	return us, nil
}

// putUnitScript updates a unit and its name index if the stored unit is
// still at the revision the caller read (a unit without "rev", stored before
// revisions existed, is at 0). A write found already done (the same JSON,
// which carries the new revision) is a retry of this very call by go-redis
// and succeeds again.
// KEYS: names, data. ARGV: id, name, JSON (at rev+1), rev read.
var putUnitScript = goredis.NewScript(`
local old = redis.call('HGET', KEYS[2], ARGV[1])
if not old then return 'notfound' end
if old == ARGV[3] then return 'ok' end
local cur = cjson.decode(old)
if (tonumber(cur.rev) or 0) ~= tonumber(ARGV[4]) then return 'conflict' end
local oldname = cur.name
if oldname ~= ARGV[2] then
  local other = redis.call('HGET', KEYS[1], ARGV[2])
  if other and other ~= ARGV[1] then return 'exists' end
  redis.call('HDEL', KEYS[1], oldname)
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 'ok'
`)

// PutUnit updates an existing unit read at u.Rev and stores it at u.Rev+1;
// ErrConflict if the stored revision is another, ErrExists if its new name
// is taken.
func (s *Store) PutUnit(ctx context.Context, u flows.Unit) error {
	if err := checkName(u.Name); err != nil {
		return fmt.Errorf("put unit %d: %w", u.ID, err)
	}
	if u.Created.IsZero() {
		old, err := s.Unit(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("put unit: %w", err)
		}
		u.Created = old.Created
	}
	read := u.Rev
	u.Rev++
	data, err := encodeUnit(u)
	if err != nil {
		return fmt.Errorf("put unit %d: %w", u.ID, err)
	}
	res, err := putUnitScript.Run(ctx, s.c, []string{keyUnitNames, keyUnits}, u.ID, u.Name, data, read).Text()
	switch {
	case err != nil:
	case res == "notfound":
		err = flows.ErrNotFound
	case res == "conflict":
		err = fmt.Errorf("read at revision %d: %w", read, flows.ErrConflict)
	case res == "exists":
		err = fmt.Errorf("name %q: %w", u.Name, flows.ErrExists)
	case res != "ok":
		err = fmt.Errorf("unexpected script reply %q", res)
	}
	if err != nil {
		return fmt.Errorf("put unit %d: %w", u.ID, err)
	}
	return nil
}

// Invites and contacts.

// PutInvite stores an invite of an existing unit.
func (s *Store) PutInvite(ctx context.Context, inv flows.Invite) error {
	if inv.Hash == "" {
		return fmt.Errorf("put invite of unit %d: empty hash", inv.UnitID)
	}
	exists, err := s.c.HExists(ctx, keyUnits, itoa(inv.UnitID)).Result()
	if err == nil && !exists {
		err = fmt.Errorf("unit %d: %w", inv.UnitID, flows.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("put invite of unit %d: %w", inv.UnitID, err)
	}
	data, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("put invite of unit %d: encode: %w", inv.UnitID, err)
	}
	// The invite first, then the lookup: see the package comment.
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, unitKey(inv.UnitID, "invites"), inv.Hash, data)
		p.Set(ctx, inviteKey(inv.Hash), inv.UnitID, 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("put invite of unit %d: %w", inv.UnitID, err)
	}
	return nil
}

// Invites lists the unit's invites by creation time.
func (s *Store) Invites(ctx context.Context, unitID int64) ([]flows.Invite, error) {
	m, err := s.c.HGetAll(ctx, unitKey(unitID, "invites")).Result()
	if err != nil {
		return nil, fmt.Errorf("list invites of unit %d: %w", unitID, err)
	}
	invs := make([]flows.Invite, 0, len(m))
	for _, data := range m {
		var inv flows.Invite
		if err := json.Unmarshal([]byte(data), &inv); err != nil {
			return nil, fmt.Errorf("list invites of unit %d: decode: %w", unitID, err)
		}
		invs = append(invs, inv)
	}
	slices.SortFunc(invs, func(a, b flows.Invite) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Hash, b.Hash))
	})
	return invs, nil
}

// revokeScript marks invites revoked, each only if it is still as read (a
// Bind that consumed it in between wins; bindScript's compare-and-set in
// turn fails on an invite revoked after Bind read it). A second run of the
// same call finds its own writes and counts them again.
// KEYS: invites. ARGV: triples of hash, invite JSON as read, revoked JSON.
// Returns the number of invites that are revoked by this call.
var revokeScript = goredis.NewScript(`
local n = 0
for i = 1, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur == ARGV[i+2] then
    n = n + 1
  elseif cur == ARGV[i+1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+2])
    n = n + 1
  end
end
return n
`)

// RevokeInvites marks the unit's open invites revoked; see flows.Store.
// The invites are read, then revoked by one script on the unit's slot.
func (s *Store) RevokeInvites(ctx context.Context, unitID int64, now time.Time) (int, error) {
	key := unitKey(unitID, "invites")
	m, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		return 0, fmt.Errorf("revoke invites of unit %d: %w", unitID, err)
	}
	var args []any
	for hash, data := range m {
		var inv flows.Invite
		if err := json.Unmarshal([]byte(data), &inv); err != nil {
			return 0, fmt.Errorf("revoke invites of unit %d: decode: %w", unitID, err)
		}
		if !inv.Open(now) || inv.Created.After(now) {
			continue
		}
		inv.Revoked = now
		revoked, err := json.Marshal(inv)
		if err != nil {
			return 0, fmt.Errorf("revoke invites of unit %d: encode: %w", unitID, err)
		}
		args = append(args, hash, data, revoked)
	}
	if len(args) == 0 {
		return 0, nil
	}
	n, err := revokeScript.Run(ctx, s.c, []string{key}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("revoke invites of unit %d: %w", unitID, err)
	}
	return n, nil
}

// claimScript claims a user's pointer for a unit during Bind.
// KEYS: rb:user:<id>. ARGV: unit id, pending ms, a unit whose permanent
// pointer is known to be stale ("" if none).
// Returns {'new'} (claimed, pending), {'same'} (already the unit's) or
// {'other', unit id, pttl}.
var claimScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return {'same'} end
if not cur or (cur == ARGV[3] and redis.call('PTTL', KEYS[1]) == -1) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {'new'}
end
return {'other', cur, redis.call('PTTL', KEYS[1])}
`)

// bindScript consumes an invite and adds the contact, on the unit's slot.
// KEYS: invites, contacts. ARGV: hash, invite JSON as read, consumed invite
// JSON, user id, contact JSON, handover user id ("" if none).
var bindScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == ARGV[3] then return 'ok' end
if cur ~= ARGV[2] then return 'stale' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[6] ~= '' then redis.call('HDEL', KEYS[2], ARGV[6]) end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
return 'ok'
`)

// delIfScript deletes the key if it holds the value (and, with ARGV[2] =
// "pending", only while it has an expiry). Returns the number deleted.
var delIfScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'pending' and redis.call('PTTL', KEYS[1]) < 0 then return 0 end
return redis.call('DEL', KEYS[1])
`)

func (s *Store) delIf(ctx context.Context, key, value string, pendingOnly bool) error {
	mode := ""
	if pendingOnly {
		mode = "pending"
	}
	return delIfScript.Run(ctx, s.c, []string{key}, value, mode).Err()
}

// Bind consumes an invite for the contact; see flows.Store and the package
// comment.
func (s *Store) Bind(ctx context.Context, hash string, c flows.Contact, now time.Time) (flows.Unit, error) {
	u, err := s.bind(ctx, hash, c, now)
	if err != nil {
		return flows.Unit{}, fmt.Errorf("bind user %d: %w", c.UserID, err)
	}
	return u, nil
}

// bind consumes the invite in up to bindAttempts rounds, each from a fresh
// read of the invite.
func (s *Store) bind(ctx context.Context, hash string, c flows.Contact, now time.Time) (flows.Unit, error) {
	u, err := s.inviteUnit(ctx, hash)
	if err != nil {
		return flows.Unit{}, err
	}
	for range bindAttempts {
		done, err := s.bindOnce(ctx, hash, c, u.ID, now)
		if err != nil {
			return flows.Unit{}, err
		}
		if done {
			return u, nil
		}
	}
	return flows.Unit{}, errors.New("invite keeps changing, gave up")
}

// inviteUnit finds the unit of the invite with this hash in the invite
// registry; ErrNotFound for an unknown hash, ErrUnitRemoved if the unit is
// removed.
func (s *Store) inviteUnit(ctx context.Context, hash string) (flows.Unit, error) {
	field, err := s.c.Get(ctx, inviteKey(hash)).Result()
	if isNil(err) {
		return flows.Unit{}, fmt.Errorf("invite: %w", flows.ErrNotFound)
	}
	if err != nil {
		return flows.Unit{}, fmt.Errorf("find invite: %w", err)
	}
	unitID, ok := parseID(field)
	if !ok {
		return flows.Unit{}, fmt.Errorf("find invite: bad unit id %q", field)
	}
	u, err := s.Unit(ctx, unitID)
	if err != nil {
		return flows.Unit{}, err
	}
	if u.Removed {
		// The registry is on another slot than the unit's keys, so a unit
		// removed during this Bind may still gain the contact; /rmunit
		// unbinds the unit's contacts after marking it removed.
		return flows.Unit{}, fmt.Errorf("unit %d: %w", unitID, flows.ErrUnitRemoved)
	}
	return u, nil
}

// bindOnce reads the invite and, if it can bind the contact, consumes it
// with bindScript. It returns false when the invite changed under it (read
// it again).
func (s *Store) bindOnce(ctx context.Context, hash string, c flows.Contact, unitID int64, now time.Time) (bool, error) {
	invites, contacts := unitKey(unitID, "invites"), unitKey(unitID, "contacts")
	old, err := s.c.HGet(ctx, invites, hash).Result()
	if isNil(err) {
		return false, fmt.Errorf("invite: %w", flows.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("read invite: %w", err)
	}
	var inv flows.Invite
	if err := json.Unmarshal([]byte(old), &inv); err != nil {
		return false, fmt.Errorf("decode invite: %w", err)
	}
	if inv.UsedBy != 0 {
		return true, s.bindAgain(ctx, inv, contacts, c.UserID, unitID)
	}
	if !inv.Revoked.IsZero() {
		return false, flows.ErrInviteRevoked
	}
	if !inv.Expires.IsZero() && !now.Before(inv.Expires) {
		return false, flows.ErrInviteExpired
	}

	claimed, err := s.claim(ctx, c.UserID, unitID)
	if err != nil {
		return false, err
	}
	c.UnitID = unitID
	if c.BoundAt.IsZero() {
		c.BoundAt = now
	}
	contact, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("encode contact: %w", err)
	}
	used := inv
	used.UsedBy, used.UsedAt = c.UserID, now
	usedJSON, err := json.Marshal(used)
	if err != nil {
		return false, fmt.Errorf("encode invite: %w", err)
	}
	handover := ""
	if inv.Handover != 0 && inv.Handover != c.UserID {
		handover = itoa(inv.Handover)
	}
	res, err := bindScript.Run(ctx, s.c, []string{invites, contacts},
		hash, old, usedJSON, itoa(c.UserID), contact, handover).Text()
	if err == nil && res != "ok" && res != "stale" {
		err = fmt.Errorf("unexpected script reply %q", res)
	}
	if err != nil || res == "stale" {
		return false, s.bindFailed(ctx, c.UserID, unitID, claimed, err)
	}
	if err := s.c.Set(ctx, userKey(c.UserID), unitID, 0).Err(); err != nil {
		return false, fmt.Errorf("store contact index: %w", err)
	}
	if handover != "" {
		if err := s.delIf(ctx, userKey(inv.Handover), itoa(unitID), false); err != nil {
			return false, fmt.Errorf("remove handed-over contact index: %w", err)
		}
	}
	return true, nil
}

// bindAgain answers a Bind of an invite already used: ErrInviteUsed unless
// the same user used it and is still a contact of the unit, which is the
// same Bind again.
func (s *Store) bindAgain(ctx context.Context, inv flows.Invite, contacts string, userID, unitID int64) error {
	if inv.UsedBy != userID {
		return flows.ErrInviteUsed
	}
	member, err := s.c.HExists(ctx, contacts, itoa(userID)).Result()
	if err != nil {
		return fmt.Errorf("check contact: %w", err)
	}
	if !member {
		return flows.ErrInviteUsed
	}
	// The same Bind again; repair the pointer a crash may have left pending.
	if err := s.c.Set(ctx, userKey(userID), unitID, 0).Err(); err != nil {
		return fmt.Errorf("store contact index: %w", err)
	}
	return nil
}

// bindFailed undoes a round of Bind whose script failed (err) or found the
// invite changed (err nil, so that the caller reads it again).
func (s *Store) bindFailed(ctx context.Context, userID, unitID int64, claimed bool, err error) error {
	if claimed {
		// Release our pending claim; a claim made permanent by
		// another Bind of this user to this unit stays.
		if rerr := s.delIf(ctx, userKey(userID), itoa(unitID), true); rerr != nil && err == nil {
			err = fmt.Errorf("release contact index: %w", rerr)
		}
	}
	if err != nil {
		return fmt.Errorf("consume invite: %w", err)
	}
	return nil
}

// claim points the user's index at the unit for the duration of a Bind.
// It returns whether this call made a new (pending) claim, and
// ErrAlreadyBound if the user is a contact of another unit.
func (s *Store) claim(ctx context.Context, userID, unitID int64) (bool, error) {
	stale := ""
	for range 3 {
		res, err := claimScript.Run(ctx, s.c, []string{userKey(userID)}, unitID, ms(pendingClaim), stale).Slice()
		if err != nil {
			return false, fmt.Errorf("claim contact index: %w", err)
		}
		kind, _ := res[0].(string)
		switch kind {
		case "new":
			return true, nil
		case "same":
			return false, nil
		case "other":
		default:
			return false, fmt.Errorf("claim contact index: unexpected script reply %v", res)
		}
		if len(res) < 3 {
			return false, fmt.Errorf("claim contact index: short script reply %v", res)
		}
		other, _ := res[1].(string)
		pttl, _ := res[2].(int64)
		otherID, ok := parseID(other)
		if !ok {
			return false, fmt.Errorf("claim contact index: bad unit id %q", other)
		}
		if pttl >= 0 {
			// Another Bind of this user is in progress.
			return false, fmt.Errorf("unit %d (binding): %w", otherID, flows.ErrAlreadyBound)
		}
		member, err := s.c.HExists(ctx, unitKey(otherID, "contacts"), itoa(userID)).Result()
		if err != nil {
			return false, fmt.Errorf("check contact of unit %d: %w", otherID, err)
		}
		if member {
			return false, fmt.Errorf("unit %d: %w", otherID, flows.ErrAlreadyBound)
		}
		stale = other // a pointer left by a crash: take it over
	}
	return false, errors.New("claim contact index: it keeps changing, gave up")
}

// contactUnit returns the unit the user's index points at.
func (s *Store) contactUnit(ctx context.Context, userID int64) (int64, error) {
	field, err := s.c.Get(ctx, userKey(userID)).Result()
	if isNil(err) {
		return 0, flows.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	unitID, ok := parseID(field)
	if !ok {
		return 0, fmt.Errorf("bad unit id %q in the contact index", field)
	}
	return unitID, nil
}

// Contact returns the contact with this Telegram user id.
func (s *Store) Contact(ctx context.Context, userID int64) (flows.Contact, error) {
	unitID, err := s.contactUnit(ctx, userID)
	if err != nil {
		return flows.Contact{}, fmt.Errorf("contact %d: %w", userID, err)
	}
	data, err := s.c.HGet(ctx, unitKey(unitID, "contacts"), itoa(userID)).Result()
	if isNil(err) {
		err = flows.ErrNotFound // a stale index entry
	}
	if err != nil {
		return flows.Contact{}, fmt.Errorf("contact %d: %w", userID, err)
	}
	var c flows.Contact
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return flows.Contact{}, fmt.Errorf("contact %d: decode: %w", userID, err)
	}
	return c, nil
}

// Contacts lists the unit's contacts by user id.
func (s *Store) Contacts(ctx context.Context, unitID int64) ([]flows.Contact, error) {
	m, err := s.c.HGetAll(ctx, unitKey(unitID, "contacts")).Result()
	if err != nil {
		return nil, fmt.Errorf("list contacts of unit %d: %w", unitID, err)
	}
	cs := make([]flows.Contact, 0, len(m))
	for _, data := range m {
		var c flows.Contact
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return nil, fmt.Errorf("list contacts of unit %d: decode: %w", unitID, err)
		}
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b flows.Contact) int { return cmp.Compare(a.UserID, b.UserID) })
	return cs, nil
}

// putContactScript replaces a contact that exists.
// KEYS: contacts. ARGV: user id, JSON.
var putContactScript = goredis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// PutContact updates an existing contact (it stays with its unit).
func (s *Store) PutContact(ctx context.Context, c flows.Contact) error {
	unitID, err := s.contactUnit(ctx, c.UserID)
	if err != nil {
		return fmt.Errorf("put contact %d: %w", c.UserID, err)
	}
	c.UnitID = unitID
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("put contact %d: encode: %w", c.UserID, err)
	}
	n, err := putContactScript.Run(ctx, s.c, []string{unitKey(unitID, "contacts")}, c.UserID, data).Int()
	if err == nil && n == 0 {
		err = flows.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("put contact %d: %w", c.UserID, err)
	}
	return nil
}

// RemoveContact unbinds the user from their unit.
func (s *Store) RemoveContact(ctx context.Context, userID int64) error {
	if err := s.removeContact(ctx, userID); err != nil {
		return fmt.Errorf("remove contact %d: %w", userID, err)
	}
	return nil
}

func (s *Store) removeContact(ctx context.Context, userID int64) error {
	unitID, err := s.contactUnit(ctx, userID)
	if err != nil {
		return err
	}
	contacts := unitKey(unitID, "contacts")
	member, err := s.c.HExists(ctx, contacts, itoa(userID)).Result()
	if err != nil {
		return err
	}
	if member {
		// HDEL's count is not used: a retried HDEL answers 0.
		if err := s.c.HDel(ctx, contacts, itoa(userID)).Err(); err != nil {
			return err
		}
	}
	if err := s.delIf(ctx, userKey(userID), itoa(unitID), false); err != nil {
		return err
	}
	if !member {
		return flows.ErrNotFound
	}
	return nil
}

// Drafts and reports.

func decodeDraft(unitID int64, rev, data any) (flows.Draft, error) {
	d := flows.Draft{UnitID: unitID}
	ds, ok := data.(string)
	if !ok { // never written
		return d, nil
	}
	if err := codec.DecodeDraft([]byte(ds), &d); err != nil {
		return d, err
	}
	if rs, ok := rev.(string); ok {
		d.Rev, _ = parseID(rs)
	}
	d.UnitID = unitID
	return d, nil
}

// Draft returns the unit's draft, a zero one if it never started. One round
// trip.
func (s *Store) Draft(ctx context.Context, campaign string, unitID int64) (flows.Draft, error) {
	v, err := s.c.HMGet(ctx, campaignKey(campaign, unitID, "draft"), "rev", "data").Result()
	if err != nil {
		return flows.Draft{}, fmt.Errorf("draft of unit %d: %w", unitID, err)
	}
	d, err := decodeDraft(unitID, v[0], v[1])
	if err != nil {
		return flows.Draft{}, fmt.Errorf("draft of unit %d: %w", unitID, err)
	}
	return d, nil
}

// Drafts returns the drafts of all units that have one, in unit order.
func (s *Store) Drafts(ctx context.Context, campaign string) ([]flows.Draft, error) {
	fields, err := s.c.HKeys(ctx, keyUnits).Result()
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	ids := make([]int64, 0, len(fields))
	for _, f := range fields {
		if n, ok := parseID(f); ok {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.SliceCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, unitID := range ids {
			cmds[i] = p.HMGet(ctx, campaignKey(campaign, unitID, "draft"), "rev", "data")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	var ds []flows.Draft
	for i, cmd := range cmds {
		v := cmd.Val()
		if len(v) < 2 || v[1] == nil {
			continue
		}
		d, err := decodeDraft(ids[i], v[0], v[1])
		if err != nil {
			return nil, fmt.Errorf("list drafts: unit %d: %w", ids[i], err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// applyScript is Apply: one script, one round trip, on the unit's slot.
//
// KEYS: draft, seen, contacts, reports, out.
// ARGV: from rev, update id ("0": no dedupe), user id ("0": no contact
// check), the encoded draft (storage/internal/codec), report JSON ("" if
// none), op (unique to the call), now in ms, exclusive lower bound of the
// ids to keep ("(<ms>"), seenKeep in ms, then an id and an encoded message
// per outbox message.
//
// The first check makes a second run of the same call (a go-redis retry)
// answer 'ok' instead of 'duplicate' or 'conflict', and write nothing
// again: not even a message the sender has delivered (and deleted) in
// between.
var applyScript = goredis.NewScript(`
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
local from = tonumber(ARGV[1])
if rev == from + 1 and redis.call('HGET', KEYS[1], 'op') == ARGV[6] then return 'ok' end
if ARGV[2] ~= '0' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[8])
  if redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 'duplicate' end
end
if rev ~= from then return 'conflict' end
if ARGV[3] ~= '0' and redis.call('HEXISTS', KEYS[3], ARGV[3]) == 0 then return 'notcontact' end
redis.call('HSET', KEYS[1], 'rev', from + 1, 'data', ARGV[4], 'op', ARGV[6])
if ARGV[2] ~= '0' then
  redis.call('ZADD', KEYS[2], ARGV[7], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
end
if ARGV[5] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[5]) end
for i = 10, #ARGV, 2 do redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1]) end
return 'ok'
`)

// Apply applies a transition with one script in one round trip: dedupe,
// revision check, contact check, draft write, report append and the
// outbox messages (with their mark in the dirty set, pipelined). It sets
// the IDs of t.Outbox when the messages were written, and empties them
// when not.
func (s *Store) Apply(ctx context.Context, t flows.Transition) error {
	if err := t.Check(); err != nil {
		return fmt.Errorf("apply to unit %d: %w", t.UnitID, err)
	}
	data, err := codec.EncodeDraft(t.Draft)
	if err != nil {
		return fmt.Errorf("apply to unit %d: %w", t.UnitID, err)
	}
	var report []byte
	if t.Report != nil {
		if report, err = json.Marshal(t.Report); err != nil {
			return fmt.Errorf("apply to unit %d: encode report: %w", t.UnitID, err)
		}
	}
	now := s.now()
	out := unitKey(t.UnitID, "out")
	args := []any{t.FromRev, t.UpdateID, t.UserID, data, report, s.op(),
		unixMS(now), "(" + itoa(unixMS(now.Add(-seenKeep))), ms(seenKeep)}
	args, err = s.appendOutgoing(args, unitTag(t.UnitID), t.Outbox)
	if err != nil {
		return fmt.Errorf("apply to unit %d: %w", t.UnitID, err)
	}
	keys := []string{
		campaignKey(t.Campaign, t.UnitID, "draft"), unitKey(t.UnitID, "seen"),
		unitKey(t.UnitID, "contacts"), campaignKey(t.Campaign, t.UnitID, "reports"), out,
	}
	mark := ""
	if len(t.Outbox) > 0 {
		mark = out
	}
	res, err := s.runMarked(ctx, applyScript, keys, mark, args...).Text()
	switch {
	case err != nil:
	case res == "ok":
		return nil
	case res == "duplicate":
		err = flows.ErrDuplicate
	case res == "conflict":
		err = flows.ErrConflict
	case res == "notcontact":
		err = fmt.Errorf("user %d: %w", t.UserID, flows.ErrNotContact)
	default:
		err = fmt.Errorf("unexpected script reply %q", res)
	}
	// On a network error the messages may have been written after all;
	// the caller treats the step as failed either way, and the sender
	// finds them with Outbox.
	clearIDs(t.Outbox)
	return fmt.Errorf("apply update %d to unit %d from rev %d: %w", t.UpdateID, t.UnitID, t.FromRev, err)
}

// Reports returns the unit's submitted versions, oldest first.
func (s *Store) Reports(ctx context.Context, campaign string, unitID int64) ([]flows.Report, error) {
	list, err := s.c.LRange(ctx, campaignKey(campaign, unitID, "reports"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reports of unit %d: %w", unitID, err)
	}
	rs := make([]flows.Report, len(list))
	for i, data := range list {
		if err := json.Unmarshal([]byte(data), &rs[i]); err != nil {
			return nil, fmt.Errorf("reports of unit %d: decode: %w", unitID, err)
		}
	}
	return rs, nil
}

// Settings.

// Setting returns a setting; ErrNotFound when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	v, err := s.c.HGet(ctx, keySettings, key).Result()
	if isNil(err) {
		err = flows.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("setting %q: %w", key, err)
	}
	return v, nil
}

// PutSetting stores a setting.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return errors.New("put setting: empty key")
	}
	if err := s.c.HSet(ctx, keySettings, key, value).Err(); err != nil {
		return fmt.Errorf("put setting %q: %w", key, err)
	}
	return nil
}

// Markers and locks.

// claimKeyScript sets the key to a token if it is free, or extends it if
// the token already holds it (which is also how a retried call of ours
// recognises itself). KEYS: the key. ARGV: token, ttl in ms (0: none).
// Returns 1 if the token holds the key.
var claimKeyScript = goredis.NewScript(`
local ok
if ARGV[2] == '0' then
  ok = redis.call('SET', KEYS[1], ARGV[1], 'NX')
else
  ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
end
if ok then return 1 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`)

func (s *Store) claimKey(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	var pttl int64
	if ttl > 0 {
		pttl = max(ms(ttl), 1)
	}
	n, err := claimKeyScript.Run(ctx, s.c, []string{key}, token, pttl).Int()
	return n == 1, err
}

// Seen records an update id; false if it was recorded in the last seenKeep.
func (s *Store) Seen(ctx context.Context, updateID int64) (bool, error) {
	first, err := s.claimKey(ctx, seenKey(updateID), s.op(), seenKeep)
	if err != nil {
		return false, fmt.Errorf("seen update %d: %w", updateID, err)
	}
	return first, nil
}

// Processed reports whether Seen recorded the update id, without recording it.
func (s *Store) Processed(ctx context.Context, updateID int64) (bool, error) {
	n, err := s.c.Exists(ctx, seenKey(updateID)).Result()
	if err != nil {
		return false, fmt.Errorf("processed update %d: %w", updateID, err)
	}
	return n == 1, nil
}

// Once returns true to the first caller for key; the marker lasts ttl (for
// ever if ttl ≤ 0).
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	first, err := s.claimKey(ctx, onceKey(key), s.op(), ttl)
	if err != nil {
		return false, fmt.Errorf("once %q: %w", key, err)
	}
	return first, nil
}

// Lock takes the lock key for token for ttl, if it is free or already held
// by token (then its ttl is extended).
func (s *Store) Lock(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	if ttl <= 0 || token == "" {
		return false, fmt.Errorf("lock %q: need a token and a positive ttl", key)
	}
	ok, err := s.claimKey(ctx, lockKey(key), token, ttl)
	if err != nil {
		return false, fmt.Errorf("lock %q: %w", key, err)
	}
	return ok, nil
}

// Unlock releases the lock key if token holds it.
func (s *Store) Unlock(ctx context.Context, key, token string) error {
	if err := s.delIf(ctx, lockKey(key), token, false); err != nil {
		return fmt.Errorf("unlock %q: %w", key, err)
	}
	return nil
}

var allScripts = []*goredis.Script{
	addUnitsScript, putUnitScript, claimScript, bindScript, delIfScript, revokeScript,
	putContactScript, applyScript, claimKeyScript, commitScript, claimWorkScript,
	deliveredScript,
}
