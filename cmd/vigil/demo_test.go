package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/content"
)

// demoRun is a running `vigil demo`.
type demoRun struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
	url  string
	key  string
}

// startDemo runs `vigil demo` in dir (its working directory) with args and
// waits until it has printed its admin key.
func startDemo(t *testing.T, dir string, args ...string) *demoRun {
	t.Helper()
	addr := freePort(t)
	d := &demoRun{out: &syncBuffer{}, done: make(chan error, 1), url: "http://" + addr}
	d.cmd = exec.Command(vigilBin, append([]string{"demo", "--listen", addr, "--log-level", "warn"}, args...)...)
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for d.key == "" || !strings.Contains(d.out.String(), "Ctrl-C") {
		for _, l := range strings.Split(d.out.String(), "\n") {
			if f := strings.Fields(l); len(f) == 1 && strings.HasPrefix(f[0], "vgl_") {
				d.key = f[0]
			}
		}
		select {
		case err := <-d.done:
			t.Fatalf("vigil demo exited: %v\n%s", err, d.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil demo printed no key in 90s\n%s", d.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

func (d *demoRun) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("demo exit: %v\n%s", err, d.out.String())
		}
	case <-time.After(60 * time.Second):
		t.Error("demo did not stop on interrupt")
	}
}

// demoCounts reads what the demo's workspace holds: each source's events
// and rejects, and each alert's rule and count.
func demoCounts(t *testing.T, d *demoRun) (sources, alerts []string) {
	t.Helper()
	for _, s := range listSources(t, d.url, d.key) {
		sources = append(sources, s.Name+" "+strconv.FormatInt(s.Events, 10)+" "+strconv.FormatInt(s.Rejected, 10))
	}
	for _, a := range listAlerts(t, d.url, d.key) {
		alerts = append(alerts, a.Rule.Title+" "+strconv.Itoa(a.Count))
	}
	sort.Strings(sources)
	sort.Strings(alerts)
	return sources, alerts
}

// demoSampleFiles counts the sample files the demo replays: those named
// <source>.<format>.<ext> (content/demo/README.md).
func demoSampleFiles(t *testing.T) int {
	t.Helper()
	names, err := fs.Glob(content.Demo, "demo/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range names {
		if len(strings.Split(path.Base(name), ".")) == 3 {
			n++
		}
	}
	return n
}

// TestDemoTwiceOnOneDataDir: a second demo on the same data directory
// replays nothing twice (counts equal) and leaves one working demo admin
// key (the first one revoked, not piled up beside it).
func TestDemoTwiceOnOneDataDir(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo-data")
	first := startDemo(t, t.TempDir(), "--data-dir", data)
	src1, al1 := demoCounts(t, first)
	if n := demoSampleFiles(t); n != 6 || len(src1) != n || len(al1) == 0 {
		t.Fatalf("first demo: %d sample files (want the 6 of content/demo/README.md), sources %v, alerts %v", n, src1, al1)
	}
	for _, s := range src1 {
		if f := strings.Fields(s); f[len(f)-1] != "0" {
			t.Errorf("the demo's sample has rejected records: source events rejected = %s", s)
		}
	}
	if want := "from " + strconv.Itoa(len(src1)) + " sources"; !strings.Contains(first.out.String(), want) {
		t.Errorf("the demo's summary does not say %q:\n%s", want, first.out.String())
	}
	first.stop(t)

	second := startDemo(t, t.TempDir(), "--data-dir", data)
	src2, al2 := demoCounts(t, second)
	if strings.Join(src1, "\n") != strings.Join(src2, "\n") {
		t.Errorf("sources after the first demo:\n%s\nafter the second:\n%s", strings.Join(src1, "\n"), strings.Join(src2, "\n"))
	}
	if strings.Join(al1, "\n") != strings.Join(al2, "\n") {
		t.Errorf("alerts after the first demo:\n%s\nafter the second:\n%s", strings.Join(al1, "\n"), strings.Join(al2, "\n"))
	}
	if !strings.Contains(second.out.String(), "already") {
		t.Errorf("the second demo does not say the sample was already there:\n%s", second.out.String())
	}
	if r := do(t, "GET", second.url+"/api/v1/alerts", first.key, "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("the first demo's key still answers %d; it should be revoked", r.status)
	}
	// The user demo gets a new password each run: the first one's is void.
	p1, p2 := demoPasswordLine.FindStringSubmatch(first.out.String()), demoPasswordLine.FindStringSubmatch(second.out.String())
	if p1 == nil || p2 == nil || p1[2] == p2[2] {
		t.Errorf("the demos print no password of user demo, or the same one:\n%s\n%s", first.out.String(), second.out.String())
	} else {
		for pw, want := range map[string]int{p1[2]: http.StatusUnauthorized, p2[2]: http.StatusOK} {
			r := do(t, "POST", second.url+"/api/v1/session", "", "application/json", strings.NewReader(`{"user":"demo","password":"`+pw+`"}`))
			if r.status != want {
				t.Errorf("sign-in as demo with a password of run %d: %d, want %d", map[bool]int{true: 2, false: 1}[pw == p2[2]], r.status, want)
			}
		}
	}
	second.stop(t)

	active := 0
	for _, l := range strings.Split(runCLI(t, "keys", "list", "--workspace", "demo", "--data-dir", data), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 8 && f[2] == "admin" && f[len(f)-3] == "-" { // REVOKED, before EXPIRES and ALLOW
			active++
		}
	}
	if active != 1 {
		t.Errorf("%d active admin keys in the demo workspace, want 1:\n%s", active, runCLI(t, "keys", "list", "--workspace", "demo", "--data-dir", data))
	}
}

// TestDemoAdviceWorks: the key command that the demo advises works as printed while the demo runs, and the demo leaves no
// ./vigil-data behind.
func TestDemoAdviceWorks(t *testing.T) {
	cwd := t.TempDir()
	d := startDemo(t, cwd)
	var advice string
	for _, l := range strings.Split(d.out.String(), "\n") {
		if strings.Contains(l, "vigil keys create") {
			advice = strings.TrimSpace(l)
		}
	}
	if advice == "" {
		t.Fatalf("the demo advises no key command:\n%s", d.out.String())
	}
	args := strings.Fields(strings.TrimPrefix(advice, "vigil "))
	cmd := exec.Command(vigilBin, args...)
	cmd.Dir = cwd
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "vgl_") {
		t.Errorf("%s: %v\n%s", advice, err, out)
	}
	d.stop(t)
	if _, err := os.Stat(filepath.Join(cwd, "vigil-data")); err == nil {
		t.Error("the demo left ./vigil-data behind")
	}
}

// TestDemoHelpDataDir: demo --help says one true thing about its data dir.
func TestDemoHelpDataDir(t *testing.T) {
	out := runCLI(t, "demo", "--help")
	if strings.Contains(out, `(default "vigil-data")`) {
		t.Errorf("demo --help claims the default data dir is vigil-data:\n%s", out)
	}
	if !strings.Contains(out, "temporary directory") {
		t.Errorf("demo --help does not say it uses a temporary directory:\n%s", out)
	}
}

// TestDemoAttacksFromSeveralCountries: the demo's attackers come from
// public addresses that the default GeoIP database places in different
// countries, and the pane's map shows at least three of them. It needs the
// enrichment step (GeoIP on the signals' source addresses): when the demo's
// alerts carry no origin at all, this build has none and the test skips.
func TestDemoAttacksFromSeveralCountries(t *testing.T) {
	d := startDemo(t, t.TempDir())
	defer d.stop(t)
	var raw struct {
		Alerts []struct {
			Origin *struct {
				Country string `json:"country"`
			} `json:"origin"`
			Intent *struct {
				Estimate string   `json:"estimate"`
				Reasons  []string `json:"reasons"`
			} `json:"intent"`
		} `json:"alerts"`
	}
	getJSON(t, d.url+"/api/v1/alerts?limit=1000", d.key, &raw)
	withOrigin := 0
	for _, a := range raw.Alerts {
		if a.Intent == nil || a.Intent.Estimate == "" || len(a.Intent.Reasons) == 0 {
			t.Errorf("a demo alert without an intent estimate and its reasons: %+v", a.Intent)
		}
		if a.Origin != nil {
			withOrigin++
		}
	}
	if withOrigin == 0 {
		t.Skip("no GeoIP enrichment in this build: none of the demo's alerts has an origin")
	}
	var m struct {
		Countries []struct {
			Country string `json:"country"`
			Numeric string `json:"numeric"`
			Alerts  int    `json:"alerts"`
		} `json:"countries"`
	}
	// The sample's events are of 26 November 2026.
	getJSON(t, d.url+"/api/v1/threats/map?from=2026-11-20T00:00:00Z&to=2026-12-01T00:00:00Z", d.key, &m)
	demo := map[string]bool{"DE": true, "JP": true, "FR": true, "BR": true, "NL": true, "CA": true, "FI": true} // content/demo/README.md
	for _, c := range m.Countries {
		if !demo[c.Country] || c.Numeric == "" || c.Alerts == 0 {
			t.Errorf("map country %+v: want one of the demo's (DE, JP, FR, BR, NL, CA, FI) with its numeric id", c)
		}
	}
	if len(m.Countries) < 3 {
		t.Errorf("the demo's map shows %d countries, want at least 3: %+v", len(m.Countries), m.Countries)
	}
}

// ruleFamilies maps the id of every rule of vigil's own pack to its family,
// the prefix of the file that holds it (sql_injection.yml: sql).
func ruleFamilies(t *testing.T) map[string]string {
	t.Helper()
	names, err := fs.Glob(content.Rules, "rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	fam := map[string]string{}
	for _, n := range names {
		base := path.Base(n)
		if strings.HasSuffix(base, ".tests.yml") {
			continue
		}
		data, err := content.Rules.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		prefix, _, _ := strings.Cut(base, "_")
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc struct {
				ID string `yaml:"id"`
			}
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if doc.ID != "" {
				fam[doc.ID] = prefix
			}
		}
	}
	return fam
}

// TestDemoRaisesEveryFamily: the demo shows alerts of every family of
// vigil's rule pack it has a source for, and the ones content/demo/README.md
// says its SQL, web and flow-log sources raise.
func TestDemoRaisesEveryFamily(t *testing.T) {
	fam := ruleFamilies(t)
	d := startDemo(t, t.TempDir())
	defer d.stop(t)
	byFamily := map[string][]string{}
	titles := map[string]bool{}
	for _, a := range listAlerts(t, d.url, d.key) {
		f, ok := fam[a.Rule.ID]
		if !ok {
			t.Errorf("alert %q: its rule %s is not in content/rules", a.Rule.Title, a.Rule.ID)
			continue
		}
		byFamily[f] = append(byFamily[f], a.Rule.Title)
		titles[a.Rule.Title] = true
	}
	for _, f := range []struct{ prefix, name string }{
		{"sql", "SQL threats"},
		{"web", "web attacks"},
		{"network", "network flows"},
		{"ssh", "SSH brute force"},
		{"aws", "cloud (AWS)"},
		{"windows", "Windows"},
	} {
		if len(byFamily[f.prefix]) == 0 {
			t.Errorf("the demo raises no %s alert (rules %s_*); alerts by family: %v", f.name, f.prefix, byFamily)
		}
	}
	// The summary reads one source at a time: a heading "name (format)"
	// for each sample file, the source's alerts under it.
	names, _ := fs.Glob(content.Demo, "demo/*")
	for _, n := range names {
		if p := strings.Split(path.Base(n), "."); len(p) == 3 && !strings.Contains(d.out.String(), "\n  "+p[0]+" ("+p[1]+")\n") {
			t.Errorf("the demo's summary has no heading for the source %s (%s):\n%s", p[0], p[1], d.out.String())
		}
	}
	for _, want := range []string{
		"Potential SQL Injection",
		"A Possible Vulnerability to SQL Injection",
		"Logon Activity from a Potentially Harmful Application",
		"Suspected Brute Force Attack",
		"Suspected Successful Brute Force Attack",
		"Shell Execution from SQL",
		"SQL Injection in a Web Request",
		"Cross-Site Scripting in a Web Request",
		"Path Traversal in a Web Request",
		"Burst of Not Found Responses to One Source",
		"Probing of Sensitive Paths from One Source",
		"Vertical Port Scan",
		"Management Port Reached from the Internet",
		// Correlations of the first and last files: lost when the files
		// reach the correlator out of time order.
		"SSH Brute Force",
		"Windows Logon After Brute Force",
	} {
		if !titles[want] {
			t.Errorf("the demo raises no %q alert; alerts by family: %v", want, byFamily)
		}
	}
}

// TestDemoGroupsIncidents: the demo's alerts are grouped into incidents,
// which the line it prints lists by priority, each with an assessment
// filled in from the evidence.
func TestDemoGroupsIncidents(t *testing.T) {
	d := startDemo(t, t.TempDir())
	defer d.stop(t)
	var line string
	for _, l := range strings.Split(d.out.String(), "\n") {
		if strings.Contains(l, "/api/v1/incidents?sort=priority") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("the demo prints no incidents line:\n%s", d.out.String())
	}
	type inc struct {
		ID         string `json:"id"`
		Title      string `json:"title"`
		Priority   int    `json:"priority"`
		AlertCount int    `json:"alert_count"`
		Assessment struct {
			Nature struct {
				AlertTypes []string `json:"alert_types"`
			} `json:"nature"`
		} `json:"assessment"`
	}
	var list struct {
		Incidents []inc `json:"incidents"`
		Total     int   `json:"total"`
	}
	poll(t, "the demo's incidents, assessed", func() bool {
		getJSON(t, d.url+"/api/v1/incidents?sort=priority&limit=100", d.key, &list)
		if len(list.Incidents) == 0 {
			return false
		}
		for _, i := range list.Incidents {
			if len(i.Assessment.Nature.AlertTypes) == 0 {
				return false
			}
		}
		return true
	})
	alerts := 0
	for i, x := range list.Incidents {
		alerts += x.AlertCount
		if i > 0 && x.Priority > list.Incidents[i-1].Priority {
			t.Errorf("incident %d (priority %d) after one of priority %d", i, x.Priority, list.Incidents[i-1].Priority)
		}
	}
	if list.Total != len(list.Incidents) || alerts < 2*len(list.Incidents) {
		t.Errorf("%d incidents (total %d) holding %d alerts: want incidents that group several alerts each on average", len(list.Incidents), list.Total, alerts)
	}
	t.Logf("%d incidents, %d alerts; first: %q", len(list.Incidents), alerts, list.Incidents[0].Title)
}
