package cloudtrail

import (
	"errors"
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
			File: "iam_user_create_access_key.json", Time: "2024-05-06T08:12:44Z",
			Common: map[string]string{
				"event.action": "CreateAccessKey", "event.outcome": "success", "user.name": "ops-alice", "source.ip": "198.51.100.20",
				"cloud.provider": "aws", "cloud.account.id": "111122223333", "cloud.region": "us-east-1",
				"user_agent.original": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12",
			},
			Fields: map[string][]string{
				"eventName": {"CreateAccessKey"}, "userIdentity.arn": {"arn:aws:iam::111122223333:user/ops-alice"},
				"userIdentity.sessionContext.attributes.mfaAuthenticated": {"true"}, "requestParameters.userName": {"backup-svc"},
				"responseElements.accessKey.status": {"Active"}, "readOnly": {"false"}, "managementEvent": {"true"},
			},
		},
		{
			File: "assumed_role_access_denied.json", Time: "2024-05-06T07:00:01.5Z",
			Common: map[string]string{
				"event.action": "PutBucketPolicy", "event.outcome": "failure", "user.name": "build-runner", "source.ip": "2001:db8:1::7",
				"cloud.region": "eu-west-1",
			},
			Fields: map[string][]string{
				"errorCode": {"AccessDenied"}, "resources.ARN": {"arn:aws:s3:::finance-reports", "arn:aws:s3:::finance-reports/q1"},
				"userIdentity.sessionContext.sessionIssuer.userName": {"ci-deploy"},
			},
			Absent: []string{"requestParameters.policy", "responseElements"},
		},
		{
			File: "console_login_failure.json", Time: "2024-05-06T10:30:00Z",
			Common: map[string]string{"event.action": "ConsoleLogin", "event.outcome": "failure", "event.category": "authentication", "user.name": "bob", "source.ip": "203.0.113.66"},
			Fields: map[string][]string{"responseElements.ConsoleLogin": {"Failure"}, "additionalEventData.MFAUsed": {"No"}},
		},
		{
			File: "root_service_call.json", Time: "2024-05-06T11:00:00Z",
			Common: map[string]string{"event.action": "StopLogging", "event.outcome": "success", "user.name": "root", "source.ip": "", "cloud.account.id": "111122223333"},
			Fields: map[string][]string{"sourceIPAddress": {"cloudtrail.amazonaws.com"}, "userIdentity.type": {"Root"}},
		},
		{
			File: "lowercase_keys.json", Time: "2024-05-06T12:00:00Z",
			Common: map[string]string{"event.action": "GetAccountPasswordPolicy", "event.outcome": "failure", "user.name": "recon", "source.ip": "192.0.2.200", "cloud.account.id": "444455556666", "cloud.region": "ap-southeast-2"},
			Fields: map[string][]string{"eventName": {"GetAccountPasswordPolicy"}, "eventSource": {"iam.amazonaws.com"}},
			Absent: []string{"eventname"},
		},
	}
	dectest.CheckFixtures(t, New, event.Logsource{Product: "aws", Service: "cloudtrail"}, tests)
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"eventName":"X",`, Reason: "invalid JSON", Offset: 16},
		{Rec: `"just a string"`, Reason: "want an object"},
		{Rec: `{"eventName":"X","eventSource":"s3.amazonaws.com","eventTime":"last tuesday"}`, Field: "eventTime", Reason: "unreadable time", Offset: -1},
		// Required keys: each missing one is named; null or an object is
		// no value.
		{Rec: `{"eventName":"X","eventSource":"s3.amazonaws.com"}`, Reason: "missing required key eventTime", Offset: -1},
		{Rec: `{"eventTime":"2024-05-06T08:00:00Z","eventName":null,"eventSource":{"x":1}}`, Reason: "missing required keys eventName, eventSource", Offset: -1},
		{Rec: `{}`, Reason: "missing required keys eventTime, eventName, eventSource", Offset: -1},
		// A record wrapped in another object (Panther's rule tests, some
		// forwarders): refused, saying where the record is.
		{Rec: `{"log_type":"AWS.CloudTrail","event":{"eventTime":"2024-05-06T08:00:00Z","eventName":"X","eventSource":"s3.amazonaws.com"}}`,
			Reason: `missing required keys eventTime, eventName, eventSource (found under "event": send the record itself`, Offset: -1},
		// A wrapped record that lacks a key itself is still found.
		{Rec: `{"log_type":"AWS.CloudTrail","event":{"eventName":"X","eventSource":"s3.amazonaws.com"}}`,
			Reason: `missing required keys eventTime, eventName, eventSource (found under "event"`, Offset: -1},
		// An object holding fewer of the keys than the record is part of it.
		{Rec: `{"eventName":"X","eventSource":"s3.amazonaws.com","requestParameters":{"eventTime":"x"}}`,
			Reason: `missing required key eventTime`, Offset: -1},
	})
}

// TestPanther decodes every CloudTrail event of Panther's rule tests and
// checks the mapping against the record itself.
func TestPanther(t *testing.T) {
	recs := dectest.Panther(t, "cloud/aws_cloudtrail/panther_rule_tests.jsonl", "")
	var p fastjson.Parser
	d := New()
	dict := event.NewOpenDict()
	stubs := 0
	for i, rec := range recs {
		n := i + 1
		e, err := p.ParseBytes(rec)
		if err != nil {
			t.Fatal(err)
		}
		wantName := string(e.GetStringBytes("eventName"))
		wantError := len(e.GetStringBytes("errorCode")) > 0
		// A few upstream tests write placeholders ("redacted", "...") for
		// the time: those records must be refused, naming the field.
		stamp := e.GetStringBytes("eventTime")
		if len(stamp) == 0 {
			stamp = e.GetStringBytes("eventtime")
		}
		badTime := len(stamp) > 0 && (stamp[0] < '0' || stamp[0] > '9')
		// Others are cut down to the keys their rule reads, without the
		// time or the service: not CloudTrail records, refused naming
		// what they lack.
		var missing []string
		for _, k := range []string{"eventTime", "eventName", "eventSource"} {
			if len(e.GetStringBytes(k)) == 0 && len(e.GetStringBytes(strings.ToLower(k))) == 0 {
				missing = append(missing, k)
			}
		}
		var ev event.Event
		ev.Fields.Bind(dict)
		err = d.Decode(rec, &ev)
		var de *decode.Error
		if len(missing) > 0 {
			stubs++
			if !errors.As(err, &de) || !strings.Contains(de.Reason, strings.Join(missing, ", ")) {
				t.Errorf("record %d lacks %v: err = %v", n, missing, err)
			}
			continue
		}
		if badTime {
			if !errors.As(err, &de) || de.Field != "eventTime" {
				t.Errorf("record %d: eventTime %q: err = %v, want an eventTime error", n, stamp, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("record %d: %v", n, err)
			continue
		}
		if wantName != "" && ev.Common[event.EventAction] != wantName {
			t.Errorf("record %d: event.action %q, want %q", n, ev.Common[event.EventAction], wantName)
		}
		if wantName != "" && wantError && ev.Common[event.EventOutcome] != "failure" {
			t.Errorf("record %d: errorCode present but outcome %q", n, ev.Common[event.EventOutcome])
		}
		if e.Get("eventTime") != nil && ev.Time.IsZero() {
			t.Errorf("record %d: eventTime present but no time", n)
		}
	}
	if len(recs) != 328 || stubs != 4 {
		t.Errorf("%d records, %d without a required key; want 328 and 4", len(recs), stubs)
	}
}

func TestZeroAllocs(t *testing.T) {
	dict := event.NewDict("eventName", "eventSource", "errorCode", "requestParameters.bucketName", "userIdentity.type")
	dectest.ZeroAllocs(t, New(), dict, dectest.Fixtures(t, "assumed_role_access_denied.json"))
}

func BenchmarkDecode(b *testing.B) {
	dict := event.NewDict("eventName", "eventSource", "errorCode", "requestParameters.bucketName", "userIdentity.type", "userIdentity.arn")
	dectest.BenchDecode(b, New(), dict, dectest.Fixtures(b, "*.json"))
}

func FuzzDecode(f *testing.F) {
	for _, rec := range dectest.Fixtures(f, "*.json") {
		f.Add(rec)
	}
	f.Add([]byte(`{"useridentity":{"arn":"/"},"eventname":1,"eventtime":1700000000}`))
	dectest.Fuzz(f, New(), nil, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "aws" || ev.Common[event.CloudProvider] != "aws" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }
