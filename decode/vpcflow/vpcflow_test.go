package vpcflow

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// logsource is the one of every flow log event.
var logsource = event.Logsource{Product: "aws", Service: "vpcflowlogs"}

// expand is dectest.Expand that checks each event's logsource.
func expand(t testing.TB, d decode.Decoder, recs [][]byte) ([]dectest.Snapshot, error) {
	t.Helper()
	got, err := dectest.Expand(t, d, recs)
	for _, e := range got {
		if e.Logsource != logsource {
			t.Errorf("logsource %+v", e.Logsource)
		}
	}
	return got, err
}

func TestFixtures(t *testing.T) {
	dectest.CheckExpand(t, New, logsource, "default_accept.log", []dectest.Case{
		{Time: "2024-05-06T08:00:00Z",
			Common: map[string]string{"source.ip": "172.31.16.139", "destination.ip": "172.31.16.21", "source.port": "20641", "destination.port": "22",
				"network.transport": "tcp", "event.action": "allow", "event.outcome": "success", "event.category": "network",
				"cloud.provider": "aws", "cloud.account.id": "123456789010"},
			Field: map[string]string{"interface-id": "eni-1235b8ca123456789", "bytes": "4249", "packets": "20", "log-status": "OK", "action": "ACCEPT", "end": "1714982460"}},
	})
	dectest.CheckExpand(t, New, logsource, "default_reject_ipv6.log", []dectest.Case{
		{Time: "2024-05-06T08:01:40Z",
			Common: map[string]string{"source.ip": "198.51.100.77", "destination.port": "3389", "event.action": "deny", "event.outcome": "failure"}},
		{Time: "2024-05-06T08:03:20Z",
			Common: map[string]string{"source.ip": "2001:db8::7", "destination.ip": "2001:db8::1", "network.transport": "ipv6-icmp", "source.port": "0"}},
	})
	dectest.CheckExpand(t, New, logsource, "default_nodata.log", []dectest.Case{
		{Time: "2024-05-06T08:05:00Z",
			Common: map[string]string{"cloud.account.id": "123456789010", "event.category": ""},
			Field:  map[string]string{"log-status": "NODATA", "srcaddr": ""}},
		{Time: "2024-05-06T08:06:40Z",
			Common: map[string]string{"source.ip": "", "event.action": ""},
			Field:  map[string]string{"log-status": "SKIPDATA"}},
	})
	dectest.CheckExpand(t, New, logsource, "custom_header.log", []dectest.Case{
		{Time: "2024-05-06T09:00:00Z",
			Common: map[string]string{"source.ip": "10.0.1.5", "destination.ip": "203.0.113.40", "destination.port": "443", "cloud.region": "eu-west-1",
				"cloud.account.id": "111122223333", "event.action": "allow"},
			Field: map[string]string{"flow-direction": "egress", "tcp-flags": "19", "traffic-path": "8", "vpc-id": "vpc-0a1b2c3d", "bytes": "5060", "packets": "12"}},
		{Time: "2024-05-06T09:01:40Z",
			Common: map[string]string{"source.ip": "192.0.2.99", "destination.port": "22", "event.action": "deny"},
			Field:  map[string]string{"flow-direction": "ingress", "instance-id": "", "traffic-path": ""}},
	})
	dectest.CheckExpand(t, New, logsource, "panther_shape.json", []dectest.Case{
		{Time: "2024-05-06T12:00:00Z",
			Common: map[string]string{"source.ip": "203.0.113.12", "destination.ip": "10.0.0.8", "destination.port": "22", "network.transport": "tcp",
				"event.action": "allow", "cloud.account.id": "123456789012", "cloud.region": "us-east-1"},
			Field: map[string]string{"srcaddr": "203.0.113.12", "dstport": "22", "log-status": "OK", "subnet-id": "subnet-12345678", "flow-direction": "ingress", "p_log_type": "AWS.VPCFlow"}},
	})
	dectest.CheckExpand(t, New, logsource, "ocsf_network_activity.json", []dectest.Case{
		{Time: "2024-05-06T10:06:40Z",
			Common: map[string]string{"source.ip": "198.51.100.3", "destination.port": "3389", "network.transport": "tcp", "event.action": "deny", "cloud.account.id": "444455556666", "cloud.region": "us-west-2"},
			Field:  map[string]string{"src_endpoint.ip": "198.51.100.3", "disposition": "Blocked"}},
	})
}

func TestConfiguredFields(t *testing.T) {
	d := New()
	err := d.(decode.Configurable).Configure(decode.Options{Fields: []string{"${account-id} ${action} ${srcaddr}", "dstport", "log_status"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := expand(t, d, [][]byte{[]byte("111122223333 REJECT 192.0.2.1 23 OK")})
	if err != nil {
		t.Fatal(err)
	}
	if c := got[0].Common; c["source.ip"] != "192.0.2.1" || c["destination.port"] != "23" || c["event.action"] != "deny" || got[0].Field("log-status") != "OK" {
		t.Errorf("got %+v", got[0])
	}
	// A header line overrides the configured list for the lines after it.
	got, err = expand(t, d, [][]byte{[]byte("srcaddr dstaddr action"), []byte("192.0.2.2 10.0.0.1 ACCEPT")})
	if err != nil || len(got) != 1 || got[0].Common["destination.ip"] != "10.0.0.1" {
		t.Errorf("after header: %+v, %v", got, err)
	}
	for _, bad := range []string{"src addr!", "${Version}"} {
		if err := New().(decode.Configurable).Configure(decode.Options{Fields: []string{bad}}); err == nil {
			t.Errorf("field %q accepted", bad)
		}
	}
}

func TestHeaderByDecode(t *testing.T) {
	var ev event.Event
	err := New().Decode([]byte("version srcaddr dstaddr"), &ev)
	var de *decode.Error
	if !errors.As(err, &de) || !strings.Contains(de.Reason, "header line") {
		t.Errorf("Decode(header) = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	const ok = "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1714982400 1714982460 ACCEPT OK"
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "empty record"},
		{Rec: "   \r", Reason: "empty record"},
		{Rec: ok + " extra", Reason: "has 15 fields", Offset: len(ok) + 1},
		{Rec: "2 123456789010 eni-1 172.31.16.139", Reason: "has 4 fields", Offset: 34},
		{Rec: strings.Replace(ok, "172.31.16.21", "172.31.16.256", 1), Field: "dstaddr", Reason: "bad value", Offset: strings.Index(ok, "172.31.16.21")},
		{Rec: strings.Replace(ok, "20641", "70000", 1), Field: "srcport", Reason: "bad value", Offset: strings.Index(ok, "20641")},
		{Rec: strings.Replace(ok, " 6 ", " tcp ", 1), Field: "protocol", Reason: "bad value", Offset: strings.Index(ok, " 6 ") + 1},
		{Rec: strings.Replace(ok, "ACCEPT", "MAYBE", 1), Field: "action", Reason: "bad value", Offset: strings.Index(ok, "ACCEPT")},
		{Rec: strings.Replace(ok, " OK", " FINE", 1), Field: "log-status", Reason: "bad value", Offset: strings.Index(ok, " OK") + 1},
		{Rec: strings.Replace(ok, "1714982400", "17149x2400", 1), Field: "start", Reason: "bad value", Offset: strings.Index(ok, "1714982400")},
		{Rec: strings.Replace(ok, "1714982400", "42", 1), Field: "start", Reason: "unreadable time", Offset: -1},
		{Rec: `{"srcaddr":`, Reason: "invalid JSON", Offset: 10},
		{Rec: `{"srcaddr":"192.0.2.1","start":"soon"}`, Field: "start", Reason: "unreadable time", Offset: -1},
		{Rec: `{"start":1714982400,"version":2}`, Reason: "not a flow record: missing required key srcaddr, dstaddr or log-status", Offset: -1},
		{Rec: `{"src_endpoint":{"port":1}}`, Reason: "missing required key srcaddr, dstaddr or log-status (OCSF: src_endpoint.ip", Offset: -1},
		{Rec: `{"log_type":"AWS.VPCFlow","event":{"srcAddr":"192.0.2.1"}}`, Reason: `(found under "event"`, Offset: -1},
	})
}

// TestPanther decodes every flow record of Panther's rule tests: the
// AWS.VPCFlow ones (camelCase keys) and the OCSF Network Activity ones, and
// the flow record of the multi-source set. srcAddr "null" is a placeholder
// that must just not become source.ip. The multi-source set's record is
// cut down to Panther's own p_ keys, with no flow field left: it is
// refused as no flow record.
func TestPanther(t *testing.T) {
	recs := append(dectest.Panther(t, "network_flow/aws_vpc/panther_rule_tests.jsonl", ""),
		dectest.Panther(t, "cloud/multi_source_standard/panther_rule_tests.jsonl", "AWS.VPCFlow")...)
	if len(recs) != 21 {
		t.Errorf("%d records, want 20 + 1", len(recs))
	}
	var p fastjson.Parser
	for i, rec := range recs {
		got, err := expand(t, New(), [][]byte{rec})
		if i == 20 {
			if err == nil || !strings.Contains(err.Error(), "not a flow record: missing required key srcaddr") {
				t.Errorf("record %d %s: err = %v, want no flow record", i+1, rec, err)
			}
			continue
		}
		if err != nil || len(got) != 1 {
			t.Errorf("record %d: %v", i+1, err)
			continue
		}
		v, _ := p.ParseBytes(rec)
		src := string(v.GetStringBytes("srcAddr"))
		if src == "" {
			src = string(v.GetStringBytes("src_endpoint", "ip"))
		}
		if src == "null" {
			src = ""
		}
		if got[0].Common["source.ip"] != src {
			t.Errorf("record %d: source.ip %q, want %q", i+1, got[0].Common["source.ip"], src)
		}
		port := v.Get("dstPort")
		if port == nil {
			port = v.Get("dst_endpoint", "port")
		}
		if port != nil && got[0].Common["destination.port"] != port.String() {
			t.Errorf("record %d: destination.port %q, want %s", i+1, got[0].Common["destination.port"], port)
		}
		if st := v.GetStringBytes("status"); st != nil && got[0].Field("log-status") != string(st) {
			t.Errorf("record %d: log-status %q, want %q", i+1, got[0].Field("log-status"), st)
		}
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("record %d: sniffed as %q", i+1, f)
		}
	}
}

func TestSniff(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, file := range files {
		dectest.Sniffed(t, Format, dectest.Records(t, filepath.Base(file)))
	}
	for _, rec := range []string{"Mar  3 22:14:05 host sshd[1]: x", `{"eventName":"x"}`, "2 a b c"} {
		if s := Sniff([]byte(rec)); s != 0 {
			t.Errorf("%q: score %d", rec, s)
		}
	}
}

var benchDict = event.NewDict("action", "dstport", "bytes", "interface-id", "log-status")

func allRecords(t testing.TB) [][]byte {
	var recs [][]byte
	for _, f := range []string{"default_accept.log", "default_reject_ipv6.log", "default_nodata.log", "panther_shape.json"} {
		recs = append(recs, dectest.Records(t, f)...)
	}
	return recs
}

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, append(allRecords(t), dectest.Records(t, "ocsf_network_activity.json")...))
	// The custom-format lines, with their header's field list configured.
	custom := dectest.Records(t, "custom_header.log")
	d := New()
	d.(decode.Configurable).Configure(decode.Options{Fields: strings.Fields(string(custom[0]))})
	dectest.ZeroAllocs(t, d, benchDict, custom[1:])
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchExpand(b, New().(decode.Expander), benchDict, allRecords(b), "")
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, file := range files {
		for _, rec := range dectest.Records(f, filepath.Base(file)) {
			f.Add(rec)
		}
	}
	f.Add([]byte("version ${srcaddr} account_id"))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Common[event.CloudProvider] != "aws" {
			t.Fatalf("common %+v", ev.Common)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[decode.Expander](t, Format) }

// TestAllFieldsOfVersion decodes headerless lines that carry every field
// of their version in AWS's order (Sekoia's "custom" sample is version 5,
// 29 fields), then a default line again from the same decoder; a line of
// another length stays refused.
func TestAllFieldsOfVersion(t *testing.T) {
	const v5 = "5 424805057484 eni-1235b8ca123456789 52.95.128.179 10.0.0.71 46945 53 17 1 73 1658131186 1658131216 ACCEPT OK vpc-abcdefab012345678 subnet-aaaaaaaa012345678 - 0 IPv4 52.95.128.179 10.0.0.71 eu-west-1 euw1-az3 - - - - egress 8"
	const v2 = "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1714982400 1714982460 REJECT OK"
	d := New()
	got, err := expand(t, d, [][]byte{[]byte(v5), []byte(v2)})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d events, %v", len(got), err)
	}
	if c, f := got[0].Common, got[0].Field; c["source.ip"] != "52.95.128.179" || c["destination.port"] != "53" || c["network.transport"] != "udp" ||
		c["cloud.region"] != "eu-west-1" || f("flow-direction") != "egress" || f("traffic-path") != "8" || f("vpc-id") != "vpc-abcdefab012345678" {
		t.Errorf("v5 line: %+v", got[0])
	}
	if c := got[1].Common; c["event.action"] != "deny" || c["destination.port"] != "22" {
		t.Errorf("default line after v5: %+v", got[1])
	}
	// 29 fields that claim version 3 (21 fields) are not guessed.
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := New().Decode([]byte("3"+v5[1:]), &ev); err == nil || !strings.Contains(err.Error(), "has 29 fields") {
		t.Errorf("version 3 with 29 fields: %v", err)
	}
	// A configured list is not second-guessed.
	c := New()
	if err := c.(decode.Configurable).Configure(decode.Options{Fields: DefaultFields}); err != nil {
		t.Fatal(err)
	}
	if err := c.Decode([]byte(v5), &ev); err == nil {
		t.Error("configured default list took a 29-field line")
	}
}
