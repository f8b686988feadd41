// This file makes the upgrade fixtures: stores written by the release
// before a store held several campaigns (commit 9a709f1), which today's
// code must open as campaign key "" with nothing lost (storetest.Upgrade).
// It is kept here, under testdata, because it compiles only against that
// release: it is a test of its package bot, driving the real bot of that
// release through the fake Bot API with its own test harness.
//
// To make the fixtures again (from the repository root; needs redis-server):
//
//	old=$(mktemp -d)/reportbot-9a709f1
//	git worktree add --detach "$old" 9a709f1
//	cp storage/storetest/testdata/upgrade/make_fixtures_test.go "$old/bot/"
//	(cd "$old" && go test ./bot -run TestMakeUpgradeFixtures -count=1 -args -upgrade-fixtures "$OLDPWD/storage")
//	git worktree remove --force "$old"
//
// It writes, for each store, what the store holds and what that release
// read back from it through flows.Store:
//
//	storage/bolt/testdata/upgrade-9a709f1.db     the bbolt file
//	storage/bolt/testdata/upgrade-9a709f1.json   what the release read from it
//	storage/redis/testdata/upgrade-9a709f1.txt   every key, as the commands that write it again (one quoted command per line)
//	storage/redis/testdata/upgrade-9a709f1.json  what the release read from it
//
// The story, on both stores: the office group is set; 离石区 submits and
// revises (2 versions); 孝义市 submits and the admin returns it (/reopen);
// 市民政局's contact is in the middle of the form, and a second contact is
// bound to it; 汾阳市 has an unused invite; 吕梁军分区's contact never
// started; the admin moves the deadline, sends a reminder round (/remind:
// the round's lock and a marker per reminded contact) and turns the
// reminders after the deadline off.

package bot

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
)

var upgradeFixtures = flag.String("upgrade-fixtures", "", "write the upgrade fixtures under this storage directory")

// fixtureRelease names the release that wrote the fixtures.
const fixtureRelease = "9a709f1"

// upgradeFixture is what the release read back from its store: the JSON
// file beside each fixture (storetest.UpgradeFixture reads it).
type upgradeFixture struct {
	Release   string            `json:"release"`
	WrittenAt time.Time         `json:"written_at"` // wall clock (locks expire by it)
	Units     []fixtureUnit     `json:"units"`
	Drafts    []flows.Draft     `json:"drafts"` // Store.Drafts
	Settings  map[string]string `json:"settings"`
	Locks     map[string]string `json:"locks"` // key → token of every lock held
}

type fixtureUnit struct {
	Unit     flows.Unit      `json:"unit"`
	Contacts []flows.Contact `json:"contacts"`
	Invites  []flows.Invite  `json:"invites"`
	Draft    flows.Draft     `json:"draft"`
	Reports  []flows.Report  `json:"reports"`
}

func TestMakeUpgradeFixtures(t *testing.T) {
	if *upgradeFixtures == "" {
		t.Skip("run with -args -upgrade-fixtures DIR")
	}
	for _, kind := range []string{"bolt", "redis"} {
		t.Run(kind, func(t *testing.T) { makeUpgradeFixture(t, kind) })
	}
}

func makeUpgradeFixture(t *testing.T, kind string) {
	h := newHarness(t, harnessOptions{store: kind})
	playUpgradeStory(t, h)
	h.stop()

	s := h.openStore()
	fx := readFixture(t, s)
	s.Close()
	dir := filepath.Join(*upgradeFixtures, kind, "testdata")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "upgrade-"+fixtureRelease)
	switch kind {
	case "bolt":
		fx.Settings, fx.Locks = boltSettingsLocks(t, filepath.Join(h.dir, "reportbot.db"), fx.WrittenAt)
		data, err := os.ReadFile(filepath.Join(h.dir, "reportbot.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".db", data, 0o644); err != nil {
			t.Fatal(err)
		}
	case "redis":
		opt, err := goredis.ParseURL(h.redisURL)
		if err != nil {
			t.Fatal(err)
		}
		c := goredis.NewClient(opt)
		defer c.Close()
		fx.Settings, fx.Locks = redisSettingsLocks(t, c)
		if err := os.WriteFile(base+".txt", dumpRedis(t, c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkStory(t, fx)
	data, err := json.MarshalIndent(fx, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+".json", append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func playUpgradeStory(t *testing.T, h *harness) {
	h.setGroup()

	// Submitted, then revised: 2 versions.
	alice := telegramtest.User{ID: 7001, FirstName: "王晓明"}
	h.bind(alice, h.addUnit("离石区双拥工作领导小组", "县市区"))
	submitQuickly(h, alice)
	h.say(alice, "/report")
	h.press(alice, "修改报告")
	h.press(alice, "改 ")
	h.say(alice, "王晓红")
	wantText(t, h.press(alice, "确认提交"), "SY-2022-0001-2")

	// Submitted, then returned by the admin.
	bob := telegramtest.User{ID: 7002, FirstName: "李红梅"}
	h.bind(bob, h.addUnit("孝义市双拥工作领导小组", "县市区"))
	submitQuickly(h, bob)
	wantText(t, h.say(h.admin, "/reopen 孝义市双拥工作领导小组 慰问金与附件不符，请核对"), "退回修改")

	// In the middle of the form; two contacts.
	carol := telegramtest.User{ID: 7003, FirstName: "张建军"}
	dave := telegramtest.User{ID: 7004, FirstName: "刘志强"}
	h.bind(carol, h.addUnit("市民政局", "市直"))
	h.bind(dave, h.invite("市民政局"))
	h.say(carol, "/report")
	h.fill(carol, "filler_name", "张建军")
	h.fill(carol, "filler_phone", "13912345678")
	h.say(carol, "7")

	// An unused invite; a contact who never started.
	h.addUnit("汾阳市双拥工作领导小组", "县市区")
	h.bind(telegramtest.User{ID: 7005, FirstName: "陈丽华"}, h.addUnit("吕梁军分区", "部队"))

	// Settings and a reminder round.
	wantText(t, h.say(h.admin, "/deadline 2022-02-15 18:00"), "2022年2月15日 18:00")
	h.scheduler(SchedulerOptions{})
	h.say(h.admin, "/remind")
	h.press(h.admin, "确认发送")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := h.tg.WaitText(ctx, h.admin.ID, "已向"); err != nil {
		t.Fatalf("the reminder round did not finish: %v", err)
	}
	wantText(t, h.say(h.admin, "/reminders off"), "已停止截止后的自动提醒")
	h.settle()
}

// readFixture reads everything back through the release's flows.Store.
func readFixture(t *testing.T, s flows.Store) upgradeFixture {
	ctx := context.Background()
	fx := upgradeFixture{Release: fixtureRelease, WrittenAt: time.Now().UTC().Truncate(time.Second)}
	units, err := s.Units(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		fu := fixtureUnit{Unit: u}
		if fu.Contacts, err = s.Contacts(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if fu.Invites, err = s.Invites(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if fu.Draft, err = s.Draft(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if fu.Reports, err = s.Reports(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		fx.Units = append(fx.Units, fu)
	}
	if fx.Drafts, err = s.Drafts(ctx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// boltSettingsLocks lists the settings and the locks held at now.
func boltSettingsLocks(t *testing.T, path string, now time.Time) (map[string]string, map[string]string) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	settings, locks := map[string]string{}, map[string]string{}
	err = db.View(func(tx *bbolt.Tx) error {
		if err := tx.Bucket([]byte("settings")).ForEach(func(k, v []byte) error {
			settings[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket([]byte("locks")).ForEach(func(k, v []byte) error {
			if len(v) >= 8 && int64(binary.BigEndian.Uint64(v)) > now.UnixNano() {
				locks[string(k)] = string(v[8:])
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return settings, locks
}

func redisSettingsLocks(t *testing.T, c *goredis.Client) (map[string]string, map[string]string) {
	ctx := context.Background()
	settings, err := c.HGetAll(ctx, "rb:settings").Result()
	if err != nil {
		t.Fatal(err)
	}
	locks := map[string]string{}
	keys, err := c.Keys(ctx, "rb:lock:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		v, err := c.Get(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		locks[strings.TrimPrefix(k, "rb:lock:")] = v
	}
	return settings, locks
}

// dumpRedis writes every key as the commands that write it again, sorted by
// key, each argument a Go-quoted string; PEXPIRE keeps the remaining time to
// live.
func dumpRedis(t *testing.T, c *goredis.Client) []byte {
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "# Redis keys written by reportbot %s (storage/storetest/testdata/upgrade/make_fixtures_test.go).\n", fixtureRelease)
	b.WriteString("# One command a line, every argument a Go-quoted string; replayed in order on an empty database.\n")
	line := func(args ...string) {
		for i, a := range args {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Quote(a))
		}
		b.WriteByte('\n')
	}
	for _, k := range keys {
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "string":
			line("SET", k, c.Get(ctx, k).Val())
		case "hash":
			m := c.HGetAll(ctx, k).Val()
			args := []string{"HSET", k}
			for _, f := range slices.Sorted(mapKeys(m)) {
				args = append(args, f, m[f])
			}
			line(args...)
		case "list":
			line(append([]string{"RPUSH", k}, c.LRange(ctx, k, 0, -1).Val()...)...)
		case "set":
			line(append([]string{"SADD", k}, slices.Sorted(slices.Values(c.SMembers(ctx, k).Val()))...)...)
		case "zset":
			args := []string{"ZADD", k}
			for _, z := range c.ZRangeWithScores(ctx, k, 0, -1).Val() {
				args = append(args, scoreText(z.Score), z.Member.(string))
			}
			line(args...)
		default:
			t.Fatalf("key %s has type %s, which the dump does not know", k, typ)
		}
		if ttl := c.PTTL(ctx, k).Val(); ttl > 0 {
			line("PEXPIRE", k, strconv.FormatInt(ttl.Milliseconds(), 10))
		}
	}
	return []byte(b.String())
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func scoreText(f float64) string {
	switch {
	case f > 1e308:
		return "+inf"
	case f < -1e308:
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// checkStory fails unless the store holds what the story wrote.
func checkStory(t *testing.T, fx upgradeFixture) {
	byName := map[string]fixtureUnit{}
	for _, u := range fx.Units {
		byName[u.Unit.Name] = u
	}
	if u := byName["离石区双拥工作领导小组"]; len(u.Reports) != 2 || u.Draft.Version != 2 || u.Draft.Status != flows.StatusSubmitted {
		t.Errorf("离石区: %d reports, draft version %d status %s; want 2 versions submitted", len(u.Reports), u.Draft.Version, u.Draft.Status)
	}
	if u := byName["孝义市双拥工作领导小组"]; len(u.Reports) != 1 || u.Draft.Status != flows.StatusReturned {
		t.Errorf("孝义市: %d reports, draft status %s; want 1 version, returned", len(u.Reports), u.Draft.Status)
	}
	if u := byName["市民政局"]; len(u.Contacts) != 2 || u.Draft.Status != flows.StatusFilling || u.Draft.Cursor == "" || len(u.Reports) != 0 {
		t.Errorf("市民政局: %d contacts, draft status %s cursor %q, %d reports; want 2 contacts mid-form", len(u.Contacts), u.Draft.Status, u.Draft.Cursor, len(u.Reports))
	}
	if u := byName["汾阳市双拥工作领导小组"]; len(u.Invites) != 1 || u.Invites[0].UsedBy != 0 {
		t.Errorf("汾阳市: invites %+v; want one unused", u.Invites)
	}
	for _, k := range []string{flows.SettingDeadline, flows.SettingOfficeGroup, flows.SettingReminders} {
		if fx.Settings[k] == "" {
			t.Errorf("setting %s not set", k)
		}
	}
	markers := 0
	for k := range fx.Locks {
		if strings.HasPrefix(k, "remind:") {
			markers++
		}
	}
	if markers == 0 {
		t.Errorf("no reminder marker among the locks %v", fx.Locks)
	}
}
