package azuresyslog

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/vigil-sec/vigil/decode/auditd"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	_ "github.com/vigil-sec/vigil/decode/sshd"
	_ "github.com/vigil-sec/vigil/decode/sysmonlinux"
	"github.com/vigil-sec/vigil/event"
)

var scenario = filepath.Join("..", "..", "..", "shared", "data", "scenarios", "otrf_log4shell")

func decodeRow(t *testing.T, d *Decoder, row string) *event.Event {
	t.Helper()
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := d.Decode([]byte(row), &ev); err != nil {
		t.Fatalf("%.100q: %v", row, err)
	}
	return &ev
}

func TestRoutes(t *testing.T) {
	d := New().(*Decoder)
	ev := decodeRow(t, d, `{"TimeGenerated":"2024-03-03T22:14:05.5Z","Computer":"bastion","HostName":"bastion","Facility":"authpriv","SeverityLevel":"info","ProcessName":"sshd","ProcessID":4121,"SyslogMessage":"Failed password for root from 198.51.100.77 port 51422 ssh2","Type":"Syslog"}`)
	if ev.Logsource != (event.Logsource{Product: "linux", Service: "sshd"}) {
		t.Errorf("logsource %+v", ev.Logsource)
	}
	for k, v := range map[string]string{"event.action": "logon-failed", "user.name": "root", "source.ip": "198.51.100.77", "source.port": "51422",
		"host.name": "bastion", "process.pid": "4121", "appname": "sshd", "Facility": "authpriv"} {
		if got, _ := ev.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !ev.Time.Equal(time.Date(2024, 3, 3, 22, 14, 5, 5e8, time.UTC)) {
		t.Errorf("time %v", ev.Time)
	}
	// A program without a decoder: the row as such.
	ev = decodeRow(t, d, `{"TimeGenerated":"2024-03-03T22:14:05Z","Computer":"h","ProcessName":"kernel","SyslogMessage":"eth0: link up","Type":"Syslog"}`)
	if ev.Logsource != (event.Logsource{Product: "linux", Service: "syslog"}) || ev.Common[event.Message] != "eth0: link up" {
		t.Errorf("logsource %+v message %q", ev.Logsource, ev.Common[event.Message])
	}
}

func TestBad(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"Computer":"h",`, Reason: "invalid JSON", Offset: 16},
		{Rec: `{"Computer":"h"}`, Field: "SyslogMessage", Reason: "not a Syslog table row"},
		{Rec: `{"SyslogMessage":"x","EventTime":"soon"}`, Field: "EventTime", Reason: "unreadable time", Offset: -1},
	})
}

// TestLog4Shell decodes every Syslog row of the OTRF Log4Shell scenario:
// AUOMS's auditd records as auditd process creations, Sysmon for Linux's
// events with their categories; the reverse shell is in both.
func TestLog4Shell(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(scenario, "syslog_*.json"))
	if len(files) == 0 {
		t.Skipf("%s not available", scenario)
	}
	d := New().(*Decoder)
	counts := map[event.Logsource]int{}
	shell := map[string]bool{}
	rows := 0
	for _, file := range files {
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			rows++
			if Sniff(sc.Bytes()) < 90 {
				t.Errorf("%s:%d not sniffed", filepath.Base(file), n)
			}
			ev := decodeRow(t, d, sc.Text())
			if e, _ := ev.Get("route_error"); e != "" {
				t.Errorf("%s:%d: %s", filepath.Base(file), n, e)
			}
			counts[ev.Logsource]++
			cmd, _ := ev.Get("CommandLine")
			if strings.Contains(cmd, "{base64,-d}|{bash,-i}") {
				shell[ev.Logsource.Service] = true
			}
			if ev.Logsource.Category == "network_connection" {
				if ip, _ := ev.Get("DestinationIp"); ip == "192.168.2.6" && ev.Common[event.DestinationPort] == "443" {
					shell["network"] = true
				}
			}
			if ev.Time.Year() != 2022 {
				t.Errorf("%s:%d: time %v", filepath.Base(file), n, ev.Time)
			}
		}
		fh.Close()
	}
	t.Logf("%d rows: %v", rows, counts)
	if rows != 143 {
		t.Errorf("%d rows, want 50 + 93", rows)
	}
	for ls, want := range map[event.Logsource]int{
		{Product: "linux", Category: "process_creation", Service: "auditd"}:    50,
		{Product: "linux", Category: "process_creation", Service: "sysmon"}:    31,
		{Product: "linux", Category: "network_connection", Service: "sysmon"}:  6,
		{Product: "linux", Category: "file_event", Service: "sysmon"}:          4,
		{Product: "linux", Category: "file_delete", Service: "sysmon"}:         2,
		{Product: "linux", Category: "process_termination", Service: "sysmon"}: 50,
	} {
		if counts[ls] != want {
			t.Errorf("%+v: %d events, want %d", ls, counts[ls], want)
		}
	}
	for _, k := range []string{"auditd", "sysmon", "network"} {
		if !shell[k] {
			t.Errorf("the reverse shell is not seen in %s", k)
		}
	}
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"TimeGenerated":"2024-03-03T22:14:05.5Z","Computer":"bastion","ProcessName":"sshd","ProcessID":4121,"SyslogMessage":"Failed password for root from 198.51.100.77 port 51422 ssh2","Type":"Syslog"}`))
	f.Add([]byte(`{"ProcessName":"auoms","SyslogMessage":"type=AUOMS_EXECVE audit(1652292621.990:84143): cmdline=\"a \"b\"\" cwd=\"/\""}`))
	f.Add([]byte(`{"ProcessName":"sysmon","SyslogMessage":"<Event><System><EventID>1</EventID></System><EventData><Data Name=\"Image\">/bin/sh</Data></EventData></Event>"}`))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Product != "linux" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}
