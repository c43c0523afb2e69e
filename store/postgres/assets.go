package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	return collect(ctx, db.pool, "assets of "+workspace, scanAsset,
		`SELECT `+assetColumns+` FROM assets WHERE workspace = $1 ORDER BY name COLLATE "C"`, workspace)
}

// Asset returns one asset of workspace.
func (db *DB) Asset(ctx context.Context, workspace, name string) (store.Asset, error) {
	a, err := scanAsset(db.pool.QueryRow(ctx, `SELECT `+assetColumns+` FROM assets WHERE workspace = $1 AND name = $2`, workspace, name))
	if errors.Is(err, pgx.ErrNoRows) {
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
	return db.tx(ctx, what, func(tx pgx.Tx) error {
		if err := db.assetRoom(ctx, tx, a.Workspace, 1); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO assets (`+assetColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (workspace, name) DO NOTHING`, db.assetValues(a)...)
		if err != nil {
			return fmt.Errorf("asset %s/%s: %w", a.Workspace, a.Name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("asset %s/%s: %w", a.Workspace, a.Name, store.ErrConflict)
		}
		return nil
	})
}

// PutAsset creates or replaces an asset.
func (db *DB) PutAsset(ctx context.Context, a store.Asset) (bool, error) {
	what := "put asset in workspace " + a.Workspace
	if err := store.CheckAsset(&a); err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	created := false
	err := db.tx(ctx, what, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM assets WHERE workspace = $1 AND name = $2`, a.Workspace, a.Name).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if created = n == 0; created {
			if err := db.assetRoom(ctx, tx, a.Workspace, 1); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		// xmax = 0: the row was inserted, not updated (a concurrent
		// create of the same name makes this an update).
		err := tx.QueryRow(ctx, `INSERT INTO assets (`+assetColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (workspace, name) DO UPDATE SET type = excluded.type, match = excluded.match,
				criticality = excluded.criticality, owner = excluded.owner, environment = excluded.environment,
				tags = excluded.tags, updated = excluded.updated
			RETURNING xmax = 0`, db.assetValues(a)...).Scan(&created)
		if err != nil {
			return fmt.Errorf("asset %s/%s: %w", a.Workspace, a.Name, err)
		}
		return nil
	})
	return created, err
}

// ReplaceAssets makes list the workspace's inventory in one transaction,
// written with COPY.
func (db *DB) ReplaceAssets(ctx context.Context, ws string, list []store.Asset) error {
	what := "replace assets of workspace " + ws
	if len(list) > store.MaxAssets {
		return fmt.Errorf("%s: %d assets, at most %d: %w", what, len(list), store.MaxAssets, store.ErrInvalid)
	}
	seen := make(map[string]bool, len(list))
	rows := make([][]any, len(list))
	for i := range list {
		list[i].Workspace = ws
		if err := store.CheckAsset(&list[i]); err != nil {
			return fmt.Errorf("%s: asset %d: %w", what, i+1, err)
		}
		if seen[list[i].Name] {
			return fmt.Errorf("%s: asset %d: name %q given twice: %w", what, i+1, list[i].Name, store.ErrInvalid)
		}
		seen[list[i].Name] = true
		rows[i] = db.assetValues(list[i])
	}
	return db.tx(ctx, what, func(tx pgx.Tx) error {
		// FOR SHARE: the workspace stays while its inventory is written.
		if _, err := workspace(ctx, tx, ws); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM assets WHERE workspace = $1`, ws); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"assets"},
			[]string{"workspace", "name", "type", "match", "criticality", "owner", "environment", "tags", "updated"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// DeleteAsset deletes one asset.
func (db *DB) DeleteAsset(ctx context.Context, workspace, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM assets WHERE workspace = $1 AND name = $2`, workspace, name)
	if err != nil {
		return fmt.Errorf("delete asset %s/%s: %w", workspace, name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("asset %s/%s: %w", workspace, name, store.ErrNotFound)
	}
	return nil
}

// assetRoom checks that the workspace exists and has room for n more
// assets.
func (db *DB) assetRoom(ctx context.Context, tx pgx.Tx, ws string, n int) error {
	if _, err := workspace(ctx, tx, ws); err != nil {
		return err
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM assets WHERE workspace = $1`, ws).Scan(&have); err != nil {
		return err
	}
	if have+n > store.MaxAssets {
		return fmt.Errorf("workspace %s holds %d assets, at most %d: %w", ws, have, store.MaxAssets, store.ErrInvalid)
	}
	return nil
}

// assetValues are a's values of assetColumns, updated now. CheckAsset
// leaves owner, environment and tags free: text() keeps them storable.
func (db *DB) assetValues(a store.Asset) []any {
	tags := make([]string, len(a.Tags))
	for i, t := range a.Tags {
		tags[i] = text(t)
	}
	match, _ := json.Marshal(nonNilStrings(a.Match)) // strings always encode
	tj, _ := json.Marshal(tags)
	return []any{a.Workspace, a.Name, a.Type, string(match), a.Criticality, text(a.Owner), text(a.Environment), string(tj), nanos(db.now())}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
