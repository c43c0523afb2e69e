package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/internal/natstest"
)

// TestConfigNATS: the external NATS's settings reach bus.Config, secrets
// come from their files (first line) or the environment, not both, and
// settings for an external server without nats-url are refused by name.
func TestConfigNATS(t *testing.T) {
	dir := t.TempDir()
	load := func(t *testing.T, yaml string, env map[string]string) (*Config, error) {
		t.Helper()
		file := filepath.Join(dir, "vigil.yaml")
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		cmd := newServeCmd()
		if err := cmd.Flags().Parse([]string{"--config", file}); err != nil {
			t.Fatal(err)
		}
		return loadConfig(cmd.Flags())
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ext := "nats-url: nats://a:4222,nats://b:4222\n"
	cfg, err := load(t, ext+"nats-user: vigil\nnats-password-file: "+pw+"\nbus-replicas: 3\nbus-placement-tags: [ssd, east]\n"+
		"bus-max-age: 24h\nbus-discard: old\nbus-ack-wait: 30s\nbus-max-ack-pending: 500\nnats-tls-ca: ca.pem\nnats-tls-server-name: nats.internal\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	bc := cfg.busExternal(bus.Config{URL: cfg.NATSURL})
	if bc.Auth != (bus.Auth{User: "vigil", Password: "s3cret"}) || bc.Replicas != 3 || strings.Join(bc.Placement.Tags, ",") != "ssd,east" ||
		bc.MaxAge != 24*time.Hour || bc.Discard != "old" || bc.AckWait != 30*time.Second || bc.MaxAckPending != 500 ||
		bc.TLS != (bus.TLS{CAFile: "ca.pem", ServerName: "nats.internal"}) {
		t.Errorf("bus config: %+v", bc)
	}
	t.Run("token from the environment", func(t *testing.T) {
		cfg, err := load(t, ext, map[string]string{"VIGIL_NATS_TOKEN": "tok"})
		if err != nil || cfg.natsAuth.Token != "tok" {
			t.Errorf("token from the environment: %+v, %v", cfg, err)
		}
	})
	for _, c := range []struct {
		yaml string
		env  map[string]string
		want string
	}{
		{"nats-creds-file: x.creds\nbus-replicas: 3\n", nil, "settings nats-creds-file, bus-replicas are for an external NATS: set nats-url too"},
		{ext + "nats-user: vigil\n", nil, "nats-user needs a password"},
		{ext + "nats-user: vigil\nnats-password-file: " + pw + "\n", map[string]string{"VIGIL_NATS_PASSWORD": "other"}, "set one, not both"},
		{ext + "nats-token-file: " + filepath.Join(dir, "missing") + "\n", nil, "setting nats-token-file: open"},
		{ext + "nats-tls-cert: c.pem\n", nil, "nats-tls-cert and nats-tls-key go together"},
		{ext + "bus-discard: oldest\n", nil, `bus-discard: "oldest" is neither new nor old`},
		{ext + "bus-ack-wait: 10ms\n", nil, "bus-ack-wait: 10ms is below 1s"},
	} {
		t.Run(c.want, func(t *testing.T) { // scopes the environment
			if _, err := load(t, c.yaml, c.env); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
			}
		})
	}
}

// TestServeStockNATS runs serve against a nats-server with its default
// configuration (max_payload 1 MiB) and vigil's default settings (8 MiB
// messages, 1 MiB lines): serve starts, and a record longer than fits in
// a bus message is refused alone while the records around it are taken.
func TestServeStockNATS(t *testing.T) {
	s := natstest.StartServer(t, "")
	dir := t.TempDir()
	p := startServe(t, dir, "--nats-url", s.Nodes[0].URL())
	defer p.stop()
	key, _ := newKey(t, dir, "acme", "ingest")
	long := `{"msg":"` + strings.Repeat("x", 1<<20-100) + `"}` // within 1 MiB, over what a 1 MiB message holds
	var body bytes.Buffer
	fmt.Fprintf(&body, "{\"msg\":\"before\"}\n%s\n{\"msg\":\"after\"}\n", long)
	r := ingestBody(t, p.url, key, "app", "json", "application/x-ndjson", body.Bytes())
	if r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	var reply struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	r.json(t, &reply)
	if reply.Accepted != 2 || len(reply.Rejected) != 1 || reply.Rejected[0].Line != 2 || !strings.Contains(reply.Rejected[0].Reason, "longer than") {
		t.Fatalf("reply %s, want 2 accepted and line 2 refused as too long", r.body)
	}
	reader, _ := newKey(t, dir, "acme", "read")
	poll(t, "the two records stored", func() bool { return storedEvents(t, p.url, reader) == 2 })
}

// TestServeNATSCluster runs serve on a three-node JetStream cluster with
// bus-replicas 3 and a password from the environment: ingest goes on
// when a node is SIGKILLed, and every accepted record is stored.
func TestServeNATSCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nats-server processes")
	}
	c := natstest.Start(t, 3)
	dir := t.TempDir()
	p := startServe(t, dir, "--nats-url", strings.Join(c.URLs(), ","), "--bus-replicas", "3")
	defer p.stop()
	key, _ := newKey(t, dir, "acme", "ingest")
	reader, _ := newKey(t, dir, "acme", "read")
	send := func(from, n int) {
		t.Helper()
		var body bytes.Buffer
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&body, "{\"msg\":\"record %d\"}\n", i)
		}
		// A request caught in the failure gets 503: the client retries it.
		deadline := time.Now().Add(60 * time.Second)
		for {
			r := ingestBody(t, p.url, key, "app", "json", "application/x-ndjson", body.Bytes())
			if r.status == 202 {
				return
			}
			if r.status != 503 || time.Now().After(deadline) {
				t.Fatalf("ingest: %d %s", r.status, r.body)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	send(0, 100)
	poll(t, "100 records stored", func() bool { return storedEvents(t, p.url, reader) == 100 })
	c.Kill(0)
	for i := 1; i <= 5; i++ {
		send(100*i, 100)
	}
	poll(t, "600 records stored with a node down", func() bool { return storedEvents(t, p.url, reader) == 600 })
	c.Restart(0)
	send(600, 100)
	poll(t, "700 records stored", func() bool { return storedEvents(t, p.url, reader) == 700 })
}

// TestServeNATSPassword: serve authenticates with nats-user and the
// password from VIGIL_NATS_PASSWORD; a wrong one stops the start with
// the server's refusal.
func TestServeNATSPassword(t *testing.T) {
	s := natstest.StartServer(t, `authorization { user: vigil, password: "pa55" }`, nats.UserInfo("vigil", "pa55"))
	t.Setenv("VIGIL_NATS_PASSWORD", "pa55")
	dir := t.TempDir()
	p := startServe(t, dir, "--nats-url", s.Nodes[0].URL(), "--nats-user", "vigil")
	p.stop()
	t.Setenv("VIGIL_NATS_PASSWORD", "wrong")
	out, err := exec.Command(vigilBin, "serve", "--listen", freePort(t), "--data-dir", dir, "--nats-url", s.Nodes[0].URL(), "--nats-user", "vigil").CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "authorization violation") {
		t.Errorf("serve with a wrong password: %v\n%s", err, out)
	}
}
