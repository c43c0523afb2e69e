package s3access

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestFixtures(t *testing.T) {
	s3 := event.Logsource{Product: "aws", Service: "s3"}
	ct := event.Logsource{Product: "aws", Service: "cloudtrail"}
	dectest.CheckExpand(t, New, s3, "access_rest.log", []dectest.Case{
		{Time: "2024-05-06T08:00:38Z",
			Common: map[string]string{"event.action": "REST.GET.OBJECT", "event.outcome": "success", "source.ip": "198.51.100.23",
				"user.name": "arn:aws:iam::111122223333:user/alice", "http.request.method": "GET", "url.original": "/finance-reports/q1/summary.pdf?versionId=abc",
				"url.path": "/finance-reports/q1/summary.pdf", "http.response.status_code": "200", "user_agent.original": "aws-cli/2.15.0 Python/3.11.6",
				"url.domain": "finance-reports.s3.eu-west-1.amazonaws.com", "cloud.provider": "aws"},
			Fields: map[string][]string{"bucket": {"finance-reports"}, "key": {"q1/summary.pdf"}, "object_size": {"4096"}, "tls_version": {"TLSv1.2"}, "signature_version": {"SigV4"}, "time": {"06/May/2024:08:00:38 +0000"}},
			Absent: []string{"referer", "error_code", "version_id", "acl_required"}},
		{Time: "2024-05-06T08:15:00Z",
			Common: map[string]string{"event.action": "REST.PUT.OBJECT", "event.outcome": "failure", "source.ip": "2001:db8::66", "user.name": "",
				"http.request.method": "PUT", "url.original": "/hello.txt", "user_agent.original": `curl/8.5.0 \"probe\"`},
			Fields: map[string][]string{"error_code": {"AccessDenied"}, "referer": {"https://evil.example/"}, "acl_required": {"Yes"}, "authentication_type": {""}},
			Absent: []string{"requester", "object_size"}},
	})
	dectest.CheckExpand(t, New, s3, "access_old_short.log", []dectest.Case{
		{Time: "2017-01-01T04:59:59Z",
			Common: map[string]string{"event.action": "REST.GET.BUCKET", "url.path": "/logs-bucket", "url.domain": "", "source.ip": "192.0.2.10"},
			Fields: map[string][]string{"user_agent": {"S3Console/0.4"}, "turn_around_time": {"37"}},
			Absent: []string{"host_id", "version_id"}},
	})
	dectest.CheckExpand(t, New, ct, "honeybucket.csv", []dectest.Case{
		{Time: "2024-05-06T08:00:00Z",
			Common: map[string]string{"event.action": "ListObjects", "source.ip": "203.0.113.77", "user.name": "ANONYMOUS_PRINCIPAL",
				"user_agent.original": `Mozilla/5.0 (X11; Linux x86_64) "quoted", with comma`, "url.domain": "decoy-devtest.s3-eu-west-1.amazonaws.com"},
			Fields: map[string][]string{"eventName": {"ListObjects"}, "userIdentity.accountId": {"ANONYMOUS_PRINCIPAL"}, "userIdentity.type": {"AWSAccount"},
				"requestParameters.bucketName": {"decoy-devtest"}, "requestParameters.max-keys": {"1000"}, "alert": {"12-2024-05-06T08:00:00Z"}, "repeatedAttempts": {"4"}},
			Absent: []string{"userIdentity.principalId", "requestParameters.delimiter"}},
		{Time: "2024-05-06T09:00:00Z",
			Common: map[string]string{"event.action": "PutObject", "source.ip": "2001:db8:5::9", "user.name": "AIDAEXAMPLEPRINCIPAL"},
			Fields: map[string][]string{"requestParameters.key": {"hello.txt"}, "userIdentity.accountId": {"999988887777"}, "eventTime": {"2024-05-06T09:00:00Z"}},
			Absent: []string{"repeatedAttempts"}},
	})
}

func TestBadInput(t *testing.T) {
	ok := string(dectest.Records(t, "access_old_short.log")[0])
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "empty record"},
		{Rec: "owner bucket [06/May/2024:08:00:38 +0000", Reason: "unterminated [", Offset: 13},
		{Rec: `owner bucket [06/May/2024:08:00:38 +0000] 1.2.3.4 - id OP - "GET / HTTP/1.1`, Reason: "unterminated quoted", Offset: 60},
		{Rec: `owner bucket [x]y`, Reason: "want a space", Offset: 16},
		{Rec: "owner bucket [06/May/2024:08:00:38 +0000] 1.2.3.4", Reason: "has 4 fields", Offset: 49},
		{Rec: strings.Replace(ok, "31/Dec/2016", "31/Foo/2016", 1), Field: "time", Reason: "unreadable time", Offset: strings.Index(ok, "[")},
		{Rec: strings.Replace(ok, "31/Dec/2016", "31/Feb/2016", 1), Field: "time", Reason: "unreadable time", Offset: strings.Index(ok, "[")},
		{Rec: strings.Replace(ok, " 200 ", " 20x ", 1), Field: "http_status", Reason: "bad HTTP status", Offset: strings.Index(ok, " 200 ") + 1},
		{Rec: `AwsApiCall,ListObjects,"unterminated`, Reason: "unterminated quoted CSV", Offset: 23},
		{Rec: `AwsApiCall,ListObjects,"x"y,`, Reason: "want a comma", Offset: 26},
		{Rec: `AwsApiCall,ListObjects`, Reason: "CSV row has 2 fields, the header names 12", Offset: 22},
		{Rec: `AwsApiCall,ListObjects,R,"{'type' 'x'}",,,,,,,,`, Field: "User ID", Reason: "want ':'", Offset: 25},
		{Rec: `AwsApiCall,ListObjects,R,not a dict,,,,,,,,`, Field: "User ID", Reason: "want a {'key': value} dict", Offset: 25},
		{Rec: `AwsApiCall,ListObjects,R,"{'a': 'b'",,,,,,,,`, Field: "User ID", Reason: "unterminated dict", Offset: 25},
		{Rec: `AwsApiCall,ListObjects,R,,,,,yesterday,,,,`, Field: "Event DateTime", Reason: "unreadable time", Offset: -1},
	})
	var ev event.Event
	if err := New().Decode([]byte("Event Type,Event Name"), &ev); err == nil || !strings.Contains(err.Error(), "header") {
		t.Errorf("Decode(header) = %v", err)
	}
}

// TestHoneyBucket decodes the OTRF honey-bucket export (MIT): its header
// and all 301 rows, none malformed, and checks each against encoding/csv's
// reading of the same row.
func TestHoneyBucket(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "cloud", "aws_s3_access_otrf_honeybucket", "AWS_S3_HoneyBucketLogs.csv.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared data not available (%v)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	recs := bytes.Split(bytes.TrimRight(raw, "\r\n"), []byte("\n"))
	want, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got, err := dectest.Expand(t, New(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 301 || len(want) != 302 {
		t.Fatalf("%d events (csv: %d rows), want 301 events after the header", len(got), len(want))
	}
	for i, g := range got {
		w := want[i+1]
		if g.Common["event.action"] != w[1] || g.Common["source.ip"] != w[9] || g.Common["user_agent.original"] != w[10] {
			t.Errorf("row %d: action %q ip %q ua %q, want %q %q %q", i+1, g.Common["event.action"], g.Common["source.ip"], g.Common["user_agent.original"], w[1], w[9], w[10])
		}
		if g.Time.Format(time.RFC3339) != w[7] || g.Common["user.name"] == "" || !strings.Contains(w[4], g.Fields["requestParameters.bucketName"][0]) {
			t.Errorf("row %d: time %v user %q bucket %q", i+1, g.Time, g.Common["user.name"], g.Fields["requestParameters.bucketName"])
		}
		if g.Logsource != (event.Logsource{Product: "aws", Service: "cloudtrail"}) {
			t.Errorf("row %d: logsource %+v", i+1, g.Logsource)
		}
	}
	for i, rec := range recs {
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("line %d sniffed as %q", i+1, f)
		}
	}
}

func TestSniff(t *testing.T) {
	dectest.Sniffed(t, Format, allRecords(t))
	for _, rec := range []string{"a b c", `{"x":1}`, "2 123 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK", "a b [not a time stamp at all, no]"} {
		if s := Sniff([]byte(rec)); s != 0 {
			t.Errorf("%q: score %d", rec, s)
		}
	}
}

var benchDict = event.NewDict("operation", "key", "bucket", "eventName", "requestParameters.bucketName", "userIdentity.accountId", "http_status")

func allRecords(t testing.TB) [][]byte {
	var recs [][]byte
	for _, f := range []string{"access_rest.log", "access_old_short.log", "honeybucket.csv"} {
		recs = append(recs, dectest.Records(t, f)...)
	}
	return recs
}

// dataRecords are allRecords but the CSV header, which allocates its column
// list, once a file.
func dataRecords(t testing.TB) [][]byte {
	var recs [][]byte
	for _, r := range allRecords(t) {
		if !bytes.HasPrefix(r, csvHeaderStart) {
			recs = append(recs, r)
		}
	}
	return recs
}

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, dataRecords(t))
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchExpand(b, New().(decode.Expander), benchDict, dataRecords(b), "")
}

func FuzzDecode(f *testing.F) {
	for _, rec := range allRecords(f) {
		f.Add(rec)
	}
	f.Add([]byte(`AwsApiCall,"{'a': ""b""}",{'x': 'y\'}`))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "aws" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[decode.Expander](t, Format) }
