package analysis

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/tenant"
)

const aggregationRules = `
title: Admin login by tenant
id: agg-1
logsource: {product: linux, service: myapp}
aggregation: {window: 1h, by: [tenant]}
detection:
    selection:
        action: admin-login
    condition: selection
---
title: Admin login
id: plain-1
logsource: {product: linux, service: myapp}
detection:
    selection:
        action: admin-login
    condition: selection
`

// TestSignalAggregation: a rule that aggregates by a field keys its
// signals by that field's values alone (a field no rule matches on, which
// CompileSet has decoded), and carries its window; other rules key by
// host, account and address, with the store's window.
func TestSignalAggregation(t *testing.T) {
	rs, errs := rule.Parse("agg.yml", []byte(aggregationRules))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rules, cerrs := CompileSet(&rule.Set{Rules: rs}, detect.Options{}, detect.CorrelatorConfig{})
	if len(cerrs) > 0 {
		t.Fatal(cerrs)
	}
	p := NewProcessor(rules)
	b := batchOf("json",
		`{"action":"admin-login","user":"ann","tenant":"t1"}`,
		`{"action":"admin-login","user":"bob","tenant":"t1"}`,
		`{"action":"admin-login","user":"ann","tenant":"t2"}`)
	res := p.Process(b, tenant.Source{Logsource: event.Logsource{Product: "linux", Service: "myapp"}})
	keys := map[string]map[string]bool{}
	for _, s := range res.Batch.Signals {
		if keys[s.Rule.ID] == nil {
			keys[s.Rule.ID] = map[string]bool{}
		}
		keys[s.Rule.ID][s.DedupKey] = true
		switch s.Rule.ID {
		case "agg-1":
			if s.Window != time.Hour {
				t.Errorf("agg-1 signal window %v, want 1h", s.Window)
			}
		case "plain-1":
			if s.Window != 0 {
				t.Errorf("plain-1 signal window %v, want 0 (the store's)", s.Window)
			}
		}
	}
	if len(keys["agg-1"]) != 2 || !keys["agg-1"]["w|agg-1|tenant=t1"] || !keys["agg-1"]["w|agg-1|tenant=t2"] {
		t.Errorf("agg-1 keys %v, want one per tenant", keys["agg-1"])
	}
	// The generic JSON records name no host, account or address: the
	// plain rule gathers all three into one alert.
	if len(keys["plain-1"]) != 1 {
		t.Errorf("plain-1 keys %v, want one", keys["plain-1"])
	}
}
