package api

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// FuzzTimelineCursor: any cursor either is refused or names a place that
// encodes back to a cursor naming the same place; none panics.
func FuzzTimelineCursor(f *testing.F) {
	stored := timelineItem{entry: incident.TimelineEntry{Seq: 7, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Kind: incident.TimelineComment}, key: storedKey(7)}
	evidence := timelineItem{entry: incident.TimelineEntry{Time: time.Unix(0, -5).UTC(), Kind: incident.TimelineEvidence}, key: "~|al-1/01JQ/0"}
	for _, s := range []string{timelineCursor(stored), timelineCursor(evidence), "", "!!", "MXwxfA", "OTIyMzM3MjAzNjg1NDc3NTgwOHwwfHg", "LTF8fg"} {
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
		if compareItems(it, again) != 0 || it.key != again.key {
			t.Fatalf("cursor %q names %+v, its encoding %+v", c, it, again)
		}
	})
}

// TestTimelineOrder: at one time stamp, each alert's evidence follows its
// own "alert" entry, stored entries keep their store order, and evidence
// of another time sits by its time.
func TestTimelineOrder(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stored := []incident.TimelineEntry{
		{Seq: 1, Time: at, Kind: incident.TimelineAlert, AlertID: "A"},
		{Seq: 2, Time: at, Kind: incident.TimelineAlert, AlertID: "B"},
		{Seq: 3, Time: at, Kind: incident.TimelineComment},
		{Seq: 4, Time: at.Add(-time.Second), Kind: incident.TimelineCreated},
	}
	joined := map[alertEntry]int64{}
	var items []timelineItem
	for _, e := range stored {
		items = append(items, timelineItem{entry: e, key: storedKey(e.Seq)})
		if e.Kind == incident.TimelineAlert {
			joined[alertEntry{e.AlertID, e.Time.UnixNano()}] = e.Seq
		}
	}
	items = append(items, evidenceEntries("i", alert.Alert{ID: "B", Evidence: []alert.Evidence{{EventID: "b1", Time: at}, {EventID: "b2", Time: at.Add(time.Second)}}}, joined)...)
	items = append(items, evidenceEntries("i", alert.Alert{ID: "A", Evidence: []alert.Evidence{{EventID: "a1", Time: at}}}, joined)...)
	slices.SortStableFunc(items, compareItems)
	var got []string
	for _, it := range items {
		got = append(got, it.entry.Kind+":"+it.entry.AlertID+it.entry.EventID)
	}
	want := "created:,alert:A,evidence:Aa1,alert:B,evidence:Bb1,comment:,evidence:Bb2"
	if strings.Join(got, ",") != want {
		t.Errorf("order %s\nwant  %s", strings.Join(got, ","), want)
	}
	// Each place's cursor names it: the items after it are those after it.
	for i, it := range items {
		c, err := parseTimelineCursor(timelineCursor(it))
		if err != nil {
			t.Fatal(err)
		}
		n, found := slices.BinarySearchFunc(items, c, compareItems)
		if !found || n != i {
			t.Errorf("cursor of item %d finds %d (%v)", i, n, found)
		}
	}
}
