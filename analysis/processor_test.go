package analysis

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/accesslog"
	_ "github.com/vigil-sec/vigil/decode/jsonrecord"
	_ "github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/tenant"
)

const testRules = `
title: Log cleared
id: 00000000-0000-0000-0000-000000000001
level: high
tags: [attack.defense-evasion, attack.t1070.001]
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: 1102
    condition: selection
---
title: App admin login
id: 00000000-0000-0000-0000-000000000002
level: low
logsource: {product: linux, service: myapp}
detection:
    selection:
        action: admin-login
    condition: selection
`

func testRulesSet(t testing.TB) *Rules {
	t.Helper()
	rs, errs := rule.Parse("test.yml", []byte(testRules))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	eng, errs := detect.Compile(rs, detect.Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return NewRules(eng)
}

func batchOf(format string, lines ...string) *bus.Batch {
	b := &bus.Batch{ID: event.NewID(), Workspace: "w", Source: "s", Format: format, Received: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for i, l := range lines {
		b.Records = append(b.Records, event.Raw{ID: event.NewID(), Data: []byte(l), Line: i + 1})
	}
	return b
}

func TestProcessDecodesDetectsAndRejects(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	var lines []string
	for i := 0; i < 50; i++ {
		id := 4624
		if i%5 == 0 {
			id = 1102
		}
		lines = append(lines, fmt.Sprintf(`{"EventID":%d,"Channel":"Security","Computer":"host-%02d","TimeCreated":"2026-01-01T00:00:%02dZ","SubjectUserName":"user-%02d"}`, id, i, i, i))
	}
	lines[7] = `{"EventID":1102,"Channel":` // broken
	res := p.Process(batchOf("windows", lines...), tenant.Source{})
	if len(res.Rejected) != 1 || res.Rejected[0].Line != 8 || res.Batch.Rejected != 1 {
		t.Fatalf("rejected %+v (count %d), want line 8", res.Rejected, res.Batch.Rejected)
	}
	if q := res.Batch.Quarantined; len(q) != 1 || q[0].Line != 8 || string(q[0].Raw) != lines[7] || q[0].Reason == "" {
		t.Fatalf("quarantined %+v, want line 8 with its raw record", q)
	}
	if len(res.Batch.Events) != 49 {
		t.Fatalf("%d events, want 49", len(res.Batch.Events))
	}
	// Values were copied out of the decoder's reused buffers: each event
	// keeps its own host and time after all the others were decoded.
	for _, e := range res.Batch.Events {
		var n int
		fmt.Sscanf(e.Common[event.HostName], "host-%d", &n)
		if want := fmt.Sprintf("host-%02d", n); e.Common[event.HostName] != want || e.Time.Second() != n {
			t.Fatalf("event kept host %q time %v", e.Common[event.HostName], e.Time)
		}
		if e.Logsource.Product != "windows" || e.Logsource.Service != "security" {
			t.Fatalf("logsource %+v", e.Logsource)
		}
	}
	if len(res.Batch.Signals) != 10 {
		t.Fatalf("%d signals, want 10 (every fifth event)", len(res.Batch.Signals))
	}
	s := res.Batch.Signals[1]
	if s.Rule.Title != "Log cleared" || s.Severity.String() != "high" || s.Evidence.EventID == "" ||
		!strings.Contains(s.DedupKey, "host-05") || len(s.Tactics) == 0 || s.Tactics[0] != "defense-evasion" {
		t.Errorf("signal %+v", s)
	}
}

func TestProcessSourceLogsourceOverride(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	b := batchOf("json", `{"action":"admin-login","user":"x"}`)
	if res := p.Process(b, tenant.Source{}); len(res.Batch.Signals) != 0 {
		t.Fatalf("rule of logsource linux/myapp matched an event without that logsource")
	}
	src := tenant.Source{Name: "s", Logsource: event.Logsource{Product: "linux", Service: "myapp"}}
	if res := p.Process(b, src); len(res.Batch.Signals) != 1 {
		t.Fatalf("configured logsource did not route the event to its rule: %+v", res.Batch.Signals)
	}
}

func TestProcessUnknownFormatRejectsAll(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	res := p.Process(batchOf("no-such-format", `a`, `b`), tenant.Source{})
	if len(res.Rejected) != 2 || len(res.Batch.Events) != 0 || !strings.Contains(res.Rejected[0].Reason, "unknown format") {
		t.Fatalf("%+v", res.Rejected)
	}
}

func TestProcessBadTimeZone(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	res := p.Process(batchOf("windows", `{"EventID":1}`), tenant.Source{Name: "s", TimeZone: "Mars/Olympus"})
	// windows is not configurable: the zone does not matter to it.
	if len(res.Rejected) != 0 {
		t.Fatalf("%+v", res.Rejected)
	}
}

func TestProcessFlagsFarTimes(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	b := batchOf("windows",
		`{"EventID":1,"Channel":"Security","TimeCreated":"2026-01-02T03:04:00Z"}`, // on time
		`{"EventID":1,"Channel":"Security","TimeCreated":"2026-01-02T09:00:00Z"}`, // hours ahead
		`{"EventID":1,"Channel":"Security","TimeCreated":"2019-05-01T00:00:00Z"}`, // years back
	)
	res := p.Process(b, tenant.Source{})
	if len(res.Batch.Events) != 3 {
		t.Fatalf("far times must be kept: %d events", len(res.Batch.Events))
	}
	tags := []string{res.Batch.Events[0].Common[event.Tags], res.Batch.Events[1].Common[event.Tags], res.Batch.Events[2].Common[event.Tags]}
	if tags[0] != "" || tags[1] != "time_future" || tags[2] != "time_past" {
		t.Fatalf("tags %q", tags)
	}
	if res.Skew != (TimeSkew{Future: 1, Past: 1}) {
		t.Fatalf("skew %+v", res.Skew)
	}
	if y := res.Batch.Events[2].Time.Year(); y != 2019 {
		t.Fatalf("the time stamp was changed: %d", y)
	}
}

func TestProcessSourceOptionsMapping(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	p.Options = func(ws, src string) decode.Options {
		if ws == "w" && src == "app" {
			return decode.Options{Mapping: map[string]string{"client.addr": "source.ip", "who": "user.name"}}
		}
		return decode.Options{}
	}
	b := batchOf("json", `{"client":{"addr":"198.51.100.7"},"who":"carol"}`)
	b.Source = "app"
	res := p.Process(b, tenant.Source{Workspace: "w", Name: "app"})
	if len(res.Batch.Events) != 1 {
		t.Fatalf("%+v", res.Rejected)
	}
	e := res.Batch.Events[0]
	if e.Common[event.SourceIP] != "198.51.100.7" || e.Common[event.UserName] != "carol" {
		t.Fatalf("mapping not applied: ip %q user %q", e.Common[event.SourceIP], e.Common[event.UserName])
	}
	// Another source of the same format keeps the plain decoder.
	b2 := batchOf("json", `{"client":{"addr":"198.51.100.7"},"who":"carol"}`)
	res = p.Process(b2, tenant.Source{Workspace: "w", Name: "other"})
	if e := res.Batch.Events[0]; e.Common[event.UserName] != "" {
		t.Fatalf("mapping leaked to another source: %q", e.Common[event.UserName])
	}
}

// TestProcessSourceOptionsLayout: a source's access log layout reaches
// its accesslog decoder, and only its.
func TestProcessSourceOptionsLayout(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	p.Options = func(ws, src string) decode.Options {
		if ws == "w" && src == "web" {
			return decode.Options{Layout: `%h %u %t "%r" %>s`}
		}
		return decode.Options{}
	}
	line := `192.0.2.7 bob [02/Jan/2024:03:04:05 +0000] "GET /admin HTTP/1.1" 403`
	res := p.Process(batchOf("accesslog", line), tenant.Source{Workspace: "w", Name: "web"})
	if len(res.Batch.Events) != 1 {
		t.Fatalf("layout not applied: %+v", res.Rejected)
	}
	if e := res.Batch.Events[0]; e.Common[event.UserName] != "bob" || e.Common[event.HTTPResponseStatusCode] != "403" {
		t.Fatalf("user %q status %q", e.Common[event.UserName], e.Common[event.HTTPResponseStatusCode])
	}
	// Another source of the format reads Common/Combined.
	if res = p.Process(batchOf("accesslog", line), tenant.Source{Workspace: "w", Name: "other"}); len(res.Rejected) != 1 {
		t.Fatalf("layout leaked to another source: %+v", res.Batch.Events)
	}
}

func TestProcessReportsRecordsOverBudget(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	p.Budget = time.Nanosecond // every record is over it
	res := p.Process(batchOf("windows", `{"EventID":1,"Channel":"Security"}`, `{"EventID":2,"Channel":"Security"}`), tenant.Source{})
	if len(res.Slow) != 2 || res.Slow[0].Line != 1 || res.Slow[1].Line != 2 || res.Slow[0].Took <= 0 {
		t.Fatalf("slow %+v", res.Slow)
	}
	if len(res.Batch.Events) != 2 {
		t.Fatalf("records over budget must keep their events: %d", len(res.Batch.Events))
	}
}

// TestProcessorKeepsNoOldRecordBytes: once a later batch is processed, the
// processor (reused batch after batch) holds nothing that points into an
// earlier one's records. A field value left in the reused event kept the
// whole decoded bus message alive until some record set that field again:
// a long-lived worker pinned one message for each rarely set field.
func TestProcessorKeepsNoOldRecordBytes(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	batch := func(line string) (*bus.Batch, chan struct{}) {
		freed := make(chan struct{})
		buf := make([]byte, 0, 64<<10)
		buf = append(buf, line...)
		runtime.SetFinalizer(&buf[0], func(*byte) { close(freed) })
		return &bus.Batch{ID: event.NewID(), Workspace: "w", Source: "s", Format: "windows", Received: time.Now(),
			Records: []event.Raw{{ID: event.NewID(), Data: buf[:len(line)], Line: 1}}}, freed
	}
	var freed chan struct{}
	func() {
		var a *bus.Batch
		a, freed = batch(`{"EventID":1102,"Channel":"Security","Computer":"host-a","action":"clear"}`)
		p.Process(a, tenant.Source{})
	}()
	// The next batch sets no action: before, the event kept batch a's.
	b, _ := batch(`{"EventID":4624,"Channel":"Security","Computer":"host-b"}`)
	if res := p.Process(b, tenant.Source{}); len(res.Batch.Events) != 1 {
		t.Fatalf("%d events", len(res.Batch.Events))
	}
	for range 20 {
		runtime.GC()
		select {
		case <-freed:
			runtime.KeepAlive(p)
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("the processor still holds the bytes of an earlier batch")
}

// stallingDecoder sleeps on the first decode of each record (stall) or on
// every decode (!once): a record stalled once by the machine, not by its
// decoder.
type stallingDecoder struct {
	once bool
	seen map[string]bool
}

func (d *stallingDecoder) Decode(rec []byte, ev *event.Event) error {
	if !d.once || !d.seen[string(rec)] {
		time.Sleep(20 * time.Millisecond)
	}
	d.seen[string(rec)] = true
	return nil
}

func init() {
	decode.Register("test-stall-once", func() decode.Decoder { return &stallingDecoder{once: true, seen: map[string]bool{}} })
	decode.Register("test-stall-always", func() decode.Decoder { return &stallingDecoder{seen: map[string]bool{}} })
}

// TestSlowRecordConfirmed: a record over the decode budget is timed again
// before it is reported, so that a worker preempted (or a collection) once
// does not name an ordinary record slow; a decoder slow every time is.
func TestSlowRecordConfirmed(t *testing.T) {
	p := NewProcessor(testRulesSet(t))
	p.Budget = 10 * time.Millisecond
	if res := p.Process(batchOf("test-stall-once", "a", "b"), tenant.Source{}); len(res.Slow) != 0 || len(res.Batch.Events) != 2 {
		t.Errorf("stalled once: slow %+v, %d events", res.Slow, len(res.Batch.Events))
	}
	res := p.Process(batchOf("test-stall-always", "a", "b"), tenant.Source{})
	if len(res.Slow) != 2 || res.Slow[0].Took < 10*time.Millisecond || len(res.Batch.Events) != 2 {
		t.Errorf("slow every time: slow %+v, %d events", res.Slow, len(res.Batch.Events))
	}
}
