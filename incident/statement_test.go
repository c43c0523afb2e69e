package incident

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// accessList renders accesses as "kind:name[@table]:action", in order.
func accessList(as []StatementAccess) string {
	var s []string
	for _, a := range as {
		x := a.Kind + ":" + a.Name
		if a.Table != "" {
			x += "@" + a.Table
		}
		s = append(s, x+":"+a.Action)
	}
	return strings.Join(s, " ")
}

func TestParseStatement(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"SELECT id, name FROM users WHERE id = 1",
			"table:users:read column:id@users:read column:name@users:read"},
		{"select * from users where name = '' or 1=1 --' and pass = 'x'",
			"table:users:read"},
		{"SELECT TOP (20) c.CustomerID, c.CompanyName AS n FROM SalesLT.Customer AS c ORDER BY c.ModifiedDate DESC",
			"table:SalesLT.Customer:read column:CustomerID@SalesLT.Customer:read column:CompanyName@SalesLT.Customer:read"},
		{"SELECT o.id, u.email FROM [shop].[dbo].[orders] o JOIN `users` AS u ON u.id = o.user_id LEFT OUTER JOIN \"public\".\"addresses\" a ON a.id = u.address_id",
			"table:shop.dbo.orders:read table:users:read table:public.addresses:read column:id@shop.dbo.orders:read column:email@users:read"},
		{"SELECT a, b FROM t1, t2 WHERE t1.x = t2.x",
			"table:t1:read table:t2:read column:a:read column:b:read"}, // which table: cannot be told
		{"SELECT sku FROM dbo.products WHERE c = '' UNION SELECT TOP 5 card_number, expiry, NULL FROM dbo.payment_cards--'",
			"table:dbo.products:read table:dbo.payment_cards:read column:sku@dbo.products:read column:card_number@dbo.payment_cards:read column:expiry@dbo.payment_cards:read"},
		{"INSERT INTO `shop`.`orders` (id, total) VALUES (1, 2); DELETE FROM \"public\".\"sessions\" WHERE 1=1",
			"table:shop.orders:write column:id@shop.orders:write column:total@shop.orders:write table:public.sessions:delete"},
		{"INSERT archive (id) SELECT id FROM orders",
			"table:archive:write column:id@archive:write table:orders:read column:id@orders:read"},
		{"UPDATE u SET u.password = 'x', role = 'admin' FROM users u WHERE u.id = 1",
			"table:users:write column:password@users:write column:role@users:write table:users:read"},
		{"UPDATE accounts SET balance = balance + 1 WHERE id = 2",
			"table:accounts:write column:balance@accounts:write"},
		{"DELETE TOP (10) FROM logs WHERE x < 3", "table:logs:delete"},
		{"DELETE FROM a USING b WHERE a.id = b.id", "table:a:delete table:b:read"},
		{"TRUNCATE TABLE audit_log, sessions", "table:audit_log:delete table:sessions:delete"},
		{"DROP TABLE IF EXISTS customers", "table:customers:delete"},
		{"CREATE TABLE loot AS SELECT * FROM customers", "table:loot:write table:customers:read"},
		{"SELECT * INTO #tmp FROM dbo.CreditCards", "table:#tmp:write table:dbo.CreditCards:read"},
		{"MERGE INTO target t USING source s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v",
			"table:target:write table:source:read"},
		{"WITH recent AS (SELECT * FROM orders WHERE d > now()), big (n) AS (SELECT 1) SELECT * FROM recent JOIN customers ON 1=1",
			"table:orders:read table:customers:read"},
		{"COPY customers TO '/tmp/c.csv' WITH CSV", "table:customers:export file:/tmp/c.csv:write"},
		{"COPY (SELECT * FROM payment_cards) TO STDOUT", "table:payment_cards:export"},
		{"COPY staging FROM '/etc/passwd'", "table:staging:write file:/etc/passwd:read"},
		{"SELECT * FROM users INTO OUTFILE '/var/lib/mysql-files/u.txt'", "file:/var/lib/mysql-files/u.txt:write table:users:export"},
		{"SELECT LOAD_FILE('/etc/passwd')", "file:/etc/passwd:read"},
		{"SELECT pg_read_file('/etc/shadow', 0, 200)", "file:/etc/shadow:read"},
		{"LOAD DATA INFILE '/tmp/x.csv' INTO TABLE imports", "file:/tmp/x.csv:read table:imports:write"},
		{"BULK INSERT dbo.Staging FROM 'C:\\in\\x.csv'", "table:dbo.Staging:write file:C:\\in\\x.csv:read"},
		{"SELECT * FROM OPENROWSET(BULK 'C:\\secrets.txt', SINGLE_CLOB) AS x", "file:C:\\secrets.txt:read"},
		{"exec sp_executesql N'SELECT [c].[email] FROM [dbo].[customers] AS [c] WHERE [c].[id] = @p0',N'@p0 int',@p0=1",
			"table:dbo.customers:read column:email@dbo.customers:read"},
		{"SELECT /*!50000 password */ FROM mysql.user # the rest", "table:mysql.user:read column:password@mysql.user:read"},
		{"SELECT 1 FROM dual", ""},
		{"SELECT count(*), now(), @@version, 'x', 42 FROM generate_series(1, 10)", ""},
		{"SELECT $$ FROM secret $$, $q$ FROM hidden $q$ FROM visible", "table:visible:read"},
		{"SELECT a FROM t /* FROM hidden */ WHERE b = 'it''s FROM x' AND c = 'don\\'t FROM y'", "table:t:read column:a@t:read"},
		{"SELECT * FROM users FOR UPDATE", "table:users:read"},
		{"INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2", "table:t:write column:a@t:write"},
		{"SELECT * FROM shop..orders", "table:shop.orders:read"},
		{"SELECT * FROM (SELECT id FROM inner_t) AS sub", "table:inner_t:read column:id@inner_t:read"},
		{"SELECT * FROM users; SELECT * FROM USERS", "table:users:read"}, // once, whatever the case
		{"", ""},
		{"FROM", ""},
		{"SELECT * FROM \"unterminated", "table:unterminated:read"},
	} {
		if got := accessList(ParseStatement(tc.sql)); got != tc.want {
			t.Errorf("%s\n got  %s\n want %s", tc.sql, got, tc.want)
		}
	}
}

func TestParseStatementBoundsItsInput(t *testing.T) {
	long := "SELECT a FROM t WHERE x IN (" + strings.Repeat("1,", maxStatement) + "1); SELECT * FROM beyond"
	if got := accessList(ParseStatement(long)); strings.Contains(got, "beyond") {
		t.Errorf("read past %d bytes: %s", maxStatement, got)
	}
	deep := strings.Repeat("EXEC('", 10) + "SELECT * FROM deep" + strings.Repeat("')", 10)
	_ = ParseStatement(deep) // dynamic SQL nests a few levels, no more
}

func FuzzParseStatement(f *testing.F) {
	for _, s := range []string{
		"SELECT id, name FROM users WHERE id = 1",
		"SELECT o.id FROM [a].[b] o JOIN `c` u ON u.id = o.id",
		"WITH x AS (SELECT 1) SELECT * FROM x",
		"COPY (SELECT * FROM t) TO '/tmp/x'",
		"exec sp_executesql N'SELECT 1 FROM t'",
		"SELECT $a$ x $a$ FROM t /*! FROM y */",
		"UPDATE t SET a.b = 1 FROM t a",
		"DELETE TOP (",
		"INSERT INTO t (",
		"SELECT 'unterminated",
		"WITH x (a, b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		as := ParseStatement(sql)
		seen := map[string]bool{}
		for _, a := range as {
			if a.Name == "" {
				t.Fatalf("%q: an access without a name: %+v", sql, a)
			}
			switch a.Kind {
			case DataTable, DataColumn, DataFile:
			default:
				t.Fatalf("%q: kind %q", sql, a.Kind)
			}
			switch a.Action {
			case ActionRead, ActionWrite, ActionDelete, ActionExport:
			default:
				t.Fatalf("%q: action %q", sql, a.Action)
			}
			k := strings.ToLower(fmt.Sprint(a))
			if seen[k] {
				t.Fatalf("%q: %+v listed twice", sql, a)
			}
			seen[k] = true
			if utf8.ValidString(sql) && !utf8.ValidString(a.Name) {
				t.Fatalf("%q: name %q is not UTF-8 though the statement is", sql, a.Name)
			}
		}
	})
}

func BenchmarkParseStatement(b *testing.B) {
	for name, sql := range map[string]string{
		"typical": "SELECT o.id, u.email, o.total FROM dbo.orders o JOIN dbo.users u ON u.id = o.user_id WHERE o.created > @p0 ORDER BY o.created DESC",
		"nested":  strings.Repeat("(SELECT a FROM x JOIN ", maxStatement/22),
		"updates": strings.Repeat("(UPDATE t SET a = 1 FROM x, ", maxStatement/28),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(sql)))
			for b.Loop() {
				ParseStatement(sql)
			}
		})
	}
}
