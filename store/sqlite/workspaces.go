package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// CreateWorkspace creates a workspace; ErrConflict if the name is taken.
func (db *DB) CreateWorkspace(ctx context.Context, name, tier string) (tenant.Workspace, error) {
	if err := store.CheckWorkspaceName(name); err != nil {
		return tenant.Workspace{}, err
	}
	if err := store.CheckTier(name, tier); err != nil {
		return tenant.Workspace{}, err
	}
	w := tenant.Workspace{Name: name, Tier: tier, Created: fromNanos(nanos(db.now()))}
	err := db.write(ctx, "create workspace", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, tier, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			w.Name, w.Tier, nanos(w.Created))
		if err != nil {
			return fmt.Errorf("create workspace %s: %w", name, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("create workspace %s: %w", name, err)
		} else if n == 0 {
			return fmt.Errorf("workspace %s: %w", name, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return tenant.Workspace{}, err
	}
	return w, nil
}

// SetWorkspaceTier changes a workspace's tier and writes the audit entry
// in the same transaction, so that no change goes unrecorded.
func (db *DB) SetWorkspaceTier(ctx context.Context, name, tier, actor string) (tenant.Workspace, error) {
	if err := store.CheckTier(name, tier); err != nil {
		return tenant.Workspace{}, err
	}
	if actor == "" {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: tier change without an actor: %w", name, store.ErrInvalid)
	}
	var old tenant.Workspace
	err := db.write(ctx, "set workspace tier", func(tx *sql.Tx) error {
		var err error
		if old, err = workspace(ctx, tx, name); err != nil || old.Tier == tier {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET tier = ? WHERE name = ?`, tier, name); err != nil {
			return fmt.Errorf("workspace %s: set tier: %w", name, err)
		}
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: name, Time: db.now().UTC(), Actor: actor,
			Action: "workspace.tier", Target: "workspace:" + name, Detail: old.Tier + " -> " + tier})
	})
	if err != nil {
		return tenant.Workspace{}, err
	}
	return old, nil
}

// Workspace returns one workspace.
func (db *DB) Workspace(ctx context.Context, name string) (tenant.Workspace, error) {
	return workspace(ctx, db.r, name)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func workspace(ctx context.Context, q querier, name string) (tenant.Workspace, error) {
	w, err := scanWorkspace(q.QueryRowContext(ctx, `SELECT name, tier, created FROM workspaces WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: %w", name, err)
	}
	return w, nil
}

// Workspaces lists all workspaces by name.
func (db *DB) Workspaces(ctx context.Context) ([]tenant.Workspace, error) {
	return list(ctx, db, "workspaces", scanWorkspace, `SELECT name, tier, created FROM workspaces ORDER BY name`)
}

func scanWorkspace(row scanner) (tenant.Workspace, error) {
	var w tenant.Workspace
	var created int64
	if err := row.Scan(&w.Name, &w.Tier, &created); err != nil {
		return tenant.Workspace{}, err
	}
	w.Created = fromNanos(created)
	return w, nil
}
