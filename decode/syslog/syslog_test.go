package syslog

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
	"github.com/vigil-sec/vigil/event"
)

func decodeLine(t *testing.T, line string, received time.Time, loc *time.Location) (*event.Event, error) {
	t.Helper()
	d := New()
	if err := d.(decode.Configurable).Configure(decode.Options{Location: loc}); err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Received: received}
	ev.Fields.Bind(event.NewOpenDict())
	return ev, d.Decode([]byte(line), ev)
}

var rcv = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestDecode(t *testing.T) {
	cases := []struct {
		name, line                 string
		host, app, pid, msg, tstmp string
		fields                     map[string]string
		service                    string
	}{
		{"rfc5424", `<38>1 2026-11-27T10:00:00.5+01:00 bastion sshd 4242 ID47 [origin ip="10.0.0.1" x="a\"b\]c"][meta seq="7"] Accepted password for root`,
			"bastion", "sshd", "4242", "Accepted password for root", "2026-11-27T09:00:00.5Z",
			map[string]string{"facility": "auth", "severity": "info", "priority": "38", "msgid": "ID47",
				"sd.origin.ip": "10.0.0.1", "sd.origin.x": `a"b]c`, "sd.meta.seq": "7", "version": "1"}, "sshd"},
		{"rfc5424 nil values, no msg", `<165>1 - - - - - -`, "", "", "", "", "",
			map[string]string{"facility": "local4", "severity": "notice"}, "syslog"},
		{"rfc3164", `<86>Nov 27 10:00:01 web01 sudo[311]: alice : TTY=pts/0 ; COMMAND=/bin/sh`,
			"web01", "sudo", "311", "alice : TTY=pts/0 ; COMMAND=/bin/sh", "2026-11-27T10:00:01Z",
			map[string]string{"facility": "authpriv", "severity": "info"}, "sudo"},
		{"auth.log line, no priority", `Nov  3 07:12:40 bastion CRON[99]: pam_unix(cron:session): session opened`,
			"bastion", "CRON", "99", "pam_unix(cron:session): session opened", "2026-11-03T07:12:40Z", nil, "cron"},
		{"local, no host", `<13>Nov 27 10:00:02 app[7]: hello`, "", "app", "7", "hello", "2026-11-27T10:00:02Z", nil, "syslog"},
		{"no tag", `<13>Nov 27 10:00:03 fw01 link down on port 3`, "fw01", "", "", "link down on port 3", "2026-11-27T10:00:03Z", nil, "syslog"},
		{"rsyslog RFC 3339 stamp", `2026-11-27T10:00:04.123456+00:00 db1 postgres[55]: ready`, "db1", "postgres", "55", "ready", "2026-11-27T10:00:04.123456Z", nil, "syslog"},
		{"priority, unknown header", `<13>whatever this is`, "", "", "", "whatever this is", "", nil, "syslog"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := decodeLine(t, tc.line, rcv, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Common
			if c[event.HostName] != tc.host || c[event.ProcessName] != tc.app || c[event.ProcessPID] != tc.pid || c[event.Message] != tc.msg {
				t.Errorf("host %q app %q pid %q msg %q", c[event.HostName], c[event.ProcessName], c[event.ProcessPID], c[event.Message])
			}
			gotT := ""
			if !ev.Time.IsZero() {
				gotT = ev.Time.UTC().Format(time.RFC3339Nano)
			}
			if gotT != tc.tstmp {
				t.Errorf("time %q, want %q", gotT, tc.tstmp)
			}
			for k, want := range tc.fields {
				if got, _ := ev.Get(k); got != want {
					t.Errorf("field %s = %q, want %q", k, got, want)
				}
			}
			if ev.Logsource.Product != "linux" || ev.Logsource.Service != tc.service {
				t.Errorf("logsource %+v, want linux/%s", ev.Logsource, tc.service)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, line := range []string{
		"", "just text", "<999>1 x", "<1a>hi", "<>x", "<13>1 2026-11-27T10:00:00Z host app",
		"<13>1 garbage host app - - - msg", "<13>1 2026-11-27T10:00:00Z h a p m [unterminated x=\"1\"",
		"Feb 30 10:00:00 host app: x",
	} {
		_, err := decodeLine(t, line, rcv, nil)
		var de *decode.Error
		if !errors.As(err, &de) || de.Format != Format || de.Reason == "" {
			t.Errorf("%q: err %v, want a *decode.Error with a reason", line, err)
		}
	}
}

func TestTimeZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database")
	}
	ev, err := decodeLine(t, "<13>Nov 27 10:00:00 h app: x", rcv, paris)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v (10:00 in Paris)", ev.Time, want)
	}
}

// The year of an RFC 3164 stamp follows the receive time without jumping
// at New Year, in either direction.
func TestYearAtNewYear(t *testing.T) {
	cases := []struct {
		stamp    string
		received time.Time
		want     time.Time
	}{
		// Last year's line read just after midnight.
		{"Dec 31 23:59:58", time.Date(2027, 1, 1, 0, 0, 5, 0, time.UTC), time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)},
		// A sender whose clock is ahead: its "Jan 1" arrives on Dec 31.
		{"Jan  1 00:00:01", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)},
		// An old file read in January: June is last year's.
		{"Jun 10 08:00:00", time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)},
		// Same day, the usual case.
		{"Nov 27 11:59:00", rcv, time.Date(2026, 11, 27, 11, 59, 0, 0, time.UTC)},
		// Feb 29 read in 2029 belongs to 2028.
		{"Feb 29 12:00:00", time.Date(2029, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		ev, err := decodeLine(t, tc.stamp+" h app: x", tc.received, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.stamp, err)
			continue
		}
		if !ev.Time.Equal(tc.want) {
			t.Errorf("%q received %v: %v, want %v", tc.stamp, tc.received, ev.Time, tc.want)
		}
	}
}

func TestSniff(t *testing.T) {
	for line, min := range map[string]int{
		"<34>1 2026-11-27T10:00:00Z h su - - - x": 90,
		"<13>Nov 27 10:00:00 h app: x":            80,
		"Nov 27 10:00:00 h app: x":                50,
	} {
		if got := Sniff([]byte(line)); got < min {
			t.Errorf("Sniff(%q) = %d, want at least %d", line, got, min)
		}
	}
	for _, line := range []string{`{"a":1}`, "CEF:0|x", "hello"} {
		if got := Sniff([]byte(line)); got != 0 {
			t.Errorf("Sniff(%q) = %d, want 0", line, got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`<38>1 2026-11-27T10:00:00Z h sshd 1 - [a b="c\]"] msg`))
	f.Add([]byte(`<86>Nov 27 10:00:01 web01 sudo[311]: alice`))
	f.Add([]byte(`Feb 29 10:00:00 h x: y`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := New()
		ev := &event.Event{Received: rcv}
		ev.Fields.Bind(event.NewOpenDict())
		if dectest.Refused(t, data, d.Decode(data, ev)) {
			return
		}
		if !ev.Time.IsZero() && ev.Time.After(rcv.Add(25*time.Hour)) && ev.Time.Year() < 2028 {
			// Only explicit (RFC 3339 / 5424) stamps may lie in the future.
			if _, ok := sysloghdr.LatestYear.Date(ev.Time.Month(), ev.Time.Day(), 0, 0, 0, rcv, time.UTC); ok && len(data) > 0 && data[0] != '<' && (data[0] < '0' || data[0] > '9') {
				t.Fatalf("year-less stamp dated %v, after the receive time %v", ev.Time, rcv)
			}
		}
		Sniff(data)
	})
}

func BenchmarkDecode(b *testing.B) {
	for name, line := range map[string]string{
		"rfc5424": `<38>1 2026-11-27T10:00:00.5+01:00 bastion sshd 4242 ID47 [origin ip="10.0.0.1"] Accepted password for root`,
		"rfc3164": `<86>Nov 27 10:00:01 web01 sudo[311]: alice : TTY=pts/0 ; COMMAND=/bin/sh`,
	} {
		b.Run(name, func(b *testing.B) {
			d := New()
			ev := &event.Event{Received: rcv}
			ev.Fields.Bind(event.NewDict("msg", "hostname"))
			rec := []byte(line)
			b.ReportAllocs()
			for b.Loop() {
				ev.Fields.Reset()
				if err := d.Decode(rec, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
