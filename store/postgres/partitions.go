package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Events are partitioned by the day their batch was received (UTC), so that
// retention drops a day whole (PurgeEvents).

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

// partitionName is the partition of the day that starts at day.
func partitionName(day int64) string {
	return "events_p" + fromNanos(day).Format("20060102")
}

// dayOfPartition is the day a partition's name stands for.
func dayOfPartition(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "events_p")
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
	name := partitionName(day)
	err := db.tx(ctx, "make event partition "+name, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(partitionLock), db.schemaLockKey()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM (%d) TO (%d)`,
			name, day, day+dayNanos))
		return err
	})
	if err != nil {
		return fmt.Errorf("make event partition %s: %w", name, err)
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

// partition is an event partition and its day.
type partition struct {
	name string
	day  int64
}

// partitions lists the event partitions, oldest first.
func (db *DB) partitions(ctx context.Context, q querier) ([]partition, error) {
	names, err := collect(ctx, q, "event partitions", func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	var out []partition
	for _, n := range names {
		if d, ok := dayOfPartition(n); ok {
			out = append(out, partition{n, d})
		}
	}
	return out, nil
}
