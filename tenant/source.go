package tenant

import (
	"errors"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Source is a named feed of records in a workspace, with its format.
//
// Events counts the source's events the store holds: raised as batches are
// committed, lowered as retention purges them, so it agrees with what an
// event query by source can still find. Rejected counts every record of
// the source a decoder refused since the source was created; it is not
// lowered when quarantined records age out.
type Source struct {
	Workspace string          `json:"workspace"`
	Name      string          `json:"name"`
	Format    string          `json:"format"`
	Logsource event.Logsource `json:"logsource"`
	TimeZone  string          `json:"timezone,omitempty"`
	Created   time.Time       `json:"created"`
	LastSeen  *time.Time      `json:"last_seen,omitempty"`
	Events    int64           `json:"events"`
	Rejected  int64           `json:"rejected"`
	SourceControls
}

// SourceControls are what an admin sets on a running source, beyond its
// format.
//
// Quarantined holds the source's records: while it is set, every record
// of the source goes to the quarantine, not to decoding and detection
// (an operator isolates a source that floods or sends what it should
// not, and releases it when fixed). SilentAfter, when not zero, is the
// shortest silence that raises a "source fell silent" alert for it (over
// the server's silence-floor and the configuration's silent-after);
// NoSilenceAlert turns that alert off.
type SourceControls struct {
	Quarantined    bool          `json:"quarantined"`
	SilentAfter    time.Duration `json:"-"`
	NoSilenceAlert bool          `json:"-"`
}

// ErrSourceLimit refuses a source that ingest would create on first use
// when its workspace has as many sources as ingest may create.
var ErrSourceLimit = errors.New("the workspace has as many sources as ingest may create")
