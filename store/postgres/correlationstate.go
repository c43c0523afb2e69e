package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// correlationStateName is the row of the detect stage's correlator: one
// per store, as one stage commits to it.
const correlationStateName = "detect"

// journalLock is the first key of the transaction advisory lock (two-int
// form, apart from Commit's bigint dedup keys; the second is the schema's
// hash) that a Commit with correlation input holds
// from taking its journal seqs to its end. A sequence hands out numbers in
// the order asked, not the order committed: without the lock a reader
// could see seq 6 before 5 commits, save a state including 6, and then
// skip 5 for ever. With it, the journal becomes visible in seq order.
const journalLock = lockClass + 1

// CorrelationState returns the correlator state last saved (nil when none
// was) and the last journal entry it includes.
func (db *DB) CorrelationState(ctx context.Context) ([]byte, int64, error) {
	var data []byte
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT data, journal_seq FROM correlation_state WHERE name = $1`, correlationStateName).Scan(&data, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read correlation state: %w", err)
	}
	return data, seq, nil
}

// SaveCorrelationState replaces the saved correlator state, which includes
// the journal up to journalSeq, and forgets those journal entries.
func (db *DB) SaveCorrelationState(ctx context.Context, data []byte, journalSeq int64) error {
	if data == nil {
		data = []byte{}
	}
	return db.tx(ctx, "save correlation state", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO correlation_state (name, data, updated, journal_seq) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated,
				journal_seq = greatest(correlation_state.journal_seq, excluded.journal_seq)`,
			correlationStateName, data, nanos(db.now()), journalSeq)
		if err != nil {
			return fmt.Errorf("save correlation state: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM correlation_journal WHERE seq <= $1`, journalSeq); err != nil {
			return fmt.Errorf("save correlation state: trim the journal: %w", err)
		}
		return nil
	})
}

// CorrelationJournal returns the journal entries after afterSeq, in order.
func (db *DB) CorrelationJournal(ctx context.Context, afterSeq int64) ([]store.JournalEntry, error) {
	return collect(ctx, db.pool, "correlation journal", func(r scanner) (store.JournalEntry, error) {
		var e store.JournalEntry
		var grp, batch []byte
		err := r.Scan(&e.Seq, &grp, &batch, &e.Data)
		if err == nil && (len(grp) != len(event.ID{}) || len(batch) != len(event.ID{})) {
			err = fmt.Errorf("journal entry %d: group or batch id of %d and %d bytes", e.Seq, len(grp), len(batch))
		}
		copy(e.Group[:], grp)
		copy(e.Batch[:], batch)
		return e, err
	}, `SELECT seq, grp, batch_id, data FROM correlation_journal WHERE seq > $1 ORDER BY seq`, afterSeq)
}

// journal queues a new batch's correlator input, and tells the batch its
// place once the writes are sent.
func (c *committer) journal(b *store.Batch) {
	b.JournalSeq = 0
	if len(b.Correlation) == 0 {
		return
	}
	c.writes.Queue(`INSERT INTO correlation_journal (grp, batch_id, data) VALUES ($1, $2, $3) RETURNING seq`,
		b.CorrelationGroup[:], b.ID[:], b.Correlation).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&b.JournalSeq); err != nil {
			return fmt.Errorf("batch %s: journal its correlation input: %w", b.ID, err)
		}
		return nil
	})
}
