package dectest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Case is a case of a decoder's table test: the fixture that holds the
// record and what the record's event must hold. The time is always checked
// ("" wants none); the maps and lists only for what they name.
type Case struct {
	File   string              // in testdata
	Line   int                 // of File, from 0, for CheckLines
	Time   string              // RFC 3339
	Common map[string]string   // common fields by ECS name; "" for unset
	Fields map[string][]string // fields by name, every value in order
	Field  map[string]string   // fields by name, the first value
	Absent []string            // fields that must not be set
}

// Check fails t, saying where, for each way ev differs from c.
func (c Case) Check(t testing.TB, where string, ev *event.Event) {
	t.Helper()
	c.checkSnap(t, where, snap(ev))
}

// checkSnap is Check for an event's Snapshot.
func (c Case) checkSnap(t testing.TB, where string, s Snapshot) {
	t.Helper()
	if where != "" {
		where += ": "
	}
	want, _ := time.Parse(time.RFC3339Nano, c.Time)
	if !s.Time.Equal(want) {
		t.Errorf("%stime %v, want %v", where, s.Time, want)
	}
	for name, v := range c.Common {
		if _, ok := event.CommonID(name); !ok {
			t.Fatalf("no common field %s", name)
		}
		if got := s.Common[name]; got != v {
			t.Errorf("%s%s = %q, want %q", where, name, got, v)
		}
	}
	for name, vs := range c.Fields {
		if got := s.Fields[name]; strings.Join(got, "\x00") != strings.Join(vs, "\x00") {
			t.Errorf("%sfield %s = %q, want %q", where, name, got, vs)
		}
	}
	for name, v := range c.Field {
		if got := s.Field(name); got != v {
			t.Errorf("%sfield %s = %q, want %q", where, name, got, v)
		}
	}
	for _, name := range c.Absent {
		if got := s.Fields[name]; got != nil {
			t.Errorf("%sfield %s = %q, want absent", where, name, got)
		}
	}
}

// CheckFixtures decodes each fixture with a new decoder into an event bound
// to an open Dict, in a subtest named after the file, and checks it and
// its logsource.
func CheckFixtures(t *testing.T, newDecoder func() decode.Decoder, logsource event.Logsource, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			ev := DecodeFile(t, newDecoder(), c.File, event.NewOpenDict())
			if ev.Logsource != logsource {
				t.Errorf("logsource %+v, want %+v", ev.Logsource, logsource)
			}
			c.Check(t, "", ev)
		})
	}
}

// CheckLines is CheckFixtures for line formats: a case's record is line
// Line of File, decoded as received at received.
func CheckLines(t *testing.T, newDecoder func() decode.Decoder, received time.Time, logsource event.Logsource, cases []Case) {
	t.Helper()
	files := map[string][]string{}
	for _, c := range cases {
		lines, ok := files[c.File]
		if !ok {
			lines = Lines(t, filepath.Join("testdata", c.File))
			files[c.File] = lines
		}
		where := fmt.Sprintf("%s:%d", c.File, c.Line+1)
		if c.Line >= len(lines) {
			t.Errorf("%s: no such line", where)
			continue
		}
		ev, err := DecodeLine(newDecoder(), lines[c.Line], received)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if ev.Logsource != logsource {
			t.Errorf("%s: logsource %+v, want %+v", where, ev.Logsource, logsource)
		}
		c.Check(t, where, ev)
	}
}

// CheckExpand is CheckFixtures for an Expander: the records of
// testdata/file (see Records) go through one new decoder, and the events
// they give, all of logsource, must be as many as the cases and match
// them in order.
func CheckExpand(t *testing.T, newDecoder func() decode.Decoder, logsource event.Logsource, file string, cases []Case) {
	t.Helper()
	t.Run(file, func(t *testing.T) {
		got, err := Expand(t, newDecoder(), Records(t, file))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(cases) {
			t.Fatalf("%d events, want %d", len(got), len(cases))
		}
		for i, c := range cases {
			where := fmt.Sprintf("event %d", i)
			if got[i].Logsource != logsource {
				t.Errorf("%s: logsource %+v, want %+v", where, got[i].Logsource, logsource)
			}
			c.checkSnap(t, where, got[i])
		}
	})
}
