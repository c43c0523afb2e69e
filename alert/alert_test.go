package alert

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

func sig(t time.Time, sev Severity, ents ...Entity) Signal {
	return Signal{Workspace: "w", Type: "signature", Rule: RuleRef{ID: "r1", Title: "R"}, Severity: sev,
		Entities: ents, DedupKey: DedupKey("w", "r1", ents), Evidence: Evidence{EventID: t.String(), Time: t}}
}

func TestAlertGathersSignals(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := New("a1", sig(t0, Low, Entity{EntityHost, "h1"}), t0)
	if a.Count != 1 || a.Status != StatusNew || !a.FirstSeen.Equal(t0) || len(a.Evidence) != 1 {
		t.Fatalf("new alert: %+v", a)
	}
	a.Add(sig(t0.Add(-time.Minute), High, Entity{EntityHost, "h1"}, Entity{EntityIP, "192.0.2.1"}), t0)
	a.Add(sig(t0.Add(time.Hour), Medium, Entity{EntityHost, "h1"}), t0)
	if a.Count != 3 || !a.FirstSeen.Equal(t0.Add(-time.Minute)) || !a.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("span/count: %+v", a)
	}
	if a.Severity != High {
		t.Fatalf("severity should rise to the highest signal's: %v", a.Severity)
	}
	if len(a.Entities) != 2 {
		t.Fatalf("entities merged without duplicates: %+v", a.Entities)
	}
	for i := 0; i < 2*MaxEvidence; i++ {
		a.Add(sig(t0, Low), t0)
	}
	if len(a.Evidence) != MaxEvidence || a.Count != 3+2*MaxEvidence {
		t.Fatalf("evidence capped at %d, count kept: %d, %d", MaxEvidence, len(a.Evidence), a.Count)
	}
}

func TestSeverityAndStatus(t *testing.T) {
	for _, s := range []string{"informational", "low", "medium", "high", "critical"} {
		v, err := ParseSeverity(s)
		if err != nil || v.String() != s {
			t.Fatalf("%s: %v %v", s, v, err)
		}
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Fatal("unknown severity accepted")
	}
	b, _ := json.Marshal(struct{ S Severity }{Critical})
	if string(b) != `{"S":"critical"}` {
		t.Fatalf("severity JSON: %s", b)
	}
	if !StatusActive.Open() || StatusResolved.Open() || Status("closed").Valid() {
		t.Fatal("status predicates")
	}
}

func TestEntitiesFromEvent(t *testing.T) {
	var ev event.Event
	ev.Common[event.HostName] = "h"
	ev.Common[event.SourceIP] = "192.0.2.1"
	ev.Common[event.DestinationIP] = "192.0.2.1" // same value: one entity
	ev.Common[event.UserName] = "-"              // placeholder: no entity
	es := Entities(&ev)
	if len(es) != 2 || es[0] != (Entity{EntityHost, "h"}) || es[1] != (Entity{EntityIP, "192.0.2.1"}) {
		t.Fatalf("entities: %+v", es)
	}
	if DedupKey("w", "r", es) == DedupKey("w", "r", es[:1]) {
		t.Fatal("dedup key must depend on the entities")
	}
}

func TestAddGathersAnomalies(t *testing.T) {
	s := Signal{Workspace: "w", Type: "signature", Anomalies: []Anomaly{{Model: "sql.principal", Entity: "db1", Value: "eve", Kind: AnomalyFirstSeen}}}
	a := New("a1", s, time.Unix(0, 0))
	a.Add(s, time.Unix(1, 0))
	s.Anomalies = []Anomaly{{Model: "sql.app", Entity: "db1", Value: "sqlmap", Kind: AnomalyRare, Seen: 1}}
	a.Add(s, time.Unix(2, 0))
	if len(a.Anomalies) != 2 || a.Anomalies[1].Value != "sqlmap" {
		t.Fatalf("anomalies = %+v, want the two distinct ones", a.Anomalies)
	}
}
