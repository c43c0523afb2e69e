package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestScanLinuxSources scans Linux records in their carriers with
// SigmaHQ's Linux rules: the Log4Shell scenario's Log Analytics Syslog
// rows (AUOMS auditd records, Sysmon for Linux events) and raw audit.log
// events. Each must decode, and the rules written for auditd and for
// Linux process creation must fire on them.
func TestScanLinuxSources(t *testing.T) {
	rules := sharedData(t, "sigma/rules/linux")
	scenario := sharedData(t, "scenarios/otrf_log4shell")
	auoms, _ := filepath.Glob(filepath.Join(scenario, "syslog_auoms_*.json"))
	sysmon, _ := filepath.Glob(filepath.Join(scenario, "syslog_sysmon_*.json"))
	if len(auoms) != 1 || len(sysmon) != 1 {
		t.Fatalf("scenario files: %v %v", auoms, sysmon)
	}
	audit := filepath.Join("..", "..", "decode", "auditd", "testdata", "audit.log")
	stdout, stderr, code := runVigil(t, "scan", "--no-builtin-rules", "--rules", rules, "-o", "json", auoms[0], sysmon[0], audit)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var alerts []apiAlert
	if err := json.Unmarshal([]byte(stdout), &alerts); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	fired := map[string]string{}
	for _, a := range alerts {
		fired[a.Rule.Title] = filepath.Base(a.Evidence[0].File)
	}
	for title, file := range map[string]string{
		"Linux Reverse Shell Indicator":                               filepath.Base(sysmon[0]),
		"Suspicious Java Children Processes":                          filepath.Base(sysmon[0]),
		"Decode Base64 Encoded Text":                                  filepath.Base(auoms[0]),
		"Clear or Disable Kernel Ring Buffer Logs via Syslog Syscall": "audit.log",
		"Creation Of An User Account":                                 "audit.log",
		"Curl Usage on Linux":                                         "audit.log",
	} {
		if got, ok := fired[title]; !ok {
			t.Errorf("%q did not fire (fired: %v)", title, fired)
		} else if got != file {
			t.Errorf("%q fired on %s, want %s", title, got, file)
		}
	}
}
