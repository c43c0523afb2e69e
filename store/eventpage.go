package store

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Nanos is t as Unix nanoseconds, as the stores keep times: integers
// compare and index cheaply. Times outside 1678–2262 saturate; an event's
// exact time lives in its block.
func Nanos(t time.Time) int64 {
	const lim = math.MaxInt64 / int64(time.Second)
	switch s := t.Unix(); {
	case s >= lim:
		return math.MaxInt64
	case s <= -lim:
		return math.MinInt64
	}
	return t.UnixNano()
}

// FromNanos is the UTC time of Unix nanoseconds n.
func FromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// EventAfter reports whether a comes before b in newest-first order: later
// time, then higher id.
func EventAfter(a, b *StoredEvent) bool {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c > 0
	}
	return a.ID.Compare(b.ID) > 0
}

// EventPage gathers a page of EventQuery's events, newest first, out of
// event blocks that a store reads in descending order of their newest
// event's time (max time). A block's events are all at or before its max
// time, so once the next block's max time is below an event, no block
// still unread can hold a newer one, and the event can be paged out;
// blocks that overlap in time are merged this way.
//
// A store selects the candidate blocks with what the page tells it (the
// time range, After, the folded entities), calls Next with each block's
// max time before it decodes the block, stops when Next says the page is
// full, Adds the block's events, and ends with Result.
type EventPage struct {
	q     EventQuery
	n     int
	after *StoredEvent
	one   EntityValue
	anyOf []EntityValue
	// AnyFolded are the distinct folded forms of q.Entities, for an
	// index (QueryEntities).
	AnyFolded []string
	// out is the page so far, newest first; pending holds the events read
	// that may still be preceded by events of blocks not yet read. Only
	// the newest n+1 of all are ever wanted, so pending is cut to what
	// the page still lacks.
	out, pending []*StoredEvent
}

// NewEventPage checks q — its time range, cursor and entities — and
// returns its empty page; errors are ErrInvalid.
func NewEventPage(q EventQuery) (*EventPage, error) {
	p := &EventPage{q: q, n: PageLimit(q.Limit), one: NewEntityValue(q.Entity)}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, fmt.Errorf("time range %v to %v: %w (from must be before to)", q.From, q.To, ErrInvalid)
	}
	if q.Cursor != "" {
		c, err := DecodeCursor(q.Cursor, "event")
		if err != nil {
			return nil, err
		}
		id, err := event.ParseID(c.S)
		if err != nil || c.M < 0 || c.M >= int64(time.Second) {
			return nil, fmt.Errorf("cursor %q: %w", q.Cursor, ErrInvalid)
		}
		p.after = &StoredEvent{ID: id, Time: time.Unix(c.N, c.M).UTC()}
	}
	var err error
	if p.anyOf, p.AnyFolded, err = QueryEntities(q.Entities); err != nil {
		return nil, err
	}
	return p, nil
}

// After is the last event of the previous page (nil for the first): the
// blocks to read hold an event at or before its time.
func (p *EventPage) After() *StoredEvent { return p.after }

// EntityFolded is q.Entity folded, for an index ("" when q has none).
func (p *EventPage) EntityFolded() string {
	if p.q.Entity == "" {
		return ""
	}
	return p.one.Folded
}

// Next takes the max time (Unix nanoseconds) of the next block to read,
// and reports whether the page is full: then the block, and all after it,
// need not be read.
func (p *EventPage) Next(maxTime int64) (full bool) {
	i := 0
	for i < len(p.pending) && Nanos(p.pending[i].Time) > maxTime {
		i++
	}
	p.out = append(p.out, p.pending[:i]...)
	p.pending = p.pending[i:]
	return len(p.out) > p.n
}

// Add takes the events of the block read last; it keeps those q selects.
// Their memory is kept until Result for the events on the page.
func (p *EventPage) Add(evs []StoredEvent) {
	for i := range evs {
		if p.keep(&evs[i]) {
			p.pending = append(p.pending, &evs[i])
		}
	}
	slices.SortFunc(p.pending, func(a, b *StoredEvent) int {
		if EventAfter(a, b) {
			return -1
		}
		if EventAfter(b, a) {
			return 1
		}
		return 0
	})
	if need := p.n + 1 - len(p.out); len(p.pending) > need {
		clear(p.pending[need:]) // let the blocks' events go
		p.pending = p.pending[:need]
	}
}

func (p *EventPage) keep(e *StoredEvent) bool {
	q := &p.q
	switch {
	case !q.From.IsZero() && e.Time.Before(q.From),
		!q.To.IsZero() && !e.Time.Before(q.To),
		p.after != nil && !EventAfter(p.after, e),
		q.Source != "" && e.Source != q.Source,
		q.Entity != "" && !e.HasEntity(p.one),
		len(p.anyOf) > 0 && !e.HasAnyEntity(p.anyOf):
		return false
	}
	return true
}

// Result is the page and the cursor of the next ("" when it is the last).
func (p *EventPage) Result() ([]StoredEvent, string) {
	out := append(p.out, p.pending...)
	if len(out) > p.n+1 {
		out = out[:p.n+1]
	}
	page := make([]StoredEvent, len(out))
	for i, e := range out {
		page[i] = *e
	}
	next := ""
	if len(page) > p.n {
		page = page[:p.n]
		last := page[p.n-1]
		next = EncodeCursor("event", Cursor{N: last.Time.Unix(), M: int64(last.Time.Nanosecond()), S: last.ID.String()})
	}
	return page, next
}
