package dectest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// CheckCommon fails t, saying where, for each common field of ev that
// differs from want, by ECS name ("@timestamp" for the time, RFC 3339): a
// "" in want is not checked and "-" wants the field unset, so that compact
// tables of expectations can leave out what a case is not about.
func CheckCommon(t testing.TB, where string, ev *event.Event, want map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		w, got := want[name], ""
		if name == "@timestamp" {
			if !ev.Time.IsZero() {
				got = ev.Time.Format(time.RFC3339)
			}
		} else if id, ok := event.CommonID(name); ok {
			got = ev.Common[id]
		} else {
			t.Fatalf("no common field %s", name)
		}
		switch {
		case w == "":
		case w == "-" && got != "":
			t.Errorf("%s: %s = %q, want none", where, name, got)
		case w != "-" && got != w:
			t.Errorf("%s: %s = %q, want %q", where, name, got, w)
		}
	}
}
