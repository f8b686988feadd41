package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestLoadtestCommandRefusesBadFlags: `reportbot loadtest` explains its
// flags and refuses what it cannot run, before starting anything. (The
// tool itself is tested in ./loadtest, against the built binary.)
func TestLoadtestCommandRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"loadtest", "-nosuch"}, "-contacts"},
		{[]string{"loadtest", "-store", "etcd"}, `-store "etcd"`},
		{[]string{"loadtest", "-contacts", "0"}, "at least one contact"},
		{[]string{"loadtest", "extra"}, "usage: reportbot loadtest"},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), tc.args, func(string) string { return "" }, io.Discard, &stderr)
		if err == nil || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run(%q) = %v, stderr %q; want an error mentioning %q", tc.args, err, stderr.String(), tc.want)
		}
	}
}
