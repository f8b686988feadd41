package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"reportbot/flows"
)

// UpgradeFixture is what the release before campaigns (commit 9a709f1)
// read back through flows.Store from a store it had written: the JSON file
// beside each store's upgrade fixture (storage/bolt/testdata,
// storage/redis/testdata), made with the fixture (the bbolt file, the Redis
// keys) by storetest/testdata/upgrade/make_fixtures_test.go run against
// that release.
type UpgradeFixture struct {
	Release   string            `json:"release"`
	WrittenAt time.Time         `json:"written_at"` // wall clock when written: locks expire by it
	Units     []UpgradeUnit     `json:"units"`
	Drafts    []flows.Draft     `json:"drafts"`   // Store.Drafts
	Settings  map[string]string `json:"settings"` // every setting
	Locks     map[string]string `json:"locks"`    // key → token of every lock held
}

// UpgradeUnit is one unit of an UpgradeFixture with what the release read
// for it.
type UpgradeUnit struct {
	Unit     flows.Unit      `json:"unit"`
	Contacts []flows.Contact `json:"contacts"`
	Invites  []flows.Invite  `json:"invites"`
	Draft    flows.Draft     `json:"draft"`
	Reports  []flows.Report  `json:"reports"`
}

// ReadUpgradeFixture reads an UpgradeFixture's JSON file and checks that
// it holds the story the generator plays (so that Upgrade cannot pass on
// an empty fixture).
func ReadUpgradeFixture(tb testing.TB, path string) UpgradeFixture {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read upgrade fixture: %v", err)
	}
	var fx UpgradeFixture
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fx); err != nil {
		tb.Fatalf("decode upgrade fixture %s: %v", path, err)
	}
	checkUpgradeStory(tb, fx)
	return fx
}

// checkUpgradeStory fails unless fx holds what the generator's story wrote.
func checkUpgradeStory(tb testing.TB, fx UpgradeFixture) {
	tb.Helper()
	byName := map[string]UpgradeUnit{}
	for _, u := range fx.Units {
		byName[u.Unit.Name] = u
	}
	revised := byName["离石区双拥工作领导小组"]
	if len(revised.Reports) != 2 || revised.Reports[0].Receipt != "SY-2022-0001" || revised.Reports[1].Receipt != "SY-2022-0001-2" || revised.Draft.Status != flows.StatusSubmitted {
		tb.Fatalf("fixture: 离石区 has %d reports, draft status %s; want versions SY-2022-0001 and SY-2022-0001-2, submitted", len(revised.Reports), revised.Draft.Status)
	}
	if u := byName["孝义市双拥工作领导小组"]; len(u.Reports) != 1 || u.Draft.Status != flows.StatusReturned || u.Draft.Returned == nil {
		tb.Fatalf("fixture: 孝义市 has %d reports, draft status %s; want 1 version, returned", len(u.Reports), u.Draft.Status)
	}
	if u := byName["市民政局"]; len(u.Contacts) != 2 || u.Draft.Status != flows.StatusFilling || u.Draft.Cursor == "" || len(u.Draft.Answers) < 2 {
		tb.Fatalf("fixture: 市民政局 has %d contacts, draft status %s at %q; want 2 contacts, mid-form", len(u.Contacts), u.Draft.Status, u.Draft.Cursor)
	}
	if u := byName["汾阳市双拥工作领导小组"]; len(u.Invites) != 1 || !u.Invites[0].Open(u.Invites[0].Created) {
		tb.Fatalf("fixture: 汾阳市 has invites %+v; want one open", u.Invites)
	}
	if len(fx.Drafts) != 3 {
		tb.Fatalf("fixture: %d drafts, want 3", len(fx.Drafts))
	}
	for _, k := range []string{flows.SettingDeadline, flows.SettingOfficeGroup, flows.SettingReminders} {
		if fx.Settings[k] == "" {
			tb.Fatalf("fixture: setting %s unset", k)
		}
	}
	markers := 0
	for k := range fx.Locks {
		if strings.HasPrefix(k, "remind:") && strings.Count(k, ":") == 3 {
			markers++
		}
	}
	if markers == 0 {
		tb.Fatalf("fixture: no reminder marker among the locks %v", fx.Locks)
	}
}

// sameJSON reports whether a and b encode to the same JSON, and the two
// encodings. Values read back by different releases are compared so:
// fields added since (empty) drop out, times compare as written.
func sameJSON(tb testing.TB, a, b any) (bool, string, string) {
	tb.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Equal(ja, jb), string(ja), string(jb)
}

// Upgrade checks that s, opened on the data of fx's fixture, reads as the
// release that wrote it did, as campaign key "": every unit, contact,
// invite, draft, report (receipts included), setting and lock; that
// another campaign key sees none of it; and that work goes on: the
// mid-form draft takes its next step, the open invite binds, and the
// second campaign starts empty beside the first. A store whose locks
// expire by its own clock (bbolt) must run at about fx.WrittenAt.
func Upgrade(t *testing.T, s flows.Store, fx UpgradeFixture) {
	t.Helper()
	ctx := t.Context()
	check := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s after the upgrade error: %v", what, err)
			return
		}
		if ok, g, w := sameJSON(t, got, want); !ok {
			t.Errorf("%s after the upgrade =\n%s\nwant (as release %s read it)\n%s", what, g, fx.Release, w)
		}
	}
	var units []flows.Unit
	for _, fu := range fx.Units {
		u := fu.Unit
		units = append(units, u)
		got, err := s.Unit(ctx, u.ID)
		check("Unit("+u.Name+")", got, u, err)
		got, err = s.UnitByName(ctx, u.Name)
		check("UnitByName("+u.Name+")", got, u, err)
		cs, err := s.Contacts(ctx, u.ID)
		check("Contacts("+u.Name+")", cs, fu.Contacts, err)
		for _, c := range fu.Contacts {
			got, err := s.Contact(ctx, c.UserID)
			check("Contact of "+u.Name, got, c, err)
		}
		invs, err := s.Invites(ctx, u.ID)
		check("Invites("+u.Name+")", invs, fu.Invites, err)
		d, err := s.Draft(ctx, "", u.ID)
		check(`Draft("", `+u.Name+")", d, fu.Draft, err)
		rs, err := s.Reports(ctx, "", u.ID)
		check(`Reports("", `+u.Name+")", rs, fu.Reports, err)
		d, err = s.Draft(ctx, campaign2, u.ID)
		check(`Draft("`+campaign2+`", `+u.Name+")", d, flows.Draft{UnitID: u.ID}, err)
		if rs, err := s.Reports(ctx, campaign2, u.ID); err != nil || len(rs) != 0 {
			t.Errorf("Reports(%q, %s) after the upgrade = %d versions, %v; want none", campaign2, u.Name, len(rs), err)
		}
	}
	got, err := s.Units(ctx)
	check("Units()", got, units, err)
	ds, err := s.Drafts(ctx, "")
	check(`Drafts("")`, ds, fx.Drafts, err)
	if ds, err := s.Drafts(ctx, campaign2); err != nil || len(ds) != 0 {
		t.Errorf("Drafts(%q) after the upgrade = %+v, %v; want none", campaign2, ds, err)
	}
	for k, v := range fx.Settings {
		got, err := s.Setting(ctx, k)
		check("Setting("+k+")", got, v, err)
	}
	for k, token := range fx.Locks {
		if ok, err := s.Lock(ctx, k, "upgrade-check", time.Minute); err != nil || ok {
			t.Errorf("Lock(%q) by another token after the upgrade = %v, %v; want false (still held)", k, ok, err)
		}
		if ok, err := s.Lock(ctx, k, token, 40*24*time.Hour); err != nil || !ok {
			t.Errorf("Lock(%q) by its holder %q after the upgrade = %v, %v; want true", k, token, ok, err)
		}
	}
	if msgs, err := s.Outbox(ctx, true); err != nil || len(msgs) != 0 {
		t.Errorf("Outbox(true) after the upgrade = %d messages, %v; want none (all were delivered)", len(msgs), err)
	}
	upgradeGoesOn(t, s, fx)
}

// upgradeGoesOn: after the upgrade the mid-form contact answers the next
// question in campaign "", the same unit starts afresh in a second
// campaign, and the unused invite binds a new contact.
func upgradeGoesOn(t *testing.T, s flows.Store, fx UpgradeFixture) {
	t.Helper()
	ctx := t.Context()
	var mid, open UpgradeUnit
	for _, fu := range fx.Units {
		switch fu.Unit.Name {
		case "市民政局":
			mid = fu
		case "汾阳市双拥工作领导小组":
			open = fu
		}
	}
	ct := mid.Contacts[0]
	next := nextDraft(mid.Draft, "essays", "8")
	mustApply(t, s, flows.Transition{UnitID: mid.Unit.ID, UpdateID: 1 << 40, UserID: ct.UserID, FromRev: mid.Draft.Rev, Draft: next})
	if got := draftIn(t, s, "", mid.Unit.ID); got.Rev != mid.Draft.Rev+1 || got.Answers["essays"].Text != "8" {
		t.Errorf("Draft(\"\", %s) after a step = rev %d, want rev %d with the new answer", mid.Unit.Name, got.Rev, mid.Draft.Rev+1)
	}
	fresh := nextDraft(flows.Draft{UnitID: mid.Unit.ID}, "filler_name", "张建军")
	mustApply(t, s, flows.Transition{Campaign: campaign2, UnitID: mid.Unit.ID, UpdateID: 1<<40 + 1, UserID: ct.UserID, Draft: fresh})
	if got := draftIn(t, s, "", mid.Unit.ID); got.Rev != mid.Draft.Rev+1 {
		t.Errorf("Draft(\"\", %s) after a step in campaign %q = rev %d, want rev %d", mid.Unit.Name, campaign2, got.Rev, mid.Draft.Rev+1)
	}
	inv := open.Invites[0]
	if _, err := s.Bind(ctx, inv.Hash, flows.Contact{UserID: 7999, ChatID: 7999}, inv.Created.Add(time.Minute)); err != nil {
		t.Errorf("Bind(the open invite of %s) after the upgrade error: %v", open.Unit.Name, err)
	}
	if _, err := s.Contact(ctx, 7999); errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Contact(7999) after binding the old invite: not found")
	}
}
