// Package decode turns raw records into events. Each format is one decoder
// in its own package (decode/jsonrecord, decode/windows, …) with the same shape: a
// constructor registered under the format's name, one Decode method, and
// fixtures beside it.
package decode

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Decoder decodes one format. A Decoder keeps per-instance scratch state
// (parsers, buffers) and is not safe for concurrent use: each worker makes
// its own with New.
type Decoder interface {
	// Decode fills ev from rec. ev has been Reset, its Fields are bound to
	// the Dict of the fields wanted, and ID, Workspace, Source, Format,
	// Received and Raw are set. Decode sets Time (left zero, the caller
	// uses Received), the Logsource the format implies (the caller applies a
	// source's configured logsource over it), Common and Fields. Values may
	// alias rec. A record that cannot be decoded returns an *Error.
	Decode(rec []byte, ev *event.Event) error
}

// Error says why and where a record could not be decoded.
type Error struct {
	Format string
	Offset int    // byte offset in the record, -1 when unknown
	Field  string // the field at fault, if any
	Reason string
}

func (e *Error) Error() string {
	s := e.Format + ": " + e.Reason
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at byte %d", e.Offset)
	}
	return s
}

// WithFormat names format in err for a reader of many formats' errors,
// unless err is an *Error, which names its format already ("windows:
// invalid JSON…", not "windows: windows: invalid JSON…").
func WithFormat(format string, err error) error {
	var de *Error
	if err == nil || errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("%s: %w", format, err)
}

// Factory makes a fresh Decoder.
type Factory func() Decoder

var (
	mu       sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a format available under name. Decoder packages call it
// from init; cmd/vigil imports them for their side effect.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("decode: format registered twice: " + name)
	}
	registry[name] = f
}

// New returns a fresh decoder of format name.
func New(name string) (Decoder, error) {
	mu.RLock()
	f, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown format %q (known: %v)", name, Formats())
	}
	return f(), nil
}

// Known reports whether format name is registered.
func Known(name string) bool {
	mu.RLock()
	defer mu.RUnlock()
	_, ok := registry[name]
	return ok
}

// Formats lists the registered formats, sorted.
func Formats() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Options configure a decoder for one source. The zero value is the
// default.
type Options struct {
	// Location is the zone of time stamps that carry none (RFC 3164 syslog,
	// auth.log, access logs without offset); UTC when nil.
	Location *time.Location
	// Mapping maps a source field (dotted name) to a common field's ECS
	// name, for formats that take one (generic JSON).
	Mapping map[string]string
	// Fields names the fields of a delimited text record in order, for
	// formats whose field list is configurable (AWS VPC flow logs' custom
	// formats); the format's default when nil.
	Fields []string
	// Layout is the layout of a web server's access log lines, for the
	// accesslog format: a named layout (combined, vhost_combined, nginx's
	// main …), an Apache LogFormat string or an nginx log_format string;
	// Common/Combined with or without a virtual host when empty.
	Layout string
}

// Configurable is implemented by decoders that take per-source Options.
// The caller configures a fresh decoder once, before the first Decode.
type Configurable interface {
	Configure(Options) error
}

// Expander is implemented by decoders whose one record holds several
// events — flow logs hold many flow tuples a record. The caller then calls
// Expand instead of Decode. Expand decodes the record's events one after the
// other into ev and calls emit after each; the event is valid only until
// emit returns (ev is reset and reused for the next). ev arrives as for
// Decode; Expand resets it (event.Event.ResetFor) before each event and
// gives the i-th event (from 0) the id event.SubID(rec id, i). A record that
// cannot be decoded returns an *Error; events emitted before it stand.
type Expander interface {
	Expand(rec []byte, ev *event.Event, emit func(*event.Event)) error
}

// Joiner is implemented by decoders of line formats whose one record may
// span several lines: a PostgreSQL message continued on tab-indented lines
// or followed by its DETAIL and STATEMENT lines, a csvlog record with a
// newline inside quotes, a MySQL general-log query written over several
// lines. Framing (ingest's text bodies, file tailing) asks Continues of each
// line after a record's first: rec is the record so far (its lines joined by
// '\n'), line the next line without its line end. True appends line to rec.
// Continues reads no decoder state, so one value may serve many goroutines;
// it must be cheap and must not keep rec or line.
type Joiner interface {
	Continues(rec, line []byte) bool
}

var joiners sync.Map // format name → Joiner, or nil when it has none

// JoinerFor returns the Joiner of format name, nil when its records are one
// line each (or the format is unknown).
func JoinerFor(name string) Joiner {
	if j, ok := joiners.Load(name); ok {
		j, _ := j.(Joiner)
		return j
	}
	d, err := New(name)
	if err != nil {
		return nil
	}
	j, _ := d.(Joiner)
	joiners.Store(name, j)
	return j
}

// Sniffer scores how likely rec is of a format, from 0 (not at all) to 100
// (certain), for `vigil scan` and sources that name no format. It must be
// cheap: it runs on the first records of a file or stream.
type Sniffer func(rec []byte) int

var sniffers = map[string]Sniffer{}

// RegisterSniffer adds the sniffer of format name (from the decoder
// package's init, beside Register).
func RegisterSniffer(name string, s Sniffer) {
	mu.Lock()
	defer mu.Unlock()
	sniffers[name] = s
}

// Sniff returns the format whose sniffer scores rec highest, and the score;
// ("", 0) when none claims it. Ties go to the format first in name order,
// so the answer is stable.
func Sniff(rec []byte) (string, int) {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(sniffers))
	for n := range sniffers {
		names = append(names, n)
	}
	sort.Strings(names)
	best, score := "", 0
	for _, n := range names {
		if s := sniffers[n](rec); s > score {
			best, score = n, s
		}
	}
	return best, score
}
