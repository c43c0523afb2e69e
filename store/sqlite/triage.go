package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// triageList is a list in triage order — the latest activity first, or
// the highest priority first — as alerts and incidents are listed: the
// table's columns last_seen, id and priority, one cursor kind an order (a
// cursor of one order is refused by the other).
type triageList[T any] struct {
	what                   string // "alerts of acme", for errors
	kindLast, kindPriority string
	sortLast, sortPriority string // the query's Sort values
	// selectFrom is the query up to WHERE ("SELECT … FROM alerts").
	selectFrom string
	scan       func(scanner) (T, error)
	// key is a row's place in the order.
	key func(T) (lastSeen time.Time, id string, priority int)
}

// page returns up to limit(n) rows matching where (with args) after the
// cursor, in the order sortBy names, and the cursor of the next page.
func (l triageList[T]) page(ctx context.Context, db *DB, where string, args []any, sortBy, cursorText string, n int) ([]T, string, error) {
	n = limit(n)
	byPriority := false
	switch sortBy {
	case "", l.sortLast:
	case l.sortPriority:
		byPriority = true
	default:
		return nil, "", fmt.Errorf("%s: sort %q: %w (want %s or %s)", l.what, sortBy, store.ErrInvalid, l.sortPriority, l.sortLast)
	}
	kind, order := l.kindLast, ` ORDER BY last_seen DESC, id DESC`
	if byPriority {
		kind, order = l.kindPriority, ` ORDER BY priority DESC, last_seen DESC, id DESC`
	}
	if cursorText != "" {
		c, err := decodeCursor(cursorText, kind)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", l.what, err)
		}
		if byPriority {
			// Row values compare column by column: the rows after the
			// cursor's in the (all descending) order.
			where += " AND (priority, last_seen, id) < (?, ?, ?)"
			args = append(args, c.m, c.n, c.s)
		} else {
			where += " AND (last_seen < ? OR (last_seen = ? AND id < ?))"
			args = append(args, c.n, c.n, c.s)
		}
	}
	args = append(args, n+1)
	out, err := list(ctx, db, l.what, l.scan, l.selectFrom+` WHERE `+where+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last, id, prio := l.key(out[n-1])
		c := cursor{n: nanos(last), s: id}
		if byPriority {
			c.m = int64(prio)
		}
		next = encodeCursor(kind, c)
	}
	return out, next, nil
}

// count counts the rows matching where.
func (l triageList[T]) count(ctx context.Context, db *DB, table, where string, args []any) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", l.what, err)
	}
	return n, nil
}
