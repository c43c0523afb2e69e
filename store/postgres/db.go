// Package postgres is vigil's store on PostgreSQL, for deployments that
// outgrow one machine: several vigil processes share one database. It keeps
// the store contract (store.Store) as store/sqlite does, and shares its
// policy through package store (batch checks, the alert merge rule,
// cursors, entity matching, the event block codec and paging). Events are
// kept as compressed blocks, one row a committed batch, with an index of
// their ids and entity values (each block's as one array insert), in
// tables partitioned by the day they were received; alerts, keys, sources and the audit log are
// plain rows. Beside the contract it keeps what `vigil serve` asks of a
// store (assets, baselines, the correlation journal, decisions,
// intelligence, noise control, the threat pane). Every row carries its
// workspace and every query filters on it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-sec/vigil/store"
)

var _ store.Store = (*DB)(nil)

// DefaultDedupWindow is how long after an alert was last seen a signal of
// the same dedup key still joins it (as store/sqlite's).
const DefaultDedupWindow = 24 * time.Hour

// Options configure a DB. Zero values take the defaults.
type Options struct {
	// DedupWindow: a signal joins the open alert of its dedup key when
	// that alert was last seen at most this long before it; default 24h.
	DedupWindow time.Duration
	// MaxConns caps the pool's connections (default 10); MinConns are
	// kept open (default 0).
	MaxConns, MinConns int32
	// MaxConnLifetime closes connections older than this (default 1h),
	// so that they spread over replicas behind a balancer again;
	// MaxConnIdleTime closes idle ones (default 30m).
	MaxConnLifetime, MaxConnIdleTime time.Duration
	// ConnectTimeout bounds a connection attempt (default 10s).
	ConnectTimeout time.Duration
	// PasswordFile, when set, names a file whose first line is the
	// password, which then overrides the DSN's and PGPASSWORD: a secret
	// mounted as a file stays out of the process's arguments and
	// environment. (PGPASSFILE, the standard .pgpass format, works too.)
	PasswordFile string
	// Schema, when set, is the schema the store's tables live in (created
	// if missing); default: the connection's search_path (public).
	Schema string
	// PartitionsAhead is how many days' event partitions Open makes ahead
	// of today (default 2); Commit makes any other a batch needs.
	PartitionsAhead int
	// Logger receives the store's diagnostics; nil discards them.
	Logger *slog.Logger
}

// DB is the PostgreSQL store. It is safe for concurrent use, and several
// processes may share one database: Commit serialises only the signals of
// one dedup key (transaction advisory locks), and migrations run under a
// session advisory lock.
type DB struct {
	pool   *pgxpool.Pool
	window time.Duration
	log    *slog.Logger
	now    func() time.Time
	schema string // "" when the search_path decides
	codec  *store.BlockCodec
	// blocks keeps the event blocks EventsByID decompressed last.
	blocks *store.BlockCache
	// parts are the event partitions known to exist, by day (partitions.go).
	partsMu sync.Mutex
	parts   map[int64]bool
	// streams are the alert and incident streams' signals (streams.go).
	streams streams
	// paneFromAlerts has the threat pane read every alert of a range, not
	// the count tables: tests compare the two (threatdays.go).
	paneFromAlerts bool
}

// Open connects to the database dsn names — a URL (postgres://…) or
// key=value words; empty: the standard PG* environment (PGHOST, PGUSER,
// PGSSLMODE, PGSSLROOTCERT…), which also fills what the DSN leaves out —
// and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.DedupWindow < 0 {
		return nil, fmt.Errorf("open store: dedup window %v: %w (must not be negative)", opts.DedupWindow, store.ErrInvalid)
	}
	if opts.DedupWindow == 0 {
		opts.DedupWindow = DefaultDedupWindow
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PartitionsAhead <= 0 {
		opts.PartitionsAhead = 2
	}
	cfg, err := poolConfig(dsn, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", describe(cfg.ConnConfig), err)
	}
	codec, err := store.NewBlockCodec()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	db := &DB{pool: pool, window: opts.DedupWindow, log: opts.Logger, now: time.Now,
		schema: opts.Schema, parts: map[int64]bool{}, codec: codec, blocks: store.NewBlockCache(store.EventBlockCacheSize)}
	db.streams.token = newToken()
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", describe(cfg.ConnConfig), err)
	}
	today := dayOf(nanos(db.now()))
	for d := range opts.PartitionsAhead + 1 {
		if err := db.ensurePartition(ctx, today+int64(d)*dayNanos); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", describe(cfg.ConnConfig), err)
		}
	}
	return db, nil
}

// poolConfig is the pool's configuration from dsn and opts.
func poolConfig(dsn string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's error may quote the DSN, password and all: say less.
		return nil, fmt.Errorf("open store: the PostgreSQL DSN does not parse: %w", store.ErrInvalid)
	}
	cfg.MaxConns = 10
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = min(opts.MinConns, cfg.MaxConns)
	}
	cfg.MaxConnLifetime = time.Hour
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	cfg.MaxConnIdleTime = 30 * time.Minute
	if opts.MaxConnIdleTime > 0 {
		cfg.MaxConnIdleTime = opts.MaxConnIdleTime
	}
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	if opts.ConnectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	if opts.PasswordFile != "" {
		b, err := os.ReadFile(opts.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("open store: password file: %w", err)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		cfg.ConnConfig.Password = strings.TrimRight(pw, "\r")
	}
	if opts.Schema != "" {
		if !validSchema(opts.Schema) {
			return nil, fmt.Errorf("open store: schema %q: %w (lowercase letters, digits and '_', not first a digit)", opts.Schema, store.ErrInvalid)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	return cfg, nil
}

// validSchema accepts names that need no quoting, so that they can be
// written into DDL as they are.
func validSchema(s string) bool {
	if s == "" || len(s) > 63 || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// describe names the server for errors, without credentials.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Close closes the pool.
func (db *DB) Close() error {
	db.stopListening()
	db.pool.Close()
	db.codec.Close()
	return nil
}

// tx runs fn in one transaction (read committed).
func (db *DB) tx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// Times are kept as Unix nanoseconds (store.Nanos), as store/sqlite keeps
// them.
func nanos(t time.Time) int64 { return store.Nanos(t) }

func fromNanos(n int64) time.Time { return store.FromNanos(n) }

func nullNanos(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	n := nanos(*t)
	return &n
}

func fromNullNanos(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := fromNanos(*n)
	return &t
}

// isCode reports whether err is a PostgreSQL error of that SQLSTATE.
func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// SQLSTATEs the store tells apart.
const (
	codeUniqueViolation = "23505"
	codeNoPartition     = "23514" // check_violation: no partition of relation found for row
	codeDuplicateTable  = "42P07"
)

// scanner is a row to scan: pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// collect runs a query and scans each row with scan.
func collect[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
