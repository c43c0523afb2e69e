// Package teststore opens the store a test runs on, chosen once for the
// whole suite: SQLite in the test's temporary directory (the default), or,
// with VIGIL_TEST_STORE=postgres, a PostgreSQL schema of the test's own
// (VIGIL_TEST_STORE_URL, default the machine's
// postgres://postgres@127.0.0.1:5432/test), dropped when the test ends.
// Every package that tests against a real store opens it here, so that
// one variable moves the whole suite from one store to the other.
package teststore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
)

// The environment variables that choose the store.
const (
	EnvStore = "VIGIL_TEST_STORE"     // sqlite (default) or postgres
	EnvURL   = "VIGIL_TEST_STORE_URL" // the PostgreSQL of store postgres
)

// DefaultURL is the PostgreSQL of this machine's test setup (trust
// authentication, database test).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Kinds of store.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Kind is the store the suite runs on: VIGIL_TEST_STORE, or sqlite.
func Kind() string {
	if k := os.Getenv(EnvStore); k != "" {
		return k
	}
	return SQLite
}

// URL is the PostgreSQL the suite uses with store postgres:
// VIGIL_TEST_STORE_URL, else VIGIL_TEST_POSTGRES (store/postgres's own
// tests' variable), else DefaultURL.
func URL() string {
	for _, k := range []string{EnvURL, "VIGIL_TEST_POSTGRES"} {
		if u := os.Getenv(k); u != "" {
			return u
		}
	}
	return DefaultURL
}

// Options are what a test may ask of its store.
type Options struct {
	// DedupWindow: 0 takes the store's default.
	DedupWindow time.Duration
	// Compression is SQLite's event block compression ("" its default);
	// PostgreSQL's store has no choice of it.
	Compression string
}

// Open opens a new, empty store of the suite's kind for t, closed (and
// its schema dropped) when t ends, as T: the interface of what the test
// uses. A store that lacks some of T fails the test naming the methods it
// lacks, so that a test run on a store not yet complete says why.
func Open[T any](t testing.TB) T { return OpenWith[T](t, Options{}) }

// Reopenable is Open for a test of a restart: reopen closes the store
// last returned and opens the same data again (SQLite's file,
// PostgreSQL's schema), as a process that stops and starts again does.
func Reopenable[T any](t testing.TB) (st T, reopen func() T) {
	t.Helper()
	loc := place(t)
	var closeCur func() error
	next := func() T {
		t.Helper()
		if closeCur != nil {
			if err := closeCur(); err != nil {
				t.Fatalf("close the store before reopening it: %v", err)
			}
		}
		var st any
		st, closeCur = openAt(t, Options{}, loc)
		return as[T](t, st)
	}
	return next(), next
}

// OpenWith is Open with options.
func OpenWith[T any](t testing.TB, opts Options) T {
	t.Helper()
	st, _ := openAt(t, opts, place(t))
	return as[T](t, st)
}

// OpenShared opens a store of the suite's kind that no one test owns: one
// a test binary seeds once and its tests and benchmarks then share (SQLite
// in dir, PostgreSQL in a schema of its own). done closes it and drops
// the schema; the caller calls it when the tests end (TestMain), after
// an error too.
func OpenShared[T any](ctx context.Context, dir string, opts Options) (st T, done func() error, err error) {
	var db interface{ Close() error }
	done = func() error { return nil }
	switch k := Kind(); k {
	case SQLite:
		db, err = sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{DedupWindow: opts.DedupWindow, Compression: opts.Compression})
		if err != nil {
			return st, done, fmt.Errorf("open SQLite store in %s: %w", dir, err)
		}
		done = db.Close
	case Postgres:
		schema := fmt.Sprintf("%sshared_%d", SchemaPrefix(), seq.Add(1))
		if err := exec(ctx, `CREATE SCHEMA `+schema); err != nil {
			return st, done, fmt.Errorf("PostgreSQL at %s (%s=%s): %w", redact(URL()), EnvStore, k, err)
		}
		drop := func() error { return exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) }
		db, err = postgres.Open(ctx, URL(), postgres.Options{DedupWindow: opts.DedupWindow, Schema: schema, MaxConns: 4})
		if err != nil {
			return st, drop, fmt.Errorf("open PostgreSQL store (schema %s): %w", schema, err)
		}
		done = func() error { return errors.Join(db.Close(), drop()) }
	default:
		return st, done, fmt.Errorf("%s=%q: want %s or %s", EnvStore, k, SQLite, Postgres)
	}
	v, ok := db.(T)
	if !ok {
		return st, done, fmt.Errorf("store %s (%T) lacks what these tests need of %v: %s (%s=%s)",
			Kind(), db, reflect.TypeFor[T](), strings.Join(Missing(db, reflect.TypeFor[T]()), ", "), EnvStore, Kind())
	}
	return v, done, nil
}

// as is st as T, or fails t naming what st lacks of T.
func as[T any](t testing.TB, st any) T {
	t.Helper()
	v, ok := st.(T)
	if !ok {
		want := reflect.TypeFor[T]()
		if want.Kind() == reflect.Interface {
			t.Fatalf("store %s (%T) lacks what this test needs of %v: %s (%s=%s)",
				Kind(), st, want, strings.Join(Missing(st, want), ", "), EnvStore, Kind())
		}
		t.Fatalf("this test needs a %v, and the store is %s (%T) (%s=%s)", want, Kind(), st, EnvStore, Kind())
	}
	return v
}

// place makes the home of a new store of the suite's kind for t: a
// SQLite file's path in t's temporary directory, or a PostgreSQL schema
// of t's own.
func place(t testing.TB) string {
	t.Helper()
	switch k := Kind(); k {
	case SQLite:
		return filepath.Join(t.TempDir(), "vigil.db")
	case Postgres:
		return Schema(t)
	default:
		t.Fatalf("%s=%q: want %s or %s", EnvStore, k, SQLite, Postgres)
		return ""
	}
}

// openAt opens the store at loc (from place): a *sqlite.DB or a
// *postgres.DB, and the function that closes it, once however often it
// is called; it is called when t ends (before a schema is dropped:
// cleanups run last first).
func openAt(t testing.TB, opts Options, loc string) (any, func() error) {
	t.Helper()
	ctx := context.Background()
	var db interface{ Close() error }
	var err error
	switch Kind() {
	case SQLite:
		db, err = sqlite.Open(ctx, loc, sqlite.Options{DedupWindow: opts.DedupWindow, Compression: opts.Compression})
		if err != nil {
			t.Fatalf("open SQLite store: %v", err)
		}
	default:
		db, err = postgres.Open(ctx, URL(), postgres.Options{DedupWindow: opts.DedupWindow, Schema: loc, MaxConns: 4})
		if err != nil {
			t.Fatalf("open PostgreSQL store (schema %s): %v", loc, err)
		}
	}
	closeOnce := sync.OnceValue(db.Close)
	t.Cleanup(func() { closeOnce() })
	return db, closeOnce
}

var seq atomic.Int64

// SchemaPrefix begins the name of every schema this process makes.
func SchemaPrefix() string { return fmt.Sprintf("vigil_t%d_", os.Getpid()) }

// Schema makes a new PostgreSQL schema for t and drops it, with all it
// holds, when t ends. A server that does not answer fails the test: the
// suite was asked to run on PostgreSQL.
func Schema(t testing.TB) string {
	t.Helper()
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := fmt.Sprintf("%s%d_%s", SchemaPrefix(), seq.Add(1), hex.EncodeToString(r[:]))
	if err := exec(context.Background(), `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("PostgreSQL at %s (%s=%s): %v", redact(URL()), EnvStore, Kind(), err)
	}
	t.Cleanup(func() {
		if err := exec(context.Background(), `DROP SCHEMA IF EXISTS `+name+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", name, err)
		}
	})
	return name
}

// DropSchemas drops every schema whose name begins with prefix (one
// made by SchemaPrefix): what processes a test started made in schemas of
// their own.
func DropSchemas(ctx context.Context, prefix string) error {
	conn, err := connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, prefix)
	if err != nil {
		return fmt.Errorf("list schemas %s*: %w", prefix, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list schemas %s*: %w", prefix, err)
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{n}.Sanitize()+` CASCADE`); err != nil {
			return fmt.Errorf("drop schema %s: %w", n, err)
		}
	}
	return nil
}

func connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, URL())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(URL()), err)
	}
	return conn, nil
}

func exec(ctx context.Context, sql string) error {
	conn, err := connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// redact drops a password from a URL for messages.
func redact(u string) string {
	if cfg, err := pgx.ParseConfig(u); err == nil {
		return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	}
	return "(the URL does not parse)"
}

// Missing names the methods of interface iface that v lacks, or has with
// another signature.
func Missing(v any, iface reflect.Type) []string {
	val := reflect.ValueOf(v)
	var out []string
	for i := range iface.NumMethod() {
		m := iface.Method(i)
		got := reflect.Value{}
		if val.IsValid() {
			got = val.MethodByName(m.Name)
		}
		switch {
		case !got.IsValid():
			out = append(out, m.Name)
		case got.Type() != m.Type:
			out = append(out, fmt.Sprintf("%s (has %s, wants %s)", m.Name, got.Type(), m.Type))
		}
	}
	return out
}

// EnvSchemaPrefix, set for a vigil binary built with the teststore tag,
// makes it keep a data dir's PostgreSQL tables in a schema of that data
// dir's own (SchemaFor): end-to-end tests start many servers and commands,
// each on its own data dir, and each must see its own store.
const EnvSchemaPrefix = "VIGIL_TEST_SCHEMA_PREFIX"

// SchemaFor is the schema of data dir dir's store: prefix and a hash of
// the directory's absolute path, so that every process given the same
// data dir opens the same schema.
func SchemaFor(prefix, dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	sum := sha256.Sum256([]byte(filepath.Clean(dir)))
	return prefix + hex.EncodeToString(sum[:8])
}
