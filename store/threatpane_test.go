package store

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestPanePartsCoverTheRange: the parts of a range cover every nanosecond
// of it once, in order, each table's slots whole, and days only where a
// whole UTC day lies inside.
func TestPanePartsCoverTheRange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := 0; i < 5000; i++ {
		from := base + r.Int64N(int64(40*24*time.Hour))
		to := from + r.Int64N(int64(20*24*time.Hour))
		if i%5 == 0 { // aligned ends, as the pane asks
			from -= from % int64(time.Hour)
			to -= to % int64(time.Hour)
		}
		parts, ok := PaneParts(from, to)
		if !ok {
			if (from+int64(time.Hour)-1)/int64(time.Hour) < to/int64(time.Hour) {
				t.Fatalf("[%d, %d) holds a whole hour but was refused", from, to)
			}
			continue
		}
		at := from
		for _, p := range parts {
			lo, hi := p.From, p.To
			if p.Table != nil {
				lo, hi = p.From*p.Table.Unit, p.To*p.Table.Unit
			}
			if lo != at || hi <= lo {
				t.Fatalf("[%d, %d): part %+v starts at %d, want %d", from, to, p, lo, at)
			}
			at = hi
		}
		if at != to {
			t.Fatalf("[%d, %d): parts end at %d", from, to, at)
		}
		for _, p := range parts {
			if p.Table == nil && p.To-p.From >= int64(time.Hour) {
				t.Fatalf("[%d, %d): the alerts answer a whole hour: %+v", from, to, p)
			}
		}
		series, ok := PaneSeriesParts(from, to, int64(time.Hour))
		if from%int64(time.Hour) != 0 {
			if ok {
				t.Fatalf("a series from %d (not a whole hour) was split", from)
			}
			continue
		}
		for _, p := range series {
			if p.Table == &PaneDays {
				t.Fatalf("hourly buckets read a day: %+v", p)
			}
		}
	}
}
