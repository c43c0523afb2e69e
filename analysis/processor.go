// Package analysis runs vigil's stages after the bus: decode, normalize and
// detect a batch of raw records into events and signals (Processor), and in
// `vigil serve` the detect stage that pulls batches from the bus, processes
// them on several workers and commits them to the store (Stage). `vigil
// scan` runs the same Processor over files, without bus or store.
package analysis

import (
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// Rejection is a record that could not be decoded.
type Rejection struct {
	ID     event.ID
	Line   int
	Reason string
	raw    []byte
}

// Result is what processing a batch yields, ready for the store.
type Result struct {
	// Slow lists the records that took longer than the decode budget.
	Slow []SlowRecord
	// Skew counts the events whose time stamps were flagged.
	Skew  TimeSkew
	Batch *store.Batch
	// Events counts the events decoded (offline, Batch.Events stays empty).
	Events   int
	Rejected []Rejection
	// Matches are the matches of rules that correlations refer to, for the
	// correlator (which must see a batch once: after its commit).
	Matches []detect.Match
}

// Processor decodes and detects batches. It keeps per-worker scratch state
// (decoders, the reused event, match buffers): one Processor a goroutine.
type Processor struct {
	rules    *Rules
	decoders map[string]decode.Decoder
	ev       event.Event
	scratch  event.Event // confirmSlow's second decode
	matcher  *detect.Matcher
	hits     []*rule.Rule
	matches  []detect.Match
	events   int
	arena    arena
	skew     TimeSkew
	// Offline names the file that evidence points at (vigil scan); empty in
	// the server, where evidence is the event id. Offline, events are only
	// counted (Result.Events), not kept in the batch: nothing stores them.
	Offline string
	// Options, when set, gives a source's decoder options (a generic JSON
	// source's field mapping, a flow log's field list) by workspace and
	// source name; the source's time zone applies unless Options sets one.
	Options func(workspace, source string) decode.Options
	// Budget is the decode time budget of a record; DecodeBudget when 0.
	Budget time.Duration
	// Enrichers, when set, gives a workspace's enrichment chain (GeoIP,
	// intelligence, assets); nil or an empty chain: no enrichment.
	Enrichers func(workspace string) *enrich.Chain
	enr       enrichment
	// Suppressions, when set, gives a workspace's suppressions: the rule
	// matches and signals they match are dropped before the batch is
	// made (suppression.go) and counted in Batch.Suppressed.
	Suppressions func(workspace string) *suppress.Set
	// Disabled, when set, gives the rules a workspace turned off (by
	// id): their matches are dropped before anything else sees them.
	Disabled func(workspace string) map[string]bool
	off      map[string]bool
	sup      *suppress.Set
	supNow   time.Time // expiry is judged by the clock, once a batch
	tally    suppress.Tally
}

// NewProcessor returns a Processor for rules.
func NewProcessor(rules *Rules) *Processor {
	p := &Processor{rules: rules, decoders: map[string]decode.Decoder{}, matcher: rules.Engine.NewMatcher()}
	p.ev.Fields.Bind(rules.Engine.Dict())
	return p
}

// decoder returns the worker's decoder of format, configured for the
// source's time zone when it has one.
func (p *Processor) decoder(format string, src tenant.Source) (decode.Decoder, error) {
	var opts decode.Options
	if p.Options != nil {
		opts = p.Options(src.Workspace, src.Name)
	}
	key := format + "|" + src.TimeZone
	if len(opts.Mapping) > 0 || len(opts.Fields) > 0 || opts.Layout != "" {
		key += "|" + src.Workspace + "/" + src.Name // options of its own
	}
	if d, ok := p.decoders[key]; ok {
		return d, nil
	}
	d, err := decode.New(format)
	if err != nil {
		return nil, err
	}
	if c, ok := d.(decode.Configurable); ok {
		if src.TimeZone != "" && opts.Location == nil {
			loc, err := time.LoadLocation(src.TimeZone)
			if err != nil {
				return nil, fmt.Errorf("source %s: time zone %q: %w", src.Name, src.TimeZone, err)
			}
			opts.Location = loc
		}
		if opts.Location != nil || len(opts.Mapping) > 0 || len(opts.Fields) > 0 || opts.Layout != "" {
			if err := c.Configure(opts); err != nil {
				return nil, fmt.Errorf("source %s: %w", src.Name, err)
			}
		}
	}
	p.decoders[key] = d
	return d, nil
}

// Process decodes and detects every record of b. src is the source's
// configuration: its logsource overrides what the format implies, part by
// part, and its time zone reads time stamps that carry none. An unknown format rejects every record; a record that fails to
// decode is rejected and the others go on.
func (p *Processor) Process(b *bus.Batch, src tenant.Source) Result {
	out := &store.Batch{
		ID: b.ID, Workspace: b.Workspace, Source: b.Source, Format: b.Format, Received: b.Received,
	}
	if p.Offline == "" {
		out.Events = storedEvents(len(b.Records))
	}
	res := Result{Batch: out}
	if src.Quarantined {
		// An operator holds the source: its records wait in the
		// quarantine, undecoded, for inspection.
		return hold(res, b, QuarantinedReason)
	}
	dec, err := p.decoder(b.Format, src)
	if err != nil {
		return hold(res, b, err.Error())
	}
	p.arena = arena{}
	p.matches = nil
	p.events = 0
	p.skew = TimeSkew{}
	p.enr.begin(p, b)
	p.sup, p.supNow = nil, time.Now()
	p.tally.Reset()
	if p.Suppressions != nil {
		p.sup = p.Suppressions(b.Workspace)
	}
	p.off = nil
	if p.Disabled != nil {
		p.off = p.Disabled(b.Workspace)
	}
	ev := &p.ev
	exp, _ := dec.(decode.Expander)
	emit := func(ev *event.Event) { p.accept(ev, b, src, out) }
	for i := range b.Records {
		rec := &b.Records[i]
		ev.Reset()
		ev.ID, ev.Workspace, ev.Source, ev.Format = rec.ID, b.Workspace, b.Source, b.Format
		ev.Received, ev.Raw, ev.Line = b.Received, rec.Data, rec.Line
		start := time.Now()
		if exp != nil {
			if err := safeExpand(exp, rec.Data, ev, emit); err != nil {
				res.Rejected = append(res.Rejected, Rejection{ID: rec.ID, Line: rec.Line, Reason: err.Error(), raw: rec.Data})
			}
			p.budget(&res, rec, start)
			continue
		}
		err := safeDecode(dec, rec.Data, ev)
		if took := time.Since(start); took > p.limit() {
			p.confirmSlow(&res, dec, rec, took)
		}
		if err != nil {
			res.Rejected = append(res.Rejected, Rejection{ID: rec.ID, Line: rec.Line, Reason: err.Error(), raw: rec.Data})
			continue
		}
		p.accept(ev, b, src, out)
	}
	// The worker keeps ev for the next batch, which may be long in coming:
	// values it holds would keep this batch's bus message alive.
	ev.Release()
	out.Rejected = len(res.Rejected)
	res.Events = p.events
	res.Matches = p.matches
	res.Skew = p.skew
	out.Suppressed = p.tally.Hits
	quarantine(&res)
	return res
}

// eventSlices holds the events of committed batches for reuse (Recycle): at
// about 750 bytes an event, a fresh slice a batch cost more in zeroing and
// page faults than filling it.
var eventSlices = sync.Pool{New: func() any { return new([]store.StoredEvent) }}

func storedEvents(n int) []store.StoredEvent {
	sp := eventSlices.Get().(*[]store.StoredEvent)
	if cap(*sp) >= n {
		return (*sp)[:0]
	}
	// Not put back: an empty or small slice would sit in the pool's
	// per-CPU slot, found first by every Get, and hide the reusable ones.
	return make([]store.StoredEvent, 0, n+n/4)
}

// recycle hands the batch's event slice back for reuse by later batches,
// once the store has committed it (or it was given up): nothing may read
// res.Batch.Events afterwards. Past its length the slice is still zero.
func recycle(res *Result) {
	if res.Batch == nil || cap(res.Batch.Events) == 0 {
		return
	}
	clear(res.Batch.Events) // let go of the batch's strings and records
	evs := res.Batch.Events[:0]
	res.Batch.Events = nil
	eventSlices.Put(&evs)
}

// TimeSkew counts events with a time stamp far from their arrival.
type TimeSkew struct{ Future, Past int }

// Time stamps further than this from the receive time are flagged.
const (
	MaxFuture = time.Hour
	MaxPast   = 365 * 24 * time.Hour
)

// checkTime names how an event's time stamp is off, if it is.
func checkTime(t, received time.Time) string {
	switch {
	case t.After(received.Add(MaxFuture)):
		return "time_future"
	case t.Before(received.Add(-MaxPast)):
		return "time_past"
	}
	return ""
}

// DecodeBudget is the time one record may take to decode. Decoders run in
// time linear in the record, and records are bounded by ingest's line
// limit, so a record over budget means a decoder's worst case was found:
// it is reported (Result.Slow, a metric, a log line naming source and
// line) so that it can be fixed, and its event is kept.
const DecodeBudget = 10 * time.Millisecond

// SlowRecord is a record that took longer than its budget to decode.
type SlowRecord struct {
	ID   event.ID
	Line int
	Took time.Duration
}

func (p *Processor) limit() time.Duration {
	if p.Budget > 0 {
		return p.Budget
	}
	return DecodeBudget
}

func (p *Processor) budget(res *Result, rec *event.Raw, start time.Time) {
	if took := time.Since(start); took > p.limit() {
		res.Slow = append(res.Slow, SlowRecord{ID: rec.ID, Line: rec.Line, Took: took})
	}
}

// confirmSlow decodes a record that took took (over the budget) once more,
// into a scratch event, and reports it only if that run is over the budget
// too, with the shorter time: a wall-clock budget also measures the
// worker being preempted or a garbage collection, which on a busy machine
// (route building at start, ingest on the same cores) named ordinary
// records slow. A record decoded again gives the same event (a decoder's
// state, such as a header's field list, is set by the records themselves).
func (p *Processor) confirmSlow(res *Result, dec decode.Decoder, rec *event.Raw, took time.Duration) {
	if p.scratch.Fields.Dict() != p.ev.Fields.Dict() {
		p.scratch.Fields.Bind(p.ev.Fields.Dict())
	}
	p.scratch.Reset()
	p.scratch.Received, p.scratch.Raw, p.scratch.Line = p.ev.Received, rec.Data, rec.Line
	start := time.Now()
	_ = safeDecode(dec, rec.Data, &p.scratch)
	again := time.Since(start)
	p.scratch.Release()
	if again > p.limit() {
		res.Slow = append(res.Slow, SlowRecord{ID: rec.ID, Line: rec.Line, Took: min(took, again)})
	}
}

// QuarantinedReason is the quarantine's reason for a record held because
// its source is quarantined.
const QuarantinedReason = "source quarantined: held, not decoded"

// hold rejects every record of b for reason.
func hold(res Result, b *bus.Batch, reason string) Result {
	for _, r := range b.Records {
		res.Rejected = append(res.Rejected, Rejection{ID: r.ID, Line: r.Line, Reason: reason, raw: r.Data})
	}
	res.Batch.Rejected = len(res.Rejected)
	quarantine(&res)
	return res
}

// quarantine hands the rejected records to the store, which keeps them for
// operators to inspect.
func quarantine(res *Result) {
	for _, r := range res.Rejected {
		res.Batch.Quarantined = append(res.Batch.Quarantined, store.Quarantined{ID: r.ID, Line: r.Line, Reason: r.Reason, Raw: r.raw})
	}
}

// accept finishes a decoded event — logsource, time, detection — and adds
// it and its signals to the batch.
func (p *Processor) accept(ev *event.Event, b *bus.Batch, src tenant.Source, out *store.Batch) {
	applyLogsource(&ev.Logsource, src.Logsource)
	if ev.Time.IsZero() {
		ev.Time = b.Received
	} else if skew := checkTime(ev.Time, b.Received); skew != "" {
		// Kept as it is (it may be the truth, or the attacker's clock),
		// flagged and counted.
		ev.Common[event.Tags] = skew
		if skew == "time_future" {
			p.skew.Future++
		} else {
			p.skew.Past++
		}
	}
	e := &p.enr
	if e.chain != nil {
		e.before(ev)
	}
	p.hits = p.matcher.Match(ev, p.hits[:0])
	p.events++
	if e.chain != nil {
		e.after(ev, len(p.hits) > 0)
	}
	p.dropDisabled()
	// After enrichment: suppressions may name its fields (an asset's
	// criticality, a country, an AS).
	p.suppressMatches(ev)
	if p.Offline == "" {
		p.keep(ev, b, out)
	}
	for _, r := range p.hits {
		if p.correlate(r, ev) {
			continue // referenced by a correlation without generate: no alert of its own
		}
		s := p.signal(r, ev)
		if e.chain != nil {
			s.Origin, s.Assets, s.Anomalies = e.origin(ev), e.assets(), e.anomalies()
		}
		out.Signals = append(out.Signals, s)
	}
	if e.chain != nil && len(e.res.Matches) > 0 {
		n := len(out.Signals)
		out.Signals = p.intelSignals(ev, out.Signals)
		out.Signals = dropDisabledSignals(p.off, out.Signals, n)
		out.Signals = suppressSignals(p.sup, &p.tally, out.Signals, n, ev, p.supNow)
	}
}

// keep adds ev to the batch, for the store.
func (p *Processor) keep(ev *event.Event, b *bus.Batch, out *store.Batch) {
	// Filled in place: the event is large (its common fields), and the
	// slice's unused part is zero (new or recycled).
	out.Events = append(out.Events, store.StoredEvent{})
	se := &out.Events[len(out.Events)-1]
	se.ID, se.Workspace, se.Source, se.Format = ev.ID, b.Workspace, b.Source, ev.Format // the detected format under "auto"
	se.Logsource, se.Time, se.Received, se.Raw = ev.Logsource, ev.Time, b.Received, ev.Raw
	// Decoded values may point into the decoder's scratch buffers, which
	// the next record overwrites: copy the kept ones into the batch arena.
	for c := range ev.Common {
		if v := ev.Common[c]; v != "" {
			se.Common[c] = p.arena.str(v)
		}
	}
}

// signal builds the signal of rule r on ev. Signals of one rule about the
// same host, account and source address gather into one alert, or, when
// the rule aggregates by fields, those with the same values of them.
func (p *Processor) signal(r *rule.Rule, ev *event.Event) alert.Signal {
	m := p.rules.meta[r]
	ents := alert.Entities(ev)
	var key []alert.Entity
	if m.by != nil {
		key = make([]alert.Entity, len(m.by))
		for i, f := range m.by {
			v, _ := ev.Get(f)
			key[i] = alert.Entity{Type: f, Value: v} // only the key's text: DedupKey copies it
		}
	} else {
		for _, e := range ents {
			if e.Type == alert.EntityHost || e.Type == alert.EntityAccount ||
				(e.Type == alert.EntityIP && e.Value == ev.Common[event.SourceIP]) {
				key = append(key, e)
			}
		}
	}
	s := alert.Signal{
		Workspace: ev.Workspace, Type: "signature", Rule: m.ref, Severity: m.severity,
		Tactics: m.tactics, Techniques: m.techniques, Entities: ents,
		DedupKey: alert.DedupKey(ev.Workspace, m.ref.ID, key),
		Evidence: alert.Evidence{Time: ev.Time},
		Window:   m.window,
	}
	if p.Offline != "" {
		s.Evidence.File, s.Evidence.Line = p.Offline, ev.Line
	} else {
		s.Evidence.EventID = ev.ID.String()
	}
	return s
}

// applyLogsource lets a source's configured logsource override what the
// format implied, part by part.
func applyLogsource(dst *event.Logsource, cfg event.Logsource) {
	if cfg.Product != "" {
		dst.Product = cfg.Product
	}
	if cfg.Category != "" {
		dst.Category = cfg.Category
	}
	if cfg.Service != "" {
		dst.Service = cfg.Service
	}
}

// safeDecode turns a decoder panic into a rejection: one hostile record must
// not take the stage down. Decoders are fuzzed; this is the last guard.
func safeDecode(d decode.Decoder, rec []byte, ev *event.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return decode.WithFormat(ev.Format, d.Decode(rec, ev))
}

func safeExpand(d decode.Expander, rec []byte, ev *event.Event, emit func(*event.Event)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	format := ev.Format
	return decode.WithFormat(format, d.Expand(rec, ev, emit))
}

// arena copies strings into shared chunks: one allocation for many small
// strings. Growing allocates a new chunk; strings in old chunks stay valid.
type arena struct{ b []byte }

func (a *arena) str(s string) string {
	if len(s) > cap(a.b)-len(a.b) {
		n := 64 << 10
		if len(s) > n {
			n = len(s)
		}
		a.b = make([]byte, 0, n)
	}
	start := len(a.b)
	a.b = append(a.b, s...)
	return unsafe.String(&a.b[start], len(s))
}
