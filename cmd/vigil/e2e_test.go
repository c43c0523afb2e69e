package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/store"
)

const encodedPSTitle = "PowerShell Started With an Encoded Command"

// windowsEvents makes n flat Windows events; every tenth is a cleared
// Security log (rule "Windows Security Event Log Cleared") on one host.
func windowsEvents(n, offset int) (body []byte, cleared int) {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		k := offset + i
		ts := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC).Add(time.Duration(k) * time.Millisecond).Format(time.RFC3339Nano)
		if k%10 == 0 {
			fmt.Fprintf(&b, `{"EventID":1102,"Channel":"Security","Provider_Name":"Microsoft-Windows-Eventlog","Computer":"CRASH-HOST","TimeCreated":%q,"SubjectUserName":"svc-backup","SubjectDomainName":"CORP","Seq":%d}`+"\n", ts, k)
			cleared++
			continue
		}
		fmt.Fprintf(&b, `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WKS-%d","TimeCreated":%q,"Image":"C:\\Windows\\System32\\svchost.exe","CommandLine":"svchost.exe -k netsvcs -p -s Schedule","User":"NT AUTHORITY\\SYSTEM","ProcessId":"%d","Seq":%d}`+"\n", k%7, ts, 1000+k, k)
	}
	return b.Bytes(), cleared
}

func TestServeDetectsIngestedBatch(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	srv := startServe(t, dir)
	defer srv.stop()

	body, err := content.Demo.ReadFile("demo/windows.windows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r := ingestBody(t, srv.url, key, "dc01", "windows", "application/x-ndjson", body)
	if r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	var ack struct {
		Accepted int `json:"accepted"`
	}
	r.json(t, &ack)
	if want := bytes.Count(body, []byte("\n")); ack.Accepted != want {
		t.Fatalf("accepted %d records, want %d", ack.Accepted, want)
	}

	var found apiAlert
	poll(t, "the encoded PowerShell alert", func() bool {
		for _, a := range listAlerts(t, srv.url, key) {
			if a.Rule.Title == encodedPSTitle {
				found = a
				return true
			}
		}
		return false
	})
	if found.ID == "" || found.Rule.ID == "" || found.Severity != "high" || found.Count != 1 || found.Status != "new" {
		t.Errorf("alert fields: %+v", found)
	}
	if found.FirstSeen.IsZero() || found.LastSeen.Before(found.FirstSeen) {
		t.Errorf("alert times: first %v last %v", found.FirstSeen, found.LastSeen)
	}
	hasHost := false
	for _, e := range found.Entities {
		hasHost = hasHost || (e.Type == "host" && e.Value == "WKS-FIN-07.corp.example")
	}
	if !hasHost {
		t.Errorf("alert entities lack the host: %+v", found.Entities)
	}
	if !contains(found.Tactics, "execution") {
		t.Errorf("alert tactics %v lack execution", found.Tactics)
	}
	if len(found.Evidence) != 1 || found.Evidence[0].EventID == "" {
		t.Fatalf("alert evidence: %+v", found.Evidence)
	}
	// The evidence event is readable, decoded, in the event's JSON form.
	ev := do(t, "GET", srv.url+"/api/v1/events/"+found.Evidence[0].EventID, key, "", nil)
	if ev.status != 200 {
		t.Fatalf("GET evidence event: %d %s", ev.status, ev.body)
	}
	var e map[string]any
	ev.json(t, &e)
	if e["id"] != found.Evidence[0].EventID || e["host.name"] != "WKS-FIN-07.corp.example" {
		t.Errorf("evidence event: %s", ev.body)
	}
	if f, _ := e["fields"].(map[string]any); f == nil || !strings.Contains(fmt.Sprint(f["CommandLine"]), "-enc") {
		t.Errorf("evidence event lacks its own fields: %s", ev.body)
	}
	// Status change through the API is kept and audited.
	p := do(t, "PATCH", srv.url+"/api/v1/alerts/"+found.ID, key, "application/json", strings.NewReader(`{"status":"active"}`))
	if p.status != 200 {
		t.Fatalf("PATCH alert: %d %s", p.status, p.body)
	}
	a := do(t, "GET", srv.url+"/api/v1/audit", key, "", nil)
	if a.status != 200 || !strings.Contains(string(a.body), "alert.status") {
		t.Errorf("audit log lacks the status change: %d %s", a.status, a.body)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ingestThenKill sends 16 concurrent requests of 500 Windows events to a
// fresh server and kills it with SIGKILL right after the last
// acknowledgement; it returns the events accepted and, of those, the
// cleared-log events.
func ingestThenKill(t *testing.T, dir, key string) (accepted, cleared int) {
	t.Helper()
	srv := startServe(t, dir)
	const requests, per = 16, 500
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan string, requests)
	for i := 0; i < requests; i++ {
		body, c := windowsEvents(per, i*per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ingestBody(t, srv.url, key, "dc", "windows", "application/x-ndjson", body)
			if r.status != 202 {
				errs <- fmt.Sprintf("ingest: %d %s", r.status, r.body)
				return
			}
			var ack struct {
				Accepted int `json:"accepted"`
			}
			r.json(t, &ack)
			mu.Lock()
			accepted += ack.Accepted
			cleared += c
			mu.Unlock()
		}()
	}
	wg.Wait()
	srv.kill() // right after the last acknowledgement
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if accepted != requests*per {
		t.Fatalf("accepted %d, want %d", accepted, requests*per)
	}
	return accepted, cleared
}

// TestCrashReplayAfterRetentionPurge is TestCrashReplayExactlyOnce with a
// crash between a commit and its acknowledgement, then a retention purge of
// every stored event before the restart: the batches committed but not
// acknowledged come again, and must be skipped although their events are
// gone.
func TestCrashReplayAfterRetentionPurge(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	accepted, _ := ingestThenKill(t, dir, key)

	// A build that dies right after its second commit with new batches,
	// before acknowledging them: the bus delivers them again.
	bin := filepath.Join(t.TempDir(), "vigil-crashpoint")
	if out, err := exec.Command("go", "build", "-tags", e2eTags("crashpoint"), "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building vigil -tags crashpoint: %v\n%s", err, out)
	}
	crash := exec.Command(bin, "serve", "--listen", freePort(t), "--data-dir", dir, "--log-level", "warn")
	crash.Env = append(os.Environ(), "VIGIL_CRASH_AFTER_COMMITS=2")
	out, err := crash.CombinedOutput()
	if !strings.Contains(string(out), "crashpoint: exit after a commit") {
		t.Fatalf("the crashpoint build did not die after a commit: %v\n%s", err, out)
	}

	ctx := context.Background()
	db := openDataStore(t, dir)
	storedIDs := func() map[string]bool {
		ids := map[string]bool{}
		for cursor := ""; ; {
			evs, next, err := db.Events(ctx, "acme", store.EventQuery{Limit: 1000, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				ids[e.ID.String()] = true
			}
			if cursor = next; next == "" {
				return ids
			}
		}
	}
	before := storedIDs()
	// Everything received until now is past retention (the evidence of
	// open alerts stays).
	if _, err := db.PurgeEvents(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	kept := storedIDs()
	db.Close()
	purged := map[string]bool{}
	for id := range before {
		if !kept[id] {
			purged[id] = true
		}
	}
	t.Logf("stored before the restart: %d events, %d purged", len(before), len(purged))
	want := accepted - len(purged)

	srv := startServe(t, dir)
	defer srv.stop()
	poll(t, "every acknowledged event not purged stored", func() bool { return storedEvents(t, srv.url, key) >= int64(want) })
	time.Sleep(2 * time.Second) // let any redelivery settle, then count exactly
	if n := storedEvents(t, srv.url, key); n != int64(want) {
		t.Errorf("source counts %d events, want exactly %d (%d accepted, %d purged)", n, want, accepted, len(purged))
	}
	ids := allEventIDs(t, srv.url, key)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("event %s stored twice", id)
		}
		if purged[id] {
			t.Fatalf("event %s purged by retention came back with a replay", id)
		}
		seen[id] = true
	}
	if len(ids) != want {
		t.Fatalf("events API lists %d events, want %d", len(ids), want)
	}
}

// TestCrashReplayExactlyOnce kills the server with SIGKILL right after
// acknowledged ingests, restarts it, and checks that every acknowledged
// event is stored once and detected once.
func TestCrashReplayExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	accepted, cleared := ingestThenKill(t, dir, key)

	srv := startServe(t, dir)
	defer srv.stop()
	poll(t, "every acknowledged event stored", func() bool { return storedEvents(t, srv.url, key) >= int64(accepted) })
	// Let any redelivery settle, then count exactly.
	time.Sleep(2 * time.Second)
	if n := storedEvents(t, srv.url, key); n != int64(accepted) {
		t.Fatalf("source counts %d events, want exactly %d", n, accepted)
	}
	ids := allEventIDs(t, srv.url, key)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("event %s stored twice", id)
		}
		seen[id] = true
	}
	if len(ids) != accepted {
		t.Fatalf("events API lists %d events, want %d", len(ids), accepted)
	}
	var total int
	for _, a := range listAlerts(t, srv.url, key) {
		if a.Rule.Title == "Windows Security Event Log Cleared" {
			total += a.Count
		}
	}
	if total != cleared {
		t.Fatalf("log-cleared alerts count %d events, want exactly %d", total, cleared)
	}
}

func TestBadInputOverHTTP(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "ingest")
	readKey, _ := newKey(t, dir, "acme", "read")
	otherKey, _ := newKey(t, dir, "other", "admin")
	srv := startServe(t, dir, "--ingest-max-line", "4KiB", "--ingest-max-body", "1MiB")
	defer srv.stop()

	good := func(i int) string {
		return fmt.Sprintf(`{"EventID":4625,"Channel":"Security","Computer":"BAD-INPUT-%d","TargetUserName":"bob","IpAddress":"192.0.2.%d"}`, i, i)
	}
	body := strings.Join([]string{
		good(1),
		`{"EventID":4625,"Channel":`, // malformed JSON
		good(2),
		"{\"EventID\":1,\"x\":\"\xff\xfe\"}", // invalid UTF-8
		good(3),
		`{"EventID":1,"pad":"` + strings.Repeat("a", 5000) + `"}`, // over-long line
		good(4),
	}, "\n")
	r := ingestBody(t, srv.url, key, "dc", "windows", "application/x-ndjson", []byte(body))
	if r.status != 202 {
		t.Fatalf("mixed batch: %d %s", r.status, r.body)
	}
	var ack struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	r.json(t, &ack)
	if ack.Accepted != 4 || len(ack.Rejected) != 3 {
		t.Fatalf("accepted %d rejected %+v, want 4 and lines 2, 4, 6", ack.Accepted, ack.Rejected)
	}
	for i, want := range []struct {
		line int
		word string
	}{{2, "JSON"}, {4, "UTF-8"}, {6, "longer"}} {
		if ack.Rejected[i].Line != want.line || !strings.Contains(ack.Rejected[i].Reason, want.word) {
			t.Errorf("rejection %d = %+v, want line %d mentioning %q", i, ack.Rejected[i], want.line, want.word)
		}
	}

	cases := []struct {
		name   string
		ctype  string
		body   []byte
		hdr    []string
		key    string
		status int
	}{
		{"empty body", "application/x-ndjson", nil, nil, key, 400},
		{"wrong content type", "image/png", []byte(good(5)), nil, key, 415},
		{"gzip bomb", "application/x-ndjson", gzipZeros(t, 64<<20), []string{"Content-Encoding", "gzip"}, key, 413},
		{"missing key", "application/x-ndjson", []byte(good(6)), nil, "", 401},
		{"unknown key", "application/x-ndjson", []byte(good(7)), nil, "vgl_notakey", 401},
		{"read key cannot ingest", "application/x-ndjson", []byte(good(8)), nil, readKey, 403},
	}
	for _, c := range cases {
		r := do(t, "POST", srv.url+"/api/v1/ingest?source=dc&format=windows", c.key, c.ctype, bytes.NewReader(c.body), c.hdr...)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.status, c.status, r.body)
			continue
		}
		// Every error of the API is a problem document (docs/api.md).
		var e struct {
			Detail string `json:"detail"`
			Status int    `json:"status"`
		}
		_ = json.Unmarshal(r.body, &e)
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" || e.Detail == "" || e.Status != c.status {
			t.Errorf("%s: reply is not a problem document (Content-Type %q): %s", c.name, ct, r.body)
		}
	}
	// A foreign key ingests into its own workspace, never into acme's.
	if r := ingestBody(t, srv.url, otherKey, "dc", "windows", "application/x-ndjson", []byte(good(9))); r.status != 202 {
		t.Fatalf("other workspace ingest: %d %s", r.status, r.body)
	}
	// The server stays up and kept exactly the good lines.
	if r := do(t, "GET", srv.url+"/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("healthz after bad input: %d", r.status)
	}
	poll(t, "the 4 good events stored", func() bool { return storedEvents(t, srv.url, readKey) == 4 })
	time.Sleep(500 * time.Millisecond)
	if n := storedEvents(t, srv.url, readKey); n != 4 {
		t.Fatalf("acme holds %d events, want 4", n)
	}
}

func gzipZeros(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for i := 0; i < n; i += len(chunk) {
		zw.Write(chunk)
	}
	zw.Close()
	return b.Bytes()
}

// TestScanSharedData runs `vigil scan` over a real sshd log and checks that
// each alert's evidence points at a line that fits the rule.
func TestScanSharedData(t *testing.T) {
	log := sharedData(t, "ssh_auth/loghub_openssh/OpenSSH_2k.log")
	out, err := exec.Command(vigilBin, "scan", "--output", "ndjson", log).Output()
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	lines := readLines(t, log)
	var alerts []apiAlert
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var a apiAlert
		if err := json.Unmarshal(l, &a); err != nil {
			t.Fatalf("ndjson line %q: %v", l, err)
		}
		alerts = append(alerts, a)
	}
	byTitle := map[string]int{}
	for _, a := range alerts {
		byTitle[a.Rule.Title] += a.Count
		if len(a.Evidence) == 0 {
			t.Fatalf("alert without evidence: %+v", a)
		}
		for _, e := range a.Evidence {
			if e.File != log || e.Line < 1 || e.Line > len(lines) {
				t.Fatalf("evidence %+v does not point into %s", e, log)
			}
			l := lines[e.Line-1]
			switch a.Rule.Title {
			case "SSH Password Login Failed for root":
				if !strings.Contains(l, "for root") {
					t.Errorf("evidence line %d %q is not a failed root login", e.Line, l)
				}
			case "SSH Login Attempt for a Nonexistent User":
				if !strings.Contains(strings.ToLower(l), "invalid user") {
					t.Errorf("evidence line %d %q is not an invalid user", e.Line, l)
				}
			}
		}
	}
	// Every "Failed password for root" line is one counted signal.
	want := 0
	for _, l := range lines {
		if strings.Contains(l, "Failed password for root") {
			want++
		}
	}
	if got := byTitle["SSH Password Login Failed for root"]; got != want {
		t.Errorf("failed root logins counted %d, the log has %d", got, want)
	}
	if byTitle["SSH Login Attempt for a Nonexistent User"] == 0 {
		t.Errorf("no invalid-user alerts: %v", byTitle)
	}
}

func TestScanTableAndStdin(t *testing.T) {
	data, err := content.Demo.ReadFile("demo/bastion.sshd.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(vigilBin, "scan", "--format", "sshd", "-")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scan -: %v", err)
	}
	if !strings.Contains(string(out), "SSH Login Accepted for root") || !strings.Contains(string(out), "-:") {
		t.Errorf("table output lacks the accepted root login or its evidence:\n%s", out)
	}
}

func TestDemo(t *testing.T) {
	addr := freePort(t)
	cmd := exec.Command(vigilBin, "demo", "--listen", addr, "--log-level", "warn")
	stdout := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	var key string
	poll(t, "the demo's key", func() bool {
		for _, l := range strings.Split(stdout.String(), "\n") {
			if f := strings.Fields(l); len(f) == 1 && strings.HasPrefix(f[0], "vgl_") {
				key = f[0]
			}
		}
		return key != "" && strings.Contains(stdout.String(), "curl")
	})
	alerts := listAlerts(t, "http://"+addr, key)
	titles := map[string]bool{}
	for _, a := range alerts {
		titles[a.Rule.Title] = true
	}
	for _, want := range []string{encodedPSTitle, "SSH Login Accepted for root", "AWS CloudTrail Logging Stopped or Trail Deleted"} {
		if !titles[want] {
			t.Errorf("demo lacks alert %q; has %v\n%s", want, titles, stdout.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("demo did not stop on interrupt")
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:1111\ndata-dir: from-file\nworkers: 3\nretention: 48h\n"), 0o600)
	t.Setenv("VIGIL_DATA_DIR", "from-env")
	t.Setenv("VIGIL_WORKERS", "5")
	cmd := newServeCmd()
	if err := cmd.Flags().Parse([]string{"--config", file, "--workers", "7"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:1111" || cfg.DataDir != "from-env" || cfg.Workers != 7 || cfg.Retention != 48*time.Hour {
		t.Errorf("precedence: listen %q (file) data-dir %q (env) workers %d (flag) retention %v (file)", cfg.Listen, cfg.DataDir, cfg.Workers, cfg.Retention)
	}
	os.WriteFile(file, []byte("lisen: x\n"), 0o600)
	cmd = newServeCmd()
	cmd.Flags().Parse([]string{"--config", file})
	if _, err := loadConfig(cmd.Flags()); err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Errorf("unknown setting not named: %v", err)
	}
}

// TestDecodeCommand prints the decoded events and names the refused line.
func TestDecodeCommand(t *testing.T) {
	f := filepath.Join(t.TempDir(), "events.jsonl")
	os.WriteFile(f, []byte(`{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":"bob","IpAddress":"192.0.2.9"}
{"EventID":4625,"Channel":
{"EventID":1102,"Channel":"Security","Computer":"dc1"}
`), 0o600)
	cmd := exec.Command(vigilBin, "decode", "--format", "windows", f)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("decode with a bad line: %v (want exit 2)\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), f+":2:") {
		t.Errorf("stderr does not name line 2: %s", stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 events, got:\n%s", stdout.String())
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	ls, _ := e["logsource"].(map[string]any)
	fields, _ := e["fields"].(map[string]any)
	if e["source.ip"] != "192.0.2.9" || e["user.name"] != "bob" || ls["service"] != "security" || fields["TargetUserName"] != "bob" {
		t.Errorf("decoded event: %s", lines[0])
	}
}

// TestQuarantineOverHTTP: a record that passes ingest's checks but that the
// decoder refuses is quarantined, visible in the API with its reason and
// position, and the good records around it are stored.
func TestQuarantineOverHTTP(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	srv := startServe(t, dir)
	defer srv.stop()
	body := `{"EventID":4625,"Channel":"Security","Computer":"q1"}
{"Channel":"Security","Computer":"no-event-id"}
{"EventID":4625,"Channel":"Security","Computer":"q2"}
`
	if r := ingestBody(t, srv.url, key, "dc", "windows", "application/x-ndjson", []byte(body)); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	var q struct {
		Records []struct {
			Source, Reason, Raw string
			Line                int
		} `json:"records"`
	}
	poll(t, "the quarantined record", func() bool {
		r := do(t, "GET", srv.url+"/api/v1/quarantine", key, "", nil)
		r.json(t, &q)
		return len(q.Records) == 1
	})
	if q.Records[0].Line != 2 || q.Records[0].Source != "dc" || !strings.Contains(q.Records[0].Raw, "no-event-id") || q.Records[0].Reason == "" {
		t.Fatalf("quarantined: %+v", q.Records)
	}
	if n := storedEvents(t, srv.url, key); n != 2 {
		t.Fatalf("%d events stored, want the 2 good ones", n)
	}
	for _, s := range listSources(t, srv.url, key) {
		if s.Name == "dc" && s.Rejected != 1 {
			t.Fatalf("source counts %d rejected, want 1", s.Rejected)
		}
	}
}

// TestExampleConfigLoads keeps docs/vigil.example.yaml in step with the
// settings: every key in it is known and every value parses.
func TestExampleConfigLoads(t *testing.T) {
	cmd := newServeCmd()
	if err := cmd.Flags().Parse([]string{"--config", filepath.Join("..", "..", "docs", "vigil.example.yaml")}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if len(cfg.Sources) == 0 || len(cfg.Workspaces) == 0 || cfg.Sources[2].Mapping["client.addr"] != "source.ip" {
		t.Fatalf("example config read as %+v", cfg)
	}
}
