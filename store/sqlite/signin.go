package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// sqlMigrateSignIn keeps sign-in state (store.SignInState) in the store
// rather than in one process's memory, so that a single sign-on callback
// or a sign-in link may land on any API process of the store.
const sqlMigrateSignIn = `
CREATE TABLE signin_states (
	kind    TEXT NOT NULL,
	hash    BLOB NOT NULL,
	data    BLOB NOT NULL,
	expires INTEGER NOT NULL,
	PRIMARY KEY (kind, hash)
) WITHOUT ROWID;
CREATE INDEX signin_states_expiry ON signin_states (expires);
`

// PutSignInState stores s after dropping the expired states of every
// kind; it refuses (store.ErrConflict) when max states of s's kind wait
// to be used already.
func (db *DB) PutSignInState(ctx context.Context, s store.SignInState, max int, now time.Time) error {
	what := "sign-in state " + s.Kind
	return db.write(ctx, what, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_states WHERE expires <= ?`, nanos(now)); err != nil {
			return fmt.Errorf("%s: drop expired: %w", what, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM signin_states WHERE kind = ?`, s.Kind).Scan(&n); err != nil {
			return fmt.Errorf("%s: count: %w", what, err)
		}
		if max > 0 && n >= max {
			return fmt.Errorf("%s: %d wait to be used already: %w", what, n, store.ErrConflict)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO signin_states (kind, hash, data, expires) VALUES (?, ?, ?, ?)`, s.Kind, s.Hash, s.Data, nanos(s.Expires))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// TakeSignInState removes the state of kind with hash and returns it,
// expired or not: a state is used once, whichever process asks first.
// store.ErrNotFound when there is none.
func (db *DB) TakeSignInState(ctx context.Context, kind string, hash []byte) (store.SignInState, error) {
	s := store.SignInState{Kind: kind, Hash: hash}
	what := "take sign-in state " + kind
	err := db.write(ctx, what, func(tx *sql.Tx) error {
		var exp int64
		err := tx.QueryRowContext(ctx, `DELETE FROM signin_states WHERE kind = ? AND hash = ? RETURNING data, expires`,
			kind, hash).Scan(&s.Data, &exp)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		s.Expires = fromNanos(exp)
		return nil
	})
	return s, err
}
