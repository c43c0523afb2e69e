package store

import "time"

// BaselineEntry is what a behavioural baseline model (package
// enrich/baseline) knows of one value of one entity: how often it was
// seen, first and last (event time).
type BaselineEntry struct {
	Entity, Value string
	Count         int64
	First, Last   time.Time
}
