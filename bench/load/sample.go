package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is one row of the CSV: the interval since the previous sample.
type sample struct {
	T            time.Duration // since the start of the run
	Target       float64       // events/s asked for
	Offered      float64       // events/s due in the interval
	Acked        float64       // events/s acknowledged
	Detected     float64       // events/s through detection (vigil_detect_events_total, all processes)
	IngestP50    time.Duration
	IngestP99    time.Duration
	IngestMax    time.Duration
	DetectP50    time.Duration // trigger acknowledged -> alert visible
	DetectP99    time.Duration
	Triggers     int       // triggers whose alert was seen in the interval
	Pending      int       // acknowledged triggers without an alert yet
	Lag          float64   // vigil_bus_lag_batches, summed over processes
	RSS          []float64 // bytes, one a metrics URL
	CPU          []float64 // process CPU seconds in the interval, one a metrics URL
	CPUPerEvent  float64   // all processes' CPU seconds / events acknowledged, in µs
	Errors       int       // failed requests in the interval
	Pushback     int       // 429/503 answers in the interval
	Load1        float64   // the machine's one-minute load average
	ScrapeErrors int
}

// sampler reads the counters every interval and writes rows to the CSV.
type sampler struct {
	d       *driver
	client  *http.Client
	start   time.Time
	w       *csv.Writer
	f       io.Closer
	trigSeq int

	mu                                        sync.Mutex
	last                                      time.Time
	lastOffered, lastAcked, lastPush, lastErr int64
	lastDetected                              float64
	lastCPU                                   []float64
	rows                                      []sample
}

func newSampler(d *driver, csvPath string) (*sampler, error) {
	s := &sampler{d: d, client: &http.Client{Timeout: 5 * time.Second}, start: time.Now(), last: time.Now()}
	if csvPath != "" {
		f, err := os.Create(csvPath)
		if err != nil {
			return nil, fmt.Errorf("-csv: %w", err)
		}
		s.f = f
		s.w = csv.NewWriter(f)
		if err := s.w.Write(csvHeader(len(d.t.metrics))); err != nil {
			return nil, fmt.Errorf("-csv %s: %w", csvPath, err)
		}
		s.w.Flush()
	}
	// Baselines, so the first interval counts only its own work.
	s.lastCPU = make([]float64, len(d.t.metrics))
	for i, u := range d.t.metrics {
		if m, err := scrape(context.Background(), s.client, u, mCPU, mDetected); err == nil {
			s.lastCPU[i] = m[mCPU]
			s.lastDetected += m[mDetected]
		}
	}
	return s, nil
}

func (s *sampler) nextTrigger() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trigSeq++
	return s.trigSeq
}

func csvHeader(procs int) []string {
	h := []string{"t_s", "target_eps", "offered_eps", "acked_eps", "detected_eps",
		"ingest_p50_ms", "ingest_p99_ms", "ingest_max_ms", "detect_p50_ms", "detect_p99_ms",
		"triggers_seen", "triggers_pending", "lag_batches"}
	for i := range procs {
		h = append(h, fmt.Sprintf("rss_mib_%d", i))
	}
	for i := range procs {
		h = append(h, fmt.Sprintf("cpu_s_%d", i))
	}
	return append(h, "cpu_us_per_event", "errors", "pushback", "load1", "scrape_errors")
}

func (r sample) csv() []string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	row := []string{f(r.T.Seconds(), 1), f(r.Target, 0), f(r.Offered, 0), f(r.Acked, 0), f(r.Detected, 0),
		ms(r.IngestP50), ms(r.IngestP99), ms(r.IngestMax), ms(r.DetectP50), ms(r.DetectP99),
		strconv.Itoa(r.Triggers), strconv.Itoa(r.Pending), f(r.Lag, 0)}
	for _, v := range r.RSS {
		row = append(row, f(v/(1<<20), 1))
	}
	for _, v := range r.CPU {
		row = append(row, f(v, 2))
	}
	return append(row, f(r.CPUPerEvent, 1), strconv.Itoa(r.Errors), strconv.Itoa(r.Pushback), f(r.Load1, 2), strconv.Itoa(r.ScrapeErrors))
}

// take closes the interval: counters, latencies, metrics of every process.
func (s *sampler) take(ctx context.Context, target float64) sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	secs := now.Sub(s.last).Seconds()
	s.last = now
	r := sample{T: now.Sub(s.start), Target: target}
	off, ack, push := s.d.offered.Load(), s.d.acked.Load(), s.d.pushback.Load()
	errN := int64(s.d.errors())
	r.Offered = float64(off-s.lastOffered) / secs
	r.Acked = float64(ack-s.lastAcked) / secs
	r.Pushback = int(push - s.lastPush)
	r.Errors = int(errN - s.lastErr)
	ackedN := ack - s.lastAcked
	s.lastOffered, s.lastAcked, s.lastPush, s.lastErr = off, ack, push, errN
	il := s.d.takeInterval()
	p := il.percentiles(.5, .99, 1)
	r.IngestP50, r.IngestP99, r.IngestMax = p[0], p[1], p[2]
	tl := s.d.trig.take()
	p = tl.percentiles(.5, .99)
	r.DetectP50, r.DetectP99, r.Triggers = p[0], p[1], tl.n()
	r.Pending, _ = s.d.trig.pending()
	detected := 0.0
	cpuAll := 0.0
	for i, u := range s.d.t.metrics {
		m, err := scrape(ctx, s.client, u, mRSS, mCPU, mLag, mDetected)
		if err != nil {
			r.ScrapeErrors++
			r.RSS = append(r.RSS, 0)
			r.CPU = append(r.CPU, 0)
			continue
		}
		r.RSS = append(r.RSS, m[mRSS])
		c := m[mCPU] - s.lastCPU[i]
		s.lastCPU[i] = m[mCPU]
		r.CPU = append(r.CPU, c)
		cpuAll += c
		r.Lag += m[mLag]
		detected += m[mDetected]
	}
	if r.ScrapeErrors == 0 {
		r.Detected = (detected - s.lastDetected) / secs
		s.lastDetected = detected
	}
	if ackedN > 0 {
		r.CPUPerEvent = cpuAll * 1e6 / float64(ackedN)
	}
	r.Load1 = load1()
	s.rows = append(s.rows, r)
	if s.w != nil {
		s.w.Write(r.csv())
		s.w.Flush()
	}
	return r
}

func (s *sampler) close() error {
	if s.f == nil {
		return nil
	}
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return err
	}
	return s.f.Close()
}

// load1 is the machine's one-minute load average (0 where /proc is not).
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
