package analysis

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/enrichtest"
	"github.com/vigil-sec/vigil/enrich/geoip"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/tenant"
)

func logon(id int, ip string) string {
	return fmt.Sprintf(`{"EventID":%d,"Channel":"Security","Computer":"dc1","TargetUserName":"alice","IpAddress":%q,"TimeCreated":"2026-01-02T03:00:00Z"}`, id, ip)
}

func intelChain(m intel.Matcher, more ...enrich.Enricher) func(string) *enrich.Chain {
	c := enrich.NewChain(append([]enrich.Enricher{indicators.New(m)}, more...)...)
	return func(string) *enrich.Chain { return c }
}

func signalsOf(res Result, typ string) []alert.Signal {
	var out []alert.Signal
	for _, s := range res.Batch.Signals {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

func TestIntelMatchRaisesAlertWithoutRule(t *testing.T) {
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := enrichtest.NewMatcher(
		intel.Indicator{Kind: intel.KindIP, Value: "45.9.148.7", ThreatType: intel.ThreatC2, Threat: "Emotet", Confidence: 95, Feed: "feodo"},
		intel.Indicator{Kind: intel.KindIP, Value: "45.9.148.8", ThreatType: intel.ThreatC2, Confidence: 95, Feed: "feodo", ValidUntil: received.Add(-time.Minute)},
	)
	p := NewProcessor(testRulesSet(t))
	p.Enrichers = intelChain(m)
	res := p.Process(batchOf("windows", logon(4624, "45.9.148.7"), logon(4624, "8.8.8.8"), logon(4624, "45.9.148.8"), logon(4624, "45.9.148.7")), tenant.Source{})
	if n := len(signalsOf(res, "signature")); n != 0 {
		t.Fatalf("%d signature signals: no rule should fire", n)
	}
	sigs := signalsOf(res, "intel")
	if len(sigs) != 2 {
		t.Fatalf("%d intel signals, want 2 (lines 1 and 4; line 3's indicator expired)", len(sigs))
	}
	s := sigs[0]
	if s.Rule.ID != "intel:c2" || s.Severity != alert.Critical || s.DedupKey != sigs[1].DedupKey || s.Evidence.EventID != res.Batch.Events[0].ID.String() {
		t.Errorf("signal %+v", s)
	}
	if s.Origin == nil || s.Origin.IP != "45.9.148.7" || s.Origin.Scope != enrich.ScopePublic || len(s.Origin.Indicators) != 1 ||
		s.Origin.Indicators[0].Feed != "feodo" || s.Origin.Indicators[0].Field != "source.ip" || s.Origin.Indicators[0].Threat != "Emotet" {
		t.Errorf("origin %+v", s.Origin)
	}
	if !containsEntity(s.Entities, alert.Entity{Type: alert.EntityIP, Value: "45.9.148.7"}) {
		t.Errorf("entities %v", s.Entities)
	}
	if got := res.Batch.Events[0].Common[event.ThreatIndicatorName]; got != "45.9.148.7" {
		t.Errorf("stored event's threat.indicator.name %q", got)
	}
	if got := res.Batch.Events[1].Common[event.ThreatIndicatorName]; got != "" {
		t.Errorf("unmatched event has threat.indicator.name %q", got)
	}
	// Offline, evidence is file and line.
	p.Offline = "x.json"
	res = p.Process(batchOf("windows", logon(4624, "8.8.8.8"), logon(4624, "45.9.148.7")), tenant.Source{})
	if sigs := signalsOf(res, "intel"); len(sigs) != 1 || sigs[0].Evidence.File != "x.json" || sigs[0].Evidence.Line != 2 {
		t.Errorf("offline signals %+v", sigs)
	}
}

func TestIntelSeverity(t *testing.T) {
	for _, c := range []struct {
		typ  string
		conf int
		want alert.Severity
	}{
		{intel.ThreatC2, 95, alert.Critical}, {intel.ThreatC2, 70, alert.High}, {intel.ThreatMalware, 30, alert.Medium},
		{intel.ThreatScanner, 70, alert.Low}, {intel.ThreatTorExit, 20, alert.Informational}, {"weird", 60, alert.Medium},
	} {
		if got := IntelSeverity(&intel.Indicator{ThreatType: c.typ, Confidence: c.conf}); got != c.want {
			t.Errorf("%s/%d: %s, want %s", c.typ, c.conf, got, c.want)
		}
	}
}

func geoTestDB(t testing.TB) *geoip.Database {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "data", "geoip", "testdata_mmdb", "GeoIP2-City-Test.mmdb")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("GeoIP test database absent (%v)", err)
	}
	db, err := geoip.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestOriginOnSignatureSignalsOnly(t *testing.T) {
	geo := geoip.New(geoTestDB(t))
	p := NewProcessor(testRulesSet(t))
	p.Enrichers = func(string) *enrich.Chain { return enrich.NewChain(geo) }
	// 1102 fires "Log cleared"; 4624 fires nothing.
	res := p.Process(batchOf("windows", logon(1102, "80.100.47.45"), logon(4624, "80.100.47.45")), tenant.Source{})
	sigs := signalsOf(res, "signature")
	if len(sigs) != 1 {
		t.Fatalf("%d signals", len(sigs))
	}
	if o := sigs[0].Origin; o == nil || o.Country != "NL" || o.City != "Amstelveen" || o.Lat != 52.5 || o.IP != "80.100.47.45" {
		t.Errorf("origin %+v", o)
	}
	if got := res.Batch.Events[0].Common[event.SourceGeoCountryISOCode]; got != "NL" {
		t.Errorf("alerting event's country %q", got)
	}
	// No rule reads geo fields: an event without a signal is not looked up.
	if got := res.Batch.Events[1].Common[event.SourceGeoCountryISOCode]; got != "" {
		t.Errorf("quiet event was enriched (%q): the lazy path should skip it", got)
	}
}

func TestRulesReadEnrichedFields(t *testing.T) {
	const geoRule = `
title: Logon from the Netherlands
id: 00000000-0000-0000-0000-0000000000aa
level: medium
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: 4624
        source.geo.country_iso_code: NL
    condition: selection
`
	rs, errs := rule.Parse("geo.yml", []byte(geoRule))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	eng, errs := detect.Compile(rs, detect.Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	geo := geoip.New(geoTestDB(t))
	p := NewProcessor(NewRules(eng))
	p.Enrichers = func(string) *enrich.Chain { return enrich.NewChain(geo) }
	res := p.Process(batchOf("windows", logon(4624, "80.100.47.45"), logon(4624, "8.8.4.4"), logon(4624, "10.0.0.1")), tenant.Source{})
	sigs := signalsOf(res, "signature")
	if len(sigs) != 1 || sigs[0].Evidence.EventID != res.Batch.Events[0].ID.String() {
		t.Fatalf("signals %+v, want one on the first event", sigs)
	}
	// Without enrichment the same rule cannot fire.
	p2 := NewProcessor(NewRules(eng))
	if res := p2.Process(batchOf("windows", logon(4624, "80.100.47.45")), tenant.Source{}); len(res.Batch.Signals) != 0 {
		t.Errorf("rule fired without enrichment")
	}
}
