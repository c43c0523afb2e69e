package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/respond"
	"github.com/vigil-sec/vigil/store"
)

// respondStore is what the engine's tests need of a store: commits, the
// alert stream and cursors, decisions. It is the suite's store (SQLite,
// or PostgreSQL with VIGIL_TEST_STORE=postgres: internal/teststore).
type respondStore interface {
	store.Store
	store.Decisions
	respond.Alerts
}

// respondIncidentStore is respondStore with the store's incidents.
type respondIncidentStore interface {
	respondStore
	store.Incidents
	respond.Incidents
}

var respondT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// postSink keeps the bodies posted to it.
type postSink struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (s *postSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, b)
	s.mu.Unlock()
}

func (s *postSink) got() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// commitRespondAlert commits one batch whose signal starts an alert of rule
// from addr against account.
func commitRespondAlert(t *testing.T, db store.Store, rule, addr, account string) {
	t.Helper()
	e := store.StoredEvent{ID: event.NewID(), Workspace: "acme", Source: "s", Format: "json", Time: respondT0, Received: respondT0, Raw: []byte(`{}`)}
	ents := []alert.Entity{{Type: alert.EntityIP, Value: addr}, {Type: alert.EntityAccount, Value: account}}
	b := &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "s", Format: "json", Received: respondT0, Events: []store.StoredEvent{e},
		Signals: []alert.Signal{{Workspace: "acme", Type: "signature", Rule: alert.RuleRef{ID: rule, Title: "SSH brute force"},
			Severity: alert.High, Entities: ents, DedupKey: alert.DedupKey("acme", rule, ents),
			Evidence: alert.Evidence{EventID: e.ID.String(), Time: respondT0}, Origin: &alert.Origin{IP: addr}}}}
	if _, err := db.Commit(context.Background(), []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
}

// The engine on the embedded store: a committed alert reaches the rule
// through the alert stream, the webhook is posted, the decision is in the
// store; a restart resumes after the cursor and acts on nothing twice.
func TestRespondEngineOnTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a real store")
	}
	db := teststore.Open[respondStore](t)
	h := &postSink{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cfg := respond.Config{
		Playbooks: []respond.Playbook{{Name: "hook", Type: respond.PlaybookWebhook, URL: srv.URL}},
		Automation: []respond.Rule{{Name: "brute", Trigger: respond.TriggerAlertCreated, When: respond.Conditions{Rules: []string{"ssh_brute"}},
			Actions: []respond.Action{{Playbook: "hook"}, {Block: &respond.Block{Kind: "ip", Duration: time.Hour}}}}},
	}
	run := func(wantPosts int) {
		t.Helper()
		e, err := respond.NewEngine(respond.EngineConfig{Config: cfg, Alerts: db, Decisions: db, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.Run(ctx); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for len(h.got()) < wantPosts && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // room for a post too many
		cancel()
		<-done
		if n := len(h.got()); n != wantPosts {
			t.Fatalf("%d webhook posts, want %d", n, wantPosts)
		}
	}
	commitRespondAlert(t, db, "ssh_brute", "203.0.113.7", "root")
	commitRespondAlert(t, db, "other_rule", "203.0.113.8", "root")
	run(1)
	var p respond.Payload
	if err := json.Unmarshal(h.got()[0], &p); err != nil || p.Kind != "alert" || p.Alert == nil || p.Alert.Rule.ID != "ssh_brute" {
		t.Fatalf("posted %s (%v)", h.got()[0], err)
	}
	ds, _, err := db.ListDecisions(context.Background(), "acme", store.DecisionQuery{Active: true, Now: time.Now()})
	if err != nil || len(ds) != 1 || ds[0].Value != "203.0.113.7" || ds[0].CreatedBy != "vigil:automation:brute" {
		t.Fatalf("decisions %+v, %v", ds, err)
	}
	if c, _ := db.ConsumerCursor(context.Background(), respond.AlertsConsumer); c < 2 {
		t.Errorf("cursor %d, want past both changes", c)
	}
	// A restart acts on what came since, not again on the first alert.
	commitRespondAlert(t, db, "ssh_brute", "198.51.100.9", "admin")
	run(2)
	ds, _, _ = db.ListDecisions(context.Background(), "acme", store.DecisionQuery{Active: true, Now: time.Now()})
	if len(ds) != 2 {
		t.Fatalf("decisions after the restart: %+v", ds)
	}
}

// The engine on the store's incidents: an incident made by hand reaches
// an incident_created rule through the incident stream; the rule's
// assignment goes through the workflow as the rule, its playbook's failure
// and its block are on the incident's timeline, and a stage change is
// notified. It needs a store that keeps incidents (store.Incidents):
// teststore.Open names what a store lacks of it.
func TestRespondEngineOnStoreIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a real store")
	}
	db := teststore.Open[respondIncidentStore](t)
	ctx := context.Background()
	commitRespondAlert(t, db, "ssh_brute", "203.0.113.7", "root")
	als, _, err := db.Alerts(ctx, "acme", store.AlertQuery{})
	if err != nil || len(als) != 1 {
		t.Fatalf("alerts %v, %v", als, err)
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	defer failing.Close()
	sink := &postSink{}
	notify := httptest.NewServer(sink)
	defer notify.Close()
	cfg := respond.Config{
		Playbooks: []respond.Playbook{
			{Name: "ticket", Type: respond.PlaybookWebhook, URL: failing.URL, Attempts: 2, Backoff: time.Millisecond},
			{Name: "chat", Type: respond.PlaybookWebhook, URL: notify.URL, Template: "teams"},
		},
		Automation: []respond.Rule{{Name: "triage", Trigger: respond.TriggerIncidentCreated,
			Actions: []respond.Action{{Assign: "alice"}, {Playbook: "ticket"}, {Block: &respond.Block{Kind: "account", Duration: time.Hour}}}}},
		Notifications: []respond.Notification{{Name: "soc", Playbook: "chat"}},
	}
	e, err := respond.NewEngine(respond.EngineConfig{Config: cfg, Alerts: db, Incidents: db, Decisions: db, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	inc, err := db.CreateIncident(ctx, "acme", "Brute force on bastion", []string{als[0].ID}, "key:k1")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := db.Incident(ctx, "acme", inc.ID)
		if got.Owner == "alice" && len(sink.got()) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("incident %+v, %d notifications", got, len(sink.got()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The timeline is written after the rule's last action: wait for it.
	var entries []string
	var failed bool
	for time.Now().Before(deadline) {
		tl, _, err := db.Timeline(ctx, "acme", inc.ID, store.TimelineQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		entries, failed = nil, false
		for _, en := range tl {
			entries = append(entries, en.Kind+" "+en.Actor+": "+en.Summary)
			if en.Kind == "playbook" && en.Actor == "vigil:automation:triage" && en.Failed {
				failed = true
			}
		}
		if failed {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !failed {
		t.Fatalf("no failed playbook entry on the timeline: %q", entries)
	}
	ds, _, _ := db.ListDecisions(ctx, "acme", store.DecisionQuery{Active: true, Now: time.Now()})
	if len(ds) != 1 || ds[0].Value != "root" || ds[0].IncidentID != inc.ID {
		t.Errorf("decisions %+v", ds)
	}
	var card map[string]string
	if err := json.Unmarshal(sink.got()[0], &card); err != nil || card["title"] != "New "+inc.Severity.String()+" incident: Brute force on bastion" {
		t.Errorf("notification %s (%v)", sink.got()[0], err)
	}
}
