package misp

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// An event written from MISP's attribute and tag definitions: composite
// types, to_ids in the forms MISP versions write, deleted attributes and
// objects, attribute tags over event tags, and bad entries among good.
const eventDoc = `{"Event": {
 "uuid": "11111111-2222-4333-8444-555555555555", "info": "Test event", "date": "2026-02-01",
 "threat_level_id": "1", "timestamp": "1770000000",
 "Tag": [{"name": "tlp:amber"}, {"name": "misp-galaxy:botnet=\"Mirai\""}, {"name": "workflow:state=\"complete\""}],
 "Attribute": [
  {"uuid": "a0000000-0000-4000-8000-000000000001", "type": "ip-dst", "value": "198.51.100.1", "to_ids": true, "timestamp": "1770000100"},
  {"uuid": "a0000000-0000-4000-8000-000000000002", "type": "ip-src|port", "value": "2001:db8::1|8080", "to_ids": "1"},
  {"uuid": "a0000000-0000-4000-8000-000000000003", "type": "domain|ip", "value": "C2.Example.NET|203.0.113.7", "to_ids": 1,
   "Tag": [{"name": "kill-chain:Command and Control"}, {"name": "osint:certainty=\"75\""}, {"name": "tlp:green"}]},
  {"uuid": "a0000000-0000-4000-8000-000000000004", "type": "filename|sha256", "value": "x.exe|EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C", "to_ids": true,
   "first_seen": "2026-01-15T10:00:00.000000+00:00", "last_seen": "2026-01-20T10:00:00.000000+00:00", "comment": "dropper"},
  {"uuid": "a0000000-0000-4000-8000-000000000005", "type": "url", "value": "http://evil.example.com/gate.php", "to_ids": false},
  {"uuid": "a0000000-0000-4000-8000-000000000006", "type": "ip-dst", "value": "198.51.100.6", "to_ids": true, "deleted": true},
  {"uuid": "a0000000-0000-4000-8000-000000000007", "type": "ip-dst", "value": "300.1.1.1", "to_ids": true},
  {"uuid": "a0000000-0000-4000-8000-000000000008", "type": "imphash", "value": "abc", "to_ids": true},
  {"uuid": "a0000000-0000-4000-8000-000000000009", "type": "regkey", "value": "HKLM\\x", "to_ids": true},
  {"uuid": "a0000000-0000-4000-8000-00000000000a", "type": "user-agent", "value": "EvilBot/1.0", "to_ids": true},
  {"uuid": "a0000000-0000-4000-8000-00000000000b", "type": "email-src", "value": "Phish@Example.org", "to_ids": true,
   "Tag": [{"name": "circl:incident-classification=\"phishing\""}]},
  {"uuid": "a0000000-0000-4000-8000-00000000000c", "type": "ip-dst", "value": 12, "to_ids": true},
  {"uuid": "a0000000-0000-4000-8000-00000000000d", "type": "ip-dst", "value": "10.0.0.0/8", "to_ids": "maybe"},
  {"uuid": "a0000000-0000-4000-8000-00000000000e", "type": "ip-dst", "value": "192.0.2.0/24", "to_ids": true}
 ],
 "Object": [
  {"uuid": "b0000000-0000-4000-8000-000000000001", "name": "file", "comment": "Win32/Test.A", "Attribute": [
    {"uuid": "b0000000-0000-4000-8000-000000000002", "type": "md5", "value": "001DD76872D80801692FF942308C64E6", "to_ids": true},
    {"uuid": "b0000000-0000-4000-8000-000000000003", "type": "filename", "value": "x.exe", "to_ids": true}]},
  {"uuid": "b0000000-0000-4000-8000-000000000004", "name": "domain-ip", "deleted": true, "Attribute": [
    {"uuid": "b0000000-0000-4000-8000-000000000005", "type": "domain", "value": "gone.example", "to_ids": true}]},
  "not an object"
 ]
}}`

func parseDoc(t *testing.T, doc string) ([]intel.Indicator, []intel.Problem) {
	t.Helper()
	var probs []intel.Problem
	inds, err := Parser{}.Parse(strings.NewReader(doc), "misp-test", func(p intel.Problem) { probs = append(probs, p) })
	if err != nil {
		t.Fatal(err)
	}
	return inds, probs
}

func TestEventVariants(t *testing.T) {
	inds, probs := parseDoc(t, eventDoc)
	got := map[string]intel.Indicator{}
	var values []string
	for _, i := range inds {
		got[i.Value] = i
		values = append(values, string(i.Kind)+"="+i.Value)
	}
	want := []string{"ip=198.51.100.1", "ip=2001:db8::1", "domain=c2.example.net", "ip=203.0.113.7",
		"sha256=ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c", "user_agent=EvilBot/1.0",
		"email=phish@example.org", "cidr=192.0.2.0/24", "md5=001dd76872d80801692ff942308c64e6"}
	if !reflect.DeepEqual(values, want) {
		t.Errorf("indicators\n got %v\nwant %v", values, want)
	}
	ip := got["198.51.100.1"]
	if ip.ThreatType != intel.ThreatBotnet || ip.Threat != "Mirai" || ip.TLP != "amber" || ip.Confidence != 90 ||
		ip.Feed != "misp-test" || ip.Ref != "a0000000-0000-4000-8000-000000000001" || ip.Description != "Test event" ||
		!ip.FirstSeen.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !ip.LastSeen.Equal(time.Unix(1770000100, 0)) ||
		!reflect.DeepEqual(ip.Tags, []string{`misp-galaxy:botnet="Mirai"`}) {
		t.Errorf("event tags on an attribute: %+v", ip)
	}
	if d := got["c2.example.net"]; d.ThreatType != intel.ThreatC2 || d.Confidence != 75 || d.TLP != "green" || d.Threat != "Mirai" {
		t.Errorf("attribute tags over event tags: %+v", d)
	}
	if h := got["ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"]; !h.FirstSeen.Equal(time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)) ||
		!h.LastSeen.Equal(time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC)) || h.Description != "Test event: dropper" {
		t.Errorf("first/last seen and comment: %+v", h)
	}
	if e := got["phish@example.org"]; e.ThreatType != intel.ThreatPhishing {
		t.Errorf("incident classification: %+v", e)
	}
	if m := got["001dd76872d80801692ff942308c64e6"]; m.Description != "Test event: Win32/Test.A" {
		t.Errorf("object comment: %+v", m)
	}
	wantProblems := []string{
		"Event.Attribute[6] (a0000000-0000-4000-8000-000000000007)|300.1.1.1",
		"Event.Attribute[11]|malformed",
		"Event.Attribute[12]|malformed",
		"Event.Object[2]|malformed",
		"(event 11111111-2222-4333-8444-555555555555)|3 to_ids attribute(s) of types vigil does not match skipped: filename ×1, imphash ×1, regkey ×1",
	}
	if len(probs) != len(wantProblems) {
		t.Errorf("%d problems, want %d: %v", len(probs), len(wantProblems), probs)
	}
	for _, w := range wantProblems {
		where, reason, _ := strings.Cut(w, "|")
		found := false
		for _, p := range probs {
			if strings.Contains(p.Where, where) && strings.Contains(p.Reason, reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem at %q about %q: %v", where, reason, probs)
		}
	}
}

func TestNotAnEvent(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"Event": 3}`, `{}`, `{"Event": {"Attribute": {}}}`} {
		if _, err := (Parser{}).Parse(strings.NewReader(doc), "x", nil); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
	// The bare event, without its {"Event": …} wrapper, reads the same.
	inds, err := Parser{}.Parse(strings.NewReader(`{"uuid":"u","Attribute":[{"type":"domain","value":"a.example","to_ids":true}]}`), "x", nil)
	if err != nil || len(inds) != 1 || inds[0].ThreatType != intel.ThreatUnknown || inds[0].Confidence != 50 {
		t.Errorf("bare event: %+v %v", inds, err)
	}
}

func testFeed() fstest.MapFS {
	return fstest.MapFS{
		"manifest.json": {Data: []byte(`{
 "11111111-2222-4333-8444-555555555555": {"info": "Test event", "date": "2026-02-01", "threat_level_id": "1", "timestamp": "1770000000", "Tag": [{"name": "tlp:amber"}]},
 "22222222-2222-4333-8444-555555555555": {"info": "missing", "timestamp": 1770000001},
 "33333333-2222-4333-8444-555555555555": {"info": "broken", "timestamp": "1600000000"},
 "../../etc/passwd": {"info": "escape"}
}`)},
		"11111111-2222-4333-8444-555555555555.json": {Data: []byte(eventDoc)},
		"33333333-2222-4333-8444-555555555555.json": {Data: []byte(`{"Event": {"uuid": "33333333-2222-4333-8444-555555555555", "Attribute": [`)},
	}
}

func TestReadFeed(t *testing.T) {
	var probs []intel.Problem
	inds, err := ReadFeed(testFeed(), "f", func(p intel.Problem) { probs = append(probs, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(inds) != 9 {
		t.Errorf("%d indicators, want 9", len(inds))
	}
	var files []string
	for _, p := range probs {
		files = append(files, strings.SplitN(p.Where, ":", 2)[0])
	}
	for _, want := range []string{"manifest.json", "22222222-2222-4333-8444-555555555555.json", "33333333-2222-4333-8444-555555555555.json", "11111111-2222-4333-8444-555555555555.json"} {
		found := false
		for _, f := range files {
			found = found || strings.HasPrefix(f, want)
		}
		if !found {
			t.Errorf("no problem names %s: %v", want, probs)
		}
	}
	// Only events changed since a time.
	inds, err = ReadFeedSince(testFeed(), "f", 1770000000, nil)
	if err != nil || len(inds) != 0 {
		t.Errorf("since the last change: %d indicators, %v", len(inds), err)
	}
	if _, err := ReadFeed(fstest.MapFS{}, "f", nil); err == nil {
		t.Error("a feed without manifest.json read")
	}
}

func TestHTTPFS(t *testing.T) {
	srv := httptest.NewServer(http.FileServerFS(testFeed()))
	defer srv.Close()
	inds, err := ReadFeed(HTTPFS{Base: srv.URL}, "f", nil)
	if err != nil || len(inds) != 9 {
		t.Errorf("over HTTP: %d indicators, %v", len(inds), err)
	}
	if _, err := (HTTPFS{Base: srv.URL}).Open("22222222-2222-4333-8444-555555555555.json"); err == nil || !strings.Contains(err.Error(), "not exist") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestReadHashes(t *testing.T) {
	var probs []intel.Problem
	h, err := ReadHashes(strings.NewReader("420b3bc35ca39aff2c3ce0b218d936ef,57c4445b-c548-4654-af0b-4be3950d210f\nnope\n\n"), func(p intel.Problem) { probs = append(probs, p) })
	if err != nil || len(h) != 1 || len(probs) != 1 || probs[0].Where != "hashes.csv:2" {
		t.Fatalf("hashes %v problems %v err %v", h, probs, err)
	}
	if ev := h.Events("0749bae92ca336a02c83d126e04ec628"); len(ev) != 1 || ev[0] != "57c4445b-c548-4654-af0b-4be3950d210f" {
		t.Errorf("lookup: %v", ev)
	}
}

// sharedFeed is ../shared/data/threat_intel/misp_feed from the repository root.
func sharedFeed(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "data", "threat_intel", "misp_feed")
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Skipf("shared MISP feed absent: %v", err)
	}
	return dir
}

func TestSharedFeed(t *testing.T) {
	dir := sharedFeed(t)
	var probs []intel.Problem
	inds, err := ReadFeed(os.DirFS(dir), "circl", func(p intel.Problem) { probs = append(probs, p) })
	if err != nil {
		t.Fatal(err)
	}
	perEvent := map[string]int{}
	byRef := map[string]intel.Indicator{}
	for _, i := range inds {
		byRef[i.Ref] = i
	}
	events := map[string]string{
		"57153590-f73c-49fa-be4b-4737950d210f": "OSINT - ASERT",
		"57c4445b-c548-4654-af0b-4be3950d210f": "Ransomware - Xorist",
		"5a3c2fcd-8328-42bb-a95e-4f4402de0b81": "OSINT - Sednit",
	}
	for _, i := range inds {
		for id, info := range events {
			if strings.HasPrefix(i.Description, info) {
				perEvent[id]++
			}
		}
	}
	want := map[string]int{"57153590-f73c-49fa-be4b-4737950d210f": 247, "57c4445b-c548-4654-af0b-4be3950d210f": 3, "5a3c2fcd-8328-42bb-a95e-4f4402de0b81": 68}
	if !reflect.DeepEqual(perEvent, want) || len(inds) != 318 {
		t.Errorf("indicators per event %v (total %d), want %v", perEvent, len(inds), want)
	}
	// ASERT: three values typed url that are not (107.183.86,
	// Data/dtl.dat, Data/glp.uin) and 8 unsupported to_ids attributes.
	// Xorist: a filename and a regkey|value. Sednit: 15 file names.
	if len(probs) != 6 {
		t.Errorf("%d problems, want 6: %v", len(probs), probs)
	}
	for _, p := range probs {
		t.Logf("problem: %v", p)
	}
	checks := []struct {
		ref, value, kind, threatType, threat, tlp string
		confidence                                int
	}{
		{"57161e37-fe5c-4f2a-b9ec-4eea950d210f", "103.240.203.232", "ip", "unknown", "", "clear", 70},
		{"5715f3b4-c4f0-4b6b-8661-494f950d210f", "7a200c4df99887991c638fe625d07a4a3fc2bdc887112437752b3df5c8da79b6", "sha256", "unknown", "", "clear", 70},
		{"5a3c3045-ab0c-4d38-8efe-459002de0b81", "movieultimate.com", "domain", "malware", "Sofacy", "clear", 50},
		{"5a3cd5b6-78a8-4e47-8333-4c62950d210f", "68064fc152e23d56e541714af52651cb4ba81aaf", "sha1", "malware", "Sofacy", "clear", 50},
		{"5a3ce58a-fcd8-48d5-8b4a-4fd9950d210f", "87.236.211.182", "ip", "malware", "Sofacy", "clear", 50},
	}
	for _, c := range checks {
		i, ok := byRef[c.ref]
		if !ok {
			t.Errorf("attribute %s missing", c.ref)
			continue
		}
		if i.Value != c.value || string(i.Kind) != c.kind || i.ThreatType != c.threatType || i.Threat != c.threat || i.TLP != c.tlp || i.Confidence != c.confidence {
			t.Errorf("%s: %+v, want %+v", c.ref, i, c)
		}
	}
	if d := byRef["5a3cd5b6-78a8-4e47-8333-4c62950d210f"].Description; d != "OSINT - Sednit update: How Fancy Bear Spent the Year: Win32/Sednit.AX" {
		t.Errorf("object comment in the description: %q", d)
	}
	// Xorist's tags: CIRCL incident malware, Ransomware category.
	for _, i := range inds {
		if strings.HasPrefix(i.Description, "Ransomware - Xorist") && i.ThreatType != intel.ThreatMalware {
			t.Errorf("Xorist indicator %s typed %s", i.Value, i.ThreatType)
		}
	}
}

func TestSharedHashes(t *testing.T) {
	dir := sharedFeed(t)
	f, err := os.Open(filepath.Join(dir, "hashes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var probs []intel.Problem
	h, err := ReadHashes(f, func(p intel.Problem) { probs = append(probs, p) })
	if err != nil || len(probs) != 0 {
		t.Fatalf("%v %v", err, probs)
	}
	rows := 0
	for _, evs := range h {
		rows += len(evs)
	}
	if rows != 830 {
		t.Errorf("%d rows, want 830", rows)
	}
	// Every indicator's value, as the event wrote it, is in hashes.csv
	// under its event: hashes of normalized values match since these
	// events write them in lower case.
	inds, _ := ReadFeed(os.DirFS(dir), "circl", nil)
	for _, i := range inds {
		// A URL written without a scheme was taken as http.
		asWritten := strings.TrimSuffix(strings.TrimPrefix(i.Value, "http://"), "/")
		if len(h.Events(i.Value)) == 0 && len(h.Events(asWritten)) == 0 {
			t.Errorf("%s %s not in hashes.csv", i.Kind, i.Value)
		}
	}
}
