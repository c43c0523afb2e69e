package analysis

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/detect"
)

// correlationMetrics count the correlator's work.
type correlationMetrics struct {
	groups                                           prometheus.Gauge
	late, evicted, expired, missing, truncated, hits prometheus.Counter
}

func newCorrelationMetrics() *correlationMetrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_correlation_" + name + "_total", Help: help})
	}
	return &correlationMetrics{
		groups:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_correlation_groups", Help: "Correlation groups tracked in memory."}),
		late:      c("late", "Matches dropped for arriving later than the allowed lateness."),
		evicted:   c("evicted", "Correlation groups evicted by the cap on tracked groups."),
		expired:   c("expired", "Correlation groups whose window ran out."),
		missing:   c("missing_group", "Matches without a value for a group-by field."),
		truncated: c("truncated", "Matches dropped from a full correlation group."),
		hits:      c("hits", "Correlation hits, chained ones included."),
	}
}

func (m *correlationMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.groups, m.late, m.evicted, m.expired, m.missing, m.truncated, m.hits}
}

func (m *correlationMetrics) update(st detect.CorrelatorStats, last *detect.CorrelatorStats) {
	m.groups.Set(float64(st.Groups))
	m.late.Add(float64(st.Late - last.Late))
	m.evicted.Add(float64(st.Evicted - last.Evicted))
	m.expired.Add(float64(st.Expired - last.Expired))
	m.missing.Add(float64(st.MissingGroup - last.MissingGroup))
	m.truncated.Add(float64(st.Truncated - last.Truncated))
	m.hits.Add(float64(st.Hits - last.Hits))
	*last = st
}
