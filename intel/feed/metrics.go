package feed

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/store"
)

// Metrics are the feeds' Prometheus series, by workspace and feed. A nil
// *Metrics records nothing.
type Metrics struct {
	indicators  *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	errors      *prometheus.CounterVec
}

// NewMetrics registers the feeds' series on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		indicators: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_intel_feed_indicators", Help: "Indicators a threat-intelligence feed holds, as last read.",
		}, []string{"workspace", "feed"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_intel_feed_last_success_timestamp_seconds", Help: "When a feed was last fetched successfully (an unchanged document counts), Unix seconds.",
		}, []string{"workspace", "feed"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_intel_feed_errors_total", Help: "Failed fetches of a feed since start.",
		}, []string{"workspace", "feed"}),
	}
	for _, c := range []prometheus.Collector{m.indicators, m.lastSuccess, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// status sets a feed's series from its stored status (at start).
func (m *Metrics) status(f store.Feed) {
	if m == nil {
		return
	}
	m.indicators.WithLabelValues(f.Workspace, f.Name).Set(float64(f.Indicators))
	if f.LastSuccess != nil {
		m.lastSuccess.WithLabelValues(f.Workspace, f.Name).Set(float64(f.LastSuccess.UnixNano()) / 1e9)
	}
	m.errors.WithLabelValues(f.Workspace, f.Name).Add(0)
}

// success records a fetch that worked; indicators < 0 leaves the count.
func (m *Metrics) success(ws, feed string, at time.Time, indicators int) {
	if m == nil {
		return
	}
	if indicators >= 0 {
		m.indicators.WithLabelValues(ws, feed).Set(float64(indicators))
	}
	m.lastSuccess.WithLabelValues(ws, feed).Set(float64(at.UnixNano()) / 1e9)
}

func (m *Metrics) failure(ws, feed string) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(ws, feed).Inc()
}

// count sets a feed's indicator count (manual additions).
func (m *Metrics) count(ws, feed string, n int) {
	if m == nil {
		return
	}
	m.indicators.WithLabelValues(ws, feed).Set(float64(n))
}
