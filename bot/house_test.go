package bot

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyTheServiceTouchesTheStore: bot reaches the domain through
// flows.Service only. No file of the package (tests aside) calls a method
// of flows.Store on anything that names a store (b.store, svc.Store,
// Service().Store, a variable named store), or hands a store to a
// function, except to the outbox (bot/outbox delivers what the store
// holds; that is wiring, not a business rule).
func TestOnlyTheServiceTouchesTheStore(t *testing.T) {
	methods := storeMethods(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && methods[sel.Sel.Name] && namesStore(sel.X) {
				t.Errorf("%s: calls flows.Store.%s on %s; call a flows.Service method instead", fset.Position(call.Pos()), sel.Sel.Name, exprString(sel.X))
			}
			if isCallTo(call, "outbox", "New") {
				return true
			}
			for _, arg := range call.Args {
				if namesStore(arg) {
					t.Errorf("%s: hands the store %s to %s; call a flows.Service method instead", fset.Position(arg.Pos()), exprString(arg), exprString(call.Fun))
				}
			}
			return true
		})
	}
}

// storeMethods returns the names of flows.Store's methods, read from the
// interface's declaration in package flows.
func storeMethods(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "flows", "store.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Store" {
			return true
		}
		iface, ok := ts.Type.(*ast.InterfaceType)
		if !ok {
			t.Fatalf("flows.Store is not an interface")
		}
		for _, m := range iface.Methods.List {
			for _, name := range m.Names {
				methods[name.Name] = true
			}
		}
		return false
	})
	if len(methods) < 10 {
		t.Fatalf("found %d methods of flows.Store in flows/store.go (%v), want its whole method set", len(methods), methods)
	}
	return methods
}

// namesStore reports whether an expression names a store: an identifier
// or a field named store (any case), or a call of a method named Store.
func namesStore(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return namesStore(x.X)
	case *ast.Ident:
		return strings.EqualFold(x.Name, "store")
	case *ast.SelectorExpr:
		if pkg, ok := x.X.(*ast.Ident); ok && pkg.Name == "flows" {
			return false // the type flows.Store
		}
		return strings.EqualFold(x.Sel.Name, "store")
	case *ast.CallExpr:
		sel, ok := x.Fun.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == "Store" && len(x.Args) == 0
	}
	return false
}

// isCallTo reports whether call calls pkg.fn.
func isCallTo(call *ast.CallExpr, pkg, fn string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != fn {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// exprString renders a (short) expression for a failure message.
func exprString(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.CallExpr:
		return exprString(x.Fun) + "()"
	case *ast.ParenExpr:
		return "(" + exprString(x.X) + ")"
	}
	return "…"
}
