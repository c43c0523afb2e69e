package postgres

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testDSN is the PostgreSQL the tests use: VIGIL_TEST_POSTGRES, else the
// machine's own (trust authentication, database test).
func testDSN() string {
	if dsn := os.Getenv("VIGIL_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var schemaSeq atomic.Int64

// testSchema returns a schema name of its own for t, and drops the schema
// (whatever is in it) when t ends. Without a server the test is skipped,
// saying why, unless VIGIL_REQUIRE_POSTGRES=1.
func testSchema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(testDSN())
	if err != nil {
		t.Fatalf("test DSN: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL at %s: %v (VIGIL_REQUIRE_POSTGRES=1)", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), err)
		}
		t.Skipf("no PostgreSQL at %s (%v): set VIGIL_TEST_POSTGRES to a DSN, or VIGIL_REQUIRE_POSTGRES=1 to fail instead",
			net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), err)
	}
	name := fmt.Sprintf("vigil_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	t.Cleanup(func() {
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+name+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", name, err)
		}
	})
	return name
}

// openTest opens a store in a schema of t's own.
func openTest(t testing.TB, opts Options) *DB {
	t.Helper()
	opts.Schema = testSchema(t)
	db, err := Open(context.Background(), testDSN(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
