package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// There is no SQL Server here: its audit records are built from the
// documented schema — the columns sys.fn_get_audit_file returns (action_id
// char(4), succeeded bit, server_principal_name, client_ip,
// application_name, statement, additional_information with the login's
// <error_code>/<error_state> or the batch's <error_number>) and, for Azure
// SQL, the same columns under "properties" of a SQLSecurityAuditEvents
// diagnostic record.
type mssqlAudit struct {
	at   time.Time
	rows []map[string]any
}

const (
	mssqlServer   = "shopsrv"
	mssqlDatabase = "shopdb"
	mssqlAppIP    = "203.0.113.10" // the shop's web server
	mssqlAttacker = "198.51.100.23"
	mssqlClient   = "Core Microsoft SqlClient Data Provider"
)

var mssqlActionNames = map[string]string{
	"LGIS": "LOGIN SUCCEEDED", "LGIF": "LOGIN FAILED",
	"DBAS": "DATABASE AUTHENTICATION SUCCEEDED", "DBAF": "DATABASE AUTHENTICATION FAILED",
	"BCM ": "BATCH COMPLETED", "RCM ": "RPC COMPLETED",
}

func (a *mssqlAudit) add(action, login, ip, app, stmt string, ok bool, info string) {
	a.at = a.at.Add(7 * time.Second)
	a.rows = append(a.rows, map[string]any{
		"event_time":                    a.at.Format("2006-01-02T15:04:05.0000000"),
		"sequence_number":               1,
		"action_id":                     action,
		"action_name":                   mssqlActionNames[action],
		"succeeded":                     ok,
		"session_id":                    51 + len(a.rows)%40,
		"class_type":                    "DB",
		"session_server_principal_name": login,
		"server_principal_name":         login,
		"database_principal_name":       login,
		"server_instance_name":          mssqlServer,
		"database_name":                 mssqlDatabase,
		"statement":                     stmt,
		"additional_information":        info,
		"client_ip":                     ip,
		"application_name":              app,
		"host_name":                     "WEB01",
		"duration_milliseconds":         3,
		"response_rows":                 1,
		"affected_rows":                 0,
	})
}

func (a *mssqlAudit) login(login, ip, app string) {
	a.add("LGIS", login, ip, app, "", true, "<action_info><pooled_connection>0</pooled_connection></action_info>")
}

// loginFailed is error 18456 with its state: 8 a wrong password for a
// login that exists, 5 a login that does not.
func (a *mssqlAudit) loginFailed(login, ip, app string, state int) {
	a.add("LGIF", login, ip, app, "", false, fmt.Sprintf("<login_information><error_code>18456</error_code><error_state>%d</error_state><address>%s</address></login_information>", state, ip))
}

func (a *mssqlAudit) batch(login, ip, app, stmt string) {
	a.add("BCM ", login, ip, app, stmt, true, "")
}

// batchError is a batch the server refused with error number n (102
// incorrect syntax, 105 unclosed quotation mark, 208 invalid object).
func (a *mssqlAudit) batchError(login, ip, app, stmt string, n int) {
	a.add("BCM ", login, ip, app, stmt, false, fmt.Sprintf("<batch_information><error_number>%d</error_number></batch_information>", n))
}

func (a *mssqlAudit) ndjson(t *testing.T) []byte {
	var b bytes.Buffer
	for _, r := range a.rows {
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// azure wraps the rows as Azure SQL writes them to an Event Hub or a
// storage account: {"records": [{time, resourceId, category, properties}]}.
func (a *mssqlAudit) azure(t *testing.T) []byte {
	recs := make([]map[string]any, 0, len(a.rows))
	for _, r := range a.rows {
		p := map[string]any{}
		for k, v := range r {
			p[k] = v
		}
		ts, _ := time.Parse("2006-01-02T15:04:05.0000000", r["event_time"].(string))
		p["event_time"] = ts.Format(time.RFC3339Nano)
		recs = append(recs, map[string]any{
			"time":          ts.Format(time.RFC3339Nano),
			"resourceId":    "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/SHOP-RG/PROVIDERS/MICROSOFT.SQL/SERVERS/SHOPSRV/DATABASES/SHOPDB",
			"category":      "SQLSecurityAuditEvents",
			"operationName": "AuditEvent",
			"properties":    p,
		})
	}
	j, err := json.Marshal(map[string]any{"records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func mssqlWorkloads() (benign, attack *mssqlAudit) {
	benign = &mssqlAudit{at: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	for i, s := range []string{
		"SELECT id, name, email FROM dbo.users WHERE id = 1",
		"SELECT [u].[id], [u].[email] FROM [dbo].[users] AS [u] WHERE [u].[email] = N'alice@example.com'",
		"exec sp_executesql N'SELECT TOP(1) [p].[id], [p].[title] FROM [products] AS [p] WHERE [p].[id] = @__id_0',N'@__id_0 int',@__id_0=5",
		"INSERT INTO dbo.orders (user_id, total, note) VALUES (2, 42.50, N'leave at the door; ring twice')",
		"UPDATE dbo.users SET name = N'Bob O''Brien' WHERE id = 2",
		"SELECT u.name, COUNT(o.id) AS orders FROM dbo.users u LEFT JOIN dbo.orders o ON o.user_id = u.id GROUP BY u.name ORDER BY 2 DESC",
		"SELECT TOP 20 id, title FROM dbo.products WHERE title LIKE N'%chair%' OR title LIKE N'%desk%' ORDER BY id",
		"SELECT title, price FROM dbo.products WHERE price BETWEEN 10 AND 100 UNION SELECT title, price FROM dbo.archived_products",
		"SELECT 1 -- health check",
		"BACKUP DATABASE shopdb TO DISK = N'D:\\Backup\\shopdb.bak' WITH COMPRESSION",
		"INSERT INTO dbo.reviews (product_id, body) VALUES (3, N'works; my kid typed '' OR 1=1 -- into the box')",
		"SELECT id INTO #recent FROM dbo.orders WHERE total > 100; SELECT COUNT(*) FROM #recent WHERE id > 5; DROP TABLE #recent",
	} {
		benign.login("webapp", mssqlAppIP, mssqlClient)
		benign.batch("webapp", mssqlAppIP, mssqlClient, s)
		if i == 4 {
			benign.loginFailed("reporting", "203.0.113.40", "Microsoft SQL Server Management Studio", 8) // one mistyped password
			benign.login("reporting", "203.0.113.40", "Microsoft SQL Server Management Studio")
		}
	}
	benign.batchError("webapp", mssqlAppIP, mssqlClient, "SELEC id FROM dbo.users", 102) // one typo

	attack = &mssqlAudit{at: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	// Injection through the shop: payloads inside its statements, and
	// the probes that break them.
	for _, s := range []string{
		"SELECT id, name FROM dbo.users WHERE name = '' OR 1=1 --' AND password = 'x'",
		"SELECT id, title FROM dbo.products WHERE id = 3 UNION ALL SELECT NULL, name FROM sys.sql_logins",
		"SELECT id FROM dbo.products WHERE id = 1; WAITFOR DELAY '0:0:5'--",
	} {
		attack.batch("webapp", mssqlAppIP, mssqlClient, s)
	}
	for i, s := range []string{
		"SELECT id FROM dbo.users WHERE id = 1'",
		"SELECT id FROM dbo.users WHERE name = 'x''",
		"SELECT id FROM dbo.users WHERE id = 1)",
		"SELECT id FROM dbo.users WHERE id = 1 AND",
		"SELECT id FROM dbo.users WHERE id = 1' OR '",
		"SELECT id FROM dbo.users WHERE id = (1",
	} {
		attack.batchError("webapp", mssqlAppIP, mssqlClient, s, []int{105, 102}[i%2])
	}
	// Password guessing from the internet: unknown logins, then sa.
	for _, l := range []string{"admin", "root", "test"} {
		attack.loginFailed(l, mssqlAttacker, ".Net SqlClient Data Provider", 5)
	}
	for i := 0; i < 8; i++ {
		attack.loginFailed("sa", mssqlAttacker, ".Net SqlClient Data Provider", 8)
	}
	attack.login("sa", mssqlAttacker, ".Net SqlClient Data Provider")
	// With sa: a shell and the host's files.
	attack.batch("sa", mssqlAttacker, ".Net SqlClient Data Provider", "EXEC sp_configure 'show advanced options', 1; RECONFIGURE; EXEC sp_configure 'xp_cmdshell', 1; RECONFIGURE")
	attack.batch("sa", mssqlAttacker, ".Net SqlClient Data Provider", "EXEC master..xp_cmdshell 'whoami /all'")
	attack.batch("sa", mssqlAttacker, ".Net SqlClient Data Provider", "SELECT BulkColumn FROM OPENROWSET(BULK 'C:\\inetpub\\wwwroot\\web.config', SINGLE_CLOB) AS x")
	// sqlmap announcing itself.
	attack.login("webapp", "198.51.100.77", "sqlmap/1.7.2#stable (https://sqlmap.org)")
	attack.batch("webapp", "198.51.100.77", "sqlmap/1.7.2#stable (https://sqlmap.org)", "SELECT @@VERSION")
	return benign, attack
}

// TestSQLAlertsMSSQLEndToEnd sends SQL Server audit rows and Azure SQL
// diagnostic records through `vigil serve`.
func TestSQLAlertsMSSQLEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	benign, attack := mssqlWorkloads()
	want := []wantAlert{
		{titleSQLInjection, "account=webapp"},
		{titleSQLVulnerable, "ip=" + mssqlAppIP},
		{titleHarmfulApp, "ip=198.51.100.77"},
		{titleBruteForce, "ip=" + mssqlAttacker},
		{titleBruteValidUser, "account=sa"},
		{titleBruteSuccess, "account=sa"},
		{titleShellFromSQL, "account=sa"},
		{titleFileFromSQL, "account=sa"},
	}
	t.Run("fn_get_audit_file", func(t *testing.T) {
		runSQLScenario(t, sqlScenario{source: mssqlServer, format: "mssql-audit", ctype: "application/x-ndjson",
			benign: benign.ndjson(t), attack: attack.ndjson(t), want: want})
	})
	t.Run("azure", func(t *testing.T) {
		runSQLScenario(t, sqlScenario{source: mssqlServer, format: "mssql-audit", ctype: "application/json",
			benign: benign.azure(t), attack: attack.azure(t), want: want})
	})
}
