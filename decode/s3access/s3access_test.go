package s3access

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

func lines(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
}

type result struct {
	time      time.Time
	logsource event.Logsource
	common    map[string]string
	fields    map[string][]string
}

// expand runs records through one decoder, as a source's are.
func expand(t testing.TB, d decode.Decoder, recs [][]byte) ([]result, error) {
	t.Helper()
	dict := event.NewOpenDict()
	var out []result
	for _, rec := range recs {
		var ev event.Event
		ev.Fields.Bind(dict)
		err := d.(decode.Expander).Expand(rec, &ev, func(e *event.Event) {
			r := result{time: e.Time, logsource: e.Logsource, common: map[string]string{}, fields: map[string][]string{}}
			for i, v := range e.Common {
				if v != "" {
					r.common[event.CommonName(i)] = strings.Clone(v) // values last until the next record
				}
			}
			for _, id := range e.Fields.IDs() {
				e.Fields.Each(id, func(v string) bool {
					r.fields[dict.Name(id)] = append(r.fields[dict.Name(id)], strings.Clone(v))
					return true
				})
			}
			out = append(out, r)
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func TestFixtures(t *testing.T) {
	s3 := event.Logsource{Product: "aws", Service: "s3"}
	ct := event.Logsource{Product: "aws", Service: "cloudtrail"}
	type want struct {
		time      string
		logsource event.Logsource
		common    map[string]string
		fields    map[string]string
		absent    []string
	}
	tests := []struct {
		file   string
		events []want
	}{
		{"access_rest.log", []want{
			{"2024-05-06T08:00:38Z", s3,
				map[string]string{"event.action": "REST.GET.OBJECT", "event.outcome": "success", "source.ip": "198.51.100.23",
					"user.name": "arn:aws:iam::111122223333:user/alice", "http.request.method": "GET", "url.original": "/finance-reports/q1/summary.pdf?versionId=abc",
					"url.path": "/finance-reports/q1/summary.pdf", "http.response.status_code": "200", "user_agent.original": "aws-cli/2.15.0 Python/3.11.6",
					"url.domain": "finance-reports.s3.eu-west-1.amazonaws.com", "cloud.provider": "aws"},
				map[string]string{"bucket": "finance-reports", "key": "q1/summary.pdf", "object_size": "4096", "tls_version": "TLSv1.2", "signature_version": "SigV4", "time": "06/May/2024:08:00:38 +0000"},
				[]string{"referer", "error_code", "version_id", "acl_required"}},
			{"2024-05-06T08:15:00Z", s3,
				map[string]string{"event.action": "REST.PUT.OBJECT", "event.outcome": "failure", "source.ip": "2001:db8::66", "user.name": "",
					"http.request.method": "PUT", "url.original": "/hello.txt", "user_agent.original": `curl/8.5.0 \"probe\"`},
				map[string]string{"error_code": "AccessDenied", "referer": "https://evil.example/", "acl_required": "Yes", "authentication_type": ""},
				[]string{"requester", "object_size"}},
		}},
		{"access_old_short.log", []want{{"2017-01-01T04:59:59Z", s3,
			map[string]string{"event.action": "REST.GET.BUCKET", "url.path": "/logs-bucket", "url.domain": "", "source.ip": "192.0.2.10"},
			map[string]string{"user_agent": "S3Console/0.4", "turn_around_time": "37"}, []string{"host_id", "version_id"}}}},
		{"honeybucket.csv", []want{
			{"2024-05-06T08:00:00Z", ct,
				map[string]string{"event.action": "ListObjects", "source.ip": "203.0.113.77", "user.name": "ANONYMOUS_PRINCIPAL",
					"user_agent.original": `Mozilla/5.0 (X11; Linux x86_64) "quoted", with comma`, "url.domain": "decoy-devtest.s3-eu-west-1.amazonaws.com"},
				map[string]string{"eventName": "ListObjects", "userIdentity.accountId": "ANONYMOUS_PRINCIPAL", "userIdentity.type": "AWSAccount",
					"requestParameters.bucketName": "decoy-devtest", "requestParameters.max-keys": "1000", "alert": "12-2024-05-06T08:00:00Z", "repeatedAttempts": "4"},
				[]string{"userIdentity.principalId", "requestParameters.delimiter"}},
			{"2024-05-06T09:00:00Z", ct,
				map[string]string{"event.action": "PutObject", "source.ip": "2001:db8:5::9", "user.name": "AIDAEXAMPLEPRINCIPAL"},
				map[string]string{"requestParameters.key": "hello.txt", "userIdentity.accountId": "999988887777", "eventTime": "2024-05-06T09:00:00Z"},
				[]string{"repeatedAttempts"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := expand(t, New(), lines(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.events) {
				t.Fatalf("%d events, want %d", len(got), len(tt.events))
			}
			for i, w := range tt.events {
				wt, _ := time.Parse(time.RFC3339, w.time)
				if !got[i].time.Equal(wt) || got[i].logsource != w.logsource {
					t.Errorf("event %d: time %v logsource %+v, want %v %+v", i, got[i].time, got[i].logsource, wt, w.logsource)
				}
				for k, v := range w.common {
					if got[i].common[k] != v {
						t.Errorf("event %d: %s = %q, want %q", i, k, got[i].common[k], v)
					}
				}
				for k, v := range w.fields {
					if g := strings.Join(got[i].fields[k], "|"); g != v {
						t.Errorf("event %d: field %s = %q, want %q", i, k, g, v)
					}
				}
				for _, k := range w.absent {
					if g, ok := got[i].fields[k]; ok {
						t.Errorf("event %d: field %s = %q, want absent", i, k, g)
					}
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	ok := string(lines(t, "access_old_short.log")[0])
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{"", "", "empty record", 0},
		{"owner bucket [06/May/2024:08:00:38 +0000", "", "unterminated [", 13},
		{`owner bucket [06/May/2024:08:00:38 +0000] 1.2.3.4 - id OP - "GET / HTTP/1.1`, "", "unterminated quoted", 60},
		{`owner bucket [x]y`, "", "want a space", 16},
		{"owner bucket [06/May/2024:08:00:38 +0000] 1.2.3.4", "", "has 4 fields", 49},
		{strings.Replace(ok, "31/Dec/2016", "31/Foo/2016", 1), "time", "unreadable time", strings.Index(ok, "[")},
		{strings.Replace(ok, "31/Dec/2016", "31/Feb/2016", 1), "time", "unreadable time", strings.Index(ok, "[")},
		{strings.Replace(ok, " 200 ", " 20x ", 1), "http_status", "bad HTTP status", strings.Index(ok, " 200 ") + 1},
		{`AwsApiCall,ListObjects,"unterminated`, "", "unterminated quoted CSV", 23},
		{`AwsApiCall,ListObjects,"x"y,`, "", "want a comma", 26},
		{`AwsApiCall,ListObjects`, "", "CSV row has 2 fields, the header names 12", 22},
		{`AwsApiCall,ListObjects,R,"{'type' 'x'}",,,,,,,,`, "User ID", "want ':'", 25},
		{`AwsApiCall,ListObjects,R,not a dict,,,,,,,,`, "User ID", "want a {'key': value} dict", 25},
		{`AwsApiCall,ListObjects,R,"{'a': 'b'",,,,,,,,`, "User ID", "unterminated dict", 25},
		{`AwsApiCall,ListObjects,R,,,,,yesterday,,,,`, "Event DateTime", "unreadable time", -1},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		err := New().(decode.Expander).Expand([]byte(tt.rec), &ev, func(*event.Event) {})
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%q: err = %v", tt.rec, err)
			continue
		}
		if de.Field != tt.field || de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%q: got %v (offset %d field %q)", tt.rec, de, de.Offset, de.Field)
		}
	}
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
	got, err := expand(t, New(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 301 || len(want) != 302 {
		t.Fatalf("%d events (csv: %d rows), want 301 events after the header", len(got), len(want))
	}
	for i, g := range got {
		w := want[i+1]
		if g.common["event.action"] != w[1] || g.common["source.ip"] != w[9] || g.common["user_agent.original"] != w[10] {
			t.Errorf("row %d: action %q ip %q ua %q, want %q %q %q", i+1, g.common["event.action"], g.common["source.ip"], g.common["user_agent.original"], w[1], w[9], w[10])
		}
		if g.time.Format(time.RFC3339) != w[7] || g.common["user.name"] == "" || !strings.Contains(w[4], g.fields["requestParameters.bucketName"][0]) {
			t.Errorf("row %d: time %v user %q bucket %q", i+1, g.time, g.common["user.name"], g.fields["requestParameters.bucketName"])
		}
		if g.logsource != (event.Logsource{Product: "aws", Service: "cloudtrail"}) {
			t.Errorf("row %d: logsource %+v", i+1, g.logsource)
		}
	}
	for i, rec := range recs {
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("line %d sniffed as %q", i+1, f)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, file := range []string{"access_rest.log", "access_old_short.log", "honeybucket.csv"} {
		for _, rec := range lines(t, file) {
			if f, score := decode.Sniff(rec); f != Format {
				t.Errorf("%s: %.40q sniffed as %q (%d)", file, rec, f, score)
			}
		}
	}
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
		recs = append(recs, lines(t, f)...)
	}
	return recs
}

func TestZeroAllocs(t *testing.T) {
	for _, rec := range allRecords(t) {
		if bytes.HasPrefix(rec, csvHeaderStart) {
			continue // a header allocates its column list, once a file
		}
		d := New().(decode.Expander)
		var ev event.Event
		ev.Fields.Bind(benchDict)
		emit := func(*event.Event) {}
		if a := testing.AllocsPerRun(100, func() {
			ev.Reset()
			if err := d.Expand(rec, &ev, emit); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%.40q: %.1f allocs per record, want 0", rec, a)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	var recs [][]byte
	for _, r := range allRecords(b) {
		if !bytes.HasPrefix(r, csvHeaderStart) {
			recs = append(recs, r)
		}
	}
	d := New().(decode.Expander)
	var ev event.Event
	ev.Fields.Bind(benchDict)
	emit := func(*event.Event) {}
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := dectest.CPUTime()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		if err := d.Expand(recs[i%len(recs)], &ev, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := dectest.CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

func FuzzDecode(f *testing.F) {
	for _, rec := range allRecords(f) {
		f.Add(rec)
	}
	f.Add([]byte(`AwsApiCall,"{'a': ""b""}",{'x': 'y\'}`))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		Sniff(rec)
		var ev event.Event
		ev.Fields.Bind(dict)
		err := d.(decode.Expander).Expand(rec, &ev, func(e *event.Event) {
			if e.Logsource.Product != "aws" {
				t.Fatalf("logsource %+v", e.Logsource)
			}
		})
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			if de.Offset > len(rec) {
				t.Fatalf("offset %d beyond %d bytes", de.Offset, len(rec))
			}
		}
	})
}

func TestRegistered(t *testing.T) {
	d, err := decode.New(Format)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(decode.Expander); !ok {
		t.Errorf("decode.New(%q) gave a %T, not an Expander", Format, d)
	}
}
