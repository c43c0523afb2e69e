package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// flowLabelMap says which of vigil's rules answer each labelled rule of the
// Panther samples: the vigil rules written for the same threat. A labelled
// event is scored against these only, so that an event labelled "no alert"
// for one threat (a request the core rule set blocked is a negative of the
// SQL-injection rule's tests) is not a false alarm when vigil rightly
// alerts on it for another threat. The map is by title, as the docs name
// the rules; every title must exist in the pack.
var flowLabelMap = map[string][]string{
	// AWS VPC flow logs.
	"AWS.VPC.HealthyLogStatus":     {"VPC Flow Log Records Skipped"},
	"AWS.VPC.InboundPortWhitelist": {"Management Port Reached from the Internet"},
	"AWS.VPC.InboundPortBlacklist": {"Management Port Reached from the Internet"},
	// Correlations over many flows: a single labelled record cannot make
	// them alert (see docs/detections.md, "Network flows").
	"AWS.VPC.PortScanning": {"Vertical Port Scan", "Horizontal Port Scan of Internal Hosts", "Outbound Scan of Internet Hosts from an Internal Host"},
	// AWS WAF.
	"AWS.WAF.Managed.AntiDDoS":     {"AWS WAF Anti-DDoS Rules Flagged a Request"},
	"AWS.WAF.Managed.CoreRuleSet":  {"AWS WAF Core Rule Set Matched an Attack", "Cross-Site Scripting in a Web Request (AWS WAF)", "Path Traversal in a Web Request (AWS WAF)"},
	"AWS.WAF.Managed.IPReputation": {"AWS WAF Request from an Address on Amazon's Threat Lists"},
	"AWS.WAF.Managed.SQLDatabase":  {"AWS WAF SQL Database Rules Matched a Request", "SQL Injection in a Web Request (AWS WAF)"},
}

// flowScore adds, to labelScore's counts of the mapped rules, the counts
// of any alerting rule of the pack (what an analyst would see).
type flowScore struct {
	mapped, any labelScore
	// missed and falseAlarms name the labelled tests behind the misses.
	missed, falseAlarms []string
}

func (s *flowScore) add(expected, mapped, anyAlert bool, name string) {
	for _, c := range []struct {
		sc  *labelScore
		hit bool
	}{{&s.mapped, mapped}, {&s.any, anyAlert}} {
		if expected {
			c.sc.pos++
			if c.hit {
				c.sc.hit++
			}
		} else {
			c.sc.neg++
			if c.hit {
				c.sc.falseAlarm++
			}
		}
	}
	switch {
	case expected && !mapped:
		s.missed = append(s.missed, name)
	case !expected && mapped:
		s.falseAlarms = append(s.falseAlarms, name)
	}
}

// titled returns the pack's rules by title, failing on a title that names
// none (a renamed rule must not silently empty the mapping).
func titled(t *testing.T, eng *detect.Engine) map[string]*rule.Rule {
	t.Helper()
	byTitle := map[string]*rule.Rule{}
	for _, r := range eng.Rules() {
		byTitle[r.Title] = r
	}
	return byTitle
}

// scorePantherFlows scores a Panther rule-test file event by event, each
// against the vigil rules flowLabelMap gives for its rule_id (correlation
// titles are checked to exist but never match a single event).
func scorePantherFlows(t *testing.T, path, format string, eng *detect.Engine, alerting map[*rule.Rule]bool, corr map[string]bool) flowScore {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := decode.New(format)
	if err != nil {
		t.Fatal(err)
	}
	byTitle := titled(t, eng)
	var s flowScore
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var rec struct {
			RuleID   string          `json:"rule_id"`
			Test     string          `json:"test_name"`
			Expected bool            `json:"expected_alert"`
			Mocks    bool            `json:"has_mocks"`
			Event    json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		if rec.Mocks {
			continue
		}
		titles, ok := flowLabelMap[rec.RuleID]
		if !ok {
			t.Fatalf("%s:%d: labelled rule %s has no vigil rules mapped", path, line, rec.RuleID)
		}
		want := map[*rule.Rule]bool{}
		for _, title := range titles {
			if r := byTitle[title]; r != nil {
				want[r] = true
			} else if !corr[title] {
				t.Fatalf("flowLabelMap names %q, which is not in the pack", title)
			}
		}
		var e event.Event
		e.Fields.Bind(eng.Dict())
		e.Format, e.Raw = format, rec.Event
		var mapped, anyAlert bool
		if err := dec.Decode(rec.Event, &e); err != nil {
			s.mapped.undecoded++
			s.any.undecoded++
		} else {
			matched := eng.Match(&e, nil)
			mapped = slices.ContainsFunc(matched, func(r *rule.Rule) bool { return want[r] })
			anyAlert = slices.ContainsFunc(matched, func(r *rule.Rule) bool { return alerting[r] })
		}
		s.add(rec.Expected, mapped, anyAlert, rec.RuleID+" / "+rec.Test)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// nsgExposureRule is the NSG rule the Microsoft samples' README names as
// letting RDP in from the internet: the tuples it allowed are the labelled
// exposure; every other tuple (denied inbound, outbound web traffic,
// platform flows) is labelled benign.
const nsgExposureRule = "UserRule_default-allow-rdp"

// scoreNSGFile scores one Azure flow log blob (PT1H.json: {"records":[…]})
// tuple by tuple against the management-port rule.
func scoreNSGFile(t *testing.T, path string, eng *detect.Engine, alerting map[*rule.Rule]bool) flowScore {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blob struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(data, &blob); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	d, err := decode.New("nsgflow")
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := d.(decode.Expander)
	if !ok {
		t.Fatal("the nsgflow decoder is not an Expander")
	}
	want := titled(t, eng)["Management Port Reached from the Internet"]
	if want == nil {
		t.Fatal("no rule titled Management Port Reached from the Internet")
	}
	var s flowScore
	for i, rec := range blob.Records {
		// The NSG rule of each tuple, in the order the decoder emits them.
		rules := tupleRules(t, rec)
		var e event.Event
		e.Fields.Bind(eng.Dict())
		e.Format, e.Raw = "nsgflow", rec
		n := 0
		err := exp.Expand(rec, &e, func(ev *event.Event) {
			if n >= len(rules) {
				t.Fatalf("%s record %d: more events than tuples", path, i)
			}
			ruleName := rules[n]
			n++
			matched := eng.Match(ev, nil)
			s.add(ruleName == nsgExposureRule, slices.Contains(matched, want),
				slices.ContainsFunc(matched, func(r *rule.Rule) bool { return alerting[r] }),
				ruleName+" "+ev.Common[event.SourceIP]+"→"+ev.Common[event.DestinationIP]+":"+ev.Common[event.DestinationPort])
		})
		if err != nil {
			t.Errorf("%s record %d: %v", path, i, err)
			s.mapped.undecoded++
		}
		if n != len(rules) {
			t.Errorf("%s record %d: %d events for %d tuples", path, i, n, len(rules))
		}
	}
	return s
}

// tupleRules lists the NSG rule of each flow tuple of one record, NSG
// (properties.flows[].flows[].flowTuples) or VNet
// (flowRecords.flows[].flowGroups[].flowTuples) layout.
func tupleRules(t *testing.T, rec json.RawMessage) []string {
	t.Helper()
	type group struct {
		Rule   string   `json:"rule"`
		Tuples []string `json:"flowTuples"`
		Flows  []struct {
			Tuples []string `json:"flowTuples"`
		} `json:"flows"`
	}
	var r struct {
		Properties struct {
			Flows []group `json:"flows"`
		} `json:"properties"`
		FlowRecords struct {
			Flows []struct {
				Groups []group `json:"flowGroups"`
			} `json:"flows"`
		} `json:"flowRecords"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range r.Properties.Flows {
		for _, f := range g.Flows {
			for range f.Tuples {
				out = append(out, g.Rule)
			}
		}
	}
	for _, f := range r.FlowRecords.Flows {
		for _, g := range f.Groups {
			for range g.Tuples {
				out = append(out, g.Rule)
			}
		}
	}
	return out
}

// The labelled network flow and WAF samples of ../shared/data, scanned
// with the built-in pack. The Panther labels come from another product's
// rules, written for single events; vigil's pack was written from the
// threats, and its scan detections are correlations that one labelled
// record cannot trigger. The floors are what the pack reaches today, so
// that a change that loses detections (or adds false alarms) fails here.
// Figures: docs/detections.md, "Network flows" and "WAF".
func TestFlowLabelledSamples(t *testing.T) {
	eng, alerting := builtinAlerting(t, nil)
	corr := map[string]bool{}
	for _, title := range []string{"Vertical Port Scan", "Horizontal Port Scan of Internal Hosts", "Outbound Scan of Internet Hosts from an Internal Host"} {
		corr[title] = true
	}
	checkCorrelationTitles(t, corr)
	for _, c := range []struct {
		file, format string
		// minHit and maxFalse count events (tuples for NSG) of the mapped
		// rules: what the pack gives today.
		minHit, maxFalse int
	}{
		{"network_flow/aws_vpc/panther_rule_tests.jsonl", "vpcflow", 6, 0},
		{"web/aws_waf/panther_rule_tests.jsonl", "awswaf", 18, 0},
		{"network_flow/azure_nsg/nsg_flowlog_v1_msdocs.json", "nsgflow", 7, 0},
		{"network_flow/azure_nsg/nsg_flowlog_v2_msdocs.json", "nsgflow", 0, 0},
		{"network_flow/azure_nsg/vnet_flowlog_v4_otel.json", "nsgflow", 0, 0},
	} {
		t.Run(filepath.Base(filepath.Dir(c.file))+"/"+filepath.Base(c.file), func(t *testing.T) {
			p := filepath.Join("..", "..", "..", "shared", "data", c.file)
			if _, err := os.Stat(p); err != nil {
				t.Skipf("shared data %s not present (%v): skipping", c.file, err)
			}
			var s flowScore
			if strings.HasSuffix(c.file, ".jsonl") {
				s = scorePantherFlows(t, p, c.format, eng, alerting, corr)
			} else {
				s = scoreNSGFile(t, p, eng, alerting)
			}
			t.Logf("%s: mapped rules: recall %s, false alarms %s (%d not decoded); any alert: recall %d/%d, alerts on negatives %d/%d",
				c.file, ratio(s.mapped.hit, s.mapped.pos), ratio(s.mapped.falseAlarm, s.mapped.neg),
				s.mapped.undecoded, s.any.hit, s.any.pos, s.any.falseAlarm, s.any.neg)
			for _, m := range s.missed {
				t.Logf("  missed: %s", m)
			}
			for _, m := range s.falseAlarms {
				t.Logf("  false alarm: %s", m)
			}
			if s.mapped.hit < c.minHit {
				t.Errorf("%d labelled attacks alerted, fewer than the %d the pack reached", s.mapped.hit, c.minHit)
			}
			if s.mapped.falseAlarm > c.maxFalse {
				t.Errorf("%d false alarms, more than the %d the pack gave", s.mapped.falseAlarm, c.maxFalse)
			}
		})
	}
}

// checkCorrelationTitles fails when a correlation title of flowLabelMap is
// not a correlation of the built-in pack.
func checkCorrelationTitles(t *testing.T, titles map[string]bool) {
	t.Helper()
	found := map[string]bool{}
	names, err := fs.Glob(content.Rules, "rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	o := &rule.Options{OptionalPlaceholders: true} // as serve loads the pack
	for _, n := range names {
		data, err := content.Rules.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		set, errs := o.ParseSet(n, data)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", n, errs)
		}
		for _, c := range set.Correlations {
			found[c.Title] = true
		}
	}
	for title := range titles {
		if !found[title] {
			t.Errorf("flowLabelMap names correlation %q, which is not in the pack", title)
		}
	}
}

// ratio writes n/d with its percentage, or says there is nothing to divide.
func ratio(n, d int) string {
	if d == 0 {
		return "n/a (0 labelled)"
	}
	return fmt.Sprintf("%d/%d = %.1f%%", n, d, 100*float64(n)/float64(d))
}
