package ingest

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// reason is the bounded label of vigil_ingest_rejected_total.
type reason uint8

const (
	reasonMalformedJSON reason = iota
	reasonInvalidUTF8
	reasonLineTooLong
	reasonFieldTooLong
	reasonUnknownSource
	reasonUnknownFormat
	reasonUnsupportedMediaType
	reasonBodyTooLarge
	reasonBadGzip
	reasonEmptyBody
	reasonBusFull
	reasonBusUnavailable
	reasonTooManyInflight
	reasonBodyTimeout
	reasonDetectionLag
	reasonSourceLimit
	numReasons
)

var reasonNames = [numReasons]string{
	reasonMalformedJSON:        "malformed_json",
	reasonInvalidUTF8:          "invalid_utf8",
	reasonLineTooLong:          "line_too_long",
	reasonFieldTooLong:         "field_too_long",
	reasonUnknownSource:        "unknown_source",
	reasonUnknownFormat:        "unknown_format",
	reasonUnsupportedMediaType: "unsupported_media_type",
	reasonBodyTooLarge:         "body_too_large",
	reasonBadGzip:              "bad_gzip",
	reasonEmptyBody:            "empty_body",
	reasonBusFull:              "bus_full",
	reasonBusUnavailable:       "bus_unavailable",
	reasonTooManyInflight:      "too_many_inflight",
	reasonBodyTimeout:          "body_timeout",
	reasonDetectionLag:         "detection_lag",
	reasonSourceLimit:          "source_limit",
}

func (r reason) String() string { return reasonNames[r] }

// codes are the statuses the handler replies with; vigil_ingest_requests_total
// has one series each, created up front.
var codes = []int{
	http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized,
	http.StatusMethodNotAllowed, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge,
	http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity,
	http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusServiceUnavailable,
}

type metrics struct {
	records  prometheus.Counter
	rejected [numReasons]prometheus.Counter
	requests map[int]prometheus.Counter
	other    *prometheus.CounterVec // requests_total, for a code not in codes
	batch    prometheus.Histogram
	publish  prometheus.Histogram
	inflight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_ingest_rejected_total",
		Help: "Records rejected by ingest, by reason; a request refused before its body was split counts once.",
	}, []string{"reason"})
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_ingest_requests_total",
		Help: "HTTP ingest requests, by status code.",
	}, []string{"code"})
	m := &metrics{
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_ingest_records_total",
			Help: "Records accepted by ingest and stored on the bus.",
		}),
		requests: make(map[int]prometheus.Counter, len(codes)),
		other:    requests,
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_ingest_batch_records",
			Help:    "Records in each batch published to the bus.",
			Buckets: []float64{1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000},
		}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_ingest_publish_seconds",
			Help:    "Time to publish one batch to the bus and have it stored.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … 4 s
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_ingest_inflight_bytes",
			Help: "Request body bytes held by ingest, read but not yet acknowledged.",
		}),
	}
	for r := range numReasons {
		m.rejected[r] = rejected.WithLabelValues(r.String())
	}
	for _, c := range codes {
		m.requests[c] = requests.WithLabelValues(strconv.Itoa(c))
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.records, rejected, requests, m.batch, m.publish, m.inflight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register ingest metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) request(code int) {
	if c, ok := m.requests[code]; ok {
		c.Inc()
		return
	}
	m.other.WithLabelValues(strconv.Itoa(code)).Inc()
}
