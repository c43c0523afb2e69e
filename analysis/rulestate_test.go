package analysis

import (
	"context"
	"errors"
	"testing"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// disabledLookup is a store's disabled rules: workspace → rule ids.
type disabledLookup map[string][]string

func (d disabledLookup) DisabledRules(_ context.Context, ws string) ([]store.DisabledRule, error) {
	var out []store.DisabledRule
	for _, r := range d[ws] {
		out = append(out, store.DisabledRule{Rule: r})
	}
	return out, nil
}

// A rule a workspace turned off raises no signal there and still does in
// another workspace.
func TestProcessDisabledRule(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	s := NewStage(StageConfig{DisabledRules: disabledLookup{"w": {"00000000-0000-0000-0000-000000000001"}},
		Rules: func() *Rules { return p.rules }})
	p.Disabled = s.disabledRules
	line := `{"EventID":1102,"Channel":"Security","Computer":"h1","TimeCreated":"2026-01-01T00:00:01Z"}`
	b := batchOf("windows", line)
	b.Workspace = "w"
	if res := p.Process(b, tenant.Source{}); len(res.Batch.Signals) != 0 || len(res.Batch.Events) != 1 {
		t.Fatalf("turned-off rule: %d signals, %d events; want 0 and 1", len(res.Batch.Signals), len(res.Batch.Events))
	}
	b = batchOf("windows", line)
	b.Workspace = "other"
	if res := p.Process(b, tenant.Source{}); len(res.Batch.Signals) != 1 {
		t.Fatalf("another workspace: %d signals, want 1", len(res.Batch.Signals))
	}
}

// A correlation turned off raises no alert though its base rule's
// matches still reach the correlator; a base rule turned off feeds it
// nothing.
func TestStageDisabledCorrelation(t *testing.T) {
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	off := disabledLookup{"w": {"11111111-0000-4000-8000-000000000002"}}
	s := NewStage(StageConfig{DisabledRules: off, Rules: func() *Rules { return rs }})
	p := NewProcessor(rs)
	p.Disabled = s.disabledRules
	b := batchOf("windows", failures("dave", 3)...)
	b.Workspace = "w"
	res := p.Process(b, tenant.Source{})
	if len(res.Matches) != 3 {
		t.Fatalf("%d matches reach the correlator, want 3", len(res.Matches))
	}
	out := s.correlateCommitted([]processed{{res: res, rules: rs}}, []bool{true})
	for _, ob := range out {
		if len(ob.Signals) != 0 {
			t.Fatalf("turned-off correlation raised %+v", ob.Signals)
		}
	}

	off["w"] = []string{"11111111-0000-4000-8000-000000000001"}
	s.ForgetDisabledRules("w")
	b = batchOf("windows", failures("erin", 3)...)
	b.Workspace = "w"
	if res := p.Process(b, tenant.Source{}); len(res.Matches) != 0 {
		t.Fatalf("turned-off base rule fed %d matches to the correlator", len(res.Matches))
	}
}

// A rule tested on sample records matches the ones it should, reports
// the ones that do not decode, and stores nothing; an unknown rule is
// refused.
func TestTestRule(t *testing.T) {
	rs := testRulesSet(t)
	recs := [][]byte{
		[]byte(`{"EventID":1102,"Channel":"Security","Computer":"h1","TimeCreated":"2026-01-01T00:00:01Z"}`),
		[]byte(`{"EventID":4624,"Channel":"Security","Computer":"h2","TimeCreated":"2026-01-01T00:00:02Z"}`),
		[]byte(`{"EventID":`),
		[]byte(`{"EventID":1102,"Channel":"Security","Computer":"h3","TimeCreated":"2026-01-01T00:00:03Z"}`),
	}
	res, err := TestRule(rs, "00000000-0000-0000-0000-000000000001", "windows", recs, tenant.Source{Workspace: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 4 || len(res.Matched) != 2 || res.Matched[0] != 1 || res.Matched[1] != 4 {
		t.Fatalf("matched lines %v of %d records, want [1 4] of 4", res.Matched, res.Records)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Line != 3 {
		t.Fatalf("rejected %+v, want line 3", res.Rejected)
	}
	if len(res.Signals) != 2 || res.Signals[0].Rule.Title != "Log cleared" {
		t.Fatalf("signals %+v", res.Signals)
	}
	// The other rule of the set is not run: only the one tested.
	res, err = TestRule(rs, "00000000-0000-0000-0000-000000000002", "windows", recs, tenant.Source{Workspace: "w"})
	if err != nil || len(res.Matched) != 0 || len(res.Signals) != 0 {
		t.Fatalf("app admin login rule on windows records: %+v, %v", res, err)
	}
	if _, err := TestRule(rs, "nope", "windows", recs, tenant.Source{}); !errors.Is(err, ErrNoRule) {
		t.Fatalf("unknown rule: %v", err)
	}
}
