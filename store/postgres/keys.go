package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

const keyColumns = `id, workspace, name, scope, prefix, hash, created, last_used, revoked, expires, allow`

func scanKey(row scanner) (tenant.APIKey, error) {
	var k tenant.APIKey
	var created int64
	var used, revoked, expires *int64
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

// CreateKey stores a key of an existing workspace; ErrConflict when its id
// or hash is taken.
func (db *DB) CreateKey(ctx context.Context, k tenant.APIKey) error {
	if err := store.CheckKey(k); err != nil {
		return err
	}
	if k.Created.IsZero() {
		k.Created = db.now()
	}
	return db.tx(ctx, "create key", func(tx pgx.Tx) error { return insertKey(ctx, tx, k) })
}

func insertKey(ctx context.Context, tx pgx.Tx, k tenant.APIKey) error {
	if _, err := workspace(ctx, tx, k.Workspace); err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	if err := store.CheckKeyAllow(k); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT DO NOTHING`,
		k.ID, k.Workspace, k.Name, k.Scope, k.Prefix, k.Hash, nanos(k.Created), nullNanos(k.LastUsed), nullNanos(k.Revoked),
		nullNanos(k.Expires), strings.Join(k.Allow, ","))
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("key %s (or its hash): %w", k.ID, store.ErrConflict)
	}
	return nil
}

// RotateKey stores successor and has key id expire at oldExpires (or
// earlier, if it expires earlier already); see store.Store.
func (db *DB) RotateKey(ctx context.Context, workspace, id string, successor tenant.APIKey, oldExpires time.Time) error {
	return db.tx(ctx, "rotate key", func(tx pgx.Tx) error {
		old, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE workspace = $1 AND id = $2 FOR UPDATE`, workspace, id))
		if errors.Is(err, pgx.ErrNoRows) {
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
		if successor.Created.IsZero() {
			successor.Created = db.now()
		}
		if err := insertKey(ctx, tx, successor); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET expires = least(coalesce(expires, $1), $1) WHERE id = $2`, nanos(oldExpires), id); err != nil {
			return fmt.Errorf("rotate key %s: %w", id, err)
		}
		return nil
	})
}

// KeyByHash returns the key with this secret hash, revoked or not.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (tenant.APIKey, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return tenant.APIKey{}, fmt.Errorf("key by hash: %w", store.ErrNotFound)
	}
	if err != nil {
		return tenant.APIKey{}, fmt.Errorf("key by hash: %w", err)
	}
	return k, nil
}

// Keys lists a workspace's keys, oldest first.
func (db *DB) Keys(ctx context.Context, workspace string) ([]tenant.APIKey, error) {
	return collect(ctx, db.pool, "keys of "+workspace, scanKey,
		`SELECT `+keyColumns+` FROM api_keys WHERE workspace = $1 ORDER BY created, id`, workspace)
}

// RevokeKey revokes a workspace's key; revoking again keeps the first time.
// The last live admin key of the workspace stays (store.ErrLastAdminKey):
// the workspace's admin keys are locked first, so that two revocations of
// its last two admin keys cannot both pass the check.
func (db *DB) RevokeKey(ctx context.Context, workspace, id string, at time.Time) error {
	return db.tx(ctx, "revoke key", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM api_keys WHERE workspace = $1 AND scope = $2 ORDER BY id FOR UPDATE`,
			workspace, tenant.ScopeAdmin); err != nil {
			return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, err)
		}
		var scope string
		var revoked *int64
		err := tx.QueryRow(ctx, `SELECT scope, revoked FROM api_keys WHERE workspace = $1 AND id = $2 FOR UPDATE`, workspace, id).Scan(&scope, &revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, err)
		}
		if scope == tenant.ScopeAdmin && revoked == nil {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE workspace = $1 AND id <> $2 AND scope = $3 AND revoked IS NULL
				AND (expires IS NULL OR expires > $4)`, workspace, id, tenant.ScopeAdmin, nanos(at)).Scan(&others); err != nil {
				return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, err)
			}
			if others == 0 {
				return fmt.Errorf("revoke key %s: %w", id, store.ErrLastAdminKey)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys SET revoked = coalesce(revoked, $1) WHERE workspace = $2 AND id = $3`, nanos(at), workspace, id)
		if err != nil {
			return fmt.Errorf("revoke key %s in workspace %s: %w", id, workspace, err)
		}
		return nil
	})
}

// TouchKey records that a key was used at at (it never moves back).
func (db *DB) TouchKey(ctx context.Context, id string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE api_keys SET last_used = greatest(coalesce(last_used, $1), $1) WHERE id = $2`, nanos(at), id)
	if err != nil {
		return fmt.Errorf("touch key %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("touch key %s: %w", id, store.ErrNotFound)
	}
	return nil
}
