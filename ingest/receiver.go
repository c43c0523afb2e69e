package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/event"
)

// Receiver is a long-running source of records (a syslog listener, a
// tailed file): every kind is built from its own config by its package's
// constructor and then only run. Run returns nil once ctx is cancelled and
// everything it accepted is on the bus (or counted as dropped); any other
// return is a failure that stops the receiver.
type Receiver interface {
	Run(ctx context.Context) error
}

// Target is where a receiver's records go: one source of one workspace.
type Target struct {
	Workspace string
	Source    string
	Format    string
}

// Defaults of BatcherConfig.
const (
	DefaultFlushInterval = 200 * time.Millisecond
	// DefaultMaxRecordBytes is a receiver's largest record; syslog
	// messages are far smaller, log lines rarely larger.
	DefaultMaxRecordBytes = 256 << 10
)

// BatcherConfig configures a Batcher. Publisher and Target are required.
type BatcherConfig struct {
	Target    Target
	Publisher Publisher
	Metrics   *Counters // nil: counted nowhere
	Logger    *slog.Logger
	IDs       *event.IDSource
	Now       func() time.Time

	MaxRecords     int           // records a batch; default 1000
	MaxBytes       int           // len(Data)+bus.RecordOverhead summed; default 4 MiB, lowered to the publisher's cap
	MaxRecordBytes int           // longer records are rejected (line_too_long); default 256 KiB
	FlushInterval  time.Duration // the oldest record waits at most this long; default 200 ms
	// RetryMax caps the back-off between attempts to publish a batch the
	// bus refused as full or unavailable (default 5 s). Attempts go on
	// until the context ends: a receiver holds its input rather than drop it.
	RetryMax time.Duration
}

// Batcher gathers one receiver's records into bus batches and publishes
// them, flushing by count, by bytes or after FlushInterval. It copies what
// it is given, so callers may reuse their buffers. It is safe for
// concurrent use (several connections of one listener share it); Add
// blocks while a batch is being published, which is the receivers'
// backpressure: TCP senders slow down, UDP datagrams pile up in the
// socket (and are counted when the kernel drops them).
type Batcher struct {
	cfg BatcherConfig
	log *slog.Logger
	m   *Counters

	mu    sync.Mutex
	arena []byte
	spans [][2]int // record extents in arena
	lines []int
	size  int       // budget used: data + overhead
	first time.Time // when the oldest pending record came
	kick  chan struct{}
}

// NewBatcher checks cfg and returns a Batcher; start its Run.
func NewBatcher(cfg BatcherConfig) (*Batcher, error) {
	var errs []error
	if cfg.Publisher == nil {
		errs = append(errs, errors.New("batcher: Publisher is required"))
	}
	if cfg.Target.Workspace == "" || cfg.Target.Source == "" || cfg.Target.Format == "" {
		errs = append(errs, fmt.Errorf("batcher: target workspace %q, source %q and format %q must all be set",
			cfg.Target.Workspace, cfg.Target.Source, cfg.Target.Format))
	}
	if cfg.MaxRecords < 0 || cfg.MaxBytes < 0 || cfg.MaxRecordBytes < 0 || cfg.FlushInterval < 0 || cfg.RetryMax < 0 {
		errs = append(errs, errors.New("batcher: limits must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = DefaultMaxBatchRecords
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBatchBytes
	}
	if p, ok := cfg.Publisher.(batchCapper); ok {
		if n := p.MaxBatchBytes(); n > 0 && n < cfg.MaxBytes {
			cfg.MaxBytes = n
		}
	}
	if cfg.MaxRecordBytes == 0 {
		cfg.MaxRecordBytes = min(DefaultMaxRecordBytes, cfg.MaxBytes-bus.RecordOverhead)
	}
	if cfg.MaxRecordBytes+bus.RecordOverhead > cfg.MaxBytes {
		return nil, fmt.Errorf("batcher: MaxRecordBytes (%d) plus the bus's record overhead does not fit in a batch (%d bytes)", cfg.MaxRecordBytes, cfg.MaxBytes)
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 5 * time.Second
	}
	if cfg.IDs == nil {
		cfg.IDs = event.NewIDSource()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewReceiverMetrics(nil).For(cfg.Target.Source, "")
	}
	return &Batcher{cfg: cfg, log: cfg.Logger, m: cfg.Metrics, kick: make(chan struct{}, 1)}, nil
}

// RecordError is a record Add refused; it is already counted and logged.
type RecordError struct {
	Reason string // metric label
	Detail string
}

func (e *RecordError) Error() string { return e.Detail }

// Add takes one record (copied) with its line number (0 when the transport
// has none). A record that fails the checks is counted, logged and returned
// as a *RecordError; the stream goes on. Any other error is a failure to
// publish a full batch before ctx ended: the batch's records are counted as
// dropped.
func (b *Batcher) Add(ctx context.Context, rec []byte, line int) error {
	if len(rec) > b.cfg.MaxRecordBytes {
		return b.Reject(ReasonTooLong, "record of "+strconv.Itoa(len(rec))+" bytes is longer than "+strconv.Itoa(b.cfg.MaxRecordBytes))
	}
	if len(rec) == 0 {
		return nil
	}
	if !utf8.Valid(rec) {
		return b.Reject(ReasonInvalidUTF8, "invalid UTF-8 at byte "+strconv.Itoa(invalidUTF8At(rec)))
	}
	n := len(rec) + bus.RecordOverhead
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.spans) > 0 && (len(b.spans) >= b.cfg.MaxRecords || b.size+n > b.cfg.MaxBytes) {
		if err := b.flushLocked(ctx); err != nil {
			return err
		}
	}
	if len(b.spans) == 0 {
		b.first = b.cfg.Now()
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	start := len(b.arena)
	b.arena = append(b.arena, rec...)
	b.spans = append(b.spans, [2]int{start, len(b.arena)})
	b.lines = append(b.lines, line)
	b.size += n
	b.m.records.Inc()
	b.m.bytes.Add(float64(len(rec)))
	return nil
}

// Reject counts and logs a record refused before it reached Add (a
// framing error) and returns it as a *RecordError.
func (b *Batcher) Reject(reason, detail string) error {
	b.m.reject(reason)
	b.log.Warn("record rejected", "source", b.cfg.Target.Source, "reason", reason, "detail", detail)
	return &RecordError{Reason: reason, Detail: detail}
}

// Flush publishes what is pending and returns once it is stored.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked(ctx)
}

// Pending returns how many records wait for the next flush.
func (b *Batcher) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.spans)
}

func (b *Batcher) flushLocked(ctx context.Context) error {
	if len(b.spans) == 0 {
		return nil
	}
	recs := make([]event.Raw, len(b.spans))
	for i, s := range b.spans {
		recs[i] = event.Raw{Data: b.arena[s[0]:s[1]:s[1]], Line: b.lines[i]}
	}
	received := b.first.UTC()
	b.cfg.IDs.Fill(received, recs)
	batch := &bus.Batch{
		ID: b.cfg.IDs.New(received), Workspace: b.cfg.Target.Workspace, Source: b.cfg.Target.Source,
		Format: b.cfg.Target.Format, Received: received, Records: recs,
	}
	err := b.publish(ctx, batch)
	b.arena, b.spans, b.lines, b.size = b.arena[:0], b.spans[:0], b.lines[:0], 0
	if err != nil {
		b.m.dropped.Add(float64(len(recs)))
		b.log.Error("batch not stored; its records are dropped", "source", b.cfg.Target.Source,
			"records", len(recs), "err", err)
		return err
	}
	b.m.batches.Inc()
	return nil
}

// publish retries a batch the bus could not take yet, with the same id
// (the bus drops a copy it already stored), until ctx ends.
func (b *Batcher) publish(ctx context.Context, batch *bus.Batch) error {
	wait := 50 * time.Millisecond
	for {
		err := b.cfg.Publisher.Publish(ctx, batch)
		if err == nil {
			return nil
		}
		if !errors.Is(err, bus.ErrFull) && !errors.Is(err, bus.ErrUnavailable) || ctx.Err() != nil {
			return fmt.Errorf("publish batch %s (%d records) of source %s: %w", batch.ID, len(batch.Records), batch.Source, err)
		}
		b.m.retries.Inc()
		b.log.Warn("bus refused a batch; retrying", "source", batch.Source, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish batch %s (%d records) of source %s: %w (last error: %w)", batch.ID, len(batch.Records), batch.Source, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(wait*2, b.cfg.RetryMax)
	}
}

// Run flushes pending records FlushInterval after the oldest came, until
// ctx ends; then it flushes what is left with a fresh deadline of
// drainTimeout, so that a shutdown stores what was accepted.
func (b *Batcher) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			defer cancel()
			return b.Flush(dctx)
		case <-b.kick:
			b.mu.Lock()
			due := b.first.Add(b.cfg.FlushInterval).Sub(b.cfg.Now())
			b.mu.Unlock()
			timer.Reset(max(due, 0))
		case <-timer.C:
			b.mu.Lock()
			if len(b.spans) > 0 && b.cfg.Now().Sub(b.first) < b.cfg.FlushInterval {
				// A size flush emptied the batch since the kick: wait for the new oldest.
				timer.Reset(b.first.Add(b.cfg.FlushInterval).Sub(b.cfg.Now()))
				b.mu.Unlock()
				continue
			}
			_ = b.flushLocked(ctx) // logged and counted there
			b.mu.Unlock()
		}
	}
}

// drainTimeout bounds the final flush at shutdown.
const drainTimeout = 10 * time.Second

// Reasons a receiver rejects a record (the reason label of
// vigil_receiver_rejected_total).
const (
	ReasonTooLong      = "line_too_long"
	ReasonInvalidUTF8  = "invalid_utf8"
	ReasonOctetCount   = "bad_octet_count"
	ReasonTruncated    = "truncated_frame"
	ReasonTLSHandshake = "tls_handshake"
	ReasonDamaged      = "damaged_record" // a record or chunk of a binary log file (.evtx) that cannot be read
)

var receiverReasons = []string{ReasonTooLong, ReasonInvalidUTF8, ReasonOctetCount, ReasonTruncated, ReasonTLSHandshake, ReasonDamaged}

// Reasons a stream receiver refuses a connection (the reason label of
// vigil_receiver_connections_refused_total).
const (
	RefusedTooMany        = "too_many_connections"
	RefusedTooManyAddress = "too_many_from_address"
)

// Timeouts that close a stream receiver's connection (the reason label of
// vigil_receiver_connection_timeouts_total).
const (
	TimeoutIdle    = "idle"
	TimeoutMessage = "message"
)

// ReceiverMetrics are the metrics of every receiver, labelled by receiver
// name (set by the operator, so bounded) and kind.
type ReceiverMetrics struct {
	records, bytes, batches, dropped, retries *prometheus.CounterVec
	rejected                                  *prometheus.CounterVec
	conns                                     *prometheus.GaugeVec
	refused, timeouts                         *prometheus.CounterVec
}

// NewReceiverMetrics creates the metrics and registers them on reg (nil:
// kept but not exported).
func NewReceiverMetrics(reg prometheus.Registerer) *ReceiverMetrics {
	l := []string{"receiver", "kind"}
	m := &ReceiverMetrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_records_total",
			Help: "Records a receiver accepted for the bus."}, l),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_bytes_total",
			Help: "Bytes of the records a receiver accepted."}, l),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_batches_total",
			Help: "Batches a receiver stored on the bus."}, l),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_dropped_total",
			Help: "Records lost: datagrams the kernel dropped (UDP socket full), or accepted records whose batch could not be stored before shutdown."}, l),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_publish_retries_total",
			Help: "Publish attempts the bus refused as full or unavailable (retried)."}, l),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_rejected_total",
			Help: "Records a receiver refused, by reason."}, []string{"receiver", "kind", "reason"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_receiver_connections",
			Help: "Open connections of a stream receiver."}, l),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_connections_refused_total",
			Help: "Connections a stream receiver closed at once, by reason: its connection limit, or the per-address limit."}, []string{"receiver", "kind", "reason"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_receiver_connection_timeouts_total",
			Help: "Connections a stream receiver closed for silence (idle) or for a message not finished in time (message)."}, []string{"receiver", "kind", "reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.records, m.bytes, m.batches, m.dropped, m.retries, m.rejected, m.conns, m.refused, m.timeouts} {
			reg.MustRegister(c)
		}
	}
	return m
}

// Counters are one receiver's series of ReceiverMetrics.
type Counters struct {
	records, bytes, batches, dropped, retries prometheus.Counter
	Conns                                     prometheus.Gauge
	rejected                                  map[string]prometheus.Counter
	rejectedVec                               *prometheus.CounterVec
	refused, timeouts                         map[string]prometheus.Counter
	receiver, kind                            string
}

// For returns the series of one receiver, every reason created up front so
// that a rate over them starts at zero.
func (m *ReceiverMetrics) For(receiver, kind string) *Counters {
	c := &Counters{
		records:  m.records.WithLabelValues(receiver, kind),
		bytes:    m.bytes.WithLabelValues(receiver, kind),
		batches:  m.batches.WithLabelValues(receiver, kind),
		dropped:  m.dropped.WithLabelValues(receiver, kind),
		retries:  m.retries.WithLabelValues(receiver, kind),
		Conns:    m.conns.WithLabelValues(receiver, kind),
		rejected: map[string]prometheus.Counter{}, rejectedVec: m.rejected,
		refused: map[string]prometheus.Counter{}, timeouts: map[string]prometheus.Counter{},
		receiver: receiver, kind: kind,
	}
	for _, r := range receiverReasons {
		c.rejected[r] = m.rejected.WithLabelValues(receiver, kind, r)
	}
	for _, r := range []string{RefusedTooMany, RefusedTooManyAddress} {
		c.refused[r] = m.refused.WithLabelValues(receiver, kind, r)
	}
	for _, r := range []string{TimeoutIdle, TimeoutMessage} {
		c.timeouts[r] = m.timeouts.WithLabelValues(receiver, kind, r)
	}
	return c
}

// Refuse counts a connection closed at once; reason is RefusedTooMany or
// RefusedTooManyAddress.
func (c *Counters) Refuse(reason string) { c.refused[reason].Inc() }

// TimedOut counts a connection closed for a timeout; reason is
// TimeoutIdle or TimeoutMessage.
func (c *Counters) TimedOut(reason string) { c.timeouts[reason].Inc() }

// Refused is how many connections were refused, for every reason: what
// source health shows.
func (c *Counters) Refused() float64 {
	n := 0.0
	for r := range c.refused {
		n += c.Value("refused:" + r)
	}
	return n
}

func (c *Counters) reject(reason string) {
	if r, ok := c.rejected[reason]; ok {
		r.Inc()
		return
	}
	c.rejectedVec.WithLabelValues(c.receiver, c.kind, reason).Inc()
}

// Dropped counts records lost outside the batcher (kernel drops).
func (c *Counters) Dropped(n float64) { c.dropped.Add(n) }

// Value reads one series, for tests and status pages: "records", "bytes",
// "batches", "dropped", "retries", "conns", "rejected:<reason>",
// "refused:<reason>" or "timeouts:<reason>".
func (c *Counters) Value(name string) float64 {
	var m prometheus.Metric
	switch name {
	case "records":
		m = c.records
	case "bytes":
		m = c.bytes
	case "batches":
		m = c.batches
	case "dropped":
		m = c.dropped
	case "retries":
		m = c.retries
	case "conns":
		m = c.Conns
	default:
		kind, reason, _ := strings.Cut(name, ":")
		var ok bool
		switch kind {
		case "rejected":
			m = c.rejectedVec.WithLabelValues(c.receiver, c.kind, reason)
			ok = true
		case "refused":
			m, ok = c.refused[reason]
		case "timeouts":
			m, ok = c.timeouts[reason]
		}
		if !ok {
			return 0
		}
	}
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return 0
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}

// Draining returns a context for publishing that outlives ctx by
// drainTimeout: a batch being published when a receiver is told to stop is
// still stored, but a bus that never answers cannot hold shutdown up.
func Draining(ctx context.Context) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(drainTimeout, cancel)
		context.AfterFunc(dctx, func() { t.Stop() })
	})
	return dctx, func() { stop(); cancel() }
}
