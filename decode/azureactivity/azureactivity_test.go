package azureactivity

import (
	"net/netip"
	"strconv"
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
			File: "role_assignment_write.json", Time: "2024-05-06T08:15:02.1234567Z",
			Common: map[string]string{
				"event.action": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "event.outcome": "success",
				"user.name": "mallory@contoso.example", "source.ip": "198.51.100.23", "cloud.provider": "azure",
				"cloud.account.id": "6c2b9f3e-1a4d-4c8e-9f00-1234567890ab", "cloud.region": "",
			},
			Fields: map[string][]string{
				"operationName": {"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"}, "identity.claims.name": {"Mallory Ops"},
				"identity.authorization.evidence.role": {"Owner"}, "properties.statusCode": {"Created"}, "durationMs": {"812"},
				upnClaim: {"mallory@contoso.example"},
			},
		},
		{
			// Lowercased keys get the schema's spelling back; the upper-case
			// resource id still yields the subscription.
			File: "nsg_rule_delete_failed.json", Time: "2024-05-06T09:00:00Z",
			Common: map[string]string{
				"event.action": "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/DELETE", "event.outcome": "failure",
				"user.name": "build-sp@contoso.example", "source.ip": "2001:db8::42", "cloud.account.id": "6C2B9F3E-1A4D-4C8E-9F00-1234567890AB",
				"cloud.region": "westeurope",
			},
			Fields: map[string][]string{"resultSignature": {"403"}, "callerIpAddress": {"2001:db8::42"}, "properties.message": {"The client does not have authorization"}},
			Absent: []string{"resultsignature", "calleripaddress"},
		},
		{
			File: "rest_api_shape.json", Time: "2024-05-06T10:20:30.5Z",
			Common: map[string]string{
				"event.action": "Microsoft.Storage/storageAccounts/listKeys/action", "event.outcome": "unknown",
				"user.name": "alice@contoso.example", "source.ip": "203.0.113.7", "cloud.account.id": "11111111-2222-3333-4444-555555555555",
			},
			Fields: map[string][]string{"operationName.value": {"Microsoft.Storage/storageAccounts/listKeys/action"}, "status.value": {"Started"}},
		},
		{
			// callerIpAddress names a service, not an address.
			File: "policy_audit.json", Time: "2024-05-06T11:00:00Z",
			Common: map[string]string{"event.action": "MICROSOFT.AUTHORIZATION/POLICIES/AUDIT/ACTION", "event.outcome": "success", "source.ip": "", "user.name": "", "cloud.region": "eastus"},
			Fields: map[string][]string{"properties.policies.policyEffect": {"audit", "audit"}, "category": {"Policy"}},
		},
	}
	dectest.CheckFixtures(t, New, event.Logsource{Product: "azure", Service: "activitylogs"}, tests)
}

func TestOutcome(t *testing.T) {
	for _, tt := range []struct{ rt, sig, want string }{
		{"Success", "", "success"}, {"Succeeded", "200", "success"}, {"Failed", "", "failure"}, {"Failure", "200", "failure"},
		{"Start", "", "unknown"}, {"Accept", "", "unknown"}, {"", "403", "failure"}, {"", "201", "success"},
		{"", "Succeeded.OK", "success"}, {"", "Failed.Conflict", "failure"}, {"", "Weird", "unknown"}, {"", "", ""},
	} {
		if got := Outcome(tt.rt, tt.sig); got != tt.want {
			t.Errorf("Outcome(%q, %q) = %q, want %q", tt.rt, tt.sig, got, tt.want)
		}
	}
}

func TestSplitAddr(t *testing.T) {
	for in, want := range map[string][2]string{
		"203.0.113.7": {"203.0.113.7", ""}, "203.0.113.7:4431": {"203.0.113.7", "4431"}, "2001:db8::1": {"2001:db8::1", ""},
		"[2001:db8::1]:443": {"2001:db8::1", "443"}, "Microsoft.Authorization": {"", ""}, "1.2.3.4:99999": {"", ""},
		"1.2.3.4:": {"", ""}, "": {"", ""}, "[::1]": {"", ""}, "1.2.3:80": {"", ""},
	} {
		if ip, port := SplitAddr(in); ip != want[0] || port != want[1] {
			t.Errorf("SplitAddr(%q) = %q, %q; want %q", in, ip, port, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"operationName":"X",`, Reason: "invalid JSON", Offset: 20},
		{Rec: `[{"operationName":"X"}]`, Reason: "want an object"},
		{Rec: `{"operationName":"X","resourceId":"/subscriptions/s","time":"yesterday"}`, Field: "time", Reason: "unreadable time", Offset: -1},
		{Rec: `{"operationName":"X","resourceId":"/subscriptions/s","eventTimestamp":"2024-13-01T00:00:00Z"}`, Field: "eventTimestamp", Reason: "unreadable time", Offset: -1},
		{Rec: `{"operationName":"X","resourceId":"/subscriptions/s"}`, Reason: "missing required key time (or eventTimestamp)", Offset: -1},
		{Rec: `{"time":"2024-05-06T08:00:00Z"}`, Reason: "missing required keys operationName (or operationName.value), resourceId", Offset: -1},
		{Rec: `{"records":{"time":"2024-05-06T08:00:00Z","operationName":"X","resourceId":"/subscriptions/s"}}`, Reason: `(found under "records"`, Offset: -1},
	})
}

// TestPanther decodes every Activity event of Panther's rule tests (none is
// malformed) and checks the mapping against the record itself.
func TestPanther(t *testing.T) {
	recs := dectest.Panther(t, "cloud/azure_activity/panther_rule_tests.jsonl", "")
	if len(recs) != 132 {
		t.Errorf("%d records, want 132", len(recs))
	}
	d := New()
	dict := event.NewOpenDict()
	var p fastjson.Parser
	for i, rec := range recs {
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			t.Errorf("record %d: %v", i+1, err)
			continue
		}
		v, _ := p.ParseBytes(rec)
		if op := string(v.GetStringBytes("operationName")); ev.Common[event.EventAction] != op {
			t.Errorf("record %d: event.action %q, want %q", i+1, ev.Common[event.EventAction], op)
		}
		// Storage records write the caller as address:port.
		ip, port := string(v.GetStringBytes("callerIpAddress")), ""
		if ap, err := netip.ParseAddrPort(ip); err == nil {
			ip, port = ap.Addr().String(), strconv.Itoa(int(ap.Port()))
		}
		if ev.Common[event.SourceIP] != ip || ev.Common[event.SourcePort] != port {
			t.Errorf("record %d: source %q %q, want %q %q", i+1, ev.Common[event.SourceIP], ev.Common[event.SourcePort], ip, port)
		}
		if ev.Time.IsZero() || ev.Common[event.CloudAccountID] == "" {
			t.Errorf("record %d: time %v, account %q", i+1, ev.Time, ev.Common[event.CloudAccountID])
		}
		rt := string(v.GetStringBytes("resultType"))
		want := map[string]string{"Success": "success", "Succeeded": "success", "Failed": "failure"}[rt]
		if rt != "" && ev.Common[event.EventOutcome] != want {
			t.Errorf("record %d: resultType %q gave outcome %q", i+1, rt, ev.Common[event.EventOutcome])
		}
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("record %d: sniffed as %q", i+1, f)
		}
	}
}

func TestSniff(t *testing.T) {
	dectest.Sniffed(t, Format, dectest.Fixtures(t, "*.json"))
	for _, rec := range []string{`{"eventName":"X","eventSource":"s3.amazonaws.com"}`, `plain text`, `{"operationName":"x","resourceId":"y","category":"SignInLogs"}`} {
		if s := Sniff([]byte(rec)); s >= 50 {
			t.Errorf("%s: score %d", rec, s)
		}
	}
}

var benchDict = event.NewDict("operationName", "category", "resultType", "properties.statusCode", "identity.claims.appid", "level")

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
	f.Add([]byte(`{"RESOURCEID":"/subscriptions/","operationName":{"value":1},"time":1714982400,"resultType":null}`))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "azure" || ev.Common[event.CloudProvider] != "azure" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }
