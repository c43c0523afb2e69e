package azureactivity

import (
	"bufio"
	"errors"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

func decodeFile(t testing.TB, name string, dict *event.Dict) *event.Event {
	t.Helper()
	rec, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	ev.Fields.Bind(dict)
	if err := New().Decode(rec, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &ev
}

func values(ev *event.Event, name string) []string {
	id, ok := ev.Fields.Dict().ID(name)
	if !ok {
		return nil
	}
	var vs []string
	ev.Fields.Each(id, func(v string) bool { vs = append(vs, v); return true })
	return vs
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file   string
		time   string
		common map[string]string
		fields map[string][]string
		absent []string
	}{
		{
			file: "role_assignment_write.json", time: "2024-05-06T08:15:02.1234567Z",
			common: map[string]string{
				"event.action": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "event.outcome": "success",
				"user.name": "mallory@contoso.example", "source.ip": "198.51.100.23", "cloud.provider": "azure",
				"cloud.account.id": "6c2b9f3e-1a4d-4c8e-9f00-1234567890ab", "cloud.region": "",
			},
			fields: map[string][]string{
				"operationName": {"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"}, "identity.claims.name": {"Mallory Ops"},
				"identity.authorization.evidence.role": {"Owner"}, "properties.statusCode": {"Created"}, "durationMs": {"812"},
				upnClaim: {"mallory@contoso.example"},
			},
		},
		{
			// Lowercased keys get the schema's spelling back; the upper-case
			// resource id still yields the subscription.
			file: "nsg_rule_delete_failed.json", time: "2024-05-06T09:00:00Z",
			common: map[string]string{
				"event.action": "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/DELETE", "event.outcome": "failure",
				"user.name": "build-sp@contoso.example", "source.ip": "2001:db8::42", "cloud.account.id": "6C2B9F3E-1A4D-4C8E-9F00-1234567890AB",
				"cloud.region": "westeurope",
			},
			fields: map[string][]string{"resultSignature": {"403"}, "callerIpAddress": {"2001:db8::42"}, "properties.message": {"The client does not have authorization"}},
			absent: []string{"resultsignature", "calleripaddress"},
		},
		{
			file: "rest_api_shape.json", time: "2024-05-06T10:20:30.5Z",
			common: map[string]string{
				"event.action": "Microsoft.Storage/storageAccounts/listKeys/action", "event.outcome": "unknown",
				"user.name": "alice@contoso.example", "source.ip": "203.0.113.7", "cloud.account.id": "11111111-2222-3333-4444-555555555555",
			},
			fields: map[string][]string{"operationName.value": {"Microsoft.Storage/storageAccounts/listKeys/action"}, "status.value": {"Started"}},
		},
		{
			// callerIpAddress names a service, not an address.
			file: "policy_audit.json", time: "2024-05-06T11:00:00Z",
			common: map[string]string{"event.action": "MICROSOFT.AUTHORIZATION/POLICIES/AUDIT/ACTION", "event.outcome": "success", "source.ip": "", "user.name": "", "cloud.region": "eastus"},
			fields: map[string][]string{"properties.policies.policyEffect": {"audit", "audit"}, "category": {"Policy"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decodeFile(t, tt.file, event.NewOpenDict())
			if want := (event.Logsource{Product: "azure", Service: "activitylogs"}); ev.Logsource != want {
				t.Errorf("logsource %+v", ev.Logsource)
			}
			want, _ := time.Parse(time.RFC3339Nano, tt.time)
			if !ev.Time.Equal(want) {
				t.Errorf("time %v, want %v", ev.Time, want)
			}
			for name, w := range tt.common {
				id, _ := event.CommonID(name)
				if got := ev.Common[id]; got != w {
					t.Errorf("%s = %q, want %q", name, got, w)
				}
			}
			for name, w := range tt.fields {
				if got := values(ev, name); strings.Join(got, "\x00") != strings.Join(w, "\x00") {
					t.Errorf("field %s = %q, want %q", name, got, w)
				}
			}
			for _, name := range tt.absent {
				if got := values(ev, name); got != nil {
					t.Errorf("field %s = %q, want absent", name, got)
				}
			}
		})
	}
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
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{`{"operationName":"X",`, "", "invalid JSON", 20},
		{`[{"operationName":"X"}]`, "", "want an object", 0},
		{`{"operationName":"X","time":"yesterday"}`, "time", "unreadable time", -1},
		{`{"operationName":"X","eventTimestamp":"2024-13-01T00:00:00Z"}`, "eventTimestamp", "unreadable time", -1},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		err := New().Decode([]byte(tt.rec), &ev)
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v", tt.rec, err)
			continue
		}
		if de.Field != tt.field || de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%s: got %v (offset %d field %q)", tt.rec, de, de.Offset, de.Field)
		}
	}
}

// pantherEvents returns the `event` objects of a Panther rule-test file
// under ../shared/data, or skips when the data is absent.
func pantherEvents(t *testing.T, rel string) [][]byte {
	t.Helper()
	path := filepath.Join(append([]string{"..", "..", "..", "shared", "data"}, strings.Split(rel, "/")...)...)
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared data not available (%v)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var p fastjson.Parser
	var out [][]byte
	for sc.Scan() {
		v, err := p.ParseBytes(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v.Get("event").MarshalTo(nil))
	}
	return out
}

// TestPanther decodes every Activity event of Panther's rule tests (none is
// malformed) and checks the mapping against the record itself.
func TestPanther(t *testing.T) {
	recs := pantherEvents(t, "cloud/azure_activity/panther_rule_tests.jsonl")
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
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		rec, _ := os.ReadFile(file)
		if f, score := decode.Sniff(rec); f != Format {
			t.Errorf("%s: sniffed as %q (%d)", file, f, score)
		}
	}
	for _, rec := range []string{`{"eventName":"X","eventSource":"s3.amazonaws.com"}`, `plain text`, `{"operationName":"x","resourceId":"y","category":"SignInLogs"}`} {
		if s := Sniff([]byte(rec)); s >= 50 {
			t.Errorf("%s: score %d", rec, s)
		}
	}
}

var benchDict = event.NewDict("operationName", "category", "resultType", "properties.statusCode", "identity.claims.appid", "level")

func TestZeroAllocs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		rec, _ := os.ReadFile(file)
		d := New()
		var ev event.Event
		ev.Fields.Bind(benchDict)
		if a := testing.AllocsPerRun(100, func() {
			ev.Reset()
			if err := d.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %.1f allocs per record, want 0", file, a)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	recs := dectest.Fixtures(b, "*.json")
	dectest.BenchDecode(b, New(), benchDict, recs)
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"RESOURCEID":"/subscriptions/","operationName":{"value":1},"time":1714982400,"resultType":null}`))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		Sniff(rec)
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			if de.Offset > len(rec) {
				t.Fatalf("offset %d beyond %d bytes", de.Offset, len(rec))
			}
			return
		}
		if ev.Logsource.Product != "azure" || ev.Common[event.CloudProvider] != "azure" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}

func TestRegistered(t *testing.T) {
	d, err := decode.New(Format)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(*Decoder); !ok {
		t.Errorf("decode.New(%q) gave a %T", Format, d)
	}
}
