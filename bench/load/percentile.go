package main

import (
	"math"
	"slices"
	"time"
)

// latencies collects durations and answers percentiles by nearest rank:
// p99 of 100 samples is the 99th smallest, never an interpolation that was
// not observed.
type latencies struct{ d []time.Duration }

func (l *latencies) add(d time.Duration) { l.d = append(l.d, d) }
func (l *latencies) n() int              { return len(l.d) }

// percentiles returns the nearest-rank percentile for each p in (0, 1];
// zeros when there is no sample.
func (l *latencies) percentiles(ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(l.d) == 0 {
		return out
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	for i, p := range ps {
		out[i] = nearestRank(s, p)
	}
	return out
}

// nearestRank is the smallest sample at or above a fraction p of sorted.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)) - 1e-9)) // 0.99*100 is 99.00000000000001 in floats
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}
