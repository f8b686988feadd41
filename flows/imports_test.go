package flows

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImportsNoAdapters: the domain knows nothing of Telegram, Redis
// or bbolt. Besides the standard library it imports the YAML parser and
// x/text (GB18030, the encoding of CSV files saved by Excel on Chinese
// Windows).
func TestDomainImportsNoAdapters(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"go.yaml.in/yaml/v3":                           true,
		"golang.org/x/text/encoding/simplifiedchinese": true,
		"golang.org/x/text/transform":                  true,
		"golang.org/x/text/unicode/norm":               true, // NFKC of names (text.go)
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
			first, _, _ := strings.Cut(path, "/")
			if !strings.Contains(first, ".") && first != "reportbot" {
				continue // standard library
			}
			if !allowed[path] {
				t.Errorf("%s imports %s; flows may import only the standard library and %v", f, path, allowed)
			}
		}
	}
}
