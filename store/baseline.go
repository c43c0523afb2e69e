package store

import "time"

// BaselineEntry is what a behavioural baseline model (package
// enrich/baseline) knows of one value of one entity: how often it was
// seen, first and last (event time).
//
// Several detect workers learn one model, each from its share of the
// events, so a save carries what one worker learnt since its last save
// and the store merges it into what all learnt: Count is added to the
// stored count (a delta), or with Max (a volume model's largest amount)
// the stored count becomes the larger of the two; First and Last widen
// the stored ones. Loaded, Count is the merged count.
type BaselineEntry struct {
	Entity, Value string
	Count         int64
	Max           bool
	First, Last   time.Time
}

// Baseline is a model's stored state as a load returns it.
type Baseline struct {
	// Started is when the model started learning, the earliest any
	// worker saved (zero: never).
	Started time.Time
	// Rev is the model's revision: every save increments it, and stamps
	// the entries it wrote with it. A load after Rev returns only what
	// was saved since.
	Rev     int64
	Entries []BaselineEntry
}
