package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/tenant"
)

// documentedComponents reads the component names from the table in the
// "Logs" section of docs/operations.md.
func documentedComponents(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([a-z]+)` \\|")
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Logs"
			continue
		}
		if m := row.FindStringSubmatch(line); in && m != nil {
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/operations.md: no component table in the Logs section")
	}
	sort.Strings(out)
	return out
}

// The constants are the documented set, no more and no less.
func TestLogComponentsDocumented(t *testing.T) {
	doc := documentedComponents(t)
	code := slices.Clone(logComponents)
	sort.Strings(code)
	if !slices.Equal(doc, code) {
		t.Errorf("docs/operations.md lists components %v; the code (logComponents) has %v", doc, code)
	}
}

// logRecord is one captured log record: its message and every attribute as
// it would be printed (group.key), values as strings.
type logRecord struct {
	msg   string
	attrs [][2]string
}

func (r logRecord) values(key string) []string {
	var out []string
	for _, a := range r.attrs {
		if a[0] == key {
			out = append(out, a[1])
		}
	}
	return out
}

func (r logRecord) String() string { return fmt.Sprintf("%q %v", r.msg, r.attrs) }

// captureLog is a slog.Handler that keeps every record, at every level.
type captureLog struct {
	mu     *sync.Mutex
	recs   *[]logRecord
	attrs  [][2]string
	prefix string
}

func newCaptureLog() *captureLog {
	return &captureLog{mu: &sync.Mutex{}, recs: &[]logRecord{}}
}

func (h *captureLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureLog) flatten(dst [][2]string, prefix string, a slog.Attr) [][2]string {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			dst = h.flatten(dst, p, g)
		}
		return dst
	}
	return append(dst, [2]string{prefix + a.Key, v.String()})
}

func (h *captureLog) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{msg: r.Message, attrs: slices.Clone(h.attrs)}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs = h.flatten(rec.attrs, h.prefix, a)
		return true
	})
	h.mu.Lock()
	*h.recs = append(*h.recs, rec)
	h.mu.Unlock()
	return nil
}

func (h *captureLog) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = slices.Clone(h.attrs)
	for _, a := range as {
		c.attrs = h.flatten(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *captureLog) WithGroup(name string) slog.Handler {
	c := *h
	c.prefix += name + "."
	return &c
}

func (h *captureLog) records() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(*h.recs)
}

// count reports how many records have msg and, if component is not empty,
// that component.
func (h *captureLog) count(msg, component string) int {
	n := 0
	for _, r := range h.records() {
		if r.msg == msg && (component == "" || slices.Contains(r.values("component"), component)) {
			n++
		}
	}
	return n
}

// testServeConfig is serve's configuration with its defaults, as the flags
// give it, plus args.
func testServeConfig(t *testing.T, args ...string) *Config {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Every record `vigil serve` logs, from start through ingest, a rule
// reload, retention and stop, carries one component attribute from the
// list in docs/operations.md.
func TestServeLogComponents(t *testing.T) {
	doc := documentedComponents(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	if err := os.Mkdir(rules, 0o750); err != nil {
		t.Fatal(err)
	}
	rulePath := filepath.Join(rules, "r.yml")
	if err := os.WriteFile(rulePath, []byte(testRule), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testServeConfig(t, "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--rules", rules, "--rules-reload", "50ms", "--health-interval", "100ms")
	cfg.Workspaces = []WorkspaceConfig{{Name: "acme"}}
	cfg.Sources = []SourceConfig{{Workspace: "acme", Name: "auth", Format: "syslog", Receivers: []ReceiverConfig{
		{Type: "file", Path: filepath.Join(dir, "auth.log"), PollInterval: 50 * time.Millisecond},
		{Type: "syslog", Protocol: "udp", Listen: "127.0.0.1:0"},
	}}}

	h := newCaptureLog()
	// Lines logged through the default logger (or the log package) would
	// have no component: catch them too.
	prev := slog.Default()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() { slog.SetDefault(prev) })
	ctx := context.Background()

	// First run: start, ingest, reload, stop.
	s, err := startServer(ctx, cfg, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := createKey(ctx, s.store, "acme", tenant.ScopeAdmin, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	r := ingestBody(t, s.URL(), key, "web", "json", "application/x-ndjson",
		[]byte("{\"msg\":\"one\"}\n{\"msg\":\"two\"}\nnot json\n"))
	if r.status != 202 && r.status != 200 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	poll(t, "ingested events stored", func() bool { return storedEvents(t, s.URL(), key) >= 2 })

	loads := h.count("rules loaded", "")
	if err := os.WriteFile(rulePath, []byte(strings.ReplaceAll(testRule, "whoami.exe", "hostname.exe")), 0o600); err != nil {
		t.Fatal(err)
	}
	bump(t, rulePath)
	if err := os.WriteFile(filepath.Join(rules, "broken.yml"), []byte("title: broken\ndetection: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	poll(t, "rule reload", func() bool { return h.count("rules loaded", "") > loads })
	if err := s.shutdown(60 * time.Second); err != nil {
		t.Fatal(err)
	}

	// Second run: the events of the first are past retention.
	cfg.Retention = time.Nanosecond
	s, err = startServer(ctx, cfg, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, "retention purge", func() bool {
		for _, r := range h.records() {
			if strings.HasPrefix(r.msg, "retention purged") {
				return true
			}
		}
		return false
	})
	if err := s.shutdown(60 * time.Second); err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	bad := 0
	for _, r := range h.records() {
		c := r.values("component")
		switch {
		case len(c) != 1:
			t.Errorf("%d component attributes (want 1): %v", len(c), r)
		case !slices.Contains(doc, c[0]):
			t.Errorf("component %q is not in docs/operations.md (%v): %v", c[0], doc, r)
		default:
			seen[c[0]] = true
			continue
		}
		if bad++; bad >= 20 {
			t.Fatal("too many bad records")
		}
	}
	// The run went through what it should have: these wrote lines.
	for _, c := range []string{"server", "rules", "store", "bus", "ingest", "api", "receiver", "retention"} {
		if !seen[c] {
			t.Errorf("no record of component %q (seen: %v)", c, seen)
		}
	}
}
