package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	tag, err := db.pool.Exec(ctx, `INSERT INTO workspaces (name, tier, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		w.Name, w.Tier, nanos(w.Created))
	if err != nil {
		return tenant.Workspace{}, fmt.Errorf("create workspace %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: %w", name, store.ErrConflict)
	}
	return w, nil
}

// SetWorkspaceTier changes a workspace's tier and writes the audit entry
// in the same transaction.
func (db *DB) SetWorkspaceTier(ctx context.Context, name, tier, actor string) (tenant.Workspace, error) {
	if err := store.CheckTier(name, tier); err != nil {
		return tenant.Workspace{}, err
	}
	if actor == "" {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: tier change without an actor: %w", name, store.ErrInvalid)
	}
	var old tenant.Workspace
	err := db.tx(ctx, "set workspace tier", func(tx pgx.Tx) error {
		var err error
		old, err = scanWorkspace(tx.QueryRow(ctx, `SELECT name, tier, created FROM workspaces WHERE name = $1 FOR UPDATE`, name))
		if err != nil {
			return workspaceErr(name, err)
		}
		if old.Tier == tier {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE workspaces SET tier = $1 WHERE name = $2`, tier, name); err != nil {
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
	return workspace(ctx, db.pool, name)
}

func workspace(ctx context.Context, q querier, name string) (tenant.Workspace, error) {
	w, err := scanWorkspace(q.QueryRow(ctx, `SELECT name, tier, created FROM workspaces WHERE name = $1`, name))
	if err != nil {
		return tenant.Workspace{}, workspaceErr(name, err)
	}
	return w, nil
}

func workspaceErr(name string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("workspace %s: %w", name, store.ErrNotFound)
	}
	return fmt.Errorf("workspace %s: %w", name, err)
}

// Workspaces lists all workspaces by name.
func (db *DB) Workspaces(ctx context.Context) ([]tenant.Workspace, error) {
	return collect(ctx, db.pool, "workspaces", scanWorkspace, `SELECT name, tier, created FROM workspaces ORDER BY name`)
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
