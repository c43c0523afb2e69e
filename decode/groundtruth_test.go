package decode_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/accesslog"
	"github.com/vigil-sec/vigil/event"
)

// groundTruthDir holds Sekoia's parser test samples: raw vendor lines with
// the fields Sekoia's parsers extract (no licence: read here, never copied).
var groundTruthDir = filepath.Join("..", "..", "shared", "data", "parser_ground_truth_sekoia")

// compared are the fields checked, where both sides fill them.
var compared = []string{"source.ip", "source.port", "destination.ip", "destination.port", "user.name", "event.outcome", "@timestamp"}

// asserted are the formats that must reach minAccuracy with no decode
// error: the issue names CEF, LEEF, sshd, access logs, CloudTrail, and VPC
// flow, Azure activity, sign-in and flow logs. awswaf is reported only.
var asserted = map[string]bool{"cef": true, "leef": true, "sshd": true, "accesslog": true, "cloudtrail": true,
	"vpcflow": true, "azureactivity": true, "signin": true, "nsgflow": true,
	"apache-error": true, "haproxy": true, "iis": true}

const minAccuracy = 98.0

// disagreements are expected values vigil deliberately does not give, by
// sample file and field, with the reason. They are reported, not counted.
var disagreements = map[string]string{
	// Sekoia's generic CEF parser takes start for @timestamp, its Palo
	// Alto parser takes rt for the very same lines (paloalto-ngfw
	// threat_cef, url_cef). rt is CEF's receipt time, the event's time as
	// the device logged it; start is when the activity began.
	"pan_ngfw_auth_cef.json @timestamp":   "generic CEF parser uses start; rt is the event's time (Sekoia's PAN parser agrees)",
	"pan_ngfw_threat_cef.json @timestamp": "generic CEF parser uses start; rt is the event's time (Sekoia's PAN parser agrees)",
	// "failed" is not an ECS outcome; Sekoia's FortiGate parser writes
	// "failure" for the same line.
	"fortigate_ssh_access.CEF.json event.outcome": "\"failed\" is no ECS value; vigil writes failure",
	// devTime=May 01 2025 18:00:02.009 CEST is 16:00:02.009Z; the
	// expected value drops the zone.
	"test_leef_01.json @timestamp": "expected value ignores the CEST zone (UTC+2)",
	// The call failed with errorCode Client.AuthFailure; Sekoia's outcome
	// looks at the HTTP layer only.
	"event_ec2-error.json event.outcome": "the call has errorCode Client.AuthFailure: a failure",
	// CreateUser: the expected user is the user created
	// (responseElements.user.userId), vigil's is the caller (the root
	// identity), which is who the event is about for detection.
	"event_iam.json user.name": "expected is the created user (target), not the caller",
	// Sekoia's VPC flow parser writes the record's log-status (OK: the
	// flow was logged) into event.outcome; vigil writes the action's
	// outcome (ACCEPT success, REJECT failure), as for nsgflow, so that
	// one rule fits both clouds. "ok" is no ECS outcome value.
	"accept_structured.json event.outcome": "expected is log-status OK, not an ECS outcome",
	"reject_structured.json event.outcome": "expected is log-status OK, not an ECS outcome",
	"ipv6traffic.json event.outcome":       "expected is log-status OK, not an ECS outcome",
	"custom.json event.outcome":            "expected is log-status OK, not an ECS outcome",
	// A device-code sign-in: createdDateTime (13:06:18) is when the
	// sign-in began, the diagnostic record's time (13:09:02) when Entra
	// logged it. vigil takes the sign-in's own time, the one the Graph
	// shape also carries (it has no other); time stays a field.
	"sign-in_activity4.json @timestamp": "expected is the diagnostic record's time, not the sign-in's createdDateTime",
}

type tally struct {
	records, errors, compared, matched, explained int
	misses                                        []string
}

func TestGroundTruthAccuracy(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(groundTruthDir, "*.jsonl"))
	if len(files) == 0 {
		t.Skipf("%s not available: ground truth accuracy not measured", groundTruthDir)
	}
	received := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tallies := map[string]*tally{}
	seen := map[string]bool{}
	uncovered := map[string]int{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 8<<20)
		for sc.Scan() {
			var s struct {
				SourceFile string         `json:"source_file"`
				Message    string         `json:"message"`
				Expected   map[string]any `json:"expected"`
			}
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			// ALL_LEEF_messages repeats the LEEF lines of the vendor files.
			if seen[s.Message] {
				continue
			}
			seen[s.Message] = true
			format, rec := route(filepath.Base(file), s.Message)
			if format == "" {
				uncovered[filepath.Base(file)]++
				continue
			}
			tl := tallies[format]
			if tl == nil {
				tl = &tally{}
				tallies[format] = tl
			}
			tl.records++
			d, _ := decode.New(format)
			var ev event.Event
			ev.Received = received
			ev.Fields.Bind(event.NewDict())
			if err := d.Decode([]byte(rec), &ev); err != nil {
				tl.errors++
				tl.misses = append(tl.misses, fmt.Sprintf("%s: %v", base(s.SourceFile), err))
				continue
			}
			for _, name := range compared {
				want, ok := expected(s.Expected, name)
				got := vigilValue(&ev, name, format)
				if !ok || got == "" {
					continue
				}
				key := base(s.SourceFile) + " " + name
				if same(name, got, want) {
					tl.compared++
					tl.matched++
				} else if why, ok := disagreements[key]; ok {
					tl.explained++
					t.Logf("explained: %s: got %q, expected %q (%s)", key, got, want, why)
				} else {
					tl.compared++
					tl.misses = append(tl.misses, fmt.Sprintf("%s: got %q, want %q", key, got, want))
				}
			}
		}
		f.Close()
	}
	names := make([]string, 0, len(tallies))
	for n := range tallies {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-14s %7s %6s %8s %7s %9s %9s\n", "format", "records", "errors", "compared", "matched", "explained", "accuracy")
	for _, n := range names {
		tl := tallies[n]
		acc := 100.0
		if tl.compared > 0 {
			acc = 100 * float64(tl.matched) / float64(tl.compared)
		}
		fmt.Fprintf(&b, "%-14s %7d %6d %8d %7d %9d %8.1f%%\n", n, tl.records, tl.errors, tl.compared, tl.matched, tl.explained, acc)
		for _, m := range tl.misses {
			fmt.Fprintf(&b, "    miss: %s\n", m)
		}
		if asserted[n] && (acc < minAccuracy || tl.errors > 0) {
			t.Errorf("%s: accuracy %.1f%% with %d decode errors, want ≥ %.0f%% and none", n, acc, tl.errors, minAccuracy)
		}
	}
	fmt.Fprintf(&b, "not covered by a vigil format (vendor-specific): %v", uncovered)
	t.Log(b.String())
	for n := range asserted {
		if tallies[n] == nil || tallies[n].compared == 0 {
			t.Errorf("%s: no field compared", n)
		}
	}
}

// route names the vigil format for a sample, and the record to give it;
// "" when vigil has no format for it (vendor key=value syslog, PAN CSV, …).
func route(file, msg string) (format, rec string) {
	switch {
	case strings.Contains(msg, "CEF:"):
		return "cef", msg
	case strings.Contains(msg, "LEEF:"):
		return "leef", msg
	case strings.HasPrefix(file, "OpenSSH"):
		// Sekoia's samples are the message after the syslog header; give
		// sshd the header it expects. Its time is made up, and Sekoia
		// expects none.
		return "sshd", "Jun  1 00:00:00 host sshd[1]: " + strings.TrimLeft(msg, " ")
	case strings.HasPrefix(file, "Apache") || strings.HasPrefix(file, "NGINX"):
		if accesslog.Sniff([]byte(msg)) > 0 { // not nginx JSON
			return "accesslog", msg
		}
		if f, _ := decode.Sniff([]byte(msg)); f == "apache-error" || f == "nginx-error" {
			return f, msg
		}
	case strings.HasPrefix(file, "HAProxy"):
		return known("haproxy"), msg
	case strings.HasPrefix(file, "Microsoft__microsoft-iis"):
		return known("iis"), msg
	case strings.HasPrefix(file, "AWS__aws-cloudtrail"):
		return "cloudtrail", msg
	case strings.HasPrefix(file, "AWS__aws-waf"):
		return known("awswaf"), msg
	case strings.HasPrefix(file, "AWS__aws-flow-logs"):
		return known("vpcflow"), msg
	case strings.HasPrefix(file, "Azure__azure-activity"):
		return known("azureactivity"), msg
	case strings.HasPrefix(file, "Azure__azure-ad"):
		return known("signin"), msg
	case strings.HasPrefix(file, "Azure__azure-network-watcher"):
		return known("nsgflow"), msg
	}
	return "", ""
}

func known(format string) string {
	if decode.Known(format) {
		return format
	}
	return ""
}

func base(sourceFile string) string { return sourceFile[strings.LastIndexByte(sourceFile, '/')+1:] }

// expected looks a dotted name up in Sekoia's nested result.
func expected(m map[string]any, name string) (string, bool) {
	if name == "@timestamp" {
		v, ok := m[name].(string)
		return v, ok
	}
	var cur any = m
	for _, p := range strings.Split(name, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = o[p]; !ok {
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, v != ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

func vigilValue(ev *event.Event, name, format string) string {
	if name == "@timestamp" {
		if ev.Time.IsZero() || format == "sshd" {
			return ""
		}
		return ev.Time.Format(time.RFC3339Nano)
	}
	id, _ := event.CommonID(name)
	return ev.Common[id]
}

func same(name, got, want string) bool {
	switch name {
	case "@timestamp":
		g, err1 := time.Parse(time.RFC3339Nano, got)
		w, err2 := time.Parse(time.RFC3339Nano, want)
		// Sekoia keeps microseconds; Azure writes 100 ns ticks.
		return err1 == nil && err2 == nil && g.Truncate(time.Microsecond).Equal(w.Truncate(time.Microsecond))
	case "source.ip", "destination.ip":
		g, err1 := netip.ParseAddr(got)
		w, err2 := netip.ParseAddr(want)
		return err1 == nil && err2 == nil && g == w
	}
	return got == want
}
