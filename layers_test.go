package vigil_test

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/vigil-sec/vigil"

// mayImport is docs/architecture.md's table (DESIGN.md's, as the code has
// it): what each package may import within this module. A package matches
// the longest prefix listed; its own subpackages and the internal ones of
// its tree are always allowed. A change here is a change of that page.
var mayImport = map[string][]string{
	"event":        {},
	"tenant":       {"event"},
	"alert":        {"event", "rule"},
	"rule":         {"event"},
	"rule/pack":    {"event", "rule"},
	"detect":       {"event", "rule"},
	"bus":          {"event"},
	"decode":       {"event", "decode"},
	"ingest":       {"event", "decode", "bus", "tenant", "ingest"},
	"store":        {"event", "alert", "tenant", "intel", "store", "suppress", "incident"},
	"incident":     {"event", "alert"},
	"respond":      {"event", "alert", "incident", "store", "alertstream"},
	"query":        {"event"},
	"sourcehealth": {"event", "alert", "tenant", "store"},
	"alertstream":  {"alert", "store"},
	"analysis":     {"event", "alert", "tenant", "rule", "detect", "decode", "bus", "store", "enrich", "intel", "suppress"},
	"enrich":       {"event", "intel", "enrich", "country"},
	"api":          {"event", "alert", "tenant", "intel", "decode", "store", "suppress", "incident", "query", "respond", "country"},
	"suppress":     {"event", "alert"},
	"intel/feed":   {"intel", "store"},
	"content":      {},
	"country":      {},
	"intel":        {"intel"},
	"web":          {"event", "alert", "tenant", "incident", "web", "country"},
	// internal/teststore opens the store the tests run on (SQLite or
	// PostgreSQL, by VIGIL_TEST_STORE).
	"internal/teststore": {"store"},
}

// TestDependenciesPointInward reads every package's imports (tests
// excluded) and holds them to mayImport: domain packages never import a
// transport or a database, ingest does not import the store.
func TestDependenciesPointInward(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); dir != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			return nil // no Go files (or only tests)
		}
		rel := filepath.ToSlash(dir)
		rule, allowed := ruleFor(rel)
		if rule == "" {
			return nil // cmd/vigil, bench: wiring may import anything
		}
		checked++
		for _, imp := range pkg.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if !permitted(rel, dep, allowed) {
				t.Errorf("%s imports %s; docs/architecture.md allows %s: %v", rel, dep, rule, allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 30 {
		t.Fatalf("checked only %d packages", checked)
	}
}

// TestArchitectureDocListsEveryRule: every package of mayImport has its
// row in docs/architecture.md, naming what it may import.
func TestArchitectureDocListsEveryRule(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		cells := strings.Split(l, "|")
		if len(cells) < 4 {
			continue
		}
		for _, name := range strings.Split(cells[1], ",") {
			rows[strings.Trim(strings.TrimSpace(name), "`")] = cells[3]
		}
	}
	for p, allowed := range mayImport {
		row, ok := rows[p]
		if !ok {
			t.Errorf("docs/architecture.md has no row for %s", p)
			continue
		}
		for _, a := range allowed {
			if a != p && !strings.Contains(row, "`"+a+"`") && !strings.Contains(row, "domain packages") {
				t.Errorf("docs/architecture.md: %s's row does not name %s among its imports", p, a)
			}
		}
	}
}

func ruleFor(pkg string) (string, []string) {
	best := ""
	for p := range mayImport {
		if (pkg == p || strings.HasPrefix(pkg, p+"/")) && len(p) > len(best) {
			best = p
		}
	}
	return best, mayImport[best]
}

func permitted(pkg, dep string, allowed []string) bool {
	if strings.HasPrefix(dep, pkg+"/") {
		return true // its own subpackages
	}
	// internal packages are importable by their parent's tree only, as Go enforces.
	if i := strings.Index(dep, "/internal/"); i >= 0 && strings.HasPrefix(pkg, dep[:i]) {
		return true
	}
	for _, a := range allowed {
		if dep == a || strings.HasPrefix(dep, a+"/") {
			return true
		}
	}
	return false
}
