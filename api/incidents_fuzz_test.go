package api

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/incident"
)

// FuzzTimelineCursor: any cursor either is refused or names a place that
// encodes back to a cursor naming the same place; none panics.
func FuzzTimelineCursor(f *testing.F) {
	stored := timelineItem{entry: incident.TimelineEntry{Seq: 7, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Kind: incident.TimelineComment}, key: "00000000000000000007"}
	evidence := timelineItem{entry: incident.TimelineEntry{Time: time.Unix(0, -5).UTC(), Kind: incident.TimelineEvidence}, key: "al-1/01JQ/0"}
	for _, s := range []string{timelineCursor(stored), timelineCursor(evidence), "", "!!", "MXwxfA", "OTIyMzM3MjAzNjg1NDc3NTgwOHwwfHg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		it, err := parseTimelineCursor(c)
		if err != nil {
			return
		}
		again, err := parseTimelineCursor(timelineCursor(it))
		if err != nil {
			t.Fatalf("cursor %q parsed, but its encoding %q does not: %v", c, timelineCursor(it), err)
		}
		if compareItems(it, again) != 0 || it.rank() != again.rank() || it.key != again.key {
			t.Fatalf("cursor %q names %+v, its encoding %+v", c, it, again)
		}
	})
}
