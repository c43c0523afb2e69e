package baseline

import (
	"context"
	"time"
)

// Entry is what a model knows of one value of one entity, as the store
// keeps it. Several detect workers learn one model, each from its share
// of the events: a save carries what one learnt since its last save, and
// the store merges it into what all learnt.
type Entry struct {
	Entity, Value string
	// Count, saved, is the observations since the last save, which the
	// store adds to its count; with Max (a volume model), the largest
	// amount, which the store keeps when larger than its own. Loaded, it
	// is the store's count.
	Count       int64
	Max         bool
	First, Last time.Time
}

// Snapshot is a model as the store holds it.
type Snapshot struct {
	// Started is the earliest start of learning saved (zero: never).
	Started time.Time
	// Rev is the model's revision, incremented by every save: a load
	// after it returns only what was saved since.
	Rev     int64
	Entries []Entry
}

// Store keeps the models' state between runs and merges what several
// workers learn.
type Store interface {
	// LoadBaseline returns the workspace's model, with its entries saved
	// at a revision after after (0: all), most recently seen first, at
	// most limit of them.
	LoadBaseline(ctx context.Context, workspace, model string, after int64, limit int) (Snapshot, error)
	// SaveBaseline, in one transaction, drops the model's entries last
	// seen before purge (zero: none) — a value that old counts as never
	// seen — then merges entries into the model and moves its start back
	// to started when that is earlier (zero: no start). It returns the
	// model's revision the save made.
	SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []Entry, purge time.Time) (rev int64, err error)
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
