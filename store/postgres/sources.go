package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

const sourceColumns = `workspace, name, format, product, category, service, timezone, created, last_seen, events, rejected,
	quarantined, silent_after, no_silence_alert`

func scanSource(row scanner) (tenant.Source, error) {
	var s tenant.Source
	var created int64
	var seen *int64
	var silentAfter int64
	if err := row.Scan(&s.Workspace, &s.Name, &s.Format, &s.Logsource.Product, &s.Logsource.Category,
		&s.Logsource.Service, &s.TimeZone, &created, &seen, &s.Events, &s.Rejected,
		&s.Quarantined, &silentAfter, &s.NoSilenceAlert); err != nil {
		return tenant.Source{}, err
	}
	s.Created, s.LastSeen = fromNanos(created), fromNullNanos(seen)
	s.SilentAfter = time.Duration(silentAfter)
	return s, nil
}

// PutSource creates a source of an existing workspace or updates its
// format, logsource and time zone; the counters are Commit's.
func (db *DB) PutSource(ctx context.Context, s tenant.Source) error {
	if s.Name == "" || s.Format == "" {
		return fmt.Errorf("put source %q in workspace %s: name and format must be set: %w", s.Name, s.Workspace, store.ErrInvalid)
	}
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			return fmt.Errorf("put source %s/%s: time zone %q: %w (%v)", s.Workspace, s.Name, s.TimeZone, store.ErrInvalid, err)
		}
	}
	return db.tx(ctx, "put source", func(tx pgx.Tx) error {
		if _, err := workspace(ctx, tx, s.Workspace); err != nil {
			return fmt.Errorf("put source %s: %w", s.Name, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO sources (workspace, name, format, product, category, service, timezone, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
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

// CreateSource creates a source of an existing workspace, unless one of its
// name exists (store.ErrConflict) or the workspace holds max sources
// (max > 0; tenant.ErrSourceLimit). The workspace's row is locked so that
// concurrent creations count each other.
func (db *DB) CreateSource(ctx context.Context, s tenant.Source, max int) error {
	if s.Name == "" || s.Format == "" {
		return fmt.Errorf("create source %q in workspace %s: name and format must be set: %w", s.Name, s.Workspace, store.ErrInvalid)
	}
	return db.tx(ctx, "create source", func(tx pgx.Tx) error {
		if _, err := scanWorkspace(tx.QueryRow(ctx, `SELECT name, tier, created FROM workspaces WHERE name = $1 FOR UPDATE`, s.Workspace)); err != nil {
			return fmt.Errorf("create source %s: %w", s.Name, workspaceErr(s.Workspace, err))
		}
		var n, exists int
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE name = $1) FROM sources WHERE workspace = $2`,
			s.Name, s.Workspace).Scan(&n, &exists); err != nil {
			return fmt.Errorf("create source %s/%s: %w", s.Workspace, s.Name, err)
		}
		switch {
		case exists > 0:
			return fmt.Errorf("source %s/%s: %w", s.Workspace, s.Name, store.ErrConflict)
		case max > 0 && n >= max:
			return fmt.Errorf("create source %s/%s: %w (%d)", s.Workspace, s.Name, tenant.ErrSourceLimit, max)
		}
		// A Commit may have made the source meanwhile (without the
		// workspace's lock): that is a conflict too.
		tag, err := tx.Exec(ctx, `INSERT INTO sources (workspace, name, format, product, category, service, timezone, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			s.Workspace, s.Name, s.Format, s.Logsource.Product, s.Logsource.Category, s.Logsource.Service, s.TimeZone, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("create source %s/%s: %w", s.Workspace, s.Name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("source %s/%s: %w", s.Workspace, s.Name, store.ErrConflict)
		}
		return nil
	})
}

// SourcePage lists a workspace's sources by name, a page at a time.
func (db *DB) SourcePage(ctx context.Context, workspace string, q store.SourceQuery) ([]tenant.Source, string, error) {
	n := store.PageLimit(q.Limit)
	where, args := "workspace = $1", []any{workspace}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor, "sources")
		if err != nil {
			return nil, "", fmt.Errorf("sources of %s: %w", workspace, err)
		}
		where += " AND name > $2"
		args = append(args, c.S)
	}
	args = append(args, n+1)
	out, err := collect(ctx, db.pool, "sources of "+workspace, scanSource,
		`SELECT `+sourceColumns+` FROM sources WHERE `+where+fmt.Sprintf(` ORDER BY name LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = store.EncodeCursor("sources", store.Cursor{S: out[n-1].Name})
	}
	return out, next, nil
}

// Source returns one source of workspace.
func (db *DB) Source(ctx context.Context, workspace, name string) (tenant.Source, error) {
	s, err := scanSource(db.pool.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE workspace = $1 AND name = $2`, workspace, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return tenant.Source{}, fmt.Errorf("source %s in workspace %s: %w", name, workspace, store.ErrNotFound)
	}
	if err != nil {
		return tenant.Source{}, fmt.Errorf("source %s in workspace %s: %w", name, workspace, err)
	}
	return s, nil
}

// Sources lists a workspace's sources by name.
func (db *DB) Sources(ctx context.Context, workspace string) ([]tenant.Source, error) {
	return collect(ctx, db.pool, "sources of "+workspace, scanSource,
		`SELECT `+sourceColumns+` FROM sources WHERE workspace = $1 ORDER BY name`, workspace)
}

// SetSourceControls sets a source's controls (tenant.SourceControls) and
// returns the source; ErrNotFound when the workspace has none of name.
func (db *DB) SetSourceControls(ctx context.Context, workspace, name string, c tenant.SourceControls) (tenant.Source, error) {
	if c.SilentAfter < 0 {
		return tenant.Source{}, fmt.Errorf("source %s/%s: negative silent-after %s: %w", workspace, name, c.SilentAfter, store.ErrInvalid)
	}
	src, err := scanSource(db.pool.QueryRow(ctx, `UPDATE sources SET quarantined = $1, silent_after = $2, no_silence_alert = $3
		WHERE workspace = $4 AND name = $5 RETURNING `+sourceColumns, c.Quarantined, int64(c.SilentAfter), c.NoSilenceAlert, workspace, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return tenant.Source{}, fmt.Errorf("source %s in workspace %s: %w", name, workspace, store.ErrNotFound)
	}
	if err != nil {
		return tenant.Source{}, fmt.Errorf("set controls of source %s/%s: %w", workspace, name, err)
	}
	return src, nil
}
