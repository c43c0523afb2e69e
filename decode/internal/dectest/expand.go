package dectest

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Snapshot is a copy of what an event held, made to outlast the record:
// an Expander reuses its event from one emit to the next.
type Snapshot struct {
	ID        event.ID
	Time      time.Time
	Logsource event.Logsource
	Common    map[string]string   // the common fields set, by ECS name
	Fields    map[string][]string // every value of the fields set
}

// Field returns the first value of the field name.
func (s Snapshot) Field(name string) string {
	if vs := s.Fields[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// snap copies ev.
func snap(ev *event.Event) Snapshot {
	s := Snapshot{ID: ev.ID, Time: ev.Time, Logsource: ev.Logsource, Common: map[string]string{}, Fields: map[string][]string{}}
	for i, v := range ev.Common {
		if v != "" {
			s.Common[event.CommonName(i)] = strings.Clone(v)
		}
	}
	dict := ev.Fields.Dict()
	for _, id := range ev.Fields.IDs() {
		name := dict.Name(id)
		ev.Fields.Each(id, func(v string) bool {
			s.Fields[name] = append(s.Fields[name], strings.Clone(v))
			return true
		})
	}
	return s
}

// Expand runs recs through d, an Expander, as a source's records are (one
// decoder, one open Dict, a new id a record), and returns the events they
// give, up to the first record d refuses and its error.
func Expand(tb testing.TB, d decode.Decoder, recs [][]byte) ([]Snapshot, error) {
	tb.Helper()
	x, ok := d.(decode.Expander)
	if !ok {
		tb.Fatalf("%T is not an Expander", d)
	}
	dict := event.NewOpenDict()
	var out []Snapshot
	for _, rec := range recs {
		var ev event.Event
		ev.Fields.Bind(dict)
		ev.ID = event.NewID()
		if err := x.Expand(rec, &ev, func(e *event.Event) { out = append(out, snap(e)) }); err != nil {
			return out, err
		}
	}
	return out, nil
}
