package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/event"
)

const cacheRuleA = `title: cached A
logsource: {product: windows}
detection:
  sel: {Image: a.exe}
  condition: sel
`

// The same length as cacheRuleA, so that only the content tells them apart.
const cacheRuleB = `title: cached B
logsource: {product: windows}
detection:
  sel: {Image: b.exe}
  condition: sel
`

// loadWithCache loads the rules of dir through a rule cache in cacheDir,
// as scan does, and returns the titles of the rules loaded.
func loadWithCache(t *testing.T, dir, cacheDir string, cfg *Config) []string {
	t.Helper()
	if cfg == nil {
		cfg = &Config{}
	}
	cfg.Rules, cfg.NoBuiltin = []string{dir}, true
	l := newRuleLoader(cfg, slog.New(slog.DiscardHandler), 0)
	l.cache = openRuleCache(cacheDir, cfg.Rules, l.opts)
	l.refresh()
	if err := l.cache.save(); err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, f := range l.files {
		for _, r := range f.set.Rules {
			titles = append(titles, r.Title)
		}
	}
	return titles
}

// A second load takes a file's rules from the cache while the file keeps
// its size and time, and parses it again once either changes.
func TestRuleCacheReusesParse(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "r.yml")
	writeFile(t, path, cacheRuleA)
	mod := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	if got := loadWithCache(t, dir, cache, nil); len(got) != 1 || got[0] != "cached A" {
		t.Fatalf("first load: %q", got)
	}
	// Same size and time, other content: only a cache gives A again.
	writeFile(t, path, cacheRuleB)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	if got := loadWithCache(t, dir, cache, nil); len(got) != 1 || got[0] != "cached A" {
		t.Fatalf("second load (from the cache): %q", got)
	}
	// A new time: parsed again.
	mod = mod.Add(time.Second)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	if got := loadWithCache(t, dir, cache, nil); len(got) != 1 || got[0] != "cached B" {
		t.Fatalf("after the file changed: %q", got)
	}
	// Other rule options (placeholders): not the cache's parse.
	writeFile(t, path, cacheRuleA)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{}
	cfg.placeholders = map[string][]string{"x": {"y"}}
	if got := loadWithCache(t, dir, cache, cfg); len(got) != 1 || got[0] != "cached A" {
		t.Fatalf("with placeholders: %q", got)
	}
}

// A damaged or cut cache file is passed over: the rules are parsed and the
// file is written anew.
func TestRuleCacheDamaged(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yml"), cacheRuleA)
	loadWithCache(t, dir, cache, nil)
	files, _ := filepath.Glob(filepath.Join(cache, "*.bin"))
	if len(files) != 1 {
		t.Fatalf("cache files %q", files)
	}
	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{
		good[:len(good)/2],
		append(append([]byte(nil), good[:len(good)-10]...), 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8),
		[]byte("not a cache"),
		{},
	} {
		if err := os.WriteFile(files[0], bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := loadWithCache(t, dir, cache, nil); len(got) != 1 || got[0] != "cached A" {
			t.Fatalf("with a damaged cache: %q", got)
		}
		again, _ := os.ReadFile(files[0])
		if _, err := decodeRuleCache(again, ruleCacheKey(newRuleLoader(&Config{}, slog.New(slog.DiscardHandler), 0).opts)); err != nil {
			t.Errorf("cache not rewritten: %v", err)
		}
	}
}

// scan keeps a rule cache in the user's cache directory, and
// --no-rule-cache neither reads nor writes one.
func TestScanRuleCacheFlag(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "cache")
	t.Setenv("XDG_CACHE_HOME", home)
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "r.yml"), cacheRuleA)
	input := filepath.Join(dir, "in.jsonl")
	writeFile(t, input, `{"Image":"a.exe"}`+"\n")
	_, stderr, code := runVigil(t, "scan", "--no-builtin-rules", "--no-rule-cache", "--rules", rules, input)
	if code != 0 {
		t.Fatalf("scan: %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "vigil", "rules")); !os.IsNotExist(err) {
		t.Fatalf("--no-rule-cache wrote a cache: %v", err)
	}
	_, stderr, code = runVigil(t, "scan", "--no-builtin-rules", "--rules", rules, input)
	if code != 0 || strings.Contains(stderr, "rule cache") {
		t.Fatalf("scan: %d %s", code, stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(home, "vigil", "rules", "*.bin")); len(files) != 1 {
		t.Fatalf("cache files %q", files)
	}
}

// A scan keeps the literal sets its routes built beside the rule cache; the
// next scan of the same rules takes them (the file is not written again)
// and gives the same alerts, and a damaged or foreign sets file is passed
// over and written anew, the alerts still the same.
func TestScanKeepsLiteralSets(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "cache")
	t.Setenv("XDG_CACHE_HOME", home)
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "a.yml"), cacheRuleA)
	writeFile(t, filepath.Join(rules, "c.yml"), `title: encoded command
logsource: {product: windows}
detection:
  sel:
    CommandLine|contains: [' -enc ', 'frombase64string']
    Image|endswith: '\powershell.exe'
  keywords: ['mimikatz']
  condition: sel or keywords
`)
	input := filepath.Join(dir, "in.jsonl")
	const sysmon = `"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1`
	writeFile(t, input, `{`+sysmon+`,"Image":"a.exe"}`+"\n"+
		`{`+sysmon+`,"Image":"C:\\Windows\\powershell.exe","CommandLine":"powershell -enc AAAA"}`+"\n"+
		`{`+sysmon+`,"Image":"x.exe","CommandLine":"run MIMIKATZ now"}`+"\n"+
		`{`+sysmon+`,"Image":"x.exe","CommandLine":"nothing"}`+"\n")
	scan := func() string {
		t.Helper()
		out, stderr, code := runVigil(t, "scan", "--no-builtin-rules", "-o", "ndjson", "--rules", rules, input)
		if code != 0 || strings.Contains(stderr, "not saved") {
			t.Fatalf("scan: %d %s", code, stderr)
		}
		var rules []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var a struct {
				Rule     struct{ Title string }
				Count    int
				Evidence []struct{ Line int }
			}
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			rules = append(rules, fmt.Sprintf("%s×%d@%v", a.Rule.Title, a.Count, a.Evidence))
		}
		slices.Sort(rules)
		return strings.Join(rules, "; ")
	}
	want := scan()
	if strings.Count(want, "×") != 2 {
		t.Fatalf("alerts %q: want cached A and encoded command", want)
	}
	sets, _ := filepath.Glob(filepath.Join(home, "vigil", "rules", "*.sets"))
	if len(sets) != 1 {
		t.Fatalf("sets files %q", sets)
	}
	first, err := os.ReadFile(sets[0])
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(sets[0], old, old)
	if got := scan(); got != want {
		t.Errorf("with the kept sets: %q, first scan: %q", got, want)
	}
	if info, _ := os.Stat(sets[0]); !info.ModTime().Equal(old) {
		t.Error("a scan that took every set wrote them again")
	}
	for _, bad := range [][]byte{first[:len(first)/2], append([]byte("x"), first[1:]...), nil} {
		writeFile(t, sets[0], string(bad))
		if got := scan(); got != want {
			t.Errorf("with a sets file of %d damaged bytes: %q, want %q", len(bad), got, want)
		}
		if again, _ := os.ReadFile(sets[0]); string(again) != string(first) {
			t.Errorf("damaged sets file not written anew (%d bytes, want %d)", len(again), len(first))
		}
	}
}

// A server takes the literal sets kept for its rules (read, not mapped):
// an engine given them builds none for the routes they cover, and one of
// other rules passes them over.
func TestServeRuleCacheLoadsSets(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yml"), `title: sets
logsource: {product: windows}
detection:
  sel:
    CommandLine|contains: [' -enc ', 'frombase64string', 'downloadstring']
  condition: sel
`)
	engine := func() (*ruleLoader, *analysis.Rules) {
		cfg := &Config{Rules: []string{dir}, NoBuiltin: true}
		l := newRuleLoader(cfg, slog.New(slog.DiscardHandler), 0)
		l.cache = openRuleCache(cacheDir, cfg.Rules, l.opts)
		l.refresh()
		rs, _ := l.build()
		return l, rs
	}
	ls := event.Logsource{Product: "windows"}
	l, first := engine()
	if l.cache.loadSets(first.Engine) {
		t.Fatal("sets taken before any were kept")
	}
	first.Engine.Warm(ls)
	if first.Engine.SetsBuilt() == 0 {
		t.Fatal("the route built no set: the test would prove nothing")
	}
	if err := l.cache.saveSets(first.Engine); err != nil {
		t.Fatal(err)
	}
	l, second := engine()
	if !l.cache.loadSets(second.Engine) {
		t.Fatal("the kept sets were refused")
	}
	second.Engine.Warm(ls)
	if n := second.Engine.SetsBuilt(); n != 0 {
		t.Errorf("given the kept sets, the engine built %d", n)
	}
	writeFile(t, filepath.Join(dir, "a.yml"), `title: other
logsource: {product: windows}
detection:
  sel: {CommandLine|contains: 'something else'}
  condition: sel
`)
	l, other := engine()
	if l.cache.loadSets(other.Engine) {
		t.Error("sets of other rules were taken")
	}
}

// A first load takes a file's size and time from the descriptor it reads
// (no stat of its own): they are os.Stat's, so the next refresh keeps the
// parse of the unchanged file, and parses it again once it changes.
func TestRuleLoaderFirstReadStamp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yml")
	writeFile(t, path, cacheRuleA)
	l := newRuleLoader(&Config{Rules: []string{dir}, NoBuiltin: true}, slog.New(slog.DiscardHandler), 0)
	l.refresh()
	first := l.files[path]
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if first == nil || first.size != info.Size() || !first.mod.Equal(info.ModTime()) || len(first.set.Rules) != 1 {
		t.Fatalf("first load: %+v, stat %d %v", first, info.Size(), info.ModTime())
	}
	l.refresh()
	if l.files[path] != first {
		t.Errorf("an unchanged file was parsed again")
	}
	writeFile(t, path, cacheRuleB)
	mod := info.ModTime().Add(time.Second)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	l.refresh()
	if f := l.files[path]; f == first || len(f.set.Rules) != 1 || f.set.Rules[0].Title != "cached B" {
		t.Errorf("a changed file was not parsed again: %+v", f)
	}
}
