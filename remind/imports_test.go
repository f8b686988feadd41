package remind

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNoAdapters: the scheduler knows the domain and a Notifier,
// not the Telegram adapter, the stores or their drivers (as
// flows.TestDomainImportsNoAdapters for the domain).
func TestImportsNoAdapters(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{
		"reportbot/bot",
		"reportbot/storage",
		"github.com/go-telegram/",
		"github.com/redis/go-redis/",
		"go.etcd.io/bbolt",
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, p := range forbidden {
				if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
					t.Errorf("%s imports %s; remind must not import %s", f, path, p)
				}
			}
		}
	}
}
