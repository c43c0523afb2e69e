package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// correlationStateName is the row of the detect stage's correlator: one
// per store, as one stage commits to it.
const correlationStateName = "detect"

// sqlMigrate15 is the correlation journal: each new batch's input to the
// correlator, written by Commit in the batch's transaction, kept until the
// correlator state that includes it is saved (journal_seq). A detect stage
// killed between the two feeds the journal after the saved state again, so
// that no committed match is lost or counted twice.
const sqlMigrate15 = `
CREATE TABLE correlation_journal (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	grp      BLOB NOT NULL,
	batch_id BLOB NOT NULL,
	data     BLOB NOT NULL
);
ALTER TABLE correlation_state ADD COLUMN journal_seq INTEGER NOT NULL DEFAULT 0;
`

// journal writes a new batch's correlator input, and tells the batch its
// place.
func (c *committer) journal(b *store.Batch) error {
	b.JournalSeq = 0
	if len(b.CorrelationParts) > 0 {
		return c.journalParts(b)
	}
	if len(b.Correlation) == 0 {
		return nil
	}
	r, err := c.tx.ExecContext(c.ctx, `INSERT INTO correlation_journal (grp, batch_id, data) VALUES (?, ?, ?)`,
		b.CorrelationGroup[:], b.ID[:], b.Correlation)
	if err != nil {
		return fmt.Errorf("commit: batch %s: journal its correlation input: %w", b.ID, err)
	}
	if b.JournalSeq, err = r.LastInsertId(); err != nil {
		return fmt.Errorf("commit: batch %s: journal its correlation input: %w", b.ID, err)
	}
	return nil
}

// CorrelationState returns the correlator state last saved (nil when none
// was) and the last journal entry it includes: the open windows a
// restarted detect stage carries on with.
func (db *DB) CorrelationState(ctx context.Context) ([]byte, int64, error) {
	var data []byte
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT data, journal_seq FROM correlation_state WHERE name = ?`, correlationStateName).Scan(&data, &seq)
	if errors.Is(err, sql.ErrNoRows) {
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
	return db.write(ctx, "save correlation state", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO correlation_state (name, data, updated, journal_seq) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated,
				journal_seq = max(journal_seq, excluded.journal_seq)`,
			correlationStateName, data, nanos(db.now()), journalSeq)
		if err != nil {
			return fmt.Errorf("save correlation state: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM correlation_journal WHERE seq <= ?`, journalSeq); err != nil {
			return fmt.Errorf("save correlation state: trim the journal: %w", err)
		}
		return nil
	})
}

// CorrelationJournal returns the journal entries after afterSeq, in order.
func (db *DB) CorrelationJournal(ctx context.Context, afterSeq int64) ([]store.JournalEntry, error) {
	return list(ctx, db, "correlation journal", func(r scanner) (store.JournalEntry, error) {
		var e store.JournalEntry
		var grp, batch []byte
		err := r.Scan(&e.Seq, &grp, &batch, &e.Data)
		if err == nil && (len(grp) != len(event.ID{}) || len(batch) != len(event.ID{})) {
			err = fmt.Errorf("journal entry %d: group or batch id of %d and %d bytes", e.Seq, len(grp), len(batch))
		}
		copy(e.Group[:], grp)
		copy(e.Batch[:], batch)
		return e, err
	}, `SELECT seq, grp, batch_id, data FROM correlation_journal WHERE seq > ? ORDER BY seq`, afterSeq)
}
