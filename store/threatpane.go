package store

import "time"

// The threat pane's counts are kept by UTC day and hour (tables
// threat_days and threat_hours in both stores), so that a range reads its
// whole days and hours from them and only its partial first and last
// hours from the alerts. How a range splits is the same in every store.

// PaneTable is one of the pane's count tables: its name and the length
// of its slots in nanoseconds.
type PaneTable struct {
	Name string
	Unit int64
}

var (
	PaneDays   = PaneTable{"threat_days", int64(24 * time.Hour)}
	PaneHours  = PaneTable{"threat_hours", int64(time.Hour)}
	PaneTables = []PaneTable{PaneDays, PaneHours}
)

// PanePart is a part of a range: slots [From, To) of a count table, or,
// with no Table, the nanoseconds [From, To) that the alerts answer.
type PanePart struct {
	Table    *PaneTable
	From, To int64
}

// PaneParts splits [from, to) (nanoseconds since the epoch) into its whole
// UTC days, the whole hours around them and the partial hours at its
// ends; ok is false when the range holds no whole hour or starts before
// the epoch (the alerts answer it all).
func PaneParts(from, to int64) (parts []PanePart, ok bool) {
	hour, day := PaneHours.Unit, PaneDays.Unit
	if from < 0 {
		return nil, false
	}
	h1, h2 := (from+hour-1)/hour, to/hour
	if h1 >= h2 {
		return nil, false
	}
	if from < h1*hour {
		parts = append(parts, PanePart{From: from, To: h1 * hour})
	}
	d1, d2 := (from+day-1)/day, to/day
	per := day / hour
	if d1 < d2 {
		if h1 < d1*per {
			parts = append(parts, PanePart{Table: &PaneHours, From: h1, To: d1 * per})
		}
		parts = append(parts, PanePart{Table: &PaneDays, From: d1, To: d2})
		if d2*per < h2 {
			parts = append(parts, PanePart{Table: &PaneHours, From: d2 * per, To: h2})
		}
	} else {
		parts = append(parts, PanePart{Table: &PaneHours, From: h1, To: h2})
	}
	if h2*hour < to {
		parts = append(parts, PanePart{From: h2 * hour, To: to})
	}
	return parts, true
}

// PaneSeriesParts is PaneParts for a series of buckets bucket nanoseconds
// wide counted from from, which the count tables answer only when every
// bucket starts on a slot's start: ok is false unless from and bucket are
// whole hours, and days are read as their hours unless both are whole
// days.
func PaneSeriesParts(from, to, bucket int64) ([]PanePart, bool) {
	hour, day := PaneHours.Unit, PaneDays.Unit
	parts, ok := PaneParts(from, to)
	if !ok || from%hour != 0 || bucket%hour != 0 {
		return nil, false
	}
	if from%day != 0 || bucket%day != 0 {
		for i, p := range parts {
			if p.Table != nil && p.Table.Unit == day {
				per := day / hour
				parts[i] = PanePart{Table: &PaneHours, From: p.From * per, To: p.To * per}
			}
		}
	}
	return parts, true
}
