package payload

import (
	"fmt"
	"strings"
	"testing"
)

// injectedStatements are statements as a database logs them after an
// application pasted a payload into its query, one shape of each check.
var injectedStatements = []string{
	// tautologies
	`SELECT id, name FROM users WHERE name = '' OR '1'='1'`,
	`SELECT * FROM users WHERE name = 'x' OR 1=1 --' AND password = 'y'`,
	`SELECT id FROM items WHERE id = 4 OR 4417=4417`,
	`SELECT id FROM items WHERE id = 4#xQzvB` + "\n" + `OR/**/4417=4417`,
	`SELECT * FROM users WHERE id = 1 AND 8543=8543`,
	`SELECT * FROM users WHERE login = 'admin' OR 'a'='a'`,
	`SELECT * FROM users WHERE login = '' OR ''=''`,
	`SELECT * FROM accounts WHERE user = 'x' or 1 -- '`,
	`SELECT * FROM users WHERE id = 1 OR id=id`,
	`SELECT * FROM users WHERE name = "" OR ""=""`,
	`SELECT * FROM t WHERE a = '1' OR NOT 2=3`,
	`SELECT * FROM users WHERE name = '' || 1=1 --'`,
	// UNION
	`SELECT id, title FROM products WHERE id = 3 UNION SELECT 1, usename || ':' || passwd FROM pg_shadow`,
	`SELECT name FROM users WHERE id = -1 UNION SELECT CONCAT(user,0x3a,authentication_string) FROM mysql.user`,
	`SELECT id, title FROM dbo.products WHERE id = 3 UNION ALL SELECT NULL, name FROM sys.sql_logins`,
	`SELECT a, b, c FROM t WHERE id = 1 UNION ALL SELECT NULL,NULL,NULL-- -`,
	`SELECT a, b FROM t WHERE id = 1 UNION SELECT 1,2`,
	`SELECT a, b FROM t WHERE name = '' UNION SELECT table_name, column_name FROM information_schema.columns--`,
	`SELECT a FROM t WHERE id = 1 UNION SELECT @@version`,
	`SELECT a, b FROM t WHERE id = 1) UNION ALL SELECT NULL,CONCAT(0x7171786b71,IFNULL(CAST(database() AS CHAR),0x20),0x716a7a7a71)#`,
	// stacked
	`SELECT id FROM dbo.products WHERE id = 1; WAITFOR DELAY '0:0:5'--`,
	`SELECT * FROM users WHERE id = 5; DROP TABLE users`,
	`SELECT * FROM users WHERE name = 'x'; EXEC master..xp_cmdshell 'whoami'--`,
	`SELECT * FROM users WHERE name = 'x'; INSERT INTO users (name, admin) VALUES ('evil', 1)--`,
	`SELECT * FROM orders WHERE id = 7; SELECT pg_sleep(5)`,
	`SELECT * FROM users WHERE id = 1; SHUTDOWN WITH NOWAIT;--`,
	`UPDATE users SET last = now() WHERE name = 'a'; DECLARE @s varchar(99); SET @s = 'x'`,
	// comment truncation
	`SELECT * FROM users WHERE name = 'admin'--' AND password = 'x'`,
	`SELECT * FROM users WHERE name = 'admin' #' AND password = 'x'`,
	`SELECT * FROM users WHERE name = 'admin')-- -`,
	`SELECT * FROM users WHERE id = 10 --`,
	`SELECT * FROM users WHERE name = 'admin'/*' AND password = 'x'`,
	// time-based, error-based
	`SELECT id FROM items WHERE id = 1 AND SLEEP(5)`,
	`SELECT id FROM items WHERE id = 5 AND 7=(SELECT 7 FROM pg_sleep(1))`,
	`SELECT id FROM items WHERE id = 1 AND (SELECT 1 FROM (SELECT(SLEEP(5)))a)`,
	`SELECT id FROM items WHERE id = 1 AND BENCHMARK(5000000,MD5(1))`,
	`SELECT id FROM items WHERE id = 1 AND EXTRACTVALUE(1, CONCAT(0x7e, (SELECT version())))`,
	`SELECT id FROM items WHERE id = 1 AND 1=dbms_pipe.receive_message('a', 5)`,
	// blind
	`SELECT * FROM users WHERE name = 'admin' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64`,
	`SELECT * FROM items WHERE id = 3 AND 1=(SELECT COUNT(*) FROM users)`,
	`SELECT * FROM items WHERE id = 3 AND 1=CAST((SELECT version()) AS int)`,
	// encoded
	`SELECT * FROM users WHERE name = CHAR(97)+CHAR(100)+CHAR(109)`,
	`SELECT * FROM users WHERE name = CHAR(97,100,109,105,110)`,
	`SELECT * FROM users WHERE name = chr(97)||chr(100)`,
	// MySQL executable comments
	`SELECT id FROM t WHERE id = 1 /*!50000UNION*/ /*!50000SELECT*/ 1,2`,
}

// benignStatements are what applications, ORMs, tools and administrators
// send: written for this test in the styles of PostgreSQL's regression
// suite, of the common ORMs (Django, Rails, Hibernate, SQLAlchemy, EF Core,
// Sequelize), of mysqldump and SQL Server batches.
var benignStatements = []string{
	`SELECT id, name FROM users WHERE id = 1`,
	`SELECT 1`,
	`SELECT 1 UNION SELECT 2`,
	`SELECT 1 AS one UNION ALL SELECT 2 UNION ALL SELECT 3 ORDER BY 1`,
	`SELECT 'a' || 'b' AS ab, 'x'::text = 'x' AS same`,
	`SELECT '2026-01-01'::date + interval '1 day', now() - '1 hour'::interval`,
	`SELECT ARRAY[1,2,3] @> ARRAY[2], '{"a":1}'::jsonb ->> 'a', '{"a":{"b":2}}'::jsonb #> '{a,b}'`,
	`SELECT E'tab\there', $$dollar 'quoted' -- not a comment$$, $fn$ SELECT 1; DROP TABLE x; $fn$`,
	`CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql AS $$ SELECT a + b; $$`,
	`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app; END IF; END $$`,
	`WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 100) SELECT sum(n) FROM t`,
	`SELECT depname, empno, salary, rank() OVER (PARTITION BY depname ORDER BY salary DESC) FROM empsalary`,
	`SELECT * FROM tenk1 WHERE unique1 < 10 OR unique2 = 3 ORDER BY unique1`,
	`SELECT * FROM tenk1 WHERE (unique1 = 1 OR unique1 = 2) AND stringu1 LIKE 'A%'`,
	`SELECT * FROM t WHERE a IS NULL OR b IS NOT NULL`,
	`SELECT * FROM t WHERE flag OR other_flag`,
	`SELECT * FROM t WHERE x BETWEEN 1 AND 10 AND y = 2`,
	`SELECT count(*) FROM onek WHERE four = 1 AND two = 1`,
	`SELECT * FROM int4_tbl WHERE f1 = 0 OR f1 = 123456 OR f1 = -123456`,
	`SELECT CASE WHEN a = 1 THEN 'one' WHEN a = 2 THEN 'two' ELSE 'other' END FROM t`,
	`SELECT title FROM books WHERE title LIKE '%--%' OR title LIKE '%#%' OR title = 'O''Reilly'`,
	`SELECT * FROM notes WHERE body = 'it''s; DROP TABLE x -- not really'`,
	`INSERT INTO orders (user_id, total, note) VALUES (2, 42.50, 'leave at the door; ring twice') RETURNING id`,
	`INSERT INTO comments (body) VALUES ('I said '' OR 1=1 -- in my post about SQL')`,
	`UPDATE users SET name = 'Bob O''Brien' WHERE id = 2`,
	`UPDATE users SET name = 'O\'Brien' WHERE id = 3`,
	`DELETE FROM sessions WHERE expires_at < now() - interval '30 days'`,
	`SELECT 1 -- health check`,
	`SELECT id FROM items WHERE id = 4 -- lookup` + "\nAND active = 1",
	`/* report: daily */ SELECT date_trunc('day', created_at), sum(total) FROM orders GROUP BY 1 ORDER BY 1`,
	`SELECT * FROM users WHERE id = 7 /* controller='users',action='show' */`,
	`SELECT title, price FROM products WHERE price BETWEEN 10 AND 100 UNION SELECT title, price FROM products WHERE stock = 0`,
	`SELECT name FROM a WHERE id = 1 UNION SELECT name FROM b WHERE id = 2`,
	`SELECT 'total' AS name, sum(x) FROM t UNION ALL SELECT name, x FROM t`,
	`COPY (SELECT id, total FROM orders) TO STDOUT WITH (FORMAT csv, HEADER)`,
	`SELECT pg_sleep(1)`,
	`SELECT version()`,
	`SELECT current_user, session_user, current_database()`,
	`SHOW search_path`,
	`SET application_name = 'worker 3'`,
	`BEGIN; UPDATE accounts SET balance = balance - 100 WHERE id = 1; UPDATE accounts SET balance = balance + 100 WHERE id = 2; COMMIT`,
	`CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL DEFAULT ''); CREATE INDEX ON t (name)`,
	`ALTER TABLE orders ADD COLUMN note text; COMMENT ON COLUMN orders.note IS 'free text; may hold anything'`,
	// Django
	`SELECT "auth_user"."id", "auth_user"."password", "auth_user"."username" FROM "auth_user" WHERE "auth_user"."username" = 'alice' LIMIT 21`,
	`SELECT "app_order"."id" FROM "app_order" WHERE ("app_order"."status" IN ('new', 'paid') AND NOT ("app_order"."user_id" IS NULL)) ORDER BY "app_order"."id" DESC`,
	`SELECT c.relname, a.attname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid WHERE c.relname = 'app_order'`,
	// Rails
	`SELECT "users".* FROM "users" WHERE "users"."email" = 'bob@example.com' LIMIT 1`,
	`SELECT "posts".* FROM "posts" WHERE 1=0`,
	`SELECT "posts".* FROM "posts" WHERE "posts"."published" = TRUE AND 1=0`,
	`SELECT "posts".* FROM "posts" WHERE ("posts"."id" = 5 OR 1=0)`,
	`SELECT "schema_migrations"."version" FROM "schema_migrations" ORDER BY "schema_migrations"."version" ASC`,
	// query builders
	`SELECT * FROM products WHERE 1=1 AND category = 'chairs' AND price < 200`,
	`SELECT * FROM products WHERE 1 = 1 AND (title LIKE '%lamp%' OR title LIKE '%desk%')`,
	// Hibernate, SQLAlchemy
	`select user0_.id as id1_0_, user0_.email as email2_0_ from users user0_ where user0_.email=?`,
	`SELECT users.id AS users_id, users.name AS users_name FROM users WHERE users.name = %(name_1)s`,
	`SELECT users.id FROM users WHERE users.id IN (__[POSTCOMPILE_id_1])`,
	// EF Core, SQL Server
	`exec sp_executesql N'SELECT TOP(1) [p].[id], [p].[title] FROM [products] AS [p] WHERE [p].[id] = @__id_0',N'@__id_0 int',@__id_0=5`,
	`SET NOCOUNT ON; UPDATE [orders] SET [status] = @p0 WHERE [id] = @p1; SELECT @@ROWCOUNT;`,
	`SELECT * FROM #tmp WHERE id = 1; DROP TABLE #tmp`,
	`SELECT name FROM sys.databases WHERE name = N'shopdb'`,
	`IF OBJECT_ID(N'dbo.orders', N'U') IS NOT NULL SELECT 1`,
	`BACKUP DATABASE shopdb TO DISK = N'D:\Backup\shopdb.bak' WITH COMPRESSION`,
	// Sequelize, MySQL
	"SELECT `id`, `email` FROM `users` AS `User` WHERE `User`.`email` = 'carol@example.com' LIMIT 1",
	"INSERT INTO `logs` (`id`,`msg`,`createdAt`) VALUES (DEFAULT,'user \\'x\\' logged in; ok','2026-12-06 10:00:00')",
	"/*!40101 SET NAMES utf8mb4 */",
	"SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop'",
	"SHOW VARIABLES LIKE 'version%'",
	"SELECT * FROM t WHERE a = 1 AND b = 2 OR c = 3",
	"SELECT id FROM t WHERE name = 'a' AND id = 1 ORDER BY 2 DESC LIMIT 10",
	"SELECT CONCAT(first, ' ', last) FROM people WHERE id = 9",
	"SELECT HEX(id), UNHEX('4142') FROM t WHERE id = 0x0102",
	"SELECT id FROM t WHERE total > (SELECT AVG(total) FROM t) AND status = 'paid'",
	"SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.t_id = t.id) AND id > 5",
	"SELECT id FROM t WHERE created_at > NOW() - INTERVAL 1 DAY",
}

func TestSQLiStatement(t *testing.T) {
	for _, s := range injectedStatements {
		if !SQLiStatement(s) {
			t.Errorf("missed: %s", s)
		}
	}
	for _, s := range benignStatements {
		if SQLiStatement(s) {
			t.Errorf("false positive: %s", s)
		}
	}
}

func TestLexSQL(t *testing.T) {
	l := lexSQL(`SELECT 'it''s', 'a\'b', "Col", [x y], $$a;b$$, 0x7e, -- c` + "\n" + `#tmp /* d */ 1#e`)
	var got []string
	for _, tk := range l.toks {
		got = append(got, fmt.Sprintf("%d:%s", tk.kind, tk.text))
	}
	want := "1:select 2:it's 6:, 2:a'b 6:, 3:col 6:, 3:x y 6:, 2:a;b 6:, 4:0x7e 6:, 1:#tmp 4:1"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("tokens\n got %s\nwant %s", g, want)
	}
	if len(l.comments) != 3 || l.comments[0].text != " c" || l.comments[1].text != " d " || l.comments[2].text != "e" {
		t.Errorf("comments %+v", l.comments)
	}
}

// The contexts an application pastes a value into: after a number, inside
// single quotes, inside double quotes (a MySQL string).
var statementContexts = []struct{ name, before, after string }{
	{"number", "SELECT id, name FROM items WHERE id = ", " LIMIT 10"},
	{"quote", "SELECT id, name FROM users WHERE name = '", "' AND active = 1"},
	{"dquote", `SELECT id FROM users WHERE name = "`, `" ORDER BY id`},
	{"paren", "SELECT id, name FROM users WHERE (name = '", "') AND active = 1"},
	{"in", "SELECT id, name FROM items WHERE id IN (", ") ORDER BY id"},
	{"like", "SELECT id, title FROM posts WHERE title LIKE '%", "%' LIMIT 20"},
}

// escapeLiteral writes v as a careful application does inside single
// quotes: quotes doubled, backslashes doubled (MySQL reads them).
func escapeLiteral(v string) string {
	return strings.NewReplacer("'", "''", `\`, `\\`).Replace(v)
}

func isNumber(v string) bool {
	if v == "" {
		return false
	}
	for _, c := range []byte(v) {
		if !isDigit(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// corpusPayload is the value an attacker sent, decoded: modsec_learn's
// records are p=<value>.
func corpusPayload(raw string) string {
	return URLDecode(strings.TrimPrefix(raw, "p="))
}

// TestSQLiStatementCorpora measures the statement mode the way it is used:
// on the statement an application builds. Each attack payload of the
// corpora is pasted into a query in three contexts (after a number,
// inside '…', inside "…"); it counts as found when the statement of some
// context is flagged (the payload was written for one of them). Each
// benign value is written into a query as a careful application writes it
// (an escaped string, or a number): those statements must not be flagged.
// The same statements go through libinjection and vigil's web check (SQLi)
// for comparison: those flag any SQL, so they flag every statement.
func TestSQLiStatementCorpora(t *testing.T) {
	files := loadCorpora(t)
	var b strings.Builder
	fmt.Fprintf(&b, "%-62s %7s %8s", "file", "inputs", "any")
	for _, c := range statementContexts {
		fmt.Fprintf(&b, " %8s", c.name)
	}
	b.WriteByte('\n')
	var posN, posAny, negN, negHit int
	for _, f := range files {
		n, anyHit := 0, 0
		ctxHit := make([]int, len(statementContexts))
		for _, raw := range f.values {
			n++
			if f.positive {
				p := corpusPayload(raw)
				hit := false
				for i, c := range statementContexts {
					if SQLiStatement(c.before + p + c.after) {
						ctxHit[i]++
						hit = true
					}
				}
				if hit {
					anyHit++
				}
				continue
			}
			flagged := Inputs(raw, func(v string) bool {
				if SQLiStatement(statementContexts[1].before + escapeLiteral(v) + statementContexts[1].after) {
					return true
				}
				return isNumber(v) && SQLiStatement(statementContexts[0].before+v+statementContexts[0].after)
			})
			if flagged {
				anyHit++
				if testing.Verbose() && negHit < 20 {
					t.Logf("benign flagged: %q", raw)
				}
			}
		}
		if f.positive {
			posN, posAny = posN+n, posAny+anyHit
			fmt.Fprintf(&b, "%-62s %7d %7.2f%%", f.name, n, pct(anyHit, n))
			for i := range statementContexts {
				fmt.Fprintf(&b, " %7.2f%%", pct(ctxHit[i], n))
			}
			b.WriteString("  (found)\n")
		} else {
			negN, negHit = negN+n, negHit+anyHit
			fmt.Fprintf(&b, "%-62s %7d %7.2f%%  (flagged, as escaped literals)\n", f.name, n, pct(anyHit, n))
		}
	}
	benign := 0
	for _, s := range benignStatements {
		if SQLiStatement(s) {
			benign++
		}
	}
	fmt.Fprintf(&b, "%-62s %7d %7.2f%%\n", "ALL attacks (found in some context)", posN, pct(posAny, posN))
	fmt.Fprintf(&b, "%-62s %7d %7.2f%%\n", "ALL benign values (flagged)", negN, pct(negHit, negN))
	fmt.Fprintf(&b, "%-62s %7d %7.2f%%\n", "benign statements of this file (flagged)", len(benignStatements), pct(benign, len(benignStatements)))
	t.Log("\n" + b.String())
	if pct(negHit, negN) > 0.1 {
		t.Errorf("statement mode flags %.2f%% of benign values written as literals, want ≤ 0.1%%", pct(negHit, negN))
	}
	if pct(posAny, posN) < 85 {
		t.Errorf("statement mode finds %.2f%% of the attacks, want ≥ 85%%", pct(posAny, posN))
	}
}
