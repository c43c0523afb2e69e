package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// The fixtures were captured from a PostgreSQL 15.20 server with pgaudit
// (see docs/sql-audit.md), driven by psql: the same sessions written to
// stderr, csvlog and jsonlog at once; stderr first with the default prefix
// "%m [%p] ", then with the recommended one.
var fixtures = []struct{ file, format string }{
	{"stderr_default.log", Format},
	{"stderr_prefix.log", Format},
	{"csvlog.csv", FormatCSV},
	{"jsonlog.json", FormatJSON},
}

// want is what one record must decode to; "-" means the field must be
// empty, "" that it is not checked.
type want struct {
	action, outcome, code, user, db, ip, port, statement string
}

func check(t *testing.T, where string, ev *event.Event, w want) {
	t.Helper()
	dectest.CheckCommon(t, where, ev, map[string]string{
		"event.action": w.action, "event.outcome": w.outcome, "event.code": w.code, "user.name": w.user,
		"db.name": w.db, "source.ip": w.ip, "source.port": w.port, "db.statement": w.statement,
	})
	c := &ev.Common
	if c[event.DBUser] != c[event.UserName] {
		t.Errorf("%s: db.user %q differs from user.name %q", where, c[event.DBUser], c[event.UserName])
	}
}

const multiLine = "SELECT u.id,\n       u.name,\n       u.email\n  FROM users u\n WHERE u.name LIKE 'a%'\n ORDER BY u.id;"

func TestFixtures(t *testing.T) {
	// Each kind of line, as each destination writes it. The default prefix
	// carries no user, database or client: only the messages that name
	// them give them.
	type kind struct {
		match []string
		w     map[string]want // by fixture file
	}
	kinds := []kind{
		{[]string{"connection received: host=127.0.0.1 port=34512"}, map[string]want{
			"stderr_default.log": {action: "connection-received", outcome: "-", ip: "127.0.0.1", port: "34512", user: "-"},
			"csvlog.csv":         {action: "connection-received", outcome: "-", ip: "127.0.0.1", port: "34512", user: "-"},
			"jsonlog.json":       {action: "connection-received", outcome: "-", ip: "127.0.0.1", port: "34512", user: "-"},
		}},
		{[]string{"connection authorized: user=webapp database=shop application_name=webshop", "34610"}, map[string]want{
			"stderr_prefix.log": {action: "connect", outcome: "success", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34610", code: "-"},
		}},
		{[]string{"connection authorized: user=webapp database=shop application_name=sqlmap"}, map[string]want{
			"stderr_default.log": {action: "connect", outcome: "success", user: "webapp", db: "shop", ip: "-"},
			"csvlog.csv":         {action: "connect", outcome: "success", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34594"},
			"jsonlog.json":       {action: "connect", outcome: "success", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34594"},
		}},
		{[]string{`password authentication failed for user`, "webapp"}, map[string]want{
			"stderr_default.log": {action: "login-failed", outcome: "failure", user: "webapp", code: "-"},
			"stderr_prefix.log":  {action: "login-failed", outcome: "failure", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34620", code: "28P01"},
			"csvlog.csv":         {action: "login-failed", outcome: "failure", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34520", code: "28P01"},
			"jsonlog.json":       {action: "login-failed", outcome: "failure", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34520", code: "28P01"},
		}},
		{[]string{`password authentication failed for user`, "admin"}, map[string]want{ // a user that does not exist
			"stderr_default.log": {action: "login-failed", outcome: "failure", user: "admin"},
			"stderr_prefix.log":  {action: "login-failed", outcome: "failure", user: "admin", code: "28P01", ip: "127.0.0.1"},
			"csvlog.csv":         {action: "login-failed", outcome: "failure", user: "admin", code: "28P01"},
			"jsonlog.json":       {action: "login-failed", outcome: "failure", user: "admin", code: "28P01"},
		}},
		{[]string{"nosuchdb", "does not exist"}, map[string]want{
			"stderr_prefix.log": {action: "error", outcome: "failure", code: "3D000", user: "webapp", db: "nosuchdb"},
			"jsonlog.json":      {action: "error", outcome: "failure", code: "3D000", user: "webapp", db: "nosuchdb"},
		}},
		{[]string{"statement: SELECT * FROM users WHERE name = '' OR 1=1 --"}, map[string]want{
			"stderr_default.log": {action: "statement", outcome: "-", statement: "SELECT * FROM users WHERE name = '' OR 1=1 --' AND pass = 'x'"},
			"stderr_prefix.log":  {action: "statement", user: "webapp", db: "shop", ip: "127.0.0.1", statement: "SELECT * FROM users WHERE name = '' OR 1=1 --' AND pass = 'x'"},
			"csvlog.csv":         {action: "statement", user: "webapp", db: "shop", statement: "SELECT * FROM users WHERE name = '' OR 1=1 --' AND pass = 'x'"},
			"jsonlog.json":       {action: "statement", user: "webapp", db: "shop", statement: "SELECT * FROM users WHERE name = '' OR 1=1 --' AND pass = 'x'"},
		}},
		{[]string{"AUDIT: SESSION,1,1,READ,SELECT,,,", "UNION SELECT 1, usename"}, map[string]want{
			"stderr_default.log": {action: "statement", code: "-", statement: "SELECT id, name FROM users WHERE id = 1 UNION SELECT 1, usename FROM pg_user"},
			"csvlog.csv":         {action: "statement", code: "-", statement: "SELECT id, name FROM users WHERE id = 1 UNION SELECT 1, usename FROM pg_user"},
			"jsonlog.json":       {action: "statement", code: "-", statement: "SELECT id, name FROM users WHERE id = 1 UNION SELECT 1, usename FROM pg_user"},
		}},
		{[]string{"syntax error at or near", "x''"}, map[string]want{ // ERROR with its STATEMENT line
			"stderr_default.log": {action: "error", outcome: "failure", statement: "SELECT * FROM users WHERE name = 'x'' OR '1'='1"},
			"stderr_prefix.log":  {action: "error", outcome: "failure", code: "42601", user: "webapp", statement: "SELECT * FROM users WHERE name = 'x'' OR '1'='1"},
			"csvlog.csv":         {action: "error", outcome: "failure", code: "42601", user: "webapp", statement: "SELECT * FROM users WHERE name = 'x'' OR '1'='1"},
			"jsonlog.json":       {action: "error", outcome: "failure", code: "42601", user: "webapp", statement: "SELECT * FROM users WHERE name = 'x'' OR '1'='1"},
		}},
		{[]string{"statement: SELECT u.id,"}, map[string]want{ // multi-line
			"stderr_default.log": {action: "statement", statement: multiLine},
			"stderr_prefix.log":  {action: "statement", statement: multiLine},
			"csvlog.csv":         {action: "statement", statement: multiLine},
			"jsonlog.json":       {action: "statement", statement: multiLine},
		}},
		{[]string{"AUDIT: SESSION,1,1,READ,SELECT,,,", "SELECT u.id,"}, map[string]want{ // multi-line, quoted by pgaudit
			"stderr_prefix.log": {action: "statement", statement: multiLine},
			"csvlog.csv":        {action: "statement", statement: multiLine},
			"jsonlog.json":      {action: "statement", statement: multiLine},
		}},
		{[]string{"syntax error at or near", "total >"}, map[string]want{ // multi-line STATEMENT
			"stderr_default.log": {action: "error", statement: "SELECT count(*) FROM\n  orders WHERE total > ;"},
			"csvlog.csv":         {action: "error", code: "42601", statement: "SELECT count(*) FROM\n  orders WHERE total > ;"},
		}},
		{[]string{"duration: 252.571 ms  statement: SELECT pg_sleep(0.25)"}, map[string]want{
			"stderr_prefix.log": {action: "statement", user: "postgres", statement: "SELECT pg_sleep(0.25)"},
			"csvlog.csv":        {action: "statement", user: "postgres", statement: "SELECT pg_sleep(0.25)"},
			"jsonlog.json":      {action: "statement", user: "postgres", statement: "SELECT pg_sleep(0.25)"},
		}},
		{[]string{"disconnection: session time:", "port=34594"}, map[string]want{
			"stderr_default.log": {action: "disconnect", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34594"},
			"csvlog.csv":         {action: "disconnect", user: "webapp", db: "shop", ip: "127.0.0.1", port: "34594"},
		}},
		{[]string{"database system is ready to accept connections"}, map[string]want{
			"stderr_default.log": {action: "-", user: "-", statement: "-"},
			"csvlog.csv":         {action: "-", user: "-", statement: "-"},
			"jsonlog.json":       {action: "-", user: "-", statement: "-"},
		}},
	}
	for _, fx := range fixtures {
		recs := dectest.Frame(t, fx.file, fx.format)
		for _, k := range kinds {
			w, ok := k.w[fx.file]
			if !ok {
				continue
			}
			rec := dectest.Find(t, recs, k.match...)
			ev, err := dectest.DecodeAs(t, fx.format, rec)
			if err != nil {
				t.Errorf("%s %q: %v", fx.file, k.match, err)
				continue
			}
			check(t, fx.file+" "+strings.Join(k.match, "…"), ev, w)
		}
	}
}

// TestAllRecords decodes every record of every fixture: each has a time in
// the capture window, the logsource, and a message.
func TestAllRecords(t *testing.T) {
	from := time.Date(2026, 11, 27, 16, 49, 0, 0, time.UTC)
	to := from.Add(5 * time.Minute)
	counts := map[string]int{}
	for _, fx := range fixtures {
		recs := dectest.Frame(t, fx.file, fx.format)
		for i, rec := range recs {
			ev, err := dectest.DecodeAs(t, fx.format, rec)
			if err != nil {
				t.Errorf("%s record %d: %v", fx.file, i+1, err)
				continue
			}
			if ev.Time.Before(from) || ev.Time.After(to) {
				t.Errorf("%s record %d: time %v", fx.file, i+1, ev.Time)
			}
			if ev.Logsource != Logsource || ev.Common[event.Message] == "" || ev.Common[event.ProcessPID] == "" {
				t.Errorf("%s record %d: logsource %+v message %q pid %q", fx.file, i+1, ev.Logsource, ev.Common[event.Message], ev.Common[event.ProcessPID])
			}
			if a := ev.Common[event.EventAction]; a == "statement" || a == "error" && ev.Common[event.DBStatement] != "" {
				if strings.Contains(ev.Common[event.DBStatement], "\n\t") {
					t.Errorf("%s record %d: statement keeps the continuation tabs", fx.file, i+1)
				}
			}
			counts[fx.format+" "+ev.Common[event.EventAction]]++
		}
	}
	// Each destination saw every kind.
	for _, f := range []string{Format, FormatCSV, FormatJSON} {
		for _, a := range []string{"connection-received", "authenticated", "connect", "login-failed", "statement", "error", "disconnect", "duration"} {
			if counts[f+" "+a] == 0 {
				t.Errorf("%s: no %s event", f, a)
			}
		}
	}
	t.Log(counts)
}

// TestCSVAgreesWithJSON: csvlog and jsonlog were written by one server at
// once; record by record they must decode alike.
func TestCSVAgreesWithJSON(t *testing.T) {
	csv := dectest.Frame(t, "csvlog.csv", FormatCSV)
	js := dectest.Frame(t, "jsonlog.json", FormatJSON)
	if len(csv) != len(js) {
		t.Fatalf("%d csvlog records, %d jsonlog records", len(csv), len(js))
	}
	for i := range csv {
		a, err1 := dectest.DecodeAs(t, FormatCSV, csv[i])
		b, err2 := dectest.DecodeAs(t, FormatJSON, js[i])
		if err1 != nil || err2 != nil {
			t.Fatalf("record %d: %v, %v", i+1, err1, err2)
		}
		if a.Common != b.Common || !a.Time.Equal(b.Time) {
			t.Errorf("record %d:\ncsv  %q\njson %q", i+1, a.Common, b.Common)
		}
		for _, name := range []string{"user_name", "database_name", "session_id", "session_line_num", "command_tag", "error_severity", "sql_state_code", "detail", "query", "application_name", "backend_type", "class", "command"} {
			x, _ := a.Get(name)
			y, _ := b.Get(name)
			if x != y {
				t.Errorf("record %d: %s csv %q json %q", i+1, name, x, y)
			}
		}
	}
}

func TestFields(t *testing.T) {
	recs := dectest.Frame(t, "stderr_prefix.log", Format)
	ev, err := dectest.DecodeAs(t, Format, dectest.Find(t, recs, "AUDIT: SESSION,2,1,DDL,DROP TABLE"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"audit_type": "SESSION", "statement_id": "2", "substatement_id": "1", "class": "DDL", "command": "DROP TABLE",
		"session_id": "6b09b4b2.5962", "user_name": "webapp", "database_name": "shop", "application_name": "webshop",
		"remote_host": "127.0.0.1", "remote_port": "34676", "process_id": "22882", "error_severity": "LOG",
		"statement": "SELECT id FROM users WHERE id = 1; DROP TABLE IF EXISTS audit_tmp; SELECT 'pwned'",
	} {
		if got, _ := ev.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := ev.Get("parameter"); ok {
		t.Error("parameter <not logged> kept")
	}
	if _, ok := ev.Get("sql_state_code"); ok {
		t.Error("sql_state_code 00000 kept")
	}
	// The FATAL and its DETAIL lines are one record; the DETAIL's own
	// continuation line stays in it.
	ev, _ = dectest.DecodeAs(t, Format, dectest.Find(t, dectest.Frame(t, "stderr_default.log", Format), `for user "admin"`))
	if d, _ := ev.Get("detail"); d != "Role \"admin\" does not exist.\nConnection matched pg_hba.conf line 87: \"host    all             all             127.0.0.1/32            scram-sha-256\"" {
		t.Errorf("detail = %q", d)
	}
	// csvlog's doubled quotes are undoubled.
	ev, _ = dectest.DecodeAs(t, FormatCSV, dectest.Find(t, dectest.Frame(t, "csvlog.csv", FormatCSV), "connection authenticated", "34512"))
	if got, _ := ev.Get("auth_identity"); got != "webapp" || ev.Common[event.Message] != `connection authenticated: identity="webapp" method=scram-sha-256 (/var/lib/postgresql/15/main/pg_hba.conf:87)` {
		t.Errorf("identity %q message %q", got, ev.Common[event.Message])
	}
	ev, _ = dectest.DecodeAs(t, FormatJSON, dectest.Find(t, dectest.Frame(t, "jsonlog.json", FormatJSON), "duration: 252.571 ms"))
	if got, _ := ev.Get("duration_ms"); got != "252.571" {
		t.Errorf("duration_ms = %q", got)
	}
}

// TestPrefixes reads prefixes other than the captured ones.
func TestPrefixes(t *testing.T) {
	for _, tt := range []struct {
		line                                 string
		time, user, db, ip, port, app, state string
	}{
		// Debian's default.
		{`2024-05-06 08:00:00.123 UTC [4711] alice@shop LOG:  statement: SELECT 1`, "2024-05-06T08:00:00.123Z", "alice", "shop", "", "", "", ""},
		// pgBadger's, with %t and a colon after the pid.
		{`2024-05-06 08:00:00 UTC [4711]: [3-1] user=alice,db=shop,app=pgAdmin 4 - DB:shop,client=10.1.2.3 LOG:  statement: SELECT 1`, "2024-05-06T08:00:00Z", "alice", "shop", "10.1.2.3", "", "pgAdmin 4 - DB:shop", ""},
		{`2024-05-06 08:00:00.5 CET [4711] session=1.2,user=bob,db=x,app=a b,client=2001:db8::1(5432),sqlstate=42601 ERROR:  syntax error`, "2024-05-06T07:00:00.5Z", "bob", "x", "2001:db8::1", "5432", "a b", "42601"},
		// Verbose errors put the SQLSTATE before the message.
		{`2024-05-06 08:00:00.123 +02 [1] ERROR:  42P01: relation "x" does not exist`, "2024-05-06T06:00:00.123Z", "", "", "", "", "", "42P01"},
	} {
		d := &Decoder{loc: time.FixedZone("CET", 3600)}
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		if err := d.Decode([]byte(tt.line), &ev); err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		app, _ := ev.Get("application_name")
		state, _ := ev.Get("sql_state_code")
		c := &ev.Common
		got := [...]string{ev.Time.Format(time.RFC3339Nano), c[event.UserName], c[event.DBName], c[event.SourceIP], c[event.SourcePort], app, state}
		want := [...]string{tt.time, tt.user, tt.db, tt.ip, tt.port, tt.app, tt.state}
		if got != want {
			t.Errorf("%q:\n got %q\nwant %q", tt.line, got, want)
		}
	}
}

func TestJoiner(t *testing.T) {
	var j decode.Joiner = decode.JoinerFor(Format)
	rec := []byte("2024-05-06 08:00:00.123 UTC [1] ERROR:  syntax error")
	for _, tt := range []struct {
		line string
		want bool
	}{
		{"\t  FROM users", true},
		{"2024-05-06 08:00:00.123 UTC [1] STATEMENT:  SELECT", true},
		{"2024-05-06 08:00:00.123 UTC [1] DETAIL:  x", true},
		{"2024-05-06 08:00:00.123 UTC [1] LOG:  statement: SELECT", false},
		{"2024-05-06 08:00:00.123 UTC [2] ERROR:  x", false},
		{"", false},
	} {
		if got := j.Continues(rec, []byte(tt.line)); got != tt.want {
			t.Errorf("stderr Continues(%q) = %v", tt.line, got)
		}
	}
	j = decode.JoinerFor(FormatCSV)
	if !j.Continues([]byte(`2024-05-06 08:00:00.123 UTC,"a","b",1,,1.1,1,"idle",,,0,LOG,00000,"statement: SELECT ""x"",`), []byte(`  FROM t",,,`)) {
		t.Error("csv: a line inside a quoted column does not continue")
	}
	if j.Continues([]byte(`2024-05-06 08:00:00.123 UTC,"a","b",1,,1.1,1,"idle",,,0,LOG,00000,"statement: SELECT ""x""",,,`), []byte(`2024-05-06 08:00:01.000 UTC,`)) {
		t.Error("csv: a complete record is continued")
	}
	if decode.JoinerFor(FormatJSON) != nil {
		t.Error("jsonlog has a Joiner: its records are one line each")
	}
}

func TestBadRecords(t *testing.T) {
	dectest.CheckBadFormats(t, []dectest.Bad{
		{Format: Format, Rec: "", Reason: "no severity"},
		{Format: Format, Rec: "2024-05-06 08:00:00.123 UTC [1] something else", Reason: "no severity"},
		{Format: Format, Rec: "2024-05-06 08:00:00.123 UTC [1x] LOG:  x", Field: "process_id", Reason: "not a number", Offset: 29},
		{Format: Format, Rec: "2024-05-06 08:00:00.123 UTC [1 LOG:  x", Reason: "unterminated", Offset: 28},
		{Format: Format, Rec: "2024-13-06 08:00:00.123 UTC [1] LOG:  x", Field: "timestamp", Reason: "unreadable", Offset: -1},
		{Format: Format, Rec: "2024-05-06 08:00:00.123 UTC [1] LOG:  x\nnot a continuation", Reason: "neither starts with a tab", Offset: 40},
		{Format: FormatCSV, Rec: `2024-05-06 08:00:00.123 UTC,"a`, Reason: "unterminated quoted column 2", Offset: 28},
		{Format: FormatCSV, Rec: `2024-05-06 08:00:00.123 UTC,"a"b`, Reason: "after the closing quote", Offset: 31},
		{Format: FormatCSV, Rec: `2024-05-06 08:00:00.123 UTC,a,b`, Reason: "3 columns", Offset: 31},
		{Format: FormatCSV, Rec: `,,,,,,,,,,,,,,,,,,,,,,,,,`, Field: "log_time", Reason: "no time stamp"},
		{Format: FormatJSON, Rec: `{"timestamp":"x"`, Reason: "invalid JSON", Offset: 15},
		{Format: FormatJSON, Rec: `[1]`, Reason: "JSON array"},
		{Format: FormatJSON, Rec: `{"message":"x"}`, Reason: "missing required keys timestamp, error_severity", Offset: -1},
		{Format: FormatJSON, Rec: `{"timestamp":"2026-11-27 16:49:43.439 UTC","message":"x"}`, Reason: "missing required key error_severity", Offset: -1},
		{Format: FormatJSON, Rec: `{"timestamp":"yesterday","error_severity":"LOG"}`, Field: "timestamp", Reason: "unreadable", Offset: -1},
	})
}

func TestSniff(t *testing.T) {
	for _, fx := range fixtures {
		for i, rec := range dectest.Frame(t, fx.file, fx.format)[:20] {
			if got, score := decode.Sniff(rec); got != fx.format {
				t.Errorf("%s record %d: sniffed %q (%d), want %s", fx.file, i+1, got, score, fx.format)
			}
		}
	}
	for _, s := range []string{"hello", `{"a":1}`, "Mar  3 22:14:05 bastion sshd[4121]: Failed password"} {
		for name, sn := range map[string]decode.Sniffer{Format: sniffStderr, FormatCSV: sniffCSV, FormatJSON: sniffJSON} {
			if n := sn([]byte(s)); n != 0 {
				t.Errorf("%s sniffer scores %q %d", name, s, n)
			}
		}
	}
}

func TestRegistered(t *testing.T) {
	dectest.Registered[*Decoder](t, Format)
	dectest.Registered[*CSVDecoder](t, FormatCSV)
	dectest.Registered[*JSONDecoder](t, FormatJSON)
	for _, f := range []string{Format, FormatCSV, FormatJSON} {
		dectest.Registered[decode.Configurable](t, f)
	}
}

// TestZeroAllocs: a steady-state record costs no allocation, multi-line
// ones and csvlog's doubled quotes included.
func TestZeroAllocs(t *testing.T) {
	for _, fx := range fixtures {
		d, _ := decode.New(fx.format)
		dectest.ZeroAllocsStream(t, d, event.NewDict("user_name", "statement", "application_name"), dectest.Frame(t, fx.file, fx.format))
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, fx := range fixtures {
		b.Run(fx.file, func(b *testing.B) {
			d, _ := decode.New(fx.format)
			dectest.BenchDecode(b, d, event.NewDict("user_name", "statement", "application_name"), dectest.Frame(b, fx.file, fx.format))
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, fx := range fixtures {
		for _, r := range dectest.Frame(f, fx.file, fx.format) {
			f.Add(uint8(0), r)
			f.Add(uint8(1), r)
			f.Add(uint8(2), r)
		}
	}
	decs := []decode.Decoder{New(), NewCSV(), NewJSON()}
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, which uint8, rec []byte) {
		d := decs[int(which)%len(decs)]
		var ev event.Event
		ev.Fields.Bind(dict)
		if dectest.Refused(t, rec, d.Decode(rec, &ev)) {
			return
		}
		if ev.Logsource != Logsource {
			t.Fatalf("decoded without the logsource")
		}
		j, _ := d.(decode.Joiner)
		if j != nil {
			j.Continues(rec, rec)
		}
	})
}
