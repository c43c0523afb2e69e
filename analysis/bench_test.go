package analysis

import (
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/tenant"
)

// BenchmarkProcessCorrelated is a worker's cost per Windows event when a
// correlation groups the matches of a rule by a field that rule does not
// read: half the events match (and carry TargetUserName to the
// correlator), half do not.
func BenchmarkProcessCorrelated(b *testing.B) {
	rs := correlatedRules(b, bruteForceRules, detect.CorrelatorConfig{})
	var lines []string
	for i := 0; i < 1000; i++ {
		id := 4625
		if i%2 == 1 {
			id = 4624
		}
		lines = append(lines, fmt.Sprintf(`{"EventID":%d,"Channel":"Security","Computer":"dc1","TargetUserName":"user%d","IpAddress":"10.0.0.%d","TimeCreated":"2026-01-02T03:04:05Z"}`, id, i%17, i%250))
	}
	batch := batchOf("windows", lines...)
	p := NewProcessor(rs)
	p.Process(batch, tenant.Source{}) // warm: routes and decoder
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Process(batch, tenant.Source{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/event")
}
