package store

import (
	"context"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/suppress"
)

// Noise is noise control in the store: a workspace's suppressions (their
// hits are counted by Commit, from Batch.Suppressed), the classification
// of a status change, and per-rule counts. The SQLite store implements it.
type Noise interface {
	// Suppressions lists a workspace's suppressions, oldest first,
	// expired ones included, with their hit counts.
	Suppressions(ctx context.Context, workspace string) ([]suppress.Suppression, error)
	Suppression(ctx context.Context, workspace, id string) (suppress.Suppression, error)
	// CreateSuppression validates and stores s (its ID, Created and
	// Updated are set when empty) and writes the audit entry
	// suppression.create by actor in the same transaction.
	CreateSuppression(ctx context.Context, s suppress.Suppression, actor string) (suppress.Suppression, error)
	// UpdateSuppression replaces the conditions, reason and expiry of
	// suppression s.ID, keeping its author, creation time and hits, and
	// audits suppression.update.
	UpdateSuppression(ctx context.Context, s suppress.Suppression, actor string) (suppress.Suppression, error)
	// DeleteSuppression deletes it and audits suppression.delete.
	DeleteSuppression(ctx context.Context, workspace, id, actor string) error

	// ClassifyAlert is SetAlertStatus with the reason of the change
	// (alert.Reason): a dismissal as false_positive counts against the
	// rule in RuleStats. An empty reason clears the alert's reason.
	ClassifyAlert(ctx context.Context, workspace, id string, status alert.Status, reason alert.Reason, actor string) (alert.Alert, error)
	// RuleStats counts, per rule of the workspace, its alerts, those
	// dismissed (and as false positives), and the signals suppressions
	// kept from alerting; rules with most alerts first.
	RuleStats(ctx context.Context, workspace string) ([]RuleStats, error)
}

// RuleStats are the noise figures of one rule.
type RuleStats struct {
	Rule           string `json:"rule"`
	Title          string `json:"title,omitempty"`
	Alerts         int64  `json:"alerts"`
	Open           int64  `json:"open"`
	Dismissed      int64  `json:"dismissed"`
	FalsePositives int64  `json:"false_positives"`
	// FalsePositiveRate is FalsePositives over the alerts that were
	// resolved or dismissed (0 when none was).
	FalsePositiveRate float64 `json:"false_positive_rate"`
	Suppressed        int64   `json:"suppressed"`
}
