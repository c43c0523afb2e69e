package alert

import (
	"reflect"
	"strings"
	"testing"
)

func factors(rs []PriorityReason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Factor)
	}
	return out
}

// TestPrioritizeFactors: each factor moves the score by its documented
// points, the score is the sum of the reasons, and reasons come in the
// documented order.
func TestPrioritizeFactors(t *testing.T) {
	base := func() *Alert { return &Alert{Severity: Medium} }
	for _, c := range []struct {
		name    string
		edit    func(*Alert)
		score   int
		factors []string
		detail  string // a part of the last reason's detail
	}{
		{"medium alone", func(*Alert) {}, 30, []string{FactorSeverity}, "severity medium"},
		{"critical alone", func(a *Alert) { a.Severity = Critical }, 60, []string{FactorSeverity}, "critical"},
		{"informational", func(a *Alert) { a.Severity = Informational }, 5, []string{FactorSeverity}, "informational"},
		{"high confidence", func(a *Alert) { a.Rule.Confidence = "high" }, 40, []string{FactorSeverity, FactorConfidence}, "high"},
		{"low confidence", func(a *Alert) { a.Rule.Confidence = "low" }, 20, []string{FactorSeverity, FactorConfidence}, "low"},
		{"medium confidence moves nothing", func(a *Alert) { a.Rule.Confidence = "medium" }, 30, []string{FactorSeverity}, ""},
		{"success", func(a *Alert) { a.Rule.Outcome = "success" }, 45, []string{FactorSeverity, FactorOutcome}, "successful"},
		{"attempt moves nothing", func(a *Alert) { a.Rule.Outcome = "attempt" }, 30, []string{FactorSeverity}, ""},
		{"critical asset", func(a *Alert) {
			a.Assets = []Asset{{Name: "web", Type: "host", Criticality: "medium"}, {Name: "db1", Type: "database", Criticality: "critical"}}
		}, 50, []string{FactorSeverity, FactorAsset}, "database db1 is of critical criticality"},
		{"low asset moves nothing", func(a *Alert) { a.Assets = []Asset{{Name: "lab", Type: "host", Criticality: "low"}} }, 30, []string{FactorSeverity}, ""},
		{"c2 indicator at 90", func(a *Alert) {
			a.Origin = &Origin{IP: "203.0.113.9", Indicators: []IndicatorRef{
				{Kind: "ip", Value: "203.0.113.9", ThreatType: "scanner", Confidence: 100, Feed: "f1"},
				{Kind: "ip", Value: "203.0.113.9", ThreatType: "c2", Confidence: 90, Feed: "f2"},
			}}
		}, 48, []string{FactorSeverity, FactorIntelligence}, "c2 indicator in feed f2 (confidence 90); 2 indicators"},
		{"scanner indicator weighs little", func(a *Alert) {
			a.Origin = &Origin{IP: "203.0.113.9", Indicators: []IndicatorRef{{Kind: "ip", Value: "203.0.113.9", ThreatType: "scanner", Confidence: 80, Feed: "f"}}}
		}, 35, []string{FactorSeverity, FactorIntelligence}, "scanner"},
		{"indicator without confidence counts half", func(a *Alert) {
			a.Origin = &Origin{IP: "203.0.113.9", Indicators: []IndicatorRef{{Kind: "ip", Value: "203.0.113.9", ThreatType: "malware", Feed: "f"}}}
		}, 40, []string{FactorSeverity, FactorIntelligence}, "malware"},
		{"origin without indicators moves nothing", func(a *Alert) { a.Origin = &Origin{IP: "203.0.113.9", Country: "NL"} }, 30, []string{FactorSeverity}, ""},
		{"first seen beats rare", func(a *Alert) {
			a.Anomalies = []Anomaly{{Model: "account.country", Entity: "bob", Value: "BR", Kind: AnomalyRare, Seen: 2},
				{Model: "sql.principal", Entity: "db1", Value: "eve", Kind: AnomalyFirstSeen}}
		}, 40, []string{FactorSeverity, FactorRarity}, "eve never seen before for db1; 2 anomalies"},
		{"rare", func(a *Alert) {
			a.Anomalies = []Anomaly{{Model: "account.country", Entity: "bob", Value: "BR", Kind: AnomalyRare, Seen: 2}}
		}, 35, []string{FactorSeverity, FactorRarity}, "BR is rare for bob (seen 2 times)"},
		{"targeted", func(a *Alert) { a.Intent = &Intent{Estimate: IntentTargeted} }, 40, []string{FactorSeverity, FactorIntent}, "targeted"},
		{"random", func(a *Alert) { a.Intent = &Intent{Estimate: IntentRandom} }, 25, []string{FactorSeverity, FactorIntent}, "random"},
		{"unknown intent moves nothing", func(a *Alert) { a.Intent = &Intent{Estimate: IntentUnknown} }, 30, []string{FactorSeverity}, ""},
		{"everything, clamped", func(a *Alert) {
			a.Severity = Critical
			a.Rule.Confidence, a.Rule.Outcome = "high", "success"
			a.Assets = []Asset{{Name: "dc1", Type: "host", Criticality: "critical"}}
			a.Origin = &Origin{IP: "203.0.113.9", Indicators: []IndicatorRef{{Kind: "ip", Value: "203.0.113.9", ThreatType: "c2", Confidence: 100, Feed: "f"}}}
			a.Anomalies = []Anomaly{{Model: "m", Entity: "e", Value: "v", Kind: AnomalyFirstSeen}}
			a.Intent = &Intent{Estimate: IntentTargeted}
		}, 100, []string{FactorSeverity, FactorConfidence, FactorOutcome, FactorAsset, FactorIntelligence, FactorRarity, FactorIntent}, "targeted"},
		{"floor at 0", func(a *Alert) {
			a.Severity = Informational
			a.Rule.Confidence = "low"
			a.Intent = &Intent{Estimate: IntentRandom}
		}, 0, []string{FactorSeverity, FactorConfidence, FactorIntent}, "random"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := base()
			c.edit(a)
			score, rs := Prioritize(a)
			if score != c.score {
				t.Errorf("score %d, want %d (reasons %+v)", score, c.score, rs)
			}
			if got := factors(rs); !reflect.DeepEqual(got, c.factors) {
				t.Errorf("factors %v, want %v", got, c.factors)
			}
			sum := 0
			for _, r := range rs {
				sum += r.Points
			}
			if want := min(max(sum, 0), MaxPriority); want != score {
				t.Errorf("score %d is not the clamped sum %d of the reasons", score, sum)
			}
			if c.detail != "" && !strings.Contains(rs[len(rs)-1].Detail, c.detail) {
				t.Errorf("last reason %q, want it to contain %q", rs[len(rs)-1].Detail, c.detail)
			}
			// Deterministic: the same alert, the same answer.
			s2, rs2 := Prioritize(a)
			if s2 != score || !reflect.DeepEqual(rs, rs2) {
				t.Errorf("second run %d %+v differs", s2, rs2)
			}
		})
	}
}

// TestPriorityOrdersAlerts: what the formula is for — a successful attack
// on a critical asset outranks an attempt of the same severity, which
// outranks a mass scan from a known scanner.
func TestPriorityOrdersAlerts(t *testing.T) {
	success := &Alert{Severity: High, Rule: RuleRef{Outcome: "success", Confidence: "high"},
		Assets: []Asset{{Name: "db1", Type: "database", Criticality: "critical"}}}
	attempt := &Alert{Severity: High, Rule: RuleRef{Outcome: "attempt"}}
	scan := &Alert{Severity: High, Rule: RuleRef{Confidence: "low"}, Intent: &Intent{Estimate: IntentRandom},
		Origin: &Origin{IP: "198.51.100.1", Indicators: []IndicatorRef{{Kind: "ip", Value: "198.51.100.1", ThreatType: "scanner", Confidence: 100}}}}
	ps, _ := Prioritize(success)
	pa, _ := Prioritize(attempt)
	pm, _ := Prioritize(scan)
	if !(ps > pa && pa > pm) {
		t.Errorf("success %d, attempt %d, mass scan %d: want them in that order", ps, pa, pm)
	}
}

func TestCompromisedEntity(t *testing.T) {
	origin := &Origin{IP: "203.0.113.7"}
	for _, c := range []struct {
		name string
		a    Alert
		want *Entity
	}{
		{"source address only: none", Alert{Origin: origin, Entities: []Entity{{EntityIP, "203.0.113.7"}}}, nil},
		{"address without a known source: none", Alert{Entities: []Entity{{EntityIP, "10.0.0.5"}}}, nil},
		{"destination address", Alert{Origin: origin, Entities: []Entity{{EntityIP, "203.0.113.7"}, {EntityIP, "10.0.0.5"}}}, &Entity{EntityIP, "10.0.0.5"}},
		{"attempt: the host", Alert{Origin: origin, Entities: []Entity{{EntityAccount, "root"}, {EntityIP, "203.0.113.7"}, {EntityHost, "web1"}}}, &Entity{EntityHost, "web1"}},
		{"success: the account", Alert{Origin: origin, Rule: RuleRef{Outcome: "success"},
			Entities: []Entity{{EntityIP, "203.0.113.7"}, {EntityHost, "web1"}, {EntityAccount, "bob"}}}, &Entity{EntityAccount, "bob"}},
		{"the most critical asset", Alert{Origin: origin, Rule: RuleRef{Outcome: "success"},
			Entities: []Entity{{EntityAccount, "bob"}},
			Assets: []Asset{{Name: "10.0.0.0/8", Type: "network", Criticality: "critical"},
				{Name: "web1", Type: "host", Criticality: "medium"}, {Name: "sales", Type: "database", Criticality: "high"}}},
			&Entity{EntityDatabase, "sales"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := CompromisedEntity(&c.a)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// BenchmarkAssess: the work the store adds per alert a commit touches.
func BenchmarkAssess(b *testing.B) {
	a := &Alert{Severity: High, Rule: RuleRef{Confidence: "high", Outcome: "success"},
		Entities: []Entity{{EntityIP, "203.0.113.9"}, {EntityHost, "web1"}, {EntityAccount, "bob"}},
		Assets:   []Asset{{Name: "web1", Type: "host", Criticality: "high"}},
		Origin:   &Origin{IP: "203.0.113.9", Indicators: []IndicatorRef{{Kind: "ip", Value: "203.0.113.9", ThreatType: "scanner", Confidence: 80, Feed: "f"}}},
		Intent:   &Intent{Estimate: IntentTargeted}}
	b.ReportAllocs()
	for b.Loop() {
		a.Assess()
	}
}
