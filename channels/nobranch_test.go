package channels_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// channelNames are the names of channels frontdesk has or may get.
var channelNames = []string{"whatsapp", "messenger", "instagram", "sms", "webchat", "telegram"}

// branchAllowed lists "file: literal" pairs outside channels/ that may
// branch on a channel's name, each with its reason. It is empty: wiring in
// cmd/frontdesk builds each channel with its own constructor and puts it in
// a channels.Set; everything else asks the Set or the channel.
var branchAllowed = map[string]string{}

// TestChannelNamesAreNotBranchedOnOutsideChannels holds "one channel
// interface": no non-test Go file outside channels/ compares a value with a
// channel's name, switches on it, or keys a map literal by it. What differs
// between channels belongs to the channel (channels.Channel, its
// Capabilities) or to the channels package (channels.DisplayName).
func TestChannelNamesAreNotBranchedOnOutsideChannels(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, n := range channelNames {
		names[n] = true
	}
	fset := token.NewFileSet()
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			base := d.Name()
			if rel == "channels" || base == "testdata" || base == "vendor" || base == "node_modules" || (strings.HasPrefix(base, ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if testHelperPackage(f.Name.Name) {
			return nil // fixtures of tests, not run by the binary
		}
		scanned++
		report := func(lit ast.Expr, how string) {
			bl, ok := lit.(*ast.BasicLit)
			if !ok || bl.Kind != token.STRING {
				return
			}
			v, err := strconv.Unquote(bl.Value)
			if err != nil || !names[strings.ToLower(v)] {
				return
			}
			if _, ok := branchAllowed[rel+": "+v]; ok {
				return
			}
			t.Errorf("%s: %s %q: ask the channel (channels.Set, Capabilities, DisplayName) instead of branching on its name", fset.Position(bl.Pos()), how, v)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op == token.EQL || n.Op == token.NEQ {
					report(n.X, "compares with")
					report(n.Y, "compares with")
				}
			case *ast.CaseClause:
				for _, e := range n.List {
					report(e, "switches on")
				}
			case *ast.CompositeLit:
				if _, ok := n.Type.(*ast.MapType); ok {
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							report(kv.Key, "keys a map by")
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d files under %s: is the walk rooted right?", scanned, root)
	}
}

// testHelperPackage reports whether a package of that name holds test
// helpers (storetest, whatsapptest, …).
func testHelperPackage(name string) bool { return strings.HasSuffix(name, "test") }
