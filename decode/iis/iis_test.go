package iis

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

var logsource = event.Logsource{Category: "webserver", Service: "iis"}

// TestDirectives decodes a log written from the W3C draft and IIS's field
// list: directives give no event, each #Fields sets the columns of the
// entries after it, "-" is no value, "+" in the user agent a space.
func TestDirectives(t *testing.T) {
	dectest.CheckExpand(t, New, logsource, "u_ex240102.log", []dectest.Case{
		{Time: "2024-01-02T03:04:05Z",
			Common: map[string]string{"source.ip": "203.0.113.9", "destination.ip": "10.0.0.5", "destination.port": "443", "http.request.method": "GET", "url.path": "/owa/auth/logon.aspx",
				"url.original": "/owa/auth/logon.aspx?url=https%3a%2f%2fmail.example.com%2fowa%2f&reason=0", "http.response.status_code": "200", "event.outcome": "success",
				"user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "user.name": ""},
			Field:  map[string]string{"cs-uri-query": "/owa/auth/logon.aspx?url=https%3a%2f%2fmail.example.com%2fowa%2f&reason=0", "url.query": "url=https%3a%2f%2fmail.example.com%2fowa%2f&reason=0", "cs-uri-stem": "/owa/auth/logon.aspx", "cs-user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "sc-win32-status": "0", "time-taken": "187"},
			Absent: []string{"cs-referer", "cs-username"}},
		{Time: "2024-01-02T03:04:06Z",
			Common: map[string]string{"source.ip": "2001:db8::9", "user.name": `CONTOSO\alice`, "http.response.status_code": "401", "event.outcome": "failure", "url.original": "/ecp/DDI/DDIService.svc/GetList"},
			Field:  map[string]string{"cs-referer": "https://mail.example.com/ecp/", "cs-uri-query": "/ecp/DDI/DDIService.svc/GetList", "sc-win32-status": "2148074254"}, Absent: []string{"url.query"}},
		{Time: "2024-01-02T04:05:06Z",
			Common: map[string]string{"source.ip": "198.51.100.4", "destination.port": "80", "url.domain": "www.example.com", "service.name": "W3SVC1", "host.name": "WEB01", "url.original": "/aspnet_client/system_web/shell.aspx?cmd=whoami", "http.response.status_code": "404"},
			Field:  map[string]string{"cs-version": "HTTP/1.1", "cs-host": "www.example.com", "sc-bytes": "1245", "cs-bytes": "180", "cs-user-agent": "curl/8.5.0"}},
	})
}

// TestDefaultFields decodes an entry without a #Fields line by IIS's
// default columns, and one by the columns a source configures, whose
// date comes from #Date.
func TestDefaultFields(t *testing.T) {
	ev, err := dectest.DecodeLine(New(), "2024-01-02 03:04:05 10.0.0.5 GET / - 80 - 192.0.2.1 Wget/1.21 - 200 0 0 1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	dectest.Case{Time: "2024-01-02T03:04:05Z", Common: map[string]string{"source.ip": "192.0.2.1", "url.original": "/", "user_agent.original": "Wget/1.21"}}.Check(t, "default", ev)

	d := New()
	if err := d.(decode.Configurable).Configure(decode.Options{Fields: []string{"time c-ip cs-method cs-uri sc-status"}}); err != nil {
		t.Fatal(err)
	}
	got, err := dectest.Expand(t, d, [][]byte{[]byte("#Date: 2024-03-04 00:00:00"), []byte("05:06:07.250 192.0.2.2 GET /a?b=1 302")})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v, %d events", err, len(got))
	}
	if !got[0].Time.Equal(time.Date(2024, 3, 4, 5, 6, 7, 250e6, time.UTC)) || got[0].Common["url.original"] != "/a?b=1" || got[0].Common["http.response.status_code"] != "302" {
		t.Errorf("configured: %+v", got[0])
	}
}

// TestNative decodes lines of the IIS log file format as Microsoft's
// documentation lays out its fifteen columns: two- and four-digit years,
// IPv6, a user, parameters.
func TestNative(t *testing.T) {
	dectest.CheckLines(t, New, time.Time{}, logsource, []dectest.Case{
		{File: "in240102.log", Line: 0, Time: "2001-03-20T07:55:20Z",
			Common: map[string]string{"source.ip": "192.168.114.201", "user.name": "", "service.name": "W3SVC2", "host.name": "SALES1", "destination.ip": "172.21.13.45",
				"http.request.method": "GET", "url.path": "/DeptLogo.gif", "url.original": "/DeptLogo.gif", "http.response.status_code": "200", "event.outcome": "success"},
			Field: map[string]string{"time-taken": "4502", "cs-bytes": "163", "sc-bytes": "3223", "sc-win32-status": "0", "cs-uri-stem": "/DeptLogo.gif"}, Absent: []string{"url.query", "cs-username"}},
		{File: "in240102.log", Line: 1, Time: "2023-11-20T15:44:03Z", Common: map[string]string{"source.ip": "::1", "http.response.status_code": "304", "url.path": "/"}},
		{File: "in240102.log", Line: 2, Time: "2024-01-02T03:04:05Z",
			Common: map[string]string{"user.name": `CONTOSO\bob`, "url.original": "/upload.aspx?cmd=whoami", "event.outcome": "failure"},
			Field:  map[string]string{"url.query": "cmd=whoami", "cs-uri-query": "/upload.aspx?cmd=whoami", "cs-method": "POST"}},
	})
	dectest.Sniffed(t, Format, dectest.LineRecords(t, "in240102.log"))
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "empty"},
		{Rec: "#Fields:", Field: "Fields", Reason: "names no field", Offset: 8},
		{Rec: "#Date: yesterday", Field: "Date", Reason: "yyyy-mm-dd", Offset: 7},
		{Rec: "#Nonsense", Reason: "without \":\"", Offset: 1},
		{Rec: "1.2.3.4, -, 13/20/01, 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /, -,", Field: "date", Reason: "m/d/yyyy", Offset: 12},
		{Rec: "1.2.3.4, -, 03/20/01, 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 20, 0, GET, /, -,", Field: "sc-status", Reason: "three-digit", Offset: 78},
		{Rec: "1.2.3.4, -, 03/20/01, 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /", Reason: "fewer than 15", Offset: 92},
		{Rec: "2024-01-02 03:04:05 10.0.0.5 GET / - 80 - 192.0.2.1 Wget - 200 0 0", Reason: "14 values, #Fields names 15", Offset: 66},
		{Rec: "2024-01-02 03:04:05 10.0.0.5 GET / - 80 - 192.0.2.1 Wget - 200 0 0 1 extra", Reason: "more values", Offset: 69},
		{Rec: "2024-01-02 03:04:05 10.0.0.5 GET / - 80 - 192.0.2.1 Wget - OK 0 0 1", Field: "sc-status", Reason: "three-digit", Offset: 59},
		{Rec: "2024-13-02 03:04:05 10.0.0.5 GET / - 80 - 192.0.2.1 Wget - 200 0 0 1", Field: "time", Reason: "yyyy-mm-dd", Offset: 0},
	})
}

func TestSniff(t *testing.T) {
	dectest.Sniffed(t, Format, dectest.Records(t, "u_ex240102.log"))
	for _, l := range []string{"", "#", "2024-01-02 03:04:05 hello", `127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326`, "2024-01-02T03:04:05Z a b c d e f g h i j k"} {
		if s := Sniff([]byte(l)); s != 0 {
			t.Errorf("%q: %d", l, s)
		}
	}
}

var benchDict = event.NewDict("cs-uri-query", "cs-method", "cs-user-agent", "sc-status")

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, dectest.Records(t, "u_ex240102.log")[4:6])
}

// BenchmarkDecode decodes the entries of the first #Fields block, as a
// log's lines are mostly entries.
func BenchmarkDecode(b *testing.B) {
	recs := dectest.Records(b, "u_ex240102.log")
	d := New().(decode.Expander)
	for _, r := range recs[:4] { // the directives
		if err := d.Expand(r, new(event.Event), func(*event.Event) {}); err != nil {
			b.Fatal(err)
		}
	}
	dectest.BenchExpand(b, d, benchDict, recs[4:6], "")
}

func BenchmarkNative(b *testing.B) {
	dectest.BenchDecode(b, New(), benchDict, dectest.LineRecords(b, "in240102.log"))
}

func FuzzDecode(f *testing.F) {
	for _, r := range dectest.Records(f, "u_ex240102.log") {
		f.Add(r)
	}
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Time.IsZero() {
			t.Fatal("decoded without time")
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[decode.Expander](t, Format) }
