package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// BenchmarkApplyIncidents writes correlation's updates as the serve
// consumer does: batches of 100 alerts placed, one in five starting an
// incident, the rest joining one of the incidents made so far (each with
// 20 entities, one alert and one timeline entry an update), with the
// consumer's cursor. alerts/s is the rate the store takes them at.
func BenchmarkApplyIncidents(b *testing.B) {
	const perBatch = 100
	db, _ := openTest(b)
	db.now = time.Now
	mk := func(id string, n int) incident.Incident {
		inc := incident.Incident{ID: id, Workspace: "acme", Title: "SSH brute force and more", Stage: incident.StageDetect,
			Severity: alert.High, Priority: 60, Tactics: []string{"credential-access", "discovery"}, RuleIDs: []string{"r1", "r2"},
			FirstSeen: t0, LastSeen: t0.Add(time.Duration(n) * time.Second), AlertCount: n}
		for e := range 20 {
			inc.Entities = append(inc.Entities, alert.Entity{Type: alert.EntityHost, Value: fmt.Sprintf("host-%s-%d", id, e)})
		}
		return inc
	}
	var made []string
	alerts, seq := 0, int64(0)
	cpu0, cpuOK := cpuTime()
	for b.Loop() {
		ups := make([]store.IncidentUpdate, 0, perBatch)
		for range perBatch {
			alerts++
			aid := fmt.Sprintf("al-%d", alerts)
			up := store.IncidentUpdate{AddAlerts: []string{aid}}
			if alerts%5 == 1 || len(made) == 0 {
				id := fmt.Sprintf("inc-%d", alerts)
				made = append(made, id)
				up.New, up.Incident = true, mk(id, 1)
			} else {
				up.Incident = mk(made[alerts%len(made)], 2)
			}
			up.Timeline = []incident.TimelineEntry{{IncidentID: up.Incident.ID, Time: t0, Kind: incident.TimelineAlert,
				Actor: incident.CorrelationActor, Summary: "SSH brute force", AlertID: aid}}
			ups = append(ups, up)
		}
		seq += perBatch
		if err := db.ApplyIncidents(ctx, "incidents", seq, ups); err != nil {
			b.Fatal(err)
		}
	}
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N*perBatch), "cpu-ns/alert")
	}
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "alerts/s")
}
