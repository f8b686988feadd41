package flows

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The campaign registry: the campaigns a store holds, in its settings.
// SettingCampaigns is their list (CampaignInfo, JSON), in the order they
// were opened; each one's campaign file is kept under CampaignYAMLKey, so
// that an earlier campaign can still be read and exported after restarts.
// Exactly one is open for filling; the others are kept for reading.
//
// The first campaign of a store has the store key "" (the keys a store
// had before it held several campaigns); every later one its id.

// SettingCampaigns is the setting holding the registry.
const SettingCampaigns = "campaigns"

// CampaignYAMLKey is the setting holding campaign id's file.
func CampaignYAMLKey(id string) string { return "campaign:" + id + ":yaml" }

// ScopedKey is the name of a per-campaign setting, lock or marker: the
// name itself for the store's first campaign (so that a store written
// before campaigns existed keeps its deadline and reminder markers), the
// name under the campaign's prefix for later ones.
func (c *Campaign) ScopedKey(name string) string {
	if c.Key == "" {
		return name
	}
	return "campaign:" + c.Key + ":" + name
}

// CampaignInfo is one campaign of the registry.
type CampaignInfo struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Key      string    `json:"key"`
	OpenedAt time.Time `json:"opened_at"`
	ClosedAt time.Time `json:"closed_at,omitzero"` // zero while open
}

// Open reports whether the campaign is open for filling.
func (i CampaignInfo) Open() bool { return i.ClosedAt.IsZero() }

// registryCache keeps the earlier campaigns parsed from their stored
// files, by id (a campaign file does not change once closed).
type registryCache struct {
	parsed map[string]*Campaign
}

// Campaigns lists the campaigns of the store, oldest first. A store whose
// registry was never written (tests, a service that did not StartCampaign)
// has the open campaign only.
func (s *Service) Campaigns(ctx context.Context) ([]CampaignInfo, error) {
	list, err := s.loadRegistry(ctx)
	if err != nil || len(list) > 0 {
		return list, err
	}
	c := s.Campaign()
	return []CampaignInfo{{ID: c.ID, Title: c.Title, Key: c.Key}}, nil
}

func (s *Service) loadRegistry(ctx context.Context) ([]CampaignInfo, error) {
	v, err := s.Store.Setting(ctx, SettingCampaigns)
	if errors.Is(err, ErrNotFound) || err == nil && v == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load campaign registry: %w", err)
	}
	var list []CampaignInfo
	if err := json.Unmarshal([]byte(v), &list); err != nil {
		return nil, fmt.Errorf("parse campaign registry: %w", err)
	}
	return list, nil
}

func (s *Service) putRegistry(ctx context.Context, list []CampaignInfo) error {
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encode campaign registry: %w", err)
	}
	if err := s.Store.PutSetting(ctx, SettingCampaigns, string(b)); err != nil {
		return fmt.Errorf("store campaign registry: %w", err)
	}
	return nil
}

// switchTo makes c the open campaign of this service.
func (s *Service) switchTo(c *Campaign) {
	s.camp.Store(c)
	s.mu.Lock()
	s.deadline = cachedDeadline{}
	s.mu.Unlock()
}

// followRegistry switches to the campaign the registry says is open, if
// another process opened it, and returns the open campaign.
func (s *Service) followRegistry(ctx context.Context) (*Campaign, error) {
	cur := s.Campaign()
	list, err := s.loadRegistry(ctx)
	if err != nil {
		return cur, err
	}
	open, ok := openOf(list)
	if !ok || open.ID == cur.ID {
		return cur, nil
	}
	c, err := s.storedCampaign(ctx, open)
	if err != nil {
		return cur, err
	}
	s.switchTo(c)
	return c, nil
}

func openOf(list []CampaignInfo) (CampaignInfo, bool) {
	for _, i := range list {
		if i.Open() {
			return i, true
		}
	}
	return CampaignInfo{}, false
}

func findInfo(list []CampaignInfo, id string) (CampaignInfo, bool) {
	for _, i := range list {
		if i.ID == id {
			return i, true
		}
	}
	return CampaignInfo{}, false
}

// storedCampaign parses a campaign of the registry from its stored file.
func (s *Service) storedCampaign(ctx context.Context, info CampaignInfo) (*Campaign, error) {
	s.mu.Lock()
	c := s.reg.parsed[info.ID]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	data, err := s.Store.Setting(ctx, CampaignYAMLKey(info.ID))
	if err != nil {
		return nil, fmt.Errorf("load campaign file of %s: %w", info.ID, err)
	}
	c, err = ParseCampaign([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("parse stored campaign file of %s: %w", info.ID, err)
	}
	c.Key = info.Key
	s.mu.Lock()
	if s.reg.parsed == nil {
		s.reg.parsed = map[string]*Campaign{}
	}
	s.reg.parsed[info.ID] = c
	s.mu.Unlock()
	return c, nil
}

// CampaignByID returns a campaign of the store, open or earlier; an
// unknown id is a *UserError listing the known ones.
func (s *Service) CampaignByID(ctx context.Context, id string) (*Campaign, error) {
	if cur := s.Campaign(); cur.ID == id {
		return cur, nil
	}
	list, err := s.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	info, ok := findInfo(list, id)
	if !ok {
		return nil, &UserError{Msg: "没有编号为“" + id + "”的填报活动。现有的填报活动：\n" + campaignIDs(list) + "\n发送 /campaigns 查看详情。"}
	}
	if info.ID == s.Campaign().ID {
		return s.Campaign(), nil
	}
	return s.storedCampaign(ctx, info)
}

// campaignIDs lists the campaigns' ids and titles, one a line.
func campaignIDs(list []CampaignInfo) string {
	lines := make([]string, len(list))
	for i, c := range list {
		lines[i] = c.ID + "（" + c.Title + "）"
	}
	return strings.Join(lines, "\n")
}

// StartAction says what StartCampaign did.
type StartAction string

const (
	StartFirst  StartAction = "first"  // the store's first campaign (key "")
	StartSame   StartAction = "same"   // the open campaign, as before
	StartOpened StartAction = "opened" // a new campaign, opened; the previous one closed
	StartKept   StartAction = "kept"   // the file names a closed campaign: the open one stays
)

// StartCampaign settles the open campaign when the process starts, given
// the campaign file c (CAMPAIGN_FILE or the embedded default) and its
// text. On a store without a registry (a new one, or one written before
// campaigns existed) c becomes its first campaign, with key "". When c is
// the open campaign, it is used as it is (its file may have been edited,
// as before). When its id is new, it is opened as /newcampaign would. When
// it names a campaign closed since (a restart after /newcampaign with the
// old CAMPAIGN_FILE), the open campaign stays open.
func (s *Service) StartCampaign(ctx context.Context, c *Campaign, data []byte) (StartAction, error) {
	var action StartAction
	err := s.withRegistry(ctx, func(list []CampaignInfo) ([]CampaignInfo, error) {
		info, known := findInfo(list, c.ID)
		switch {
		case len(list) == 0:
			action, c.Key = StartFirst, ""
			list = []CampaignInfo{{ID: c.ID, Title: c.Title, OpenedAt: s.Now()}}
		case known && info.Open():
			action, c.Key = StartSame, info.Key
			list = retitle(list, c)
		case known:
			open, ok := openOf(list)
			if !ok {
				return nil, fmt.Errorf("campaign registry has no open campaign")
			}
			oc, err := s.storedCampaign(ctx, open)
			if err != nil {
				return nil, err
			}
			action, c = StartKept, oc
			return nil, nil
		default:
			if probs := s.checkAgainst(ctx, c, data, list); len(probs) > 0 {
				return nil, ProblemsError(probs)
			}
			var err error
			if list, err = s.addCampaign(ctx, list, c); err != nil {
				return nil, err
			}
			action = StartOpened
		}
		if err := s.Store.PutSetting(ctx, CampaignYAMLKey(c.ID), string(data)); err != nil {
			return nil, fmt.Errorf("store campaign file of %s: %w", c.ID, err)
		}
		return list, nil
	})
	if err != nil {
		return "", err
	}
	s.switchTo(c)
	return action, nil
}

// retitle updates the registry's title of c (its file may have changed).
func retitle(list []CampaignInfo, c *Campaign) []CampaignInfo {
	for i := range list {
		if list[i].ID == c.ID {
			list[i].Title = c.Title
		}
	}
	return list
}

// addCampaign checks that c's previous campaign is known, closes the open
// campaign and appends c, open, under its id as key.
func (s *Service) addCampaign(ctx context.Context, list []CampaignInfo, c *Campaign) ([]CampaignInfo, error) {
	if c.Previous != "" {
		if _, ok := findInfo(list, c.Previous); !ok {
			return nil, &UserError{Msg: "填报活动“" + c.ID + "”的上一次活动（previous）“" + c.Previous + "”不存在。现有的填报活动：\n" + campaignIDs(list)}
		}
	}
	now := s.Now()
	for i := range list {
		if list[i].Open() {
			list[i].ClosedAt = now
		}
	}
	c.Key = c.ID
	return append(list, CampaignInfo{ID: c.ID, Title: c.Title, Key: c.Key, OpenedAt: now}), nil
}

// registryLock serialises changes of the registry across replicas.
const registryLock = "campaigns:lock"

// withRegistry runs change on the registry under its lock and stores the
// list it returns (nil: nothing to store).
func (s *Service) withRegistry(ctx context.Context, change func([]CampaignInfo) ([]CampaignInfo, error)) error {
	token := randomToken()
	for attempt := 0; ; attempt++ {
		ok, err := s.Store.Lock(ctx, registryLock, token, 30*time.Second)
		if err != nil {
			return fmt.Errorf("lock campaign registry: %w", err)
		}
		if ok {
			break
		}
		if attempt >= 20 {
			return &UserError{Msg: "另一位管理员正在更换填报活动，请稍后再试。"}
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { _ = s.Store.Unlock(context.WithoutCancel(ctx), registryLock, token) }()
	list, err := s.loadRegistry(ctx)
	if err != nil {
		return err
	}
	list, err = change(list)
	if err != nil || list == nil {
		return err
	}
	return s.putRegistry(ctx, list)
}

func randomToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewCampaign is a campaign file an admin sent (/newcampaign), checked and
// kept until the admin confirms it.
type NewCampaign struct {
	Campaign *Campaign
	Token    string       // names the kept file in the confirmation button
	Open     CampaignInfo // the campaign open now, which the new one closes
}

// pendingKey is the setting keeping a checked campaign file until its
// confirmation.
func pendingKey(token string) string { return "campaign:pending:" + token }

// CheckNewCampaign checks a campaign file as `reportbot validate` does,
// and against the store: its id must be new and its previous campaign
// known. Problems are a *UserError listing them with line numbers; nothing
// changes then. A good file is kept for OpenCampaign.
func (s *Service) CheckNewCampaign(ctx context.Context, data []byte) (NewCampaign, error) {
	c, err := ParseCampaign(data)
	var pe ProblemsError
	if errors.As(err, &pe) {
		return NewCampaign{}, &UserError{Msg: problemsMessage(pe)}
	}
	if err != nil {
		return NewCampaign{}, &UserError{Msg: problemsMessage([]Problem{{Msg: err.Error()}})}
	}
	list, err := s.Campaigns(ctx)
	if err != nil {
		return NewCampaign{}, err
	}
	if probs := s.checkAgainst(ctx, c, data, list); len(probs) > 0 {
		return NewCampaign{}, &UserError{Msg: problemsMessage(probs)}
	}
	if _, ok := findInfo(list, c.ID); ok {
		return NewCampaign{}, &UserError{Msg: "编号为“" + c.ID + "”的填报活动已经存在，未作任何更改。新的填报活动请使用新的编号（campaign 文件中的 id），例如在末尾加上年份。"}
	}
	sum := sha256.Sum256(data)
	nc := NewCampaign{Campaign: c, Token: hex.EncodeToString(sum[:8])}
	nc.Open, _ = openOf(list)
	if nc.Open.ID == "" {
		nc.Open = list[len(list)-1]
	}
	if err := s.Store.PutSetting(ctx, pendingKey(nc.Token), string(data)); err != nil {
		return NewCampaign{}, fmt.Errorf("keep new campaign file: %w", err)
	}
	return nc, nil
}

// checkAgainst finds what a campaign file gets wrong about the store's
// campaigns: an unknown previous campaign, a same_as id that campaign
// does not have.
func (s *Service) checkAgainst(ctx context.Context, c *Campaign, data []byte, list []CampaignInfo) []Problem {
	if c.Previous == "" {
		return nil
	}
	if _, ok := findInfo(list, c.Previous); !ok {
		return []Problem{{Line: lineOf(data, "previous:"), Msg: "上一次填报活动（previous）“" + c.Previous + "”不存在。现有的填报活动：" + strings.ReplaceAll(campaignIDs(list), "\n", "、")}}
	}
	prev, err := s.CampaignByID(ctx, c.Previous)
	if err != nil {
		return []Problem{{Line: lineOf(data, "previous:"), Msg: "无法读取上一次填报活动“" + c.Previous + "”，请稍后再试。"}}
	}
	var probs []Problem
	for _, q := range c.Questions() {
		if q.SameAs != "" && prev.Question(q.SameAs) == nil {
			probs = append(probs, Problem{Line: lineOf(data, "same_as: "+q.SameAs), Msg: "题目“" + q.ID + "”的 same_as “" + q.SameAs + "”在上一次填报活动“" + prev.ID + "”中不存在。"})
		}
	}
	return probs
}

// lineOf is the number of the first line of data that starts (after
// spaces and a list dash) with prefix; 0 if none.
func lineOf(data []byte, prefix string) int {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if strings.HasPrefix(strings.TrimLeft(sc.Text(), " -"), prefix) {
			return n
		}
	}
	return 0
}

// problemsMessage tells the admin what is wrong with a campaign file.
func problemsMessage(probs []Problem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "填报活动文件有 %d 个问题，未作任何更改：\n", len(probs))
	for _, p := range probs {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	b.WriteString("请改正后重新发送 /newcampaign 并附上文件（可先用 reportbot validate 检查）。")
	return b.String()
}

// OpenCampaign opens the campaign file CheckNewCampaign kept under token:
// the open campaign is closed for filling (kept for reading) and the new
// one opened. It checks again (another admin may have opened a campaign
// meanwhile); a file opened already is a *UserError.
func (s *Service) OpenCampaign(ctx context.Context, token string) (closed CampaignInfo, opened *Campaign, err error) {
	data, err := s.Store.Setting(ctx, pendingKey(token))
	if errors.Is(err, ErrNotFound) || err == nil && data == "" {
		return closed, nil, &UserError{Msg: "这份填报活动文件已处理过或已失效，未作任何更改。如需开启新的填报活动，请重新发送 /newcampaign 并附上文件。"}
	}
	if err != nil {
		return closed, nil, fmt.Errorf("load kept campaign file: %w", err)
	}
	c, err := ParseCampaign([]byte(data))
	if err != nil {
		return closed, nil, &UserError{Msg: problemsMessage([]Problem{{Msg: err.Error()}})}
	}
	err = s.withRegistry(ctx, func(list []CampaignInfo) ([]CampaignInfo, error) {
		if len(list) == 0 {
			return nil, errors.New("campaign registry not set up (StartCampaign was not called)")
		}
		if _, ok := findInfo(list, c.ID); ok {
			return nil, &UserError{Msg: "编号为“" + c.ID + "”的填报活动已经存在，未作任何更改。"}
		}
		closed, _ = openOf(list)
		list, err := s.addCampaign(ctx, list, c)
		if err != nil {
			return nil, err
		}
		if err := s.Store.PutSetting(ctx, CampaignYAMLKey(c.ID), data); err != nil {
			return nil, fmt.Errorf("store campaign file of %s: %w", c.ID, err)
		}
		return list, nil
	})
	if err != nil {
		return closed, nil, err
	}
	_ = s.Store.PutSetting(ctx, pendingKey(token), "") // done; a second press is refused
	s.switchTo(c)
	return closed, c, nil
}

// previousFigures reads the unit's figures in c's previous campaign: its
// latest report there, under c's question ids; nil when it has none (or
// the previous campaign is not in the store).
func (s *Service) previousFigures(ctx context.Context, c *Campaign, unitID int64) (*Previous, error) {
	prev, err := s.CampaignByID(ctx, c.Previous)
	var ue *UserError
	if errors.As(err, &ue) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	reps, err := s.Store.Reports(ctx, prev.Key, unitID)
	if err != nil {
		return nil, fmt.Errorf("reports of unit %d in campaign %s: %w", unitID, prev.ID, err)
	}
	if len(reps) == 0 {
		return nil, nil
	}
	return c.PreviousFigures(prev, reps[len(reps)-1]), nil
}

// UnitReports is a unit's reports in one campaign.
type UnitReports struct {
	Campaign CampaignInfo
	Reports  []Report // oldest first
}

// ReportsOfUnit returns the unit's reports in every campaign of the store,
// oldest campaign first; campaigns without a report are left out.
func (s *Service) ReportsOfUnit(ctx context.Context, unitID int64) ([]UnitReports, error) {
	list, err := s.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	var out []UnitReports
	for _, info := range list {
		reps, err := s.Store.Reports(ctx, info.Key, unitID)
		if err != nil {
			return nil, fmt.Errorf("reports of unit %d in campaign %s: %w", unitID, info.ID, err)
		}
		if len(reps) > 0 {
			out = append(out, UnitReports{Campaign: info, Reports: reps})
		}
	}
	return out, nil
}

// earlierReports is what /status adds to the open campaign's status when
// the store holds earlier campaigns: the unit's reports there. Nothing
// when there are none (a store with one campaign answers as before).
func (s *Service) earlierReports(ctx context.Context, c *Campaign, u Unit) []Reply {
	list, err := s.Campaigns(ctx)
	if err != nil || len(list) < 2 {
		return nil
	}
	all, err := s.ReportsOfUnit(ctx, u.ID)
	if err != nil {
		return []Reply{{Text: "往期填报记录暂时无法读取，请稍后再发送 /status 查看。"}}
	}
	var b strings.Builder
	b.WriteString("“" + u.Name + "”往期填报记录：")
	n := 0
	for _, ur := range all {
		if ur.Campaign.ID == c.ID {
			continue
		}
		r := ur.Reports[len(ur.Reports)-1]
		fmt.Fprintf(&b, "\n• %s（%s）：第 %d 版，回执编号 %s，提交时间 %s", ur.Campaign.Title, ur.Campaign.ID, r.Version, r.Receipt, FormatTime(r.SubmittedAt, c.Location))
		n++
	}
	if n == 0 {
		b.WriteString("\n往期填报活动中没有本单位提交的报告。")
	}
	return []Reply{{Text: b.String()}}
}
