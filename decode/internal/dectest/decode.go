package dectest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// DecodeFile decodes testdata/name, one record, with d into an event bound
// to dict; it fails the test if d refuses it.
func DecodeFile(tb testing.TB, d decode.Decoder, name string, dict *event.Dict) *event.Event {
	tb.Helper()
	rec, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev event.Event
	ev.Fields.Bind(dict)
	if err := d.Decode(rec, &ev); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return &ev
}

// DecodeLine decodes line with d into an event bound to an open Dict and
// received at received.
func DecodeLine(d decode.Decoder, line string, received time.Time) (*event.Event, error) {
	var ev event.Event
	ev.Received = received
	ev.Fields.Bind(event.NewOpenDict())
	err := d.Decode([]byte(line), &ev)
	return &ev, err
}

// DecodeAs decodes rec with a new decoder of format into an event bound to
// an open Dict.
func DecodeAs(tb testing.TB, format string, rec []byte) (*event.Event, error) {
	tb.Helper()
	d, err := decode.New(format)
	if err != nil {
		tb.Fatal(err)
	}
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	err = d.Decode(rec, &ev)
	return &ev, err
}

// Values returns every value of the field name, nil when it is not set.
func Values(ev *event.Event, name string) []string {
	id, ok := ev.Fields.Dict().ID(name)
	if !ok {
		return nil
	}
	var vs []string
	ev.Fields.Each(id, func(v string) bool { vs = append(vs, v); return true })
	return vs
}
