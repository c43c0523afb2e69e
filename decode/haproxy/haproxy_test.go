package haproxy

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// TestLines decodes lines written from the manual's field tables (8.2.2,
// 8.2.3): the manual's own examples, an RFC 5424-stamped header, IPv6, a
// TLS frontend, a cookie, no server (<NOSRV>, <BADREQ>, -1 timers, "+"
// counts), captured headers, an absolute HTTP/2 target, and a request cut
// before its closing quote.
func TestLines(t *testing.T) {
	lines := dectest.LineRecords(t, "haproxy.log")
	cases := []struct {
		ls event.Logsource
		c  dectest.Case
	}{
		{event.Logsource{Category: "webserver", Service: "haproxy"}, dectest.Case{Time: "2009-02-06T12:14:14.655Z",
			Common: map[string]string{"source.ip": "10.0.1.2", "source.port": "33317", "host.name": "localhost", "process.pid": "14389", "process.name": "haproxy",
				"http.request.method": "GET", "url.original": "/index.html", "url.path": "/index.html", "http.response.status_code": "200", "event.outcome": "success", "service.name": "http-in"},
			Field: map[string]string{"frontend_name": "http-in", "backend_name": "static", "server_name": "srv1", "TR": "10", "Tw": "0", "Tc": "30", "Tr": "69", "Ta": "109",
				"bytes_read": "2750", "termination_state": "----", "actconn": "1", "retries": "0", "srv_queue": "0", "backend_queue": "0",
				"captured_request_headers": "1wt.eu", "captured_response_headers": "", "http_request": "GET /index.html HTTP/1.1", "cs-uri-query": "/index.html", "cs-version": "HTTP/1.1", "sc-status": "200"},
			Absent: []string{"captured_request_cookie"}}},
		{event.Logsource{Category: "proxy", Service: "haproxy"}, dectest.Case{Time: "2009-02-06T12:12:51.443Z",
			Common: map[string]string{"source.ip": "10.0.1.2", "source.port": "33313", "host.name": "", "process.pid": "14387", "network.transport": "tcp", "http.response.status_code": ""},
			Field:  map[string]string{"Tw": "0", "Tc": "0", "Tt": "5007", "bytes_read": "212", "termination_state": "--", "retries": "3"}, Absent: []string{"TR"}}},
		{event.Logsource{Category: "webserver", Service: "haproxy"}, dectest.Case{Time: "2024-01-02T03:04:05.001Z",
			Common: map[string]string{"source.ip": "2001:db8::20", "source.port": "51000", "host.name": "lb01", "service.name": "fe_https", "http.response.status_code": "403", "event.outcome": "failure",
				"url.original": "/login.php?user=admin%27--", "url.path": "/login.php"},
			Field: map[string]string{"frontend_name": "fe_https~", "captured_request_cookie": "JSESSIONID=abc", "termination_state": "PR--", "cs-method": "POST"}, Absent: []string{"captured_request_headers"}}},
		{event.Logsource{Category: "webserver", Service: "haproxy"}, dectest.Case{Time: "2024-01-02T03:04:06.12Z",
			Common: map[string]string{"source.ip": "198.51.100.8", "http.response.status_code": "400", "http.request.method": "", "url.original": ""},
			Field:  map[string]string{"server_name": "<NOSRV>", "TR": "-1", "Ta": "+0", "bytes_read": "+187", "sc-bytes": "187", "http_request": "<BADREQ>"}}},
		{event.Logsource{Category: "webserver", Service: "haproxy"}, dectest.Case{Time: "2024-01-02T03:04:07.5Z",
			Common: map[string]string{"source.ip": "203.0.113.77", "host.name": "", "process.pid": "", "url.domain": "api.example.com", "url.path": "/v2/items", "url.original": "https://api.example.com/v2/items?id=7"},
			Field:  map[string]string{"captured_request_headers": "api.example.com|curl/8.5.0", "captured_response_headers": "nginx", "cs-uri-query": "/v2/items?id=7", "cs-version": "HTTP/2.0"}}},
		{event.Logsource{Category: "webserver", Service: "haproxy"}, dectest.Case{Time: "2024-01-02T03:04:08Z",
			Common: map[string]string{"http.response.status_code": "504", "url.path": "/slow"},
			Field:  map[string]string{"Tr": "-1", "Ta": "30001", "termination_state": "sH--", "backend_queue": "3", "http_request": "GET /slow HTTP/1.1"}}},
		{event.Logsource{Category: "proxy", Service: "haproxy"}, dectest.Case{Time: "2025-02-06T12:12:09Z",
			Common: map[string]string{"source.ip": "10.0.1.2", "source.port": "33312", "destination.ip": "10.0.3.31", "destination.port": "8012", "service.name": "www", "host.name": "localhost", "event.action": "connection-accepted"},
			Field:  map[string]string{"frontend_name": "www", "mode": "HTTP"}}},
		// Fields a log-format adds after the request are left alone.
		{event.Logsource{Category: "webserver", Service: "haproxy"}, dectest.Case{Time: "2024-04-10T15:41:58.284Z",
			Common: map[string]string{"source.port": "54761", "url.original": "/path/get/resource", "http.response.status_code": "200"},
			Field:  map[string]string{"http_request": "GET /path/get/resource HTTP/1.1", "captured_request_headers": "saas.ms.example.com", "TR": "1796"}}},
	}
	if len(lines) != len(cases) {
		t.Fatalf("%d lines, %d cases", len(lines), len(cases))
	}
	for i, tt := range cases {
		ev, err := dectest.DecodeLine(New(), string(lines[i]), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		if ev.Logsource != tt.ls {
			t.Errorf("line %d: logsource %+v", i+1, ev.Logsource)
		}
		tt.c.Check(t, "line "+string(rune('1'+i)), ev)
	}
}

func TestBadInput(t *testing.T) {
	const pre = "haproxy[1]: 10.0.1.2:33317 "
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "empty"},
		{Rec: "haproxy[1]: hello", Field: "accept_date", Reason: "no client_ip"},
		{Rec: "haproxy[1]: 10.0.1.2 [06/Feb/2009:12:14:14.655] a b/c 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", Field: "client_ip", Reason: "address:port", Offset: 12},
		{Rec: pre + "[06/Fev/2009:12:14:14.655] a b/c 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", Field: "accept_date", Reason: "accept_date", Offset: 28},
		{Rec: pre + "[06/Feb/2009:12:14:14.655] a bc 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", Field: "backend_name", Reason: "backend_name/server_name", Offset: 56},
		{Rec: pre + "[06/Feb/2009:12:14:14.655] a b/c 1/2/x/4/5 200 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", Field: "timers", Reason: "TR/Tw/Tc/Tr/Ta", Offset: 60},
		{Rec: pre + "[06/Feb/2009:12:14:14.655] a b/c 1/2/3/4/5 20 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", Field: "status_code", Reason: "three-digit", Offset: 70},
		{Rec: pre + "[06/Feb/2009:12:14:14.655] a b/c 1/2/3/4/5 200 x - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", Field: "bytes_read", Reason: "not a number", Offset: 74},
		{Rec: pre + "[06/Feb/2009:12:14:14.655] a b/c 1/2/3/4/5 200 1 - - ---- 1/1/1/0 0/0 \"GET / HTTP/1.1\"", Field: "actconn", Reason: "actconn/", Offset: 85},
		{Rec: pre + "[06/Feb/2009:12:14:14.655] a b/c 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 GET / HTTP/1.1", Field: "http_request", Reason: "quoted", Offset: 99},
	})
}

func TestSniff(t *testing.T) {
	dectest.Sniffed(t, Format, dectest.LineRecords(t, "haproxy.log"))
	for _, l := range []string{"", `127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326`, "Feb  6 12:14:14 localhost haproxy[14389]: Proxy http-in started."} {
		if s := Sniff([]byte(l)); s != 0 {
			t.Errorf("%q: %d", l, s)
		}
	}
}

var benchDict = event.NewDict("cs-uri-query", "cs-method", "sc-status", "termination_state")

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, dectest.LineRecords(t, "haproxy.log"))
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchDecode(b, New(), benchDict, dectest.LineRecords(b, "haproxy.log"))
}

func FuzzDecode(f *testing.F) {
	for _, r := range dectest.LineRecords(f, "haproxy.log") {
		f.Add(r)
	}
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		// Only the default format's "Connect from" has no time of its
		// own (its syslog header's, or the receive time).
		if ev.Time.IsZero() && ev.Common[event.EventAction] != "connection-accepted" || ev.Common[event.SourcePort] == "" {
			t.Fatalf("decoded without time or client port: %v", ev.Time)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }
