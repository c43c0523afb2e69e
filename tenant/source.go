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
//
// Quarantined holds the source's records: while it is set, every record
// of the source goes to the quarantine, not to decoding and detection
// (an operator isolates a source that floods or sends what it should
// not, and releases it when fixed).
type Source struct {
	Workspace   string          `json:"workspace"`
	Name        string          `json:"name"`
	Format      string          `json:"format"`
	Logsource   event.Logsource `json:"logsource"`
	TimeZone    string          `json:"timezone,omitempty"`
	Created     time.Time       `json:"created"`
	LastSeen    *time.Time      `json:"last_seen,omitempty"`
	Events      int64           `json:"events"`
	Rejected    int64           `json:"rejected"`
	Quarantined bool            `json:"quarantined"`
}

// ErrSourceLimit refuses a source that ingest would create on first use
// when its workspace has as many sources as ingest may create.
var ErrSourceLimit = errors.New("the workspace has as many sources as ingest may create")
