package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCampaignFileOpensNewCampaign: CAMPAIGN_FILE with a new id opens that
// campaign on the store (the previous one closed); the old file after
// that keeps the open campaign open.
func TestCampaignFileOpensNewCampaign(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"campaign-a.yaml", "campaign-b.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "bot", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = filepath.Join(dir, name)
		if err := os.WriteFile(files[name], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		file, wantOpen, wantLog string
	}{
		{"campaign-a.yaml", "test-2022", `"campaign":"test-2022"`},
		{"campaign-b.yaml", "test-2023", "new campaign opened from the campaign file"},
		{"campaign-a.yaml", "test-2023", "the campaign file names a closed campaign"},
	}
	for i, s := range steps {
		r := startServe(t, map[string]string{"DATA_DIR": filepath.Join(dir, "data"), "CAMPAIGN_FILE": files[s.file]})
		if got := r.bot.Service().Campaign().ID; got != s.wantOpen {
			t.Errorf("start %d with %s: open campaign %s, want %s", i, s.file, got, s.wantOpen)
		}
		r.stop(t)
		if !strings.Contains(r.logs.String(), s.wantLog) {
			t.Errorf("start %d with %s: logs lack %q:\n%s", i, s.file, s.wantLog, r.logs)
		}
	}
}
