package signin

import (
	"bufio"
	"errors"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"os"
	"path/filepath"
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
		file    string
		time    string
		service string
		common  map[string]string
		fields  map[string][]string
		absent  []string
	}{
		{
			file: "graph_signin_failure.json", time: "2024-05-06T08:30:12.345Z", service: "signinlogs",
			common: map[string]string{
				"event.action": "Sign-in activity", "event.outcome": "failure", "event.category": "authentication", "event.code": "50126",
				"user.name": "bob@contoso.example", "source.ip": "203.0.113.45", "user_agent.original": "python-requests/2.31.0",
				"cloud.provider": "azure",
			},
			fields: map[string][]string{
				"status.errorCode": {"50126"}, "ResultType": {"50126"}, "ResultDescription": {"Error validating credentials due to invalid username or password."},
				"riskEventTypes_v2": {"unfamiliarFeatures", "passwordSpray"}, "location.countryOrRegion": {"NL"}, "isInteractive": {"false"},
				"location.geoCoordinates.latitude": {"52.37"},
			},
			absent: []string{"location.geoCoordinates.altitude"},
		},
		{
			// The diagnostic shape: properties' fields also under their
			// Graph names; the sign-in's own time wins over the record's.
			file: "diag_signin_success.json", time: "2024-05-06T09:00:01.5Z", service: "signinlogs",
			common: map[string]string{
				"event.action": "Sign-in activity", "event.outcome": "success", "event.code": "0", "user.name": "alice@contoso.example",
				"source.ip": "2001:db8:7::15", "cloud.account.id": "3f8e2c1a-7b6d-4e5f-9a0b-1c2d3e4f5a6b",
			},
			fields: map[string][]string{
				"properties.userPrincipalName": {"alice@contoso.example"}, "userPrincipalName": {"alice@contoso.example"},
				"authenticationRequirement": {"multiFactorAuthentication"}, "properties.status.errorCode": {"0"}, "resultType": {"0"},
				"location": {"DE"}, "location.city": {"Berlin"}, "Level": {"4"},
				// tenantId is both a record and a properties key.
				"tenantId": {"3f8e2c1a-7b6d-4e5f-9a0b-1c2d3e4f5a6b", "3f8e2c1a-7b6d-4e5f-9a0b-1c2d3e4f5a6b"},
			},
			absent: []string{"ResultDescription"},
		},
		{
			file: "diag_serviceprincipal_lowercase.json", time: "2024-05-06T10:11:12.25Z", service: "signinlogs",
			common: map[string]string{
				"event.outcome": "failure", "event.code": "7000215", "user.name": "backup-automation", "source.ip": "192.0.2.88",
				"cloud.account.id": "a2aa49aa-2c0c-49d2-af87-f402c421df0b",
			},
			fields: map[string][]string{"callerIpAddress": {"192.0.2.88"}, "resultType": {"7000215"}, "category": {"ServicePrincipalSignInLogs"}, "ResultDescription": {"Invalid client secret provided."}},
			absent: []string{"calleripaddress", "resulttype"},
		},
		{
			file: "graph_directory_audit.json", time: "2024-05-06T11:45:00.987Z", service: "auditlogs",
			common: map[string]string{
				"event.action": "Add member to role", "event.outcome": "success", "event.category": "iam", "event.code": "",
				"user.name": "eve@contoso.example", "source.ip": "198.51.100.99",
			},
			fields: map[string][]string{
				"targetResources.displayName": {"Global Administrator"}, "targetResources.userPrincipalName": {"mallory@contoso.example"},
				"targetResources.modifiedProperties.newValue": {`"Global Administrator"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decodeFile(t, tt.file, event.NewOpenDict())
			if want := (event.Logsource{Product: "azure", Service: tt.service}); ev.Logsource != want {
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

func TestBadInput(t *testing.T) {
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{`{"userPrincipalName":"a" "b"}`, "", "invalid JSON", 25},
		{`null`, "", "want an object", 0},
		{`{"createdDateTime":"2024-02-30T00:00:00Z"}`, "createdDateTime", "unreadable time", -1},
		{`{"category":"SignInLogs","time":"now","properties":{}}`, "time", "unreadable time", -1},
		{`{"activityDateTime":"x"}`, "activityDateTime", "unreadable time", -1},
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

// pantherEvents returns the event objects of a Panther rule-test file under
// ../shared/data whose log_type is logType, or skips when it is absent.
func pantherEvents(t *testing.T, rel, logType string) [][]byte {
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
		if string(v.GetStringBytes("log_type")) == logType {
			out = append(out, v.Get("event").MarshalTo(nil))
		}
	}
	return out
}

// TestPanther decodes every Azure.Audit event of Panther's rule tests —
// sign-ins and Entra audit records, none malformed — and of the
// multi-source set, and checks the mapping against the record.
func TestPanther(t *testing.T) {
	recs := pantherEvents(t, "cloud/azure_signin/panther_rule_tests.jsonl", "Azure.Audit")
	if len(recs) != 42 {
		t.Errorf("%d records, want 42", len(recs))
	}
	multi := pantherEvents(t, "cloud/multi_source_standard/panther_rule_tests.jsonl", "Azure.Audit")
	if len(multi) != 1 {
		t.Errorf("%d multi-source records, want 1", len(multi))
	}
	d := New()
	dict := event.NewOpenDict()
	var p fastjson.Parser
	services := map[string]int{}
	for i, rec := range append(recs, multi...) {
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			t.Errorf("record %d: %v", i+1, err)
			continue
		}
		services[ev.Logsource.Service]++
		v, _ := p.ParseBytes(rec)
		cat := string(v.GetStringBytes("category"))
		if signIn := strings.HasSuffix(cat, "SignInLogs"); signIn != (ev.Logsource.Service == "signinlogs") {
			t.Errorf("record %d: category %q gave service %q", i+1, cat, ev.Logsource.Service)
		}
		if ev.Time.IsZero() || ev.Common[event.UserName] == "" || ev.Common[event.EventAction] == "" {
			t.Errorf("record %d: time %v user %q action %q", i+1, ev.Time, ev.Common[event.UserName], ev.Common[event.EventAction])
		}
		if code := v.Get("properties", "status", "errorCode"); code != nil {
			want := "failure"
			if code.String() == "0" {
				want = "success"
			}
			if ev.Common[event.EventOutcome] != want || ev.Common[event.EventCode] != code.String() {
				t.Errorf("record %d: errorCode %s gave outcome %q code %q", i+1, code, ev.Common[event.EventOutcome], ev.Common[event.EventCode])
			}
		}
		if ip := v.GetStringBytes("properties", "ipAddress"); len(ip) > 0 && ev.Common[event.SourceIP] != string(ip) {
			t.Errorf("record %d: source.ip %q, want %q", i+1, ev.Common[event.SourceIP], ip)
		}
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("record %d: sniffed as %q", i+1, f)
		}
	}
	if services["signinlogs"] != 22 || services["auditlogs"] != 21 {
		t.Errorf("services %v, want 22 sign-in and 21 audit records", services)
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
	for _, rec := range []string{`{"operationName":"X","resourceId":"/subscriptions/1","callerIpAddress":"1.2.3.4"}`, `text`, `{"userPrincipalName":"a"}`} {
		if s := Sniff([]byte(rec)); s != 0 {
			t.Errorf("%s: score %d", rec, s)
		}
	}
}

var benchDict = event.NewDict("userPrincipalName", "appDisplayName", "status.errorCode", "ResultType", "riskLevelDuringSignIn", "clientAppUsed", "properties.authenticationRequirement", "activityDisplayName")

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
	f.Add([]byte(`{"PROPERTIES":{"status":{"errorCode":"x"}},"category":"signinlogs","createdDateTime":1714982400}`))
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
		if ev.Logsource.Product != "azure" || (ev.Logsource.Service != "signinlogs" && ev.Logsource.Service != "auditlogs") {
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
