package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mariaDB talks to the local MariaDB server (127.0.0.1:3306, root without
// a password) through its command-line client.
type mariaDB struct{ addr string }

const (
	myApp         = "vigil_e2e_app"
	myAppPassword = "Shop-app-2026!"
	myDB          = "vigil_e2e_shop"
)

func (m mariaDB) run(user, password, db, stmt string) (string, error) {
	args := []string{"-h", "127.0.0.1", "-P", "3306", "-u", user, "--connect-timeout=10", "-e", stmt}
	if db != "" {
		args = append(args, db)
	}
	cmd := exec.Command("mariadb", args...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+password)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (m mariaDB) root(t *testing.T, stmt string) string {
	t.Helper()
	out, err := m.run("root", "", "", stmt)
	if err != nil {
		t.Fatalf("mariadb as root: %s: %v\n%s", stmt, err, out)
	}
	return out
}

// TestSQLAlertsMariaDBEndToEnd turns on MariaDB's server_audit plugin for
// the test's own users, drives attacks and a benign workload, and checks
// the alerts `vigil serve` raises from the audit file.
func TestSQLAlertsMariaDBEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs the local MariaDB server")
	}
	if _, err := exec.LookPath("mariadb"); err != nil {
		t.Skip("no mariadb client: skipping the MariaDB end-to-end test")
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:3306", 2*time.Second)
	if err != nil {
		t.Skipf("MariaDB is not reachable on 127.0.0.1:3306 (%v): skipping the MariaDB end-to-end test", err)
	}
	conn.Close()
	m := mariaDB{}
	if out, err := m.run("root", "", "", "SELECT 1"); err != nil {
		t.Skipf("cannot log in to MariaDB as root without a password (%v): skipping\n%s", err, out)
	}
	if !strings.Contains(m.root(t, "SELECT PLUGIN_NAME FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'SERVER_AUDIT'"), "SERVER_AUDIT") {
		if out, err := m.run("root", "", "", "INSTALL SONAME 'server_audit'"); err != nil {
			t.Skipf("the server_audit plugin cannot be installed (%v): skipping\n%s", err, out)
		}
	}
	// The audit file goes to the test's directory, which the server's
	// account must be able to write.
	dir, err := os.MkdirTemp("", "vigil-mariadb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	auditFile := filepath.Join(dir, "server_audit.log")

	// Users the attacks name; only they are audited, so other clients of
	// the shared server stay out of the log.
	users := []string{myApp, "vigil_e2e_admin", "vigil_e2e_root"}
	// The plugin's settings as they were, put back when the test ends
	// (IFNULL: CONCAT_WS skips NULLs, which unset settings are).
	prev := strings.Split(strings.TrimSpace(m.root(t, "SELECT CONCAT_WS('|', IFNULL(@@server_audit_logging, ''), IFNULL(@@server_audit_file_path, ''), IFNULL(@@server_audit_incl_users, ''), IFNULL(@@server_audit_events, ''), IFNULL(@@server_audit_output_type, ''))")), "\n")
	was := strings.Split(prev[len(prev)-1], "|")
	if len(was) != 5 {
		t.Fatalf("server_audit settings: %q", prev)
	}
	m.root(t, fmt.Sprintf(`DROP DATABASE IF EXISTS %[1]s; DROP USER IF EXISTS '%[2]s'@'%%';
CREATE DATABASE %[1]s; CREATE USER '%[2]s'@'%%' IDENTIFIED BY '%[3]s'; GRANT SELECT, INSERT, UPDATE, DELETE ON %[1]s.* TO '%[2]s'@'%%';
CREATE TABLE %[1]s.users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64), email VARCHAR(128), password VARCHAR(64));
CREATE TABLE %[1]s.products (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(64), price DECIMAL(10,2), stock INT);
CREATE TABLE %[1]s.orders (id INT AUTO_INCREMENT PRIMARY KEY, user_id INT, total DECIMAL(10,2), note VARCHAR(128), created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
INSERT INTO %[1]s.users (name, email, password) VALUES ('alice', 'alice@example.com', 'x'), ('bob', 'bob@example.com', 'y');
INSERT INTO %[1]s.products (title, price, stock) VALUES ('office chair', 120, 3), ('desk', 300, 0), ('lamp', 25, 10);
INSERT INTO %[1]s.orders (user_id, total) VALUES (1, 19.90), (2, 0);`, myDB, myApp, myAppPassword))
	m.root(t, fmt.Sprintf(`SET GLOBAL server_audit_logging = OFF;
SET GLOBAL server_audit_output_type = 'file';
SET GLOBAL server_audit_file_path = '%s';
SET GLOBAL server_audit_events = 'CONNECT,QUERY';
SET GLOBAL server_audit_query_log_limit = 4096;
SET GLOBAL server_audit_incl_users = '%s';
SET GLOBAL server_audit_logging = ON;`, auditFile, strings.Join(users, ",")))
	t.Cleanup(func() {
		_, _ = m.run("root", "", "", fmt.Sprintf(`SET GLOBAL server_audit_logging = OFF;
SET GLOBAL server_audit_file_path = '%s'; SET GLOBAL server_audit_incl_users = '%s';
SET GLOBAL server_audit_events = '%s'; SET GLOBAL server_audit_output_type = '%s';
SET GLOBAL server_audit_logging = %s;
DROP DATABASE IF EXISTS %s; DROP USER IF EXISTS '%s'@'%%';`, was[1], was[2], was[3], was[4], was[0], myDB, myApp))
	})

	app := func(stmt string) { _, _ = m.run(myApp, myAppPassword, myDB, stmt) }
	// Benign workload.
	for _, s := range []string{
		"SELECT id, name, email FROM users WHERE id = 1",
		"SELECT `users`.`id`, `users`.`email` FROM `users` WHERE `users`.`email` = 'alice@example.com' LIMIT 1",
		"SELECT u.name, COUNT(o.id) AS orders, SUM(o.total) FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.name ORDER BY 3 DESC",
		"INSERT INTO orders (user_id, total, note) VALUES (2, 42.50, 'leave at the door; ring twice')",
		"UPDATE users SET name = 'Bob O\\'Brien' WHERE id = 2",
		"SELECT id, title FROM products WHERE title LIKE '%chair%' OR title LIKE '%desk%' ORDER BY id LIMIT 20",
		"SELECT COUNT(*) FROM orders WHERE created_at > NOW() - INTERVAL 1 DAY",
		"SELECT id FROM products WHERE id IN (1, 2, 3) AND stock > 0",
		"DELETE FROM orders WHERE total = 0 AND note IS NULL",
		"SELECT 1 -- health check",
		"SELECT title, price FROM products WHERE price BETWEEN 10 AND 100 UNION SELECT title, price FROM products WHERE stock = 0",
		"SHOW TABLES",
		"INSERT INTO orders (user_id, total, note) VALUES (1, 5, 'customer wrote: \\' OR 1=1 -- lol')",
		"SELECT id FROM products WHERE (id = 1 OR 1=0)",
		"SELEC id FROM users", // a typo: one syntax error
	} {
		app(s)
	}
	_, _ = m.run(myApp, "Shop-app-2025!", myDB, "SELECT 1") // one mistyped password
	app("SELECT '" + attackMarker + "'")

	// Attacks.
	for _, s := range []string{
		"SELECT id, name FROM users WHERE name = '' OR '1'='1' -- ' AND password = 'x'",
		"SELECT name, email FROM users WHERE id = -1 UNION SELECT CONCAT(user, 0x3a, password), 2 FROM mysql.user",
		"SELECT id FROM products WHERE id = 1 AND SLEEP(1)",
	} {
		app(s)
	}
	for _, s := range []string{
		"SELECT id, name FROM users WHERE id = 1'",
		"SELECT id, name FROM users WHERE id = 1\"",
		"SELECT id, name FROM users WHERE id = 1)",
		"SELECT id, name FROM users WHERE id = 1 AND",
		"SELECT id, name FROM users WHERE id = 1' OR '",
		"SELECT id, name FROM users WHERE id = (1",
	} {
		app(s)
	}
	for _, u := range []string{"vigil_e2e_admin", "vigil_e2e_root"} {
		_, _ = m.run(u, "123456", myDB, "SELECT 1")
	}
	for i := 0; i < 10; i++ {
		if out, err := m.run(myApp, fmt.Sprintf("guess%d", i), myDB, "SELECT 1"); err == nil {
			t.Fatalf("a wrong password logged in: %s", out)
		}
	}
	app("SELECT CURRENT_USER()")                                  // the password guessed
	app("SELECT sys_exec('id > /tmp/vigil-e2e-pwned')")           // no such UDF here: refused, logged
	app("SELECT LOAD_FILE('/etc/passwd')")                        // no FILE privilege: NULL
	app("SELECT 'x' INTO OUTFILE '/tmp/vigil-e2e-mariadb-shell'") // refused
	app("SELECT '" + endMarker + "'")

	var log []byte
	poll(t, "the server_audit file", func() bool {
		log, _ = os.ReadFile(auditFile)
		return strings.Contains(string(log), endMarker)
	})
	runSQLScenario(t, sqlScenario{
		source: "maria01", format: "mariadb-audit", ctype: "text/plain",
		benign: splitAt(t, log, attackMarker), attack: log,
		want: []wantAlert{
			{titleSQLInjection, "account=" + myApp},
			{titleSQLVulnerable, "ip=127.0.0.1"},
			{titleBruteForce, "ip=127.0.0.1"},
			{titleBruteSuccess, "account=" + myApp},
			{titleShellFromSQL, "account=" + myApp},
			{titleFileFromSQL, "account=" + myApp},
		},
	})
}
