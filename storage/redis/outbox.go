package redis

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"reportbot/flows"
	"reportbot/storage/internal/codec"
)

const (
	// keyOutDirty lists the out hashes written to since Outbox(false)
	// last popped them.
	keyOutDirty = "rb:outbox:dirty"
	// doneBuckets is the number of hash tags ({k:0}…{k:63}) over which
	// Commit's and Claim's keys are spread: a few, so that a Cluster
	// spreads them over its nodes, and Outbox(true) finds few hashes.
	doneBuckets = 64
	// opKeep is how long a Commit call's id is remembered, by which a
	// go-redis retry of the call (within seconds) recognises itself.
	opKeep = 10 * time.Minute
	// dirtyPop is how many marks one SPOP takes from the dirty set.
	dirtyPop = 1000
	// dirtyGrace is how long, on a Cluster, Outbox(false) reads again an
	// out hash whose mark it popped (see dirtyMarks). It must exceed the
	// time a writer's pipeline can take, retries included: go-redis gives
	// up after MaxRedirects (3) attempts of at most a dial, write and read
	// timeout (5 s, 3 s, 3 s) each.
	dirtyGrace = time.Minute
)

// bucketTag is the hash tag (without braces) of the bucket of a Commit
// or Claim key.
func bucketTag(key string) string {
	return "k:" + strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(key))%doneBuckets), 10)
}

// newIDs reserves n message ids in the hash tagged tag: a sequence that
// increases strictly within the process (unix nanoseconds, or the last
// one plus one), zero-padded to 19 digits so that ids sort as strings
// in the order they were made, then the process id and the tag.
func (s *Store) newIDs(tag string, n int) []string {
	var first int64
	for {
		last := s.idSeq.Load()
		first = max(s.now().UnixNano(), last+1)
		if s.idSeq.CompareAndSwap(last, first+int64(n)-1) {
			break
		}
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%019d.%s/%s", first+int64(i), s.procID, tag)
	}
	return ids
}

// outKeyOf returns the out hash that holds the message with this id, or
// false if the id is not one of ours.
func outKeyOf(id string) (string, bool) {
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return "", false
	}
	tag := id[i+1:]
	kind, num, ok := strings.Cut(tag, ":")
	if !ok || (kind != "u" && kind != "k") || num == "" || strings.Trim(num, "0123456789") != "" {
		return "", false
	}
	return tagKey(tag, "out"), true
}

// appendOutgoing assigns ids in the hash tagged tag to msgs and appends an
// id and the encoded message per message to a script's arguments.
func (s *Store) appendOutgoing(args []any, tag string, msgs []flows.Outgoing) ([]any, error) {
	if len(msgs) == 0 {
		return args, nil
	}
	encoded := make([][]byte, len(msgs))
	for i, m := range msgs {
		b, err := codec.EncodeOutgoing(m)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		encoded[i] = b
	}
	for i, id := range s.newIDs(tag, len(msgs)) {
		msgs[i].ID = id
		args = append(args, id, encoded[i])
	}
	return args, nil
}

// clearIDs empties the IDs of messages that were not written.
func clearIDs(msgs []flows.Outgoing) {
	for i := range msgs {
		msgs[i].ID = ""
	}
}

func isNoScript(err error) bool {
	return errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT")
}

// runMarked runs a script and then, when mark is not empty, adds mark (an
// out hash the script writes to) to the dirty set: one pipeline, one round
// trip. The script cache is volatile (a restart, a failover, SCRIPT FLUSH),
// so on NOSCRIPT the pipeline goes again with EVAL; the SADD of the failed
// attempt marked a hash with nothing new, which costs Outbox(false) one
// read.
func (s *Store) runMarked(ctx context.Context, sc *goredis.Script, keys []string, mark string, args ...any) *goredis.Cmd {
	if mark == "" {
		return sc.Run(ctx, s.c, keys, args...)
	}
	cmd, sadd := s.pipeMarked(ctx, sc.EvalSha, keys, mark, args)
	if isNoScript(cmd.Err()) {
		cmd, sadd = s.pipeMarked(ctx, sc.Eval, keys, mark, args)
	}
	if cmd.Err() == nil && sadd.Err() != nil {
		// The script wrote, its mark failed: mark again on its own, so
		// that other processes' Outbox(false) finds the messages.
		if err := s.c.SAdd(ctx, keyOutDirty, mark).Err(); err != nil {
			cmd.SetErr(fmt.Errorf("mark outbox %s: %w", mark, err))
		}
	}
	return cmd
}

type evalFunc func(ctx context.Context, c goredis.Scripter, keys []string, args ...any) *goredis.Cmd

func (s *Store) pipeMarked(ctx context.Context, eval evalFunc, keys []string, mark string, args []any) (*goredis.Cmd, *goredis.IntCmd) {
	var cmd *goredis.Cmd
	var sadd *goredis.IntCmd
	// The error is that of the first failed command: each is checked.
	_, _ = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		cmd = eval(ctx, p, keys, args...)
		sadd = p.SAdd(ctx, keyOutDirty, mark)
		return nil
	})
	return cmd, sadd
}

// claimWorkScript is Claim. KEYS: done, claim. ARGV: key, token, ttl in
// ms, now in ms. A retried call finds its own token and answers claimed
// again.
var claimWorkScript = goredis.NewScript(`
local exp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if exp and (exp == 'inf' or tonumber(exp) > tonumber(ARGV[4])) then return 'done' end
local cur = redis.call('GET', KEYS[2])
if cur and cur ~= ARGV[2] then return 'busy' end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 'claimed'
`)

// Claim takes key for token for ttl; see flows.Store. One round trip.
func (s *Store) Claim(ctx context.Context, key, token string, ttl time.Duration) (flows.ClaimState, error) {
	if key == "" || token == "" || ttl <= 0 {
		return flows.Busy, fmt.Errorf("claim %q: need a key, a token and a positive ttl", key)
	}
	tag := bucketTag(key)
	res, err := claimWorkScript.Run(ctx, s.c, []string{tagKey(tag, "done"), tagKey(tag, "claim:"+key)},
		key, token, max(ms(ttl), 1), unixMS(s.now())).Text()
	switch {
	case err != nil:
	case res == "claimed":
		return flows.Claimed, nil
	case res == "done":
		return flows.Done, nil
	case res == "busy":
		return flows.Busy, nil
	default:
		err = fmt.Errorf("unexpected script reply %q", res)
	}
	return flows.Busy, fmt.Errorf("claim %q: %w", key, err)
}

// commitScript is Commit. KEYS: out, done, ops, claim. ARGV: key ("": no
// done mark), expiry of the done mark in ms ("+inf": for ever), op (unique
// to the call), now in ms, expiry of the op's mark in ms, then an id and
// an encoded message per message. Returns 1 if it wrote, 0 if key was done.
//
// The op's mark makes a second run of the same call (a go-redis retry)
// answer as the first did and write nothing again: not the done mark, and
// not a message the sender has delivered (and deleted) in between.
var commitScript = goredis.NewScript(`
if redis.call('ZSCORE', KEYS[3], ARGV[3]) then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
if ARGV[1] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
  if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  redis.call('DEL', KEYS[4])
end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])
return 1
`)

// Commit writes msgs and marks key done for keep (for ever if keep ≤ 0)
// with one script on the key's bucket, pipelined with the dirty mark: one
// round trip. It sets the IDs of msgs when it wrote them, and empties them
// when not.
func (s *Store) Commit(ctx context.Context, key string, keep time.Duration, msgs []flows.Outgoing) (bool, error) {
	if key == "" && len(msgs) == 0 {
		return true, nil
	}
	op := s.op()
	tag := bucketTag(key)
	if key == "" {
		tag = bucketTag(op) // no key to place it: spread the messages
	}
	now := s.now()
	doneExp := "+inf"
	if keep > 0 {
		doneExp = itoa(unixMS(now.Add(keep)))
	}
	args, err := s.appendOutgoing([]any{key, doneExp, op, unixMS(now), unixMS(now.Add(opKeep))}, tag, msgs)
	if err != nil {
		return false, fmt.Errorf("commit %q: %w", key, err)
	}
	out := tagKey(tag, "out")
	keys := []string{out, tagKey(tag, "done"), tagKey(tag, "ops"), tagKey(tag, "claim:"+key)}
	mark := ""
	if len(msgs) > 0 {
		mark = out
	}
	n, err := s.runMarked(ctx, commitScript, keys, mark, args...).Int()
	if err != nil || n != 1 {
		clearIDs(msgs)
	}
	if err != nil {
		return false, fmt.Errorf("commit %q: %w", key, err)
	}
	return n == 1, nil
}

// Outbox lists undelivered messages by ID. With all, it scans for every
// out hash; without, it reads the out hashes marked dirty since the last
// call (see dirtyMarks), which include every one written to by any
// process since then.
func (s *Store) Outbox(ctx context.Context, all bool) ([]flows.Outgoing, error) {
	var msgs []flows.Outgoing
	var err error
	if all {
		var keys []string
		if keys, err = s.outKeys(ctx); err == nil {
			msgs, err = s.readOutboxes(ctx, keys)
		}
	} else {
		msgs, err = s.dirtyOutbox(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return msgs, nil
}

// dirtyOutbox is Outbox(false). Calls are serialised: the marks popped by
// a call whose read fails are kept in memory and read by the next.
func (s *Store) dirtyOutbox(ctx context.Context) ([]flows.Outgoing, error) {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	keys, err := s.dirtyMarks(ctx)
	if err != nil {
		return nil, err
	}
	msgs, err := s.readOutboxes(ctx, keys)
	if err != nil {
		for _, k := range keys {
			s.unread[k] = true
		}
		return nil, err
	}
	clear(s.unread)
	return msgs, nil
}

// dirtyMarks pops the dirty set and returns the out hashes to read.
//
// The race between a writer and Outbox(false), and why no message is
// missed: a writer runs its script (which writes the messages) and then
// SADDs the hash's name, in one pipeline on one connection, which Redis
// runs in that order. The reader pops the marks first and reads the
// hashes after. So a mark the reader pops was added after its messages
// were written, and the read that follows the pop sees them; a mark added
// after the pop stays in the set for the next call. A message whose write
// completed before a call began has had its mark added before that call's
// pop: the call, or an earlier one, reads its hash after the message was
// in it. The opposite order would lose messages: reading the members,
// then the hashes, then removing the members read (SMEMBERS … SREM) drops
// the mark of a message written between the read of its hash and the
// SREM, which nobody then looks for until Outbox(true).
//
// A Cluster client runs a pipeline's commands on different nodes
// concurrently, and the dirty set lives on one node, the out hash maybe
// on another: the SADD can run before the script, and a pop between the
// two would consume the mark before the message is there. So on a Cluster
// every hash popped is read again by the calls of the next dirtyGrace,
// longer than any writer's pipeline takes.
//
// Marks popped by a call whose pop or read failed are kept in memory
// (unread) for the next call. The caller holds dirtyMu.
func (s *Store) dirtyMarks(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	for k := range s.unread {
		set[k] = true
	}
	now := time.Now()
	for {
		batch, err := s.c.SPopN(ctx, keyOutDirty, dirtyPop).Result()
		for _, k := range batch {
			set[k] = true
			if s.cluster {
				s.popped[k] = now
			}
		}
		if err != nil && !isNil(err) {
			// A pop whose answer was lost took marks nobody has: their
			// messages are left to Outbox(true).
			for k := range set {
				s.unread[k] = true
			}
			return nil, fmt.Errorf("pop dirty outboxes: %w", err)
		}
		if len(batch) < dirtyPop {
			break
		}
	}
	for k, at := range s.popped {
		if now.Sub(at) > dirtyGrace {
			delete(s.popped, k)
		} else {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	return keys, nil
}

// outKeys scans for every out hash (on every master of a Cluster).
func (s *Store) outKeys(ctx context.Context) ([]string, error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	scan := func(ctx context.Context, c *goredis.Client) error {
		iter := c.ScanType(ctx, 0, "rb:{*}:out", 1000, "hash").Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			seen[iter.Val()] = true
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	switch c := s.c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *goredis.Client:
		err = scan(ctx, c)
	default:
		err = fmt.Errorf("scan: unsupported client %T", s.c)
	}
	if err != nil {
		return nil, fmt.Errorf("scan out hashes: %w", err)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	return keys, nil
}

// readOutboxes reads the out hashes in one pipeline and returns their
// messages by ID.
func (s *Store) readOutboxes(ctx context.Context, keys []string) ([]flows.Outgoing, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(keys))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HGetAll(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outboxes: %w", err)
	}
	var msgs []flows.Outgoing
	for i, cmd := range cmds {
		for id, data := range cmd.Val() {
			var m flows.Outgoing
			if err := codec.DecodeOutgoing([]byte(data), &m); err != nil {
				return nil, fmt.Errorf("%s: message %s: %w", keys[i], id, err)
			}
			m.ID = id
			msgs = append(msgs, m)
		}
	}
	slices.SortFunc(msgs, func(a, b flows.Outgoing) int { return strings.Compare(a.ID, b.ID) })
	return msgs, nil
}

// deliveredScript removes delivered messages from several out hashes
// (standalone Redis only: the keys are of many slots).
// KEYS: the hashes. ARGV: how many ids each hash has, then the ids in the
// same order.
var deliveredScript = goredis.NewScript(`
local n = #KEYS
local at = n + 1
for i = 1, n do
  local c = tonumber(ARGV[i])
  for j = 0, c - 1, 500 do
    redis.call('HDEL', KEYS[i], unpack(ARGV, at + j, at + math.min(j + 499, c - 1)))
  end
  at = at + c
end
return 0
`)

// Delivered removes the messages from their out hashes in one round trip:
// one script on a standalone server (deliveredScript), one pipeline of
// HDELs on a Cluster, whose hashes are on many slots. Ids that are unknown
// or not ours are ignored.
func (s *Store) Delivered(ctx context.Context, ids []string) error {
	byKey := map[string][]string{}
	var order []string
	for _, id := range ids {
		k, ok := outKeyOf(id)
		if !ok {
			continue
		}
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], id)
	}
	if len(order) == 0 {
		return nil
	}
	var err error
	if s.cluster {
		// Keys of many slots: one HDEL each, in one pipeline.
		_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range order {
				p.HDel(ctx, k, byKey[k]...)
			}
			return nil
		})
	} else {
		// One script for them all: a batch of acknowledgements is one
		// command, not one per unit (they add up: a step's messages are
		// in its unit's hash).
		args := make([]any, 0, len(order)+len(ids))
		for _, k := range order {
			args = append(args, len(byKey[k]))
		}
		for _, k := range order {
			for _, id := range byKey[k] {
				args = append(args, id)
			}
		}
		err = deliveredScript.Run(ctx, s.c, order, args...).Err()
		if errors.Is(err, goredis.Nil) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("remove %d delivered messages: %w", len(ids), err)
	}
	return nil
}
