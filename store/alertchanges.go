package store

import (
	"context"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// ChangeKind is what happened to an alert.
type ChangeKind string

const (
	// ChangeCreated: a commit started the alert.
	ChangeCreated ChangeKind = "created"
	// ChangeUpdated: a commit added signals to an open alert.
	ChangeUpdated ChangeKind = "updated"
	// ChangeStatus: its status (or classification) was changed, through
	// the API, the CLI or vigil itself (source health).
	ChangeStatus ChangeKind = "status"
)

// AlertChange is one entry of the alert stream: what incident
// correlation, automation and notifications consume. Changes are written
// in the transaction that made them, so the stream holds exactly what was
// committed: a batch delivered again (and skipped) appends nothing.
type AlertChange struct {
	// Seq orders the stream; it only grows, never reused (purged
	// changes included).
	Seq       int64        `json:"seq"`
	Workspace string       `json:"workspace"`
	AlertID   string       `json:"alert_id"`
	Kind      ChangeKind   `json:"kind"`
	Status    alert.Status `json:"status"` // the alert's status after the change
	At        time.Time    `json:"at"`
}

// AlertStream is the alert stream in the store, with the cursors of its
// consumers. A consumer reads the changes after its cursor, acts on them,
// then moves its cursor past them: after a restart it resumes after the
// last change it acknowledged (at-least-once delivery; a consumer that
// keeps its effects idempotent by Seq, or writes them with its cursor in
// one transaction, sees each change once). Both stores implement it; their
// conformance tests are storetest.RunPeople.
type AlertStream interface {
	// AlertChanges returns up to limit changes (default 100, at most
	// 1000) with Seq after afterSeq, in Seq order, of every workspace.
	AlertChanges(ctx context.Context, afterSeq int64, limit int) ([]AlertChange, error)
	// ConsumerCursor is the Seq of the last change consumer name
	// acknowledged: 0 for a consumer never seen.
	ConsumerCursor(ctx context.Context, name string) (int64, error)
	// SetConsumerCursor acknowledges the changes up to seq for consumer
	// name. A cursor never moves back: setting an older seq (a retry
	// after a restart) leaves it where it is.
	SetConsumerCursor(ctx context.Context, name string, seq int64) error
	// AlertChangesSignal returns a channel closed when changes are
	// appended after the call, so that a consumer need not poll fast.
	AlertChangesSignal() <-chan struct{}
	// PurgeAlertChanges deletes the changes every consumer has
	// acknowledged, and those made before before whatever the consumers
	// (a consumer gone for longer than the horizon loses them). It
	// returns how many went.
	PurgeAlertChanges(ctx context.Context, before time.Time) (int64, error)
}
