package auto_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/all"
	"github.com/vigil-sec/vigil/decode/auto"
	"github.com/vigil-sec/vigil/event"
)

type got struct {
	format    string
	logsource event.Logsource
	time      time.Time
	common    map[string]string
	fields    map[string]string
}

// run expands recs through one auto decoder, as a pipeline worker does a
// source's records, and returns every event and every record's error.
func run(t *testing.T, d decode.Decoder, recs []string) ([]got, []error) {
	t.Helper()
	dict := event.NewOpenDict()
	var out []got
	var errs []error
	for _, r := range recs {
		var ev event.Event
		ev.Fields.Bind(dict)
		ev.ID, ev.Format = event.NewID(), auto.Format // as the pipeline sets them
		err := d.(decode.Expander).Expand([]byte(r), &ev, func(e *event.Event) {
			g := got{format: e.Format, logsource: e.Logsource, time: e.Time, common: map[string]string{}, fields: map[string]string{}}
			for i, v := range e.Common {
				if v != "" {
					g.common[event.CommonName(i)] = strings.Clone(v)
				}
			}
			for _, id := range e.Fields.IDs() {
				v, _ := e.Fields.Get(id)
				g.fields[dict.Name(id)] = strings.Clone(v)
			}
			out = append(out, g)
		})
		errs = append(errs, err)
	}
	return out, errs
}

// mixed is one stream of four formats, interleaved.
var mixed = []string{
	`Mar  3 22:14:07 bastion sshd[4121]: Failed password for root from 198.51.100.77 port 51422 ssh2`,
	`CEF:0|Vigil Test|Gateway|2.1|100|Login failed|7|src=198.51.100.7 spt=40022 dst=192.0.2.10 dpt=22 suser=alice act=denied outcome=failure rt=1714982400123`,
	`{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WKS01","TimeCreated":"2023-03-14T09:26:53.589Z","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami"}`,
	`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"bob"},"eventTime":"2024-05-06T10:30:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66","responseElements":{"ConsoleLogin":"Failure"}}`,
	`Mar  3 22:15:40 bastion sshd[4188]: Accepted publickey for deploy from 10.20.0.15 port 60112 ssh2`,
}

func TestMixedStream(t *testing.T) {
	evs, errs := run(t, auto.New(), mixed)
	for i, err := range errs {
		if err != nil {
			t.Errorf("record %d: %v", i+1, err)
		}
	}
	if len(evs) != len(mixed) {
		t.Fatalf("%d events from %d records", len(evs), len(mixed))
	}
	for i, tt := range []struct {
		format    string
		logsource event.Logsource
		common    map[string]string
		fields    map[string]string
	}{
		{"sshd", event.Logsource{Product: "linux", Service: "sshd"},
			map[string]string{"user.name": "root", "source.ip": "198.51.100.77", "event.outcome": "failure"}, nil},
		{"cef", event.Logsource{},
			map[string]string{"source.ip": "198.51.100.7", "destination.port": "22", "user.name": "alice"}, map[string]string{"act": "denied"}},
		{"windows", event.Logsource{Product: "windows", Category: "process_creation", Service: "sysmon"},
			map[string]string{"host.name": "WKS01", "process.command_line": "cmd /c whoami", "process.name": "cmd.exe"}, map[string]string{"EventID": "1"}},
		{"cloudtrail", event.Logsource{Product: "aws", Service: "cloudtrail"},
			map[string]string{"source.ip": "203.0.113.66", "event.action": "ConsoleLogin"}, map[string]string{"userIdentity.userName": "bob", "eventSource": "signin.amazonaws.com"}},
		{"sshd", event.Logsource{Product: "linux", Service: "sshd"},
			map[string]string{"user.name": "deploy", "event.outcome": "success"}, nil},
	} {
		e := evs[i]
		if e.format != tt.format || e.logsource != tt.logsource || e.time.IsZero() {
			t.Errorf("record %d: format %q logsource %+v time %v; want %q %+v", i+1, e.format, e.logsource, e.time, tt.format, tt.logsource)
		}
		for k, v := range tt.common {
			if e.common[k] != v {
				t.Errorf("record %d (%s): %s = %q, want %q", i+1, tt.format, k, e.common[k], v)
			}
		}
		for k, v := range tt.fields {
			if e.fields[k] != v {
				t.Errorf("record %d (%s): field %s = %q, want %q", i+1, tt.format, k, e.fields[k], v)
			}
		}
	}
}

// TestExpanders: a flow log record gives one event a tuple, each of format
// nsgflow; a vpcflow header sets the fields of the custom lines after it
// in the one vpcflow decoder auto keeps, and gives no event.
func TestExpanders(t *testing.T) {
	recs := []string{
		`{"time":"2024-05-06T00:00:00Z","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":1,"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":["1714982401,1.2.3.4,10.0.0.1,1,22,T,I,D","1714982402,1.2.3.5,10.0.0.1,1,443,T,I,A"]}]}]}}`,
		`version vpc-id interface-id srcaddr dstaddr srcport dstport protocol action log-status`,
		`5 vpc-0a1b eni-0a1b 192.0.2.1 10.0.0.5 4444 3389 6 REJECT OK`,
	}
	evs, errs := run(t, auto.New(), recs)
	for i, err := range errs {
		if err != nil {
			t.Errorf("record %d: %v", i+1, err)
		}
	}
	if len(evs) != 3 {
		t.Fatalf("%d events, want 2 tuples and 1 flow line: %+v", len(evs), evs)
	}
	if evs[0].format != "nsgflow" || evs[1].format != "nsgflow" || evs[0].common["event.action"] != "deny" || evs[1].common["destination.port"] != "443" {
		t.Errorf("nsg tuples: %+v", evs[:2])
	}
	if e := evs[2]; e.format != "vpcflow" || e.common["destination.port"] != "3389" || e.fields["vpc-id"] != "vpc-0a1b" || e.common["event.action"] != "deny" {
		t.Errorf("custom vpcflow line: %+v", e)
	}
}

func TestUnrecognized(t *testing.T) {
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	for _, rec := range []string{"", "\x00"} {
		err := auto.New().Decode([]byte(rec), &ev)
		var de *decode.Error
		// The text format claims any non-empty record (score 1): only a
		// record no sniffer claims at all is refused.
		if rec == "" {
			if !errors.As(err, &de) || de.Format != auto.Format || de.Reason != "no format recognizes this record" {
				t.Errorf("%q: %v", rec, err)
			}
			continue
		}
		if err != nil || ev.Format != "text" {
			t.Errorf("%q: format %q, %v", rec, ev.Format, err)
		}
	}
	// A record its format refuses keeps that format's error.
	err := auto.New().Decode([]byte(`{"EventID":"x","Channel":"Security"}`), &ev)
	var de *decode.Error
	if !errors.As(err, &de) || de.Format != "windows" {
		t.Errorf("bad windows record: %v", err)
	}
}

// TestConfigure passes options through: a time zone reaches sshd, a bad
// json mapping is refused when configured.
func TestConfigure(t *testing.T) {
	d := auto.New()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	if err := d.(decode.Configurable).Configure(decode.Options{Location: paris}); err != nil {
		t.Fatal(err)
	}
	evs, _ := run(t, d, mixed[:1])
	if len(evs) != 1 || evs[0].time.Hour() != 21 { // 22:14 CET is 21:14 UTC
		t.Errorf("sshd time with Europe/Paris: %+v", evs)
	}
	if err := auto.New().(decode.Configurable).Configure(decode.Options{Mapping: map[string]string{"x": "not.a.common.field"}}); err == nil {
		t.Error("bad json mapping accepted")
	}
}

func TestRegistered(t *testing.T) {
	if !decode.Known(auto.Format) {
		t.Fatal("auto not registered by decode/all")
	}
	// auto has no sniffer: it is never the guess for a record.
	for _, r := range mixed {
		if f, _ := decode.Sniff([]byte(r)); f == auto.Format {
			t.Errorf("%q sniffed as auto", r)
		}
	}
}

func FuzzAuto(f *testing.F) {
	for _, r := range mixed {
		f.Add([]byte(r))
	}
	d := auto.New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev event.Event
		ev.Fields.Bind(dict)
		err := d.(decode.Expander).Expand(rec, &ev, func(*event.Event) {})
		var de *decode.Error
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("error %v is not a *decode.Error", err)
		}
	})
}

// TestWebServerLogs: auto tells a web server's access log lines from its
// error log lines (Apache's and nginx's), and IIS and HAProxy lines from
// both; an IIS #Fields directive sets the columns of the entry after it.
func TestWebServerLogs(t *testing.T) {
	recs := []string{
		`192.0.2.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "-" "curl/8.5.0"`,
		`[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234:tid 5678] [client 192.0.2.1:54321] AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1`,
		`[Wed Oct 11 14:32:52 2000] [error] [client 192.0.2.1] client denied by server configuration: /srv/www`,
		`2024/01/02 03:04:05 [error] 1234#5678: *9 open() "/usr/share/nginx/html/x" failed (2: No such file or directory), client: 192.0.2.2, server: example.com, request: "GET /x HTTP/1.1", host: "example.com"`,
		`#Fields: date time c-ip cs-method cs-uri-stem sc-status`,
		`2024-01-02 03:04:05 192.0.2.3 GET /owa/ 302`,
		`Jan  2 03:04:06 lb01 haproxy[812]: 192.0.2.4:40112 [02/Jan/2024:03:04:06.120] fe be/s1 0/0/1/2/3 200 187 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
	}
	evs, errs := run(t, auto.New(), recs)
	for i, err := range errs {
		if err != nil {
			t.Errorf("record %d: %v", i+1, err)
		}
	}
	want := []struct{ format, ip string }{
		{"accesslog", "192.0.2.1"}, {"apache-error", "192.0.2.1"}, {"apache-error", "192.0.2.1"}, {"nginx-error", "192.0.2.2"}, {"iis", "192.0.2.3"}, {"haproxy", "192.0.2.4"},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, w := range want {
		if evs[i].format != w.format || evs[i].common["source.ip"] != w.ip {
			t.Errorf("event %d: format %q source.ip %q, want %q %q", i+1, evs[i].format, evs[i].common["source.ip"], w.format, w.ip)
		}
	}
}
