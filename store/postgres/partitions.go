package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Event blocks, their ids and their entities are partitioned by the day
// their batch was received (UTC), the three tables alike, so that retention
// drops a day whole (PurgeEvents).

// eventTables are the partitioned tables, in the order they are locked.
var eventTables = []string{"event_blocks", "event_ids", "event_entities"}

const dayNanos = int64(24 * time.Hour)

// partitionLock is the class of the transaction advisory lock under which
// partitions are made, so that two processes making one do not collide.
const partitionLock = 0x7669_6733

// dayOf is the start of the day of n (Unix nanoseconds, UTC).
func dayOf(n int64) int64 {
	d := n / dayNanos * dayNanos
	if n < 0 && d != n {
		d -= dayNanos
	}
	return d
}

// partitionName is the partition of table of the day that starts at day.
func partitionName(table string, day int64) string {
	return table + "_p" + fromNanos(day).Format("20060102")
}

// dayOfPartition is the day a partition of event_blocks stands for.
func dayOfPartition(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "event_blocks_p")
	if !ok {
		return 0, false
	}
	t, err := time.Parse("20060102", s)
	if err != nil {
		return 0, false
	}
	return nanos(t), true
}

// ensurePartition makes the partition of the day that starts at day unless
// this process knows it exists.
func (db *DB) ensurePartition(ctx context.Context, day int64) error {
	db.partsMu.Lock()
	known := db.parts[day]
	db.partsMu.Unlock()
	if known {
		return nil
	}
	name := partitionName("event_blocks", day)
	err := db.tx(ctx, "make event partition "+name, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(partitionLock), db.schemaLockKey()); err != nil {
			return err
		}
		for _, t := range eventTables {
			_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM (%d) TO (%d)`,
				partitionName(t, day), t, day, day+dayNanos))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("make event partitions of %s: %w", fromNanos(day).Format(time.DateOnly), err)
	}
	db.partsMu.Lock()
	db.parts[day] = true
	db.partsMu.Unlock()
	return nil
}

// forgetPartitions drops what this process knows of partitions: another
// process's retention may have dropped one.
func (db *DB) forgetPartitions() {
	db.partsMu.Lock()
	clear(db.parts)
	db.partsMu.Unlock()
}

// partition is a day's partitions.
type partition struct {
	day int64
}

// of is the partition of table.
func (p partition) of(table string) string { return partitionName(table, p.day) }

// partitions lists the days partitioned (as event_blocks' partitions),
// oldest first.
func (db *DB) partitions(ctx context.Context, q querier) ([]partition, error) {
	names, err := collect(ctx, q, "event partitions", func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'event_blocks'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	var out []partition
	for _, n := range names {
		if d, ok := dayOfPartition(n); ok {
			out = append(out, partition{d})
		}
	}
	return out, nil
}
