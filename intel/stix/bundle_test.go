package stix

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

func parse(t *testing.T, doc string) ([]intel.Indicator, []intel.Problem) {
	t.Helper()
	var probs []intel.Problem
	inds, err := Parser{}.Parse(strings.NewReader(doc), "test", func(p intel.Problem) { probs = append(probs, p) })
	if err != nil {
		t.Fatal(err)
	}
	return inds, probs
}

func byValue(inds []intel.Indicator) map[string]intel.Indicator {
	m := map[string]intel.Indicator{}
	for _, i := range inds {
		m[i.Value] = i
	}
	return m
}

// A bundle written from the specification's object definitions: TLP
// markings of both versions, relationships to each kind of threat object,
// revocation, validity, confidence, versions, and bad objects among good.
const variants = `{"type": "bundle", "id": "bundle--0d4c3b0a-1c1e-4e6f-9a56-1b2f7b7a0001", "objects": [
 {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--aaaaaaaa-0000-4000-8000-000000000001",
  "created": "2020-01-01T00:00:00Z", "definition_type": "tlp", "definition": {"tlp": "amber"}},
 {"type": "malware", "spec_version": "2.1", "id": "malware--aaaaaaaa-0000-4000-8000-000000000002", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "name": "Mirai", "is_family": true, "malware_types": ["bot", "worm"]},
 {"type": "malware", "spec_version": "2.1", "id": "malware--aaaaaaaa-0000-4000-8000-000000000003", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "name": "Poison Ivy", "is_family": true, "malware_types": ["remote-access-trojan"]},
 {"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--aaaaaaaa-0000-4000-8000-000000000004", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "name": "Ugly Gorilla", "threat_actor_types": ["nation-state"]},
 {"type": "infrastructure", "spec_version": "2.1", "id": "infrastructure--aaaaaaaa-0000-4000-8000-000000000005", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "name": "PI C2", "infrastructure_types": ["command-and-control"]},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000010", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '198.51.100.10' OR ipv4-addr:value = '198.51.100.11']",
  "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z", "confidence": 85, "indicator_types": ["malicious-activity"],
  "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]},
 {"type": "relationship", "spec_version": "2.1", "id": "relationship--aaaaaaaa-0000-4000-8000-000000000011", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "relationship_type": "indicates", "source_ref": "indicator--aaaaaaaa-0000-4000-8000-000000000010",
  "target_ref": "malware--aaaaaaaa-0000-4000-8000-000000000002"},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000020", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[domain-name:value = 'pi.example.net']",
  "valid_from": "2020-01-01T00:00:00Z", "indicator_types": ["malicious-activity"],
  "object_marking_refs": ["marking-definition--aaaaaaaa-0000-4000-8000-000000000001", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]},
 {"type": "relationship", "spec_version": "2.1", "id": "relationship--aaaaaaaa-0000-4000-8000-000000000021", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "relationship_type": "indicates", "source_ref": "indicator--aaaaaaaa-0000-4000-8000-000000000020",
  "target_ref": "malware--aaaaaaaa-0000-4000-8000-000000000003"},
 {"type": "relationship", "spec_version": "2.1", "id": "relationship--aaaaaaaa-0000-4000-8000-000000000022", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "relationship_type": "indicates", "source_ref": "indicator--aaaaaaaa-0000-4000-8000-000000000020",
  "target_ref": "infrastructure--aaaaaaaa-0000-4000-8000-000000000005"},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000030", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[file:hashes.MD5 = '001dd76872d80801692ff942308c64e6']",
  "valid_from": "2020-01-01T00:00:00Z", "indicator_types": ["malicious-activity"], "revoked": true,
  "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]},
 {"type": "relationship", "spec_version": "2.1", "id": "relationship--aaaaaaaa-0000-4000-8000-000000000031", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "relationship_type": "indicates", "source_ref": "indicator--aaaaaaaa-0000-4000-8000-000000000030",
  "target_ref": "threat-actor--aaaaaaaa-0000-4000-8000-000000000004"},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000040", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '203.0.113.1']", "valid_from": "2020-01-01T00:00:00Z",
  "indicator_types": ["anonymization"]},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000040", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-06-01T00:00:00Z", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '203.0.113.2']", "valid_from": "2020-01-01T00:00:00Z",
  "indicator_types": ["anonymization"]},
 {"type": "relationship", "spec_version": "2.1", "id": "relationship--aaaaaaaa-0000-4000-8000-000000000041", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "relationship_type": "indicates", "source_ref": "indicator--aaaaaaaa-0000-4000-8000-000000000040",
  "target_ref": "malware--aaaaaaaa-0000-4000-8000-000000000002", "revoked": true},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000050", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '203.0.113.50'", "valid_from": "2020-01-01T00:00:00Z"},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000060", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '203.0.113.60'] FOLLOWEDBY [domain-name:value = 'x.example']",
  "valid_from": "2020-01-01T00:00:00Z"},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000070", "confidence": "high",
  "pattern": "[ipv4-addr:value = '203.0.113.70']"},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000080", "pattern_type": "yara", "pattern": "rule x {}"},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000090", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[url:value = 'http://ok.example/a']", "valid_from": "yesterday"},
 42,
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-0000000000a0", "created": "2020-01-01T00:00:00Z",
  "modified": "2020-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[email-addr:value = 'Phish@Example.org'] OR [file:size = 3]",
  "valid_from": "2020-01-01T00:00:00Z", "confidence": 140, "labels": ["phishing-kit"]}
]}`

func TestParseVariants(t *testing.T) {
	inds, probs := parse(t, variants)
	got := byValue(inds)
	if len(inds) != 6 {
		t.Errorf("%d indicators, want 6: %v", len(inds), got)
	}
	check := func(value string, f func(i intel.Indicator) bool, what string) {
		t.Helper()
		i, ok := got[value]
		if !ok {
			t.Errorf("%s missing", value)
			return
		}
		if !f(i) {
			t.Errorf("%s: %s: %+v", value, what, i)
		}
	}
	validUntil := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []string{"198.51.100.10", "198.51.100.11"} {
		check(v, func(i intel.Indicator) bool {
			return i.Kind == intel.KindIP && i.ThreatType == intel.ThreatBotnet && i.Threat == "Mirai" && i.Confidence == 85 &&
				i.TLP == "green" && i.ValidUntil.Equal(validUntil) && i.Ref == "indicator--aaaaaaaa-0000-4000-8000-000000000010" &&
				i.Feed == "test" && i.FirstSeen.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		}, "bot malware, TLP 1.0 green by id, validity")
	}
	check("pi.example.net", func(i intel.Indicator) bool {
		return i.ThreatType == intel.ThreatC2 && i.Threat == "Poison Ivy" && i.TLP == "amber" && i.Confidence == 50
	}, "c2 infrastructure wins the type, malware the name; strictest TLP of a defined amber and white")
	check("001dd76872d80801692ff942308c64e6", func(i intel.Indicator) bool {
		return i.Revoked && i.Threat == "Ugly Gorilla" && i.ThreatType == intel.ThreatMalware && i.TLP == "red" && !i.Live(time.Now())
	}, "revoked, actor name, TLP 2.0 red")
	check("203.0.113.2", func(i intel.Indicator) bool { return i.ThreatType == intel.ThreatAnonymizer && i.Threat == "" },
		"latest version, anonymization, a revoked relationship ignored")
	if _, ok := got["203.0.113.1"]; ok {
		t.Error("an older version of an indicator was kept")
	}
	check("phish@example.org", func(i intel.Indicator) bool {
		return i.Kind == intel.KindEmail && i.Confidence == 100 && reflect.DeepEqual(i.Tags, []string{"phishing-kit"})
	}, "clamped confidence, labels as tags")

	wantProblems := map[string]string{
		"indicator--aaaaaaaa-0000-4000-8000-000000000050": "offset",
		"indicator--aaaaaaaa-0000-4000-8000-000000000060": "FOLLOWEDBY",
		"objects[17]": "confidence",
		"indicator--aaaaaaaa-0000-4000-8000-000000000080": "yara",
		"indicator--aaaaaaaa-0000-4000-8000-000000000090": "valid_from",
		"objects[20]": "malformed",
		"indicator--aaaaaaaa-0000-4000-8000-0000000000a0": "file:size",
	}
	for where, reason := range wantProblems {
		found := false
		for _, p := range probs {
			if strings.Contains(p.Where, where) && strings.Contains(p.Error(), reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem at %s about %q; problems: %v", where, reason, probs)
		}
	}
	// clamped confidence (a0) is reported too, and nothing else.
	if len(probs) != len(wantProblems)+1 {
		t.Errorf("%d problems, want %d: %v", len(probs), len(wantProblems)+1, probs)
	}
}

func TestParseNotABundle(t *testing.T) {
	for _, doc := range []string{``, `[1,2]`, `{"objects": 3}`, `{"foo": 1}`, `{"type":"bundle","objects":[`} {
		if _, err := (Parser{}).Parse(strings.NewReader(doc), "x", nil); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
	// A lone object is read as a bundle of one.
	inds, err := Parser{}.Parse(strings.NewReader(`{"type":"indicator","id":"indicator--aaaaaaaa-0000-4000-8000-000000000001","pattern":"[domain-name:value='a.example']","pattern_type":"stix"}`), "x", nil)
	if err != nil || len(inds) != 1 || inds[0].Value != "a.example" {
		t.Errorf("lone indicator: %v %v", inds, err)
	}
}

func roundTripIndicators() []intel.Indicator {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	base := intel.Indicator{
		ThreatType: intel.ThreatC2, Threat: "Cobalt 'Strike'", Confidence: 77, Feed: "f",
		FirstSeen: t0, LastSeen: t0.Add(time.Hour), ValidUntil: t0.Add(24 * time.Hour),
		TLP: "amber+strict", Description: "seen \"beaconing\"", Tags: []string{"a", "b"},
	}
	var out []intel.Indicator
	add := func(k intel.Kind, v string, mod func(*intel.Indicator)) {
		i := base
		i.Kind, i.Value = k, v
		if mod != nil {
			mod(&i)
		}
		out = append(out, i)
	}
	add(intel.KindIP, "198.51.100.1", nil)
	add(intel.KindIP, "2001:db8::1", func(i *intel.Indicator) { i.ThreatType, i.Threat, i.TLP = intel.ThreatScanner, "", "" })
	add(intel.KindCIDR, "198.51.100.0/24", func(i *intel.Indicator) { i.Revoked = true; i.TLP = "clear" })
	add(intel.KindCIDR, "2001:db8::/32", func(i *intel.Indicator) { i.ThreatType = intel.ThreatTorExit; i.Tags = nil })
	add(intel.KindDomain, "evil.example.com", func(i *intel.Indicator) { i.ThreatType = intel.ThreatBotnet; i.TLP = "red" })
	add(intel.KindURL, "http://evil.example.com/a?b='c'\\d", func(i *intel.Indicator) { i.ThreatType = intel.ThreatPhishing })
	add(intel.KindMD5, "001dd76872d80801692ff942308c64e6", func(i *intel.Indicator) { i.Confidence = 0; i.ValidUntil = time.Time{} })
	add(intel.KindSHA1, "68064fc152e23d56e541714af52651cb4ba81aaf", func(i *intel.Indicator) { i.LastSeen = time.Time{}; i.TLP = "green" })
	add(intel.KindSHA256, "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c", func(i *intel.Indicator) { i.Description = "" })
	add(intel.KindEmail, "boss@example.org", func(i *intel.Indicator) { i.ThreatType = intel.ThreatSpam })
	add(intel.KindUserAgent, "Mozilla/5.0 (evil's \\ bot)", func(i *intel.Indicator) {
		i.ThreatType = intel.ThreatUnknown
		i.Ref = "indicator--aaaaaaaa-0000-4000-8000-00000000ffff"
	})
	return out
}

func TestExportRoundTrip(t *testing.T) {
	in := roundTripIndicators()
	var buf bytes.Buffer
	if err := (Exporter{Now: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}).Export(&buf, in); err != nil {
		t.Fatal(err)
	}
	var probs []intel.Problem
	out, err := Parser{}.Parse(bytes.NewReader(buf.Bytes()), "f", func(p intel.Problem) { probs = append(probs, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) > 0 {
		t.Errorf("problems reading an export: %v", probs)
	}
	if len(out) != len(in) {
		t.Fatalf("%d indicators back, want %d\n%s", len(out), len(in), buf.String())
	}
	for i := range in {
		want := in[i]
		if want.Ref == "" {
			want.Ref = IndicatorID(&in[i])
		}
		if !reflect.DeepEqual(out[i], want) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", want.Kind, out[i], want)
		}
	}
	// Deterministic: the same indicators give the same bundle.
	var again bytes.Buffer
	if err := (Exporter{Now: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}).Export(&again, in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two exports of the same indicators differ")
	}
	if strings.Count(buf.String(), `"type": "malware"`) != 1 || !strings.Contains(buf.String(), tlp2ID["amber+strict"]) {
		t.Error("threat names and TLP markings are not written once each")
	}
}

func TestExportRefusesDuplicates(t *testing.T) {
	in := roundTripIndicators()[:1]
	in = append(in, in[0])
	if err := Export(&bytes.Buffer{}, in); err == nil {
		t.Error("two indicators with one id exported")
	}
}

// sharedData is ../shared/data/threat_intel/stix21 from the repository root.
func sharedData(t *testing.T, name string) []byte {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", "threat_intel", "stix21", name)
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		t.Skipf("shared data %s absent: %v", p, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSharedBundles(t *testing.T) {
	cases := []struct {
		file     string
		count    int
		problems int
		check    map[string]string // value → "kind threat_type threat tlp"
	}{
		{"indicator-for-c2-ip-address.json", 1, 0, map[string]string{"10.0.0.0": "ip malware  "}},
		{"indicator-to-campaign-relationship.json", 1, 0, map[string]string{"10.0.0.0": "ip malware Operation Omega "}},
		{"indicators-for-C2-with-COA.json", 2, 0, map[string]string{
			"10.0.0.0": "ip c2 Poison Ivy ",
			"ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c": "sha256 malware Poison Ivy ",
		}},
		{"infrastructure.json", 2, 0, map[string]string{
			"198.51.100.3": "ip c2 Poison Ivy ",
			"example.com":  "domain hosting-target-lists IMDDOS ",
		}},
		{"interop-objectmarking-test.json", 0, 0, nil},
		{"apt1.json", 10, 2, map[string]string{
			"223.166.0.0/15":                   "cidr c2 HUC Packet Transmit Tool (HTRAN) ",
			"139.226.0.0/15":                   "cidr c2 HUC Packet Transmit Tool (HTRAN) ",
			"hugesoft.org":                     "domain malware Ugly Gorilla ",
			"001dd76872d80801692ff942308c64e6": "md5 malware  ",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data := sharedData(t, c.file)
			var probs []intel.Problem
			inds, err := Parser{}.Parse(bytes.NewReader(data), "oasis", func(p intel.Problem) { probs = append(probs, p) })
			if err != nil {
				t.Fatal(err)
			}
			if len(inds) != c.count || len(probs) != c.problems {
				t.Errorf("%d indicators and %d problems, want %d and %d: %v", len(inds), len(probs), c.count, c.problems, probs)
			}
			got := byValue(inds)
			for v, want := range c.check {
				i, ok := got[v]
				if !ok {
					t.Errorf("%s missing", v)
					continue
				}
				if s := strings.Join([]string{string(i.Kind), i.ThreatType, i.Threat, i.TLP}, " "); s != want {
					t.Errorf("%s: %q, want %q", v, s, want)
				}
			}
			for _, i := range inds {
				t.Logf("%s %s %s %q conf=%d %s", i.Kind, i.Value, i.ThreatType, i.Threat, i.Confidence, i.Ref)
			}
			for _, p := range probs {
				t.Logf("problem: %v", p)
			}
		})
	}
}

func TestMarkingDefinitionsInBundle(t *testing.T) {
	doc := `{"type":"bundle","id":"bundle--1","objects":[
 {"type":"marking-definition","spec_version":"2.1","id":"marking-definition--00000000-0000-4000-8000-0000000000a1","created":"2022-10-01T00:00:00Z",
  "name":"custom","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}},
 {"type":"marking-definition","spec_version":"2.1","id":"marking-definition--00000000-0000-4000-8000-0000000000a2","created":"2022-10-01T00:00:00Z",
  "name":"TLP:GREEN","definition_type":"statement","definition":{"statement":"x"}},
 {"type":"marking-definition","spec_version":"2.1","id":"marking-definition--00000000-0000-4000-8000-0000000000a3","created":"2022-10-01T00:00:00Z",
  "name":"copyright","definition_type":"statement","definition":{"statement":"(c) someone"}},
 {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000b1","pattern_type":"stix","pattern":"[domain-name:value='a.example']",
  "object_marking_refs":["marking-definition--00000000-0000-4000-8000-0000000000a1"]},
 {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000b2","pattern_type":"stix","pattern":"[domain-name:value='b.example']",
  "object_marking_refs":["marking-definition--00000000-0000-4000-8000-0000000000a2","marking-definition--00000000-0000-4000-8000-0000000000a3"]},
 {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000b3","pattern_type":"stix","pattern":"[domain-name:value='c.example']",
  "object_marking_refs":["marking-definition--00000000-0000-4000-8000-0000000000a3"]}
]}`
	inds, probs := parse(t, doc)
	got := byValue(inds)
	if len(probs) != 0 || got["a.example"].TLP != "amber+strict" || got["b.example"].TLP != "green" || got["c.example"].TLP != "" {
		t.Errorf("TLP from marking definitions: %+v %v", got, probs)
	}
}

func TestSightingsGiveLastSeen(t *testing.T) {
	doc := `{"type":"bundle","id":"bundle--1","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000c1","pattern_type":"stix","pattern":"[domain-name:value='a.example']"},
 {"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-0000000000c2","sighting_of_ref":"indicator--00000000-0000-4000-8000-0000000000c1",
  "first_seen":"2026-01-01T00:00:00Z","last_seen":"2026-02-01T00:00:00Z"},
 {"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-0000000000c3","sighting_of_ref":"indicator--00000000-0000-4000-8000-0000000000c1",
  "last_seen":"2026-03-01T12:00:00Z"},
 {"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-0000000000c4","sighting_of_ref":"indicator--00000000-0000-4000-8000-0000000000c1",
  "last_seen":"2026-04-01T00:00:00Z","revoked":true}
]}`
	inds, probs := parse(t, doc)
	if len(inds) != 1 || len(probs) != 0 || !inds[0].LastSeen.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("last seen from sightings: %+v %v", inds, probs)
	}
}
