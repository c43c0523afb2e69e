package store

import (
	"fmt"

	"github.com/vigil-sec/vigil/event"
)

// EventEntityFields are the common fields whose values entity search looks
// at (EventQuery.Entity, Entities): the things an analyst pivots on. Stores
// index them case folded (FoldCase); how each field compares is
// FieldIgnoresCase.
var EventEntityFields = [...]int{
	event.SourceIP, event.DestinationIP, event.UserName, event.HostName, event.HostIP,
	event.ProcessExecutable, event.ProcessName, event.FilePath, event.URLOriginal,
	event.URLDomain, event.DBName, event.DBUser, event.ServiceName, event.CloudAccountID,
}

// Indexable reports whether an entity value is worth an index entry ("-"
// is a common placeholder for "none" in logs).
func Indexable(v string) bool { return v != "" && v != "-" }

// EntityValue is a value searched for, with its folded form (FoldCase).
type EntityValue struct{ Value, Folded string }

// NewEntityValue is v with its folded form.
func NewEntityValue(v string) EntityValue { return EntityValue{v, FoldCase(v)} }

// HasEntity reports whether an entity field of e holds v, compared as the
// field compares.
func (e *StoredEvent) HasEntity(v EntityValue) bool {
	for _, f := range EventEntityFields {
		c := e.Common[f]
		if c == v.Value || FieldIgnoresCase(f, e.Logsource.Product, c) && FoldedEqual(c, v.Folded) {
			return true
		}
	}
	return false
}

// HasAnyEntity reports whether an entity field of e holds one of vals.
func (e *StoredEvent) HasAnyEntity(vals []EntityValue) bool {
	for _, v := range vals {
		if e.HasEntity(v) {
			return true
		}
	}
	return false
}

// QueryEntities returns the distinct values of EventQuery.Entities worth
// looking up, and their distinct folded forms, for an index; ErrInvalid
// past MaxEventEntities. Values that are all placeholders give one value no
// event holds, so that the filter does not fall away and widen the search
// to every event.
func QueryEntities(values []string) (vals []EntityValue, folded []string, err error) {
	if len(values) > MaxEventEntities {
		return nil, nil, fmt.Errorf("%d entities: %w (at most %d)", len(values), ErrInvalid, MaxEventEntities)
	}
	seen := map[string]bool{}
	for _, v := range values {
		if !Indexable(v) || seen["v"+v] {
			continue
		}
		seen["v"+v] = true
		ev := NewEntityValue(v)
		vals = append(vals, ev)
		if !seen["f"+ev.Folded] {
			seen["f"+ev.Folded] = true
			folded = append(folded, ev.Folded)
		}
	}
	if len(values) > 0 && len(vals) == 0 {
		vals, folded = []EntityValue{{"\x00", "\x00"}}, []string{"\x00"}
	}
	return vals, folded, nil
}
