package sqlite

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// TestAggregationWindow: a signal with its rule's window joins the open
// alert of its key only while that alert was last seen within the window;
// without one, the store's dedup window (24h by default) applies.
func TestAggregationWindow(t *testing.T) {
	db, _ := openTest(t)
	b := batch("acme", "s")
	for _, at := range []time.Duration{0, 30 * time.Minute, 80 * time.Minute, 3 * time.Hour} {
		e := ev("acme", "s", t0.Add(at), "h1", "u", "10.0.0.1")
		b.Events = append(b.Events, e)
		w := sig("acme", "r-window", alert.Medium, "h1", e)
		w.Window = time.Hour
		d := sig("acme", "r-default", alert.Medium, "h1", e)
		b.Signals = append(b.Signals, w, d)
	}
	commit(t, db, b)
	counts := map[string][]int{}
	for _, a := range allAlerts(t, db, "acme", store.AlertQuery{Limit: 100}) {
		counts[a.Rule.ID] = append(counts[a.Rule.ID], a.Count)
	}
	// r-window: 0, 30m, 80m (50m after 30m) join; 3h (100m after 80m) starts anew.
	if got := counts["r-window"]; len(got) != 2 || got[0]+got[1] != 4 || (got[0] != 3 && got[1] != 3) {
		t.Errorf("r-window alerts of counts %v, want 3 and 1", got)
	}
	if got := counts["r-default"]; len(got) != 1 || got[0] != 4 {
		t.Errorf("r-default alerts of counts %v, want one of 4", got)
	}
}
