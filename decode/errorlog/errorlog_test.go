package errorlog

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// TestApache decodes lines written from httpd's do_errorlog_default (2.4)
// and log_error_core (2.2): each group present and absent, a debug
// message's file(line), an APR status, [remote …], ErrorLogFormat's %{cu}t
// stamp, and ModSecurity 2 messages.
func TestApache(t *testing.T) {
	const f = "apache_error.log"
	dectest.CheckLines(t, NewApache, time.Time{}, event.Logsource{Service: "apache"}, []dectest.Case{
		{File: f, Line: 0, Time: "2000-10-11T14:32:52Z",
			Common: map[string]string{"source.ip": "127.0.0.1", "source.port": "", "message": "client denied by server configuration: /export/home/live/ap/htdocs/test", "event.outcome": "failure"},
			Field:  map[string]string{"log.level": "error", "c-ip": "127.0.0.1"}, Absent: []string{"log.logger", "process.pid"}},
		{File: f, Line: 1, Time: "2000-10-11T14:32:52.123456Z",
			Common: map[string]string{"source.ip": "127.0.0.1", "source.port": "54321", "process.pid": "1234", "event.code": "AH00126", "message": "Invalid URI in request GET /../../etc/passwd HTTP/1.1"},
			Field:  map[string]string{"log.level": "error", "log.logger": "core", "process.thread.id": "5678", "error.code": "AH00126"}},
		{File: f, Line: 2, Time: "2011-05-12T08:28:57.652118Z",
			Common: map[string]string{"source.ip": "::1", "source.port": "58619", "event.code": "AH00035"},
			Field:  map[string]string{"error.errno": "13", "error.type": "Permission denied", "cs-referer": "http://example.com/start", "error.message": "access to /index.html denied (filesystem path '/srv/www/index.html') because search permissions are missing on a component of the path"}},
		{File: f, Line: 3, Time: "2006-08-12T04:05:51Z",
			Common: map[string]string{"source.ip": "", "event.outcome": "", "message": "Apache/1.3.11 (Unix) mod_perl/1.21 configured -- resuming normal operations"},
			Field:  map[string]string{"log.level": "notice"}},
		{File: f, Line: 4, Time: "2024-01-02T03:04:05.678901Z",
			Common: map[string]string{"process.pid": "99", "message": "child pid 4242 exit signal Segmentation fault (11)"},
			Absent: []string{"process.thread.id", "error.errno"}},
		{File: f, Line: 5, Time: "2024-01-02T03:04:05.123456Z",
			Common: map[string]string{"source.ip": "203.0.113.5", "source.port": "51234", "http.response.status_code": "403", "event.action": "access-denied", "event.outcome": "failure", "event.kind": "alert",
				"url.original": "/index.php", "url.path": "/index.php", "url.domain": "www.example.com"},
			Field: map[string]string{"log.logger": "security2", "rule.id": "942100", "rule.name": "SQL Injection Attack Detected via libinjection", "rule.ruleset": "OWASP_CRS/3.3.5",
				"modsec.severity": "CRITICAL", "modsec.unique_id": "ZZQ3xX8AAQEAAAbXnqQAAAAA", "modsec.data": "Matched Data: s&sos found within ARGS:id: 1' or '1'='1", "modsec.line": "65",
				"modsec.message": "Access denied with code 403 (phase 2). detected SQLi using libinjection with fingerprint 's&sos'", "cs-referer": "http://www.example.com/"},
			Fields: map[string][]string{"modsec.tag": {"application-multi", "language-multi", "platform-multi", "attack-sqli"}}},
		{File: f, Line: 6, Time: "2000-10-11T14:32:52Z",
			Common: map[string]string{"source.ip": "198.51.100.2", "event.action": "warning", "http.response.status_code": "", "url.path": "/search"},
			Field:  map[string]string{"rule.id": "981242", "modsec.data": `Matched Data: \"union\" found`, "modsec.hostname": "example.org", "modsec.message": `Warning. Pattern match "(?i)\\b(?:union)" at ARGS:q.`}},
		{File: f, Line: 7, Time: "2024-01-02T03:04:05.0001Z",
			Common: map[string]string{"source.ip": "192.0.2.9", "source.port": "40000", "event.code": "AH02043"},
			Field:  map[string]string{"source.file": "ssl_engine_kernel.c(2391)", "log.level": "debug", "log.logger": "ssl"}},
		{File: f, Line: 8, Time: "2024-01-02T03:04:05.123456Z",
			Common: map[string]string{"source.ip": "10.0.0.2", "source.port": "9000", "message": "Got error 'Primary script unknown'"},
			Field:  map[string]string{"log.logger": "proxy_fcgi"}},
		{File: f, Line: 9, Time: "2024-01-02T03:04:05Z",
			Common: map[string]string{"source.ip": "2001:db8::7", "message": "mod_x: failure"},
			Field:  map[string]string{"error.errno": "-3", "error.type": "Unknown error -3", "log.level": "crit"}},
		// Only debug messages carry file(line): this one is the message.
		{File: f, Line: 10, Time: "2024-01-02T03:04:05.0002Z", Common: map[string]string{"message": "getaddrinfo(3): failed for www", "user.name": ""}, Absent: []string{"source.file"}},
		// mod_auth_basic's failures name the user and the URI.
		{File: f, Line: 11, Time: "2024-01-02T03:04:06.000001Z",
			Common: map[string]string{"user.name": "bob", "url.original": "/private/a?x=1", "url.path": "/private/a", "event.category": "authentication", "event.action": "authentication-failure", "event.outcome": "failure", "event.code": "AH01617", "source.port": "40002"},
			Field:  map[string]string{"cs-referer": "https://example.com/"}},
		{File: f, Line: 12, Time: "2024-01-02T03:04:07.000001Z", Common: map[string]string{"user.name": "mallory", "url.path": "/private/", "event.code": "AH01618"}},
	})
}

// TestNginx decodes lines written from ngx_log_error_core and
// ngx_http_log_error: with and without a connection, errno, each context
// key, a libmodsecurity 3 message, and a message quoting text that looks
// like the context.
func TestNginx(t *testing.T) {
	const f = "nginx_error.log"
	dectest.CheckLines(t, NewNginx, time.Time{}, event.Logsource{Service: "nginx"}, []dectest.Case{
		{File: f, Line: 0, Time: "2024-01-02T03:04:05Z",
			Common: map[string]string{"source.ip": "1.2.3.4", "process.pid": "1234", "http.request.method": "GET", "url.original": "/x", "url.path": "/x", "url.domain": "example.com",
				"message": `open() "/usr/share/nginx/html/x" failed (2: No such file or directory)`, "event.outcome": "failure"},
			Field: map[string]string{"log.level": "error", "process.thread.id": "5678", "connection.id": "9", "error.errno": "2", "error.type": "No such file or directory",
				"s-sitename": "example.com", "request": "GET /x HTTP/1.1", "cs-uri-query": "/x", "cs-version": "HTTP/1.1", "cs-host": "example.com"}},
		{File: f, Line: 1, Time: "2024-01-02T03:04:06Z", Common: map[string]string{"message": "signal process started", "event.outcome": ""}, Absent: []string{"connection.id"}},
		{File: f, Line: 2, Time: "2024-01-02T03:04:07Z", Common: map[string]string{"message": "worker process 4242 exited on signal 6 (core dumped)"}, Field: map[string]string{"log.level": "alert"}, Absent: []string{"error.errno"}},
		{File: f, Line: 3, Time: "2024-01-02T03:04:08Z",
			Common: map[string]string{"source.ip": "2001:db8::5", "http.request.method": "POST", "url.path": "/v1/login"},
			Field:  map[string]string{"error.errno": "111", "upstream": "http://127.0.0.1:8080/v1/login", "cs-referer": "https://api.example.com/", "cs-version": "HTTP/2.0"}},
		{File: f, Line: 4, Time: "2024-01-02T03:04:09Z",
			Common: map[string]string{"source.ip": "198.51.100.77", "url.domain": "10.0.0.1", "message": `user "admin": password mismatch`, "user.name": "admin", "event.outcome": "failure", "event.category": "authentication"}},
		{File: f, Line: 5, Time: "2024-01-02T03:04:10Z",
			Common: map[string]string{"source.ip": "203.0.113.5", "http.response.status_code": "403", "event.action": "access-denied", "url.original": "/?id=1%27%20or%201=1", "url.domain": "203.0.113.1"},
			Field:  map[string]string{"rule.id": "949110", "rule.name": "Inbound Anomaly Score Exceeded (Total Score: 5)", "modsec.severity": "2", "modsec.unique_id": "170416464512.345678", "modsec.uri": "/", "cs-uri-query": "/?id=1%27%20or%201=1"},
			Fields: map[string][]string{"modsec.tag": {"application-multi", "language-multi", "platform-multi", "attack-generic"}}},
		{File: f, Line: 6, Time: "2024-01-02T03:04:11Z",
			Common: map[string]string{"source.ip": "192.0.2.10", "message": `open() "/usr/share/nginx/html/a, client: 6.6.6.6" failed (2: No such file or directory)`, "url.original": `/a, client: 6.6.6.6"`},
			Field:  map[string]string{"request": `GET /a, client: 6.6.6.6" HTTP/1.1`, "cs-host": "example.com"}},
		{File: f, Line: 7, Time: "2024-01-02T03:04:12Z", Common: map[string]string{"source.ip": "", "message": `conflicting server name "example.com" on 0.0.0.0:80, ignored`}, Field: map[string]string{"log.level": "warn"}},
		{File: f, Line: 8, Time: "2024-01-02T03:04:13Z", Common: map[string]string{"source.ip": "192.0.2.77"}, Field: map[string]string{"s-sitename": "0.0.0.0:443", "log.level": "crit"}, Absent: []string{"error.errno"}},
		{File: f, Line: 9, Time: "2024-01-02T03:04:14Z", Common: map[string]string{"user.name": "root", "source.ip": "198.51.100.78", "event.action": "authentication-failure", "url.path": "/admin/"}},
	})
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, FormatApache, NewApache, []dectest.Bad{
		{Rec: "", Reason: "empty"},
		{Rec: "Wed Oct 11 14:32:52 2000 [error] x", Field: "time", Reason: "no [time stamp]"},
		{Rec: "[Wed Oct 11 14:32:52 2000 [error] x", Field: "time", Reason: "time stamp", Offset: 1},
		{Rec: "[Wed Oct 41 14:32:52 2000] [error] x", Field: "time", Reason: "time stamp", Offset: 1},
		{Rec: "[Wed Oct 11 14:32:52 2000] [oops] x", Field: "log.level", Reason: "no [level]", Offset: 27},
		{Rec: "[Wed Oct 11 14:32:52 2000] just text", Field: "log.level", Reason: "no [level]", Offset: 27},
	})
	dectest.CheckBad(t, FormatNginx, NewNginx, []dectest.Bad{
		{Rec: "", Reason: "empty"},
		{Rec: "2024-01-02 03:04:05 [error] 1#1: x", Field: "time", Reason: "yyyy/mm/dd"},
		{Rec: "2024/02/30 03:04:05 [error] 1#1: x", Field: "time", Reason: "yyyy/mm/dd"},
		{Rec: "2024/01/02 03:04:05 error 1#1: x", Field: "log.level", Reason: "no [level]", Offset: 20},
		{Rec: "2024/01/02 03:04:05 [fatal] 1#1: x", Field: "log.level", Reason: "level is not", Offset: 21},
		{Rec: "2024/01/02 03:04:05 [error] worker: x", Field: "process.pid", Reason: "pid#tid", Offset: 28},
	})
}

func TestSniff(t *testing.T) {
	dectest.Sniffed(t, FormatApache, dectest.LineRecords(t, "apache_error.log"))
	dectest.Sniffed(t, FormatNginx, dectest.LineRecords(t, "nginx_error.log"))
	for _, l := range []string{
		"", "[Wed Oct 11 14:32:52 2000]", `127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326`,
		"[Wed Oct 11 14:32:52 2000] [client 1.2.3.4] x", "2024/01/02 03:04:05 hello", "Mar  3 22:14:05 bastion sshd[4121]: Failed password",
	} {
		if s := SniffApache([]byte(l)); s != 0 {
			t.Errorf("apache %q: %d", l, s)
		}
		if s := SniffNginx([]byte(l)); s != 0 {
			t.Errorf("nginx %q: %d", l, s)
		}
	}
}

var benchDict = event.NewDict("log.level", "rule.id", "error.message", "cs-uri-query")

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, NewApache(), benchDict, dectest.LineRecords(t, "apache_error.log"))
	dectest.ZeroAllocs(t, NewNginx(), benchDict, dectest.LineRecords(t, "nginx_error.log"))
}

func BenchmarkApache(b *testing.B) {
	dectest.BenchDecode(b, NewApache(), benchDict, dectest.LineRecords(b, "apache_error.log"))
}

func BenchmarkNginx(b *testing.B) {
	dectest.BenchDecode(b, NewNginx(), benchDict, dectest.LineRecords(b, "nginx_error.log"))
}

func fuzz(f *testing.F, d decode.Decoder, sniff decode.Sniffer, file string) {
	for _, r := range dectest.LineRecords(f, file) {
		f.Add(r)
	}
	dectest.Fuzz(f, d, sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Time.IsZero() || ev.Time.Location() != time.UTC {
			t.Fatalf("decoded without a UTC time: %v", ev.Time)
		}
	})
}

func FuzzApache(f *testing.F) { fuzz(f, NewApache(), SniffApache, "apache_error.log") }
func FuzzNginx(f *testing.F)  { fuzz(f, NewNginx(), SniffNginx, "nginx_error.log") }

func TestRegistered(t *testing.T) {
	dectest.Registered[*Apache](t, FormatApache)
	dectest.Registered[*Nginx](t, FormatNginx)
}
