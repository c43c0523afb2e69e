package analysis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/enrichtest"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// TestProcessSuppresses: matches a suppression matches raise no signal
// and are counted against it; expired suppressions and other workspaces'
// do not apply.
func TestProcessSuppresses(t *testing.T) {
	past := time.Now().Add(-time.Hour)
	set, errs := suppress.NewSet([]suppress.Suppression{
		{ID: "host0", Entity: &alert.Entity{Type: alert.EntityHost, Value: "HOST-00"}, Reason: "test rig"},
		{ID: "user5", Rule: "00000000-0000-0000-0000-000000000001", Field: "user.name", Value: "user-05", Reason: "admin"},
		{ID: "old", Entity: &alert.Entity{Type: alert.EntityHost, Value: "host-10"}, Reason: "gone", Expires: &past},
		{ID: "other-rule", Rule: "no-such-rule", Entity: &alert.Entity{Type: alert.EntityHost, Value: "host-15"}, Reason: "x"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	p := NewProcessor(testRulesSet(t))
	var asked []string
	p.Suppressions = func(ws string) *suppress.Set {
		asked = append(asked, ws)
		if ws == "w" {
			return set
		}
		return nil
	}
	var lines []string
	for i := 0; i < 20; i++ {
		lines = append(lines, fmt.Sprintf(`{"EventID":1102,"Channel":"Security","Computer":"host-%02d","TimeCreated":"2026-01-01T00:00:%02dZ","SubjectUserName":"user-%02d"}`, i, i, i))
	}
	res := p.Process(batchOf("windows", lines...), tenant.Source{})
	if len(res.Batch.Signals) != 18 {
		t.Fatalf("%d signals, want 18 (host-00 and user-05 suppressed)", len(res.Batch.Signals))
	}
	for _, s := range res.Batch.Signals {
		for _, e := range s.Entities {
			if e.Value == "host-00" || e.Value == "user-05" {
				t.Errorf("suppressed signal raised: %+v", s.Entities)
			}
		}
	}
	hits := map[string]int64{}
	for _, h := range res.Batch.Suppressed {
		hits[h.Suppression] += h.Count
		if h.Rule != "00000000-0000-0000-0000-000000000001" {
			t.Errorf("hit of rule %q", h.Rule)
		}
	}
	if len(hits) != 2 || hits["host0"] != 1 || hits["user5"] != 1 {
		t.Fatalf("hits %v", hits)
	}
	if len(res.Batch.Events) != 20 {
		t.Errorf("suppressed events are still stored: %d of 20", len(res.Batch.Events))
	}
	// Another workspace's batch: nothing suppressed, the tally starts anew.
	b := batchOf("windows", lines[0])
	b.Workspace = "w2"
	res = p.Process(b, tenant.Source{})
	if len(res.Batch.Signals) != 1 || len(res.Batch.Suppressed) != 0 {
		t.Fatalf("w2: %d signals, suppressed %+v", len(res.Batch.Signals), res.Batch.Suppressed)
	}
	if len(asked) != 2 || asked[1] != "w2" {
		t.Errorf("suppressions asked for %v", asked)
	}
}

type countingLookup struct {
	mu    sync.Mutex
	calls int
	list  []suppress.Suppression
}

func (c *countingLookup) Suppressions(_ context.Context, ws string) ([]suppress.Suppression, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.list, nil
}

// TestStageCachesSuppressions: the stage asks the store once per
// LookupTTL, and at once after ForgetSuppressions.
func TestStageCachesSuppressions(t *testing.T) {
	l := &countingLookup{list: []suppress.Suppression{{ID: "a", CIDR: "10.0.0.0/8", Reason: "x"}}}
	s := NewStage(StageConfig{Suppressions: l, LookupTTL: time.Hour})
	if s.suppressions("w").Len() != 1 || s.suppressions("w").Len() != 1 || l.calls != 1 {
		t.Fatalf("calls %d, want 1", l.calls)
	}
	l.mu.Lock()
	l.list = append(l.list, suppress.Suppression{ID: "b", Rule: "r", Reason: "y"})
	l.mu.Unlock()
	if s.suppressions("w").Len() != 1 {
		t.Fatal("the cache was not used")
	}
	s.ForgetSuppressions("w")
	if n := s.suppressions("w").Len(); n != 2 || l.calls != 2 {
		t.Fatalf("after forget: %d suppressions, %d calls", n, l.calls)
	}
	if s := NewStage(StageConfig{}); s.suppressions("w") != nil {
		t.Error("a stage without lookup has suppressions")
	}
}

// lowAssets marks every event's asset as of low criticality.
type lowAssets struct{}

func (lowAssets) Fields() []string { return []string{"asset.criticality"} }
func (lowAssets) Enrich(ev *event.Event, _ *enrich.Result) {
	ev.Common[event.AssetCriticality] = "low"
}

// TestProcessSuppressesEnrichedAndIntel: a suppression may name a field
// enrichment fills (it is judged after enrichment), and intelligence
// signals are suppressed like rule matches.
func TestProcessSuppressesEnrichedAndIntel(t *testing.T) {
	m := enrichtest.NewMatcher(intel.Indicator{Kind: intel.KindIP, Value: "45.9.148.7", ThreatType: intel.ThreatC2, Confidence: 95, Feed: "feodo"})
	set, errs := suppress.NewSet([]suppress.Suppression{
		{ID: "low-assets", Rule: "00000000-0000-0000-0000-000000000001", Field: "asset.criticality", Value: "low", Reason: "lab hosts"},
		{ID: "sinkhole", Rule: "intel:c2", CIDR: "45.9.148.0/24", Reason: "our sinkhole"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	p := NewProcessor(testRulesSet(t))
	p.Enrichers = intelChain(m, lowAssets{})
	p.Suppressions = func(string) *suppress.Set { return set }
	cleared := `{"EventID":1102,"Channel":"Security","Computer":"dc1","TimeCreated":"2026-01-02T03:00:00Z"}`
	res := p.Process(batchOf("windows", cleared, logon(4624, "45.9.148.7")), tenant.Source{})
	if len(res.Batch.Signals) != 0 {
		t.Fatalf("signals %+v, want none", res.Batch.Signals)
	}
	hits := map[string]int64{}
	for _, h := range res.Batch.Suppressed {
		hits[h.Suppression] += h.Count
	}
	if hits["low-assets"] != 1 || hits["sinkhole"] != 1 {
		t.Fatalf("hits %v", hits)
	}
	// Without the suppressions both alert.
	p.Suppressions = nil
	res = p.Process(batchOf("windows", cleared, logon(4624, "45.9.148.7")), tenant.Source{})
	if len(signalsOf(res, "signature")) != 1 || len(signalsOf(res, "intel")) != 1 {
		t.Fatalf("without suppressions: %+v", res.Batch.Signals)
	}
}
