package store

import "fmt"

// Why a change of the correlation partition count (the stores'
// RepartitionCorrelation) is refused: each wraps ErrConflict, so that the
// worker asking tries again while the old workers stop.

// RepartitionBusy: a worker still holds the lease named holder.
func RepartitionBusy(holder string) error {
	return fmt.Errorf("change the correlation partitions: lease %s is held: stop every detect worker first: %w", holder, ErrConflict)
}

// RepartitionUnsaved: pending journalled matches are in no partition's
// saved state.
func RepartitionUnsaved(pending int64) error {
	return fmt.Errorf("change the correlation partitions: %d journalled matches are in no partition's saved state (a worker stopped without saving): start the workers with the old count and stop them cleanly first: %w", pending, ErrConflict)
}
