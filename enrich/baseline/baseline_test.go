package baseline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

var t0 = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var dict = event.NewDict("application_name", "response_rows", "bytes", FieldFirstSeen, FieldRare, FieldVolume, FieldLearning)

// login is a successful SQL Server login at t.
func login(t time.Time, server, user, ip, app string) *event.Event {
	ev := &event.Event{Time: t, Source: "sql-src", Logsource: event.Logsource{Product: "mssql", Category: "database"}}
	ev.Fields.Bind(dict)
	ev.Common[event.HostName] = server
	ev.Common[event.UserName] = user
	ev.Common[event.SourceIP] = ip
	ev.Common[event.EventOutcome] = "success"
	if app != "" {
		id, _ := dict.ID("application_name")
		ev.Fields.Set(id, app)
	}
	return ev
}

func values(ev *event.Event, name string) []string {
	id, _ := dict.ID(name)
	var out []string
	ev.Fields.Each(id, func(v string) bool { out = append(out, v); return true })
	sort.Strings(out)
	return out
}

func run(e *Enricher, ev *event.Event) *enrich.Result {
	r := &enrich.Result{}
	r.Reset(time.Now())
	e.Enrich(ev, r)
	return r
}

func kinds(r *enrich.Result) map[string]string {
	m := map[string]string{}
	for _, a := range r.Anomalies {
		m[a.Model] = a.Kind
	}
	return m
}

func TestLearnsFirstThenFlagsNewValues(t *testing.T) {
	e, err := New(Config{Workspace: "w", Learning: 10 * day})
	if err != nil {
		t.Fatal(err)
	}
	// Learning: ten days of the usual principal, address and application.
	for d := 0; d < 10; d++ {
		ev := login(t0.Add(time.Duration(d)*day), "db1", "webapp", "10.0.0.5", "webshop")
		r := run(e, ev)
		if len(r.Anomalies) != 0 {
			t.Fatalf("day %d (learning): anomalies %+v", d, r.Anomalies)
		}
		if got := values(ev, FieldLearning); d < 9 && !slices.Contains(got, "sql.principal") {
			t.Fatalf("day %d: baseline.learning = %v, want sql.principal among them", d, got)
		}
		// a second principal learnt at the start
		if d == 0 {
			run(e, login(t0, "db1", "dba", "10.0.0.6", "ssms"))
		}
	}
	st := status(e, "sql.principal")
	if !st.Learning || !st.LearningUntil.Equal(t0.Add(10*day)) {
		t.Fatalf("status after 9 days = %+v, want learning until %v", st, t0.Add(10*day))
	}

	// Past the learning period: the known values are quiet...
	after := t0.Add(11 * day)
	ev := login(after, "db1", "WebApp", "10.0.0.5", "webshop")
	if r := run(e, ev); len(r.Anomalies) != 0 || len(values(ev, FieldFirstSeen)) != 0 {
		t.Fatalf("known values (principal case-folded) flagged: %+v %v", r.Anomalies, values(ev, FieldFirstSeen))
	}
	if status(e, "sql.principal").Learning {
		t.Fatal("still learning after the period")
	}
	// ...and a new principal from a new address with a new application is
	// flagged by three models, in the fields and the anomalies.
	ev = login(after.Add(time.Minute), "db1", "mallory", "203.0.113.9", "sqlmap")
	r := run(e, ev)
	want := map[string]string{"sql.principal": "first_seen", "sql.client_ip": "first_seen", "sql.application": "first_seen"}
	if got := kinds(r); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("anomalies = %v, want %v", got, want)
	}
	if got := values(ev, FieldFirstSeen); !slices.Equal(got, []string{"sql.application", "sql.client_ip", "sql.principal"}) {
		t.Fatalf("baseline.first_seen = %v", got)
	}
	for _, a := range r.Anomalies {
		if a.Entity != "db1" {
			t.Errorf("anomaly %+v: entity is not the server", a)
		}
	}
	// Seen now: the same principal again is known.
	if r := run(e, login(after.Add(2*time.Minute), "db1", "mallory", "203.0.113.9", "sqlmap")); kinds(r)["sql.principal"] == "first_seen" {
		t.Fatal("principal flagged twice")
	}
}

func TestNewEntityIsLearntNotFlagged(t *testing.T) {
	e, _ := New(Config{Learning: -1})
	run(e, login(t0, "db1", "webapp", "10.0.0.5", ""))
	// db2 was never seen: its first principal has nothing to differ from.
	if r := run(e, login(t0.Add(time.Hour), "db2", "other", "10.0.0.7", "")); len(r.Anomalies) != 0 {
		t.Fatalf("a new server's first values flagged: %+v", r.Anomalies)
	}
	// A second principal on db2 is new.
	if r := run(e, login(t0.Add(2*time.Hour), "db2", "third", "10.0.0.7", "")); kinds(r)["sql.principal"] != "first_seen" {
		t.Fatalf("second principal on db2 not flagged: %+v", r.Anomalies)
	}
}

func TestValueNotSeenWithinWindowIsNewAgain(t *testing.T) {
	e, _ := New(Config{Learning: -1, Window: 60 * day})
	run(e, login(t0, "db1", "webapp", "10.0.0.5", ""))
	run(e, login(t0, "db1", "olduser", "10.0.0.5", ""))
	for d := 1; d <= 70; d++ {
		run(e, login(t0.Add(time.Duration(d)*day), "db1", "webapp", "10.0.0.5", ""))
	}
	if r := run(e, login(t0.Add(59*day), "db1", "olduser", "10.0.0.5", "")); len(r.Anomalies) != 0 {
		t.Fatalf("a principal seen 59 days before flagged: %+v", r.Anomalies)
	}
	// last seen on day 59 now: day 120 is 61 days later
	r := run(e, login(t0.Add(120*day), "db1", "olduser", "10.0.0.5", ""))
	if kinds(r)["sql.principal"] != "first_seen" {
		t.Fatalf("a principal not seen in 61 days: %+v, want first_seen", r.Anomalies)
	}
}

func TestRareValues(t *testing.T) {
	e, _ := New(Config{Learning: -1})
	for i := 0; i < RareMinTotal; i++ {
		run(e, login(t0.Add(time.Duration(i)*time.Minute), "db1", "webapp", "10.0.0.5", "webshop"))
	}
	r := run(e, login(t0.Add(time.Hour), "db1", "webapp", "10.0.0.5", "excel"))
	if kinds(r)["sql.application"] != "first_seen" {
		t.Fatalf("new application: %+v", r.Anomalies)
	}
	ev := login(t0.Add(2*time.Hour), "db1", "webapp", "10.0.0.5", "excel")
	r = run(e, ev)
	if kinds(r)["sql.application"] != "rare" || r.Anomalies[0].Seen != 1 || !slices.Equal(values(ev, FieldRare), []string{"sql.application"}) {
		t.Fatalf("application seen once before: %+v %v, want rare (seen 1)", r.Anomalies, values(ev, FieldRare))
	}
	run(e, login(t0.Add(3*time.Hour), "db1", "webapp", "10.0.0.5", "excel"))
	if r := run(e, login(t0.Add(4*time.Hour), "db1", "webapp", "10.0.0.5", "excel")); len(r.Anomalies) != 0 {
		t.Fatalf("application seen 3 times (model's rare is 3): %+v", r.Anomalies)
	}
}

func TestFailedLoginsAndDomains(t *testing.T) {
	e, _ := New(Config{Learning: -1})
	run(e, login(t0, "db1", `CORP\alice`, "10.0.0.5", ""))
	// A failed login's user name is a guess: not learnt, not flagged.
	f := login(t0.Add(time.Minute), "db1", "guess1", "10.0.0.9", "")
	f.Common[event.EventOutcome] = "failure"
	if r := run(e, f); len(r.Anomalies) != 0 {
		t.Fatalf("failed login flagged: %+v", r.Anomalies)
	}
	if st := status(e, "sql.principal"); st.Values != 1 {
		t.Fatalf("failed login learnt: %+v", st)
	}
	// A login from another domain: the domain model flags it.
	r := run(e, login(t0.Add(2*time.Minute), "db1", "bob@evil.example", "10.0.0.5", ""))
	if kinds(r)["sql.domain"] != "first_seen" {
		t.Fatalf("new domain: %+v", r.Anomalies)
	}
	if r := run(e, login(t0.Add(3*time.Minute), "db1", `corp\carol`, "10.0.0.5", "")); kinds(r)["sql.domain"] != "" {
		t.Fatalf("known domain (other case) flagged: %+v", r.Anomalies)
	}
	// A SQL login names no domain: nothing for the domain model.
	if r := run(e, login(t0.Add(4*time.Minute), "db1", "sa", "10.0.0.5", "")); kinds(r)["sql.domain"] != "" {
		t.Fatalf("SQL login given a domain: %+v", r.Anomalies)
	}
}

func TestWantsOnlyModelLogsources(t *testing.T) {
	e, _ := New(Config{})
	for _, c := range []struct {
		ls   event.Logsource
		want bool
	}{
		{event.Logsource{Product: "postgresql", Category: "database"}, true},
		{event.Logsource{Product: "azure", Service: "signinlogs"}, true},
		{event.Logsource{Product: "windows", Service: "security", Category: "process_creation"}, true},
		{event.Logsource{Category: "webserver"}, false},
		{event.Logsource{Product: "linux", Service: "sshd"}, false},
	} {
		if got := e.Wants(&event.Event{Logsource: c.ls}); got != c.want {
			t.Errorf("Wants(%+v) = %v, want %v", c.ls, got, c.want)
		}
	}
}

func TestSourceNameIsTheServerWhenRecordsNameNone(t *testing.T) {
	e, _ := New(Config{Learning: -1})
	a := login(t0, "", "webapp", "10.0.0.5", "")
	run(e, a)
	b := login(t0.Add(time.Minute), "", "intruder", "10.0.0.5", "")
	r := run(e, b)
	if kinds(r)["sql.principal"] != "first_seen" || r.Anomalies[0].Entity != "sql-src" {
		t.Fatalf("anomalies %+v, want sql.principal first_seen on entity sql-src", r.Anomalies)
	}
}

func TestMemoryIsBoundedLeastRecentlySeenEvicted(t *testing.T) {
	e, _ := New(Config{Learning: -1, MaxPerEntity: 50, MaxValues: 200})
	// 100 principals on one server: at most 50 held, the latest kept.
	for i := 0; i < 100; i++ {
		run(e, login(t0.Add(time.Duration(i)*time.Minute), "db1", fmt.Sprintf("user%03d", i), "10.0.0.5", ""))
	}
	st := status(e, "sql.principal")
	if st.Values > 50 || st.Evictions == 0 {
		t.Fatalf("status %+v: over the per-entity cap of 50", st)
	}
	if r := run(e, login(t0.Add(200*time.Minute), "db1", "user099", "10.0.0.5", "")); kinds(r)["sql.principal"] != "" {
		t.Fatalf("the most recent principal was evicted: %+v", r.Anomalies)
	}
	if r := run(e, login(t0.Add(201*time.Minute), "db1", "user000", "10.0.0.5", "")); kinds(r)["sql.principal"] != "first_seen" {
		t.Fatalf("the least recent principal was kept: %+v", r.Anomalies)
	}
	// 30 servers of 10 principals: the model holds at most 200 values.
	for s := 0; s < 30; s++ {
		for i := 0; i < 10; i++ {
			run(e, login(t0.Add(time.Duration(300+s*10+i)*time.Minute), fmt.Sprintf("db%02d", s), fmt.Sprintf("u%d", i), "10.0.0.5", ""))
		}
	}
	if st := status(e, "sql.principal"); st.Values > 200 {
		t.Fatalf("status %+v: over the model cap of 200", st)
	}
}

// memStore is a Store in memory, as the SQL stores behave: saves are
// merged (deltas added, largest kept), stamped with the model's revision.
type memStore struct {
	mu      sync.Mutex
	started map[string]time.Time
	revs    map[string]int64
	rows    map[string]map[[2]string]memRow
	fail    bool
	saves   int
	read    int // entries loaded
}

type memRow struct {
	Entry
	rev int64
}

func newMemStore() *memStore {
	return &memStore{started: map[string]time.Time{}, revs: map[string]int64{}, rows: map[string]map[[2]string]memRow{}}
}

func (s *memStore) LoadBaseline(_ context.Context, ws, model string, after int64, limit int) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ws + "/" + model
	snap := Snapshot{Started: s.started[k], Rev: s.revs[k]}
	for _, r := range s.rows[k] {
		if r.rev > after {
			snap.Entries = append(snap.Entries, r.Entry)
		}
	}
	sort.Slice(snap.Entries, func(i, j int) bool { return snap.Entries[i].Last.After(snap.Entries[j].Last) })
	if len(snap.Entries) > limit {
		snap.Entries = snap.Entries[:limit]
	}
	s.read += len(snap.Entries)
	return snap, nil
}

func (s *memStore) SaveBaseline(_ context.Context, ws, model string, started time.Time, entries []Entry, purge time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return 0, errors.New("disk full")
	}
	s.saves++
	k := ws + "/" + model
	s.revs[k]++
	if old := s.started[k]; old.IsZero() || !started.IsZero() && started.Before(old) {
		s.started[k] = started
	}
	if s.rows[k] == nil {
		s.rows[k] = map[[2]string]memRow{}
	}
	for key, r := range s.rows[k] {
		if r.Last.Before(purge) {
			delete(s.rows[k], key)
		}
	}
	for _, en := range entries {
		key := [2]string{en.Entity, en.Value}
		r, ok := s.rows[k][key]
		switch {
		case !ok:
			r.Entry = en
		case en.Max:
			r.Count = max(r.Count, en.Count)
		default:
			r.Count += en.Count
		}
		if ok {
			r.First, r.Last = minTime(r.First, en.First), maxTime(r.Last, en.Last)
		}
		r.Max, r.rev = false, s.revs[k]
		s.rows[k][key] = r
	}
	return s.revs[k], nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func TestResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	e1, _ := New(Config{Workspace: "w", Learning: 5 * day, Store: st})
	if err := e1.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 3; d++ {
		run(e1, login(t0.Add(time.Duration(d)*day), "db1", "webapp", "10.0.0.5", "webshop"))
		run(e1, login(t0.Add(time.Duration(d)*day), "db1", "report", "10.0.0.8", "excel"))
	}
	if err := e1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Restart, three days into a five-day learning period.
	e2, _ := New(Config{Workspace: "w", Learning: 5 * day, Store: st})
	if err := e2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	s := status(e2, "sql.principal")
	if !s.Learning || !s.Started.Equal(t0) || s.Values != 2 {
		t.Fatalf("after restart: %+v, want learning since %v with 2 principals", s, t0)
	}
	// Learning goes on from the stored start, not from the restart.
	for d := 3; d < 6; d++ {
		if r := run(e2, login(t0.Add(time.Duration(d)*day), "db1", "webapp", "10.0.0.5", "webshop")); len(r.Anomalies) != 0 {
			t.Fatalf("day %d: %+v", d, r.Anomalies)
		}
	}
	if status(e2, "sql.principal").Learning {
		t.Fatal("learning restarted with the process")
	}
	// A value learnt before the restart is known: no false first_seen.
	if r := run(e2, login(t0.Add(6*day), "db1", "report", "10.0.0.8", "excel")); len(r.Anomalies) != 0 {
		t.Fatalf("value learnt before the restart flagged: %+v", r.Anomalies)
	}
	if r := run(e2, login(t0.Add(6*day), "db1", "intruder", "10.0.0.8", "excel")); kinds(r)["sql.principal"] != "first_seen" {
		t.Fatalf("new principal after restart: %+v", r.Anomalies)
	}
	if err := e2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// And again, a third run knows the principal learnt in the second.
	e3, _ := New(Config{Workspace: "w", Learning: 5 * day, Store: st})
	_ = e3.Load(ctx)
	if r := run(e3, login(t0.Add(7*day), "db1", "intruder", "10.0.0.8", "excel")); len(r.Anomalies) != 0 {
		t.Fatalf("third run: %+v", r.Anomalies)
	}
	// Workspaces are apart.
	other, _ := New(Config{Workspace: "x", Store: st})
	_ = other.Load(ctx)
	if s := status(other, "sql.principal"); s.Values != 0 || !s.Started.IsZero() {
		t.Fatalf("workspace x sees w's baseline: %+v", s)
	}
}

func TestFailedSaveIsRetried(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	e, _ := New(Config{Workspace: "w", Learning: -1, Store: st})
	run(e, login(t0, "db1", "webapp", "10.0.0.5", ""))
	st.fail = true
	if err := e.Flush(ctx); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush = %v, want the store's error", err)
	}
	st.fail = false
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(st.rows["w/sql.principal"]); n != 1 {
		t.Fatalf("stored principals after the retry = %d, want 1", n)
	}
	saves := st.saves
	if err := e.Flush(ctx); err != nil || st.saves != saves {
		t.Fatalf("a flush with nothing changed saved (%d → %d, %v)", saves, st.saves, err)
	}
}

func TestModelsAreChecked(t *testing.T) {
	for _, m := range []Model{
		{Name: "", Entity: []string{"host.name"}, Value: []string{"user.name"}},
		{Name: "x", Value: []string{"user.name"}},
		{Name: "x", Entity: []string{"host.name"}, Value: []string{"user.name"}, Part: "tld"},
	} {
		if _, err := New(Config{Models: []Model{m}}); err == nil {
			t.Errorf("model %+v accepted", m)
		}
	}
	m := Model{Name: "x", Logsources: sqlServers, Entity: []string{"host.name"}, Value: []string{"user.name"}}
	if _, err := New(Config{Models: []Model{m, m}}); err == nil {
		t.Error("a model declared twice accepted")
	}
	if got := SourceFields(Defaults); !slices.Equal(got, []string{"application_name", "response_rows", "bytes", "bytesSrcToDst"}) {
		t.Errorf("SourceFields(Defaults) = %v, want [application_name response_rows bytes bytesSrcToDst]", got)
	}
	for _, m := range []Model{
		{Name: "x", Logsources: sqlServers, Entity: []string{"host.name"}, Value: []string{"user.name"}, VolumeMin: 5},
		{Name: "x", Logsources: sqlServers, Entity: []string{"host.name"}, Value: []string{"response_rows"}, Volume: true, VolumeMin: -1},
	} {
		if _, err := New(Config{Models: []Model{m}}); err == nil {
			t.Errorf("model %+v accepted", m)
		}
	}
}

func status(e *Enricher, model string) ModelStatus {
	for _, s := range e.Status() {
		if s.Model == model {
			return s
		}
	}
	return ModelStatus{}
}

// BenchmarkEnrich is the enricher's cost per event: an event of a
// logsource no model learns from (its whole cost on most traffic), a
// known SQL login, and a SQL login of a new client address.
func BenchmarkEnrich(b *testing.B) {
	e, _ := New(Config{Learning: -1})
	for i := 0; i < 1000; i++ {
		run(e, login(t0, "db1", fmt.Sprintf("user%d", i%50), fmt.Sprintf("10.0.%d.%d", i/250, i%250), "webshop"))
	}
	web := &event.Event{Time: t0, Logsource: event.Logsource{Category: "webserver"}}
	known := login(t0.Add(time.Hour), "db1", "user7", "10.0.0.7", "webshop")
	r := &enrich.Result{}
	b.Run("other-logsource", func(b *testing.B) {
		for b.Loop() {
			r.Reset(t0)
			if e.Wants(web) {
				e.Enrich(web, r)
			}
		}
	})
	b.Run("known-login", func(b *testing.B) {
		for b.Loop() {
			r.Reset(t0)
			e.Enrich(known, r)
		}
	})
	b.Run("new-address", func(b *testing.B) {
		i := 0
		evs := make([]*event.Event, 4096)
		for j := range evs {
			evs[j] = login(t0.Add(2*time.Hour), "db1", "user7", fmt.Sprintf("172.16.%d.%d", j/250, j%250), "webshop")
		}
		for b.Loop() {
			r.Reset(t0)
			e.Enrich(evs[i%len(evs)], r)
			i++
		}
	})
	// Flow records: an internal host's record to the internet (the
	// egress model's scope checks, then its entity's largest), and an
	// inbound one (refused by the first scope check).
	out := make([]*event.Event, 4096)
	for j := range out {
		out[j] = flow(t0.Add(time.Hour), fmt.Sprintf("10.1.%d.%d", j/250%250, j%250), "52.95.110.1", int64(j)<<10)
	}
	in := flow(t0.Add(time.Hour), "52.95.110.1", "10.1.0.1", 1<<20)
	b.Run("egress-flow", func(b *testing.B) {
		i := 0
		for b.Loop() {
			r.Reset(t0)
			e.Enrich(out[i%len(out)], r)
			i++
		}
	})
	b.Run("inbound-flow", func(b *testing.B) {
		for b.Loop() {
			r.Reset(t0)
			e.Enrich(in, r)
		}
	})
}

// TestKeepsCopiesOfEventValues: decoded values point into buffers the
// next record overwrites; what a model keeps (in memory, in a flush) must
// not change with them.
func TestKeepsCopiesOfEventValues(t *testing.T) {
	st := newMemStore()
	e, _ := New(Config{Workspace: "w", Learning: -1, Store: st})
	buf := []byte("db1 webapp 10.0.0.5")
	view := func(i, j int) string { return unsafe.String(&buf[i], j-i) }
	run(e, login(t0, view(0, 3), view(4, 10), view(11, 19), ""))
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Known now: the flush must write the model's keys, not the event's.
	run(e, login(t0.Add(time.Minute), view(0, 3), view(4, 10), view(11, 19), ""))
	copy(buf, "XXXXXXXXXXXXXXXXXXX")
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := st.rows["w/sql.principal"]
	if en, ok := got[[2]string{"db1", "webapp"}]; !ok || len(got) != 1 || en.Count != 2 {
		t.Fatalf("stored %v, want db1/webapp seen twice", got)
	}
	if r := run(e, login(t0.Add(2*time.Minute), "db1", "webapp", "10.0.0.5", "")); len(r.Anomalies) != 0 {
		t.Fatalf("known values flagged after their buffer changed: %+v", r.Anomalies)
	}
}

// query is a statement of user on db1 that returned rows.
func query(t time.Time, user string, rows int) *event.Event {
	ev := login(t, "db1", user, "10.0.0.5", "")
	id, _ := dict.ID("response_rows")
	ev.Fields.Set(id, fmt.Sprint(rows))
	return ev
}

func TestExportVolume(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	e, _ := New(Config{Workspace: "w", Learning: 2 * day, Store: st})
	for i := 0; i < 40; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		// learning: a large read now raises the peak, flags nothing
		rows := 50 + i*5
		if r := run(e, query(at, "webapp", rows)); len(r.Anomalies) != 0 {
			t.Fatalf("hour %d (learning): %+v", i, r.Anomalies)
		}
	}
	_ = e.Flush(ctx)
	// A restart keeps each principal's largest read (245 rows).
	e, _ = New(Config{Workspace: "w", Learning: 2 * day, Store: st})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	after := t0.Add(3 * day)
	if r := run(e, query(after, "webapp", 2000)); len(r.Anomalies) != 0 {
		t.Fatalf("2000 rows, under 10x the largest (245): %+v", r.Anomalies)
	}
	// the largest is 2000 now
	ev := query(after.Add(time.Minute), "webapp", 20001)
	r := run(e, ev)
	if len(r.Anomalies) != 1 || r.Anomalies[0].Kind != KindVolume || r.Anomalies[0].Model != "sql.rows_read" ||
		r.Anomalies[0].Entity != "db1/webapp" || r.Anomalies[0].Value != "20001" || r.Anomalies[0].Seen != 2000 {
		t.Fatalf("20001 rows: %+v, want a volume anomaly of db1/webapp over 2000", r.Anomalies)
	}
	if got := values(ev, FieldVolume); !slices.Equal(got, []string{"sql.rows_read"}) {
		t.Fatalf("baseline.volume = %v", got)
	}
	// A principal's first read is learnt; small amounts are never flagged.
	if r := run(e, query(after, "report", 900000)); len(r.Anomalies) != 0 && r.Anomalies[0].Kind == KindVolume {
		t.Fatalf("first read of a principal flagged: %+v", r.Anomalies)
	}
	run(e, query(after, "tiny", 1))
	if r := run(e, query(after.Add(time.Minute), "tiny", 999)); kinds(r)["sql.rows_read"] != "" {
		t.Fatalf("999 rows (under %d) flagged: %+v", VolumeMin, r.Anomalies)
	}
	// Not a number: ignored.
	if r := run(e, query(after.Add(2*time.Minute), "webapp", 0)); kinds(r)["sql.rows_read"] != "" {
		t.Fatalf("0 rows flagged: %+v", r.Anomalies)
	}
}

// flow is a VPC flow record from src to dst that carried n bytes.
func flow(t time.Time, src, dst string, n int64) *event.Event {
	ev := &event.Event{Time: t, Source: "vpc", Logsource: event.Logsource{Product: "aws", Service: "vpcflowlogs"}}
	ev.Fields.Bind(dict)
	ev.Common[event.SourceIP] = src
	ev.Common[event.DestinationIP] = dst
	id, _ := dict.ID("bytes")
	ev.Fields.Set(id, fmt.Sprint(n))
	return ev
}

// TestEgressVolume: the host.egress_bytes model keeps each internal
// host's largest flow record to the internet and flags one of at least
// 100 MiB and more than ten times it; inbound records, records between
// internal hosts and a host's first record are not flagged.
func TestEgressVolume(t *testing.T) {
	e, _ := New(Config{Workspace: "w", Learning: day})
	const mb = 1 << 20
	for i := 0; i < 24; i++ { // a day of learning: backups of up to 30 MB an hour
		at := t0.Add(time.Duration(i) * time.Hour)
		if r := run(e, flow(at, "10.0.1.5", "52.95.110.1", int64(5+i)*mb)); len(r.Anomalies) != 0 {
			t.Fatalf("hour %d (learning): %+v", i, r.Anomalies)
		}
		run(e, flow(at, "10.0.1.6", "52.95.110.1", 2*mb))
	}
	after := t0.Add(2 * day)
	for _, c := range []struct {
		what     string
		ev       *event.Event
		flagged  bool
		peakSeen int
	}{
		{"200 MB out, under 10x the host's 28 MB", flow(after, "10.0.1.5", "52.95.110.1", 200*mb), false, 0},
		{"50 MB out, ten times more than 2 MB but under the 100 MiB floor", flow(after, "10.0.1.6", "52.95.110.1", 50*mb), false, 0},
		{"500 MB in to the host", flow(after, "52.95.110.1", "10.0.1.6", 500*mb), false, 0},
		{"500 MB to another internal host", flow(after, "10.0.1.6", "10.0.2.9", 500*mb), false, 0},
		{"500 MB from a host never seen", flow(after, "10.0.9.9", "52.95.110.1", 500*mb), false, 0},
		{"not a number", flow(after, "10.0.1.6", "52.95.110.1", -1), false, 0},
		// the 10.0.1.6 host's largest is 50 MB now
		{"600 MB out, 12x the host's largest", flow(after.Add(time.Minute), "10.0.1.6", "185.199.108.1", 600*mb), true, 50 * mb},
	} {
		r := run(e, c.ev)
		got := kinds(r)["host.egress_bytes"] == KindVolume
		if got != c.flagged {
			t.Errorf("%s: flagged %v, want %v (%+v)", c.what, got, c.flagged, r.Anomalies)
		}
		if c.flagged && (r.Anomalies[0].Entity != "10.0.1.6" || r.Anomalies[0].Seen != c.peakSeen || !slices.Equal(values(c.ev, FieldVolume), []string{"host.egress_bytes"})) {
			t.Errorf("%s: %+v, baseline.volume %v", c.what, r.Anomalies, values(c.ev, FieldVolume))
		}
	}
}
