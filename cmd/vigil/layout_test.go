package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceLayout: a config source's layout reaches the accesslog
// decoder (from the YAML key through decodeOptions), a bad one stops the
// start naming the source, and one on another format is refused.
func TestSourceLayout(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(file, []byte("sources:\n  - workspace: acme\n    name: web\n    format: accesslog\n    layout: '%h %u %t \"%r\" %>s'\n"), 0o600)
	cmd := newServeCmd()
	if err := cmd.Flags().Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeOptions(cfg)("acme", "web").Layout; got != `%h %u %t "%r" %>s` {
		t.Errorf("layout %q", got)
	}
	db := openTestStore(t, dir)
	cfg.Sources[0].Layout = "%h %Z"
	if err := provision(context.Background(), db, cfg, nil); err == nil || !strings.Contains(err.Error(), `"web"`) || !strings.Contains(err.Error(), "%Z") {
		t.Errorf("bad layout: %v", err)
	}
	cfg.Sources[0].Layout, cfg.Sources[0].Format = "combined", "sshd"
	if err := provision(context.Background(), db, cfg, nil); err == nil || !strings.Contains(err.Error(), "layout is for the accesslog format") {
		t.Errorf("layout on sshd: %v", err)
	}
}

// TestDecodeLayoutFlag: `vigil decode --layout` reads lines of a custom
// LogFormat that the Common/Combined reader refuses.
func TestDecodeLayoutFlag(t *testing.T) {
	f := filepath.Join(t.TempDir(), "access.log")
	os.WriteFile(f, []byte(`192.0.2.7 bob [02/Jan/2024:03:04:05 +0000] "GET /admin HTTP/1.1" 403`+"\n"), 0o600)
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs([]string{"decode", "--format", "accesslog", "--layout", `%h %u %t "%r" %>s`, f})
	if err := root.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{`"user.name":"bob"`, `"http.response.status_code":"403"`, `"source.ip":"192.0.2.7"`, `"service":"apache"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, stdout.String())
		}
	}
}
