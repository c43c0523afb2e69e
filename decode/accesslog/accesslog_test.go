package accesslog

import (
	"bufio"
	"compress/gzip"
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

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%s not available (%v)", path, err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		if r, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
	}
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func decodeLine(t testing.TB, line string) (*event.Event, error) {
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	err := New().Decode([]byte(line), &ev)
	return &ev, err
}

func TestDecodeFixtures(t *testing.T) {
	lines := readLines(t, filepath.Join("testdata", "access.log"))
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
		{"2024-05-06T08:00:03Z", "192.0.2.55", "alice smith", "PUT", "/dav/file.txt", "/dav/file.txt", "201", "Microsoft-WebDAV-MiniRedir/10.0.19045", "success", "www.example.org:443",
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
		ev, err := decodeLine(t, lines[i])
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
		lines := readLines(t, filepath.Join(dir, name))
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
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{"", "", "empty", 0},
		{"hello world", "", "no [time stamp]", 0},
		{"1.2.3.4 - [06/May/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1", "", "client, ident and user", 0},
		{"1.2.3.4 - - [06/Mai/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1", "time", "time stamp", 13},
		{"1.2.3.4 - - [31/Apr/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1", "time", "time stamp", 13},
		{"1.2.3.4 - - [06/May/2024:08:00:00 +0000 \"GET / HTTP/1.1\" 200 1", "time", "no ]", 39},
		{"1.2.3.4 - - [06/May/2024:08:00:00 +0000] GET / 200 1", "request", "quoted request", 41},
		{"1.2.3.4 - - [06/May/2024:08:00:00 +0000] \"GET / HTTP/1.1\" OK 1", "status", "three-digit", 58},
		{"1.2.3.4 - - [06/May/2024:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"ref", "", "unterminated", 64},
		{"\"1.2.3.4 - - [06/May/2024:08:00:00 +0000] GET\"", "request", "quoted request", 42},
	} {
		_, err := decodeLine(t, tt.rec)
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%q: err = %v, want *decode.Error", tt.rec, err)
			continue
		}
		if de.Offset != tt.offset || de.Field != tt.field || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%q: got %v (offset %d field %q), want offset %d field %q reason ~%q", tt.rec, de, de.Offset, de.Field, tt.offset, tt.field, tt.reason)
		}
	}
}

func TestSniff(t *testing.T) {
	for i, l := range readLines(t, filepath.Join("testdata", "access.log")) {
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

func benchRecords(t testing.TB) ([][]byte, int) {
	var recs [][]byte
	size := 0
	for _, l := range readLines(t, filepath.Join("testdata", "access.log")) {
		recs = append(recs, []byte(l))
		size += len(l)
	}
	return recs, size
}

func TestZeroAllocs(t *testing.T) {
	recs, _ := benchRecords(t)
	d := New()
	var ev event.Event
	ev.Fields.Bind(benchDict)
	for _, rec := range recs {
		if a := testing.AllocsPerRun(50, func() {
			ev.Reset()
			if err := d.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%.60s: %.1f allocs per record, want 0", rec, a)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	recs, _ := benchRecords(b)
	dectest.BenchDecode(b, New(), benchDict, recs)
}

func FuzzDecode(f *testing.F) {
	recs, _ := benchRecords(f)
	for _, r := range recs {
		f.Add(r)
	}
	f.Add([]byte(`"`))
	f.Add([]byte(`a b c [29/Feb/2023:24:00:00.9999999999 +1460] "" "" 999 "`))
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
			if de.Offset < 0 || de.Offset > len(rec) {
				t.Fatalf("offset %d outside the record of %d bytes", de.Offset, len(rec))
			}
			return
		}
		if ev.Time.IsZero() || ev.Time.Location() != time.UTC || ev.Common[event.HTTPResponseStatusCode] == "" {
			t.Fatalf("decoded without time or status: %v %q", ev.Time, ev.Common[event.HTTPResponseStatusCode])
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
