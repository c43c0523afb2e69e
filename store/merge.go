package store

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

// SignalOf is s as Commit merges it for batch b: of b's workspace, at b's
// received time when its evidence has none, with its dedup key worked out
// when the detect stage left it empty.
func SignalOf(s alert.Signal, b *Batch) alert.Signal {
	s.Workspace = b.Workspace
	if s.Evidence.Time.IsZero() {
		s.Evidence.Time = b.Received
	}
	if s.DedupKey == "" {
		s.DedupKey = alert.DedupKey(s.Workspace, s.Rule.ID, s.Entities)
	}
	return s
}

// Joins reports whether signal s (as SignalOf made it) joins alert a, the
// open alert of its dedup key seen last (nil: none): a must be open and last
// seen at most the window before s's evidence — the signal's own
// aggregation window when it has one, else the store's dedup window.
// Otherwise s starts a new alert.
func Joins(a *alert.Alert, s alert.Signal, dedupWindow time.Duration) bool {
	if a == nil || !a.Status.Open() {
		return false
	}
	window := dedupWindow
	if s.Window > 0 {
		window = s.Window
	}
	return !a.LastSeen.Before(s.Evidence.Time.Add(-window))
}

// EvidenceID is the stored event an evidence names, if any (evidence of
// offline scans names a file and line instead): retention keeps it while
// its alert is open.
func EvidenceID(e alert.Evidence) (event.ID, bool) {
	if e.EventID == "" {
		return event.ID{}, false
	}
	id, err := event.ParseID(e.EventID)
	return id, err == nil
}

// OpenStatusesSQL is alert.OpenStatuses as an SQL list, "('new', 'active')",
// for stores that write it into queries (a partial index on open alerts
// is used only when the query names its statuses): the definition stays
// in package alert. The statuses are fixed words without quotes, checked
// here once.
var OpenStatusesSQL = func() string {
	open := alert.OpenStatuses()
	quoted := make([]string, len(open))
	for i, s := range open {
		if strings.ContainsAny(string(s), "'\\") {
			panic("alert status " + string(s) + " cannot be written into SQL")
		}
		quoted[i] = "'" + string(s) + "'"
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}()
