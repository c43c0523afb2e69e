package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// TestIncidentsCLIDoc ties docs/cli.md to the incidents commands: each
// is named there, with every flag it takes.
func TestIncidentsCLIDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	inc, _, err := root.Find([]string{"incidents"})
	if err != nil || inc.Name() != "incidents" {
		t.Fatalf("no incidents command: %v", err)
	}
	if len(inc.Commands()) < 7 {
		t.Fatalf("incidents has %d subcommands, want at least list, show, assign, stage, comment, close, merge", len(inc.Commands()))
	}
	for _, sub := range inc.Commands() {
		if !bytes.Contains(doc, []byte("`"+sub.CommandPath())) {
			t.Errorf("docs/cli.md does not document %s", sub.CommandPath())
		}
		sub.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" {
				return
			}
			if !bytes.Contains(doc, []byte("--"+f.Name)) {
				t.Errorf("docs/cli.md does not document %s's --%s", sub.CommandPath(), f.Name)
			}
		})
	}
}

// seedAlerts commits three alerts into workspace ws of the data
// directory, about accounts u0, u1, u2, last seen a minute apart, and
// returns their ids in that order.
func seedAlerts(t *testing.T, dir, ws string) []string {
	t.Helper()
	db := openTestStore(t, dir)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ids := event.NewIDSource()
	b := &store.Batch{ID: ids.New(t0), Workspace: ws, Source: "bastion", Format: "sshd", Received: t0}
	for i := range 3 {
		ev := store.StoredEvent{ID: ids.New(t0), Workspace: ws, Source: "bastion", Format: "sshd",
			Time: t0.Add(time.Duration(i) * time.Minute), Received: t0, Raw: fmt.Appendf(nil, "event %d", i)}
		b.Events = append(b.Events, ev)
		ents := []alert.Entity{{Type: alert.EntityAccount, Value: fmt.Sprintf("u%d", i)}, {Type: alert.EntityHost, Value: "web1"}}
		rule := fmt.Sprintf("rule-%d", i)
		b.Signals = append(b.Signals, alert.Signal{Workspace: ws, Type: "signature", Rule: alert.RuleRef{ID: rule, Title: "Rule " + rule},
			Severity: alert.High, Tactics: []string{"credential-access"}, Entities: ents, DedupKey: alert.DedupKey(ws, rule, ents),
			Evidence: alert.Evidence{EventID: ev.ID.String(), Time: ev.Time}})
	}
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	als, _, err := db.Alerts(ctx, ws, store.AlertQuery{Limit: 10, Sort: store.AlertSortLastSeen})
	if err != nil || len(als) != 3 {
		t.Fatalf("seeded alerts %+v, %v", als, err)
	}
	out := make([]string, 3)
	for _, a := range als {
		for _, e := range a.Entities {
			if e.Type == alert.EntityAccount {
				out[e.Value[1]-'0'] = a.ID
			}
		}
	}
	db.Close()
	return out
}

// TestIncidentsCommands works incidents from the command line against a
// data directory: create, list, refused moves with their reason, the
// workflow to close, show, merge and split, all audited as cli.
func TestIncidentsCommands(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runVigil(t, "workspaces", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("workspaces create: %d %s", code, errOut)
	}
	alerts := seedAlerts(t, dir, "acme")
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return runVigil(t, append(args, "--workspace", "acme", "--data-dir", dir)...)
	}
	created := regexp.MustCompile(`^incident (\S+) created with (\d+) alerts?\n$`)
	out, errOut, code := run("incidents", "create", alerts[0], alerts[1], "--title", "Brute force on web1")
	m := created.FindStringSubmatch(out)
	if code != 0 || m == nil || m[2] != "2" {
		t.Fatalf("create: %d %q %s", code, out, errOut)
	}
	id := m[1]
	out, errOut, code = run("incidents", "create", alerts[2])
	m = created.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create without a title: %d %q %s", code, out, errOut)
	}
	other := m[1]
	if _, errOut, code := run("incidents", "create", "nope"); code == 0 {
		t.Errorf("create from an unknown alert: %s", errOut)
	}

	list := func(args ...string) []incident.Incident {
		t.Helper()
		out, errOut, code := run(append([]string{"incidents", "list", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("list %v: %d %s", args, code, errOut)
		}
		var got []incident.Incident
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var inc incident.Incident
			if err := json.Unmarshal([]byte(l), &inc); err != nil {
				t.Fatalf("%v: %q", err, l)
			}
			got = append(got, inc)
		}
		return got
	}
	if got := list(); len(got) != 2 || got[0].ID != other || got[1].ID != id || got[1].Title != "Brute force on web1" {
		t.Fatalf("listed %+v", got)
	}
	if got := list("--entity", "U2"); len(got) != 1 || got[0].ID != other {
		t.Errorf("--entity U2: %+v", got)
	}
	if out, errOut, _ := run("incidents", "list", "--limit", "1"); !strings.Contains(out, "TITLE") || !strings.Contains(errOut, "1 of 2 incidents shown") {
		t.Errorf("table of one:\n%s%s", out, errOut)
	}
	for _, bad := range [][]string{{"--stage", "nope"}, {"--status", "open"}, {"--severity", "severe"}, {"--sort", "owner"}, {"--since", "yesterday"}, {"--limit", "0"}} {
		if _, errOut, code := run(append([]string{"incidents", "list"}, bad...)...); code != exitSetup || !strings.Contains(errOut, bad[0]) {
			t.Errorf("list %v: %d %s", bad, code, errOut)
		}
	}

	// Refused moves say why and change nothing.
	if _, errOut, code := run("incidents", "stage", id, "diagnose"); code == 0 || !strings.Contains(errOut, "assess the incident before diagnosing") {
		t.Errorf("detect -> diagnose: %d %s", code, errOut)
	}
	if _, errOut, code := run("incidents", "stage", id, "close"); code == 0 || !strings.Contains(errOut, "vigil incidents close") {
		t.Errorf("stage close: %d %s", code, errOut)
	}
	if _, errOut, code := run("incidents", "close", id, "--classification", "false_positive"); code == 0 || !strings.Contains(errOut, "reason") {
		t.Errorf("close without a reason: %d %s", code, errOut)
	}
	for _, args := range [][]string{
		{"incidents", "assign", id, "alice"},
		{"incidents", "stage", id, "assess", "--comment", "taking it"},
		{"incidents", "comment", id, "the source is 203.0.113.7"},
	} {
		if out, errOut, code := run(args...); code != 0 {
			t.Fatalf("%v: %d %s%s", args, code, out, errOut)
		}
	}
	// Tags and tasks.
	for _, args := range [][]string{
		{"incidents", "tag", id, "--add", "ssh,web"},
		{"incidents", "tag", id, "--remove", "web"},
		{"incidents", "task", id, "--add", "check the bastion's keys", "--stage", "diagnose"},
	} {
		if out, errOut, code := run(args...); code != 0 {
			t.Fatalf("%v: %d %s%s", args, code, out, errOut)
		}
	}
	if _, errOut, code := run("incidents", "tag", id); code == 0 || !strings.Contains(errOut, "--add or --remove") {
		t.Errorf("tag without tags: %d %s", code, errOut)
	}
	if _, errOut, code := run("incidents", "task", id, "--done", "nope"); code == 0 || !strings.Contains(errOut, "nope") {
		t.Errorf("tick an unknown task: %d %s", code, errOut)
	}
	out, _, _ = run("incidents", "show", id, "--json")
	var shown struct {
		Incident incident.Incident `json:"incident"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	taskID := ""
	for _, tk := range shown.Incident.Tasks {
		if tk.Title == "check the bastion's keys" && tk.Stage == incident.StageDiagnose {
			taskID = tk.ID
		}
	}
	if taskID == "" || strings.Join(shown.Incident.Tags, ",") != "ssh" {
		t.Fatalf("after tag and task: tags %v tasks %+v", shown.Incident.Tags, shown.Incident.Tasks)
	}
	if out, errOut, code := run("incidents", "task", id, "--done", taskID); code != 0 {
		t.Fatalf("task --done: %d %s%s", code, out, errOut)
	}
	if got := list("--tag", "ssh"); len(got) != 1 || !slices.ContainsFunc(got[0].Tasks, func(tk incident.Task) bool { return tk.ID == taskID && tk.Done && tk.DoneBy == "cli" }) {
		t.Errorf("--tag ssh after ticking %s: %+v", taskID, got)
	}
	if _, errOut, code := run("incidents", "close", id, "--classification", "true_positive_impact", "--reason", "x"); code == 0 || !strings.Contains(errOut, "diagnosed before it is closed") {
		t.Errorf("true positive from assess: %d %s", code, errOut)
	}
	for _, args := range [][]string{
		{"incidents", "stage", id, "diagnose"},
		{"incidents", "stage", id, "stabilize"},
		{"incidents", "stage", id, "diagnose"},
		{"incidents", "close", id, "--classification", "true_positive_impact", "--reason", "password reset, host rebuilt"},
	} {
		if out, errOut, code := run(args...); code != 0 {
			t.Fatalf("%v: %d %s%s", args, code, out, errOut)
		}
	}
	if got := list("--status", "closed"); len(got) != 1 || got[0].ID != id || got[0].Owner != "alice" || got[0].Classification != incident.TruePositiveImpact {
		t.Errorf("closed: %+v", got)
	}
	if got := list("--stage", "detect,assess"); len(got) != 1 || got[0].ID != other {
		t.Errorf("--stage detect,assess: %+v", got)
	}

	out, errOut, code = run("incidents", "show", id)
	for _, want := range []string{"Brute force on web1", "close (closed)", "true_positive_impact: password reset", "alice", "account u0", "host web1",
		"credential-access", "assessment:", "timeline:", "taking it"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("show lacks %q: %d\n%s%s", want, code, out, errOut)
		}
	}
	out, _, _ = run("incidents", "show", id, "--json", "--timeline", "3")
	var view struct {
		Incident incident.Incident        `json:"incident"`
		Timeline []incident.TimelineEntry `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(out), &view); err != nil || view.Incident.ID != id || len(view.Timeline) != 3 ||
		view.Timeline[2].Kind != incident.TimelineStage {
		t.Errorf("show --json: %v %+v", err, view)
	}
	if _, errOut, code := run("incidents", "show", "nope"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("show nope: %d %s", code, errOut)
	}

	// Reopen, merge the other one in, split its alert off again.
	if _, errOut, code := run("incidents", "stage", id, "assess"); code != 0 {
		t.Fatalf("reopen: %s", errOut)
	}
	if out, errOut, code := run("incidents", "merge", id, other); code != 0 || !strings.Contains(out, "merged 1 incident into incident "+id+" (3 alerts)") {
		t.Fatalf("merge: %d %q %s", code, out, errOut)
	}
	if _, errOut, code := run("incidents", "merge", id, id); code == 0 || !strings.Contains(errOut, "not merged into itself") {
		t.Errorf("merge into itself: %d %s", code, errOut)
	}
	if out, errOut, code := run("incidents", "split", id, alerts[2]); code != 0 || !strings.Contains(out, "made of 1 alert split off "+id) {
		t.Fatalf("split: %d %q %s", code, out, errOut)
	}

	audit, _, _ := runVigil(t, "audit", "export", "--workspace", "acme", "--data-dir", dir)
	for _, action := range []string{"incident.create", "incident.assign", "incident.stage", "incident.comment", "incident.tag", "incident.task", "incident.close", "incident.merge", "incident.split"} {
		if !strings.Contains(audit, `"action":"`+action+`"`) {
			t.Errorf("audit has no %s", action)
		}
	}
	if strings.Contains(audit, `"action":"incident.`) && !strings.Contains(audit, `"actor":"cli"`) {
		t.Errorf("incident audit entries not by cli:\n%s", audit)
	}
}
