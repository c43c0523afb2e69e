package postgres

import (
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// listOrder is how the alert and incident lists are ordered and paged:
// by latest activity, or by priority then latest activity, with a cursor
// of the sort's kind. Both lists have the same sorts (store.AlertSort*,
// store.IncidentSort*), so one reading of them serves both.
type listOrder struct {
	kind       string // the cursor's kind
	order      string // the ORDER BY clause
	byPriority bool
	n          int // rows a page
}

// newListOrder reads sort, cursor and limit for the list what (e.g.
// "alerts of acme"); lastSeenKind and priorityKind name the cursors. A
// cursor's position is added to *where.
func newListOrder(what, sort, cursor string, limit int, lastSeenKind, priorityKind string, a *args, where *string) (listOrder, error) {
	o := listOrder{kind: lastSeenKind, order: ` ORDER BY last_seen DESC, id DESC`, n: store.PageLimit(limit)}
	switch sort {
	case "", store.AlertSortLastSeen:
	case store.AlertSortPriority:
		o.kind, o.order, o.byPriority = priorityKind, ` ORDER BY priority DESC, last_seen DESC, id DESC`, true
	default:
		return o, fmt.Errorf("%s: sort %q: %w (want %s or %s)", what, sort, store.ErrInvalid, store.AlertSortPriority, store.AlertSortLastSeen)
	}
	if cursor == "" {
		return o, nil
	}
	c, err := store.DecodeCursor(cursor, o.kind)
	if err != nil {
		return o, fmt.Errorf("%s: %w", what, err)
	}
	if o.byPriority {
		*where += " AND (priority, last_seen, id) < (" + a.add(int(c.M)) + ", " + a.add(c.N) + ", " + a.add(c.S) + ")"
	} else {
		*where += " AND (last_seen, id) < (" + a.add(c.N) + ", " + a.add(c.S) + ")"
	}
	return o, nil
}

// limit is the LIMIT clause: a row more than a page tells whether there is
// a next one.
func (o listOrder) limit(a *args) string { return ` LIMIT ` + a.add(o.n+1) }

// page cuts rows (read with limit) to a page and gives the next page's
// cursor, empty on the last page.
func page[T any](o listOrder, rows []T, key func(T) (lastSeen time.Time, id string, priority int)) ([]T, string) {
	if len(rows) <= o.n {
		return rows, ""
	}
	rows = rows[:o.n]
	lastSeen, id, priority := key(rows[o.n-1])
	c := store.Cursor{N: nanos(lastSeen), S: id}
	if o.byPriority {
		c.M = int64(priority)
	}
	return rows, store.EncodeCursor(o.kind, c)
}
