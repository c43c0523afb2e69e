package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/bus"
)

// Detection lag, as serve shows it: in metrics, in /readyz's detail and in
// each source's health. ingest refuses records while it is over
// ingest-max-lag (ingest/lag.go).

// backlogCollector exports the bus backlog: one question to the bus a
// scrape.
type backlogCollector struct {
	b          *bus.Bus
	bytes, lag *prometheus.Desc
}

func newBacklogCollector(b *bus.Bus) *backlogCollector {
	return &backlogCollector{
		b:     b,
		bytes: prometheus.NewDesc("vigil_bus_backlog_bytes", "Bytes of the bus batches not yet detected and committed.", nil, nil),
		lag:   prometheus.NewDesc("vigil_detect_lag_seconds", "How long the oldest bus batch not yet detected and committed has waited: how far detection is behind ingest (0 when caught up).", nil, nil),
	}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.bytes; ch <- c.lag }

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	bl, err := c.b.Backlog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.bytes, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(bl.Bytes))
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, bl.Lag(time.Now()).Seconds())
}

// detectionDetail is /readyz's detection check: what waits and for how
// long. It does not fail readiness (the bus check does when the bus does
// not answer): a lagging server still serves the API, and its ingest says
// itself when it refuses.
func detectionDetail(b *bus.Bus, maxLag time.Duration) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		bl, err := b.Backlog(ctx)
		if err != nil {
			return "unknown: " + err.Error(), nil
		}
		if bl.Batches == 0 {
			return "caught up: no batch waiting", nil
		}
		lag := bl.Lag(time.Now())
		s := fmt.Sprintf("lag %v: %d batches (%d bytes) waiting", lag.Round(time.Millisecond), bl.Batches, bl.Bytes)
		if maxLag > 0 && lag > maxLag {
			s += fmt.Sprintf("; over ingest-max-lag (%v): ingest answers 503", maxLag)
		}
		return s, nil
	}
}

// detectionLag is how long a source's records now wait for detection: its
// last batch's wait, or the oldest batch still waiting if longer.
func (s *server) detectionLag(ctx context.Context) func(ws, source string) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var waiting time.Duration
	if s.bus == nil || s.stage == nil { // not serving (yet): nothing waits
		return func(string, string) time.Duration { return 0 }
	}
	if bl, err := s.bus.Backlog(ctx); err == nil {
		waiting = bl.Lag(time.Now())
	}
	return func(ws, source string) time.Duration {
		last, _ := s.stage.LastLag(ws, source)
		return max(last, waiting)
	}
}
