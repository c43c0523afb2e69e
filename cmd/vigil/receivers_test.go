package main

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/ingest"
)

// TestReceiverSettingsDocumented: every receiver setting the config file
// takes is in the receiver table of docs/sources.md.
func TestReceiverSettingsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sources.md")
	if err != nil {
		t.Fatal(err)
	}
	rt := reflect.TypeFor[ReceiverConfig]()
	for i := range rt.NumField() {
		key := rt.Field(i).Tag.Get("koanf")
		if !strings.Contains(string(doc), "| `"+key+"`") && !strings.Contains(string(doc), "`, `"+key+"` |") {
			t.Errorf("receiver setting %s is not in the table of docs/sources.md", key)
		}
	}
}

// TestSourceHealthShowsRefusedConnections: the connections a source's
// stream receivers refused show in its health, also before the source
// ever sent (the health monitor does not know it yet).
func TestSourceHealthShowsRefusedConnections(t *testing.T) {
	m := ingest.NewReceiverMetrics(nil)
	c1, c2, other := m.For("fw01#1", "syslog-tcp"), m.For("fw01#2", "syslog-tls"), m.For("db", "syslog-tcp")
	for range 3 {
		c1.Refuse(ingest.RefusedTooManyAddress)
	}
	c2.Refuse(ingest.RefusedTooMany)
	other.Refuse(ingest.RefusedTooMany)
	s := &server{streams: map[[2]string][]*ingest.Counters{
		{"acme", "fw01"}: {c1, c2},
		{"other", "db"}:  {other},
	}}
	h := s.sourceHealth("acme")
	if got := h["fw01"].RefusedConnections; got != 4 {
		t.Errorf("fw01 refused connections = %v, want 4 (health %+v)", got, h)
	}
	if _, ok := h["db"]; ok {
		t.Errorf("another workspace's source in the health of acme: %+v", h)
	}
}

// TestServeSyslogRefusalsInSourceHealth: the receiver settings of the
// config file reach the listener, and the connections it refuses show in
// the source's health in the API.
func TestServeSyslogRefusalsInSourceHealth(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "read")
	syslogAddr := freePort(t)
	cfgFile := filepath.Join(dir, "vigil.yaml")
	yaml := "sources:\n  - workspace: acme\n    name: fw01\n    format: syslog\n    receivers:\n" +
		"      - type: syslog\n        protocol: tcp\n        listen: " + syslogAddr + "\n" +
		"        max-connections: 4\n        max-connections-per-address: 2\n        idle-timeout: 1m\n        message-timeout: 10s\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir, "--config", cfgFile)
	for range 5 {
		c, err := net.Dial("tcp", syslogAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	poll(t, "3 refused connections in fw01's health", func() bool {
		var out struct {
			Sources []struct {
				Name   string `json:"name"`
				Health *struct {
					Refused int64 `json:"refused_connections"`
				} `json:"health"`
			} `json:"sources"`
		}
		getJSON(t, p.url+"/api/v1/sources", key, &out)
		for _, s := range out.Sources {
			if s.Name == "fw01" && s.Health != nil && s.Health.Refused == 3 {
				return true
			}
		}
		return false
	})
}
