package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// correlationStateName is the row of the detect stage's correlator: one
// per store, as one stage commits to it.
const correlationStateName = "detect"

// CorrelationState returns the correlator state last saved (nil when none
// was): the open windows a restarted detect stage carries on with.
func (db *DB) CorrelationState(ctx context.Context) ([]byte, error) {
	var data []byte
	err := db.r.QueryRowContext(ctx, `SELECT data FROM correlation_state WHERE name = ?`, correlationStateName).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read correlation state: %w", err)
	}
	return data, nil
}

// SaveCorrelationState replaces the saved correlator state.
func (db *DB) SaveCorrelationState(ctx context.Context, data []byte) error {
	return db.write(ctx, "save correlation state", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO correlation_state (name, data, updated) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated`,
			correlationStateName, data, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("save correlation state: %w", err)
		}
		return nil
	})
}
