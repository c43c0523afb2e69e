package cloudtrail

import (
	"bufio"
	"errors"
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
		file   string
		time   string
		common map[string]string
		fields map[string][]string
		absent []string
	}{
		{
			file: "iam_user_create_access_key.json", time: "2024-05-06T08:12:44Z",
			common: map[string]string{
				"event.action": "CreateAccessKey", "event.outcome": "success", "user.name": "ops-alice", "source.ip": "198.51.100.20",
				"cloud.provider": "aws", "cloud.account.id": "111122223333", "cloud.region": "us-east-1",
				"user_agent.original": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12",
			},
			fields: map[string][]string{
				"eventName": {"CreateAccessKey"}, "userIdentity.arn": {"arn:aws:iam::111122223333:user/ops-alice"},
				"userIdentity.sessionContext.attributes.mfaAuthenticated": {"true"}, "requestParameters.userName": {"backup-svc"},
				"responseElements.accessKey.status": {"Active"}, "readOnly": {"false"}, "managementEvent": {"true"},
			},
		},
		{
			file: "assumed_role_access_denied.json", time: "2024-05-06T07:00:01.5Z",
			common: map[string]string{
				"event.action": "PutBucketPolicy", "event.outcome": "failure", "user.name": "build-runner", "source.ip": "2001:db8:1::7",
				"cloud.region": "eu-west-1",
			},
			fields: map[string][]string{
				"errorCode": {"AccessDenied"}, "resources.ARN": {"arn:aws:s3:::finance-reports", "arn:aws:s3:::finance-reports/q1"},
				"userIdentity.sessionContext.sessionIssuer.userName": {"ci-deploy"},
			},
			absent: []string{"requestParameters.policy", "responseElements"},
		},
		{
			file: "console_login_failure.json", time: "2024-05-06T10:30:00Z",
			common: map[string]string{"event.action": "ConsoleLogin", "event.outcome": "failure", "event.category": "authentication", "user.name": "bob", "source.ip": "203.0.113.66"},
			fields: map[string][]string{"responseElements.ConsoleLogin": {"Failure"}, "additionalEventData.MFAUsed": {"No"}},
		},
		{
			file: "root_service_call.json", time: "2024-05-06T11:00:00Z",
			common: map[string]string{"event.action": "StopLogging", "event.outcome": "success", "user.name": "root", "source.ip": "", "cloud.account.id": "111122223333"},
			fields: map[string][]string{"sourceIPAddress": {"cloudtrail.amazonaws.com"}, "userIdentity.type": {"Root"}},
		},
		{
			file: "lowercase_keys.json", time: "2024-05-06T12:00:00Z",
			common: map[string]string{"event.action": "GetAccountPasswordPolicy", "event.outcome": "failure", "user.name": "recon", "source.ip": "192.0.2.200", "cloud.account.id": "444455556666", "cloud.region": "ap-southeast-2"},
			fields: map[string][]string{"eventName": {"GetAccountPasswordPolicy"}, "eventSource": {"iam.amazonaws.com"}},
			absent: []string{"eventname"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decodeFile(t, tt.file, event.NewOpenDict())
			if want := (event.Logsource{Product: "aws", Service: "cloudtrail"}); ev.Logsource != want {
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
		{`{"eventName":"X",`, "", "invalid JSON", 16},
		{`"just a string"`, "", "want an object", 0},
		{`{"eventName":"X","eventTime":"last tuesday"}`, "eventTime", "unreadable time", -1},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		err := New().Decode([]byte(tt.rec), &ev)
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v", tt.rec, err)
			continue
		}
		if de.Field != tt.field || de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) {
			t.Errorf("%s: got %v (offset %d field %q)", tt.rec, de, de.Offset, de.Field)
		}
	}
}

// TestPanther decodes every CloudTrail event of Panther's rule tests and
// checks the mapping against the record itself.
func TestPanther(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "cloud", "aws_cloudtrail", "panther_rule_tests.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("Panther CloudTrail tests not available (%v)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var p fastjson.Parser
	d := New()
	dict := event.NewOpenDict()
	n := 0
	for sc.Scan() {
		n++
		line, err := p.ParseBytes(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		rec := line.Get("event").MarshalTo(nil)
		wantName := string(line.GetStringBytes("event", "eventName"))
		wantError := len(line.GetStringBytes("event", "errorCode")) > 0
		// A few upstream tests write placeholders ("redacted", "...") for
		// the time: those records must be refused, naming the field.
		stamp := line.GetStringBytes("event", "eventTime")
		badTime := len(stamp) > 0 && (stamp[0] < '0' || stamp[0] > '9')
		var ev event.Event
		ev.Fields.Bind(dict)
		err = d.Decode(rec, &ev)
		var de *decode.Error
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
		if line.Get("event", "eventTime") != nil && ev.Time.IsZero() {
			t.Errorf("record %d: eventTime present but no time", n)
		}
	}
	if n != 328 {
		t.Errorf("%d records, want 328", n)
	}
}

func TestZeroAllocs(t *testing.T) {
	rec, err := os.ReadFile(filepath.Join("testdata", "assumed_role_access_denied.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := New()
	var ev event.Event
	ev.Fields.Bind(event.NewDict("eventName", "eventSource", "errorCode", "requestParameters.bucketName", "userIdentity.type"))
	if a := testing.AllocsPerRun(100, func() {
		ev.Reset()
		if err := d.Decode(rec, &ev); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%.1f allocs per record, want 0", a)
	}
}

func BenchmarkDecode(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	var recs [][]byte
	size := 0
	for _, f := range files {
		r, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
		size += len(r)
	}
	d := New()
	var ev event.Event
	ev.Fields.Bind(event.NewDict("eventName", "eventSource", "errorCode", "requestParameters.bucketName", "userIdentity.type", "userIdentity.arn"))
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		if err := d.Decode(recs[i%len(recs)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
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
	f.Add([]byte(`{"useridentity":{"arn":"/"},"eventname":1,"eventtime":1700000000}`))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			return
		}
		if ev.Logsource.Product != "aws" || ev.Common[event.CloudProvider] != "aws" {
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
