package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
)

// A Windows Defender rule as SigmaHQ writes it: ThreatName, where the
// event's field is "Threat Name".
const defenderRule = `title: Defender found a hacktool
id: 33333333-0000-4000-8000-000000000001
level: high
logsource:
  product: windows
  service: windefend
detection:
  sel:
    EventID: 1116
    ThreatName|startswith: 'HackTool:'
  condition: sel
`

// defenderEvent renders a Defender 1116 event the way evtx_dump prints it
// by default: pretty-printed over many lines.
func defenderEvent(id int, threat string) string {
	return fmt.Sprintf(`{
  "Event": {
    "#attributes": {
      "xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"
    },
    "System": {
      "Provider": {
        "#attributes": {
          "Name": "Microsoft-Windows-Windows Defender"
        }
      },
      "EventID": 1116,
      "TimeCreated": {
        "#attributes": {
          "SystemTime": "2023-03-14T10:02:%02d.120Z"
        }
      },
      "EventRecordID": %d,
      "Channel": "Microsoft-Windows-Windows Defender/Operational",
      "Computer": "WKS03.corp.example"
    },
    "EventData": {
      "Threat Name": %q,
      "Source Name": "%%%%818",
      "Process Name": "C:\\Windows\\explorer.exe"
    }
  }
}`, id, id, threat)
}

// TestScanJSONShapes: scan reads JSON records in each shape tools write
// them, from a directory filtered by --glob, and gives each record's
// evidence as the line its record starts on.
func TestScanJSONShapes(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	logs := filepath.Join(dir, "triage")
	write := func(path, body string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(rules, defenderRule)
	// evtx_dump's default output: a "Record N" line before each record
	write(filepath.Join(logs, "host1", "defender.json"), "Record 1\n"+defenderEvent(1, "Trojan:Win32/Wacatac")+"\nRecord 2\n"+defenderEvent(2, "HackTool:Win32/Mimikatz")+"\n")
	// pretty-printed records one after another
	write(filepath.Join(logs, "host2", "pretty.json"), defenderEvent(3, "Trojan:Win32/Wacatac")+"\n"+defenderEvent(4, "HackTool:Win64/Rubeus")+"\n")
	// an array of pretty-printed records
	write(filepath.Join(logs, "host3", "array.json"), "[\n"+defenderEvent(5, "HackTool:Win32/Nanodump")+",\n"+defenderEvent(6, "Trojan:Win32/Wacatac")+"\n]\n")
	// left out by --glob
	write(filepath.Join(logs, "notes.txt"), "not a log\n")

	out, err := exec.Command(vigilBin, "scan", "--no-builtin-rules", "--rules", rules, "--glob", "*.json", "-o", "json", logs).CombinedOutput()
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	i := strings.Index(string(out), "[")
	var alerts []alert.Alert
	if err := json.Unmarshal(out[i:], &alerts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(alerts) != 1 || alerts[0].Count != 3 {
		t.Fatalf("want one alert of 3 events, got:\n%s", out)
	}
	var got []string
	for _, e := range alerts[0].Evidence {
		got = append(got, fmt.Sprintf("%s:%d", filepath.Base(e.File), e.Line))
	}
	// each record is 28 lines long
	want := "defender.json:31 pretty.json:29 array.json:2"
	if strings.Join(got, " ") != want {
		t.Errorf("evidence %v, want %s", got, want)
	}
	if !strings.Contains(string(out), "scanned 6 records in 3 files: 6 events, 0 rejected") {
		t.Errorf("summary:\n%s", out)
	}
}

// TestDecodeJSONShapes: decode reads the same shapes, one event a record.
func TestDecodeJSONShapes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "defender.json")
	body := "Record 1\n" + defenderEvent(1, "HackTool:Win32/Mimikatz") + "\nRecord 2\n" + defenderEvent(2, "Trojan:Win32/Wacatac") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(vigilBin, "decode", dir).Output()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 events, got:\n%s", out)
	}
	if !strings.Contains(lines[0], `"ThreatName":"HackTool:Win32/Mimikatz"`) {
		t.Errorf("first event:\n%s", lines[0])
	}
}
