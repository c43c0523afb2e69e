package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// step is one rate held for -step and whether it was sustained.
type step struct {
	rate                      float64
	acked, detected, lag      float64
	ingestP99, detectP99      time.Duration
	errors, pushback, pending int
	load                      float64
	ok                        bool
	why                       string
}

// judge says whether a step's rate was sustained: everything acknowledged
// (open loop: a server that falls behind shows as a shortfall or latency),
// detection keeping up (lag bounded at the end, triggers' alerts in time).
func judge(rate float64, rows []sample, c config) step {
	s := step{rate: rate}
	if len(rows) == 0 {
		s.why = "no sample"
		return s
	}
	// The first sample holds the step's start-up; judge the rest.
	use := rows
	if len(rows) > 2 {
		use = rows[1:]
	}
	var il, dl latencies
	for _, r := range use {
		s.acked += r.Acked
		s.detected += r.Detected
		s.errors += r.Errors
		s.pushback += r.Pushback
		s.load += r.Load1
		il.add(r.IngestP99)
		if r.Triggers > 0 {
			dl.add(r.DetectP99)
		}
	}
	n := float64(len(use))
	s.acked /= n
	s.detected /= n
	s.load /= n
	last := rows[len(rows)-1]
	s.lag, s.pending = last.Lag, last.Pending
	s.ingestP99 = il.percentiles(1)[0] // the worst interval's p99
	s.detectP99 = dl.percentiles(1)[0]
	var why []string
	if s.errors > 0 {
		why = append(why, fmt.Sprintf("%d errors", s.errors))
	}
	if s.acked < 0.97*rate {
		why = append(why, fmt.Sprintf("acknowledged %.0f/s of %.0f", s.acked, rate))
	}
	if s.lag > c.maxLag {
		why = append(why, fmt.Sprintf("lag %.0f > %.0f", s.lag, c.maxLag))
	}
	if s.ingestP99 > c.maxIngest {
		why = append(why, fmt.Sprintf("ingest p99 %v > %v", rd(s.ingestP99), c.maxIngest))
	}
	if s.detectP99 > c.maxDetect || dl.n() == 0 {
		why = append(why, fmt.Sprintf("detect p99 %v > %v (%d intervals with alerts)", rd(s.detectP99), c.maxDetect, dl.n()))
	}
	s.ok = len(why) == 0
	s.why = strings.Join(why, "; ")
	return s
}

// findMax raises the rate by -factor while it is sustained, then bisects
// between the last sustained and the first failed rate -refine times. The
// backlog of a failed step drains before the next.
func findMax(ctx context.Context, c config, d *driver, s *sampler, log *slog.Logger) string {
	var steps []step
	try := func(rate float64) bool {
		rows := d.phase(ctx, rate, c.step, c.every, c.trigEvery, s)
		st := judge(rate, rows, c)
		steps = append(steps, st)
		log.Info("find-max step", "rate", int(rate), "sustained", st.ok, "acked", int(st.acked), "detected", int(st.detected),
			"lag", st.lag, "ingest_p99", rd(st.ingestP99), "detect_p99", rd(st.detectP99), "load1", fmt.Sprintf("%.2f", st.load), "why", st.why)
		d.drainWait(ctx, s, c)
		return st.ok
	}
	best, fail := 0.0, 0.0
	for r := c.startRate; ctx.Err() == nil; r *= c.factor {
		if !try(r) {
			fail = r
			break
		}
		best = r
	}
	for i := 0; i < c.refine && fail > 0 && best > 0 && ctx.Err() == nil; i++ {
		mid := (best + fail) / 2
		if try(mid) {
			best = mid
		} else {
			fail = mid
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-9s %9s %9s %7s %11s %11s %6s %6s  %s\n", "rate", "sustained", "acked/s", "detect/s", "lag", "ingest p99", "detect p99", "push", "load1", "why not")
	for _, st := range steps {
		fmt.Fprintf(&b, "%-10.0f %-9v %9.0f %9.0f %7.0f %11v %11v %6d %6.2f  %s\n", st.rate, st.ok, st.acked, st.detected, st.lag, rd(st.ingestP99), rd(st.detectP99), st.pushback, st.load, st.why)
	}
	if best == 0 {
		fmt.Fprintf(&b, "maximum sustained rate: below -start-rate %.0f events/s\n", c.startRate)
	} else {
		fmt.Fprintf(&b, "maximum sustained rate: %.0f events/s (first not sustained: %.0f)\n", best, fail)
	}
	return b.String()
}
