package mysql

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// The fixtures were captured from a MariaDB 10.11.19 server with
// general_log on and the server_audit plugin (CONNECT,QUERY events), driven
// by the mariadb client over TCP: first with name resolution (clients show
// as "localhost"), then with skip-name-resolve (addresses).

// want: "-" means empty, "" not checked.
type want struct {
	time, action, outcome, code, user, ip, db, statement string
}

func check(t *testing.T, where string, ev *event.Event, w want) {
	t.Helper()
	dectest.CheckCommon(t, where, ev, map[string]string{
		"@timestamp": w.time, "event.action": w.action, "event.outcome": w.outcome, "event.code": w.code,
		"user.name": w.user, "source.ip": w.ip, "db.name": w.db, "db.statement": w.statement,
	})
	c := &ev.Common
	if c[event.DBUser] != c[event.UserName] {
		t.Errorf("%s: db.user %q, user.name %q", where, c[event.DBUser], c[event.UserName])
	}
	if ev.Logsource != Logsource {
		t.Errorf("%s: logsource %+v", where, ev.Logsource)
	}
}

const multiLine = "SELECT u.id,\n       u.name,\n       u.email\n  FROM users u\n WHERE u.name LIKE 'a%'\n ORDER BY u.id"

func TestGeneralLog(t *testing.T) {
	recs := dectest.Frame(t, "general.log", FormatGeneral)
	// The first run: clients resolved to "localhost", which is no
	// source.ip. Entries without a stamp decode without a time.
	firstRun := []struct {
		match string
		w     want
	}{
		{"mariadbd, Version:", want{time: "-", action: "-"}},
		{"Tcp port: 53306", want{time: "-", action: "-"}},
		{"Time\t\t    Id Command", want{time: "-", action: "-"}},
		{"3 Connect\troot@localhost on  using Socket", want{time: "2026-11-27T16:50:24Z", action: "connect", outcome: "success", user: "root", ip: "-", db: "-"}},
		{"Query\tCREATE DATABASE shop", want{time: "-", action: "statement", user: "-", statement: "CREATE DATABASE shop"}},
		{"4 Connect\twebapp@localhost on shop", want{time: "-", action: "connect", outcome: "success", user: "webapp", ip: "-", db: "shop"}},
		{"4 Quit", want{action: "disconnect", outcome: "-"}},
		{"Access denied for user 'webapp'@'localhost' (using", want{action: "login-failed", outcome: "failure", user: "webapp", ip: "-"}},
		{"Access denied for user 'admin'@'localhost'", want{action: "login-failed", outcome: "failure", user: "admin"}},
		{"Init DB\tAccess denied for user 'webapp'@'localhost' to database 'nosuchdb'", want{action: "error", outcome: "failure", user: "webapp", db: "-"}},
		{"8 Query\tSELECT * FROM users WHERE name = '' OR 1=1", want{action: "statement", statement: "SELECT * FROM users WHERE name = '' OR 1=1"}}, // the client stripped the comment
	}
	for _, tt := range firstRun {
		rec := dectest.Find(t, recs, tt.match)
		ev, err := dectest.DecodeAs(t, FormatGeneral, rec)
		if err != nil {
			t.Errorf("%q: %v", tt.match, err)
			continue
		}
		check(t, tt.match, ev, tt.w)
	}

	// After the restart with skip-name-resolve, clients are addresses.
	byContent := []struct {
		match string
		w     want
	}{
		{"16:50:36\t     3 Connect\twebapp@127.0.0.1 on shop using TCP/IP", want{time: "2026-11-27T16:50:36Z", action: "connect", outcome: "success", user: "webapp", ip: "127.0.0.1", db: "shop"}},
		{"Access denied for user 'admin'@'127.0.0.1'", want{action: "login-failed", outcome: "failure", user: "admin", ip: "127.0.0.1"}},
		{"Access denied for user 'root'@'127.0.0.1'", want{action: "login-failed", outcome: "failure", user: "root", ip: "127.0.0.1"}},
		{"OR 1=1 -- ' AND pass = 'x'", want{action: "statement", statement: "SELECT * FROM users WHERE name = '' OR 1=1 -- ' AND pass = 'x'"}},
		{"Query\tSELECT * FROM users WHERE name = 'x'' OR '1'='1", want{time: "2026-11-27T16:50:37Z", action: "statement"}},
		{"; DROP TABLE IF EXISTS audit_tmp;", want{action: "statement", statement: "SELECT id FROM users WHERE id = 1; DROP TABLE IF EXISTS audit_tmp; SELECT 'pwned'"}},
		{"SLEEP(0.3)", want{action: "statement", statement: "SELECT id FROM users WHERE id = 1 AND SLEEP(0.3)=0"}},
		{"Query\tSELECT u.id,", want{action: "statement", statement: multiLine}},
		{"Query\tSELECT count(*) FROM", want{action: "statement", statement: "SELECT count(*) FROM\n  users WHERE id >"}},
		{"'tab\there'", want{action: "statement", statement: `SELECT 'it''s a \'quoted\' \\ value', "double" AS q, 'tab` + "\t" + `here' /* comment */`}},
	}
	for _, tt := range byContent {
		var rec []byte
		for _, r := range recs {
			if bytes.Contains(r, []byte(tt.match)) {
				rec = r // the last: the second run
			}
		}
		if rec == nil {
			t.Fatalf("no record holds %q", tt.match)
		}
		ev, err := dectest.DecodeAs(t, FormatGeneral, rec)
		if err != nil {
			t.Errorf("%q: %v", tt.match, err)
			continue
		}
		check(t, tt.match, ev, tt.w)
	}
	// Every record decodes; thread ids and commands are fields.
	n := 0
	for i, r := range recs {
		ev, err := dectest.DecodeAs(t, FormatGeneral, r)
		if err != nil {
			t.Errorf("record %d %q: %v", i, r, err)
			continue
		}
		if id, ok := ev.Get("thread_id"); ok {
			n++
			if cmd, _ := ev.Get("command_type"); cmd == "" || !digits(id) {
				t.Errorf("record %d: thread_id %q command_type %q", i, id, cmd)
			}
		}
	}
	// Three statements a run spread over several lines; each is one record.
	multi := 0
	for _, r := range recs {
		if bytes.Contains(r, []byte("\n")) {
			multi++
			if !bytes.Contains(r, []byte(" Query\t")) {
				t.Errorf("joined record %q is no query", r)
			}
		}
	}
	if multi != 6 {
		t.Errorf("%d multi-line records, want 6", multi)
	}
	t.Logf("%d records, %d entries", len(recs), n)
}

func TestServerAudit(t *testing.T) {
	recs := dectest.Frame(t, "server_audit.log", FormatAudit)
	if len(recs) != 100 {
		t.Fatalf("%d records, want one a line (100)", len(recs))
	}
	byContent := []struct {
		match string
		w     want
	}{
		{"root,localhost,3,0,CONNECT", want{time: "2026-11-27T16:50:24Z", action: "connect", outcome: "success", user: "root", ip: "-", db: "-", code: "-"}},
		{"webapp,127.0.0.1,4,0,FAILED_CONNECT", want{action: "login-failed", outcome: "failure", user: "webapp", ip: "127.0.0.1", code: "1045"}},
		{"webapp,127.0.0.1,6,0,FAILED_CONNECT", want{action: "login-failed", outcome: "failure", code: "1044"}}, // no such database
		{"127.0.0.1,3,0,DISCONNECT", want{action: "disconnect", outcome: "-", db: "shop"}},
		{"127.0.0.1,7,3,QUERY", want{time: "2026-11-27T16:50:36Z", action: "statement", outcome: "success", user: "webapp", ip: "127.0.0.1", db: "shop", statement: "SELECT * FROM users WHERE name = '' OR 1=1 -- ' AND pass = 'x'"}},
		{"UNION SELECT 1, CONCAT", want{action: "statement", outcome: "failure", code: "1142", statement: "SELECT id, name FROM users WHERE id = 1 UNION SELECT 1, CONCAT(user,0x3a,password) FROM mysql.user"}},
		{`'x\'\' OR`, want{action: "statement", outcome: "failure", code: "1064", statement: "SELECT * FROM users WHERE name = 'x'' OR '1'='1"}},
		{"'SELECT u.id,", want{action: "statement", statement: multiLine}},
		{"tab\\there", want{action: "statement", statement: `SELECT 'it''s a \'quoted\' \\ value', "double" AS q, 'tab` + "\t" + `here' /* comment */`}},
		{"root,127.0.0.1,17,0,FAILED_CONNECT", want{action: "login-failed", user: "root", ip: "127.0.0.1", code: "1045"}},
	}
	for _, tt := range byContent {
		rec := dectest.Find(t, recs, tt.match)
		ev, err := dectest.DecodeAs(t, FormatAudit, rec)
		if err != nil {
			t.Errorf("%q: %v", tt.match, err)
			continue
		}
		check(t, tt.match, ev, tt.w)
		if ev.Common[event.HostName] != "vm" {
			t.Errorf("%q: host.name %q", tt.match, ev.Common[event.HostName])
		}
	}
	ev, _ := dectest.DecodeAs(t, FormatAudit, recs[10])
	for name, w := range map[string]string{"serverhost": "vm", "username": "webapp", "host": "localhost", "connectionid": "4", "queryid": "9", "operation": "QUERY", "database": "shop", "object": "SELECT id, name FROM users WHERE id = 1", "retcode": "0"} {
		if got, _ := ev.Get(name); got != w {
			t.Errorf("field %s = %q, want %q", name, got, w)
		}
	}
	for i, r := range recs {
		if _, err := dectest.DecodeAs(t, FormatAudit, r); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
	}
}

func TestLocation(t *testing.T) {
	loc := time.FixedZone("UTC+2", 7200)
	var ev event.Event
	d := &AuditDecoder{}
	d.Configure(decode.Options{Location: loc})
	if err := d.Decode([]byte("20261127 16:50:24,vm,root,localhost,3,0,CONNECT,,,0"), &ev); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 27, 14, 50, 24, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
	// MySQL 8's ISO stamps carry their zone; MariaDB's padded hour.
	for line, want := range map[string]time.Time{
		"2024-05-06T08:00:00.123456Z\t    5 Query\tSELECT 1":                time.Date(2024, 5, 6, 8, 0, 0, 123456000, time.UTC),
		"2024-05-06T10:00:00.5+02:00\t    5 Connect\ta@b on  using SSL/TLS": time.Date(2024, 5, 6, 8, 0, 0, 500000000, time.UTC),
		"240506  9:05:01\t    5 Quit\t":                                     time.Date(2024, 5, 6, 9, 5, 1, 0, time.UTC),
	} {
		ev.Reset()
		if err := NewGeneral().Decode([]byte(line), &ev); err != nil {
			t.Errorf("%q: %v", line, err)
		} else if !ev.Time.Equal(want) {
			t.Errorf("%q: time %v, want %v", line, ev.Time, want)
		}
	}
}

func TestJoiner(t *testing.T) {
	j := decode.JoinerFor(FormatGeneral)
	rec := []byte("\t\t     3 Query\tSELECT a,")
	for line, want := range map[string]bool{
		"  FROM t":                         true,
		"":                                 true,
		"\t\t     3 Quit\t":                false,
		"261127 16:50:37\t    11 Query\tx": false,
		"2024-05-06T08:00:00.123456Z\t    5 Query\tSELECT 1":   false,
		"Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock": false,
		"261127 is not a stamp":                                true,
	} {
		if got := j.Continues(rec, []byte(line)); got != want {
			t.Errorf("Continues(%q) = %v", line, got)
		}
	}
	if decode.JoinerFor(FormatAudit) != nil {
		t.Error("server_audit has a Joiner: its records are one line each")
	}
}

func TestBadRecords(t *testing.T) {
	dectest.CheckBadFormats(t, []dectest.Bad{
		{Format: FormatGeneral, Rec: "", Reason: "no time stamp"},
		{Format: FormatGeneral, Rec: "hello", Reason: "no time stamp"},
		{Format: FormatGeneral, Rec: "261327 16:50:24\t 3 Query\tx", Reason: "no such date"},
		{Format: FormatGeneral, Rec: "261127 16:5x:24\t 3 Query\tx", Reason: "time of day", Offset: 7},
		{Format: FormatGeneral, Rec: "\t\t  x Query\tx", Reason: "thread id", Offset: 4},
		{Format: FormatGeneral, Rec: "\t\t  3 Query x", Reason: "no tab", Offset: 6},
		{Format: FormatGeneral, Rec: "2024-05-06T08:00:00.123456Q\t 5 Query\tx", Reason: "ISO 8601"},
		{Format: FormatAudit, Rec: "20261127 16:50:24", Field: "timestamp", Reason: "time stamp"},
		{Format: FormatAudit, Rec: "2026112x 16:50:24,vm,root,localhost,3,0,CONNECT,,,0", Field: "timestamp", Reason: "unreadable"},
		{Format: FormatAudit, Rec: "20261127 16:50:24,vm,root", Field: "host", Reason: "before the host", Offset: 25},
		{Format: FormatAudit, Rec: "20261127 16:50:24,vm,root,localhost,3,0,CONNECT,db", Field: "object", Reason: "before the object", Offset: 50},
		{Format: FormatAudit, Rec: "20261127 16:50:24,vm,root,localhost,3,0,CONNECT,db,,x", Field: "retcode", Reason: "not a number", Offset: 52},
	})
}

func TestSniff(t *testing.T) {
	for _, fx := range []struct{ file, format string }{{"general.log", FormatGeneral}, {"server_audit.log", FormatAudit}} {
		for i, rec := range dectest.Frame(t, fx.file, fx.format)[:30] {
			if got, score := decode.Sniff(rec); got != fx.format {
				t.Errorf("%s record %d %q: sniffed %q (%d)", fx.file, i, rec, got, score)
			}
		}
	}
	for _, s := range []string{"hello", `{"a":1}`, "2024-05-06 08:00:00.123 UTC [1] LOG:  x", "Mar  3 22:14:05 bastion sshd[4121]: x"} {
		if sniffGeneral([]byte(s)) != 0 || sniffAudit([]byte(s)) != 0 {
			t.Errorf("%q claimed", s)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, fx := range []struct{ file, format string }{{"general.log", FormatGeneral}, {"server_audit.log", FormatAudit}} {
		d, _ := decode.New(fx.format)
		dectest.ZeroAllocsStream(t, d, event.NewDict("user", "username", "argument", "object"), dectest.Frame(t, fx.file, fx.format))
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, fx := range []struct{ file, format string }{{"general.log", FormatGeneral}, {"server_audit.log", FormatAudit}} {
		b.Run(fx.file, func(b *testing.B) {
			d, _ := decode.New(fx.format)
			dectest.BenchDecode(b, d, event.NewDict("user", "username", "argument", "object"), dectest.Frame(b, fx.file, fx.format))
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, fx := range []struct{ file, format string }{{"general.log", FormatGeneral}, {"server_audit.log", FormatAudit}} {
		for _, r := range dectest.Frame(f, fx.file, fx.format) {
			f.Add(uint8(0), r)
			f.Add(uint8(1), r)
		}
	}
	decs := []decode.Decoder{NewGeneral(), NewAudit()}
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, which uint8, rec []byte) {
		d := decs[int(which)%len(decs)]
		var ev event.Event
		ev.Fields.Bind(dict)
		if dectest.Refused(t, rec, d.Decode(rec, &ev)) {
			return
		}
		if ev.Logsource != Logsource {
			t.Fatal("decoded without the logsource")
		}
		if j, ok := d.(decode.Joiner); ok {
			j.Continues(rec, rec)
		}
	})
}
