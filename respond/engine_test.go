package respond

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// fakeStore is the store as the engine sees it: alerts, incidents (the
// workflow's ChangeIncident reduced to owner, tags and severity), the two
// streams, cursors and decisions.
type fakeStore struct {
	mu        sync.Mutex
	alerts    map[string]alert.Alert
	incidents map[string]incident.Incident
	alertInc  map[string]string
	timeline  []incident.TimelineEntry
	changes   []store.AlertChange
	incCh     []store.IncidentChange
	cursors   map[string]int64
	decisions []store.Decision
	actors    []string
	sig       chan struct{}
}

func newFake() *fakeStore {
	return &fakeStore{alerts: map[string]alert.Alert{}, incidents: map[string]incident.Incident{}, alertInc: map[string]string{},
		cursors: map[string]int64{}, sig: make(chan struct{})}
}

func (f *fakeStore) Alert(_ context.Context, ws, id string) (alert.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.alerts[id]
	if !ok || a.Workspace != ws {
		return a, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	return a, nil
}

func (f *fakeStore) AlertChanges(_ context.Context, after int64, n int) ([]store.AlertChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.AlertChange
	for _, c := range f.changes {
		if c.Seq > after && len(out) < n {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeStore) AlertChangesSignal() <-chan struct{}    { return f.sig }
func (f *fakeStore) IncidentChangesSignal() <-chan struct{} { return f.sig }

func (f *fakeStore) ConsumerCursor(_ context.Context, name string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursors[name], nil
}

func (f *fakeStore) SetConsumerCursor(_ context.Context, name string, seq int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cursors[name] = max(f.cursors[name], seq)
	return nil
}

func (f *fakeStore) Incident(_ context.Context, ws, id string) (incident.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inc, ok := f.incidents[id]
	if !ok || inc.Workspace != ws {
		return inc, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	return inc, nil
}

func (f *fakeStore) IncidentOfAlerts(_ context.Context, _ string, ids []string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if inc := f.alertInc[id]; inc != "" {
			out[id] = inc
		}
	}
	return out, nil
}

func (f *fakeStore) ChangeIncident(_ context.Context, ws, id string, ch incident.Change, actor string) (incident.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inc, ok := f.incidents[id]
	if !ok {
		return inc, store.ErrNotFound
	}
	if ch.Owner != nil {
		inc.Owner = *ch.Owner
	}
	for _, t := range ch.AddTags {
		if !slices.Contains(inc.Tags, t) {
			inc.Tags = append(inc.Tags, t)
		}
	}
	if ch.Severity != nil {
		inc.Severity = *ch.Severity
	}
	f.incidents[id] = inc
	f.actors = append(f.actors, actor)
	return inc, nil
}

func (f *fakeStore) AppendTimeline(_ context.Context, ws, id string, entries []incident.TimelineEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range entries {
		if e.IncidentID != id {
			return fmt.Errorf("entry of %s appended to %s", e.IncidentID, id)
		}
	}
	f.timeline = append(f.timeline, entries...)
	return nil
}

func (f *fakeStore) IncidentChanges(_ context.Context, after int64, n int) ([]store.IncidentChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.IncidentChange
	for _, c := range f.incCh {
		if c.Seq > after && len(out) < n {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeStore) CreateDecision(_ context.Context, d store.Decision) (store.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := store.CheckDecision(&d); err != nil {
		return d, err
	}
	for _, o := range f.decisions {
		if o.Kind == d.Kind && o.Value == d.Value {
			return d, fmt.Errorf("decision %s: %w", o.ID, store.ErrConflict)
		}
	}
	d.ID = fmt.Sprintf("d%d", len(f.decisions)+1)
	f.decisions = append(f.decisions, d)
	return d, nil
}

func (f *fakeStore) entries() []incident.TimelineEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]incident.TimelineEntry(nil), f.timeline...)
}

func TestEngineAlertRuleActsAndFailureIsOnTheTimeline(t *testing.T) {
	h := &hook{statuses: []int{500, 500}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	f := newFake()
	f.alerts["a1"] = alert.Alert{ID: "a1", Workspace: "acme", Severity: alert.High, Rule: alert.RuleRef{ID: "ssh_brute_force", Title: "SSH brute force"},
		Entities: []alert.Entity{{Type: "ip", Value: "203.0.113.7"}, {Type: "account", Value: "root"}, {Type: "host", Value: "bastion"}},
		Origin:   &alert.Origin{IP: "203.0.113.7"}}
	f.alerts["a2"] = alert.Alert{ID: "a2", Workspace: "acme", Severity: alert.Low, Rule: alert.RuleRef{ID: "ssh_brute_force"}}
	f.incidents["i1"] = incident.Incident{ID: "i1", Workspace: "acme", Title: "Attack on bastion", Tags: []string{}}
	f.alertInc["a1"] = "i1"
	f.changes = []store.AlertChange{
		{Seq: 1, Workspace: "acme", AlertID: "a1", Kind: store.ChangeCreated},
		{Seq: 2, Workspace: "acme", AlertID: "a1", Kind: store.ChangeUpdated}, // not a trigger
		{Seq: 3, Workspace: "acme", AlertID: "a2", Kind: store.ChangeCreated}, // below min-severity
	}
	e, err := NewEngine(EngineConfig{Alerts: f, Incidents: f, Decisions: f, Now: func() time.Time { return t0 }, Config: Config{
		Playbooks: []Playbook{{Name: "hook", Type: PlaybookWebhook, URL: srv.URL, Attempts: 2, Backoff: time.Millisecond}},
		Automation: []Rule{{Name: "brute", Trigger: TriggerAlertCreated, When: Conditions{MinSeverity: "high", Rules: []string{"ssh_brute_force"}},
			Actions: []Action{{Assign: "alice"}, {Tag: "brute-force"}, {Playbook: "hook"},
				{Block: &Block{Kind: "ip", Duration: 4 * time.Hour}}, {Block: &Block{Kind: "range", Duration: time.Hour}}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _ := f.ConsumerCursor(ctx, AlertsConsumer)
		if c == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor at %d, want 3", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done

	inc := f.incidents["i1"]
	if inc.Owner != "alice" || !slices.Contains(inc.Tags, "brute-force") {
		t.Errorf("incident after the rule: owner %q tags %v", inc.Owner, inc.Tags)
	}
	for _, a := range f.actors {
		if a != "vigil:automation:brute" {
			t.Errorf("changed as %q", a)
		}
	}
	if len(h.got()) != 2 {
		t.Errorf("webhook posted %d times, want 2 (both failing)", len(h.got()))
	}
	var failed, head *incident.TimelineEntry
	var decisions []string
	for _, en := range f.entries() {
		switch en.Kind {
		case incident.TimelinePlaybook:
			failed = &en
		case incident.TimelineAutomation:
			head = &en
		case incident.TimelineDecision:
			decisions = append(decisions, en.Summary)
		}
	}
	if failed == nil || !failed.Failed || !strings.Contains(failed.Summary, "failed after 2 attempts") || !strings.Contains(failed.Text, "500") {
		t.Errorf("playbook timeline entry = %+v, want a failure after 2 attempts with the answer", failed)
	}
	if head == nil || head.Actor != "vigil:automation:brute" || !strings.Contains(head.Summary, "assign alice, tag brute-force, playbook hook") {
		t.Errorf("automation timeline entry = %+v", head)
	}
	if len(f.decisions) != 2 || f.decisions[0].Value != "203.0.113.7" || f.decisions[1].Value != "203.0.113.0/24" ||
		f.decisions[0].IncidentID != "i1" || f.decisions[0].CreatedBy != "vigil:automation:brute" || !f.decisions[0].Expires.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("decisions = %+v", f.decisions)
	}
	if len(decisions) != 2 || !strings.HasPrefix(decisions[0], "blocked ip 203.0.113.7 for 4h0m0s") {
		t.Errorf("decision timeline entries = %q", decisions)
	}
	rs, ps := e.Status("acme")
	if rs[0].Fired != 1 || ps[0].Runs != 1 || ps[0].Failures != 1 || ps[0].LastOK {
		t.Errorf("status = %+v %+v", rs, ps)
	}
	if rs, ps := e.Status("other"); rs[0].Fired != 0 || ps[0].Runs != 0 {
		t.Errorf("another workspace's status = %+v %+v", rs, ps)
	}

	// A change delivered again acts again, but blocks nothing twice.
	if err := e.HandleAlerts(context.Background(), f.changes[:1]); err != nil {
		t.Fatal(err)
	}
	if len(f.decisions) != 2 {
		t.Errorf("decisions after a redelivery = %d, want 2", len(f.decisions))
	}
}

func TestEngineIncidentRulesAndThrottledNotifications(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	f := newFake()
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e, err := NewEngine(EngineConfig{Alerts: f, Incidents: f, Decisions: f, Now: clock, Config: Config{
		Playbooks: []Playbook{{Name: "slack", Type: PlaybookWebhook, URL: srv.URL, Template: "slack"}},
		Automation: []Rule{
			{Name: "critical-to-bob", Trigger: TriggerIncidentCreated, When: Conditions{MinPriority: 70}, Actions: []Action{{Assign: "bob"}, {Severity: "critical"}}},
			{Name: "stabilized", Trigger: TriggerIncidentStage, Stage: incident.StageStabilize, Actions: []Action{{Tag: "contained"}}},
		},
		Notifications: []Notification{{Name: "soc", Playbook: "slack", MinPriority: 50, Stages: []incident.Stage{incident.StageClose}, Max: 2, Window: time.Minute}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var changes []store.IncidentChange
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("i%d", i)
		f.incidents[id] = incident.Incident{ID: id, Workspace: "acme", Title: "attack " + id, Priority: 40 + 10*i, Severity: alert.Medium, Tags: []string{}}
		changes = append(changes, store.IncidentChange{Seq: int64(i), Workspace: "acme", IncidentID: id, Kind: store.IncidentCreated})
	}
	changes = append(changes,
		store.IncidentChange{Seq: 5, Workspace: "acme", IncidentID: "i1", Kind: store.IncidentStaged, Stage: incident.StageStabilize, Actor: "key:k1"},
		store.IncidentChange{Seq: 6, Workspace: "acme", IncidentID: "i2", Kind: store.IncidentStaged, Stage: incident.StageAssess, Actor: "key:k1"})
	e.parallel = 1 // in order, for the throttle's sake
	if err := e.HandleIncidents(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	// i3 (70) and i4 (80) get bob and critical; i1 (50) does not.
	for id, want := range map[string]string{"i1": "", "i2": "", "i3": "bob", "i4": "bob"} {
		inc := f.incidents[id]
		if inc.Owner != want || (want != "") != (inc.Severity == alert.Critical) {
			t.Errorf("%s: owner %q severity %s", id, inc.Owner, inc.Severity)
		}
	}
	if !slices.Contains(f.incidents["i1"].Tags, "contained") || slices.Contains(f.incidents["i2"].Tags, "contained") {
		t.Errorf("stage rule: i1 tags %v, i2 tags %v", f.incidents["i1"].Tags, f.incidents["i2"].Tags)
	}
	// i1..i4 all reach priority 50; the stage moves are not to close:
	// four messages, two sent, two held.
	if n := len(h.got()); n != 2 {
		t.Fatalf("%d notifications sent, want 2 (max 2 a window)", n)
	}
	e.Flush(context.Background())
	if n := len(h.got()); n != 2 {
		t.Fatalf("a flush inside the window sent %d, want none", n-2)
	}
	mu.Lock()
	now = t0.Add(time.Minute)
	mu.Unlock()
	e.Flush(context.Background())
	bodies := h.got()
	if len(bodies) != 3 {
		t.Fatalf("after the window %d messages, want 3 (one summary)", len(bodies))
	}
	var s struct{ Text string }
	if err := json.Unmarshal(bodies[2], &s); err != nil || !strings.Contains(s.Text, "*2 more vigil notifications*") ||
		!strings.Contains(s.Text, "attack i3") {
		t.Errorf("summary = %s (%v)", bodies[2], err)
	}
	var notes int
	for _, en := range f.entries() {
		if en.Actor == "vigil:notify:soc" && !en.Failed {
			notes++
		}
	}
	if notes != 2 {
		t.Errorf("%d notification entries on timelines, want 2", notes)
	}
}
