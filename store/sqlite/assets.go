package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/store"
)

var _ store.Assets = (*DB)(nil)

const assetColumns = `workspace, name, type, match, criticality, owner, environment, tags, updated`

func scanAsset(row scanner) (store.Asset, error) {
	var a store.Asset
	var match, tags string
	var updated int64
	if err := row.Scan(&a.Workspace, &a.Name, &a.Type, &match, &a.Criticality, &a.Owner, &a.Environment, &tags, &updated); err != nil {
		return store.Asset{}, err
	}
	if err := json.Unmarshal([]byte(match), &a.Match); err != nil {
		return store.Asset{}, fmt.Errorf("asset %s/%s: corrupt match: %w", a.Workspace, a.Name, err)
	}
	if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
		return store.Asset{}, fmt.Errorf("asset %s/%s: corrupt tags: %w", a.Workspace, a.Name, err)
	}
	a.Updated = fromNanos(updated)
	return a, nil
}

// Assets lists a workspace's assets by name.
func (db *DB) Assets(ctx context.Context, workspace string) ([]store.Asset, error) {
	return list(ctx, db, "assets of "+workspace, scanAsset,
		`SELECT `+assetColumns+` FROM assets WHERE workspace = ? ORDER BY name`, workspace)
}

// Asset returns one asset of workspace.
func (db *DB) Asset(ctx context.Context, workspace, name string) (store.Asset, error) {
	a, err := scanAsset(db.r.QueryRowContext(ctx, `SELECT `+assetColumns+` FROM assets WHERE workspace = ? AND name = ?`, workspace, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Asset{}, fmt.Errorf("asset %s/%s: %w", workspace, name, store.ErrNotFound)
	}
	if err != nil {
		return store.Asset{}, fmt.Errorf("asset %s/%s: %w", workspace, name, err)
	}
	return a, nil
}

// CreateAsset adds an asset; ErrConflict when its name is taken.
func (db *DB) CreateAsset(ctx context.Context, a store.Asset) error {
	what := "create asset in workspace " + a.Workspace
	if err := store.CheckAsset(&a); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return db.write(ctx, what, func(tx *sql.Tx) error {
		if err := db.assetRoom(ctx, tx, a.Workspace, 1); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM assets WHERE workspace = ? AND name = ?`, a.Workspace, a.Name).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n > 0 {
			return fmt.Errorf("asset %s/%s: %w", a.Workspace, a.Name, store.ErrConflict)
		}
		return db.upsertAsset(ctx, tx, a)
	})
}

// PutAsset creates or replaces an asset.
func (db *DB) PutAsset(ctx context.Context, a store.Asset) (bool, error) {
	what := "put asset in workspace " + a.Workspace
	if err := store.CheckAsset(&a); err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	created := false
	err := db.write(ctx, what, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM assets WHERE workspace = ? AND name = ?`, a.Workspace, a.Name).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if created = n == 0; created {
			if err := db.assetRoom(ctx, tx, a.Workspace, 1); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		return db.upsertAsset(ctx, tx, a)
	})
	return created, err
}

// ReplaceAssets makes list the workspace's inventory in one transaction.
func (db *DB) ReplaceAssets(ctx context.Context, ws string, list []store.Asset) error {
	what := "replace assets of workspace " + ws
	if len(list) > store.MaxAssets {
		return fmt.Errorf("%s: %d assets, at most %d: %w", what, len(list), store.MaxAssets, store.ErrInvalid)
	}
	seen := make(map[string]bool, len(list))
	for i := range list {
		list[i].Workspace = ws
		if err := store.CheckAsset(&list[i]); err != nil {
			return fmt.Errorf("%s: asset %d: %w", what, i+1, err)
		}
		if seen[list[i].Name] {
			return fmt.Errorf("%s: asset %d: name %q given twice: %w", what, i+1, list[i].Name, store.ErrInvalid)
		}
		seen[list[i].Name] = true
	}
	return db.write(ctx, what, func(tx *sql.Tx) error {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM assets WHERE workspace = ?`, ws); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, a := range list {
			if err := db.upsertAsset(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteAsset deletes one asset.
func (db *DB) DeleteAsset(ctx context.Context, workspace, name string) error {
	return db.write(ctx, "delete asset", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM assets WHERE workspace = ? AND name = ?`, workspace, name)
		if err != nil {
			return fmt.Errorf("delete asset %s/%s: %w", workspace, name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("asset %s/%s: %w", workspace, name, store.ErrNotFound)
		}
		return nil
	})
}

// assetRoom checks that the workspace exists and has room for n more
// assets.
func (db *DB) assetRoom(ctx context.Context, tx *sql.Tx, ws string, n int) error {
	if _, err := workspace(ctx, tx, ws); err != nil {
		return err
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM assets WHERE workspace = ?`, ws).Scan(&have); err != nil {
		return err
	}
	if have+n > store.MaxAssets {
		return fmt.Errorf("workspace %s holds %d assets, at most %d: %w", ws, have, store.MaxAssets, store.ErrInvalid)
	}
	return nil
}

func (db *DB) upsertAsset(ctx context.Context, tx *sql.Tx, a store.Asset) error {
	match, err := json.Marshal(nonNilStrings(a.Match))
	if err != nil {
		return fmt.Errorf("asset %s/%s: %w", a.Workspace, a.Name, err)
	}
	tags, err := json.Marshal(nonNilStrings(a.Tags))
	if err != nil {
		return fmt.Errorf("asset %s/%s: %w", a.Workspace, a.Name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO assets (`+assetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace, name) DO UPDATE SET type = excluded.type, match = excluded.match,
			criticality = excluded.criticality, owner = excluded.owner, environment = excluded.environment,
			tags = excluded.tags, updated = excluded.updated`,
		a.Workspace, a.Name, a.Type, string(match), a.Criticality, a.Owner, a.Environment, string(tags), nanos(db.now()))
	if err != nil {
		return fmt.Errorf("asset %s/%s: %w", a.Workspace, a.Name, err)
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
