package redis

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"reportbot/storage/redis/redistest"
	"reportbot/storage/storetest"
)

// replay runs the commands of a fixture file (one command a line, every
// argument a Go-quoted string, # comments) on the store's server.
func replay(tb testing.TB, c goredis.UniversalClient, path string) int {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var args []any
		for text != "" {
			q, err := strconv.QuotedPrefix(text)
			if err != nil {
				tb.Fatalf("%s:%d: %v", path, line, err)
			}
			arg, _ := strconv.Unquote(q)
			args = append(args, arg)
			text = strings.TrimLeft(text[len(q):], " ")
		}
		if err := c.Do(context.Background(), args...).Err(); err != nil {
			tb.Fatalf("%s:%d: %v: %v", path, line, args[0], err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestUpgrade loads the keys written by the release before campaigns
// (testdata/upgrade-9a709f1.txt, made by
// storage/storetest/testdata/upgrade/make_fixtures_test.go) into an empty
// server, standalone and a one-node Cluster, and finds everything that
// release read from them under campaign key "".
func TestUpgrade(t *testing.T) {
	fx := storetest.ReadUpgradeFixture(t, filepath.Join("testdata", "upgrade-9a709f1.json"))
	for _, tc := range []struct {
		name string
		opts redistest.Options
	}{
		{"redis", redistest.Options{}},
		{"redis+cluster", redistest.Options{Cluster: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.StartServer(t, tc.opts)
			s := mustOpen(t, strings.Replace(srv.URL, "redis://", tc.name+"://", 1))
			if n := replay(t, s.Client(), filepath.Join("testdata", "upgrade-9a709f1.txt")); n < 50 {
				t.Fatalf("replayed %d commands, want the fixture's (more than 50)", n)
			}
			storetest.Upgrade(t, s, fx)
		})
	}
}
