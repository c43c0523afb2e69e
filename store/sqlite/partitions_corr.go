package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// sqlMigratePartitions is partitioned correlation (several detect
// workers): the journal of each committed batch's matches by partition;
// each partition's correlator state with the last journal entry it
// includes; the partition count every worker must agree on; and leases,
// which give a partition (or a singleton task) to one worker at a time.
const sqlMigratePartitions = `
CREATE TABLE correlation_part_journal (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	part     INTEGER NOT NULL,
	batch_id BLOB NOT NULL,
	data     BLOB NOT NULL
);
CREATE INDEX correlation_part_journal_part ON correlation_part_journal (part, seq);
CREATE TABLE correlation_part_state (
	part        INTEGER PRIMARY KEY,
	data        BLOB,
	journal_seq INTEGER NOT NULL DEFAULT 0,
	updated     INTEGER NOT NULL
);
CREATE TABLE correlation_partitioning (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	partitions INTEGER NOT NULL
);
CREATE TABLE leases (
	name    TEXT PRIMARY KEY,
	owner   TEXT NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
`

// journalParts writes a new batch's input to each partition, and tells
// the batch the place of the last.
func (c *committer) journalParts(b *store.Batch) error {
	for _, p := range b.CorrelationParts {
		if len(p.Data) == 0 {
			continue
		}
		r, err := c.tx.ExecContext(c.ctx, `INSERT INTO correlation_part_journal (part, batch_id, data) VALUES (?, ?, ?)`,
			p.Part, b.ID[:], p.Data)
		if err != nil {
			return fmt.Errorf("commit: batch %s: journal its correlation input of partition %d: %w", b.ID, p.Part, err)
		}
		if b.JournalSeq, err = r.LastInsertId(); err != nil {
			return fmt.Errorf("commit: batch %s: journal its correlation input of partition %d: %w", b.ID, p.Part, err)
		}
	}
	return nil
}

// SetCorrelationPartitions records the partition count of the detect
// workers, or checks it against the one recorded: workers that split
// matches differently would each count a share of a group.
func (db *DB) SetCorrelationPartitions(ctx context.Context, n int) error {
	if n <= 0 {
		return fmt.Errorf("correlation partitions %d: %w", n, store.ErrInvalid)
	}
	return db.write(ctx, "set correlation partitions", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO correlation_partitioning (id, partitions) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, n); err != nil {
			return fmt.Errorf("set correlation partitions: %w", err)
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT partitions FROM correlation_partitioning WHERE id = 1`).Scan(&have); err != nil {
			return fmt.Errorf("set correlation partitions: %w", err)
		}
		if have != n {
			return fmt.Errorf("correlation partitions %d: the store's detect workers use %d (a count cannot change while partitions hold state): %w", n, have, store.ErrConflict)
		}
		return nil
	})
}

// AcquireLease takes the lease name for owner until ttl from now, when it
// is free, expired or owner's already (then it is renewed), and reports
// whether owner holds it.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	now := db.now()
	var held bool
	err := db.write(ctx, "lease "+name, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO leases (name, owner, expires) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
			WHERE leases.owner = excluded.owner OR leases.expires <= ?`,
			name, owner, nanos(now.Add(ttl)), nanos(now))
		if err != nil {
			return fmt.Errorf("lease %s: %w", name, err)
		}
		n, err := r.RowsAffected()
		held = n > 0
		return err
	})
	return held, err
}

// ReleaseLease gives the lease up, when owner holds it, so that another
// worker need not wait for it to expire.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	return db.write(ctx, "release lease "+name, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
			return fmt.Errorf("release lease %s: %w", name, err)
		}
		return nil
	})
}

// LeaseHolders returns the owners of the unexpired leases whose names
// begin with prefix, by lease name.
func (db *DB) LeaseHolders(ctx context.Context, prefix string) (map[string]string, error) {
	type row struct{ name, owner string }
	rows, err := list(ctx, db, "leases "+prefix, func(r scanner) (row, error) {
		var x row
		return x, r.Scan(&x.name, &x.owner)
	}, `SELECT name, owner FROM leases WHERE name >= ? AND expires > ? ORDER BY name`, prefix, nanos(db.now()))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, x := range rows {
		if strings.HasPrefix(x.name, prefix) {
			out[x.name] = x.owner
		}
	}
	return out, nil
}

// PartitionState returns a partition's saved correlator state (nil when
// none was saved) and the last journal entry it includes.
func (db *DB) PartitionState(ctx context.Context, part int) ([]byte, int64, error) {
	var data []byte
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT data, journal_seq FROM correlation_part_state WHERE part = ?`, part).Scan(&data, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read correlation state of partition %d: %w", part, err)
	}
	return data, seq, nil
}

// SavedPartitionStates returns every partition's saved correlator state,
// in partition order: what a single detect stage taking over from
// partitioned workers gathers (analysis.Stage).
func (db *DB) SavedPartitionStates(ctx context.Context) ([][]byte, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT data FROM correlation_part_state ORDER BY part`)
	if err != nil {
		return nil, fmt.Errorf("read the correlation partitions' states: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read the correlation partitions' states: %w", err)
		}
		out = append(out, data)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the correlation partitions' states: %w", err)
	}
	return out, nil
}

// RepartitionCorrelation changes the recorded partition count to n, in one
// transaction: merged, when given, becomes the single detect stage's saved
// state (the partitions' windows gathered, for the new partitions to share
// out); the partitions' states and journal go. It refuses, with
// store.ErrConflict, while a lease named with one of busy's prefixes is
// held (a worker is running) or a partition's journal holds entries its
// state does not (a worker was killed before it saved).
func (db *DB) RepartitionCorrelation(ctx context.Context, n int, merged []byte, busy ...string) error {
	if n <= 0 {
		return fmt.Errorf("correlation partitions %d: %w", n, store.ErrInvalid)
	}
	now := db.now()
	return db.write(ctx, "change the correlation partitions", func(tx *sql.Tx) error {
		for _, prefix := range busy {
			var holder string
			err := tx.QueryRowContext(ctx, `SELECT name FROM leases WHERE substr(name, 1, ?) = ? AND expires > ? LIMIT 1`,
				len(prefix), prefix, nanos(now)).Scan(&holder)
			if err == nil {
				return store.RepartitionBusy(holder)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("change the correlation partitions: %w", err)
			}
		}
		var pending int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM correlation_part_journal`).Scan(&pending); err != nil {
			return fmt.Errorf("change the correlation partitions: %w", err)
		}
		if pending > 0 {
			return store.RepartitionUnsaved(pending)
		}
		if merged != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO correlation_state (name, data, updated, journal_seq) VALUES (?, ?, ?, 0)
				ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated`,
				correlationStateName, merged, nanos(now)); err != nil {
				return fmt.Errorf("change the correlation partitions: save the gathered state: %w", err)
			}
		}
		for _, q := range []string{`DELETE FROM correlation_part_state`, `DELETE FROM correlation_part_journal`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("change the correlation partitions: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO correlation_partitioning (id, partitions) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET partitions = excluded.partitions`, n); err != nil {
			return fmt.Errorf("change the correlation partitions: %w", err)
		}
		return nil
	})
}

// SavePartitionState replaces a partition's state, which includes its
// journal up to journalSeq, and forgets those entries — only while owner
// holds the partition's lease (lease): a worker that lost it would
// overwrite the new owner's progress. Otherwise the error is
// store.ErrConflict.
func (db *DB) SavePartitionState(ctx context.Context, part int, lease, owner string, data []byte, journalSeq int64) error {
	now := db.now()
	return db.write(ctx, fmt.Sprintf("save correlation state of partition %d", part), func(tx *sql.Tx) error {
		var holder string
		err := tx.QueryRowContext(ctx, `SELECT owner FROM leases WHERE name = ? AND expires > ?`, lease, nanos(now)).Scan(&holder)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("save correlation state of partition %d: %w", part, err)
		}
		if holder != owner {
			return fmt.Errorf("save correlation state of partition %d: lease %s is not %s's: %w", part, lease, owner, store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO correlation_part_state (part, data, journal_seq, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (part) DO UPDATE SET data = excluded.data, updated = excluded.updated,
				journal_seq = max(journal_seq, excluded.journal_seq)`, part, data, journalSeq, nanos(now))
		if err != nil {
			return fmt.Errorf("save correlation state of partition %d: %w", part, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM correlation_part_journal WHERE part = ? AND seq <= ?`, part, journalSeq); err != nil {
			return fmt.Errorf("save correlation state of partition %d: trim the journal: %w", part, err)
		}
		return nil
	})
}

// PartitionJournal returns at most limit of a partition's journal entries
// after afterSeq, in order.
func (db *DB) PartitionJournal(ctx context.Context, part int, afterSeq int64, limit int) ([]store.JournalEntry, error) {
	return list(ctx, db, fmt.Sprintf("correlation journal of partition %d", part), func(r scanner) (store.JournalEntry, error) {
		var e store.JournalEntry
		var batch []byte
		err := r.Scan(&e.Seq, &e.Part, &batch, &e.Data)
		if err == nil && len(batch) != len(event.ID{}) {
			err = fmt.Errorf("journal entry %d: batch id of %d bytes", e.Seq, len(batch))
		}
		copy(e.Batch[:], batch)
		return e, err
	}, `SELECT seq, part, batch_id, data FROM correlation_part_journal WHERE part = ? AND seq > ? ORDER BY seq LIMIT ?`, part, afterSeq, limit)
}
