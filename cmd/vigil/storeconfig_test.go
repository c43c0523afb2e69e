package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/internal/teststore"
)

// loadStoreConfig loads the settings of a config file of yaml.
func loadStoreConfig(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newServeCmd()
	if err := cmd.Flags().Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	return loadConfig(cmd.Flags())
}

func TestStoreSettings(t *testing.T) {
	for _, k := range []string{"VIGIL_STORE", "VIGIL_STORE_URL", "VIGIL_STORE_SCHEMA", teststore.EnvSchemaPrefix} {
		t.Setenv(k, "") // restored at the end
		os.Unsetenv(k)
	}
	cfg, err := loadStoreConfig(t, "listen: 127.0.0.1:1\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store != storeSQLite || cfg.StoreMaxConns != 10 {
		t.Fatalf("defaults: store %q, max conns %d, %v; want sqlite, 10", cfg.Store, cfg.StoreMaxConns, err)
	}
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	if err := os.WriteFile(urlFile, []byte("postgres://vigil:s3cret@db.example:5432/vigil?sslmode=verify-full\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = loadStoreConfig(t, "store: postgres\nstore-url-file: "+urlFile+"\nstore-max-conns: 25\nstore-schema: soc\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.storeURL != "postgres://vigil:s3cret@db.example:5432/vigil?sslmode=verify-full" || cfg.StoreMaxConns != 25 || cfg.StoreSchema != "soc" {
		t.Errorf("store-url-file: url %q, max conns %d, schema %q", cfg.storeURL, cfg.StoreMaxConns, cfg.StoreSchema)
	}
	cfg, err = loadStoreConfig(t, "store: postgres\nstore-url: postgres://db.example/vigil\n")
	if err != nil || cfg.storeURL != "postgres://db.example/vigil" {
		t.Errorf("store-url: %q, %v", cfg.storeURL, err)
	}
	// No URL at all: the PG* environment decides (pgx's defaults).
	if cfg, err = loadStoreConfig(t, "store: postgres\n"); err != nil || cfg.storeURL != "" {
		t.Errorf("no store-url: %q, %v", cfg.storeURL, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"store: mysql\n", `setting store: "mysql" is neither sqlite nor postgres`},
		{"store-url: postgres://db.example/vigil\n", "setting store-url is for store postgres, and store is sqlite"},
		{"store-schema: soc\n", "setting store-schema is for store postgres"},
		{"store: postgres\nstore-url: postgres://a/b\nstore-url-file: " + urlFile + "\n", "settings store-url and store-url-file: set one, not both"},
		{"store: postgres\nstore-url-file: " + filepath.Join(dir, "nope") + "\n", "setting store-url-file: open " + filepath.Join(dir, "nope")},
		{"store: postgres\nstore-url-file: " + empty + "\n", "the first line is empty"},
		{"store: postgres\nstore-password-file: " + filepath.Join(dir, "nope") + "\n", "setting store-password-file:"},
		{"store: postgres\nstore-max-conns: 0\n", "setting store-max-conns: 0: want at least 1"},
	} {
		if _, err := loadStoreConfig(t, c.yaml); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to say %q", c.yaml, err, c.want)
		}
	}
	// The environment sets them as it sets every setting.
	t.Setenv("VIGIL_STORE", "postgres")
	t.Setenv("VIGIL_STORE_URL", "postgres://env.example/vigil")
	if cfg, err = loadStoreConfig(t, ""); err != nil || cfg.Store != storePostgres || cfg.storeURL != "postgres://env.example/vigil" {
		t.Errorf("from the environment: %q %q, %v", cfg.Store, cfg.storeURL, err)
	}
}

// TestOpenBackendPostgres: store postgres connects and makes its tables;
// a server that is not there is named.
func TestOpenBackendPostgres(t *testing.T) {
	t.Setenv(teststore.EnvStore, teststore.Postgres)
	schema := teststore.Schema(t)
	cfg := &Config{Store: storePostgres, storeURL: teststore.URL(), StoreSchema: schema, StoreMaxConns: 2, DataDir: t.TempDir()}
	db, err := openBackend(context.Background(), cfg, nil)
	noServer := *cfg
	noServer.storeURL = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"
	_, noServerErr := openBackend(context.Background(), &noServer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateWorkspace(context.Background(), "acme", "free"); err != nil {
		t.Fatal(err)
	}
	if tables := schemaTables(t, schema); tables == 0 {
		t.Errorf("schema %s holds no tables after open", schema)
	}
	if noServerErr == nil || !strings.Contains(noServerErr.Error(), "postgres://nobody@127.0.0.1:1/none") {
		t.Errorf("no server: %v, want an error naming it", noServerErr)
	}
}

// schemaTables counts the tables of a PostgreSQL schema.
func schemaTables(t *testing.T, schema string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, teststore.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
