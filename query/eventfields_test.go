package query

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
)

func testEvent(dict *event.Dict) *event.Event {
	ev := &event.Event{
		ID: event.NewID(), Workspace: "acme", Source: "dc1", Format: "windows",
		Logsource: event.Logsource{Product: "windows", Service: "security"},
		Time:      time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC),
		Received:  time.Date(2026, 3, 1, 10, 16, 0, 0, time.UTC),
	}
	ev.Fields.Bind(dict)
	ev.Common[event.SourceIP] = "10.1.2.3"
	ev.Common[event.UserName] = "alice"
	ev.Common[event.Tags] = "time_future, odd"
	set := func(name, v string) {
		id, _ := dict.ID(name)
		ev.Fields.Set(id, v)
	}
	set("EventID", "4625")
	set("TargetUserName", "Alice")
	set("IpAddress", "10.1.2.3")
	set("Privileges", "SeDebugPrivilege")
	set("Privileges", "SeBackupPrivilege")
	set("user.name", "ALICE-own")
	return ev
}

func TestEventFields(t *testing.T) {
	ev := testEvent(event.NewOpenDict())
	var f EventFields
	f.Reset(ev)
	for _, c := range []struct {
		q    string
		want bool
	}{
		{"source:dc1", true},
		{"format:windows", true},
		{"workspace:acme", true},
		{"id:" + ev.ID.String(), true},
		{"logsource.service:security", true},
		{"logsource.product:linux", false},
		{"@timestamp:[2026-03-01T10:00:00Z TO 2026-03-01T10:30:00Z]", true},
		{"@timestamp:>2026-03-01T10:15:00Z", false},
		{"@timestamp:2026-03-01T10\\:15\\:00Z", true},
		{"@timestamp:2026-03-01T10:15:00Z", true},
		{"received:>=2026-03-01T10:16:00Z", true},
		{"source.ip:10.0.0.0/8", true},
		{"SOURCE.IP:10.1.2.3", true},
		{"EventID:4625", true},
		{"eventid:[4624 TO 4634]", true},
		{"fields.EventID:4625", true},
		{"fields.source.ip:*", false}, // source.ip is common, not own
		{"Privileges:SeBackupPrivilege", true},
		{"privileges:sedebug*", true},
		{"user.name:alice", true},     // the common field
		{"user.name:alice-own", true}, // and the own field of the same name
		{"fields.user.name:alice", false},
		{"tags:time_future", true},
		{"tags:odd", true},
		{"tags:even", false},
		// Bare terms: common, own, source, format, logsource; not id,
		// workspace or times.
		{"backupPriv", true},
		{"dc1", true},
		{"acme", false},
		{"2026", false},
		{"security", true},
		{"nothing", false},
	} {
		q, err := Parse(c.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		if got := q.Match(&f); got != c.want {
			t.Errorf("%q matched %v, want %v", c.q, got, c.want)
		}
	}

	// The open Dict grows with later events: a name first seen after a
	// query resolved it is found.
	q, _ := Parse("LogonType:3")
	if q.Match(&f) {
		t.Fatal("LogonType matched before any event had it")
	}
	ev2 := testEvent(ev.Fields.Dict())
	id, _ := ev2.Fields.Dict().ID("LogonType")
	ev2.Fields.Set(id, "3")
	f.Reset(ev2)
	if !q.Match(&f) {
		t.Error("LogonType not found once the Dict holds it")
	}
}

// benchEvents decodes real Windows events (../shared/data) into events of
// their own, as a search holds them one at a time.
func benchEvents(b *testing.B, n int) []*event.Event {
	path := filepath.Join("..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz")
	fh, err := os.Open(path)
	if err != nil {
		b.Skipf("real events absent (%v): the benchmark reads ../shared/data", err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	d, err := decode.New("windows")
	if err != nil {
		b.Fatal(err)
	}
	dict := event.NewOpenDict()
	var evs []*event.Event
	for sc.Scan() && len(evs) < n {
		ev := &event.Event{Format: "windows", Source: "winlog", Received: time.Now()}
		ev.Fields.Bind(dict)
		raw := append([]byte(nil), sc.Bytes()...)
		if d.Decode(raw, ev) == nil {
			evs = append(evs, ev)
		}
	}
	return evs
}

// BenchmarkMatch reports events matched per second over real Windows
// events for queries a responder types.
func BenchmarkMatch(b *testing.B) {
	evs := benchEvents(b, 20000)
	for _, c := range []struct{ name, q string }{
		{"field", "EventID:4624"},
		{"wildcard", "process.name:power*"},
		{"cidr", "source.ip:10.0.0.0/8"},
		{"range", "EventID:[4624 TO 4634]"},
		{"bool", "(EventID:4624 OR EventID:4625) AND NOT user.name:SYSTEM AND host.name:*"},
		{"bare", "mimikatz"},
	} {
		q, err := Parse(c.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			var f EventFields
			hits := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.Reset(evs[i%len(evs)])
				if q.Match(&f) {
					hits++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
