package teststore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
	"github.com/vigil-sec/vigil/tenant"
)

func TestOpenSQLiteByDefault(t *testing.T) {
	t.Setenv(EnvStore, "")
	st := Open[store.Store](t)
	if _, ok := st.(*sqlite.DB); !ok {
		t.Fatalf("store %T, want *sqlite.DB", st)
	}
	if _, err := st.CreateWorkspace(context.Background(), "acme", tenant.TierFree); err != nil {
		t.Fatal(err)
	}
}

// reachable skips t when the suite's PostgreSQL does not answer, unless
// VIGIL_REQUIRE_POSTGRES=1.
func reachable(t *testing.T) {
	t.Helper()
	conn, err := connect(context.Background())
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_POSTGRES") == "1" {
			t.Fatal(err)
		}
		t.Skipf("%v (set VIGIL_REQUIRE_POSTGRES=1 to fail instead)", err)
	}
	conn.Close(context.Background())
}

func schemaExists(t *testing.T, name string) bool {
	t.Helper()
	conn, err := connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestOpenPostgres: VIGIL_TEST_STORE=postgres gives each test a store in a
// schema of its own, which is gone once the test ends.
func TestOpenPostgres(t *testing.T) {
	t.Setenv(EnvStore, Postgres)
	reachable(t)
	var schemas []string
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := Open[store.Store](t)
			if _, ok := st.(*postgres.DB); !ok {
				t.Fatalf("store %T, want *postgres.DB", st)
			}
			ctx := context.Background()
			// The same name in both: each test's store is its own.
			if _, err := st.CreateWorkspace(ctx, "acme", tenant.TierFree); err != nil {
				t.Fatal(err)
			}
			all, err := st.Workspaces(ctx)
			if err != nil || len(all) != 1 {
				t.Fatalf("workspaces %v, %v; want acme alone", all, err)
			}
			conn, err := connect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var name string
			if err := conn.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_schema LIKE $1 AND table_name = 'workspaces' ORDER BY table_schema DESC LIMIT 1`,
				SchemaPrefix()+"%").Scan(&name); err != nil {
				t.Fatalf("the store's schema: %v", err)
			}
			schemas = append(schemas, name)
		})
	}
	if len(schemas) != 2 || schemas[0] == schemas[1] {
		t.Fatalf("schemas %v: want two, distinct", schemas)
	}
	for _, s := range schemas {
		if schemaExists(t, s) {
			t.Errorf("schema %s still there after its test ended", s)
		}
	}
}

func TestDropSchemas(t *testing.T) {
	t.Setenv(EnvStore, Postgres)
	reachable(t)
	prefix := SchemaPrefix() + "drop_"
	for i := range 2 {
		if err := exec(context.Background(), fmt.Sprintf("CREATE SCHEMA %s%d", prefix, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := DropSchemas(context.Background(), prefix); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if schemaExists(t, fmt.Sprintf("%s%d", prefix, i)) {
			t.Errorf("schema %s%d not dropped", prefix, i)
		}
	}
}

// fatalTB records a Fatalf instead of ending the test.
type fatalTB struct {
	testing.TB
	msg string
}

type fatal struct{}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatal{})
}

func (f *fatalTB) Helper() {}

// needsMore is what no store has.
type needsMore interface {
	store.Store
	Frobnicate(context.Context, string) error
}

// TestOpenNamesWhatTheStoreLacks: a test that needs more than the store
// provides fails with the methods missing, not with a nil interface.
func TestOpenNamesWhatTheStoreLacks(t *testing.T) {
	t.Setenv(EnvStore, SQLite)
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatal); !ok {
					panic(r)
				}
			}
		}()
		Open[needsMore](f)
	}()
	for _, want := range []string{"lacks", "Frobnicate", "sqlite"} {
		if !strings.Contains(f.msg, want) {
			t.Errorf("failure %q does not say %q", f.msg, want)
		}
	}
	if strings.Contains(f.msg, "CreateWorkspace") {
		t.Errorf("failure %q names a method the store has", f.msg)
	}
	t.Setenv(EnvStore, "oracle")
	f.msg = ""
	func() {
		defer func() { _ = recover() }()
		Open[store.Store](f)
	}()
	if !strings.Contains(f.msg, `"oracle"`) || !strings.Contains(f.msg, "postgres") {
		t.Errorf("unknown store kind: failure %q", f.msg)
	}
}

// TestMissingSignature: a method of another signature is named with both.
func TestMissingSignature(t *testing.T) {
	type closer interface{ Close() error }
	got := Missing(struct{ noClose }{}, reflectType[closer]())
	if len(got) != 1 || !strings.Contains(got[0], "Close (has func(), wants func() error)") {
		t.Errorf("Missing = %q", got)
	}
}

type noClose struct{}

func (noClose) Close() {}

func reflectType[T any]() reflect.Type { return reflect.TypeFor[T]() }

// TestSchemaFor: every process given one data dir, however written, opens
// one schema; two data dirs, two; and the name is one PostgreSQL takes
// unquoted.
func TestSchemaFor(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	prefix := SchemaPrefix() + "e2e_"
	a := SchemaFor(prefix, filepath.Join(dir, "data"))
	for _, same := range []string{"data", "./data", "data/", filepath.Join(dir, "x", "..", "data")} {
		if got := SchemaFor(prefix, same); got != a {
			t.Errorf("SchemaFor(%q) = %s, want %s (the same dir)", same, got, a)
		}
	}
	if b := SchemaFor(prefix, filepath.Join(dir, "other")); b == a {
		t.Errorf("two data dirs share schema %s", a)
	}
	if !strings.HasPrefix(a, prefix) || len(a) > 63 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		t.Errorf("schema %q: want %s… in lowercase letters, digits and _, at most 63 bytes", a, prefix)
	}
}

// TestReopenable: what a store holds is there after reopen, on either
// store, and the old handle is closed.
func TestReopenable(t *testing.T) {
	for _, kind := range []string{SQLite, Postgres} {
		t.Run(kind, func(t *testing.T) {
			t.Setenv(EnvStore, kind)
			if kind == Postgres {
				reachable(t)
			}
			ctx := context.Background()
			st, reopen := Reopenable[store.Store](t)
			if _, err := st.CreateWorkspace(ctx, "acme", tenant.TierFree); err != nil {
				t.Fatal(err)
			}
			again := reopen()
			if _, err := st.Workspaces(ctx); err == nil {
				t.Error("the first handle still answers after reopen: want it closed")
			}
			all, err := again.Workspaces(ctx)
			if err != nil || len(all) != 1 || all[0].Name != "acme" {
				t.Fatalf("after reopen, workspaces %+v, %v; want acme", all, err)
			}
		})
	}
}

// TestOpenShared: a store no test owns works on either store, and done
// drops PostgreSQL's schema.
func TestOpenShared(t *testing.T) {
	for _, kind := range []string{SQLite, Postgres} {
		t.Run(kind, func(t *testing.T) {
			t.Setenv(EnvStore, kind)
			if kind == Postgres {
				reachable(t)
			}
			ctx := context.Background()
			st, done, err := OpenShared[store.Store](ctx, t.TempDir(), Options{Compression: "s2"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateWorkspace(ctx, "acme", tenant.TierFree); err != nil {
				t.Fatal(err)
			}
			if kind == Postgres && !schemaExists(t, fmt.Sprintf("%sshared_%d", SchemaPrefix(), seq.Load())) {
				t.Fatal("no schema of the shared store")
			}
			if err := done(); err != nil {
				t.Fatal(err)
			}
			if kind == Postgres && schemaExists(t, fmt.Sprintf("%sshared_%d", SchemaPrefix(), seq.Load())) {
				t.Error("the shared store's schema is there after done")
			}
			_, done, err = OpenShared[needsMore](ctx, t.TempDir(), Options{})
			if err == nil || !strings.Contains(err.Error(), "Frobnicate") {
				t.Errorf("a store lacking a method: %v, want the method named", err)
			}
			if err := done(); err != nil {
				t.Error(err)
			}
		})
	}
}
