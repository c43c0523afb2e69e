package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

func TestSensitivitySettings(t *testing.T) {
	load := func(t *testing.T, yaml string, args ...string) (*Config, error) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "vigil.yaml")
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := newServeCmd()
		if err := cmd.Flags().Parse(append([]string{"--config", file}, args...)); err != nil {
			t.Fatal(err)
		}
		return loadConfig(cmd.Flags())
	}
	// No rules: vigil's defaults, internal for the rest.
	cfg, err := load(t, "listen: 127.0.0.1:1\n")
	if err != nil {
		t.Fatal(err)
	}
	if l, rule := cfg.classifier.Classify(incident.DataTable, "dbo.payment_cards", ""); l != incident.Restricted || rule != "card-tables" {
		t.Errorf("defaults: %s by %q", l, rule)
	}
	if cfg.classifier.Default() != incident.Internal {
		t.Errorf("default label %s", cfg.classifier.Default())
	}
	// The file's rules replace the defaults; the label of the rest from
	// the environment, the flag over it.
	rules := "sensitivity:\n  - name: exports\n    kind: bucket\n    pattern: acme-exports\n    label: Confidential\n  - name: notes\n    kind: file\n    pattern: '**/notes/*.txt'\n    label: restricted\n"
	t.Setenv("VIGIL_SENSITIVITY_DEFAULT", "public")
	cfg, err = load(t, rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind, name, container string
		want                  incident.Sensitivity
	}{
		{incident.DataObject, "a.csv", "acme-exports", incident.Confidential},
		{incident.DataFile, "/home/x/notes/a.txt", "", incident.Restricted},
		{incident.DataTable, "dbo.payment_cards", "", incident.Public}, // the defaults are gone
	} {
		if got, _ := cfg.classifier.Classify(tc.kind, tc.name, tc.container); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.kind, tc.name, got, tc.want)
		}
	}
	cfg, err = load(t, rules, "--sensitivity-default", "restricted")
	if err != nil || cfg.classifier.Default() != incident.Restricted {
		t.Errorf("flag over environment: %v", err)
	}
	if _, err := load(t, "", "--sensitivity-default", "top-secret"); err == nil || !strings.Contains(err.Error(), `default sensitivity "top-secret"`) {
		t.Errorf("a bad default label: %v", err)
	}
	// Bad rules stop the start, naming the rule.
	for yaml, want := range map[string]string{
		"sensitivity:\n  - name: x\n    kind: file\n    pattern: '*.{a'\n    label: public\n": "setting sensitivity: sensitivity rule x: pattern",
		"sensitivity:\n  - name: y\n    kind: file\n    pattern: '*.a'\n    label: secret\n":  `sensitivity rule y: label "secret"`,
		"sensitivity:\n  - name: z\n    kind: blob\n    pattern: '*.a'\n    label: public\n":  `sensitivity rule z: kind "blob"`,
	} {
		if _, err := load(t, yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", yaml, err, want)
		}
	}
}

func TestEvidenceToRead(t *testing.T) {
	ev := func(n int, prefix string) []alert.Evidence {
		var out []alert.Evidence
		for i := range n {
			out = append(out, alert.Evidence{EventID: fmt.Sprintf("%s%d", prefix, i)})
		}
		return out
	}
	alerts := []alert.Alert{{ID: "brute", Evidence: ev(100, "b")}, {ID: "sql", Evidence: ev(2, "s")}, {ID: "none"}}
	var got []string
	for _, p := range evidenceToRead(alerts, 6) {
		got = append(got, p.AlertID+":"+p.EventID)
	}
	if want := []string{"brute:b0", "sql:s0", "brute:b1", "sql:s1", "brute:b2", "brute:b3"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q (each alert in turn)", got, want)
	}
	if n := len(evidenceToRead(alerts, 1000)); n != 102 {
		t.Errorf("all: %d", n)
	}
}

// fakeAssessStore is the store the assessment sees, in memory.
type fakeAssessStore struct {
	changes   []store.IncidentChange
	cursor    int64
	incidents map[string][]string // id → alert ids
	alerts    map[string]alert.Alert
	events    map[event.ID]store.StoredEvent
	set       map[string]incident.Assessment
	sets      int
	failAlert error
}

func (f *fakeAssessStore) IncidentChanges(_ context.Context, after int64, limit int) ([]store.IncidentChange, error) {
	var out []store.IncidentChange
	for _, c := range f.changes {
		if c.Seq > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}
func (f *fakeAssessStore) IncidentChangesSignal() <-chan struct{} { return make(chan struct{}) }
func (f *fakeAssessStore) ConsumerCursor(_ context.Context, name string) (int64, error) {
	if name != assessConsumer {
		return 0, fmt.Errorf("cursor %q", name)
	}
	return f.cursor, nil
}
func (f *fakeAssessStore) SetConsumerCursor(_ context.Context, _ string, seq int64) error {
	f.cursor = max(f.cursor, seq)
	return nil
}
func (f *fakeAssessStore) IncidentAlerts(_ context.Context, ws, id string) ([]string, error) {
	ids, ok := f.incidents[id]
	if !ok || ws != "acme" {
		return nil, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	return ids, nil
}
func (f *fakeAssessStore) AlertsByID(_ context.Context, _ string, ids []string) (map[string]alert.Alert, error) {
	if f.failAlert != nil {
		return nil, f.failAlert
	}
	out := map[string]alert.Alert{}
	for _, id := range ids {
		if a, ok := f.alerts[id]; ok {
			out[id] = a
		}
	}
	return out, nil
}
func (f *fakeAssessStore) EventsByID(_ context.Context, _ string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	if f.failAlert != nil {
		return nil, f.failAlert
	}
	out := map[event.ID]store.StoredEvent{}
	for _, id := range ids {
		if se, ok := f.events[id]; ok {
			out[id] = se
		}
	}
	return out, nil
}
func (f *fakeAssessStore) SetAssessment(_ context.Context, _, id string, a incident.Assessment) error {
	f.set[id] = a
	f.sets++
	return nil
}

func TestAssessorStep(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 46, 0, 0, time.UTC)
	stmt := func(id event.ID, sql string) store.StoredEvent {
		raw := fmt.Sprintf(`{"event_time":"2026-11-30T10:46:12.5000000","action_id":"BCM ","succeeded":true,"server_principal_name":"shop_app","server_instance_name":"SQL-SHOP-01","database_name":"shop","statement":%q,"client_ip":"203.0.113.45","response_rows":48210}`, sql)
		se := store.StoredEvent{ID: id, Workspace: "acme", Source: "sql-shop-01", Format: "mssql-audit", Time: t0, Raw: []byte(raw)}
		se.Common[event.DBStatement] = sql
		return se
	}
	e1, e2, e3, gone := event.NewID(), event.NewID(), event.NewID(), event.NewID()
	broken := stmt(e3, "DELETE FROM dbo.orders")
	broken.Raw = []byte("not json") // no longer decodes: its stored common fields still say what it did
	f := &fakeAssessStore{
		incidents: map[string][]string{"inc1": {"a-bulk", "a-missing"}, "inc-merged": {}},
		alerts: map[string]alert.Alert{
			"a-bulk": {ID: "a-bulk", Rule: alert.RuleRef{Title: "Large Result Set Sent to an Internet Address", Outcome: "success"},
				Tactics: []string{"collection", "exfiltration"}, FirstSeen: t0, LastSeen: t0,
				Entities: []alert.Entity{{Type: "database", Value: "shop"}, {Type: "ip", Value: "203.0.113.45"}},
				Origin:   &alert.Origin{IP: "203.0.113.45"},
				Evidence: []alert.Evidence{{EventID: e1.String()}, {EventID: e2.String()}, {EventID: e3.String()}, {EventID: gone.String()}, {File: "x.log", Line: 3}}},
		},
		events: map[event.ID]store.StoredEvent{
			e1: stmt(e1, "SELECT customer_id, card_number, cvv FROM dbo.payment_cards"),
			e2: stmt(e2, "SELECT * FROM dbo.customers"),
			e3: broken,
		},
		set: map[string]incident.Assessment{},
		changes: []store.IncidentChange{
			{Seq: 1, Workspace: "acme", IncidentID: "inc1", Kind: store.IncidentCreated, Actor: "vigil:correlation"},
			{Seq: 2, Workspace: "acme", IncidentID: "inc1", Kind: store.IncidentUpdated, Actor: "vigil:correlation"},
			{Seq: 3, Workspace: "acme", IncidentID: "inc1", Kind: store.IncidentUpdated, Actor: assessActor}, // its own write
			{Seq: 4, Workspace: "acme", IncidentID: "inc2", Kind: store.IncidentStaged, Actor: "user:ann"},   // a stage move
			{Seq: 5, Workspace: "acme", IncidentID: "inc-gone", Kind: store.IncidentCreated},                 // deleted since
			{Seq: 6, Workspace: "acme", IncidentID: "inc-merged", Kind: store.IncidentMerged},                // no alerts left
		},
	}
	a := &assessor{store: f, cls: incident.DefaultClassifier(), log: slog.New(slog.DiscardHandler), every: -1}
	n, err := a.step(context.Background(), 100)
	if err != nil || n != 6 || f.cursor != 6 {
		t.Fatalf("step: %d, %v, cursor %d", n, err, f.cursor)
	}
	if f.sets != 1 {
		t.Errorf("%d assessments written, want 1 (inc1 once)", f.sets)
	}
	as := f.set["inc1"]
	var data []string
	for _, d := range as.DataAccessed {
		if d.Kind == incident.DataTable {
			data = append(data, fmt.Sprintf("%s %s %s %s", d.Sensitivity, d.Name, d.Action, d.EventID))
		}
	}
	want := []string{
		"restricted dbo.payment_cards read " + e1.String(),
		"confidential dbo.customers read " + e2.String(),
		"confidential dbo.orders delete " + e3.String(),
	}
	if !slices.Equal(data, want) {
		t.Errorf("data accessed:\n got  %q\n want %q", data, want)
	}
	if len(as.Compromised) == 0 || as.Compromised[0].Entity.Value != "shop" {
		t.Errorf("compromised %+v", as.Compromised)
	}
	if as.Nature.AlertTypes[0] != "Large Result Set Sent to an Internet Address" || as.Origin.Addresses[0] != "203.0.113.45" {
		t.Errorf("nature %+v, origin %+v", as.Nature, as.Origin)
	}

	// Nothing new: nothing done.
	if n, err := a.step(context.Background(), 100); n != 0 || err != nil || f.sets != 1 {
		t.Errorf("idle step: %d, %v, %d writes", n, err, f.sets)
	}
	// A store failure leaves the cursor where it was, to be retried.
	f.changes = append(f.changes, store.IncidentChange{Seq: 7, Workspace: "acme", IncidentID: "inc1", Kind: store.IncidentReopened})
	f.failAlert = errors.New("database is locked")
	if _, err := a.step(context.Background(), 100); err == nil || !strings.Contains(err.Error(), "database is locked") || f.cursor != 6 {
		t.Errorf("failure: %v, cursor %d", err, f.cursor)
	}
	f.failAlert = nil
	if n, err := a.step(context.Background(), 100); n != 1 || err != nil || f.cursor != 7 || f.sets != 2 {
		t.Errorf("retry: %d, %v, cursor %d, %d writes", n, err, f.cursor, f.sets)
	}
}

// TestAssessorInterval: an incident that changes again within the
// interval is assessed once the interval has passed, not on each change.
func TestAssessorInterval(t *testing.T) {
	f := &fakeAssessStore{
		incidents: map[string][]string{"inc1": {"a1"}},
		alerts:    map[string]alert.Alert{"a1": {ID: "a1", Rule: alert.RuleRef{Title: "x"}}},
		set:       map[string]incident.Assessment{},
		changes: []store.IncidentChange{
			{Seq: 1, Workspace: "acme", IncidentID: "inc1", Kind: store.IncidentCreated, Actor: "vigil:correlation"},
		},
	}
	clock := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	a := &assessor{store: f, cls: incident.DefaultClassifier(), log: slog.New(slog.DiscardHandler),
		every: 10 * time.Second, now: func() time.Time { return clock }}
	ctx := context.Background()
	if _, err := a.step(ctx, 100); err != nil || f.sets != 1 {
		t.Fatalf("first change: %v, %d assessments", err, f.sets)
	}
	for seq := int64(2); seq <= 4; seq++ {
		clock = clock.Add(time.Second)
		f.changes = append(f.changes, store.IncidentChange{Seq: seq, Workspace: "acme", IncidentID: "inc1", Kind: store.IncidentUpdated, Actor: "vigil:correlation"})
		if _, err := a.step(ctx, 100); err != nil || f.sets != 1 || f.cursor != seq {
			t.Fatalf("change %d within the interval: %v, %d assessments, cursor %d", seq, err, f.sets, f.cursor)
		}
	}
	next, err := a.duePending(ctx)
	if err != nil || f.sets != 1 || !next.Equal(clock.Add(7*time.Second)) {
		t.Fatalf("before the interval: %v, %d assessments, next %s", err, f.sets, next)
	}
	clock = clock.Add(7 * time.Second)
	if next, err := a.duePending(ctx); err != nil || f.sets != 2 || !next.IsZero() {
		t.Fatalf("after the interval: %v, %d assessments, next %s", err, f.sets, next)
	}
}

func TestAssessOffline(t *testing.T) {
	a := &alert.Alert{ID: "bulk", Rule: alert.RuleRef{Title: "Large Result Set", Outcome: "success"}, Tactics: []string{"collection"},
		Entities: []alert.Entity{{Type: "database", Value: "shop"}}}
	ev := incident.EvidenceEvent{AlertID: "bulk", EventID: "x.jsonl:3", Fields: incident.FieldMap{"db.statement": {"SELECT * FROM dbo.payment_cards"}}}
	as := assessOffline([]*alert.Alert{a}, []incident.EvidenceEvent{ev}, nil)
	if len(as.DataAccessed) != 1 || as.DataAccessed[0].Sensitivity != incident.Restricted || len(as.Compromised) != 1 {
		t.Errorf("%+v", as)
	}
	cls := incident.MustClassifier(nil, incident.Public)
	if as := assessOffline([]*alert.Alert{a}, []incident.EvidenceEvent{ev}, cls); as.DataAccessed[0].Sensitivity != incident.Public {
		t.Errorf("the classifier given is not used: %+v", as.DataAccessed)
	}
}

// askingStore is fakeAssessStore counting the evidence events asked for.
type askingStore struct {
	*fakeAssessStore
	asked []event.ID
}

func (s *askingStore) EventsByID(ctx context.Context, ws string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	s.asked = append(s.asked, ids...)
	return s.fakeAssessStore.EventsByID(ctx, ws, ids)
}

// TestAssessorKeepsEvidence: an incident assessed again asks the store
// only for evidence its last assessment did not read (an event past
// retention is not asked for again), and the evidence kept is bounded,
// the incidents assessed longest ago giving theirs up first.
func TestAssessorKeepsEvidence(t *testing.T) {
	f := &fakeAssessStore{incidents: map[string][]string{}, alerts: map[string]alert.Alert{},
		events: map[event.ID]store.StoredEvent{}, set: map[string]incident.Assessment{}}
	// An incident of one alert with n stored evidence events.
	addIncident := func(inc string, n int) []event.ID {
		var ids []event.ID
		var ev []alert.Evidence
		for range n {
			id := event.NewID()
			ids = append(ids, id)
			f.events[id] = store.StoredEvent{ID: id, Workspace: "acme", Source: "s", Format: "json", Raw: []byte(`{}`)}
			ev = append(ev, alert.Evidence{EventID: id.String()})
		}
		f.incidents[inc] = []string{"a-" + inc}
		f.alerts["a-"+inc] = alert.Alert{ID: "a-" + inc, Rule: alert.RuleRef{Title: "x"}, Evidence: ev}
		return ids
	}
	s := &askingStore{fakeAssessStore: f}
	clock := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	a := &assessor{store: s, cls: incident.DefaultClassifier(), log: slog.New(slog.DiscardHandler), every: -1,
		now: func() time.Time { return clock }}
	ctx := context.Background()
	assess := func(inc string) []event.ID {
		t.Helper()
		clock = clock.Add(time.Second)
		s.asked = nil
		if err := a.assess(ctx, "acme", inc); err != nil {
			t.Fatal(err)
		}
		return s.asked
	}

	ids := addIncident("big", 3)
	delete(f.events, ids[2]) // past retention
	if got := assess("big"); len(got) != 3 {
		t.Fatalf("first assessment asked for %d events, want 3", len(got))
	}
	// Grown by one event: only that one is asked for.
	more := event.NewID()
	f.events[more] = store.StoredEvent{ID: more, Workspace: "acme", Source: "s", Format: "json", Raw: []byte(`{}`)}
	al := f.alerts["a-big"]
	al.Evidence = append(al.Evidence, alert.Evidence{EventID: more.String()})
	f.alerts["a-big"] = al
	if got := assess("big"); !slices.Equal(got, []event.ID{more}) {
		t.Fatalf("re-assessment asked for %v, want only %v", got, more)
	}
	if got := assess("big"); len(got) != 0 {
		t.Fatalf("unchanged: asked for %v", got)
	}

	// Other incidents fill the memory: the one assessed longest ago
	// gives its evidence up, the last assessed keeps it.
	per := maxAssessEvidence
	for i := range maxRenderedEvidence / per {
		addIncident(fmt.Sprintf("other-%d", i), per)
		assess(fmt.Sprintf("other-%d", i))
	}
	if a.keptN > maxRenderedEvidence {
		t.Errorf("%d evidence events kept, more than %d", a.keptN, maxRenderedEvidence)
	}
	if _, ok := a.kept[[2]string{"acme", "big"}]; ok {
		t.Errorf("the incident assessed longest ago kept its evidence")
	}
	last := fmt.Sprintf("other-%d", maxRenderedEvidence/per-1)
	if got := assess(last); len(got) != 0 {
		t.Errorf("the incident assessed last asked again for %d events", len(got))
	}
	if got := assess("big"); len(got) != 4 {
		t.Errorf("after giving its evidence up: asked for %d events, want all 4", len(got))
	}
}
