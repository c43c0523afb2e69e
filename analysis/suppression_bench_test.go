package analysis

import (
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// BenchmarkProcessSuppressions processes a batch whose every event raises
// a signal, with no suppressions and with 1000 (none of which matches:
// the worst case, every one is tried).
func BenchmarkProcessSuppressions(b *testing.B) {
	var lines []string
	for i := 0; i < 1000; i++ {
		lines = append(lines, fmt.Sprintf(`{"EventID":1102,"Channel":"Security","Computer":"host-%03d","TimeCreated":"2026-01-01T00:00:00Z","SubjectUserName":"user-%03d"}`, i, i))
	}
	var list []suppress.Suppression
	for i := 0; i < 1000; i++ {
		switch i % 3 {
		case 0:
			list = append(list, suppress.Suppression{ID: fmt.Sprint(i), CIDR: fmt.Sprintf("10.%d.0.0/16", i%250), Reason: "x"})
		case 1:
			list = append(list, suppress.Suppression{ID: fmt.Sprint(i), Entity: &alert.Entity{Type: "host", Value: fmt.Sprintf("other-%d", i)}, Reason: "x"})
		default:
			list = append(list, suppress.Suppression{ID: fmt.Sprint(i), Field: "user.name", Value: fmt.Sprintf("other-%d", i), Reason: "x"})
		}
	}
	set, _ := suppress.NewSet(list)
	for _, c := range []struct {
		name string
		set  *suppress.Set
	}{{"none", nil}, {"1000", set}} {
		b.Run(c.name, func(b *testing.B) {
			p := NewProcessor(testRulesSet(b))
			if c.set != nil {
				p.Suppressions = func(string) *suppress.Set { return c.set }
			}
			batch := batchOf("windows", lines...)
			b.ResetTimer()
			for range b.N {
				res := p.Process(batch, tenant.Source{})
				if len(res.Batch.Signals) != 1000 {
					b.Fatalf("%d signals", len(res.Batch.Signals))
				}
				recycle(&res)
			}
		})
	}
}
