package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
)

// grownStore is what the assessment benchmark needs of the store: the
// assessment's reads, and the writes that grow an incident.
type grownStore interface {
	assessStore
	Commit(ctx context.Context, batches []*store.Batch) (int, error)
	Alert(ctx context.Context, workspace, id string) (alert.Alert, error)
	AlertsByID(ctx context.Context, workspace string, ids []string) (map[string]alert.Alert, error)
	Alerts(ctx context.Context, workspace string, q store.AlertQuery) ([]alert.Alert, string, error)
	Incident(ctx context.Context, workspace, id string) (incident.Incident, error)
	ApplyIncidents(ctx context.Context, consumer string, seq int64, ups []store.IncidentUpdate) error
}

// countingStore counts the assessment's store reads and keeps the
// assessments it writes.
type countingStore struct {
	grownStore
	queries, alertsRead, eventsAsked int
	last                             incident.Assessment
}

func (c *countingStore) Alert(ctx context.Context, ws, id string) (alert.Alert, error) {
	c.queries++
	c.alertsRead++
	return c.grownStore.Alert(ctx, ws, id)
}

func (c *countingStore) AlertsByID(ctx context.Context, ws string, ids []string) (map[string]alert.Alert, error) {
	c.queries++
	c.alertsRead += len(ids)
	return c.grownStore.AlertsByID(ctx, ws, ids)
}

func (c *countingStore) EventsByID(ctx context.Context, ws string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	c.queries++
	c.eventsAsked += len(ids)
	return c.grownStore.EventsByID(ctx, ws, ids)
}

func (c *countingStore) SetAssessment(ctx context.Context, ws, id string, a incident.Assessment) error {
	c.last = a
	return c.grownStore.SetAssessment(ctx, ws, id, a)
}

// grownIncident is one incident in a store, grown alert by alert as a
// long attack grows it.
type grownIncident struct {
	st   grownStore
	ws   string
	id   string
	n    int // alerts made so far
	seq  int64
	ctx  context.Context
	tb   testing.TB
	hits int // evidence events of each alert
}

const assessBenchWS = "acme"

func newGrownIncident(tb testing.TB, alerts, hits int) *grownIncident {
	tb.Helper()
	g := &grownIncident{st: teststore.Open[grownStore](tb), ws: assessBenchWS, id: "inc-soak", ctx: context.Background(), tb: tb, hits: hits}
	// A few alerts a batch, as a long attack commits them: an alert's
	// first evidence events sit in a block of their own.
	for g.n < alerts {
		g.grow(min(5, alerts-g.n))
	}
	return g
}

// grow commits n new alerts, each with its evidence events (one stored
// event a hit, several alerts a block), and joins them to the incident.
func (g *grownIncident) grow(n int) {
	g.tb.Helper()
	t0 := storetest.T0.Add(time.Duration(g.n) * time.Minute)
	b := storetest.Batch(g.ws, "s")
	var hosts []string
	for i := range n {
		h := fmt.Sprintf("host-%05d", g.n+i)
		hosts = append(hosts, h)
		for j := range g.hits {
			e := storetest.Event(g.ws, "s", t0.Add(time.Duration(i*g.hits+j)*time.Millisecond), h, fmt.Sprintf("user%d", j), "203.0.113.45")
			// Each alert's statements read its own tables: the evidence
			// read decides what the assessment lists as accessed.
			e.Common[event.DBStatement] = fmt.Sprintf("SELECT * FROM dbo.customers_%d JOIN dbo.orders_%d", g.n+i, j)
			b.Events = append(b.Events, e)
			b.Signals = append(b.Signals, storetest.Signal(g.ws, "brute", alert.High, h, e))
		}
	}
	if b.Received.Before(t0) {
		b.Received = t0
	}
	if _, err := g.st.Commit(g.ctx, []*store.Batch{b}); err != nil {
		g.tb.Fatalf("commit %d alerts: %v", n, err)
	}
	var ids []string
	for _, h := range hosts {
		as, _, err := g.st.Alerts(g.ctx, g.ws, store.AlertQuery{RuleID: "brute", Entity: h})
		if err != nil || len(as) != 1 {
			g.tb.Fatalf("alert on %s: %d, %v", h, len(as), err)
		}
		ids = append(ids, as[0].ID)
	}
	inc, err := g.st.Incident(g.ctx, g.ws, g.id)
	isNew := err != nil
	if isNew {
		inc = incident.Incident{ID: g.id, Workspace: g.ws, Title: "password guessing", Stage: incident.StageDetect,
			Severity: alert.High, FirstSeen: t0, LastSeen: t0, Created: t0, Updated: t0, RuleIDs: []string{"brute"}}
	}
	inc.LastSeen, inc.Updated = t0, t0
	g.seq++
	if err := g.st.ApplyIncidents(g.ctx, "bench", g.seq, []store.IncidentUpdate{{Incident: inc, New: isNew, AddAlerts: ids}}); err != nil {
		g.tb.Fatalf("join %d alerts to the incident: %v", n, err)
	}
	g.n += n
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAssessGrownIncident re-assesses an incident of about a
// thousand alerts, three evidence events each, after each N new alerts
// joined it: the soak's one big incident (docs/benchmarks.md); cold, by
// an assessor that kept nothing of the last assessment. It
// reports the process's CPU a re-assessment (the store's too on SQLite;
// PostgreSQL's server CPU is not in it), and the store reads.
func BenchmarkAssessGrownIncident(b *testing.B) {
	for _, tc := range []struct {
		new  int
		cold bool // each re-assessment by a new assessor: nothing kept
	}{{1, false}, {20, false}, {20, true}} {
		name := fmt.Sprintf("new=%d", tc.new)
		if tc.cold {
			name += "/cold"
		}
		b.Run(name, func(b *testing.B) {
			n := tc.new
			g := newGrownIncident(b, 1000, 3)
			c := &countingStore{grownStore: g.st}
			a := &assessor{store: c, cls: incident.DefaultClassifier(), log: slog.New(slog.DiscardHandler), every: -1}
			if err := a.assess(g.ctx, g.ws, g.id); err != nil { // the first assessment, not measured
				b.Fatal(err)
			}
			c.queries, c.alertsRead, c.eventsAsked = 0, 0, 0
			var cpu time.Duration
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				g.grow(n)
				if tc.cold {
					a = &assessor{store: c, cls: incident.DefaultClassifier(), log: slog.New(slog.DiscardHandler), every: -1}
				}
				b.StartTimer()
				c0 := cpuTime()
				if err := a.assess(g.ctx, g.ws, g.id); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(c.queries)/float64(b.N), "queries/op")
			b.ReportMetric(float64(c.alertsRead)/float64(b.N), "alerts-read/op")
			b.ReportMetric(float64(c.eventsAsked)/float64(b.N), "events-asked/op")
		})
	}
}

// TestAssessIncrementalMatchesFresh: an incident assessed, grown and
// assessed again by the same assessor (what it kept of the first
// assessment reused) gets the assessment a new assessor gives it.
func TestAssessIncrementalMatchesFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an incident of 600 alerts")
	}
	g := newGrownIncident(t, 540, 2)
	inc := &countingStore{grownStore: g.st}
	a := &assessor{store: inc, cls: incident.DefaultClassifier(), log: slog.New(slog.DiscardHandler), every: -1}
	for _, n := range []int{0, 30, 1, 29} {
		g.grow(n)
		if err := a.assess(g.ctx, g.ws, g.id); err != nil {
			t.Fatal(err)
		}
		fresh := &countingStore{grownStore: g.st}
		b := &assessor{store: fresh, cls: incident.DefaultClassifier(), log: slog.New(slog.DiscardHandler), every: -1}
		if err := b.assess(g.ctx, g.ws, g.id); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(inc.last, fresh.last) {
			t.Fatalf("after %d alerts: incremental assessment\n%+v\nfrom scratch\n%+v", g.n, inc.last, fresh.last)
		}
		if len(fresh.last.DataAccessed) == 0 || len(fresh.last.Nature.AlertTypes) == 0 {
			t.Fatalf("after %d alerts: an empty assessment %+v", g.n, fresh.last)
		}
	}
}
