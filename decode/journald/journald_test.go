package journald

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/auditd"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/decode/sshd"
	_ "github.com/vigil-sec/vigil/decode/sysmonlinux"
	"github.com/vigil-sec/vigil/event"
)

func decodeWith(t *testing.T, d decode.Decoder, rec []byte) *event.Event {
	t.Helper()
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := d.Decode(rec, &ev); err != nil {
		t.Fatalf("%.80q: %v", rec, err)
	}
	return &ev
}

func want(t *testing.T, where string, ev *event.Event, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if got, _ := ev.Get(kv[i]); got != kv[i+1] {
			t.Errorf("%s: %s = %q, want %q", where, kv[i], got, kv[i+1])
		}
	}
}

// checkRecords checks the records of journal.json, or the first of them
// in the export file, which hold the same entries.
func checkRecords(t *testing.T, format string, evs []*event.Event) {
	t.Helper()
	ev := evs[0]
	if ev.Logsource != (event.Logsource{Product: "linux", Service: "sshd"}) {
		t.Errorf("%s sshd: logsource %+v", format, ev.Logsource)
	}
	if !ev.Time.Equal(time.UnixMicro(1709503540120000)) {
		t.Errorf("%s sshd: time %v, want _SOURCE_REALTIME_TIMESTAMP's", format, ev.Time)
	}
	want(t, format+" sshd", ev, "event.action", "logged-in", "event.outcome", "success", "user.name", "deploy",
		"source.ip", "10.20.0.15", "source.port", "60112", "method", "publickey", "fingerprint", "SHA256:Zq1Xk3k0c9Yw7Vw2nH0zq3o8dXQYl1yq4i9pM2r8e0A",
		"host.name", "bastion", "process.name", "sshd", "process.pid", "4188", "hostname", "bastion", "appname", "sshd", "procid", "4188",
		"_SYSTEMD_UNIT", "ssh.service", "_EXE", "/usr/sbin/sshd", "process.executable", "/usr/sbin/sshd")
	want(t, format+" sshd-session", evs[1], "event.action", "invalid-user", "user.name", "admin", "source.ip", "192.0.2.77")
	if !evs[1].Time.Equal(time.UnixMicro(1709503540123456)) {
		t.Errorf("%s: time %v, want __REALTIME_TIMESTAMP's", format, evs[1].Time)
	}
	want(t, format+" sudo", evs[2], "event.action", "command-run", "user.name", "alice", "target_user", "root", "process.command_line", "/usr/bin/id")
	if evs[2].Logsource.Service != "sudo" {
		t.Errorf("%s sudo: logsource %+v", format, evs[2].Logsource)
	}
	want(t, format+" systemd", evs[3], "event.action", "", "MESSAGE", "Started Daily apt download activities.", "UNIT", "apt-daily.service",
		"message", "Started Daily apt download activities.", "appname", "systemd")
	if evs[3].Logsource != (event.Logsource{Product: "linux", Service: "syslog"}) {
		t.Errorf("%s systemd: logsource %+v", format, evs[3].Logsource)
	}
}

func TestJSON(t *testing.T) {
	var evs []*event.Event
	for _, l := range dectest.Lines(t, filepath.Join("testdata", "journal.json")) {
		evs = append(evs, decodeWith(t, New(), []byte(l)))
	}
	checkRecords(t, Format, evs)
	// A binary MESSAGE, an array of bytes; _COMM names the program.
	want(t, "binary", evs[4], "MESSAGE", "hi\n\x00\x01", "appname", "myapp")
	// A field the entry holds twice.
	if got := dectest.Values(evs[5], "TAG"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("TAG = %q", got)
	}
	// A kernel audit record: to auditd, as audit.log would give it.
	ev := evs[6]
	if ev.Logsource != (event.Logsource{Product: "linux", Category: "process_creation", Service: "auditd"}) {
		t.Errorf("audit: logsource %+v", ev.Logsource)
	}
	want(t, "audit", ev, "type", "EXECVE", "a0", "ls", "a1", "-la", "CommandLine", "ls -la", "serial", "4242", "route_error", "")
}

func TestExport(t *testing.T) {
	recs := dectest.Frame(t, "journal.export", ExportFormat)
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	var evs []*event.Event
	for _, r := range recs {
		evs = append(evs, decodeWith(t, NewExport(), r))
	}
	checkRecords(t, ExportFormat, evs)
	want(t, "binary", evs[4], "MESSAGE", "Accepted password for alice from 2001:db8::42 port 40022 ssh2\n\nsecond",
		"event.action", "logged-in", "user.name", "alice", "source.ip", "2001:db8::42")
}

// TestSameAsSyslog: a journal record of sshd gives the fields the same
// line gives from auth.log.
func TestSameAsSyslog(t *testing.T) {
	msg := "Failed password for invalid user oracle from 198.51.100.77 port 51422 ssh2"
	syslogEv := decodeWith(t, sshd.New(), []byte("Mar  3 22:14:05 bastion sshd[4121]: "+msg))
	jrec := `{"__REALTIME_TIMESTAMP":"1709503540123456","_HOSTNAME":"bastion","SYSLOG_IDENTIFIER":"sshd","_PID":"4121","MESSAGE":"` + msg + `"}`
	jev := decodeWith(t, New(), []byte(jrec))
	for _, name := range []string{"event.action", "event.outcome", "event.category", "user.name", "source.ip", "source.port",
		"host.name", "process.name", "process.pid", "message", "hostname", "appname", "procid", "msg", "user", "ip", "port", "method"} {
		a, _ := syslogEv.Get(name)
		b, _ := jev.Get(name)
		if a != b {
			t.Errorf("%s: syslog %q, journald %q", name, a, b)
		}
	}
	if syslogEv.Logsource != jev.Logsource {
		t.Errorf("logsource: syslog %+v, journald %+v", syslogEv.Logsource, jev.Logsource)
	}
}

func TestBad(t *testing.T) {
	dectest.CheckBadFormats(t, []dectest.Bad{
		{Format: Format, Rec: `{"MESSAGE":"x",`, Reason: "invalid JSON", Offset: 15},
		{Format: Format, Rec: `["MESSAGE"]`, Reason: "invalid JSON"},
		{Format: Format, Rec: `{}`, Reason: "empty journal record"},
		{Format: Format, Rec: `{"MESSAGE":{"a":1}}`, Field: "MESSAGE", Reason: "an object", Offset: 11},
		{Format: Format, Rec: `{"MESSAGE":[104,300]}`, Field: "MESSAGE", Reason: "not a byte", Offset: 16},
		{Format: Format, Rec: `{"MESSAGE":"x","__REALTIME_TIMESTAMP":"yesterday"}`, Field: "__REALTIME_TIMESTAMP", Reason: "microseconds", Offset: -1},
		{Format: ExportFormat, Rec: "__CURSOR=x\n=y", Reason: "without a name", Offset: 11},
		{Format: ExportFormat, Rec: "__CURSOR=x\nMESSAGE\n\x05\x00", Reason: "without its 8-byte length", Offset: 19},
		{Format: ExportFormat, Rec: "__CURSOR=x\nMESSAGE\n\x05\x00\x00\x00\x00\x00\x00\x00ab", Reason: "cut short", Offset: 27},
		{Format: ExportFormat, Rec: "__CURSOR=x\nMESSAGE\n\x02\x00\x00\x00\x00\x00\x00\x00abX", Reason: "no newline after", Offset: 29},
		{Format: ExportFormat, Rec: "__REALTIME_TIMESTAMP=-5", Field: "__REALTIME_TIMESTAMP", Reason: "microseconds", Offset: -1},
	})
}

func TestSniff(t *testing.T) {
	lines := dectest.Lines(t, filepath.Join("testdata", "journal.json"))
	dectest.Sniffed(t, Format, [][]byte{[]byte(lines[0]), []byte(lines[3])})
	recs := dectest.Frame(t, "journal.export", ExportFormat)
	dectest.Sniffed(t, ExportFormat, recs[:1])
	first, _, _ := strings.Cut(string(recs[0]), "\n")
	dectest.Sniffed(t, ExportFormat, [][]byte{[]byte(first), []byte("__REALTIME_TIMESTAMP=1709503540123456"), []byte("_BOOT_ID=9c3e4d")})
}

func TestRegistered(t *testing.T) {
	dectest.Registered[*Decoder](t, Format)
	dectest.Registered[*ExportDecoder](t, ExportFormat)
}

func fuzzSeeds(f *testing.F, name string, split bool) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	sep := "\n"
	if !split {
		sep = "\n\n"
	}
	for _, r := range strings.Split(string(b), sep) {
		f.Add([]byte(r))
	}
}

func FuzzDecode(f *testing.F) {
	fuzzSeeds(f, "journal.json", true)
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "linux" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}

func FuzzDecodeExport(f *testing.F) {
	fuzzSeeds(f, "journal.export", false)
	dectest.Fuzz(f, NewExport(), SniffExport, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "linux" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}
