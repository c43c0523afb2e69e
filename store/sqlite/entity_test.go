package sqlite

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// Host names, accounts, domains, addresses and Windows paths compare
// without regard to case; Unix paths and URLs exactly.
func TestEntitySearchCase(t *testing.T) {
	db, _ := openTest(t)
	win := ev("acme", "win", t0, "WORKSTATION5", "Administrator", "FE80::1")
	win.Logsource = event.Logsource{Product: "windows", Service: "security"}
	win.Common[event.ProcessExecutable] = `C:\Windows\System32\cmd.exe`
	win.Common[event.ProcessName] = "cmd.exe"
	win.Common[event.URLDomain] = "Intranet.Example.COM"
	lin := ev("acme", "lin", t0, "web-01.Example.com", "Deploy", "10.0.0.9")
	lin.Common[event.FilePath] = "/srv/App/Config.yml"
	lin.Common[event.ProcessName] = "Sshd"
	lin.Common[event.URLOriginal] = "https://example.com/Login"
	lin.Common[event.DBName] = "Billing"
	b := batch("acme", "s", win, lin)
	b.Signals = []alert.Signal{
		{Workspace: "acme", Type: "signature", Rule: alert.RuleRef{ID: "r-win"}, Severity: alert.High,
			Entities: []alert.Entity{{Type: alert.EntityHost, Value: "WORKSTATION5"}, {Type: alert.EntityAccount, Value: "Administrator"},
				{Type: alert.EntityProcess, Value: `C:\Windows\System32\cmd.exe`}},
			Evidence: alert.Evidence{EventID: win.ID.String(), Time: t0}},
		{Workspace: "acme", Type: "signature", Rule: alert.RuleRef{ID: "r-lin"}, Severity: alert.High,
			Entities: []alert.Entity{{Type: alert.EntityHost, Value: "web-01.Example.com"}, {Type: alert.EntityFile, Value: "/srv/App/Config.yml"},
				{Type: alert.EntityURL, Value: "https://example.com/Login"}},
			Evidence: alert.Evidence{EventID: lin.ID.String(), Time: t0}},
	}
	commit(t, db, b)

	for _, c := range []struct {
		entity string
		events []event.ID // expected, newest first (lin was made after win: higher id)
		rule   string     // the alert expected, or ""
	}{
		{"WORKSTATION5", []event.ID{win.ID}, "r-win"},
		{"workstation5", []event.ID{win.ID}, "r-win"},
		{"WorkStation5", []event.ID{win.ID}, "r-win"},
		{"administrator", []event.ID{win.ID}, "r-win"},
		{"fe80::1", []event.ID{win.ID}, ""},
		{`c:\windows\system32\CMD.EXE`, []event.ID{win.ID}, "r-win"},
		{"CMD.exe", []event.ID{win.ID}, ""}, // process name of a Windows event
		{"intranet.example.com", []event.ID{win.ID}, ""},
		{"WEB-01.example.COM", []event.ID{lin.ID}, "r-lin"},
		{"deploy", []event.ID{lin.ID}, ""},
		{"billing", []event.ID{lin.ID}, ""},
		{"/srv/App/Config.yml", []event.ID{lin.ID}, "r-lin"},
		{"/srv/app/config.yml", nil, ""}, // a Unix path is case-sensitive
		{"sshd", nil, ""},                // so is a Unix process name
		{"https://example.com/Login", []event.ID{lin.ID}, "r-lin"},
		{"https://example.com/login", nil, ""}, // a URL's path is case-sensitive
		{"workstation", nil, ""},
	} {
		got := allEvents(t, db, "acme", store.EventQuery{Entity: c.entity})
		if len(got) != len(c.events) {
			t.Errorf("events of entity %q: %d, want %d", c.entity, len(got), len(c.events))
		} else {
			for i := range got {
				if got[i].ID != c.events[i] {
					t.Errorf("events of entity %q: #%d is %s, want %s", c.entity, i, got[i].ID, c.events[i])
				}
			}
		}
		as := allAlerts(t, db, "acme", store.AlertQuery{Entity: c.entity})
		switch {
		case c.rule == "" && len(as) != 0:
			t.Errorf("alerts of entity %q: %d, want none", c.entity, len(as))
		case c.rule != "" && (len(as) != 1 || as[0].Rule.ID != c.rule):
			t.Errorf("alerts of entity %q: %d (%v), want the one of rule %s", c.entity, len(as), as, c.rule)
		}
	}
}

// docs/store.md says which entity kinds ignore case: its table of fields
// and its sentence on alert entity types must say what the code does.
func TestEntityCaseDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "store.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "| compares without regard to case | compares exactly |")
	if start < 0 {
		t.Fatal("docs/store.md: no table of entity fields and case")
	}
	names := regexp.MustCompile("`([a-z_.]+)`")
	ignoring, exact := map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		for _, m := range names.FindAllStringSubmatch(cells[1], -1) {
			ignoring[m[1]] = true
		}
		for _, m := range names.FindAllStringSubmatch(cells[2], -1) {
			exact[m[1]] = true
		}
	}
	for _, f := range entityFields {
		name := event.CommonName(f)
		if !ignoring[name] && !exact[name] {
			t.Errorf("docs/store.md: entity field %s is in neither column", name)
		}
		switch {
		case ignoring[name] && exact[name]: // Windows or not
			if !store.FieldIgnoresCase(f, "windows", "x") || store.FieldIgnoresCase(f, "linux", "/x") {
				t.Errorf("docs/store.md: %s ignores case on Windows only; the code differs", name)
			}
			if !store.FieldIgnoresCase(f, "", `C:\x`) {
				t.Errorf("docs/store.md: %s ignores case for a Windows path; the code does not", name)
			}
		case ignoring[name]:
			if !store.FieldIgnoresCase(f, "linux", "/x") {
				t.Errorf("docs/store.md: %s ignores case; the code does not", name)
			}
		case exact[name]:
			if store.FieldIgnoresCase(f, "windows", `C:\x`) {
				t.Errorf("docs/store.md: %s compares exactly; the code ignores case", name)
			}
		}
	}

	flat := strings.Join(strings.Fields(text), " ")
	const lead = "Alert entities follow the same rules by their type ("
	i := strings.Index(flat, lead)
	if i < 0 {
		t.Fatal("docs/store.md: no sentence on alert entity types")
	}
	rest := flat[i+len(lead):]
	rest = rest[:strings.Index(rest, ")")]
	groups := strings.Split(rest, ";")
	if len(groups) != 3 {
		t.Fatalf("docs/store.md: alert entity types in %d groups, want 3 (ignore case; Windows paths; exactly): %q", len(groups), rest)
	}
	seen := map[string]bool{}
	for g, want := range []func(typ string) bool{
		func(typ string) bool { return store.EntityIgnoresCase(typ, "/x") },
		func(typ string) bool {
			return store.EntityIgnoresCase(typ, `C:\x`) && !store.EntityIgnoresCase(typ, "/x")
		},
		func(typ string) bool { return !store.EntityIgnoresCase(typ, `C:\x`) },
	} {
		for _, m := range names.FindAllStringSubmatch(groups[g], -1) {
			seen[m[1]] = true
			if !want(m[1]) {
				t.Errorf("docs/store.md: alert entity type %s in group %q; the code differs", m[1], groups[g])
			}
		}
	}
	for _, typ := range []string{alert.EntityIP, alert.EntityHost, alert.EntityAccount, alert.EntityProcess, alert.EntityFile,
		alert.EntityURL, alert.EntityDatabase, alert.EntityApplication, alert.EntityCloudResource, alert.EntityHash} {
		if !seen[typ] {
			t.Errorf("docs/store.md: alert entity type %s is not named", typ)
		}
	}
}
