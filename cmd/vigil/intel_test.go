package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/jsonl"
	"github.com/vigil-sec/vigil/intel/stix"
	"github.com/vigil-sec/vigil/store"
)

func runIntelCmd(args ...string) (stdout, stderr string, err error) {
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"intel"}, args...))
	err = root.Execute()
	return out.String(), errb.String(), err
}

const intelDoc = `{"kind":"cidr","value":"203.0.113.0/24","threat_type":"botnet","confidence":80}
{"kind":"ip","value":"198.51.100.7"}
not an indicator
{"kind":"domain","value":"evil.example","threat_type":"phishing","threat":"Kit-X"}
`

// import, list, lookup, export against a data dir: counts and problems
// with positions, exit status 2 for refused entries, a lookup that finds
// an address inside a range, an export that reads back the same.
func TestIntelCommands(t *testing.T) {
	dir := t.TempDir()
	if out, err := runWorkspacesCmd("create", "acme", "--data-dir", dir); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	doc := filepath.Join(t.TempDir(), "drop.jsonl")
	if err := os.WriteFile(doc, []byte(intelDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runIntelCmd("import", doc, "--format", "jsonl", "--feed", "drop", "--threat-type", "scanner", "--confidence", "55", "--data-dir", dir)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != exitRejected {
		t.Errorf("import with a bad line: err %v, want exit status %d", err, exitRejected)
	}
	if !strings.Contains(out, "feed drop (workspace acme): 3 indicators; 1 entry refused") {
		t.Errorf("import said %q", out)
	}
	if want := doc + ": line 3: "; !strings.Contains(errOut, want) {
		t.Errorf("import's problems %q lack %q", errOut, want)
	}
	if _, _, err := runIntelCmd("import", doc, "--format", "jsonl", "--feed", "drop", "--threat-type", "scanner", "--confidence", "55", "--allow-rejected", "--data-dir", dir); err != nil {
		t.Errorf("--allow-rejected: %v", err)
	}

	out, _, err = runIntelCmd("lookup", "203.0.113.77", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "203.0.113.77 (ip): 1 indicator in workspace acme") || !strings.Contains(out, "203.0.113.0/24") || !strings.Contains(out, "botnet") {
		t.Errorf("lookup of an address in the range: %v\n%s", err, out)
	}
	out, _, err = runIntelCmd("lookup", "www.Evil.Example", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "1 indicator") || !strings.Contains(out, "Kit-X") {
		t.Errorf("lookup of a subdomain: %v\n%s", err, out)
	}
	// The feed's defaults fill what the document left out.
	out, _, _ = runIntelCmd("lookup", "198.51.100.7", "--data-dir", dir)
	if !strings.Contains(out, "scanner") || !strings.Contains(out, "55") {
		t.Errorf("lookup of an indicator without threat type: %s", out)
	}
	if out, _, _ = runIntelCmd("lookup", "192.0.2.1", "--data-dir", dir); !strings.Contains(out, "0 indicators") {
		t.Errorf("lookup of an unknown address: %s", out)
	}

	out, _, err = runIntelCmd("list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "drop") || !strings.Contains(out, "jsonl") || !regexpFields(out, "acme", "drop", "jsonl", "3") {
		t.Errorf("list: %v\n%s", err, out)
	}

	exp := filepath.Join(t.TempDir(), "out.jsonl")
	if _, _, err := runIntelCmd("export", "--feed", "drop", "-o", exp, "--format", "jsonl", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var probs int
	back, err := jsonl.Parser{}.Parse(f, "x", func(intel.Problem) { probs++ })
	if err != nil || len(back) != 3 || probs != 0 {
		t.Errorf("export read back: %d indicators, %d problems, %v", len(back), probs, err)
	}
	if _, _, err := runIntelCmd("export", "--feed", "nope", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("export of a missing feed: %v", err)
	}

	// Errors name what failed.
	if _, _, err := runIntelCmd("import", doc, "--format", "nope", "--feed", "x", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "jsonl") {
		t.Errorf("unknown format: %v (want the known formats named)", err)
	}
	if _, _, err := runIntelCmd("import", filepath.Join(dir, "missing.txt"), "--format", "jsonl", "--feed", "x", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing file: %v", err)
	}
	if out, err := runWorkspacesCmd("create", "other", "--data-dir", dir); err != nil {
		t.Fatal(out, err)
	}
	if _, _, err := runIntelCmd("lookup", "203.0.113.77", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "--workspace") {
		t.Errorf("two workspaces, none named: %v", err)
	}
	// The other workspace sees none of acme's.
	if out, _, err := runIntelCmd("lookup", "203.0.113.77", "--workspace", "other", "--data-dir", dir); err != nil || !strings.Contains(out, "0 indicators") {
		t.Errorf("lookup in another workspace: %v\n%s", err, out)
	}

	if _, _, err := runIntelCmd("delete", "nope", "--workspace", "acme", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("delete of a missing feed: %v", err)
	}
	if out, _, err := runIntelCmd("delete", "drop", "--workspace", "acme", "--data-dir", dir); err != nil || !strings.Contains(out, "deleted with its 3 indicators") {
		t.Errorf("delete: %v\n%s", err, out)
	}
	if out, _, _ := runIntelCmd("lookup", "203.0.113.77", "--workspace", "acme", "--data-dir", dir); !strings.Contains(out, "0 indicators") {
		t.Errorf("lookup after the feed's deletion: %s", out)
	}

	db := openTestStore(t, dir)
	entries, _, err := db.AuditLog(context.Background(), "acme", store.AuditQuery{})
	if err != nil || len(entries) == 0 {
		t.Fatal(entries, err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Action == "intel.import" && e.Target == "feed:drop" && e.Actor == "cli"
	}
	if !found {
		t.Errorf("import not audited: %+v", entries)
	}
}

// regexpFields reports whether a line of out has the fields in order.
func regexpFields(out string, fields ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= len(fields) && strings.Join(f[:len(fields)], " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}

func TestIntelImportFromURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"kind":"ip","value":"192.0.2.5"}`+"\n")
	}))
	defer srv.Close()
	dir := t.TempDir()
	if out, err := runWorkspacesCmd("create", "acme", "--data-dir", dir); err != nil {
		t.Fatal(out, err)
	}
	out, _, err := runIntelCmd("import", srv.URL+"/feed.jsonl", "--format", "jsonl", "--feed", "remote", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "1 indicators") && !strings.Contains(out, ": 1 indicator") {
		t.Errorf("import from a URL: %v\n%s", err, out)
	}
}

func TestFeedSpecs(t *testing.T) {
	ok := FeedConfig{Workspace: "acme", Name: "f", Format: "jsonl", URL: "https://intel.example/f"}
	specs, err := feedSpecs(&Config{Feeds: []FeedConfig{ok}})
	if err != nil || len(specs) != 1 || specs[0].Interval != defaultFeedInterval || !specs[0].Enabled || specs[0].Source != ok.URL {
		t.Fatalf("feedSpecs = %+v, %v", specs, err)
	}
	for _, c := range []struct {
		edit func(*FeedConfig)
		want string
	}{
		{func(f *FeedConfig) { f.Workspace = "" }, "no workspace"},
		{func(f *FeedConfig) { f.Path = "/x" }, "one of url and path"},
		{func(f *FeedConfig) { f.URL = "" }, "one of url and path"},
		{func(f *FeedConfig) { f.URL = "ftp://x/y" }, "http or https"},
	} {
		fc := ok
		c.edit(&fc)
		if _, err := feedSpecs(&Config{Feeds: []FeedConfig{fc}}); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"f"`) {
			t.Errorf("%+v: %v, want %q naming the feed", fc, err, c.want)
		}
	}
	if _, err := feedSpecs(&Config{Feeds: []FeedConfig{ok, ok}}); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a feed twice: %v", err)
	}
	// The example file's feeds read.
	cmd := newServeCmd()
	if err := cmd.Flags().Parse([]string{"--config", filepath.Join("..", "..", "docs", "vigil.example.yaml")}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	specs, err = feedSpecs(cfg)
	if err != nil || len(specs) != 3 || specs[1].Interval.Hours() != 24 || specs[2].Enabled || specs[2].Headers["Authorization"] == "" || specs[0].Confidence != 80 {
		t.Errorf("example feeds: %+v, %v", specs, err)
	}
}

// vigil serve with a feed in its config file: the feed's indicators are
// looked up through the API, its status and metrics show, a manual
// indicator matches, and a refresh reads the changed file.
func TestServeFeeds(t *testing.T) {
	dataDir := t.TempDir()
	key, _ := newKey(t, dataDir, "acme", "admin")
	doc := filepath.Join(t.TempDir(), "drop.jsonl")
	if err := os.WriteFile(doc, []byte(intelDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "vigil.yaml")
	yaml := fmt.Sprintf("feeds:\n  - workspace: acme\n    name: drop\n    format: jsonl\n    path: %s\n    interval: 1h\n    threat-type: scanner\n", doc)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dataDir, "--config", conf) // stopped below; killed at cleanup if a check fails first

	var feeds struct {
		Feeds []struct {
			Name         string
			Indicators   int
			ProblemCount int `json:"problem_count"`
			Problems     []intel.Problem
			LastError    string `json:"last_error"`
		}
	}
	poll(t, "the feed's first fetch", func() bool {
		getJSON(t, p.url+"/api/v1/intel/feeds", key, &feeds)
		return len(feeds.Feeds) == 1 && feeds.Feeds[0].Indicators == 3
	})
	if f := feeds.Feeds[0]; f.ProblemCount != 1 || f.Problems[0].Where != "line 3" || f.LastError != "" {
		t.Errorf("feed status %+v", f)
	}
	var look struct {
		Kind       string
		Indicators []intel.Indicator
	}
	getJSON(t, p.url+"/api/v1/intel/indicators?value=203.0.113.9", key, &look)
	if look.Kind != "ip" || len(look.Indicators) != 1 || look.Indicators[0].Value != "203.0.113.0/24" {
		t.Errorf("lookup: %+v", look)
	}
	r := do(t, "POST", p.url+"/api/v1/intel/indicators", key, "application/json", strings.NewReader(`{"indicators":[{"value":"192.0.2.44","threat_type":"c2"}]}`))
	if r.status != 200 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	getJSON(t, p.url+"/api/v1/intel/indicators?value=192.0.2.44", key, &look)
	if len(look.Indicators) != 1 || look.Indicators[0].Feed != "manual" {
		t.Errorf("lookup of the manual indicator: %+v", look)
	}
	// The file changes; a refresh reads it.
	if err := os.WriteFile(doc, []byte(`{"kind":"ip","value":"198.51.100.99"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = do(t, "POST", p.url+"/api/v1/intel/feeds/drop/refresh", key, "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"indicators":1`) {
		t.Errorf("refresh: %d %s", r.status, r.body)
	}
	getJSON(t, p.url+"/api/v1/intel/indicators?value=203.0.113.9", key, &look)
	if len(look.Indicators) != 0 {
		t.Errorf("an indicator the file dropped still matches: %+v", look)
	}
	m := do(t, "GET", p.url+"/metrics", "", "", nil)
	for _, want := range []string{`vigil_intel_feed_indicators{feed="drop",workspace="acme"} 1`, `vigil_intel_feed_last_success_timestamp_seconds{feed="drop",workspace="acme"}`, `vigil_intel_feed_errors_total{feed="drop",workspace="acme"} 0`} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	p.stop()

	// A restart matches at once what the store holds, the manual
	// indicator too.
	p2 := startServe(t, dataDir, "--config", conf)
	defer p2.stop()
	getJSON(t, p2.url+"/api/v1/intel/indicators?value=192.0.2.44", key, &look)
	if len(look.Indicators) != 1 {
		t.Errorf("after a restart, the manual indicator: %+v", look)
	}
}

// The default export is a STIX 2.1 bundle that reads back as the same
// indicators.
func TestIntelExportSTIX(t *testing.T) {
	dir := t.TempDir()
	if out, err := runWorkspacesCmd("create", "acme", "--data-dir", dir); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	doc := filepath.Join(t.TempDir(), "drop.jsonl")
	if err := os.WriteFile(doc, []byte(intelDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runIntelCmd("import", doc, "--format", "jsonl", "--feed", "drop", "--allow-rejected", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(t.TempDir(), "out.json")
	if _, _, err := runIntelCmd("export", "--feed", "drop", "-o", exp, "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := stix.Parser{}.Parse(f, "drop", func(p intel.Problem) { t.Errorf("problem: %v", p) })
	if err != nil || len(back) != 3 {
		t.Fatalf("STIX export read back: %d indicators, %v", len(back), err)
	}
	got := map[string]bool{}
	for _, in := range back {
		got[string(in.Kind)+" "+in.Value] = true
	}
	for _, want := range []string{"cidr 203.0.113.0/24", "ip 198.51.100.7", "domain evil.example"} {
		if !got[want] {
			t.Errorf("export lacks %s: %v", want, got)
		}
	}
}

// Every feed of ../shared/data/threat_intel imports through the CLI with
// its format guessed or named, and gives the indicators its parsers read.
func TestIntelImportSharedFeeds(t *testing.T) {
	base := sharedData(t, "threat_intel")
	dir := t.TempDir()
	if out, err := runWorkspacesCmd("create", "acme", "--data-dir", dir); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	cases := []struct {
		path, format, feed string
		want               int
	}{
		{"ip_lists/feodo.ipset", "ip", "feodo", 235},
		{"ip_lists/tor_exits.ipset", "tor", "tor", 977},
		{"ip_lists/dshield.netset", "ip", "dshield", 20},
		{"stix21/apt1.json", "stix", "apt1", 10},
		{"stix21/infrastructure.json", "stix", "infra", 2},
		// The three events hold 318 indicators; the store keeps one a kind
		// and value in a feed, and 14 kind-and-value pairs recur.
		{"misp_feed", "misp", "misp", 304},
	}
	for _, c := range cases {
		args := []string{"import", filepath.Join(base, c.path), "--feed", c.feed, "--allow-rejected", "--data-dir", dir}
		if c.format != "" {
			args = append(args, "--format", c.format)
		}
		out, errOut, err := runIntelCmd(args...)
		if err != nil {
			t.Errorf("%s: %v\n%s%s", c.path, err, out, errOut)
			continue
		}
		if want := fmt.Sprintf(": %d indicators", c.want); !strings.Contains(out, want) {
			t.Errorf("%s: %q, want %q", c.path, out, want)
		}
	}
	out, _, err := runIntelCmd("list", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !strings.Contains(out, c.feed) {
			t.Errorf("list lacks feed %s:\n%s", c.feed, out)
		}
	}
}
