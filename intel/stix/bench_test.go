package stix

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/intel"
)

// benchIndicators is n indicators of every kind in turn, each with a threat.
func benchIndicators(n int) []intel.Indicator {
	kinds := roundTripIndicators()
	out := make([]intel.Indicator, 0, n)
	for i := 0; i < n; i++ {
		ind := kinds[i%len(kinds)]
		ind.Ref = ""
		switch ind.Kind {
		case intel.KindIP:
			ind.Value = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		case intel.KindCIDR:
			ind.Value = fmt.Sprintf("10.%d.%d.0/24", i>>8&255, i&255)
		case intel.KindDomain:
			ind.Value = fmt.Sprintf("h%d.example.com", i)
		case intel.KindURL:
			ind.Value = fmt.Sprintf("http://h%d.example.com/x", i)
		case intel.KindEmail:
			ind.Value = fmt.Sprintf("u%d@example.org", i)
		case intel.KindUserAgent:
			ind.Value = fmt.Sprintf("bot/%d", i)
		default:
			ind.Value = fmt.Sprintf("%0*x", len(ind.Value), i)
		}
		ind.Threat = fmt.Sprintf("family-%d", i%50)
		out = append(out, ind)
	}
	return out
}

// BenchmarkParseBundle reads a 10,000-indicator bundle with 50 malware
// objects and 10,000 relationships; reported per indicator.
func BenchmarkParseBundle(b *testing.B) {
	var buf bytes.Buffer
	if err := Export(&buf, benchIndicators(10000)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()) / 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		r := bytes.NewReader(buf.Bytes())
		b.StartTimer()
		inds, err := Parser{}.Parse(r, "bench", nil)
		if err != nil || len(inds) != 10000 {
			b.Fatal(len(inds), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/indicator")
}

func BenchmarkParsePattern(b *testing.B) {
	const s = `[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c' OR ipv4-addr:value = '198.51.100.1']`
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParsePattern(s)
		if err != nil {
			b.Fatal(err)
		}
		if f, _, _ := p.observables(); len(f) != 2 {
			b.Fatal(f)
		}
	}
}
