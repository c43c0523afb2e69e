package mssqlaudit

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

var shapes = []struct {
	file  string
	azure bool
}{
	{"fn_get_audit_file.jsonl", false},
	{"eventhub.jsonl", true},
	{"azure_diagnostics.jsonl", true},
}

func TestShapes(t *testing.T) {
	// The three files hold the same events: each record must decode to
	// the same common fields and the same plain-named fields whatever its
	// shape.
	var base [][event.NumCommon]string
	var baseTimes []time.Time
	counts := map[string]int{}
	for si, sh := range shapes {
		recs := dectest.Frame(t, sh.file, Format)
		if si == 0 {
			base = make([][event.NumCommon]string, len(recs))
			baseTimes = make([]time.Time, len(recs))
		} else if len(recs) != len(base) {
			t.Fatalf("%s: %d records, want %d", sh.file, len(recs), len(base))
		}
		for i, r := range recs {
			ev, err := dectest.DecodeAs(t, Format, r)
			if err != nil {
				t.Fatalf("%s record %d: %v", sh.file, i+1, err)
			}
			want := Logsource
			if sh.azure {
				want.Service = "azuresql"
			}
			if ev.Logsource != want {
				t.Errorf("%s record %d: logsource %+v", sh.file, i+1, ev.Logsource)
			}
			c := ev.Common
			c[event.CloudProvider] = "" // only the Azure shapes say so
			if si == 0 {
				base[i], baseTimes[i] = c, ev.Time
				counts[c[event.EventAction]+"/"+c[event.EventOutcome]]++
			} else {
				if c != base[i] {
					t.Errorf("%s record %d:\n got %q\nwant %q", sh.file, i+1, c, base[i])
				}
				// fn_get_audit_file's datetime2 has a 100 ns tick.
				if d := ev.Time.Sub(baseTimes[i]); d != 0 {
					t.Errorf("%s record %d: time %v, want %v", sh.file, i+1, ev.Time, baseTimes[i])
				}
			}
			for _, name := range []string{"statement", "client_ip", "application_name", "affected_rows", "response_rows", "action_name", "additional_information", "database_principal_name"} {
				x, _ := ev.Get(name)
				if want := rawColumn(r, name); x != want {
					t.Errorf("%s record %d: %s = %q, want %q", sh.file, i+1, name, x, want)
				}
			}
		}
	}
	// The kinds of record the fixtures hold, by action/outcome.
	for k, n := range map[string]int{"connect/success": 1, "login-failed/failure": 5, "statement/success": 15, "statement/failure": 4, "disconnect/success": 1} {
		if counts[k] != n {
			t.Errorf("%s: %d records, want %d (%v)", k, counts[k], n, counts)
		}
	}
}

// rawColumn reads a column's value from a fixture line the slow way, to
// compare with the decoder: "name":v, "name_s":v or "name_d":v.
func rawColumn(rec []byte, name string) string {
	for _, k := range []string{name, name + "_s", name + "_d"} {
		i := bytes.Index(rec, []byte(`"`+k+`": `))
		if i < 0 {
			continue
		}
		v := rec[i+len(k)+4:]
		if v[0] == '"' {
			var s strings.Builder
			for j := 1; j < len(v); j++ {
				if v[j] == '\\' {
					j++
					switch v[j] {
					case 'n':
						s.WriteByte('\n')
					case 'u': // the fixtures escape nothing outside ASCII
						s.WriteString("?")
						j += 4
					default:
						s.WriteByte(v[j])
					}
					continue
				}
				if v[j] == '"' {
					break
				}
				s.WriteByte(v[j])
			}
			return s.String()
		}
		end := bytes.IndexAny(v, ",}")
		return string(v[:end])
	}
	return ""
}

func TestRecords(t *testing.T) {
	recs := dectest.Frame(t, "azure_diagnostics.jsonl", Format)
	for _, tt := range []struct {
		match                                             string
		action, outcome, code, user, dbUser, ip, db, stmt string
	}{
		{"DATABASE AUTHENTICATION SUCCEEDED", "connect", "success", "DBAS", "webapp", "webapp", "203.0.113.10", "shopdb", ""},
		{`"admin"`, "login-failed", "failure", "DBAF", "admin", "admin", "198.51.100.23", "shopdb", ""},
		{"WAITFOR DELAY", "statement", "success", "BCM", "webapp", "webapp", "192.0.2.77", "shopdb", "SELECT CustomerID FROM SalesLT.Customer WHERE EmailAddress = 'SO_BUY; IF (1=1) WAITFOR DELAY '00:00:01'--'"},
		{"BENCHMARK(1589466", "statement", "failure", "BCM", "webapp", "webapp", "192.0.2.77", "shopdb", "SELECT Name, ListPrice FROM SalesLT.Product WHERE ProductID = SO_BUY AND IF(1=1,BENCHMARK(1589466,MD5(0X41)),0)"},
		{"o.TotalDue", "statement", "success", "BCM", "webapp", "webapp", "203.0.113.10", "shopdb", "SELECT o.SalesOrderID,\n       o.TotalDue\n  FROM SalesLT.SalesOrderHeader AS o\n WHERE o.CustomerID = 29847;"},
		{"RPC COMPLETED", "statement", "success", "RCM", "reporting", "reporting", "10.20.0.5", "shopdb", "exec sp_executesql N'SELECT * FROM SalesLT.Customer WHERE LastName = @p0',N'@p0 nvarchar(4000)',@p0=N'O''Brien'"},
		{`"LOGOUT"`, "disconnect", "success", "LGO", "webapp", "webapp", "203.0.113.10", "shopdb", ""},
	} {
		rec := dectest.Find(t, recs, tt.match)
		ev, err := dectest.DecodeAs(t, Format, rec)
		if err != nil {
			t.Fatal(err)
		}
		c := &ev.Common
		got := [...]string{c[event.EventAction], c[event.EventOutcome], c[event.EventCode], c[event.UserName], c[event.DBUser], c[event.SourceIP], c[event.DBName], c[event.DBStatement]}
		want := [...]string{tt.action, tt.outcome, tt.code, tt.user, tt.dbUser, tt.ip, tt.db, tt.stmt}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", tt.match, got, want)
		}
		if c[event.HostName] != "shopsrv" || c[event.CloudProvider] != "azure" {
			t.Errorf("%s: host.name %q cloud.provider %q", tt.match, c[event.HostName], c[event.CloudProvider])
		}
		// Azure's own columns keep their names; the audit columns lose the suffix.
		if v, _ := ev.Get("LogicalServerName_s"); v != "shopsrv" {
			t.Errorf("LogicalServerName_s = %q", v)
		}
		if _, ok := ev.Get("statement_s"); ok {
			t.Error("statement_s kept its suffix")
		}
	}
}

func TestBadRecords(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"action_id":`, Reason: "invalid JSON", Offset: 12},
		{Rec: `[]`, Reason: "JSON array"},
		{Rec: `{"statement":"SELECT 1"}`, Field: "action_id", Reason: "no action_id", Offset: -1},
		{Rec: `{"action_id":"LGIS","statement":"SELECT 1"}`, Reason: "missing required key event_time (or time, TimeGenerated)", Offset: -1},
		{Rec: `{"event":{"event_time":"2026-11-27T09:00:07Z","action_id":"LGIS"}}`, Field: "action_id", Reason: "no action_id", Offset: -1},
		{Rec: `{"action_id":"BCM","event_time":"now"}`, Field: "event_time", Reason: "unreadable", Offset: -1},
		{Rec: `{"action_id_s":"BCM","TimeGenerated":"2024-13-01T00:00:00Z"}`, Field: "TimeGenerated", Reason: "unreadable", Offset: -1},
	})
}

func TestSniff(t *testing.T) {
	for _, sh := range shapes {
		for i, r := range dectest.Frame(t, sh.file, Format) {
			if got, score := decode.Sniff(r); got != Format {
				t.Errorf("%s record %d: sniffed %q (%d)", sh.file, i+1, got, score)
			}
		}
	}
	for _, s := range []string{`{"eventName":"ConsoleLogin"}`, "hello", `{"a":1}`} {
		if n := sniff([]byte(s)); n != 0 {
			t.Errorf("%q scored %d", s, n)
		}
	}
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

func TestZeroAllocs(t *testing.T) {
	for _, sh := range shapes {
		dectest.ZeroAllocsStream(t, New(), event.NewDict("statement", "application_name", "client_ip"), dectest.Frame(t, sh.file, Format))
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, sh := range shapes {
		b.Run(sh.file, func(b *testing.B) {
			dectest.BenchDecode(b, New(), event.NewDict("statement", "application_name", "client_ip"), dectest.Frame(b, sh.file, Format))
		})
	}
}

func FuzzDecode(f *testing.F) {
	// A few seeds a shape: the records are large, and the fuzzer's
	// throughput falls with the size of its corpus.
	for _, sh := range shapes {
		for _, r := range dectest.Frame(f, sh.file, Format)[:4] {
			f.Add(r)
		}
	}
	f.Add([]byte(`{"action_id":"BCM","succeeded":true,"properties":{"statement":"x"}}`))
	f.Add([]byte(`{"action_id_s":"BCM ","statement_s":"a\\\"b\u00e9\ud83d\ude00\uZZ\q\n","n":-1.5e3,"x":null,"":"e","properties":{}}`))
	f.Add([]byte(` {"action_id":"LGIF","a":{"b":[1,"2"]},"succeeded":false} `))
	f.Add([]byte(`{"action_id":"BCM","n":--,"m":nan}`))
	d := New()
	slow := &Decoder{slow: true}
	slow.flat = jsonrecord.NewFlattener(slow.leaf)
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev, want event.Event
		ev.Fields.Bind(dict)
		want.Fields.Bind(dict)
		err := d.Decode(rec, &ev)
		// The fast path (scan) must decode as fastjson does.
		werr := slow.Decode(rec, &want)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("fast path: error %v, fastjson path: %v", err, werr)
		}
		if err == nil {
			if ev.Common != want.Common || ev.Logsource != want.Logsource || !ev.Time.Equal(want.Time) {
				t.Fatalf("fast path:\n%q %+v %v\nfastjson path:\n%q %+v %v", ev.Common, ev.Logsource, ev.Time, want.Common, want.Logsource, want.Time)
			}
			for id := range int32(dict.Len()) {
				var a, b []string
				ev.Fields.Each(id, func(s string) bool { a = append(a, s); return true })
				want.Fields.Each(id, func(s string) bool { b = append(b, s); return true })
				if !slices.Equal(a, b) {
					t.Fatalf("field %s: fast path %q, fastjson path %q", dict.Name(id), a, b)
				}
			}
		}
		if dectest.Refused(t, rec, err) {
			return
		}
		if ev.Common[event.EventCode] == "" && ev.Logsource.Product != "mssql" {
			t.Fatal("decoded without logsource")
		}
	})
}
