package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// Partitioned correlation's journal, states and leases
// (analysis.PartitionStates; migration 0002). A journal entry's seq is
// an identity: entries of concurrent commits may become visible out of
// seq order, so a reader could pass an entry that commits after it read
// later ones. The journal is read under the partition's lease and its
// writers take a shared advisory lock of the partition while readers take
// it exclusively (journalLock), which orders them.

// journalLockClass is the first key of the partitions' advisory locks.
const journalLockClass = 0x7669_6732 // "vig2"

// journalParts queues a new batch's input to each partition, after a
// shared lock of each partition it writes (in order).
func (c *committer) journalParts(b *store.Batch) {
	for _, p := range b.CorrelationParts {
		if len(p.Data) == 0 {
			continue
		}
		c.writes.Queue(`SELECT pg_advisory_xact_lock_shared($1, $2)`, int32(journalLockClass), int32(p.Part))
		c.writes.Queue(`INSERT INTO correlation_part_journal (part, batch_id, data) VALUES ($1, $2, $3)`, p.Part, b.ID[:], p.Data)
	}
}

// SetCorrelationPartitions records the partition count of the detect
// workers, or checks it against the one recorded.
func (db *DB) SetCorrelationPartitions(ctx context.Context, n int) error {
	if n <= 0 {
		return fmt.Errorf("correlation partitions %d: %w", n, store.ErrInvalid)
	}
	return db.tx(ctx, "set correlation partitions", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO correlation_partitioning (id, partitions) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, n); err != nil {
			return fmt.Errorf("set correlation partitions: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT partitions FROM correlation_partitioning WHERE id = 1`).Scan(&have); err != nil {
			return fmt.Errorf("set correlation partitions: %w", err)
		}
		if have != n {
			return fmt.Errorf("correlation partitions %d: the store's detect workers use %d (a count cannot change while partitions hold state): %w", n, have, store.ErrConflict)
		}
		return nil
	})
}

// AcquireLease takes the lease name for owner until ttl from now (the
// database's clock), when it is free, expired or owner's already, and
// reports whether owner holds it.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO leases (name, owner, expires) VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
		WHERE leases.owner = excluded.owner OR leases.expires <= now()`, name, owner, ttl.Microseconds())
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return tag.RowsAffected() > 0, nil
}

// ReleaseLease gives the lease up, when owner holds it.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// LeaseHolders returns the owners of the unexpired leases whose names
// begin with prefix, by lease name.
func (db *DB) LeaseHolders(ctx context.Context, prefix string) (map[string]string, error) {
	type row struct{ name, owner string }
	rows, err := collect(ctx, db.pool, "leases "+prefix, func(r scanner) (row, error) {
		var x row
		return x, r.Scan(&x.name, &x.owner)
	}, `SELECT name, owner FROM leases WHERE name >= $1 AND expires > now() ORDER BY name`, prefix)
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
	err := db.pool.QueryRow(ctx, `SELECT data, journal_seq FROM correlation_part_state WHERE part = $1`, part).Scan(&data, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read correlation state of partition %d: %w", part, err)
	}
	return data, seq, nil
}

// SavedPartitionStates returns every partition's saved correlator state,
// in partition order, as store/sqlite's does.
func (db *DB) SavedPartitionStates(ctx context.Context) ([][]byte, error) {
	rows, err := db.pool.Query(ctx, `SELECT data FROM correlation_part_state ORDER BY part`)
	if err != nil {
		return nil, fmt.Errorf("read the correlation partitions' states: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("read the correlation partitions' states: %w", err)
	}
	return out, nil
}

// RepartitionCorrelation changes the recorded partition count to n, as
// store/sqlite's does: in one transaction, refused while a lease of busy's
// prefixes is held or a partition's journal holds unsaved entries.
func (db *DB) RepartitionCorrelation(ctx context.Context, n int, merged []byte, busy ...string) error {
	if n <= 0 {
		return fmt.Errorf("correlation partitions %d: %w", n, store.ErrInvalid)
	}
	return db.tx(ctx, "change the correlation partitions", func(tx pgx.Tx) error {
		// One change at a time: workers starting together queue here.
		if _, err := tx.Exec(ctx, `LOCK TABLE correlation_partitioning IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("change the correlation partitions: %w", err)
		}
		for _, prefix := range busy {
			var holder string
			err := tx.QueryRow(ctx, `SELECT name FROM leases WHERE starts_with(name, $1) AND expires > now() LIMIT 1`, prefix).Scan(&holder)
			if err == nil {
				return store.RepartitionBusy(holder)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("change the correlation partitions: %w", err)
			}
		}
		var pending int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM correlation_part_journal`).Scan(&pending); err != nil {
			return fmt.Errorf("change the correlation partitions: %w", err)
		}
		if pending > 0 {
			return store.RepartitionUnsaved(pending)
		}
		if merged != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO correlation_state (name, data, updated, journal_seq) VALUES ($1, $2, $3, 0)
				ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated`,
				correlationStateName, merged, nanos(db.now())); err != nil {
				return fmt.Errorf("change the correlation partitions: save the gathered state: %w", err)
			}
		}
		for _, q := range []string{`DELETE FROM correlation_part_state`, `DELETE FROM correlation_part_journal`} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("change the correlation partitions: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO correlation_partitioning (id, partitions) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET partitions = excluded.partitions`, n); err != nil {
			return fmt.Errorf("change the correlation partitions: %w", err)
		}
		return nil
	})
}

// SavePartitionState replaces a partition's state, which includes its
// journal up to journalSeq, and forgets those entries — only while owner
// holds the lease (locked for the save); otherwise store.ErrConflict.
func (db *DB) SavePartitionState(ctx context.Context, part int, lease, owner string, data []byte, journalSeq int64) error {
	return db.tx(ctx, fmt.Sprintf("save correlation state of partition %d", part), func(tx pgx.Tx) error {
		var holder string
		err := tx.QueryRow(ctx, `SELECT owner FROM leases WHERE name = $1 AND expires > now() FOR UPDATE`, lease).Scan(&holder)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("save correlation state of partition %d: %w", part, err)
		}
		if holder != owner {
			return fmt.Errorf("save correlation state of partition %d: lease %s is not %s's: %w", part, lease, owner, store.ErrConflict)
		}
		_, err = tx.Exec(ctx, `INSERT INTO correlation_part_state (part, data, journal_seq, updated) VALUES ($1, $2, $3, $4)
			ON CONFLICT (part) DO UPDATE SET data = excluded.data, updated = excluded.updated,
				journal_seq = greatest(correlation_part_state.journal_seq, excluded.journal_seq)`, part, data, journalSeq, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("save correlation state of partition %d: %w", part, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM correlation_part_journal WHERE part = $1 AND seq <= $2`, part, journalSeq); err != nil {
			return fmt.Errorf("save correlation state of partition %d: trim the journal: %w", part, err)
		}
		return nil
	})
}

// PartitionJournal returns at most limit of a partition's journal entries
// after afterSeq, in order. It waits for the commits writing the
// partition's journal (journalLock): an entry committed after this read
// has a higher seq than every entry it returns.
func (db *DB) PartitionJournal(ctx context.Context, part int, afterSeq int64, limit int) ([]store.JournalEntry, error) {
	var out []store.JournalEntry
	err := db.tx(ctx, fmt.Sprintf("correlation journal of partition %d", part), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(journalLockClass), int32(part)); err != nil {
			return fmt.Errorf("correlation journal of partition %d: lock: %w", part, err)
		}
		var err error
		out, err = collect(ctx, tx, fmt.Sprintf("correlation journal of partition %d", part), func(r scanner) (store.JournalEntry, error) {
			var e store.JournalEntry
			var batch []byte
			err := r.Scan(&e.Seq, &e.Part, &batch, &e.Data)
			if err == nil && len(batch) != len(event.ID{}) {
				err = fmt.Errorf("journal entry %d: batch id of %d bytes", e.Seq, len(batch))
			}
			copy(e.Batch[:], batch)
			return e, err
		}, `SELECT seq, part, batch_id, data FROM correlation_part_journal WHERE part = $1 AND seq > $2 ORDER BY seq LIMIT $3`, part, afterSeq, limit)
		return err
	})
	return out, err
}
