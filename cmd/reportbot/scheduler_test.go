package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/storage/bolt"
)

// TestRunJob runs the scheduled jobs once from the command line, as an
// operator (or a test) would: what is due at -at runs once, and only once.
func TestRunJob(t *testing.T) {
	tg := telegramtest.MustStart(t, telegramtest.Options{Token: testToken})
	dir := t.TempDir()
	ctx := context.Background()
	now := time.Date(2022, 2, 1, 10, 0, 0, 0, time.UTC)
	st, err := bolt.Open(filepath.Join(dir, "reportbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.AddUnit(ctx, flows.Unit{Name: "离石区双拥工作领导小组", Category: "county"})
	if err != nil {
		t.Fatal(err)
	}
	_, inv, _ := flows.NewInvite(u.ID, now)
	user := telegramtest.User{ID: 777, FirstName: "张三"}
	tg.AddUser(user)
	if err := st.PutInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Bind(ctx, inv.Hash, flows.Contact{UserID: user.ID, ChatID: user.ID}, now); err != nil {
		t.Fatal(err)
	}
	st.Close()
	env := map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "TELEGRAM_API_URL": tg.URL(), "DATA_DIR": dir, "LOG_LEVEL": "error"}
	runJob := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, append([]string{"run"}, args...), func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
			t.Fatalf("reportbot run %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if strings.Contains(stderr.String(), testToken) {
			t.Errorf("the token leaked into the output")
		}
		return strings.TrimSpace(stdout.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reminders", "-at", "2022-02-07 08:00"}, "nothing due at 2022年2月7日 08:00"},
		{[]string{"-at", "2022-02-07 09:30", "reminders"}, "round r202202070900: 1 units, 1 reached"},
		{[]string{"-at", "2022-02-07 10:00", "reminders"}, "round r202202070900 already ran"},
		{[]string{"-at", "2022-02-07 18:00", "digest"}, "digest d202202071800 skipped: no office group"},
	} {
		if got := runJob(tc.args...); !strings.HasPrefix(got, tc.want) {
			t.Errorf("reportbot run %s = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	if n := len(tg.Messages(user.ID)); n != 1 {
		t.Errorf("the contact got %d messages, want 1 reminder", n)
	}
	var stderr bytes.Buffer
	if err := run(ctx, []string{"run", "cleanup"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &stderr); err == nil || !strings.Contains(stderr.String(), "usage: reportbot run") {
		t.Errorf("reportbot run cleanup = %v, %q; want the usage", err, stderr.String())
	}
}
