package signin

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
	signIns := []dectest.Case{
		{
			File: "graph_signin_failure.json", Time: "2024-05-06T08:30:12.345Z",
			Common: map[string]string{
				"event.action": "Sign-in activity", "event.outcome": "failure", "event.category": "authentication", "event.code": "50126",
				"user.name": "bob@contoso.example", "source.ip": "203.0.113.45", "user_agent.original": "python-requests/2.31.0",
				"cloud.provider": "azure",
			},
			Fields: map[string][]string{
				"status.errorCode": {"50126"}, "ResultType": {"50126"}, "ResultDescription": {"Error validating credentials due to invalid username or password."},
				"riskEventTypes_v2": {"unfamiliarFeatures", "passwordSpray"}, "location.countryOrRegion": {"NL"}, "isInteractive": {"false"},
				"location.geoCoordinates.latitude": {"52.37"},
			},
			Absent: []string{"location.geoCoordinates.altitude", "user.target.domain"},
		},
		{
			// The diagnostic shape: properties' fields also under their
			// Graph names; the sign-in's own time wins over the record's.
			File: "diag_signin_success.json", Time: "2024-05-06T09:00:01.5Z",
			Common: map[string]string{
				"event.action": "Sign-in activity", "event.outcome": "success", "event.code": "0", "user.name": "alice@contoso.example",
				"source.ip": "2001:db8:7::15", "cloud.account.id": "3f8e2c1a-7b6d-4e5f-9a0b-1c2d3e4f5a6b",
			},
			Fields: map[string][]string{
				"properties.userPrincipalName": {"alice@contoso.example"}, "userPrincipalName": {"alice@contoso.example"},
				"authenticationRequirement": {"multiFactorAuthentication"}, "properties.status.errorCode": {"0"}, "resultType": {"0"},
				"location": {"DE"}, "location.city": {"Berlin"}, "Level": {"4"},
				// tenantId is both a record and a properties key.
				"tenantId": {"3f8e2c1a-7b6d-4e5f-9a0b-1c2d3e4f5a6b", "3f8e2c1a-7b6d-4e5f-9a0b-1c2d3e4f5a6b"},
			},
			Absent: []string{"ResultDescription"},
		},
		{
			File: "diag_serviceprincipal_lowercase.json", Time: "2024-05-06T10:11:12.25Z",
			Common: map[string]string{
				"event.outcome": "failure", "event.code": "7000215", "user.name": "backup-automation", "source.ip": "192.0.2.88",
				"cloud.account.id": "a2aa49aa-2c0c-49d2-af87-f402c421df0b",
			},
			Fields: map[string][]string{"callerIpAddress": {"192.0.2.88"}, "resultType": {"7000215"}, "category": {"ServicePrincipalSignInLogs"}, "ResultDescription": {"Invalid client secret provided."}},
			Absent: []string{"calleripaddress", "resulttype"},
		},
	}
	audits := []dectest.Case{
		{
			File: "graph_directory_audit.json", Time: "2024-05-06T11:45:00.987Z",
			Common: map[string]string{
				"event.action": "Add member to role", "event.outcome": "success", "event.category": "iam", "event.code": "",
				"user.name": "eve@contoso.example", "source.ip": "198.51.100.99",
			},
			Fields: map[string][]string{
				"targetResources.displayName": {"Global Administrator"}, "targetResources.userPrincipalName": {"mallory@contoso.example"},
				"targetResources.modifiedProperties.newValue": {`"Global Administrator"`},
				// the directory of the initiator and of the user acted on
				"user.target.name": {"mallory@contoso.example"}, "user.target.domain": {"contoso.example"},
			},
		},
		{
			// An invitation: the invited address (additionalDetails'
			// invitedUserEmailAddress) wins over the guest's #EXT# UPN; both
			// domains in lower case.
			File: "diag_invite_external_user.json", Time: "2024-05-07T08:15:30.1234567Z",
			Common: map[string]string{
				"event.action": "Invite external user", "event.outcome": "success", "user.name": "Alice@Contoso.example",
				"user.domain": "contoso.example", "source.ip": "198.51.100.23",
			},
			Fields: map[string][]string{
				"user.target.name": {"mallory@Fabrikam.example"}, "user.target.domain": {"fabrikam.example"},
				"additionalDetails.key": {"oid", "invitedUserEmailAddress", "InvitationId"},
			},
		},
	}
	dectest.CheckFixtures(t, New, event.Logsource{Product: "azure", Service: "signinlogs"}, signIns)
	dectest.CheckFixtures(t, New, event.Logsource{Product: "azure", Service: "auditlogs"}, audits)
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"userPrincipalName":"a" "b"}`, Reason: "invalid JSON", Offset: 25},
		{Rec: `null`, Reason: "want an object"},
		{Rec: `{"createdDateTime":"2024-02-30T00:00:00Z","userPrincipalName":"a@b"}`, Field: "createdDateTime", Reason: "unreadable time", Offset: -1},
		{Rec: `{"category":"SignInLogs","operationName":"Sign-in activity","time":"now","properties":{}}`, Field: "time", Reason: "unreadable time", Offset: -1},
		{Rec: `{"activityDateTime":"x","activityDisplayName":"Add user"}`, Field: "activityDateTime", Reason: "unreadable time", Offset: -1},
		// Required keys: of the shape the record comes closest to, or of
		// every shape.
		{Rec: `{"category":"SignInLogs","time":"2024-05-06T09:00:05Z","properties":{"operationName":"Sign-in activity"}}`,
			Reason: "missing required key operationName of a diagnostic-settings record", Offset: -1},
		{Rec: `{"createdDateTime":"2024-05-06T09:00:05Z"}`, Reason: "missing required key userPrincipalName of a Graph signIn record", Offset: -1},
		{Rec: `{"id":"x"}`, Reason: "missing required keys time, operationName, category, createdDateTime, userPrincipalName, activityDateTime, activityDisplayName (a diagnostic-settings", Offset: -1},
		{Rec: `{"log_type":"Azure.Audit","event":{"activityDateTime":"2024-05-06T11:45:00Z","activityDisplayName":"Add member to role"}}`,
			Reason: `(found under "event"`, Offset: -1},
	})
}

// TestPanther decodes every Azure.Audit event of Panther's rule tests —
// sign-ins and Entra audit records, none malformed — and of the
// multi-source set, and checks the mapping against the record.
func TestPanther(t *testing.T) {
	recs := dectest.Panther(t, "cloud/azure_signin/panther_rule_tests.jsonl", "Azure.Audit")
	if len(recs) != 42 {
		t.Errorf("%d records, want 42", len(recs))
	}
	multi := dectest.Panther(t, "cloud/multi_source_standard/panther_rule_tests.jsonl", "Azure.Audit")
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
	dectest.Sniffed(t, Format, dectest.Fixtures(t, "*.json"))
	for _, rec := range []string{`{"operationName":"X","resourceId":"/subscriptions/1","callerIpAddress":"1.2.3.4"}`, `text`, `{"userPrincipalName":"a"}`} {
		if s := Sniff([]byte(rec)); s != 0 {
			t.Errorf("%s: score %d", rec, s)
		}
	}
}

var benchDict = event.NewDict("userPrincipalName", "appDisplayName", "status.errorCode", "ResultType", "riskLevelDuringSignIn", "clientAppUsed", "properties.authenticationRequirement", "activityDisplayName")

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
	f.Add([]byte(`{"PROPERTIES":{"status":{"errorCode":"x"}},"category":"signinlogs","createdDateTime":1714982400}`))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "azure" || (ev.Logsource.Service != "signinlogs" && ev.Logsource.Service != "auditlogs") {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

// Entra's own location of a sign-in gives source.geo.country_iso_code (in
// both shapes); audit records have none.
func TestSignInCountry(t *testing.T) {
	for _, c := range []struct{ rec, want string }{
		{`{"createdDateTime":"2026-12-01T10:00:00Z","userPrincipalName":"bob@contoso.example","ipAddress":"203.0.113.9","status":{"errorCode":0},"location":{"city":"Lyon","countryOrRegion":"FR"}}`, "FR"},
		{`{"time":"2026-12-01T10:00:00Z","category":"SignInLogs","operationName":"Sign-in activity","properties":{"userPrincipalName":"bob@contoso.example","location":{"countryOrRegion":"JP"}}}`, "JP"},
		{`{"activityDateTime":"2026-12-01T10:00:00Z","activityDisplayName":"Add user","location":{"countryOrRegion":"FR"}}`, ""},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewDict())
		if err := New().Decode([]byte(c.rec), &ev); err != nil {
			t.Fatalf("%s: %v", c.rec, err)
		}
		if got := ev.Common[event.SourceGeoCountryISOCode]; got != c.want {
			t.Errorf("%s: country %q, want %q", c.rec, got, c.want)
		}
	}
}

// upnDomain reads the directory of a UPN or address, and a guest's home
// domain out of its #EXT# UPN.
func TestUPNDomain(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"bob@Contoso.example", "contoso.example"},
		{"bob_fabrikam.example#EXT#@contoso.onmicrosoft.com", "fabrikam.example"},
		{"first_last_fabrikam.example#ext#@contoso.onmicrosoft.com", "fabrikam.example"}, // _ in the local part
		{"odd#EXT#@contoso.onmicrosoft.com", "contoso.onmicrosoft.com"},                  // no _: the tenant's
		{"backup-automation", ""},
		{"bob@", ""},
		{"", ""},
	} {
		var buf []byte
		if got := lowerInto(&buf, upnDomain(c.in)); got != c.want {
			t.Errorf("upnDomain(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A sign-in's user.domain is its UPN's; an audit record's, its initiating
// user's, none for an application.
func TestUserDomain(t *testing.T) {
	for _, c := range []struct{ rec, want string }{
		{`{"createdDateTime":"2026-12-01T10:00:00Z","userPrincipalName":"bob@Contoso.example"}`, "contoso.example"},
		{`{"activityDateTime":"2026-12-01T10:00:00Z","activityDisplayName":"Invite external user","initiatedBy":{"app":{"displayName":"Microsoft Invitation Acceptance Portal"}}}`, ""},
		{`{"activityDateTime":"2026-12-01T10:00:00Z","activityDisplayName":"Invite external user","initiatedBy":{"user":{"userPrincipalName":"eve_partner.example#EXT#@contoso.onmicrosoft.com"}}}`, "partner.example"},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewDict())
		if err := New().Decode([]byte(c.rec), &ev); err != nil {
			t.Fatalf("%s: %v", c.rec, err)
		}
		if got := ev.Common[event.UserDomain]; got != c.want {
			t.Errorf("%s: user.domain %q, want %q", c.rec, got, c.want)
		}
	}
}
