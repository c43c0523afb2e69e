package sshd

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

var received = time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC)

func TestDecodeFixtures(t *testing.T) {
	lines := dectest.Lines(t, filepath.Join("testdata", "auth.log"))
	// want: time, then common fields as "name=value" (action, outcome,
	// user, ip, port), checked on the line of the same index.
	type want struct {
		time                            string
		action, outcome, user, ip, port string
	}
	tests := []want{
		{"2025-03-03T22:14:05Z", "logon-failed", "failure", "oracle", "198.51.100.77", "51422"},
		{"2025-03-03T22:14:07Z", "logon-failed", "failure", "root", "198.51.100.77", "51422"},
		{"2025-03-03T22:15:40Z", "logged-in", "success", "deploy", "10.20.0.15", "60112"},
		{"2025-03-03T22:16:01Z", "logged-in", "success", "alice", "2001:db8::42", "40022"},
		{"2025-03-03T22:16:30Z", "invalid-user", "failure", "ftp admin", "203.0.113.5", "33000"},
		{"2025-03-03T22:16:30Z", "invalid-user", "failure", "guest", "203.0.113.5", ""},
		{"2025-03-03T22:16:31Z", "invalid-user-preauth", "", "test", "", ""},
		{"2025-03-03T22:16:33Z", "connection-closed", "", "", "203.0.113.5", ""},
		{"2025-03-03T22:16:34Z", "connection-closed", "", "root", "203.0.113.6", "41234"},
		{"2025-03-03T22:16:35Z", "disconnected", "", "admin", "203.0.113.7", "50000"},
		{"2025-03-03T22:16:36Z", "disconnected", "", "deploy", "10.20.0.15", "60112"},
		{"2025-03-03T22:16:37Z", "disconnected", "", "", "203.0.113.8", ""},
		{"2025-03-03T22:16:38Z", "disconnected", "", "", "203.0.113.9", "45678"},
		{"2025-03-03T22:16:40Z", "authentication-failure", "failure", "root", "203.0.113.10", ""},
		{"2025-03-03T22:16:41Z", "authentication-failure", "failure", "", "", ""},
		{"2025-03-03T22:16:42Z", "authentication-failure", "failure", "root", "203.0.113.10", ""},
		{"2025-03-03T22:16:43Z", "logon-failed", "failure", "root", "203.0.113.11", "2222"},
		{"2025-03-03T22:16:44Z", "too-many-failures", "failure", "pi", "203.0.113.12", "5555"},
		{"2025-03-03T22:16:45Z", "too-many-failures", "failure", "pi", "", ""},
		{"2025-03-03T22:16:46Z", "no-identification", "", "", "203.0.113.13", ""},
		{"2025-03-03T22:16:47Z", "reverse-mapping-failed", "", "", "203.0.113.14", ""},
		{"2025-03-03T22:16:48Z", "session-opened", "success", "deploy", "", ""},
		{"2025-03-03T22:20:00Z", "session-closed", "", "deploy", "", ""},
		{"2025-03-03T22:20:01Z", "listening", "", "", "", ""},
		{"2025-03-03T21:21:00.123456Z", "logon-failed", "failure", "bob", "192.0.2.99", "1022"},
		{"2024-03-13T07:00:00Z", "command-run", "success", "alice", "", ""}, // more than a day after received: last year
		{"2025-03-03T22:22:00Z", "logged-in", "success", "carol", "192.0.2.50", "50505"},
	}
	if len(lines) != len(tests) {
		t.Fatalf("%d fixture lines, %d expectations", len(lines), len(tests))
	}
	for i, w := range tests {
		ev, err := dectest.DecodeLine(New(), lines[i], received)
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		wt, _ := time.Parse(time.RFC3339Nano, w.time)
		c := &ev.Common
		got := want{ev.Time.Format(time.RFC3339Nano), c[event.EventAction], c[event.EventOutcome], c[event.UserName], c[event.SourceIP], c[event.SourcePort]}
		w.time = wt.Format(time.RFC3339Nano)
		if got != w {
			t.Errorf("line %d %q:\n got %+v\nwant %+v", i+1, lines[i], got, w)
		}
		if c[event.HostName] != "bastion" {
			t.Errorf("line %d: host.name = %q", i+1, c[event.HostName])
		}
		isSSHD := strings.Contains(lines[i], " sshd[") || strings.Contains(lines[i], " sshd-session[")
		wantLS := event.Logsource{Product: "linux"}
		if isSSHD {
			wantLS.Service = "sshd"
		} else if strings.Contains(lines[i], " sudo: ") {
			wantLS.Service = "sudo"
		}
		if ev.Logsource != wantLS {
			t.Errorf("line %d: logsource %+v, want %+v", i+1, ev.Logsource, wantLS)
		}
		if w.action != "" && c[event.EventCategory] == "" {
			t.Errorf("line %d: no event.category", i+1)
		}
	}
}

func TestFields(t *testing.T) {
	ev, err := dectest.DecodeLine(New(), "Mar  3 22:15:40 bastion sshd[4188]: Accepted publickey for deploy from 10.20.0.15 port 60112 ssh2: ED25519 SHA256:x", received)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"hostname": "bastion", "appname": "sshd", "procid": "4188", "user": "deploy", "ip": "10.20.0.15", "port": "60112",
		"method": "publickey", "msg": "Accepted publickey for deploy from 10.20.0.15 port 60112 ssh2: ED25519 SHA256:x",
	} {
		if got, _ := ev.Get(name); got != want {
			t.Errorf("field %s = %q, want %q", name, got, want)
		}
	}
	if ev.Common[event.ProcessName] != "sshd" || ev.Common[event.ProcessPID] != "4188" || ev.Common[event.EventCategory] != "authentication" {
		t.Errorf("process %q pid %q category %q", ev.Common[event.ProcessName], ev.Common[event.ProcessPID], ev.Common[event.EventCategory])
	}
	// A host name in rhost is kept, but is not a source.ip.
	ev, _ = dectest.DecodeLine(New(), "Mar  3 22:16:41 bastion sshd[4208]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.example.net", received)
	if got, _ := ev.Get("rhost"); got != "scanner.example.net" || ev.Common[event.SourceIP] != "" {
		t.Errorf("rhost = %q, source.ip = %q", got, ev.Common[event.SourceIP])
	}
}

func TestYearRollover(t *testing.T) {
	for _, tt := range []struct {
		received time.Time
		line     string
		want     time.Time
	}{
		{time.Date(2025, 1, 1, 0, 5, 0, 0, time.UTC), "Dec 31 23:59:58 h sshd[1]: x", time.Date(2024, 12, 31, 23, 59, 58, 0, time.UTC)},
		{time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC), "Jan  1 00:00:01 h sshd[1]: x", time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC)},
		{time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), "Jun  1 23:00:00 h sshd[1]: x", time.Date(2025, 6, 1, 23, 0, 0, 0, time.UTC)}, // within a day: clock skew
		{time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC), "Feb 29 10:00:00 h sshd[1]: x", time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)},
		{time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), "Feb 29 10:00:00 h sshd[1]: x", time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)},
	} {
		var ev event.Event
		ev.Received = tt.received
		if err := New().Decode([]byte(tt.line), &ev); err != nil {
			t.Fatal(err)
		}
		if !ev.Time.Equal(tt.want) {
			t.Errorf("%q received %v: time %v, want %v", tt.line, tt.received, ev.Time, tt.want)
		}
	}
	// A configured zone shifts the stamp.
	loc := time.FixedZone("UTC+2", 2*3600)
	var ev event.Event
	ev.Received = received
	if err := (&Decoder{Location: loc}).Decode([]byte("Mar  3 22:00:00 h sshd[1]: x"), &ev); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 3, 3, 20, 0, 0, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("with zone: %v, want %v", ev.Time, want)
	}
}

func TestBadHeader(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "no RFC 3164"},
		{Rec: "Failed password for root from 1.2.3.4 port 22 ssh2", Reason: "no RFC 3164"},
		{Rec: "Mar 33 22:00:00 h sshd[1]: x", Reason: "day of month", Offset: 4},
		{Rec: "Mar  3 25:00:00 h sshd[1]: x", Reason: "time of day", Offset: 7},
		{Rec: "Mar  3 22:00:00 host only", Reason: "no program tag", Offset: 21},
		{Rec: "Mar  3 22:00:00 hostonly", Reason: "no host name", Offset: 16},
		{Rec: "Mar  3 22:00:00 ", Reason: "no host name", Offset: 16},
		{Rec: "Mar  3 22:00:00 h sshd[12x]: x", Reason: "process id", Offset: 25},
		{Rec: "Apr 31 22:00:00 h sshd[1]: x", Reason: "no such day", Offset: 4},
		{Rec: "2025-13-01T00:00:00Z h sshd[1]: x", Reason: "RFC 3339"},
		{Rec: "<999999>Mar  3 22:00:00 h sshd[1]: x", Reason: "priority"},
		// Found by FuzzDecode (testdata/fuzz/FuzzDecode/fb7e2e9d24d1e1fb).
		{Rec: "0001-01-01 0 0:", Reason: "the zero time"},
	})
}

// loghubActions is the action each upstream template of OpenSSH_2k must
// decode to ("" = recognised as sshd but no action).
var loghubActions = map[string]string{
	"E1": "logged-in", "E2": "connection-closed", "E3": "no-identification",
	"E4": "too-many-failures", "E5": "too-many-failures",
	"E6": "disconnected", "E7": "disconnected", "E8": "logon-failed", "E9": "logon-failed", "E10": "logon-failed",
	"E11": "", "E12": "invalid-user-preauth", "E13": "invalid-user", "E14": "logon-failed",
	"E15": "authentication-failure", "E16": "authentication-failure", "E17": "authentication-failure",
	"E18": "", "E19": "authentication-failure", "E20": "authentication-failure", "E21": "user-unknown",
	"E22": "session-closed", "E23": "session-opened", "E24": "disconnected", "E25": "disconnected",
	"E26": "disconnected", "E27": "reverse-mapping-failed",
}

// TestLoghub decodes the real OpenSSH_2k log and checks every line against
// the upstream template it was labelled with.
func TestLoghub(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "ssh_auth", "loghub_openssh")
	lines := dectest.Lines(t, filepath.Join(dir, "OpenSSH_2k.log"))
	f, err := os.Open(filepath.Join(dir, "OpenSSH_2k.log_structured.csv"))
	if err != nil {
		t.Skipf("loghub labels not available (%v)", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:] // header
	if len(rows) != len(lines) {
		t.Fatalf("%d labels for %d lines", len(rows), len(lines))
	}
	counts := map[string]int{}
	for i, line := range lines {
		ev, err := dectest.DecodeLine(New(), line, received)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if ev.Logsource.Service != "sshd" || ev.Common[event.HostName] != "LabSZ" || ev.Common[event.ProcessPID] != rows[i][5] {
			t.Fatalf("line %d: logsource %+v host %q pid %q", i+1, ev.Logsource, ev.Common[event.HostName], ev.Common[event.ProcessPID])
		}
		if ev.Time.Year() != 2024 || ev.Time.Month() != time.December {
			t.Fatalf("line %d: time %v, want December of the year before received", i+1, ev.Time)
		}
		tmpl := rows[i][7]
		want, ok := loghubActions[tmpl]
		if !ok {
			t.Fatalf("line %d: unknown template %s", i+1, tmpl)
		}
		c := &ev.Common
		if c[event.EventAction] != want {
			t.Errorf("line %d (%s) %q: action %q, want %q", i+1, tmpl, c[event.Message], c[event.EventAction], want)
			continue
		}
		counts[want]++
		switch want {
		case "logon-failed", "logged-in":
			if c[event.SourceIP] == "" || c[event.SourcePort] == "" || c[event.UserName] == "" {
				t.Errorf("line %d %q: ip %q port %q user %q", i+1, c[event.Message], c[event.SourceIP], c[event.SourcePort], c[event.UserName])
			}
		case "invalid-user", "authentication-failure":
			if c[event.EventOutcome] != "failure" {
				t.Errorf("line %d: outcome %q", i+1, c[event.EventOutcome])
			}
			if want == "invalid-user" && c[event.SourceIP] == "" {
				t.Errorf("line %d %q: invalid-user without source.ip", i+1, c[event.Message])
			}
		}
	}
	t.Logf("%d lines: %v", len(lines), counts)
}

func TestZeroAllocs(t *testing.T) {
	rec := []byte("Mar  3 22:14:05 bastion sshd[4121]: Failed password for invalid user oracle from 198.51.100.77 port 51422 ssh2")
	dectest.ZeroAllocsAt(t, New(), event.NewDict("user", "ip"), [][]byte{rec}, received)
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchDecodeAt(b, New(), event.NewDict("user", "ip", "msg"), dectest.LineRecords(b, "auth.log"), received)
}

func FuzzDecode(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "auth.log"))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte("Feb 29 00:00:00 h sshd[1]: Received disconnect from "))
	f.Add([]byte("<1>"))
	dectest.Fuzz(f, New(), nil, received, func(t *testing.T, ev *event.Event) {
		if ev.Time.IsZero() || ev.Common[event.HostName] == "" {
			t.Fatalf("decoded without time or host: %v %q", ev.Time, ev.Common[event.HostName])
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

// TestInvalidUserOnce: OpenSSH before 7.x logs one request for a user that
// does not exist twice, from two processes: the monitor's getpwnamallow
// (auth.c) writes "Invalid user U from IP port N" and the unprivileged
// child's input_userauth_request (auth2.c) "input_userauth_request: invalid
// user U", which syslog shows with " [preauth]". One attempt is one
// invalid-user event, the one with the address; the child's line is kept
// apart (it also follows a user refused by AllowUsers/DenyUsers, who
// exists). A failed password for such a user is a logon failure.
func TestInvalidUserOnce(t *testing.T) {
	for _, tt := range []struct {
		line                            string
		action, outcome, user, ip, port string
	}{
		{"Nov 26 10:02:05 bastion-01 sshd[21001]: Invalid user admin from 192.0.2.77 port 40100", "invalid-user", "failure", "admin", "192.0.2.77", "40100"},
		{"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", "invalid-user", "failure", "webmaster", "173.234.31.186", ""},
		{"Dec 10 06:55:46 LabSZ sshd[24200]: input_userauth_request: invalid user webmaster [preauth]", "invalid-user-preauth", "", "webmaster", "", ""},
		{"Dec 10 06:55:46 LabSZ sshd[24200]: input_userauth_request: invalid user  0101 [preauth]", "invalid-user-preauth", "", " 0101", "", ""},
		{"Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2", "logon-failed", "failure", "webmaster", "173.234.31.186", "38926"},
	} {
		ev, err := dectest.DecodeLine(New(), tt.line, received)
		if err != nil {
			t.Fatalf("%q: %v", tt.line, err)
		}
		c := &ev.Common
		if c[event.EventAction] != tt.action || c[event.EventOutcome] != tt.outcome || c[event.UserName] != tt.user ||
			c[event.SourceIP] != tt.ip || c[event.SourcePort] != tt.port {
			t.Errorf("%q: action %q outcome %q user %q ip %q port %q; want %q %q %q %q %q", tt.line,
				c[event.EventAction], c[event.EventOutcome], c[event.UserName], c[event.SourceIP], c[event.SourcePort],
				tt.action, tt.outcome, tt.user, tt.ip, tt.port)
		}
	}
}
