package analysis

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	_ "github.com/vigil-sec/vigil/decode/mssqlaudit"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/tenant"
)

const baselineRules = `
title: Unfamiliar principal
id: 00000000-0000-0000-0000-0000000000b1
logsource:
    category: database
detection:
    selection:
        baseline.first_seen: sql.principal
    condition: selection
level: medium
---
title: Tool
id: 00000000-0000-0000-0000-0000000000b2
logsource:
    category: database
detection:
    selection:
        application_name|contains: sqlmap
    condition: selection
level: high
`

// toolRule alone reads no baseline field.
const toolRule = `
title: Tool
id: 00000000-0000-0000-0000-0000000000b2
logsource:
    category: database
detection:
    selection:
        application_name|contains: sqlmap
    condition: selection
level: high
`

func sqlLogin(minute int, user, ip, app string) string {
	return fmt.Sprintf(`{"event_time":"2026-12-06T10:%02d:00.0000000","action_id":"LGIS","action_name":"LOGIN SUCCEEDED","succeeded":true,"server_instance_name":"db1","server_principal_name":%q,"client_ip":%q,"application_name":%q,"database_name":"shop"}`,
		minute, user, ip, app)
}

func rulesWith(t *testing.T, text string, extra []string) *Rules {
	t.Helper()
	rs, errs := rule.Parse("b.yml", []byte(text))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	eng, errs := detect.Compile(rs, detect.Options{ExtraFields: extra})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return NewRules(eng)
}

func baselineChain(t *testing.T) *enrich.Chain {
	t.Helper()
	b, err := baseline.New(baseline.Config{Workspace: "w", Learning: -1})
	if err != nil {
		t.Fatal(err)
	}
	return enrich.NewChain(b)
}

// TestBaselineRuleAndAnomalies: a rule reading baseline.first_seen fires
// on the login of a principal the server never saw, and the anomaly rides
// on the signal (and so the alert); the usual principal stays quiet.
func TestBaselineRuleAndAnomalies(t *testing.T) {
	p := NewProcessor(rulesWith(t, baselineRules, baseline.SourceFields(baseline.Defaults)))
	c := baselineChain(t)
	p.Enrichers = func(string) *enrich.Chain { return c }
	res := p.Process(batchOf("mssql-audit",
		sqlLogin(0, "webapp", "10.0.0.5", "webshop"),
		sqlLogin(1, "webapp", "10.0.0.5", "webshop"),
		sqlLogin(2, "mallory", "10.0.0.5", "webshop"),
	), tenant.Source{})
	if len(res.Rejected) > 0 {
		t.Fatalf("rejected %+v", res.Rejected)
	}
	sigs := signalsOf(res, "signature")
	if len(sigs) != 1 || sigs[0].Rule.Title != "Unfamiliar principal" || sigs[0].Evidence.EventID != res.Batch.Events[2].ID.String() {
		t.Fatalf("signals %+v, want the unfamiliar principal on the third login", sigs)
	}
	want := alert.Anomaly{Model: "sql.principal", Entity: "db1", Value: "mallory", Kind: alert.AnomalyFirstSeen}
	if a := sigs[0].Anomalies; len(a) != 1 || a[0] != want {
		t.Fatalf("anomalies %+v, want [%+v]", a, want)
	}
}

// TestBaselinesLearnWithoutRulesReadingThem: no rule reads a baseline
// field, yet the baseline learns from every SQL event (not only from
// those that alert) and the anomalies reach the signals other rules raise.
func TestBaselinesLearnWithoutRulesReadingThem(t *testing.T) {
	rs := rulesWith(t, toolRule, baseline.SourceFields(baseline.Defaults))
	c := baselineChain(t)
	if c.Reads(rs.Engine.Dict()) {
		t.Fatal("the chain counts as read: every enricher would run on every event")
	}
	p := NewProcessor(rs)
	p.Enrichers = func(string) *enrich.Chain { return c }
	res := p.Process(batchOf("mssql-audit",
		sqlLogin(0, "webapp", "10.0.0.5", "webshop"),
		sqlLogin(1, "webapp", "203.0.113.9", "sqlmap"),   // new address and application, same principal
		sqlLogin(2, "webapp", "203.0.113.9", "sqlmap 2"), // address known now, application new
	), tenant.Source{})
	sigs := signalsOf(res, "signature")
	if len(sigs) != 2 {
		t.Fatalf("%d signals, want the tool rule twice", len(sigs))
	}
	got := func(s alert.Signal) map[string]string {
		m := map[string]string{}
		for _, a := range s.Anomalies {
			m[a.Model] = a.Value
		}
		return m
	}
	if g := got(sigs[0]); len(g) != 2 || g["sql.client_ip"] != "203.0.113.9" || g["sql.application"] != "sqlmap" {
		t.Errorf("first tool signal's anomalies %+v", sigs[0].Anomalies)
	}
	if g := got(sigs[1]); len(g) != 1 || g["sql.application"] != "sqlmap 2" {
		t.Errorf("second tool signal's anomalies %+v: the address was learnt from the first", sigs[1].Anomalies)
	}
}

// TestFreeTierRunsNoBaselines: the stage gives a free workspace its chain
// without the learners: its events are neither learnt from nor flagged.
func TestFreeTierRunsNoBaselines(t *testing.T) {
	full := baselineChain(t)
	s := NewStage(StageConfig{Workspaces: tiers{"paid": tenant.TierStandard, "gratis": tenant.TierFree},
		Enrichers: func(string) *enrich.Chain { return full }, LookupTTL: time.Hour})
	if c := s.enrichers("paid"); c != full || c.Learners() != 1 {
		t.Fatalf("standard workspace's chain has %d learners, want the full chain", c.Learners())
	}
	free := s.enrichers("gratis")
	if free.Learners() != 0 {
		t.Fatalf("free workspace's chain has %d learners", free.Learners())
	}
	p := NewProcessor(rulesWith(t, baselineRules, baseline.SourceFields(baseline.Defaults)))
	p.Enrichers = s.enrichers
	b := batchOf("mssql-audit", sqlLogin(0, "webapp", "10.0.0.5", "x"), sqlLogin(1, "mallory", "10.0.0.6", "y"))
	b.Workspace = "gratis"
	if res := p.Process(b, tenant.Source{}); len(res.Batch.Signals) != 0 {
		t.Fatalf("free workspace: signals %+v", res.Batch.Signals)
	}
	b = batchOf("mssql-audit", sqlLogin(0, "webapp", "10.0.0.5", "x"), sqlLogin(1, "mallory", "10.0.0.6", "y"))
	b.Workspace = "paid"
	if res := p.Process(b, tenant.Source{}); len(signalsOf(res, "signature")) != 1 {
		t.Fatalf("standard workspace: signals %+v, want the unfamiliar principal", res.Batch.Signals)
	}
}
