package stix

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/internal/observable"
)

func FuzzPattern(f *testing.F) {
	for _, s := range []string{
		`[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value ISSUBSET '10.0.0.0/8']`,
		`([file:hashes.'SHA-256' = 'ab' AND file:name = 'x\'y'] OR [url:value IN ('a','b')]) WITHIN 5 SECONDS`,
		`[a:b[*].c = t'2016-06-01T00:00:00Z'] FOLLOWEDBY [x:y NOT LIKE 'z'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.5Z'`,
		`[a:b = h'0a' AND a:c = b'AAAA' AND a:d < -1.5 AND EXISTS a:e]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			return
		}
		found, _, err := p.observables()
		if err != nil {
			return
		}
		for _, o := range found {
			// Every value taken is normalized: normalizing it again changes nothing.
			k, v, err := observable.Normalize(o.kind, o.value)
			if err != nil || k != o.kind || v != o.value {
				t.Fatalf("%q gave %s %q, which normalizes to %s %q (%v)", s, o.kind, o.value, k, v, err)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(variants)
	f.Add(`{"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='a.example']"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		inds, err := Parser{}.Parse(strings.NewReader(doc), "fuzz", func(intel.Problem) {})
		if err != nil {
			return
		}
		for _, i := range inds {
			if i.Value == "" || i.Confidence < 0 || i.Confidence > 100 {
				t.Fatalf("bad indicator %+v", i)
			}
		}
		// What was read can be written and read back unchanged in value.
		var buf bytes.Buffer
		in := dedupeIDs(inds)
		if err := (Exporter{}).Export(&buf, in); err != nil {
			t.Fatalf("export of parsed indicators: %v", err)
		}
		back, err := Parser{}.Parse(&buf, "fuzz", func(p intel.Problem) { t.Errorf("reading an export: %v", p) })
		if err != nil || len(back) != len(in) {
			t.Fatalf("read back %d of %d: %v", len(back), len(in), err)
		}
		for i := range in {
			a, b := in[i], back[i]
			if a.Kind != b.Kind || a.Value != b.Value || a.ThreatType != b.ThreatType || a.Threat != b.Threat ||
				a.Confidence != b.Confidence || a.TLP != b.TLP || a.Revoked != b.Revoked || !a.ValidUntil.Equal(b.ValidUntil) {
				t.Fatalf("round trip changed %+v into %+v", a, b)
			}
		}
	})
}

func dedupeIDs(in []intel.Indicator) []intel.Indicator {
	seen := map[string]bool{}
	var out []intel.Indicator
	for i := range in {
		c := in[i]
		c.Ref = ""
		if id := IndicatorID(&c); !seen[id] {
			seen[id] = true
			out = append(out, c)
		}
	}
	return out
}
