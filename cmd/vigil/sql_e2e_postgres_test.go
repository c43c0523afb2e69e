package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pgCluster is a throwaway PostgreSQL cluster made with the machine's own
// PostgreSQL binaries. The shared server on 5432 trusts every local
// connection (no password to get wrong), writes stderr only, and could not
// load pgaudit or switch on csvlog/jsonlog without a restart under the
// other tests' feet; a cluster of the test's own gives real logs of every
// kind: scram passwords, log_connections, log_statement, the recommended
// prefix, stderr + csvlog + jsonlog, and pgaudit when it is installed.
type pgCluster struct {
	bin, dir, sock, port string
	pgaudit              bool
}

// pgBinDir finds the newest installed server's binaries.
func pgBinDir() string {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(m, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[j]))))
		return vi < vj
	})
	if len(m) == 0 {
		return ""
	}
	return filepath.Dir(m[len(m)-1])
}

// asPostgres runs cmd as the postgres account when the test runs as root
// (the server refuses to run as root).
func asPostgres(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("running as root and no postgres account to run the server as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

func startPostgres(t *testing.T) *pgCluster {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		t.Skip("no PostgreSQL server binaries (initdb) on this machine: skipping the PostgreSQL end-to-end test")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("no psql client: skipping the PostgreSQL end-to-end test")
	}
	root, err := os.MkdirTemp("", "vigil-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	c := &pgCluster{bin: bin, dir: filepath.Join(root, "data"), sock: root, port: portOf(t, freePort(t))}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			_ = os.Chown(root, uid, gid)
		}
	}
	lib, _ := exec.Command(filepath.Join(bin, "pg_config"), "--pkglibdir").Output()
	if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(lib)), "pgaudit.so")); err == nil {
		c.pgaudit = true
	} else {
		t.Logf("pgaudit is not installed (apt-get install postgresql-NN-pgaudit): the pgaudit part is left out")
	}

	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", c.dir, "-U", "postgres", "--auth-local=trust",
		"--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C")
	asPostgres(t, initdb)
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	settings := []string{
		"listen_addresses=127.0.0.1", "port=" + c.port, "unix_socket_directories=" + c.sock,
		"fsync=off", "shared_buffers=16MB", "max_connections=20",
		"logging_collector=on", "log_destination=stderr,csvlog,jsonlog",
		"log_directory=" + filepath.Join(root, "log"), "log_filename=postgresql.log",
		"log_connections=on", "log_statement=all", "lc_messages=C", "log_timezone=UTC",
		"log_line_prefix=%m [%p] %qsession=%c,user=%u,db=%d,app=%a,client=%r,sqlstate=%e ",
		"password_encryption=scram-sha-256",
	}
	if c.pgaudit {
		settings = append(settings, "shared_preload_libraries=pgaudit")
	}
	args := []string{"-D", c.dir}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	srv := exec.Command(filepath.Join(bin, "postgres"), args...)
	asPostgres(t, srv)
	var stderr syncBuffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := c.super("postgres", "SELECT 1"); err == nil {
			return c
		}
		select {
		case err := <-done:
			t.Fatalf("postgres exited: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres not ready after 60s\n%s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// super runs a script as the superuser over the Unix socket (trust).
func (c *pgCluster) super(db, script string) (string, error) {
	cmd := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", c.sock, "-p", c.port, "-U", "postgres", "-d", db, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "PGAPPNAME=setup")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// client runs one statement in its own TCP connection, as a client
// application would: a password login (logged), then the statement. The
// error (a refused login, a failed statement) is the point of most
// attacks, so it is returned, not fatal.
func (c *pgCluster) client(role, password, app, db, stmt string) (string, error) {
	cmd := exec.Command("psql", "-X", "-q", "-h", "127.0.0.1", "-p", c.port, "-U", role, "-d", db, "-c", stmt)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGAPPNAME="+app, "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// logs reads the cluster's three logs once the marker statement is in
// the jsonlog (the collector writes all three from the same messages).
func (c *pgCluster) logs(t *testing.T, marker string) (stderr, csv, json []byte) {
	t.Helper()
	dir := filepath.Join(c.sock, "log")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("reading the server's %s: %v", name, err)
		}
		return b
	}
	poll(t, "the server's logs", func() bool {
		for _, n := range []string{"postgresql.log", "postgresql.csv", "postgresql.json"} {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil || !strings.Contains(string(b), marker) {
				return false
			}
		}
		return true
	})
	return read("postgresql.log"), read("postgresql.csv"), read("postgresql.json")
}

const (
	pgAppPassword = "Shop-app-2026!"
	pgRepPassword = "Reports-2026!"
	attackMarker  = "vigil-e2e: the attacks start here"
	endMarker     = "vigil-e2e: the end"
)

// pgBenign is what an ordinary web shop and its staff do: ORM-style
// queries, reports, a transaction, an export, one mistyped statement and
// one mistyped password.
var pgBenign = []string{
	`SELECT id, name, email FROM users WHERE id = 1`,
	`SELECT "users"."id", "users"."email", "users"."name" FROM "users" WHERE "users"."email" = 'alice@example.com' LIMIT 1`,
	`SELECT u.name, count(o.id) AS orders, sum(o.total) FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.name ORDER BY 3 DESC NULLS LAST`,
	`INSERT INTO orders (user_id, total, note) VALUES (2, 42.50, 'leave at the door; ring twice') RETURNING id`,
	`UPDATE users SET name = 'Bob O''Brien' WHERE id = 2`,
	`SELECT id, title FROM products WHERE title ILIKE '%chair%' OR title ILIKE '%desk%' ORDER BY id LIMIT 20 OFFSET 0`,
	`SELECT count(*) FROM orders WHERE created_at > now() - interval '1 day'`,
	`WITH recent AS (SELECT user_id, max(created_at) AS last FROM orders GROUP BY user_id) SELECT u.email FROM users u JOIN recent r ON r.user_id = u.id WHERE r.last < now() - interval '30 days'`,
	`SELECT id FROM products WHERE id IN (1, 2, 3) AND stock > 0`,
	`DELETE FROM orders WHERE total = 0 AND note IS NULL`,
	`COPY (SELECT id, total FROM orders) TO STDOUT WITH (FORMAT csv, HEADER)`,
	`SELECT 1 -- health check`,
	`/* report: daily */ SELECT date_trunc('day', created_at) AS day, sum(total) FROM orders GROUP BY 1 ORDER BY 1`,
	`SELECT id, name FROM users WHERE name = 'alice' AND email LIKE '%@example.com'`,
	`SELECT title, price FROM products WHERE price BETWEEN 10 AND 100 UNION SELECT title, price FROM products WHERE stock = 0`,
	// Statements that look like injection to a pattern but are not: a
	// customer's note quoting a payload (escaped), Rails' 1=0 for an empty
	// list, a pause of a monitoring script.
	`INSERT INTO orders (user_id, total, note) VALUES (1, 5, 'customer wrote: '' OR 1=1 -- lol')`,
	`SELECT "products".* FROM "products" WHERE ("products"."id" = 1 OR 1=0)`,
	`SELECT pg_sleep(0.1)`,
	`SELEC id FROM users`, // a typo: one syntax error
}

// TestSQLAlertsPostgresEndToEnd drives attacks against a real PostgreSQL
// server, reads what it logged (stderr, csvlog, jsonlog; pgaudit when
// installed) and checks the alerts `vigil serve` raises from each.
func TestSQLAlertsPostgresEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a PostgreSQL cluster")
	}
	c := startPostgres(t)
	setup := fmt.Sprintf(`
CREATE ROLE webapp LOGIN PASSWORD '%s';
CREATE ROLE reporting LOGIN PASSWORD '%s';
CREATE DATABASE shop OWNER webapp;
`, pgAppPassword, pgRepPassword)
	if out, err := c.super("postgres", setup); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	schema := `
CREATE TABLE users (id serial PRIMARY KEY, name text, email text, password text);
CREATE TABLE products (id serial PRIMARY KEY, title text, price numeric, stock int);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric, note text, created_at timestamptz DEFAULT now());
INSERT INTO users (name, email, password) VALUES ('alice', 'alice@example.com', 'x'), ('bob', 'bob@example.com', 'y');
INSERT INTO products (title, price, stock) VALUES ('office chair', 120, 3), ('desk', 300, 0), ('lamp', 25, 10);
INSERT INTO orders (user_id, total) VALUES (1, 19.90), (2, 0);
GRANT SELECT ON products TO reporting;
`
	if out, err := c.super("shop", "SET ROLE webapp;"+schema); err != nil {
		t.Fatalf("schema: %v\n%s", err, out)
	}
	if c.pgaudit {
		// The reporting role is audited by pgaudit alone: what it runs
		// reaches the log only as AUDIT lines.
		if out, err := c.super("shop", `CREATE EXTENSION pgaudit;
ALTER ROLE reporting SET log_statement = 'none';
ALTER ROLE reporting SET pgaudit.log = 'read,write';`); err != nil {
			t.Fatalf("pgaudit setup: %v\n%s", err, out)
		}
	}

	// Benign workload.
	for _, s := range pgBenign {
		_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", s)
	}
	_, _ = c.client("webapp", "Shop-app-2025!", "webshop", "shop", "SELECT 1") // one mistyped password
	_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", "SELECT 1")
	if c.pgaudit {
		_, _ = c.client("reporting", pgRepPassword, "reports", "shop", "SELECT title, price FROM products WHERE stock > 0")
	}
	_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", "SELECT '"+attackMarker+"'")

	// Attacks. Injection payloads pasted into the shop's queries.
	inject := []string{
		`SELECT id, name FROM users WHERE name = '' OR '1'='1'`,
		`SELECT id, title FROM products WHERE id = 3 UNION SELECT 1, usename || ':' || passwd FROM pg_shadow`,
		`SELECT id FROM products WHERE id = 5 AND 7=(SELECT 7 FROM pg_sleep(1))`,
	}
	for _, s := range inject {
		_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", s)
	}
	// Probing: statements broken by a quote or a fragment, from one client.
	probes := []string{
		`SELECT id, name FROM users WHERE id = 1'`,
		`SELECT id, name FROM users WHERE id = 1)`,
		`SELECT id, name FROM users WHERE id = 1 AND`,
		`SELECT id, name FROM users WHERE id = 1 ORDER BY`,
		`SELECT id, name FROM users WHERE name = '1'' AND '`,
		`SELECT id, name FROM users WHERE id = (1`,
	}
	for _, s := range probes {
		_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", s)
	}
	// An attack tool that names itself.
	if out, err := c.client("webapp", pgAppPassword, "sqlmap/1.7.2#stable (https://sqlmap.org)", "shop", "SELECT version()"); err != nil {
		t.Fatalf("sqlmap-named login: %v\n%s", err, out)
	}
	// Password guessing: unknown roles, then the existing webapp, then
	// the right password.
	for _, r := range []string{"admin", "root"} {
		_, _ = c.client(r, "123456", "", "shop", "SELECT 1")
	}
	for i := 0; i < 10; i++ {
		if out, err := c.client("webapp", fmt.Sprintf("guess%d", i), "", "shop", "SELECT 1"); err == nil {
			t.Fatalf("a wrong password logged in: %s", out)
		}
	}
	if out, err := c.client("webapp", pgAppPassword, "", "shop", "SELECT current_user"); err != nil {
		t.Fatalf("login after the guesses: %v\n%s", err, out)
	}
	// Shell and files from SQL (refused: webapp is no superuser; the
	// attempt is what is logged).
	_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", `COPY (SELECT 1) TO PROGRAM 'id > /tmp/vigil-e2e-pwned'`)
	_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", `SELECT pg_read_file('/etc/passwd')`)
	if c.pgaudit {
		_, _ = c.client("reporting", pgRepPassword, "reports", "shop", `SELECT id, title FROM products WHERE id = 1 UNION SELECT 1, usename::text FROM pg_user`)
	}
	_, _ = c.client("webapp", pgAppPassword, "webshop", "shop", "SELECT '"+endMarker+"'")

	stderrLog, csvLog, jsonLog := c.logs(t, endMarker)
	want := []wantAlert{
		{titleSQLInjection, "account=webapp"},
		{titleSQLVulnerable, "ip=127.0.0.1"},
		{titleHarmfulApp, "account=webapp"},
		{titleBruteForce, "ip=127.0.0.1"},
		{titleBruteValidUser, "account=webapp"},
		{titleBruteSuccess, "account=webapp"},
		{titleShellFromSQL, "account=webapp"},
		{titleFileFromSQL, "account=webapp"},
	}
	if c.pgaudit {
		// Only pgaudit's AUDIT line carries the reporting role's
		// injected statement (log_statement is off for it).
		want = append(want, wantAlert{titleSQLInjection, "account=reporting"})
	}
	for _, f := range []struct {
		format, ctype string
		log           []byte
	}{
		{"postgres", "text/plain", stderrLog},
		{"postgres-csv", "text/plain", csvLog},
		{"postgres-json", "application/x-ndjson", jsonLog},
	} {
		t.Run(f.format, func(t *testing.T) {
			sc := sqlScenario{source: "pg01", format: f.format, ctype: f.ctype,
				benign: splitAt(t, f.log, attackMarker), attack: f.log, want: want}
			runSQLScenario(t, sc)
		})
	}
}
