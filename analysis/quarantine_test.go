package analysis

import (
	"testing"

	"github.com/vigil-sec/vigil/tenant"
)

// A quarantined source's records are held whole in the quarantine,
// neither decoded nor detected on; released, the same records are.
func TestProcessQuarantinedSourceHoldsEveryRecord(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	lines := []string{
		`{"EventID":1102,"Channel":"Security","Computer":"h1","TimeCreated":"2026-01-01T00:00:01Z"}`,
		`{"EventID":4624,"Channel":"Security","Computer":"h2","TimeCreated":"2026-01-01T00:00:02Z"}`,
	}
	res := p.Process(batchOf("windows", lines...), tenant.Source{Name: "s", SourceControls: tenant.SourceControls{Quarantined: true}})
	if len(res.Batch.Events) != 0 || len(res.Batch.Signals) != 0 || res.Events != 0 {
		t.Fatalf("quarantined source: %d events, %d signals", len(res.Batch.Events), len(res.Batch.Signals))
	}
	q := res.Batch.Quarantined
	if len(q) != 2 || res.Batch.Rejected != 2 {
		t.Fatalf("quarantined %d records (rejected %d), want 2", len(q), res.Batch.Rejected)
	}
	for i, r := range q {
		if string(r.Raw) != lines[i] || r.Line != i+1 || r.Reason != QuarantinedReason {
			t.Errorf("record %d held as %+v", i, r)
		}
	}
	res = p.Process(batchOf("windows", lines...), tenant.Source{Name: "s"})
	if len(res.Batch.Events) != 2 || len(res.Batch.Signals) != 1 || len(res.Batch.Quarantined) != 0 {
		t.Fatalf("released source: %d events, %d signals, %d quarantined", len(res.Batch.Events), len(res.Batch.Signals), len(res.Batch.Quarantined))
	}
}
