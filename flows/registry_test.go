package flows_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/storage/bolt"
)

// The campaign registry through flows.Service on a real store: which
// campaign a start opens, what /newcampaign refuses, and which settings
// belong to a campaign.

const regA = `id: reg-2022
title: 2022年登记测试
notice: 测试〔2021〕1号
receipt: RA-2022
office: 市双拥办
time_zone: Asia/Shanghai
deadline: "2022-02-10 18:00"
categories:
  - {id: county, name: 县市区}
sections:
  - id: figures
    title: 一、数据
    questions:
      - {id: visits, prompt: 走访慰问部队, unit: 次, type: integer, required: true}
      - {id: households, prompt: 走访慰问军属, unit: 户, type: integer, required: true}
`

// regB is the next campaign: previous A, households renamed.
var regB = strings.NewReplacer(
	"id: reg-2022", "id: reg-2023\nprevious: reg-2022",
	"2022年登记测试", "2023年登记测试",
	`"2022-02-10 18:00"`, `"2023-02-10 18:00"`,
	"{id: households, prompt: 走访慰问军属,", "{id: families, same_as: households, prompt: 走访慰问军属家庭,",
).Replace(regA)

type registryFixture struct {
	t    *testing.T
	path string
	now  time.Time
}

// start opens the store and starts a service with the campaign file data,
// as serve does; the caller closes the store.
func (f *registryFixture) start(data string) (*flows.Service, flows.StartAction, func()) {
	f.t.Helper()
	st, err := bolt.Open(f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := flows.ParseCampaign([]byte(data))
	if err != nil {
		f.t.Fatal(err)
	}
	svc := flows.NewService(st, c, func() time.Time { return f.now })
	action, err := svc.StartCampaign(context.Background(), c, []byte(data))
	if err != nil {
		f.t.Fatalf("StartCampaign: %v", err)
	}
	return svc, action, func() { st.Close() }
}

func TestStartCampaign(t *testing.T) {
	f := &registryFixture{t: t, path: filepath.Join(t.TempDir(), "s.db"), now: time.Date(2022, 1, 20, 10, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	steps := []struct {
		file       string
		wantAction flows.StartAction
		wantOpen   string
		wantKey    string
		wantN      int
	}{
		{regA, flows.StartFirst, "reg-2022", "", 1},
		{regA, flows.StartSame, "reg-2022", "", 1},
		{regB, flows.StartOpened, "reg-2023", "reg-2023", 2},
		{regB, flows.StartSame, "reg-2023", "reg-2023", 2},
		{regA, flows.StartKept, "reg-2023", "reg-2023", 2}, // an old CAMPAIGN_FILE after /newcampaign
	}
	for i, s := range steps {
		svc, action, done := f.start(s.file)
		c := svc.Campaign()
		if action != s.wantAction || c.ID != s.wantOpen || c.Key != s.wantKey {
			t.Errorf("start %d: StartCampaign = %s, open %s (key %q); want %s, open %s (key %q)", i, action, c.ID, c.Key, s.wantAction, s.wantOpen, s.wantKey)
		}
		list, err := svc.Campaigns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		open := 0
		for _, info := range list {
			if info.Open() {
				open++
			}
		}
		if len(list) != s.wantN || open != 1 {
			t.Errorf("start %d: Campaigns = %+v, want %d with exactly one open", i, list, s.wantN)
		}
		done()
	}
}

func TestStartCampaignUnknownPrevious(t *testing.T) {
	f := &registryFixture{t: t, path: filepath.Join(t.TempDir(), "s.db"), now: time.Now()}
	_, _, done := f.start(regA)
	done()
	st, err := bolt.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, _ := flows.ParseCampaign([]byte(strings.Replace(regB, "previous: reg-2022", "previous: reg-1999", 1)))
	svc := flows.NewService(st, c, time.Now)
	if _, err := svc.StartCampaign(context.Background(), c, []byte(regB)); err == nil || !strings.Contains(err.Error(), "reg-1999") {
		t.Errorf("StartCampaign with an unknown previous campaign = %v, want an error naming it", err)
	}
}

// TestCampaignSettingsScoped: the first campaign keeps today's setting
// names (an upgraded store keeps its deadline override), later ones get
// their own.
func TestCampaignSettingsScoped(t *testing.T) {
	f := &registryFixture{t: t, path: filepath.Join(t.TempDir(), "s.db"), now: time.Now()}
	ctx := context.Background()
	st, err := bolt.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	moved := time.Date(2022, 2, 12, 18, 0, 0, 0, time.UTC)
	if err := st.PutSetting(ctx, flows.SettingDeadline, moved.Format(time.RFC3339)); err != nil { // written by the release before
		t.Fatal(err)
	}
	st.Close()
	svc, _, done := f.start(regA)
	if d, err := svc.Deadline(ctx); err != nil || !d.Equal(moved) {
		t.Errorf("A's deadline after the upgrade = %v, %v; want the stored override %v", d, err, moved)
	}
	done()
	svc, _, done = f.start(regB)
	defer done()
	b := svc.Campaign()
	if d, err := svc.Deadline(ctx); err != nil || !d.Equal(b.Deadline) {
		t.Errorf("B's deadline = %v, %v; want its file's %v", d, err, b.Deadline)
	}
	if _, err := svc.SetDeadline(ctx, b.Deadline.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v, _ := svc.Store.Setting(ctx, flows.SettingDeadline); v != moved.Format(time.RFC3339) {
		t.Errorf("A's deadline setting = %q after B's /deadline, want it unchanged", v)
	}
	if v, err := svc.Store.Setting(ctx, b.ScopedKey(flows.SettingDeadline)); err != nil || v == "" {
		t.Errorf("B's deadline setting %s = %q, %v", b.ScopedKey(flows.SettingDeadline), v, err)
	}
	a, err := svc.CampaignByID(ctx, "reg-2022")
	if err != nil || a.Key != "" || a.Title != "2022年登记测试" {
		t.Fatalf("CampaignByID(reg-2022) = %+v, %v; want A, key \"\"", a, err)
	}
	if d, err := svc.DeadlineOf(ctx, a); err != nil || !d.Equal(moved) {
		t.Errorf("DeadlineOf(A) = %v, %v; want %v", d, err, moved)
	}
}

func TestNewCampaignRefusals(t *testing.T) {
	f := &registryFixture{t: t, path: filepath.Join(t.TempDir(), "s.db"), now: time.Now()}
	ctx := context.Background()
	svc, _, done := f.start(regA)
	defer done()
	cases := []struct {
		name, file, want string
	}{
		{"same id", regA, "已经存在"},
		{"bad yaml", strings.Replace(regB, "type: integer", "type: number", 1), "第 "},
		{"unknown previous", strings.Replace(regB, "previous: reg-2022", "previous: reg-1999", 1), "第 2 行：上一次填报活动（previous）“reg-1999”不存在"},
		{"unknown same_as", strings.Replace(regB, "same_as: households", "same_as: homes", 1), "“homes”在上一次填报活动“reg-2022”中不存在"},
	}
	for _, c := range cases {
		_, err := svc.CheckNewCampaign(ctx, []byte(c.file))
		var ue *flows.UserError
		if !errors.As(err, &ue) || !strings.Contains(ue.Msg, c.want) || !strings.Contains(ue.Msg, "未作任何更改") {
			t.Errorf("%s: CheckNewCampaign = %v, want a *UserError saying %q", c.name, err, c.want)
		}
	}
	if list, _ := svc.Campaigns(ctx); len(list) != 1 || svc.Campaign().ID != "reg-2022" {
		t.Fatalf("after refusals: campaigns %+v, open %s; want A alone", list, svc.Campaign().ID)
	}

	// Another replica on the same store sees the switch.
	other := flows.NewService(svc.Store, mustParse(t, regA), time.Now)
	nc, err := svc.CheckNewCampaign(ctx, []byte(regB))
	if err != nil {
		t.Fatal(err)
	}
	if nc.Open.ID != "reg-2022" || nc.Campaign.ID != "reg-2023" {
		t.Errorf("CheckNewCampaign = open %s, new %s", nc.Open.ID, nc.Campaign.ID)
	}
	closed, opened, err := svc.OpenCampaign(ctx, nc.Token)
	if err != nil || closed.ID != "reg-2022" || opened.ID != "reg-2023" || svc.Campaign() != opened {
		t.Fatalf("OpenCampaign = %+v, %v, %v", closed, opened, err)
	}
	if _, _, err := svc.OpenCampaign(ctx, nc.Token); err == nil {
		t.Errorf("OpenCampaign pressed twice succeeded")
	}
	if c, _, err := other.Current(ctx); err != nil || c.ID != "reg-2023" || c.Key != "reg-2023" {
		t.Errorf("other replica's Current = %v, %v; want reg-2023", c, err)
	}
	if _, err := svc.CampaignByID(ctx, "reg-1999"); err == nil || !strings.Contains(err.Error(), "reg-2022（2022年登记测试）") {
		t.Errorf("CampaignByID(unknown) = %v, want the known ids listed", err)
	}
}

func mustParse(t *testing.T, data string) *flows.Campaign {
	t.Helper()
	c, err := flows.ParseCampaign([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
