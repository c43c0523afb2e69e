package accesslog

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestDecodeFixtures(t *testing.T) {
	lines := dectest.Lines(t, filepath.Join("testdata", "access.log"))
	type want struct {
		time                                string
		ip, user, method, url, path, status string
		agent, outcome, domain              string
		fields                              map[string]string
	}
	tests := []want{
		{"2024-05-06T08:00:00Z", "198.51.100.7", "", "GET", "/index.php?id=1%27%20OR%201=1", "/index.php", "200",
			"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/125.0", "success", "",
			map[string]string{"cs-uri-query": "/index.php?id=1%27%20OR%201=1", "cs-uri-stem": "/index.php", "cs-version": "HTTP/1.1", "sc-bytes": "5120", "cs-referer": "https://example.org/", "c-ip": "198.51.100.7"}},
		{"2024-05-06T08:00:01Z", "198.51.100.7", "frank", "POST", "/login", "/login", "401", "", "failure", "",
			map[string]string{"cs-username": "frank", "cs-version": "HTTP/1.0"}},
		{"2024-05-06T08:00:02Z", "2001:db8::7", "", "GET", "/.git/config", "/.git/config", "404", "curl/8.5.0", "failure", "", nil},
		{"2024-05-06T08:00:03Z", "192.0.2.55", "alice smith", "PUT", "/dav/file.txt", "/dav/file.txt", "201", "Microsoft-WebDAV-MiniRedir/10.0.19045", "success", "www.example.org",
			map[string]string{"cs-host": "www.example.org:443", "sc-bytes": "0"}},
		{"2024-05-06T08:00:04Z", "", "", "", "", "", "400", "", "failure", "",
			map[string]string{"c-ip": "crawler.example.net", "request": `\x16\x03\x01\x00\xa5\x01\x00`}},
		{"2024-05-06T08:00:05.123Z", "10.0.0.9", "", "GET", `/a\"b`, `/a\"b`, "503", `ua with \"quotes\"`, "failure", "", nil},
		{"2024-05-06T05:00:06Z", "192.0.2.8", "", "GET", "/", "/", "302", "w3af.org", "success", "", nil},
	}
	if len(lines) != len(tests) {
		t.Fatalf("%d fixture lines, %d expectations", len(lines), len(tests))
	}
	for i, w := range tests {
		ev, err := dectest.DecodeLine(New(), lines[i], time.Time{})
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		c := &ev.Common
		got := want{ev.Time.Format(time.RFC3339Nano), c[event.SourceIP], c[event.UserName], c[event.HTTPRequestMethod], c[event.URLOriginal],
			c[event.URLPath], c[event.HTTPResponseStatusCode], c[event.UserAgentOriginal], c[event.EventOutcome], c[event.URLDomain], w.fields}
		if got.time != w.time || got.ip != w.ip || got.user != w.user || got.method != w.method || got.url != w.url || got.path != w.path ||
			got.status != w.status || got.agent != w.agent || got.outcome != w.outcome || got.domain != w.domain {
			t.Errorf("line %d:\n got %+v\nwant %+v", i+1, got, w)
		}
		for name, v := range w.fields {
			if g, _ := ev.Get(name); g != v {
				t.Errorf("line %d: field %s = %q, want %q", i+1, name, g, v)
			}
		}
		if ev.Logsource != (event.Logsource{Category: "webserver"}) || c[event.EventCategory] != "web" {
			t.Errorf("line %d: logsource %+v, category %q", i+1, ev.Logsource, c[event.EventCategory])
		}
	}
}

// TestScannerLogs decodes every line of two real scanner runs against
// Apache (shared/data, not shipped).
func TestScannerLogs(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "web", "scanner_access_logs")
	for _, name := range []string{"acunetix_access.log.gz", "w3af_access.log.gz"} {
		lines := dectest.Lines(t, filepath.Join(dir, name))
		d := New()
		var ev event.Event
		ev.Fields.Bind(event.NewDict("cs-uri-query"))
		statuses := map[string]int{}
		for i, l := range lines {
			if l == "" {
				continue
			}
			ev.Reset()
			if err := d.Decode([]byte(l), &ev); err != nil {
				t.Errorf("%s:%d: %v\n%s", name, i+1, err, l)
				continue
			}
			if ev.Time.Year() != 2016 || ev.Common[event.SourceIP] == "" || ev.Common[event.HTTPResponseStatusCode] == "" {
				t.Errorf("%s:%d: time %v ip %q status %q", name, i+1, ev.Time, ev.Common[event.SourceIP], ev.Common[event.HTTPResponseStatusCode])
			}
			statuses[ev.Common[event.HTTPResponseStatusCode][:1]+"xx"]++
		}
		t.Logf("%s: %d lines, status classes %v", name, len(lines), statuses)
	}
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "empty"},
		{Rec: "hello world", Reason: "no [time stamp]"},
		{Rec: "1.2.3.4 - [06/May/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1", Reason: "client, ident and user"},
		{Rec: "1.2.3.4 - - [06/Mai/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1", Field: "time", Reason: "time stamp", Offset: 13},
		{Rec: "1.2.3.4 - - [31/Apr/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1", Field: "time", Reason: "time stamp", Offset: 13},
		{Rec: "1.2.3.4 - - [06/May/2024:08:00:00 +0000 \"GET / HTTP/1.1\" 200 1", Field: "time", Reason: "no ]", Offset: 39},
		{Rec: "1.2.3.4 - - [06/May/2024:08:00:00 +0000] GET / 200 1", Field: "request", Reason: "quoted request", Offset: 41},
		{Rec: "1.2.3.4 - - [06/May/2024:08:00:00 +0000] \"GET / HTTP/1.1\" OK 1", Field: "status", Reason: "three-digit", Offset: 58},
		{Rec: "1.2.3.4 - - [06/May/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"ref", Reason: "unterminated", Offset: 64},
		{Rec: "\"1.2.3.4 - - [06/May/2024:08:00:00 +0000] GET\"", Field: "request", Reason: "quoted request", Offset: 42},
	})
}

func TestSniff(t *testing.T) {
	for i, l := range dectest.Lines(t, filepath.Join("testdata", "access.log")) {
		if s := Sniff([]byte(l)); s < 80 {
			t.Errorf("line %d: score %d", i+1, s)
		}
	}
	for _, l := range []string{"", "[06/May/2024:08:00:00 +0000]", "a b c d [not a date] \"x\"", "Mar  3 22:14:05 bastion sshd[4121]: Failed password"} {
		if s := Sniff([]byte(l)); s != 0 {
			t.Errorf("%q: score %d, want 0", l, s)
		}
	}
}

var benchDict = event.NewDict("cs-uri-query", "cs-method", "cs-user-agent", "sc-status")

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, dectest.LineRecords(t, "access.log"))
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchDecode(b, New(), benchDict, dectest.LineRecords(b, "access.log"))
}

func FuzzDecode(f *testing.F) {
	recs := dectest.LineRecords(f, "access.log")
	for _, r := range recs {
		f.Add(r)
	}
	f.Add([]byte(`"`))
	f.Add([]byte(`a b c [29/Feb/2023:24:00:00.9999999999 +1460] "" "" 999 "`))
	dectest.Fuzz(f, New(), nil, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Time.IsZero() || ev.Time.Location() != time.UTC || ev.Common[event.HTTPResponseStatusCode] == "" {
			t.Fatalf("decoded without time or status: %v %q", ev.Time, ev.Common[event.HTTPResponseStatusCode])
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

// TestVhostPort: a virtual host written as "%v:%p" (Debian's
// vhost_combined) gives the domain without the port, and the port as the
// server's.
func TestVhostPort(t *testing.T) {
	ev, err := dectest.DecodeLine(New(), `www.example.org:8443 192.0.2.55 - - [06/May/2024:08:00:03 +0000] "GET / HTTP/1.1" 200 0 "-" "-"`, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Common[event.URLDomain] != "www.example.org" || ev.Common[event.DestinationPort] != "8443" {
		t.Errorf("url.domain %q destination.port %q", ev.Common[event.URLDomain], ev.Common[event.DestinationPort])
	}
	if v, _ := ev.Get("cs-host"); v != "www.example.org:8443" {
		t.Errorf("cs-host %q", v)
	}
}
