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

const sourceColumns = `workspace, name, format, product, category, service, timezone, created, last_seen, events, rejected, quarantined, silent_after, no_silence_alert`

func scanSource(row scanner) (tenant.Source, error) {
	var s tenant.Source
	var created int64
	var seen sql.NullInt64
	var silentAfter int64
	if err := row.Scan(&s.Workspace, &s.Name, &s.Format, &s.Logsource.Product, &s.Logsource.Category,
		&s.Logsource.Service, &s.TimeZone, &created, &seen, &s.Events, &s.Rejected, &s.Quarantined, &silentAfter, &s.NoSilenceAlert); err != nil {
		return tenant.Source{}, err
	}
	s.Created, s.LastSeen = fromNanos(created), fromNullNanos(seen)
	s.SilentAfter = time.Duration(silentAfter)
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

// CreateSource creates a source of an existing workspace, unless one of its
// name exists (store.ErrConflict) or the workspace holds max sources
// (max > 0; tenant.ErrSourceLimit); see store.Store.
func (db *DB) CreateSource(ctx context.Context, s tenant.Source, max int) error {
	if s.Name == "" || s.Format == "" {
		return fmt.Errorf("create source %q in workspace %s: name and format must be set: %w", s.Name, s.Workspace, store.ErrInvalid)
	}
	return db.write(ctx, "create source", func(tx *sql.Tx) error {
		if _, err := workspace(ctx, tx, s.Workspace); err != nil {
			return fmt.Errorf("create source %s: %w", s.Name, err)
		}
		var exists, n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(name = ?), 0) FROM sources WHERE workspace = ?`,
			s.Name, s.Workspace).Scan(&n, &exists); err != nil {
			return fmt.Errorf("create source %s/%s: %w", s.Workspace, s.Name, err)
		}
		switch {
		case exists > 0:
			return fmt.Errorf("source %s/%s: %w", s.Workspace, s.Name, store.ErrConflict)
		case max > 0 && n >= max:
			return fmt.Errorf("create source %s/%s: %w (%d)", s.Workspace, s.Name, tenant.ErrSourceLimit, max)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (workspace, name, format, product, category, service, timezone, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			s.Workspace, s.Name, s.Format, s.Logsource.Product, s.Logsource.Category, s.Logsource.Service, s.TimeZone, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("create source %s/%s: %w", s.Workspace, s.Name, err)
		}
		return nil
	})
}

// SourcePage lists a workspace's sources by name, a page at a time.
func (db *DB) SourcePage(ctx context.Context, workspace string, q store.SourceQuery) ([]tenant.Source, string, error) {
	n := limit(q.Limit)
	where, args := "workspace = ?", []any{workspace}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "sources")
		if err != nil {
			return nil, "", fmt.Errorf("sources of %s: %w", workspace, err)
		}
		where += " AND name > ?"
		args = append(args, c.s)
	}
	args = append(args, n+1)
	out, err := list(ctx, db, "sources of "+workspace, scanSource, `SELECT `+sourceColumns+` FROM sources WHERE `+where+` ORDER BY name LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor("sources", cursor{s: out[n-1].Name})
	}
	return out, next, nil
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

// SetSourceControls sets a source's controls (see tenant.SourceControls)
// and returns the source after.
func (db *DB) SetSourceControls(ctx context.Context, workspace, name string, c tenant.SourceControls) (tenant.Source, error) {
	if c.SilentAfter < 0 {
		return tenant.Source{}, fmt.Errorf("source %s/%s: negative silent-after %s: %w", workspace, name, c.SilentAfter, store.ErrInvalid)
	}
	err := db.write(ctx, "set source controls", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sources SET quarantined = ?, silent_after = ?, no_silence_alert = ?
			WHERE workspace = ? AND name = ?`, c.Quarantined, int64(c.SilentAfter), c.NoSilenceAlert, workspace, name)
		if err != nil {
			return fmt.Errorf("set controls of source %s/%s: %w", workspace, name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("source %s in workspace %s: %w", name, workspace, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return tenant.Source{}, err
	}
	return db.Source(ctx, workspace, name)
}
