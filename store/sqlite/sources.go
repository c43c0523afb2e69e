package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

const sourceColumns = `workspace, name, format, product, category, service, timezone, created, last_seen, events, rejected`

func scanSource(row scanner) (tenant.Source, error) {
	var s tenant.Source
	var created int64
	var seen sql.NullInt64
	if err := row.Scan(&s.Workspace, &s.Name, &s.Format, &s.Logsource.Product, &s.Logsource.Category,
		&s.Logsource.Service, &s.TimeZone, &created, &seen, &s.Events, &s.Rejected); err != nil {
		return tenant.Source{}, err
	}
	s.Created, s.LastSeen = fromNanos(created), fromNullNanos(seen)
	return s, nil
}

// PutSource creates a source of an existing workspace or updates its format,
// logsource and time zone; the counters are Commit's and stay as they are.
func (db *DB) PutSource(ctx context.Context, s tenant.Source) error {
	if s.Name == "" || s.Format == "" {
		return fmt.Errorf("put source %q in workspace %s: name and format must be set: %w", s.Name, s.Workspace, store.ErrInvalid)
	}
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			return fmt.Errorf("put source %s/%s: time zone %q: %w (%v)", s.Workspace, s.Name, s.TimeZone, store.ErrInvalid, err)
		}
	}
	return db.write(ctx, "put source", func(tx *sql.Tx) error {
		if _, err := workspace(ctx, tx, s.Workspace); err != nil {
			return fmt.Errorf("put source %s: %w", s.Name, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (workspace, name, format, product, category, service, timezone, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace, name) DO UPDATE SET
				format = excluded.format, product = excluded.product, category = excluded.category,
				service = excluded.service, timezone = excluded.timezone`,
			s.Workspace, s.Name, s.Format, s.Logsource.Product, s.Logsource.Category, s.Logsource.Service,
			s.TimeZone, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("put source %s/%s: %w", s.Workspace, s.Name, err)
		}
		return nil
	})
}

// Source returns one source of workspace.
func (db *DB) Source(ctx context.Context, workspace, name string) (tenant.Source, error) {
	s, err := scanSource(db.r.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE workspace = ? AND name = ?`, workspace, name))
	if errors.Is(err, sql.ErrNoRows) {
		return tenant.Source{}, fmt.Errorf("source %s in workspace %s: %w", name, workspace, store.ErrNotFound)
	}
	if err != nil {
		return tenant.Source{}, fmt.Errorf("source %s in workspace %s: %w", name, workspace, err)
	}
	return s, nil
}

// Sources lists a workspace's sources by name.
func (db *DB) Sources(ctx context.Context, workspace string) ([]tenant.Source, error) {
	return list(ctx, db, "sources of "+workspace, scanSource, `SELECT `+sourceColumns+` FROM sources WHERE workspace = ? ORDER BY name`, workspace)
}
