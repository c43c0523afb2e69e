package baseline

import (
	"context"
	"time"
)

// Entry is what a model knows of one value of one entity, as the store
// keeps it.
type Entry struct {
	Entity, Value string
	Count         int64
	First, Last   time.Time
}

// Store keeps the models' state between runs. The serving process owns a
// workspace's baselines: Save replaces what it names.
type Store interface {
	// LoadBaseline returns when the workspace's model started learning
	// (zero: never) and its entries last seen at or after since, most
	// recently seen first, at most limit of them.
	LoadBaseline(ctx context.Context, workspace, model string, since time.Time, limit int) (started time.Time, entries []Entry, err error)
	// SaveBaseline records a model's start and upserts its changed
	// entries, in one transaction, and drops its entries last seen
	// before purge (zero: none) — a value that old counts as never seen.
	SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []Entry, purge time.Time) error
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
