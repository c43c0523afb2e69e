// Package sqlite is vigil's embedded store: one SQLite database file (in WAL
// mode) under the data directory, through the pure-Go modernc.org/sqlite
// driver. Events are kept as compressed blocks, one row per committed bus
// batch, with an index of the entity values each block holds; alerts, keys,
// sources and the audit log are plain rows. Every row carries its workspace
// and every query filters on it.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigil-sec/vigil/store"
)

var _ store.Store = (*DB)(nil)

// DefaultDedupWindow is how long after an alert was last seen a signal of the
// same dedup key still joins it.
const DefaultDedupWindow = 24 * time.Hour

// Options configure a DB.
type Options struct {
	// DedupWindow: a signal joins the open alert of its dedup key when that
	// alert was last seen at most this long before the signal; default 24h.
	DedupWindow time.Duration
	// Logger receives the store's diagnostics; nil discards them.
	Logger *slog.Logger
	// Compression of new event blocks: "zstd" (default; smallest) or "s2"
	// (about a third of zstd's CPU, blocks about 1.5 times larger). Blocks
	// of either kind are read whatever the setting.
	Compression string
}

// DB is the SQLite store. It is safe for concurrent use: writes go through
// one connection (SQLite has one writer at a time, and a single connection
// turns lock contention into Go-side queueing), reads through a pool that
// sees the last committed state thanks to WAL.
type DB struct {
	w, r   *sql.DB
	path   string
	window time.Duration
	log    *slog.Logger
	codec  codec
	comp   byte // compression of new blocks: compZstd; compS2 in benchmarks
	now    func() time.Time
	st     stmts
	// feedLocks serializes the refreshes of each feed (workspace/feed →
	// *sync.Mutex): a refresh spans several transactions.
	feedLocks sync.Map
	// changes wakes the alert stream's consumers (alertchanges.go).
	changes changeSignal
	// incidentChanges wakes the incident stream's consumers
	// (incidentrows.go).
	incidentChanges changeSignal
	// blocks keeps the event blocks EventsByID (and so Event)
	// decompressed last.
	blocks *store.BlockCache
	// paneFromAlerts has the threat pane read every alert of a range, not
	// threat_days: tests compare the two (threatdays.go).
	paneFromAlerts bool
}

// stmts are the statements of Commit, prepared once on the writer: parsing
// the SQL costs more than running it, at the rate Commit runs them.
type stmts struct {
	blockExists, insertBlock, insertEntity, insertEntities  *sql.Stmt
	openAlert, upsertAlert, updateAlert, insertAlertEntity  *sql.Stmt
	insertAlertChange                                       *sql.Stmt
	upsertSource, recordSpan, insertEvidence, insertBatchID *sql.Stmt
}

func (db *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&db.st.blockExists, sqlBlockExists},
		{&db.st.insertBlock, sqlInsertBlock},
		{&db.st.insertBatchID, sqlInsertBatchID},
		{&db.st.insertEntity, sqlInsertEntity},
		{&db.st.insertEntities, sqlInsertEntities},
		{&db.st.openAlert, sqlOpenAlert},
		{&db.st.upsertAlert, sqlUpsertAlert},
		{&db.st.updateAlert, sqlUpdateAlert},
		{&db.st.insertAlertEntity, sqlInsertAlertEntity},
		{&db.st.upsertSource, sqlUpsertSource},
		{&db.st.recordSpan, sqlRecordSpan},
		{&db.st.insertEvidence, sqlInsertEvidence},
		{&db.st.insertAlertChange, sqlInsertAlertChange},
	} {
		st, err := db.w.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("open store %s: prepare %q: %w", db.path, p.sql, err)
		}
		*p.st = st
	}
	return nil
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("open store: path %q: %w (a file is needed: writer and readers share it)", path, store.ErrInvalid)
	}
	if opts.DedupWindow < 0 {
		return nil, fmt.Errorf("open store: dedup window %v: %w (must not be negative)", opts.DedupWindow, store.ErrInvalid)
	}
	if opts.DedupWindow == 0 {
		opts.DedupWindow = DefaultDedupWindow
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open store: create directory %s: %w", dir, err)
		}
	}
	if err := createPrivate(path, opts.Logger); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", dsn(path, "immediate", false))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	db := &DB{w: w, path: path, window: opts.DedupWindow, log: opts.Logger, comp: compZstd, now: time.Now,
		blocks: store.NewBlockCache(store.EventBlockCacheSize)}
	switch opts.Compression {
	case "", "zstd":
	case "s2":
		db.comp = compS2
	default:
		w.Close()
		return nil, fmt.Errorf("open store %s: compression %q: want zstd or s2", path, opts.Compression)
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Readers open after the migrations so that WAL mode is set on the file.
	r, err := sql.Open("sqlite", dsn(path, "deferred", true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s for reading: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open store %s for reading: %w", path, err)
	}
	db.r = r
	if db.codec, err = newCodec(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// createPrivate creates the database file for its owner only, before
// SQLite does (with 0644): SQLite gives the WAL and shared-memory files the
// database's mode. An existing file others may read is left alone, since
// an operator may mean it, but warned about.
func createPrivate(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the store's database is readable by others: it holds key hashes and every workspace's events",
			"path", path, "mode", fi.Mode().Perm().String(), "fix", "chmod 600 "+path)
	}
	return nil
}

func dsn(path, txlock string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		// Guards against a write slipping into the reader pool, where it
		// would contend with the writer instead of queueing behind it.
		q.Add("_pragma", "query_only(1)")
	}
	q.Set("_txlock", txlock)
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{db.st.blockExists, db.st.insertBlock, db.st.insertEntity, db.st.insertEntities,
		db.st.openAlert, db.st.upsertAlert, db.st.updateAlert, db.st.insertAlertEntity, db.st.upsertSource, db.st.recordSpan, db.st.insertEvidence, db.st.insertBatchID, db.st.insertAlertChange} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if db.codec.BlockCodec != nil {
		db.codec.close()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// write runs fn in one immediate transaction on the writer connection.
func (db *DB) write(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// Times are kept as Unix nanoseconds (store.Nanos).
func nanos(t time.Time) int64 { return store.Nanos(t) }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullNanos(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: nanos(*t), Valid: true}
}

func fromNullNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// limit applies the paging default and cap of the store's queries
// (store.PageLimit).
func limit(n int) int { return store.PageLimit(n) }
