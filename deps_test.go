// Dependency rules of the module, checked with go list (as Tailscale's
// deptest does): which packages may reach the concrete store and the
// database drivers.
package frontdesk_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/frontdesk-ai/frontdesk"

// storeUsers are the packages that use the store through their own small
// interfaces: they, and their subpackages, never import the concrete store.
var storeUsers = []string{"actors", "gateway", "tools", "channels"}

// databaseDrivers are import path prefixes of SQL drivers, and the SQL
// package they plug into (database/sql/driver alone is no database: uuid
// imports it for its Valuer).
var databaseDrivers = []string{"database/sql", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/lib/pq", "github.com/mattn/go-sqlite3"}

// notADatabase are imports below a databaseDrivers prefix that are allowed.
var notADatabase = []string{"database/sql/driver"}

// listedPackage is what go list tells of one package.
type listedPackage struct {
	ImportPath string
	Deps       []string
	Error      *struct{ Err string }
}

// listDeps runs go list -deps on patterns (relative to the module root)
// and returns each matched package with its transitive imports.
func listDeps(t *testing.T, patterns ...string) []listedPackage {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list dependencies")
	}
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Deps,Error"}, patterns...)...)
	cmd.Dir = "."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %v: %v\n%s", patterns, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", patterns, err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %v matched no package", patterns)
	}
	return pkgs
}

// testHelper reports whether pkg is a package of test helpers (whatsapptest,
// openapitest, …): they may open real stores.
func testHelper(pkg string) bool { return strings.HasSuffix(path.Base(pkg), "test") }

// importsOf returns the deps of p that match any of prefixes (a prefix
// matches itself and the paths below it).
func importsOf(p listedPackage, prefixes ...string) []string {
	var out []string
	for _, d := range p.Deps {
		if slices.Contains(notADatabase, d) {
			continue
		}
		if slices.ContainsFunc(prefixes, func(pre string) bool { return d == pre || strings.HasPrefix(d, pre+"/") }) {
			out = append(out, d)
		}
	}
	return out
}

// brief lists the first few of paths.
func brief(paths []string) string {
	if len(paths) <= 3 {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:3], ", "), len(paths)-3)
}

// TestStoreUsersDoNotImportTheStore holds the store boundary: actors,
// gateway, tools and channels declare the transactions they need as their
// own interfaces, and only cmd/frontdesk wires persistence/sqlstore (or any
// database driver) to them.
func TestStoreUsersDoNotImportTheStore(t *testing.T) {
	for _, dir := range storeUsers {
		t.Run(dir, func(t *testing.T) {
			for _, p := range listDeps(t, "./"+dir+"/...") {
				if testHelper(p.ImportPath) {
					continue
				}
				bad := importsOf(p, module+"/persistence/sqlstore")
				if len(bad) == 0 {
					bad = importsOf(p, databaseDrivers...)
				}
				if len(bad) > 0 {
					t.Errorf("%s reaches %s: declare the store methods it needs as an interface and let cmd/frontdesk wire sqlstore.For", p.ImportPath, brief(bad))
				}
			}
		})
	}
}

// TestRecordsDoNotImportADatabase holds persistence (the records, errors and
// interfaces) free of any database driver: the drivers live in the store
// implementations below it.
func TestRecordsDoNotImportADatabase(t *testing.T) {
	for _, p := range listDeps(t, "./persistence") {
		if bad := importsOf(p, databaseDrivers...); len(bad) > 0 {
			t.Errorf("%s reaches %s", p.ImportPath, brief(bad))
		}
		if bad := importsOf(p, module+"/persistence/sqlstore", module+"/persistence/kafkalog"); len(bad) > 0 {
			t.Errorf("%s reaches its implementations %s", p.ImportPath, brief(bad))
		}
	}
}
