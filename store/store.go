// Package store defines what vigil keeps and how it is asked for: workspaces,
// API keys and sources (their records are package tenant's), events,
// alerts and the audit log. Implementations live in
// packages named for their database (store/sqlite; store/postgres later).
// Every row belongs to a workspace, and every read names one.
package store

import (
	"context"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// Errors the implementations return (wrapped) so that callers can tell them
// apart with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
	// ErrLastAdminKey refuses to revoke a workspace's last live admin
	// key: the workspace would have no way back in through the API. It is
	// an ErrConflict.
	ErrLastAdminKey error = lastAdminKey{}
)

type lastAdminKey struct{}

func (lastAdminKey) Error() string {
	return "it is the workspace's last admin key: create another admin key first"
}

func (lastAdminKey) Is(target error) bool { return target == ErrConflict }

// StoredEvent is an event as the store keeps it: its place and time, the
// common fields (indexed for entity search) and the raw record, from which
// the source's own fields are decoded again when read.
type StoredEvent struct {
	ID        event.ID
	Workspace string
	Source    string
	Format    string
	Logsource event.Logsource
	Time      time.Time
	Received  time.Time
	Common    [event.NumCommon]string
	Raw       []byte
}

// Batch is what the detect stage commits for one bus batch. Strings may
// alias the batch's buffers: the store copies what it keeps before Commit
// returns.
type Batch struct {
	ID        event.ID // the bus batch id: a batch is committed once
	Workspace string
	Source    string
	Format    string
	Received  time.Time
	Events    []StoredEvent
	Signals   []alert.Signal
	Rejected  int // records that did not decode (counted on the source)
	// Quarantined are the rejected records themselves, kept for a while so
	// that an operator can see what was refused and why.
	Quarantined []Quarantined
	// Suppressed counts the signals suppressions kept from alerting, by
	// suppression and rule: Commit adds them to the suppressions' hits
	// and the rules' counts (once, as the batch is committed once).
	Suppressed []suppress.Hit
	// Correlation is the batch's input to the correlator (encoded
	// matches), and CorrelationGroup names the group of batches the detect
	// stage correlated together: Commit journals them when the batch is
	// new and sets JournalSeq to the journal entry's place, so that a
	// detect stage killed before saving its correlator state can feed them
	// again (CorrelationJournal). Empty: nothing is journalled.
	Correlation      []byte
	CorrelationGroup event.ID
	JournalSeq       int64
	// CorrelationParts is the batch's input to partitioned correlators
	// (several detect workers): the matches of each partition apart.
	// Commit journals them when the batch is new, in the batch's
	// transaction, each partition's entry on its own (PartitionJournal).
	CorrelationParts []PartitionInput
}

// PartitionInput is a batch's correlator input for one partition.
type PartitionInput struct {
	Part int
	Data []byte // encoded matches
}

// JournalEntry is a committed batch's input to the correlator, as the
// correlation journal keeps it until the correlator state that includes it
// is saved.
type JournalEntry struct {
	Seq   int64
	Part  int      // the partition (partitioned journal only)
	Group event.ID // the batches correlated together share it
	Batch event.ID
	Data  []byte
}

// Quarantined is a record the detect stage could not decode.
type Quarantined struct {
	ID     event.ID
	Line   int
	Reason string
	Raw    []byte
}

// MaxQuarantinedRaw caps the bytes of a quarantined record that are kept.
const MaxQuarantinedRaw = 64 << 10

// MaxQuarantineReason caps the bytes of a quarantined record's reason that
// are kept: a reason may quote the record's values, which the record
// itself (kept to MaxQuarantinedRaw) already holds.
const MaxQuarantineReason = 1 << 10

// CapReason cuts a reason longer than MaxQuarantineReason on a rune
// boundary and says so: "…… (reason of N bytes cut)".
func CapReason(r string) string {
	if len(r) <= MaxQuarantineReason {
		return r
	}
	n := MaxQuarantineReason
	for n > 0 && !utf8.RuneStart(r[n]) {
		n--
	}
	return r[:n] + "… (reason of " + strconv.Itoa(len(r)) + " bytes cut)"
}

// QuarantineEntry is a quarantined record as the store returns it.
type QuarantineEntry struct {
	ID        int64     `json:"id"`
	Workspace string    `json:"workspace"`
	Source    string    `json:"source"`
	Format    string    `json:"format"`
	BatchID   string    `json:"batch_id"`
	RecordID  string    `json:"record_id"`
	Line      int       `json:"line"`
	Reason    string    `json:"reason"`
	Received  time.Time `json:"received"`
	Raw       string    `json:"raw"`
	Truncated bool      `json:"truncated,omitempty"` // raw cut at MaxQuarantinedRaw bytes
}

// QuarantineQuery selects quarantined records of one workspace, newest
// first.
type QuarantineQuery struct {
	Source string
	Limit  int
	Cursor string
}

// EventQuery selects events of one workspace.
type EventQuery struct {
	From, To time.Time // event time; zero means open
	// Entity, when set, keeps events whose indexed common fields (ip, host,
	// account, process, url, database…) hold this value, compared as each
	// field compares: without regard to case for host names, domains,
	// addresses, accounts and Windows paths, exactly for Unix paths and
	// URLs (FieldIgnoresCase).
	Entity string
	// Entities, when set, keeps events whose indexed common fields hold
	// any of these values, each compared as Entity is (with Entity set
	// too, an event must satisfy both): the events of an incident's
	// entities. At most MaxEventEntities.
	Entities []string
	Source   string
	Limit    int    // default 100, at most 1000
	Cursor   string // from the previous page; empty for the first
}

// MaxEventEntities bounds EventQuery.Entities.
const MaxEventEntities = 1000

// AlertQuery selects alerts of one workspace.
type AlertQuery struct {
	Status      []alert.Status
	MinSeverity *alert.Severity
	RuleID      string
	Entity      string    // an entity value, compared as its type compares (EntityIgnoresCase)
	Since       time.Time // last_seen at or after
	Until       time.Time // last_seen before
	// ThreatType keeps alerts of this threat type (alert.ThreatType).
	ThreatType string
	// Source keeps alerts a signal of this source joined.
	Source string
	// Country keeps alerts whose origin is in this country (ISO 3166
	// alpha-2, as alert.Origin writes it).
	Country string
	Limit   int // default 100, at most 1000
	Cursor  string
	// Sort is the order: AlertSortLastSeen (the default when empty) or
	// AlertSortPriority. A cursor is valid only for the order it came
	// from.
	Sort string
}

// Alert orders (AlertQuery.Sort).
const (
	// AlertSortLastSeen: last seen first, then by id descending.
	AlertSortLastSeen = "last_seen"
	// AlertSortPriority: highest priority first, then last seen first,
	// then by id descending.
	AlertSortPriority = "priority"
)

// SourceQuery pages a workspace's sources, by name.
type SourceQuery struct {
	Limit  int    // default 100, at most 1000
	Cursor string // from the previous page; empty for the first
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID        int64     `json:"id"`
	Workspace string    `json:"workspace"` // empty for refused authentications that name none
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`  // "key:<id>", "cli", "demo", "config" (the config file, at start), vigil itself ("vigil:…"), or the remote address of a refused request
	Action    string    `json:"action"` // e.g. key.create, key.revoke, alert.status, workspace.tier, auth.refused
	Target    string    `json:"target"`
	Detail    string    `json:"detail,omitempty"`
	// Count is how many times it happened: repeats within an interval
	// (refused authentications of one address and reason) share a line.
	// Last is the time of the last repeat, absent when Count is 1.
	Count int        `json:"count"`
	Last  *time.Time `json:"last,omitempty"`
}

// AuditQuery selects audit entries of one workspace.
type AuditQuery struct {
	Limit  int
	Cursor string
}

// Store is everything vigil keeps. Implementations are safe for concurrent
// use.
type Store interface {
	CreateWorkspace(ctx context.Context, name, tier string) (tenant.Workspace, error)
	Workspace(ctx context.Context, name string) (tenant.Workspace, error)
	Workspaces(ctx context.Context) ([]tenant.Workspace, error)
	// SetWorkspaceTier changes a workspace's tier and writes the audit
	// entry (workspace.tier, old -> new, by actor) in the same
	// transaction; it returns the workspace as it was. Setting the tier it
	// has changes and audits nothing.
	SetWorkspaceTier(ctx context.Context, name, tier, actor string) (old tenant.Workspace, err error)

	CreateKey(ctx context.Context, k tenant.APIKey) error
	// KeyByHash returns the key with this secret hash, revoked or not.
	KeyByHash(ctx context.Context, hash []byte) (tenant.APIKey, error)
	Keys(ctx context.Context, workspace string) ([]tenant.APIKey, error)
	RevokeKey(ctx context.Context, workspace, id string, at time.Time) error
	TouchKey(ctx context.Context, id string, at time.Time) error
	// RotateKey stores successor, a new key of the workspace, and has key
	// id expire at oldExpires (or when it expires already, if earlier), in
	// one transaction. A revoked key is not rotated (ErrInvalid).
	RotateKey(ctx context.Context, workspace, id string, successor tenant.APIKey, oldExpires time.Time) error

	PutSource(ctx context.Context, s tenant.Source) error
	Source(ctx context.Context, workspace, name string) (tenant.Source, error)
	Sources(ctx context.Context, workspace string) ([]tenant.Source, error)
	// SourcePage lists a workspace's sources by name, a page at a time.
	SourcePage(ctx context.Context, workspace string, q SourceQuery) (sources []tenant.Source, next string, err error)
	// CreateSource creates s, as ingest does on a source's first use:
	// ErrConflict when a source of its name exists, tenant.ErrSourceLimit
	// when max > 0 and the workspace holds max sources already.
	CreateSource(ctx context.Context, s tenant.Source, max int) error

	// Commit stores batches in one transaction: their events, their signals
	// merged into alerts (by dedup key, into the open alert of the key that
	// was last seen within the dedup window, else a new alert), and the
	// sources' counters. A batch whose ID was committed before is skipped,
	// so a bus replay neither duplicates events nor doubles alerts, even
	// when retention purged its events meanwhile. It
	// returns how many batches were new.
	Commit(ctx context.Context, batches []*Batch) (int, error)

	Events(ctx context.Context, workspace string, q EventQuery) (events []StoredEvent, next string, err error)
	Event(ctx context.Context, workspace string, id event.ID) (StoredEvent, error)

	Alerts(ctx context.Context, workspace string, q AlertQuery) (alerts []alert.Alert, next string, err error)
	// CountAlerts counts the alerts of workspace that q's filters match
	// (its Limit, Cursor and Sort aside).
	CountAlerts(ctx context.Context, workspace string, q AlertQuery) (int, error)
	Alert(ctx context.Context, workspace, id string) (alert.Alert, error)
	SetAlertStatus(ctx context.Context, workspace, id string, status alert.Status, actor string) (alert.Alert, error)

	Audit(ctx context.Context, e AuditEntry) error
	// AuditRepeat adds e.Count (at least 1) to the line of the same
	// workspace, actor, action, target and detail written at or after
	// since, or writes e as a new line when there is none.
	AuditRepeat(ctx context.Context, e AuditEntry, since time.Time) error
	// PurgeAudit deletes the audit lines last written before before.
	PurgeAudit(ctx context.Context, before time.Time) (int64, error)
	AuditLog(ctx context.Context, workspace string, q AuditQuery) (entries []AuditEntry, next string, err error)

	// PurgeEvents deletes the events received before before (retention),
	// whatever time stamps the events carry: history loaded today is kept
	// as long as live events are. Events an open alert (new or active)
	// names as evidence are kept, with the other events received in the
	// same batch, until the alert is resolved or dismissed. The sources'
	// Events counters are lowered by what went. It returns how many events
	// went.
	PurgeEvents(ctx context.Context, before time.Time) (int64, error)
	// PurgeCommittedBatches forgets the ids of batches committed before
	// before, by which Commit recognises a batch delivered again. They are
	// kept apart from the events (PurgeEvents leaves them), for as long as
	// the bus may deliver a batch again; it returns how many went.
	PurgeCommittedBatches(ctx context.Context, before time.Time) (int64, error)

	// Quarantine lists the records that failed to decode.
	Quarantine(ctx context.Context, workspace string, q QuarantineQuery) (entries []QuarantineEntry, next string, err error)
	// PurgeQuarantine deletes quarantined records received before before,
	// and the oldest beyond keep per workspace (keep <= 0: no cap).
	PurgeQuarantine(ctx context.Context, before time.Time, keep int) (int64, error)

	Close() error
}
