package accesslog

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func newWith(t testing.TB, layout string) decode.Decoder {
	t.Helper()
	d := New()
	if err := d.(decode.Configurable).Configure(decode.Options{Layout: layout}); err != nil {
		t.Fatalf("layout %q: %v", layout, err)
	}
	return d
}

// TestLayouts decodes lines written by hand from each layout's directives
// (mod_log_config's %-directives, ngx_http_log_module's variables): the
// named layouts, and custom ones with ports, durations, headers, the path
// and query apart, and other time stamps.
func TestLayouts(t *testing.T) {
	for _, tt := range []struct {
		layout, line string
		service      string
		c            dectest.Case
	}{
		{"common", `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`, "apache",
			dectest.Case{Time: "2000-10-10T20:55:36Z", Absent: []string{"url.query"}, Common: map[string]string{"source.ip": "192.0.2.1", "http.request.method": "GET", "url.original": "/apache_pb.gif", "url.path": "/apache_pb.gif", "http.response.status_code": "200", "event.outcome": "success", "user.name": ""},
				Field: map[string]string{"cs-uri-query": "/apache_pb.gif", "cs-uri-stem": "/apache_pb.gif", "cs-version": "HTTP/1.0", "sc-bytes": "2326", "sc-status": "200"}}},
		{"combined", `192.0.2.1 - frank smith [10/Oct/2000:13:55:36 +0000] "POST /login.php?next=%2F HTTP/1.1" 401 - "http://example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)" extra 17`, "apache",
			dectest.Case{Time: "2000-10-10T13:55:36Z", Common: map[string]string{"user.name": "frank smith", "url.original": "/login.php?next=%2F", "url.path": "/login.php", "http.response.status_code": "401", "event.outcome": "failure", "user_agent.original": "Mozilla/4.08 [en] (Win98; I ;Nav)"},
				Field: map[string]string{"cs-username": "frank smith", "url.query": "next=%2F", "cs-referer": "http://example.com/start.html", "cs-user-agent": "Mozilla/4.08 [en] (Win98; I ;Nav)", "cs-method": "POST"}, Absent: []string{"sc-bytes"}}},
		{"vhost_combined", `www.example.org:443 2001:db8::1 - - [02/Jan/2024:03:04:05 +0100] "GET /a?b=\"c\" HTTP/2.0" 304 512 "-" "curl/8.5.0"`, "apache",
			dectest.Case{Time: "2024-01-02T02:04:05Z", Common: map[string]string{"source.ip": "2001:db8::1", "url.domain": "www.example.org", "destination.port": "443", "url.original": `/a?b=\"c\"`, "user_agent.original": "curl/8.5.0"},
				Field: map[string]string{"cs-host": "www.example.org", "s-port": "443", "cs-uri-stem": "/a"}, Absent: []string{"cs-referer"}}},
		{"main", `203.0.113.9 - alice [02/Jan/2024:03:04:05 +0000] "GET /x HTTP/1.1" 404 153 "-" "Go-http-client/1.1" "198.51.100.1, 10.0.0.1"`, "nginx",
			dectest.Case{Time: "2024-01-02T03:04:05Z", Common: map[string]string{"source.ip": "203.0.113.9", "user.name": "alice", "http.response.status_code": "404", "url.path": "/x"},
				Field: map[string]string{"http_x_forwarded_for": "198.51.100.1, 10.0.0.1", "sc-bytes": "153", "http.response.body.bytes": "153"}}},
		// nginx escapes a quote in a value as \x22.
		{"nginx_combined", `203.0.113.9 - - [02/Jan/2024:03:04:05 +0000] "GET /q?s=\x22x\x22 HTTP/1.1" 200 0 "-" "sqlmap/1.7"`, "nginx",
			dectest.Case{Time: "2024-01-02T03:04:05Z", Common: map[string]string{"url.original": `/q?s=\x22x\x22`, "user_agent.original": "sqlmap/1.7"}}},
		{`%a %{remote}p %A %p %u %t %m %U%q %H %>s %B %D %T %{X-Forwarded-For}i "%{User-Agent}i"`,
			`198.51.100.7 50312 10.0.0.5 8443 - [06/May/2024:08:00:00 +0000] GET /search?q=1%27 HTTP/1.1 500 12 2048 0 - "python-requests/2.31"`, "apache",
			dectest.Case{Time: "2024-05-06T08:00:00Z", Common: map[string]string{"source.ip": "198.51.100.7", "source.port": "50312", "destination.ip": "10.0.0.5", "destination.port": "8443", "http.request.method": "GET", "url.original": "/search?q=1%27", "url.path": "/search", "http.response.status_code": "500", "event.outcome": "failure"},
				Field: map[string]string{"cs-uri-query": "/search?q=1%27", "cs-uri-stem": "/search", "url.query": "q=1%27", "http.response.body.bytes": "12", "time-taken-us": "2048", "c-port": "50312"}, Absent: []string{"cs(X-Forwarded-For)"}}},
		{`%h %t "%r" %>s "%{Content-Type}i"`, `10.1.2.3 [02/Jan/2024:03:04:05 +0000] "POST /sap/x.jsp HTTP/1.1" 200 "application/octet-stream"`, "apache",
			dectest.Case{Time: "2024-01-02T03:04:05Z", Field: map[string]string{"cs-content-type": "application/octet-stream"}}},
		{`%h %{sec}t "%r" %s`, `10.1.2.3 1704164645 "DELETE /api/7 HTTP/1.1" 204`, "apache",
			dectest.Case{Time: "2024-01-02T03:04:05Z", Common: map[string]string{"http.request.method": "DELETE", "url.path": "/api/7"}}},
		{`$remote_addr:$remote_port [$time_iso8601] $request_method $request_uri $status $request_time $upstream_addr "$http_user_agent"`,
			`192.0.2.44:61000 [2024-01-02T04:04:05+01:00] PUT /up?f=1 201 0.004 127.0.0.1:9000 "Wget"`, "nginx",
			dectest.Case{Time: "2024-01-02T03:04:05Z", Common: map[string]string{"source.ip": "192.0.2.44", "source.port": "61000", "http.request.method": "PUT", "url.original": "/up?f=1", "url.path": "/up"},
				Field: map[string]string{"cs-uri-query": "/up?f=1", "cs-uri-stem": "/up", "request_time": "0.004", "upstream_addr": "127.0.0.1:9000", "cs-method": "PUT"}}},
		{`$msec $remote_addr $uri $args $status`, `1704164645.250 192.0.2.5 /p a=1&b=2 200`, "nginx",
			dectest.Case{Time: "2024-01-02T03:04:05.25Z", Common: map[string]string{"url.original": "/p?a=1&b=2", "url.path": "/p"}}},
	} {
		ev, err := dectest.DecodeLine(newWith(t, tt.layout), tt.line, time.Time{})
		if err != nil {
			t.Errorf("%s: %v", tt.layout, err)
			continue
		}
		if want := (event.Logsource{Category: "webserver", Service: tt.service}); ev.Logsource != want {
			t.Errorf("%s: logsource %+v", tt.layout, ev.Logsource)
		}
		tt.c.Check(t, tt.layout, ev)
	}
}

func TestLayoutBad(t *testing.T) {
	for _, tt := range []struct {
		layout, line string
		want         decode.Error
	}{
		{"combined", `192.0.2.1 - - 10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1`, decode.Error{Offset: 12, Field: "cs-username", Reason: `no " [" after this value`}},
		{"combined", `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.0" 200 1`, decode.Error{Offset: 42, Field: "request", Reason: `want " \"" here`}},
		{"combined", `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 2000 1`, decode.Error{Offset: 60, Field: "status", Reason: "three-digit"}},
		{"common", `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 many`, decode.Error{Offset: 64, Field: "bytes", Reason: "not a number"}},
		{"combined", `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "cut`, decode.Error{Offset: 71, Field: "cs-user-agent", Reason: "no"}},
		{`$msec $status`, `12x 200`, decode.Error{Offset: 0, Field: "time", Reason: "unreadable"}},
	} {
		err := newWith(t, tt.layout).Decode([]byte(tt.line), new(event.Event))
		tt.want.Format = Format
		dectest.WantError(t, tt.layout+" "+tt.line, err, tt.want)
	}
}

func TestLayoutCompileErrors(t *testing.T) {
	for _, tt := range []struct{ layout, want string }{
		{"apache", "neither a named layout"},
		{`%h %Z`, "unknown directive %Z at byte 3"},
		{`%h %{Referer`, "has no }"},
		{`%h%u %t`, "nothing between"},
		{`$remote_addr ${oops`, "has no }"},
		{"   ", "empty"},
	} {
		err := New().(decode.Configurable).Configure(decode.Options{Layout: tt.layout})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.layout, err, tt.want)
		}
	}
}

func TestLayoutZeroAllocs(t *testing.T) {
	recs := dectest.LineRecords(t, "access.log")[:4]
	dectest.ZeroAllocs(t, newWith(t, `%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`), benchDict, recs[3:4])
	dectest.ZeroAllocs(t, newWith(t, "combined"), benchDict, [][]byte{recs[0], recs[2]})
}

func benchCombined(b *testing.B) [][]byte {
	recs := dectest.LineRecords(b, "access.log")
	return [][]byte{recs[0], recs[2], recs[4], recs[6]}
}

func BenchmarkDecodeLayout(b *testing.B) {
	dectest.BenchDecode(b, newWith(b, "combined"), benchDict, benchCombined(b))
}

func FuzzDecodeLayout(f *testing.F) {
	for _, r := range dectest.LineRecords(f, "access.log") {
		f.Add(r)
	}
	f.Add([]byte(`198.51.100.7 50312 10.0.0.5 8443 - [06/May/2024:08:00:00 +0000] GET /search?q=1 HTTP/1.1 500 12 2048 0 - "p"`))
	dectest.Fuzz(f, newWith(f, `%a %{remote}p %A %p %u %t %m %U%q %H %>s %B %D %T %{X-Forwarded-For}i "%{User-Agent}i"`), nil, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Time.IsZero() {
			t.Fatalf("decoded without time")
		}
	})
}

// TestLayoutsDocumented: every named layout is in docs/formats.md's table
// with the format string it compiles.
func TestLayoutsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/formats.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Layouts() {
		row := "| `" + name + "` | `" + named[name] + "`"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/formats.md has no row %s", row)
		}
	}
	if len(Layouts()) != len(named) {
		t.Errorf("Layouts lists %d, named holds %d", len(Layouts()), len(named))
	}
}
