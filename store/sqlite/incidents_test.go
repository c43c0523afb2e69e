package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// correlateStream runs c over the alert changes after consumer's cursor,
// as the server's consumer does, and applies the updates with the cursor.
func correlateStream(t *testing.T, db *DB, c *incident.Correlator, consumer string) []store.IncidentUpdate {
	t.Helper()
	cur, err := db.ConsumerCursor(ctx, consumer)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := db.AlertChanges(ctx, cur, 1000)
	if err != nil || len(changes) == 0 {
		if err != nil {
			t.Fatal(err)
		}
		return nil
	}
	var ups []store.IncidentUpdate
	for _, ch := range changes {
		a, err := db.Alert(ctx, ch.Workspace, ch.AlertID)
		if err != nil {
			t.Fatal(err)
		}
		u := c.Add(&a, db.now())
		if u.Incident.ID == "" {
			continue
		}
		up := store.IncidentUpdate{Incident: u.Incident, New: u.New, Reopened: u.Reopened, Timeline: u.Timeline}
		if u.AlertID != "" {
			up.AddAlerts = []string{u.AlertID}
		}
		ups = append(ups, up)
	}
	if err := db.ApplyIncidents(ctx, consumer, changes[len(changes)-1].Seq, ups); err != nil {
		t.Fatal(err)
	}
	return ups
}

func newTestCorrelator() *incident.Correlator {
	n := 0
	return incident.NewCorrelator(incident.CorrelationConfig{}, func() string { n++; return fmt.Sprintf("inc-%02d", n) })
}

func TestApplyIncidentsAndReads(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	e1 := ev("acme", "s", t0, "web-01", "alice", "203.0.113.7")
	e2 := ev("acme", "s", t0.Add(time.Minute), "web-01", "alice", "203.0.113.7")
	e3 := ev("acme", "s", t0.Add(2*time.Minute), "db-01", "bob", "10.0.0.9")
	b := batch("acme", "s", e1, e2, e3)
	b.Signals = []alert.Signal{sig("acme", "r1", alert.Medium, "web-01", e1), sig("acme", "r2", alert.High, "web-01", e2),
		sig("acme", "r3", alert.Low, "db-01", e3)}
	commit(t, db, b)
	signal := db.IncidentChangesSignal()
	c := newTestCorrelator()
	ups := correlateStream(t, db, c, "incidents")
	if len(ups) != 3 {
		t.Fatalf("%d updates, want 3", len(ups))
	}
	select {
	case <-signal:
	default:
		t.Error("ApplyIncidents did not raise the incident stream's signal")
	}
	changes, _ := db.AlertChanges(ctx, 0, 100)
	if cur, _ := db.ConsumerCursor(ctx, "incidents"); cur != changes[len(changes)-1].Seq {
		t.Errorf("cursor %d, want %d", cur, changes[len(changes)-1].Seq)
	}

	all, next, err := db.Incidents(ctx, "acme", store.IncidentQuery{})
	if err != nil || next != "" || len(all) != 2 {
		t.Fatalf("Incidents: %d, %q, %v; want 2", len(all), next, err)
	}
	// Latest activity first: db-01's incident, then web-01's.
	web, dbi := all[1], all[0]
	if web.AlertCount != 2 || web.Severity != alert.High || dbi.AlertCount != 1 || web.Stage != incident.StageDetect || web.Status != incident.StatusNew {
		t.Fatalf("incidents %+v / %+v", web, dbi)
	}
	if web.Title != "rule r2 and 1 more alert on web-01" {
		t.Errorf("title %q", web.Title)
	}
	ids, err := db.IncidentAlerts(ctx, "acme", web.ID)
	if err != nil || len(ids) != 2 {
		t.Fatalf("IncidentAlerts: %v, %v", ids, err)
	}
	of, err := db.IncidentOfAlerts(ctx, "acme", append(ids, "nope"))
	if err != nil || len(of) != 2 || of[ids[0]] != web.ID || of[ids[1]] != web.ID {
		t.Fatalf("IncidentOfAlerts: %v, %v", of, err)
	}
	tl, _, err := db.Timeline(ctx, "acme", web.ID, store.TimelineQuery{})
	if err != nil || len(tl) != 3 {
		t.Fatalf("Timeline: %+v, %v", tl, err)
	}
	if tl[0].Kind != incident.TimelineCreated && tl[1].Kind != incident.TimelineCreated || tl[0].Seq == 0 || tl[2].Kind != incident.TimelineAlert || tl[2].AlertID != ids[1] {
		t.Errorf("timeline %+v", tl)
	}
	// Paged one by one, the timeline is the same.
	var paged []incident.TimelineEntry
	for cur := ""; ; {
		p, nx, err := db.Timeline(ctx, "acme", web.ID, store.TimelineQuery{Limit: 1, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, p...)
		if nx == "" {
			break
		}
		cur = nx
	}
	if len(paged) != 3 || paged[2].Seq != tl[2].Seq {
		t.Errorf("paged timeline %+v", paged)
	}
	ics, err := db.IncidentChanges(ctx, 0, 100)
	if err != nil || len(ics) != 3 || ics[0].Kind != store.IncidentCreated || ics[1].Kind != store.IncidentUpdated && ics[1].Kind != store.IncidentCreated ||
		ics[0].Actor != incident.CorrelationActor {
		t.Fatalf("IncidentChanges: %+v, %v", ics, err)
	}

	// Filters and counts.
	high := alert.High
	for _, tc := range []struct {
		name string
		q    store.IncidentQuery
		want []string
	}{
		{"all", store.IncidentQuery{}, []string{dbi.ID, web.ID}},
		{"entity any case", store.IncidentQuery{Entity: "WEB-01"}, []string{web.ID}},
		{"severity", store.IncidentQuery{MinSeverity: &high}, []string{web.ID}},
		{"stage", store.IncidentQuery{Stage: []incident.Stage{incident.StageAssess}}, nil},
		{"status", store.IncidentQuery{Status: []incident.Status{incident.StatusNew}}, []string{dbi.ID, web.ID}},
		{"owner", store.IncidentQuery{Owner: "carol"}, nil},
		{"tag", store.IncidentQuery{Tag: "x"}, nil},
		{"since", store.IncidentQuery{Since: t0.Add(2 * time.Minute)}, []string{dbi.ID}},
		{"until", store.IncidentQuery{Until: t0.Add(2 * time.Minute)}, []string{web.ID}},
		{"priority", store.IncidentQuery{Sort: store.IncidentSortPriority}, []string{web.ID, dbi.ID}},
	} {
		got, _, err := db.Incidents(ctx, "acme", tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var gotIDs []string
		for _, i := range got {
			gotIDs = append(gotIDs, i.ID)
		}
		if !slices.Equal(gotIDs, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, gotIDs, tc.want)
		}
		if n, err := db.CountIncidents(ctx, "acme", tc.q); err != nil || n != len(tc.want) {
			t.Errorf("%s: count %d, %v; want %d", tc.name, n, err, len(tc.want))
		}
	}
	// Paging in both orders; a cursor of one order is refused by the other.
	for _, sortBy := range []string{store.IncidentSortLastSeen, store.IncidentSortPriority} {
		p1, nx, err := db.Incidents(ctx, "acme", store.IncidentQuery{Limit: 1, Sort: sortBy})
		if err != nil || len(p1) != 1 || nx == "" {
			t.Fatalf("%s page 1: %v %q %v", sortBy, len(p1), nx, err)
		}
		p2, nx2, err := db.Incidents(ctx, "acme", store.IncidentQuery{Limit: 1, Sort: sortBy, Cursor: nx})
		if err != nil || len(p2) != 1 || nx2 != "" || p2[0].ID == p1[0].ID {
			t.Fatalf("%s page 2: %v %q %v", sortBy, p2, nx2, err)
		}
		other := store.IncidentSortPriority
		if sortBy == other {
			other = store.IncidentSortLastSeen
		}
		if _, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{Sort: other, Cursor: nx}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a %s cursor under %s: %v, want ErrInvalid", sortBy, other, err)
		}
	}
	for _, q := range []store.IncidentQuery{{Sort: "name"}, {Stage: []incident.Stage{"triage"}}, {Status: []incident.Status{"open"}}} {
		if _, _, err := db.Incidents(ctx, "acme", q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", q, err)
		}
	}
	if _, err := db.Incident(ctx, "other", web.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another workspace's incident: %v, want ErrNotFound", err)
	}

	// A later update of an alert (new evidence) refreshes its incident
	// without joining it again.
	clock.set(t0.Add(time.Hour))
	e4 := ev("acme", "s", t0.Add(30*time.Minute), "web-01", "alice", "203.0.113.7")
	b2 := batch("acme", "s", e4)
	b2.Signals = []alert.Signal{sig("acme", "r1", alert.Critical, "web-01", e4)}
	commit(t, db, b2)
	ups = correlateStream(t, db, c, "incidents")
	if len(ups) != 1 || len(ups[0].AddAlerts) != 0 || ups[0].Incident.AlertCount != 2 || ups[0].Incident.Severity != alert.Critical {
		t.Fatalf("update: %+v", ups)
	}
	got, _ := db.Incident(ctx, "acme", web.ID)
	if got.AlertCount != 2 || got.Severity != alert.Critical || !got.LastSeen.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("after the update: %+v", got)
	}
	if tl, _, _ := db.Timeline(ctx, "acme", web.ID, store.TimelineQuery{}); len(tl) != 3 {
		t.Errorf("an alert update added timeline entries: %d", len(tl))
	}
}

// closeByHand closes an incident as a responder would (the workflow's
// writes are not this file's).
func closeByHand(t *testing.T, db *DB, ws, id, owner string, at time.Time) {
	t.Helper()
	err := db.write(ctx, "close", func(tx *sql.Tx) error {
		inc, err := loadIncident(ctx, tx, ws, id)
		if err != nil {
			return err
		}
		inc.Stage, inc.Closed, inc.Owner = incident.StageClose, &at, owner
		inc.Classification, inc.CloseReason = incident.FalsePositive, "test"
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		return appendIncidentChange(ctx, tx, &inc, store.IncidentStaged, "user:carol", at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestApplyIncidentsKeepsResponderChanges(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	e1 := ev("acme", "s", t0, "web-01", "alice", "203.0.113.7")
	b := batch("acme", "s", e1)
	b.Signals = []alert.Signal{sig("acme", "r1", alert.Medium, "web-01", e1)}
	commit(t, db, b)
	c := newTestCorrelator()
	inc := correlateStream(t, db, c, "incidents")[0].Incident

	// A responder closes it; the correlator has not heard of it yet.
	clock.set(t0.Add(time.Hour))
	closeByHand(t, db, "acme", inc.ID, "carol", t0.Add(time.Hour))

	e2 := ev("acme", "s", t0.Add(2*time.Hour), "web-01", "alice", "203.0.113.7")
	b2 := batch("acme", "s", e2)
	b2.Signals = []alert.Signal{sig("acme", "r2", alert.High, "web-01", e2)}
	commit(t, db, b2)
	clock.set(t0.Add(2 * time.Hour))
	ups := correlateStream(t, db, c, "incidents")
	if len(ups) != 1 || ups[0].Incident.ID != inc.ID {
		t.Fatalf("updates %+v", ups)
	}
	got, _ := db.Incident(ctx, "acme", inc.ID)
	if got.Stage != incident.StageAssess || got.Closed != nil || got.Reopened != 1 || got.Owner != "carol" || got.AlertCount != 2 {
		t.Fatalf("stored %+v; want reopened into assess, owner kept, 2 alerts", got)
	}
	if ups[0].Incident.Stage != incident.StageAssess || ups[0].Incident.Owner != "carol" {
		t.Errorf("the update does not hand back the stored incident: %+v", ups[0].Incident)
	}
	tl, _, _ := db.Timeline(ctx, "acme", inc.ID, store.TimelineQuery{})
	kinds := []string{}
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Contains(kinds, incident.TimelineReopened) || len(tl) != 4 {
		t.Errorf("timeline kinds %v, want created, alert, reopened, alert", kinds)
	}
	ics, _ := db.IncidentChanges(ctx, 0, 100)
	if last := ics[len(ics)-1]; last.Kind != store.IncidentReopened || last.Stage != incident.StageAssess {
		t.Errorf("last change %+v, want reopened into assess", last)
	}
}

func TestApplyIncidentsAtomic(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	good := store.IncidentUpdate{Incident: incident.Incident{ID: "i1", Workspace: "acme", Stage: incident.StageDetect, FirstSeen: t0, LastSeen: t0},
		New: true, AddAlerts: []string{"a1"}, Timeline: []incident.TimelineEntry{{Kind: incident.TimelineCreated, Time: t0, Actor: incident.CorrelationActor}}}
	bad := store.IncidentUpdate{Incident: incident.Incident{Workspace: "acme"}, New: true}
	if err := db.ApplyIncidents(ctx, "incidents", 5, []store.IncidentUpdate{good, bad}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("ApplyIncidents with a bad update: %v, want ErrInvalid", err)
	}
	if cur, _ := db.ConsumerCursor(ctx, "incidents"); cur != 0 {
		t.Errorf("cursor moved to %d by a failed apply", cur)
	}
	if n, _ := db.CountIncidents(ctx, "acme", store.IncidentQuery{}); n != 0 {
		t.Errorf("%d incidents written by a failed apply", n)
	}
	if err := db.ApplyIncidents(ctx, "incidents", 5, []store.IncidentUpdate{good}); err != nil {
		t.Fatal(err)
	}
	// A cursor never moves back.
	if err := db.ApplyIncidents(ctx, "incidents", 3, nil); err != nil {
		t.Fatal(err)
	}
	if cur, _ := db.ConsumerCursor(ctx, "incidents"); cur != 5 {
		t.Errorf("cursor %d, want 5", cur)
	}
}

func TestCorrelationCandidatesAndPurge(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	put := func(id string, stage incident.Stage, closed *time.Time, merged string) {
		up := store.IncidentUpdate{New: true, Incident: incident.Incident{ID: id, Workspace: "acme", Stage: stage, Closed: closed, MergedInto: merged,
			FirstSeen: t0, LastSeen: t0}}
		if err := db.ApplyIncidents(ctx, "incidents", 0, []store.IncidentUpdate{up}); err != nil {
			t.Fatal(err)
		}
	}
	recent, old := t0.Add(-time.Hour), t0.Add(-100*time.Hour)
	put("open", incident.StageDiagnose, nil, "")
	put("recent", incident.StageClose, &recent, "")
	put("old", incident.StageClose, &old, "")
	put("merged", incident.StageClose, &recent, "open")
	got, err := db.CorrelationCandidates(ctx, t0.Add(-72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range got {
		ids = append(ids, i.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"open", "recent"}) {
		t.Errorf("candidates %v, want open and recent", ids)
	}
	clock.set(t0.Add(48 * time.Hour))
	put("later", incident.StageDetect, nil, "")
	n, err := db.PurgeIncidentChanges(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("purged %d, %v; want 4", n, err)
	}
	if ics, _ := db.IncidentChanges(ctx, 0, 100); len(ics) != 1 || ics[0].IncidentID != "later" {
		t.Errorf("left %+v", ics)
	}
}

func TestSimilarIncidents(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	mk := func(id string, rules []string, merged string, ents ...alert.Entity) {
		up := store.IncidentUpdate{New: true, Incident: incident.Incident{ID: id, Workspace: "acme", Stage: incident.StageDetect, MergedInto: merged,
			RuleIDs: rules, Entities: ents, FirstSeen: t0, LastSeen: t0}}
		if err := db.ApplyIncidents(ctx, "x", 0, []store.IncidentUpdate{up}); err != nil {
			t.Fatal(err)
		}
	}
	host := alert.Entity{Type: "host", Value: "web-01"}
	ip := alert.Entity{Type: "ip", Value: "203.0.113.7"}
	mk("me", []string{"sqli", "brute"}, "", host, ip)
	mk("twin", []string{"sqli", "brute"}, "", alert.Entity{Type: "host", Value: "WEB-01"}, ip)
	mk("same-rules", []string{"sqli"}, "", alert.Entity{Type: "host", Value: "other"})
	mk("same-host", []string{"xss"}, "", host)
	mk("stranger", []string{"xss"}, "", alert.Entity{Type: "host", Value: "far"})
	mk("merged", []string{"sqli", "brute"}, "twin", host, ip)
	got, err := db.SimilarIncidents(ctx, "acme", "me", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.Incident.ID)
	}
	if !slices.Equal(ids, []string{"twin", "same-host", "same-rules"}) {
		t.Fatalf("similar %v, want twin, same-host, same-rules", ids)
	}
	if got[0].Score != 1 || !slices.Contains(got[0].Shared, "rule sqli") || !slices.Contains(got[0].Shared, "ip 203.0.113.7") {
		t.Errorf("twin: %+v", got[0])
	}
	if got, _ := db.SimilarIncidents(ctx, "acme", "me", 1); len(got) != 1 {
		t.Errorf("limit 1 gave %d", len(got))
	}
	if _, err := db.SimilarIncidents(ctx, "acme", "nope", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
}

// TestPutIncidentEntitiesByDifference: the entity rows follow the
// incident's entities when they grow and when they shrink.
func TestPutIncidentEntitiesByDifference(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	put := func(es ...alert.Entity) {
		inc := incident.Incident{ID: "i1", Workspace: "acme", Stage: incident.StageDetect, FirstSeen: t0, LastSeen: t0, Entities: es}
		if err := db.write(ctx, "put", func(tx *sql.Tx) error { return putIncident(ctx, tx, &inc) }); err != nil {
			t.Fatal(err)
		}
	}
	count := func(v string) int {
		n, err := db.CountIncidents(ctx, "acme", store.IncidentQuery{Entity: v})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b, c := alert.Entity{Type: "host", Value: "A-host"}, alert.Entity{Type: "ip", Value: "203.0.113.9"}, alert.Entity{Type: "url", Value: "/Login"}
	put(a, b)
	if count("a-host") != 1 || count("203.0.113.9") != 1 || count("/Login") != 0 {
		t.Fatal("first put: entity rows wrong")
	}
	put(b, c, c)
	if count("a-host") != 0 || count("203.0.113.9") != 1 || count("/Login") != 1 || count("/login") != 0 {
		t.Fatalf("second put: a %d b %d c %d c-folded %d", count("a-host"), count("203.0.113.9"), count("/Login"), count("/login"))
	}
	var rows int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM incident_entities WHERE incident_id = 'i1'`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("%d entity rows, %v; want 2", rows, err)
	}
}
