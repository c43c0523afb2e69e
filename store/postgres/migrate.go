package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema's versions, NNNN_name.sql, applied in order,
// each in its own transaction, and recorded in schema_migrations. Never
// edit a released one: add the next.
//
//go:embed migrations/*.sql
var migrations embed.FS

// fills are the steps of a migration that SQL cannot take, run in its
// transaction after its SQL: the rows of data stored before it that only
// Go can compute (decoding event blocks).
var fills = map[int]func(ctx context.Context, tx pgx.Tx, db *DB) error{
	7: fillAlertDatabases,
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with its version, NNNN_", f)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (no gaps or repeats)", m.name, m.version, i+1)
		}
	}
	return out, nil
}

// lockClass is the first key of the session and transaction advisory
// locks of schema changes (the two-int form: apart from Commit's bigint
// keys); the second is the schema's hash, so that stores in two schemas
// of one database do not wait on each other.
const lockClass = 0x7669_6731 // "vig1"

func (db *DB) schemaLockKey() int32 {
	h := fnv.New32a()
	h.Write([]byte(db.schema))
	return int32(h.Sum32())
}

// migrate brings the schema up to date under a session advisory lock, so
// that processes started together apply each migration once: the others
// wait, then find nothing left to do.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if db.schema != "" {
		// Two processes creating the schema at once: one of them fails
		// on the catalog's unique index, harmlessly, as IF NOT EXISTS
		// does not lock; so it goes under the lock too.
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, 0)`, int32(lockClass)); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		_, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+db.schema)
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1, 0)`, int32(lockClass)) //nolint:errcheck // released with the session at worst
		if err != nil {
			return fmt.Errorf("migrate: create schema %s: %w", db.schema, err)
		}
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, int32(lockClass), db.schemaLockKey()); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, int32(lockClass), db.schemaLockKey()) //nolint:errcheck // released with the session at worst
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name    text NOT NULL,
		applied bigint NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: schema_migrations: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: schema version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("migrate: the database is at schema version %d, this vigil knows %d: it is older than the database", have, len(ms))
	}
	for _, m := range ms[have:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			if fill := fills[m.version]; fill != nil {
				if err := fill(ctx, tx, db); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`,
				m.version, m.name, nanos(db.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d (%s): %w", m.version, m.name, err)
		}
		db.log.Info("store schema migrated", "version", m.version, "name", m.name)
	}
	return nil
}
