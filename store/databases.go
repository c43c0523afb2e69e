package store

import (
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

// DatabasePlace is the database server and database an alert is about:
// what the databases view groups alerts by.
type DatabasePlace struct {
	Server   string // "" when unknown
	Database string // "" when the alert names none (a login refused before a database was named)
	// IsDatabase is false for an alert that is no database alert.
	IsDatabase bool
	// FromEvent: the place was read from the alert's first evidence event
	// and never changes; otherwise it came from the alert's entities
	// (no evidence event, or it is gone) and may change as entities join.
	FromEvent bool
}

// EventLookup finds one stored event; ok is false when it is not stored
// (never was, or retention took it).
type EventLookup func(id event.ID) (ev StoredEvent, ok bool, err error)

// DatabasePlaceOf finds where alert a happened from its first evidence
// event with an event id: the server is the event's host.name (the audit
// record's server instance or host) or else the source that sent it (a
// PostgreSQL log names no server), the database its db.name. An alert whose
// event is no database event (category database, or a db.name) is no
// database alert. When the event is not stored, the alert's own host and
// database entities stand in.
func DatabasePlaceOf(a *alert.Alert, lookup EventLookup) (DatabasePlace, error) {
	for _, e := range a.Evidence {
		id, err := event.ParseID(e.EventID)
		if err != nil {
			continue
		}
		se, ok, err := lookup(id)
		if err != nil {
			return DatabasePlace{}, err
		}
		if !ok {
			break
		}
		db := se.Common[event.DBName]
		if se.Logsource.Category != "database" && db == "" {
			return DatabasePlace{FromEvent: true}, nil
		}
		server := se.Common[event.HostName]
		if server == "" {
			server = se.Source
		}
		return DatabasePlace{Server: server, Database: db, IsDatabase: true, FromEvent: true}, nil
	}
	var p DatabasePlace
	for _, e := range a.Entities {
		switch e.Type {
		case alert.EntityHost:
			if p.Server == "" {
				p.Server = e.Value
			}
		case alert.EntityDatabase:
			if p.Database == "" {
				p.Database = e.Value
			}
		}
	}
	p.IsDatabase = p.Database != ""
	return p, nil
}

// DatabaseCount counts the alerts about one database of one server that
// have one severity and alert type.
type DatabaseCount struct {
	Server   string // "" when unknown
	Database string // "" when none is named
	Severity alert.Severity
	Type     string // the rule's title
	Alerts   int
	// LastSeen is the latest last_seen among them, LastAlert the id of
	// that alert (the greatest id among alerts last seen at once).
	LastSeen  time.Time
	LastAlert string
}

// SplitLastAlert reads a database's last alert as the stores' grouped
// counts give it: one text that sorts as the pair (last_seen, id), the
// last_seen nanoseconds as 20 digits followed by the alert's id.
func SplitLastAlert(last string) (time.Time, string, error) {
	if len(last) < 20 {
		return time.Time{}, "", fmt.Errorf("last alert %q: %w", last, ErrInvalid)
	}
	ns, err := strconv.ParseInt(last[:20], 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("last alert %q: %w", last, err)
	}
	return time.Unix(0, ns).UTC(), last[20:], nil
}

// Kinds of a DatabasePlace as both stores keep it (alert_databases.db_kind):
// whether it was read from the alert's evidence event (final) or from its
// entities (read again while the alert grows), and whether the alert is a
// database alert.
const (
	PlaceKindNone       = 0 // no database alert, read from its evidence event: final
	PlaceKindEvent      = 1 // a database alert, read from its evidence event: final
	PlaceKindEntities   = 2 // a database alert, read from its entities
	PlaceKindNoEntities = 3 // no database alert, read from its entities
)

// PlaceKindsDatabase is the SQL list of the kinds that are database alerts.
var PlaceKindsDatabase = "(" + strconv.Itoa(PlaceKindEvent) + ", " + strconv.Itoa(PlaceKindEntities) + ")"

// Kind is p's kind (PlaceKind…).
func (p DatabasePlace) Kind() int {
	switch {
	case p.FromEvent && p.IsDatabase:
		return PlaceKindEvent
	case p.FromEvent:
		return PlaceKindNone
	case p.IsDatabase:
		return PlaceKindEntities
	}
	return PlaceKindNoEntities
}
