package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

const keyColumns = `id, workspace, name, scope, prefix, hash, created, last_used, revoked, expires, allow`

func scanKey(row scanner) (tenant.APIKey, error) {
	var k tenant.APIKey
	var created int64
	var used, revoked, expires sql.NullInt64
	var allow string
	if err := row.Scan(&k.ID, &k.Workspace, &k.Name, &k.Scope, &k.Prefix, &k.Hash, &created, &used, &revoked, &expires, &allow); err != nil {
		return tenant.APIKey{}, err
	}
	k.Created = fromNanos(created)
	k.LastUsed, k.Revoked, k.Expires = fromNullNanos(used), fromNullNanos(revoked), fromNullNanos(expires)
	if allow != "" {
		k.Allow = strings.Split(allow, ",")
	}
	return k, nil
}

// CreateKey stores a key of an existing workspace; ErrConflict when its id or
// hash is taken.
func (db *DB) CreateKey(ctx context.Context, k tenant.APIKey) error {
	if err := store.CheckKey(k); err != nil {
		return err
	}
	if k.Created.IsZero() {
		k.Created = db.now()
	}
	return db.write(ctx, "create key", func(tx *sql.Tx) error { return insertKey(ctx, tx, k) })
}

func insertKey(ctx context.Context, tx *sql.Tx, k tenant.APIKey) error {
	if _, err := workspace(ctx, tx, k.Workspace); err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	if err := store.CheckKeyAllow(k); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		k.ID, k.Workspace, k.Name, k.Scope, k.Prefix, k.Hash, nanos(k.Created), nullNanos(k.LastUsed), nullNanos(k.Revoked),
		nullNanos(k.Expires), strings.Join(k.Allow, ","))
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	} else if n == 0 {
		return fmt.Errorf("key %s (or its hash): %w", k.ID, store.ErrConflict)
	}
	return nil
}

// RotateKey stores successor and has key id expire at oldExpires (or
// earlier, if it expires earlier already); see store.Store.
func (db *DB) RotateKey(ctx context.Context, workspace, id string, successor tenant.APIKey, oldExpires time.Time) error {
	return db.write(ctx, "rotate key", func(tx *sql.Tx) error {
		old, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE workspace = ? AND id = ?`, workspace, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("rotate key %s in workspace %s: %w", id, workspace, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("rotate key %s in workspace %s: %w", id, workspace, err)
		}
		if old.Revoked != nil {
			return fmt.Errorf("rotate key %s: it is revoked: %w", id, store.ErrInvalid)
		}
		if successor.Workspace != workspace {
			return fmt.Errorf("rotate key %s: successor of workspace %q: %w", id, successor.Workspace, store.ErrInvalid)
		}
		if err := insertKey(ctx, tx, successor); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET expires = min(coalesce(expires, ?1), ?1) WHERE id = ?2`, nanos(oldExpires), id)
		if err != nil {
			return fmt.Errorf("rotate key %s: %w", id, err)
		}
		return nil
	})
}

// KeyByHash returns the key with this secret hash, revoked or not.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (tenant.APIKey, error) {
	k, err := scanKey(db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return tenant.APIKey{}, fmt.Errorf("key by hash: %w", store.ErrNotFound)
	}
	if err != nil {
		return tenant.APIKey{}, fmt.Errorf("key by hash: %w", err)
	}
	return k, nil
}

// Keys lists a workspace's keys, oldest first.
func (db *DB) Keys(ctx context.Context, workspace string) ([]tenant.APIKey, error) {
	return list(ctx, db, "keys of "+workspace, scanKey, `SELECT `+keyColumns+` FROM api_keys WHERE workspace = ? ORDER BY created, id`, workspace)
}

// RevokeKey revokes a workspace's key; revoking again keeps the first time.
// The last live admin key of the workspace stays (store.ErrLastAdminKey).
func (db *DB) RevokeKey(ctx context.Context, workspace, id string, at time.Time) error {
	return db.write(ctx, "revoke key", func(tx *sql.Tx) error {
		var scope string
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT scope, revoked FROM api_keys WHERE workspace = ? AND id = ?`, workspace, id).Scan(&scope, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, err)
		}
		if scope == tenant.ScopeAdmin && !revoked.Valid {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE workspace = ? AND id != ? AND scope = ? AND revoked IS NULL
				AND (expires IS NULL OR expires > ?)`,
				workspace, id, tenant.ScopeAdmin, nanos(at)).Scan(&others); err != nil {
				return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, err)
			}
			if others == 0 {
				return fmt.Errorf("revoke key %s: %w", id, store.ErrLastAdminKey)
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked = coalesce(revoked, ?) WHERE workspace = ? AND id = ?`,
			nanos(at), workspace, id)
		return affectedOne(res, err, fmt.Sprintf("revoke key %s in workspace %s", id, workspace))
	})
}

// TouchKey records that a key was used at at (it never moves back).
func (db *DB) TouchKey(ctx context.Context, id string, at time.Time) error {
	return db.write(ctx, "touch key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used = max(coalesce(last_used, ?), ?) WHERE id = ?`,
			nanos(at), nanos(at), id)
		return affectedOne(res, err, "touch key "+id)
	})
}

// affectedOne turns an UPDATE that matched no row into ErrNotFound.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}
