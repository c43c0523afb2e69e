package store

import (
	"context"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// IncidentQuery selects incidents of one workspace.
type IncidentQuery struct {
	Stage       []incident.Stage
	Status      []incident.Status
	MinSeverity *alert.Severity
	Owner       string
	Tag         string
	Entity      string    // an entity value, compared as its type compares (EntityIgnoresCase)
	Since       time.Time // last_seen at or after
	Until       time.Time // last_seen before
	Limit       int       // default 100, at most 1000
	Cursor      string
	// Sort is IncidentSortLastSeen (the default) or IncidentSortPriority.
	Sort string
	// Text keeps incidents whose title or an entity value holds it
	// (ASCII letters without regard to case), or whose id it is.
	Text string
}

// Incident orders (IncidentQuery.Sort).
const (
	IncidentSortLastSeen = "last_seen"
	IncidentSortPriority = "priority"
)

// TimelineQuery pages an incident's timeline, oldest first.
type TimelineQuery struct {
	Limit  int // default 100, at most 1000
	Cursor string
}

// IncidentUpdate is what incident correlation writes for one incident:
// its new state, the alerts that joined it and the timeline entries the
// change makes.
type IncidentUpdate struct {
	Incident incident.Incident
	New      bool // created by this update
	Reopened bool // reopened by this update
	// AddAlerts are the ids of alerts that joined it (an alert belongs to
	// one incident at a time).
	AddAlerts []string
	Timeline  []incident.TimelineEntry
}

// IncidentChangeKind is what happened to an incident, as the incident
// stream tells it.
type IncidentChangeKind string

const (
	IncidentCreated  IncidentChangeKind = "created"  // by correlation or by hand
	IncidentUpdated  IncidentChangeKind = "updated"  // alerts joined, owner, tags, severity, tasks, comments, assessment
	IncidentStaged   IncidentChangeKind = "stage"    // moved to another stage (closing and reopening included)
	IncidentMerged   IncidentChangeKind = "merged"   // other incidents were merged into it, or it into another
	IncidentSplit    IncidentChangeKind = "split"    // alerts split off it into a new incident
	IncidentReopened IncidentChangeKind = "reopened" // a new alert reopened it
)

// IncidentChange is one entry of the incident stream: what automation,
// notifications and the assessment consume, written in the transaction
// that made the change (as AlertChange is).
type IncidentChange struct {
	Seq        int64              `json:"seq"`
	Workspace  string             `json:"workspace"`
	IncidentID string             `json:"incident_id"`
	Kind       IncidentChangeKind `json:"kind"`
	Stage      incident.Stage     `json:"stage"` // the stage after the change
	Actor      string             `json:"actor"`
	At         time.Time          `json:"at"`
}

// Incidents keeps incidents: read, worked by responders, and their stream.
// Both stores implement it. Every write also appends to the incident
// stream and, for human and automated actions, the audit log, in the same
// transaction.
type Incidents interface {
	Incidents(ctx context.Context, workspace string, q IncidentQuery) (incidents []incident.Incident, next string, err error)
	// CountIncidents counts the incidents q's filters match (its Limit,
	// Cursor and Sort aside).
	CountIncidents(ctx context.Context, workspace string, q IncidentQuery) (int, error)
	Incident(ctx context.Context, workspace, id string) (incident.Incident, error)
	// IncidentAlerts returns the ids of the incident's alerts, oldest
	// first.
	IncidentAlerts(ctx context.Context, workspace, id string) ([]string, error)
	// IncidentOfAlerts maps each of the alert ids that belongs to an
	// incident to its incident's id.
	IncidentOfAlerts(ctx context.Context, workspace string, alertIDs []string) (map[string]string, error)
	// Timeline pages the incident's stored timeline, oldest first.
	Timeline(ctx context.Context, workspace, id string, q TimelineQuery) (entries []incident.TimelineEntry, next string, err error)
	// SimilarIncidents lists up to limit other incidents of the
	// workspace most like this one (shared rules and entities), best
	// first.
	SimilarIncidents(ctx context.Context, workspace, id string, limit int) ([]incident.Similar, error)

	// CreateIncident creates an incident by hand from alerts (moving them
	// out of the incidents they were in), as actor.
	CreateIncident(ctx context.Context, workspace, title string, alertIDs []string, actor string) (incident.Incident, error)
	// AddAlerts adds alerts to an incident by hand, as actor.
	AddAlerts(ctx context.Context, workspace, id string, alertIDs []string, actor string) (incident.Incident, error)
	// ChangeIncident applies a change (incident.Apply) in one
	// transaction, as actor: ErrInvalid wrapping the *incident.StageError
	// (or the reason) when the change is refused.
	ChangeIncident(ctx context.Context, workspace, id string, ch incident.Change, actor string) (incident.Incident, error)
	// MergeIncidents moves the alerts of from into into; the merged
	// incidents are closed with MergedInto set.
	MergeIncidents(ctx context.Context, workspace, into string, from []string, actor string) (incident.Incident, error)
	// SplitIncident moves alertIDs out of the incident into a new one,
	// which it returns.
	SplitIncident(ctx context.Context, workspace, id string, alertIDs []string, actor string) (incident.Incident, error)
	// TaskTemplates returns the workspace's task templates
	// (incident.DefaultTaskTemplates when it has none); SetTaskTemplates
	// replaces them.
	TaskTemplates(ctx context.Context, workspace string) ([]incident.TaskTemplate, error)
	SetTaskTemplates(ctx context.Context, workspace string, t []incident.TaskTemplate, actor string) error
	// AppendTimeline adds entries written by vigil (automation, playbooks,
	// decisions) to an incident's timeline.
	AppendTimeline(ctx context.Context, workspace, id string, entries []incident.TimelineEntry) error
	// SetAssessment stores an automatic assessment: the sections the
	// stored one has Locked are kept as they are.
	SetAssessment(ctx context.Context, workspace, id string, a incident.Assessment) error

	// IncidentChanges returns up to limit changes (default 100, at most
	// 1000) with Seq after afterSeq, in Seq order, of every workspace;
	// IncidentChangesSignal is closed when a commit appended changes.
	// Consumers keep their cursors with AlertStream's ConsumerCursor and
	// SetConsumerCursor, under names of their own.
	IncidentChanges(ctx context.Context, afterSeq int64, limit int) ([]IncidentChange, error)
	IncidentChangesSignal() <-chan struct{}
}

// IncidentCorrelation is what incident correlation needs of the store
// besides Incidents.
type IncidentCorrelation interface {
	// ApplyIncidents writes correlation's updates and moves consumer's
	// cursor to seq, in one transaction: after a crash the consumer
	// resumes exactly after the last changes it applied.
	ApplyIncidents(ctx context.Context, consumer string, seq int64, ups []IncidentUpdate) error
	// CorrelationCandidates returns, for the correlator's warm-up, the
	// incidents of every workspace that are open or were closed at or
	// after closedSince (merged ones aside).
	CorrelationCandidates(ctx context.Context, closedSince time.Time) ([]incident.Incident, error)
}
