package syslog

import (
	"testing"
	"time"

	_ "github.com/vigil-sec/vigil/decode/auditd"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/decode/sshd"
	_ "github.com/vigil-sec/vigil/decode/sysmonlinux"
	"github.com/vigil-sec/vigil/event"
)

// TestRoutes: a line of a program that has a decoder gets that decoder's
// fields and logsource, the same as from its own format.
func TestRoutes(t *testing.T) {
	received := time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		line string
		ls   event.Logsource
		want map[string]string
	}{
		{"<38>Mar  3 22:14:05 bastion sshd[4121]: Failed password for invalid user oracle from 198.51.100.77 port 51422 ssh2",
			event.Logsource{Product: "linux", Service: "sshd"},
			map[string]string{"event.action": "logon-failed", "event.outcome": "failure", "user.name": "oracle", "source.ip": "198.51.100.77", "source.port": "51422", "facility": "auth", "appname": "sshd"}},
		{"<86>1 2025-03-03T22:14:05Z bastion sudo 6000 - - alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
			event.Logsource{Product: "linux", Service: "sudo"},
			map[string]string{"event.action": "command-run", "user.name": "alice", "target_user": "root", "process.command_line": "/usr/bin/id"}},
		{"Mar  3 22:14:05 web01 audispd: node=web01 type=EXECVE msg=audit(1700000000.123:4242): argc=2 a0=\"ls\" a1=\"-la\"",
			event.Logsource{Product: "linux", Category: "process_creation", Service: "auditd"},
			map[string]string{"type": "EXECVE", "a1": "-la", "CommandLine": "ls -la"}},
		{`May 11 18:10:20 web01 sysmon: <Event><System><Provider Name="Linux-Sysmon"/><EventID>3</EventID><Computer>web01</Computer></System><EventData><Data Name="DestinationIp">192.0.2.6</Data></EventData></Event>`,
			event.Logsource{Product: "linux", Category: "network_connection", Service: "sysmon"},
			map[string]string{"DestinationIp": "192.0.2.6", "destination.ip": "192.0.2.6"}},
		// A message its program's decoder refuses: the syslog event, and why.
		{"Mar  3 22:14:05 web01 sysmon: Sysmon started",
			event.Logsource{Product: "linux", Service: "syslog"},
			map[string]string{"route_error": "sysmonlinux: no <Event> element at byte 0", "msg": "Sysmon started"}},
	} {
		ev, err := dectest.DecodeLine(New(), c.line, received)
		if err != nil {
			t.Fatalf("%q: %v", c.line, err)
		}
		if ev.Logsource != c.ls {
			t.Errorf("%q: logsource %+v, want %+v", c.line, ev.Logsource, c.ls)
		}
		for k, v := range c.want {
			if got, _ := ev.Get(k); got != v {
				t.Errorf("%q: %s = %q, want %q", c.line, k, got, v)
			}
		}
	}
	// The same fields as the sshd format gives.
	line := "Mar  3 22:15:40 bastion sshd[4188]: Accepted publickey for deploy from 10.20.0.15 port 60112 ssh2: ED25519 SHA256:x"
	a, _ := dectest.DecodeLine(New(), line, received)
	b, _ := dectest.DecodeLine(sshd.New(), line, received)
	for _, k := range []string{"event.action", "event.outcome", "event.category", "user.name", "source.ip", "source.port", "method", "fingerprint", "key_type", "hostname", "appname", "procid", "msg"} {
		x, _ := a.Get(k)
		y, _ := b.Get(k)
		if x != y {
			t.Errorf("%s: syslog %q, sshd %q", k, x, y)
		}
	}
}
