package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func packRule(id, title string) string {
	return fmt.Sprintf(`title: %s
id: %s
status: stable
level: high
logsource: {product: windows}
detection:
  sel: {EventID: 1102}
  condition: sel
`, title, id)
}

func alertTitles(t *testing.T, base, key string) map[string]int {
	out := map[string]int{}
	for _, a := range listAlerts(t, base, key) {
		out[a.Rule.Title]++
	}
	return out
}

// TestRulesInstallServeReloadRollback: a pack installed into the data
// directory is loaded by a running serve at its next reload; a new version
// replaces its rules; a rollback brings the old ones back.
func TestRulesInstallServeReloadRollback(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	key, _ := newKey(t, data, "acme", "admin")
	v1 := filepath.Join(dir, "v1")
	writeFile(t, filepath.Join(v1, "windows", "cleared.yml"), packRule("44444444-0000-4000-8000-000000000001", "Pack v1 - log cleared"))
	writeFile(t, filepath.Join(v1, "windows", "low.yml"), strings.ReplaceAll(packRule("44444444-0000-4000-8000-000000000002", "Pack v1 - low"), "level: high", "level: low"))
	out := runCLI(t, "rules", "install", v1, "--name", "acme-pack", "--level", "medium", "--data-dir", data)
	if !strings.Contains(out, "installed rule pack acme-pack") || !strings.Contains(out, "1 added") || !strings.Contains(out, "1 rules left out") {
		t.Fatalf("install output:\n%s", out)
	}

	srv := startServe(t, data, "--no-builtin-rules", "--rules-reload", "100ms")
	defer srv.stop()
	send := func() {
		if r := ingestBody(t, srv.url, key, "dc1", "windows", "application/x-ndjson", []byte(goodWindowsLine+"\n")); r.status != 202 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
	}
	send()
	poll(t, "an alert of the pack's v1 rule", func() bool { return alertTitles(t, srv.url, key)["Pack v1 - log cleared"] > 0 })
	if n := alertTitles(t, srv.url, key)["Pack v1 - low"]; n != 0 {
		t.Errorf("the rule below --level medium fired %d times", n)
	}

	v2 := filepath.Join(dir, "v2")
	writeFile(t, filepath.Join(v2, "windows", "cleared2.yml"), packRule("44444444-0000-4000-8000-000000000003", "Pack v2 - log cleared"))
	out = runCLI(t, "rules", "install", v2, "--name", "acme-pack", "--data-dir", data)
	if !strings.Contains(out, "1 added, 1 removed") {
		t.Fatalf("second install output:\n%s", out)
	}
	poll(t, "an alert of the pack's v2 rule", func() bool {
		send()
		return alertTitles(t, srv.url, key)["Pack v2 - log cleared"] > 0
	})

	out = runCLI(t, "rules", "rollback", "acme-pack", "--data-dir", data)
	if !strings.Contains(out, "is back at version") || !strings.Contains(out, "+ 44444444-0000-4000-8000-000000000001") {
		t.Fatalf("rollback output:\n%s", out)
	}
	poll(t, "the v1 rule firing again after the rollback", func() bool {
		// The v1 alert is open, so a new match grows its count.
		var n int
		for _, a := range listAlerts(t, srv.url, key) {
			if a.Rule.Title == "Pack v1 - log cleared" {
				n = a.Count
			}
		}
		send()
		return n > 1
	})

	list := runCLI(t, "rules", "packs", "--data-dir", data)
	if !strings.Contains(list, "acme-pack") || !strings.Contains(list, v1) {
		t.Errorf("rules packs after the rollback:\n%s", list)
	}
}

func TestRulesInstallChecksumAndURL(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	newKey(t, data, "acme", "admin")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("rules/windows/cleared.yml")
	w.Write([]byte(packRule("55555555-0000-4000-8000-000000000001", "From a URL")))
	w, _ = zw.Create("README.md")
	w.Write([]byte("# not a rule"))
	zw.Close()
	sum := sha256.Sum256(buf.Bytes())
	hexSum := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/releases/sigma_core.zip" {
			http.NotFound(w, r)
			return
		}
		w.Write(buf.Bytes())
	}))
	defer srv.Close()

	bad, err := exec.Command(vigilBin, "rules", "install", srv.URL+"/releases/sigma_core.zip", "--sha256", strings.Repeat("0", 64), "--data-dir", data).CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "nothing installed") || !strings.Contains(string(bad), hexSum) {
		t.Fatalf("a wrong --sha256: err %v\n%s", err, bad)
	}
	if out := runCLI(t, "rules", "packs", "--data-dir", data); !strings.Contains(out, "no rule pack installed") {
		t.Fatalf("a refused install left a pack:\n%s", out)
	}
	out := runCLI(t, "rules", "install", srv.URL+"/releases/sigma_core.zip", "--sha256", strings.ToUpper(hexSum), "--data-dir", data)
	if !strings.Contains(out, "installed rule pack sigma_core") || !strings.Contains(out, hexSum) {
		t.Fatalf("install from a URL:\n%s", out)
	}
	if out := runCLI(t, "rules", "install", srv.URL+"/releases/sigma_core.zip", "--data-dir", data); !strings.Contains(out, "nothing to do") {
		t.Errorf("the same source again:\n%s", out)
	}
	if b, err := exec.Command(vigilBin, "rules", "install", srv.URL+"/missing.zip", "--data-dir", data).CombinedOutput(); err == nil || !strings.Contains(string(b), "404") {
		t.Errorf("a missing URL: %v\n%s", err, b)
	}
	runCLI(t, "rules", "uninstall", "sigma_core", "--data-dir", data)
	if out := runCLI(t, "rules", "packs", "--data-dir", data); !strings.Contains(out, "no rule pack installed") {
		t.Errorf("after uninstall:\n%s", out)
	}
}

func TestPackNameOf(t *testing.T) {
	for src, want := range map[string]string{
		"sigma_all_rules.zip":                    "sigma_all_rules",
		"/tmp/x/Sigma Core+.tar.gz":              "sigma-core-",
		"https://example.org/r/sigma_core.zip?x": "sigma_core",
		"rules/":                                 "rules",
		"...":                                    "pack",
	} {
		if got := packNameOf(src); got != want {
			t.Errorf("packNameOf(%q) = %q, want %q", src, got, want)
		}
	}
}
