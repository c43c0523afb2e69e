package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store"
)

// PutSignInState stores s after dropping the expired states of every
// kind; it refuses (store.ErrConflict) when max states of s's kind wait
// to be used already. Processes putting at once may pass max by a few:
// the bound keeps memory and the table small, it is no quota.
func (db *DB) PutSignInState(ctx context.Context, s store.SignInState, max int, now time.Time) error {
	what := "sign-in state " + s.Kind
	return db.tx(ctx, what, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM signin_states WHERE expires <= $1`, nanos(now)); err != nil {
			return fmt.Errorf("%s: drop expired: %w", what, err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM signin_states WHERE kind = $1`, s.Kind).Scan(&n); err != nil {
			return fmt.Errorf("%s: count: %w", what, err)
		}
		if max > 0 && n >= max {
			return fmt.Errorf("%s: %d wait to be used already: %w", what, n, store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO signin_states (kind, hash, data, expires) VALUES ($1, $2, $3, $4)`,
			s.Kind, s.Hash, s.Data, nanos(s.Expires)); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// TakeSignInState removes the state of kind with hash and returns it,
// expired or not: DELETE … RETURNING hands a row to one transaction only,
// so a state is used once, whichever process asks first.
// store.ErrNotFound when there is none.
func (db *DB) TakeSignInState(ctx context.Context, kind string, hash []byte) (store.SignInState, error) {
	s := store.SignInState{Kind: kind, Hash: hash}
	var exp int64
	err := db.pool.QueryRow(ctx, `DELETE FROM signin_states WHERE kind = $1 AND hash = $2 RETURNING data, expires`,
		kind, hash).Scan(&s.Data, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("take sign-in state %s: %w", kind, store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("take sign-in state %s: %w", kind, err)
	}
	s.Expires = fromNanos(exp)
	return s, nil
}
