package store

import (
	"fmt"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

// CheckBatch refuses a batch Commit must not store: no id, no workspace,
// source or format, a negative rejected count, events or signals of another
// workspace, events without id, signals without rule or with a severity out
// of range. Every implementation checks its batches with it, before writing
// anything, so that they refuse the same batches.
func CheckBatch(b *Batch) error {
	if b == nil {
		return fmt.Errorf("nil batch: %w", ErrInvalid)
	}
	if b.ID == (event.ID{}) {
		return fmt.Errorf("batch without id: %w", ErrInvalid)
	}
	if b.Workspace == "" || b.Source == "" || b.Format == "" {
		return fmt.Errorf("batch %s: workspace %q, source %q and format %q must all be set: %w",
			b.ID, b.Workspace, b.Source, b.Format, ErrInvalid)
	}
	if b.Rejected < 0 {
		return fmt.Errorf("batch %s: rejected count %d: %w", b.ID, b.Rejected, ErrInvalid)
	}
	for i := range b.Events {
		e := &b.Events[i]
		if e.Workspace != "" && e.Workspace != b.Workspace {
			return fmt.Errorf("batch %s: event %d (%s) belongs to workspace %q, the batch to %q: %w",
				b.ID, i, e.ID, e.Workspace, b.Workspace, ErrInvalid)
		}
		if e.ID == (event.ID{}) {
			return fmt.Errorf("batch %s: event %d has no id: %w", b.ID, i, ErrInvalid)
		}
	}
	for i := range b.Signals {
		s := &b.Signals[i]
		if s.Workspace != "" && s.Workspace != b.Workspace {
			return fmt.Errorf("batch %s: signal %d (rule %s) belongs to workspace %q, the batch to %q: %w",
				b.ID, i, s.Rule.ID, s.Workspace, b.Workspace, ErrInvalid)
		}
		if s.Rule.ID == "" {
			return fmt.Errorf("batch %s: signal %d has no rule id: %w", b.ID, i, ErrInvalid)
		}
		if s.Severity < alert.Informational || s.Severity > alert.Critical {
			return fmt.Errorf("batch %s: signal %d (rule %s): %v: %w", b.ID, i, s.Rule.ID, s.Severity, ErrInvalid)
		}
	}
	return nil
}
