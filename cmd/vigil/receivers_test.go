package main

import (
	"os"
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
