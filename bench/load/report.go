package main

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"time"
)

// summary is the run's report: whole-run percentiles from every sample,
// not averages of the intervals' percentiles.
func summary(c config, d *driver, start sample, rows []sample, elapsed time.Duration) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	off, ack := d.offered.Load(), d.acked.Load()
	w("rate              target %.0f events/s; offered %.0f; acknowledged %.0f (%d of %d events in %v)\n",
		c.rate, float64(off)/elapsed.Seconds(), float64(ack)/elapsed.Seconds(), ack, off, elapsed.Round(time.Second))
	d.mu.Lock()
	p := d.lat.percentiles(.5, .9, .99, 1)
	n := d.lat.n()
	errs := fmtErrs(d.errs)
	d.mu.Unlock()
	w("ingest latency    p50 %v  p90 %v  p99 %v  max %v (%d requests of %d events, from the time each was due)\n",
		rd(p[0]), rd(p[1]), rd(p[2]), rd(p[3]), n, c.batch)
	d.trig.mu.Lock()
	tp := d.trig.lat.percentiles(.5, .9, .99, 1)
	seen, sent, pending := d.trig.lat.n(), d.trig.sent, len(d.trig.ack)
	d.trig.mu.Unlock()
	w("detect latency    p50 %v  p90 %v  p99 %v  max %v (trigger acknowledged -> alert seen via %s; %d of %d seen, %d never)\n",
		rd(tp[0]), rd(tp[1]), rd(tp[2]), rd(tp[3]), c.alerts, seen, sent, pending)
	if len(rows) == 0 {
		return b.String()
	}
	last := rows[len(rows)-1]
	maxLag := 0.0
	for _, r := range rows {
		maxLag = max(maxLag, r.Lag)
	}
	w("bus lag           start %.0f  end %.0f  max %.0f batches\n", start.Lag, last.Lag, maxLag)
	for i := range last.RSS {
		peak := 0.0
		for _, r := range rows {
			peak = max(peak, r.RSS[i])
		}
		w("RSS process %d     start %s  end %s  max %s (%s)\n", i, mib(start.RSS[i]), mib(last.RSS[i]), mib(peak), d.t.metrics[i])
	}
	cpu := 0.0
	for _, r := range rows {
		for _, v := range r.CPU {
			cpu += v
		}
	}
	if ack > 0 {
		w("CPU               %.1f s all processes, %.1f µs an acknowledged event\n", cpu, cpu*1e6/float64(ack))
	}
	w("errors            %d failed requests%s; %d pushed back (429/503) and retried\n", d.errors(), errs, d.pushback.Load())
	l := 0.0
	for _, r := range rows {
		l += r.Load1
	}
	w("machine load      1-min average %.2f at start, %.2f mean, %.2f at end\n", start.Load1, l/float64(len(rows)), last.Load1)
	// The generator shares the machine: its own cost during the load,
	// without reading the corpora.
	if gen := selfCPU() - d.cpuStart; gen > 0 {
		w("generator CPU     %v during the load (%.1f µs an event offered)\n", gen.Round(time.Millisecond), float64(gen.Microseconds())/float64(max(off, 1)))
	}
	return b.String()
}

func fmtErrs(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func rd(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
