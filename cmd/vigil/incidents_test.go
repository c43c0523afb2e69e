package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// cacheDir is the user's cache directory as it was before TestMain moved
// XDG_CACHE_HOME to a temporary one: package variables are set first.
var cacheDir, _ = os.UserCacheDir()

// userGoCache is Go's build cache of the user, so that a build in a test
// does not start from nothing (minutes).
func userGoCache() string {
	if c := os.Getenv("GOCACHE"); c != "" {
		return c
	}
	return filepath.Join(cacheDir, "go-build")
}

// incidentEvents are Windows events of one attack on INC-WEB-01 (an
// encoded PowerShell, the Security log cleared, by one account) and an
// unrelated log clearing on INC-OTHER by a service account.
func incidentEvents(user string, at time.Time) []byte {
	ts := func(d time.Duration) string { return at.Add(d).Format(time.RFC3339Nano) }
	return []byte(fmt.Sprintf(`{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Provider_Name":"Microsoft-Windows-Sysmon","Computer":"INC-WEB-01","TimeCreated":%q,"Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell.exe -NoProfile -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA","ParentImage":"C:\\Windows\\explorer.exe","User":"CORP\\%s","ProcessId":"6120"}
{"EventID":1102,"Channel":"Security","Provider_Name":"Microsoft-Windows-Eventlog","Computer":"INC-WEB-01","TimeCreated":%q,"SubjectUserName":"%s","SubjectDomainName":"CORP"}
{"EventID":1102,"Channel":"Security","Provider_Name":"Microsoft-Windows-Eventlog","Computer":"INC-OTHER","TimeCreated":%q,"SubjectUserName":"svc-other","SubjectDomainName":"CORP"}
`, ts(0), user, ts(time.Minute), user, ts(2*time.Minute)))
}

// streamCaughtUp reports whether the incidents consumer has read the
// whole alert stream, reading the database beside the running server.
func streamCaughtUp(t *testing.T, dir string) bool {
	t.Helper()
	db := openDataStoreNow(t, dir)
	defer db.Close()
	heads, ok := db.(interface {
		ChangeHeads(ctx context.Context) (alerts, incidents int64, err error)
	})
	if !ok {
		t.Fatalf("store %T has no ChangeHeads", db)
	}
	ctx := context.Background()
	last, _, err := heads.ChangeHeads(ctx)
	if err != nil {
		return false
	}
	cur, err := db.ConsumerCursor(ctx, "incidents")
	// The head is the newest change still stored: once every consumer has
	// passed them, retention purges the changes and the head reads 0 while
	// the cursor stays where it stopped, which is caught up too.
	return err == nil && cur > 0 && cur >= last
}

// incidentState is what the store holds of incidents, checked for the
// invariants correlation keeps: every alert but health ones in exactly
// one incident, one timeline alert entry per alert.
type incidentState struct {
	incidents []incident.Incident
	alertsOf  map[string][]string // incident id → alert ids
	alerts    int
}

func readIncidents(t *testing.T, dir, ws string, check bool) incidentState {
	t.Helper()
	ctx := context.Background()
	db := openDataStore(t, dir)
	var err error
	st := incidentState{alertsOf: map[string][]string{}}
	st.incidents, _, err = db.Incidents(ctx, ws, store.IncidentQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	alerts, _, err := db.Alerts(ctx, ws, store.AlertQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range alerts {
		if a.Type != "health" {
			ids = append(ids, a.ID)
		}
	}
	st.alerts = len(ids)
	of, err := db.IncidentOfAlerts(ctx, ws, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if check && of[id] == "" {
			t.Errorf("alert %s is in no incident", id)
		}
	}
	for _, inc := range st.incidents {
		as, err := db.IncidentAlerts(ctx, ws, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		st.alertsOf[inc.ID] = as
		if inc.AlertCount != len(as) {
			t.Errorf("incident %s counts %d alerts, holds %d", inc.ID, inc.AlertCount, len(as))
		}
		tl, _, err := db.Timeline(ctx, ws, inc.ID, store.TimelineQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		perAlert := map[string]int{}
		created := 0
		for _, e := range tl {
			switch e.Kind {
			case incident.TimelineAlert:
				perAlert[e.AlertID]++
			case incident.TimelineCreated:
				created++
			}
		}
		if created != 1 {
			t.Errorf("incident %s: %d created entries", inc.ID, created)
		}
		for _, a := range as {
			if perAlert[a] != 1 {
				t.Errorf("incident %s: alert %s has %d timeline entries, want 1", inc.ID, a, perAlert[a])
			}
		}
		if len(perAlert) != len(as) {
			t.Errorf("incident %s: timeline names %d alerts, holds %d", inc.ID, len(perAlert), len(as))
		}
	}
	return st
}

// incidentOn returns the incident whose entities name host.
func (st incidentState) incidentOn(t *testing.T, host string) incident.Incident {
	t.Helper()
	var found []incident.Incident
	for _, inc := range st.incidents {
		for _, e := range inc.Entities {
			if strings.EqualFold(e.Value, host) {
				found = append(found, inc)
				break
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d incidents on %s, want 1: %+v", len(found), host, found)
	}
	return found[0]
}

func TestServeIncidentsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	srv := startServe(t, dir)
	at := time.Now().UTC().Add(-time.Hour)
	if r := ingestBody(t, srv.url, key, "dc", "windows", "application/x-ndjson", incidentEvents("j.doe", at)); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	poll(t, "three alerts", func() bool { return len(listAlerts(t, srv.url, key)) >= 3 })
	poll(t, "the incidents consumer caught up", func() bool { return streamCaughtUp(t, dir) })
	srv.stop()

	st := readIncidents(t, dir, "acme", true)
	if st.alerts != 3 || len(st.incidents) != 2 {
		t.Fatalf("%d alerts in %d incidents, want 3 in 2", st.alerts, len(st.incidents))
	}
	web := st.incidentOn(t, "INC-WEB-01")
	if web.AlertCount != 2 || web.Stage != incident.StageDetect || web.Status != incident.StatusNew {
		t.Errorf("INC-WEB-01's incident: %+v", web)
	}
	st.incidentOn(t, "INC-OTHER")

	// After a restart, nothing is correlated twice, and a new alert on
	// the same host joins the incident the warm-up loaded.
	srv = startServe(t, dir)
	if r := ingestBody(t, srv.url, key, "dc", "windows", "application/x-ndjson", incidentEvents("a.smith", at.Add(10*time.Minute))); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	// Two new alerts (the other account's) and INC-OTHER's alert updated.
	poll(t, "five alerts", func() bool { return len(listAlerts(t, srv.url, key)) >= 5 })
	poll(t, "the incidents consumer caught up", func() bool { return streamCaughtUp(t, dir) })
	srv.stop()
	st = readIncidents(t, dir, "acme", true)
	if st.alerts != 5 || len(st.incidents) != 2 {
		t.Fatalf("after the restart: %d alerts in %d incidents, want 5 in 2", st.alerts, len(st.incidents))
	}
	if got := st.incidentOn(t, "INC-WEB-01"); got.ID != web.ID || got.AlertCount != 4 {
		t.Errorf("INC-WEB-01's incident after the restart: %s with %d alerts, want %s with 4", got.ID, got.AlertCount, web.ID)
	}
	if other := st.incidentOn(t, "INC-OTHER"); other.AlertCount != 1 || !other.LastSeen.After(at.Add(10*time.Minute)) {
		t.Errorf("INC-OTHER's incident after its alert's update: %d alerts, last seen %s", other.AlertCount, other.LastSeen)
	}
}

// TestIncidentsCrashBetweenAlertAndIncident kills the server with SIGKILL
// after the alerts of a batch are committed and correlated but before
// their incidents are written: after the restart every alert is in exactly
// one incident, once.
func TestIncidentsCrashBetweenAlertAndIncident(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	bin := filepath.Join(t.TempDir(), "vigil-crashpoint")
	build := exec.Command("go", "build", "-tags", e2eTags("crashpoint"), "-o", bin, ".")
	build.Env = append(os.Environ(), "GOCACHE="+userGoCache())
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building vigil -tags crashpoint: %v\n%s", err, out)
	}
	addr := freePort(t)
	crash := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--log-level", "warn")
	crash.Env = append(os.Environ(), "VIGIL_CRASH_BEFORE_INCIDENTS=1")
	out := &syncBuffer{}
	crash.Stdout, crash.Stderr = out, out
	if err := crash.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- crash.Wait() }()
	t.Cleanup(func() {
		if crash.ProcessState == nil {
			_ = crash.Process.Kill()
			<-done
		}
	})
	poll(t, "the crashpoint server ready", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	at := time.Now().UTC().Add(-time.Hour)
	if r := ingestBody(t, "http://"+addr, key, "dc", "windows", "application/x-ndjson", incidentEvents("j.doe", at)); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the crashpoint server did not die\n%s", out.String())
	}
	if !strings.Contains(out.String(), "crashpoint: SIGKILL after correlating alerts") {
		t.Fatalf("the server died of something else\n%s", out.String())
	}
	// The alerts are stored; no incident is.
	if st := readIncidents(t, dir, "acme", false); len(st.incidents) != 0 {
		t.Fatalf("%d incidents written before the crash point", len(st.incidents))
	}

	srv := startServe(t, dir, "--log-level", "debug")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.stderr.String())
		}
	})
	// Longer than poll's minute: a consumer whose first tries fail (the
	// restarted stage replaying the batch the kill left unacknowledged
	// holds the store) backs off, doubling its pause.
	pollFor(t, "the incidents consumer caught up", 3*time.Minute, func() bool { return streamCaughtUp(t, dir) })
	time.Sleep(time.Second) // a redelivered batch, if any, settles
	poll(t, "the incidents consumer caught up", func() bool { return streamCaughtUp(t, dir) })
	srv.stop()
	st := readIncidents(t, dir, "acme", true)
	if st.alerts != 3 || len(st.incidents) != 2 {
		t.Fatalf("after the crash: %d alerts in %d incidents, want 3 in 2", st.alerts, len(st.incidents))
	}
	if web := st.incidentOn(t, "INC-WEB-01"); web.AlertCount != 2 {
		t.Errorf("INC-WEB-01's incident holds %d alerts, want 2", web.AlertCount)
	}
}
