// Package event holds vigil's event model: the raw record as ingest frames it,
// and the decoded event with its logsource, common (ECS-named) fields and the
// source's own fields.
//
// Decoded values are strings that may alias the raw record's buffer (decoders
// avoid copies on the hot path). Anything that outlives the batch — an alert's
// entity, a stored value — must be copied with strings.Clone.
package event

import (
	"time"
)

// Logsource routes an event to the rules written for it (Sigma's
// logsource: product / category / service).
type Logsource struct {
	Product  string `json:"product,omitempty"`
	Category string `json:"category,omitempty"`
	Service  string `json:"service,omitempty"`
}

// IsZero reports whether no part of the logsource is set.
func (l Logsource) IsZero() bool { return l == Logsource{} }

// Raw is one record as ingest framed it: an id given at ingest (stable across
// bus replays) and the bytes exactly as received.
type Raw struct {
	ID   ID
	Data []byte
	// Line is the record's 1-based position in its request or file; offline
	// evidence names it, and rejections refer to it.
	Line int
}

// Event is a decoded record. An Event is reused from record to record by the
// detect stage: Reset clears it without freeing its storage.
type Event struct {
	ID        ID
	Workspace string
	Source    string
	Format    string
	Logsource Logsource
	// Time is the event's own time stamp; Received when the record has none.
	Time     time.Time
	Received time.Time
	Raw      []byte
	Line     int

	// Common holds the ECS-named fields, indexed by Common field id.
	Common [NumCommon]string

	// Fields holds the source's own fields that the consumer asked for,
	// indexed by the Dict id of their (flattened, dotted) name.
	Fields Fields
}

// Reset clears the event for reuse, keeping its allocated storage.
func (e *Event) Reset() {
	fields := e.Fields
	fields.Reset()
	*e = Event{Fields: fields}
}

// Release is Reset that also lets go of every value the event held, kept
// storage included: Reset leaves old values in place (they are only
// marked unset), and a value that is a view of a record's bytes keeps the
// record's whole buffer alive. Call it when a reused event will sit idle.
func (e *Event) Release() {
	e.Reset()
	clear(e.Fields.vals)
	clear(e.Fields.multi[:cap(e.Fields.multi)])
}

// Get returns the value of a field named the way Sigma rules name fields: a
// source's own field first, then the ECS name. ok is false when neither is
// present. It looks the name up on every call: the engine resolves names to
// ids once at compile time and calls Fields.Get, and the few by-name reads
// per match (the fields correlations group by) come here.
func (e *Event) Get(name string) (string, bool) {
	if e.Fields.dict != nil {
		if id, ok := e.Fields.dict.ID(name); ok {
			if v, ok := e.Fields.Get(id); ok {
				return v, true
			}
		}
	}
	if c, ok := CommonID(name); ok && e.Common[c] != "" {
		return e.Common[c], true
	}
	return "", false
}

// ResetFor clears the event for the next sub-event of the same record
// (decode.Expander), keeping what the caller set: id, workspace, source,
// format, received time, raw record and line.
func (e *Event) ResetFor(id ID) {
	ws, src, f, rcv, raw, line := e.Workspace, e.Source, e.Format, e.Received, e.Raw, e.Line
	e.Reset()
	e.ID, e.Workspace, e.Source, e.Format, e.Received, e.Raw, e.Line = id, ws, src, f, rcv, raw, line
}
