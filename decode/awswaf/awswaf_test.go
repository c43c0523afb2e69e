package awswaf

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestDecodeFixtures(t *testing.T) {
	tests := []dectest.Case{
		{
			File: "block_sqli.json", Time: "2024-05-06T08:00:00.123Z",
			Common: map[string]string{
				"event.action": "block", "event.outcome": "failure", "event.category": "web", "source.ip": "198.51.100.31",
				"url.original": "/products?id=1%20OR%201=1", "url.path": "/products", "url.domain": "shop.example.com",
				"http.request.method": "GET", "http.response.status_code": "403", "user_agent.original": "sqlmap/1.8.4#stable (https://sqlmap.org)",
				"cloud.provider": "aws", "cloud.region": "eu-west-1", "cloud.account.id": "111122223333",
			},
			Fields: map[string][]string{
				"terminatingRuleId": {"AWS-AWSManagedRulesSQLiRuleSet"}, "ruleGroupList.terminatingRule.ruleId": {"SQLi_QUERYARGUMENTS"},
				"httpRequest.header.user-agent": {"sqlmap/1.8.4#stable (https://sqlmap.org)"}, "httpRequest.header.host": {"shop.example.com"},
				"httpRequest.headers.name": {"Host", "User-Agent", "Accept"}, "terminatingRuleMatchDetails.matchedData": {"1", "OR", "1=1"},
				"labels.name": {"awswaf:managed:aws:sql-database:SQLi_QueryArguments"}, "timestamp": {"1714982400123"},
			},
			Absent: []string{"ruleGroupList.excludedRules", "requestHeadersInserted"},
		},
		{
			File: "allow_count.json", Time: "2024-05-06T08:01:00Z",
			Common: map[string]string{
				"event.action": "allow", "event.outcome": "success", "source.ip": "2001:db8:ff::20", "url.original": "/upload",
				"url.domain": "cdn.example.com", "http.response.status_code": "", "cloud.region": "us-east-1",
			},
			Fields: map[string][]string{
				"httpRequest.header.x-forwarded-for": {"203.0.113.5", "10.0.0.1"}, "ruleGroupList.nonTerminatingMatchingRules.action": {"COUNT"},
			},
			Absent: []string{"httpRequest.header.X-Forwarded-For"},
		},
		{
			File: "captcha_iso_time.json", Time: "2024-05-06T08:05:00Z",
			Common: map[string]string{"event.action": "captcha", "event.outcome": "unknown", "source.ip": "192.0.2.200", "url.domain": "", "cloud.account.id": "444455556666"},
			Fields: map[string][]string{"captchaResponse.failureReason": {"TOKEN_MISSING"}},
		},
	}
	dectest.CheckFixtures(t, New, event.Logsource{Product: "aws", Service: "waf"}, tests)
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"action":"BLOCK"`, Reason: "invalid JSON", Offset: 16},
		{Rec: `[]`, Reason: "want an object"},
		{Rec: `{"action":"BLOCK","webaclId":"w","timestamp":"12"}`, Field: "timestamp", Reason: "unreadable time", Offset: -1},
		{Rec: `{"action":"BLOCK","webaclId":"w","timestamp":true}`, Field: "timestamp", Reason: "unreadable time", Offset: -1},
		{Rec: `{"action":"BLOCK","webaclId":"w"}`, Reason: "missing required key timestamp", Offset: -1},
		{Rec: `{"timestamp":1714982400000,"httpRequest":{"clientIp":"192.0.2.1"}}`, Reason: "missing required keys webaclId, action", Offset: -1},
		{Rec: `{"log_type":"AWS.WAFWebACL","event":{"timestamp":1714982400000,"webaclId":"w","action":"ALLOW"}}`, Reason: `(found under "event"`, Offset: -1},
	})
}

// TestPanther decodes every WAF event of Panther's rule tests (none is
// malformed) and checks the mapping against the record.
func TestPanther(t *testing.T) {
	recs := dectest.Panther(t, "web/aws_waf/panther_rule_tests.jsonl", "")
	var p fastjson.Parser
	d := New()
	dict := event.NewOpenDict()
	for i, rec := range recs {
		n := i + 1
		e, err := p.ParseBytes(rec)
		if err != nil {
			t.Fatal(err)
		}
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			t.Errorf("record %d: %v", n, err)
			continue
		}
		if ip := string(e.GetStringBytes("httpRequest", "clientIp")); ev.Common[event.SourceIP] != ip {
			t.Errorf("record %d: source.ip %q, want %q", n, ev.Common[event.SourceIP], ip)
		}
		if a := strings.ToLower(string(e.GetStringBytes("action"))); ev.Common[event.EventAction] != a {
			t.Errorf("record %d: event.action %q, want %q", n, ev.Common[event.EventAction], a)
		}
		if uri := string(e.GetStringBytes("httpRequest", "uri")); ev.Common[event.URLOriginal] != uri {
			t.Errorf("record %d: url.original %q, want %q", n, ev.Common[event.URLOriginal], uri)
		}
		if ev.Time.IsZero() || ev.Common[event.CloudAccountID] != "123456789012" {
			t.Errorf("record %d: time %v account %q", n, ev.Time, ev.Common[event.CloudAccountID])
		}
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("record %d: sniffed as %q", n, f)
		}
	}
	if len(recs) != 27 {
		t.Errorf("%d records, want 27", len(recs))
	}
}

func TestSniff(t *testing.T) {
	dectest.Sniffed(t, Format, dectest.Fixtures(t, "*.json"))
	if s := Sniff([]byte(`{"action":"ALLOW","uri":"/"}`)); s != 0 {
		t.Errorf("score %d", s)
	}
}

var benchDict = event.NewDict("terminatingRuleId", "action", "httpRequest.uri", "httpRequest.args", "httpRequest.header.user-agent", "ruleGroupList.terminatingRule.ruleId")

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, dectest.Fixtures(t, "*.json"))
}

func BenchmarkDecode(b *testing.B) {
	recs := dectest.Fixtures(b, "*.json")
	dectest.BenchDecode(b, New(), benchDict, recs)
}

func FuzzDecode(f *testing.F) {
	for _, rec := range dectest.Fixtures(f, "*.json") {
		f.Add(rec)
	}
	f.Add([]byte(`{"webaclId":"arn:a:b:c","httpRequest":{"headers":[{"value":"x"},{"name":"HOST"},{"name":1,"value":null}]}}`))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "aws" || ev.Common[event.CloudProvider] != "aws" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }
