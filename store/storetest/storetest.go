// Package storetest is the conformance suite of store.Store: every
// implementation (store/sqlite, store/postgres) runs it, so that vigil
// behaves the same on either. It checks what the contract's comments
// promise — commit idempotency, deduplication into alerts, paging,
// isolation between workspaces, retention, concurrent writers — through the
// interface alone; and the same of what `vigil serve` asks beside it
// (assets, baselines, rule state, the correlation journal, decisions,
// intelligence, noise control, threats, the databases index), each through
// its own interface, which a store under test must implement.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Opener opens an empty store for one test, with the default dedup window
// (24 h), and closes it when the test ends.
type Opener func(t *testing.T) store.Store

// T0 is the time the suite's events start at.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs every conformance test against stores that open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		f    func(*testing.T, store.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"Keys", testKeys},
		{"CommitIdempotent", testCommitIdempotent},
		{"Dedup", testDedup},
		{"EventPaging", testEventPaging},
		{"AlertPaging", testAlertPaging},
		{"AlertStatus", testAlertStatus},
		{"Isolation", testIsolation},
		{"Retention", testRetention},
		{"ConcurrentWriters", testConcurrentWriters},
		{"InvalidBatch", testInvalidBatch},
		{"EntitySearch", testEntitySearch},
		{"EventRange", testEventRange},
		{"Quarantine", testQuarantine},
		{"AuditRepeat", testAuditRepeat},
		{"Sources", testSources},
		{"KeyLifecycle", testKeyLifecycle},
		{"AlertFilters", testAlertFilters},
		{"ForgetBatches", testForgetBatches},
		{"Checks", testChecks},
		// Beyond store.Store: what `vigil serve` asks of a store.
		{"SourceControls", testSourceControls},
		{"Assets", testAssets},
		{"Baseline", testBaseline},
		{"BaselineConcurrentSaves", testBaselineConcurrentSaves},
		{"DisabledRules", testDisabledRules},
		{"CorrelationJournal", testCorrelationJournal},
		{"EventsByID", testEventsByID},
		{"DecisionStream", testDecisionStream},
		{"DecisionRefusals", testDecisionRefusals},
		{"PurgeDecisions", testPurgeDecisions},
		{"ExpireDecisions", testExpireDecisions},
		{"FeedSettingsAndStatus", testFeedSettingsAndStatus},
		{"ReplaceAndAddIndicators", testReplaceAndAddIndicators},
		{"PurgeIndicators", testPurgeIndicators},
		{"IntelIsolation", testIntelIsolation},
		{"ReplaceAtomic", testReplaceAtomic},
		{"Suppressions", testSuppressions},
		{"SuppressedHits", testSuppressedHits},
		{"FalsePositives", testFalsePositives},
		{"BulkStatus", testBulkStatus},
		{"ThreatQueries", testThreatQueries},
		{"AlertOriginFilters", testAlertOriginFilters},
		{"ThreatCountsAsScanning", testThreatCountsAsScanning},
		{"DatabaseIndex", testDatabaseIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open(t)) })
	}
}

var ctx = context.Background()

var ids = event.NewIDSource()

// Event makes an event of workspace ws and source src at time at, about
// host h, user u and source address ip, received a second later.
func Event(ws, src string, at time.Time, h, u, ip string) store.StoredEvent {
	e := store.StoredEvent{ID: ids.New(at), Workspace: ws, Source: src, Format: "json",
		Logsource: event.Logsource{Product: "linux", Service: "sshd"}, Time: at, Received: at.Add(time.Second),
		Raw: []byte(fmt.Sprintf(`{"host":%q,"user":%q,"ip":%q}`, h, u, ip))}
	e.Common[event.HostName] = h
	e.Common[event.UserName] = u
	e.Common[event.SourceIP] = ip
	return e
}

// Batch makes a batch of evs, received when its last event was.
func Batch(ws, src string, evs ...store.StoredEvent) *store.Batch {
	b := &store.Batch{ID: event.NewID(), Workspace: ws, Source: src, Format: "json", Received: T0, Events: evs}
	for _, e := range evs {
		if e.Received.After(b.Received) {
			b.Received = e.Received
		}
	}
	return b
}

// Signal makes a signal of rule about host h, evidenced by e.
func Signal(ws, rule string, sev alert.Severity, h string, e store.StoredEvent) alert.Signal {
	ents := []alert.Entity{{Type: alert.EntityHost, Value: h}}
	return alert.Signal{Workspace: ws, Type: "signature", Rule: alert.RuleRef{ID: rule, Title: "rule " + rule},
		Severity: sev, Tactics: []string{"credential_access"}, Techniques: []string{"T1110"}, Entities: ents,
		DedupKey: alert.DedupKey(ws, rule, ents), Evidence: alert.Evidence{EventID: e.ID.String(), Time: e.Time}}
}

func mustWorkspace(t *testing.T, s store.Store, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := s.CreateWorkspace(ctx, n, tenant.TierStandard); err != nil {
			t.Fatalf("CreateWorkspace(%s): %v", n, err)
		}
	}
}

func commit(t *testing.T, s store.Store, bs ...*store.Batch) int {
	t.Helper()
	n, err := s.Commit(ctx, bs)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return n
}

// allEvents pages through a workspace's events, limit a page.
func allEvents(t *testing.T, s store.Store, ws string, limit int) []store.StoredEvent {
	t.Helper()
	var out []store.StoredEvent
	q := store.EventQuery{Limit: limit}
	for page := 0; ; page++ {
		evs, next, err := s.Events(ctx, ws, q)
		if err != nil {
			t.Fatalf("Events page %d: %v", page, err)
		}
		if len(evs) > limit {
			t.Fatalf("Events page %d: %d events, more than the limit %d", page, len(evs), limit)
		}
		out = append(out, evs...)
		if next == "" {
			return out
		}
		if page > 10000 {
			t.Fatal("Events: paging does not end")
		}
		q.Cursor = next
	}
}

func allAlerts(t *testing.T, s store.Store, ws string, q store.AlertQuery) []alert.Alert {
	t.Helper()
	var out []alert.Alert
	for page := 0; ; page++ {
		as, next, err := s.Alerts(ctx, ws, q)
		if err != nil {
			t.Fatalf("Alerts page %d: %v", page, err)
		}
		out = append(out, as...)
		if next == "" {
			return out
		}
		if page > 10000 {
			t.Fatal("Alerts: paging does not end")
		}
		q.Cursor = next
	}
}

func testWorkspaces(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	if _, err := s.CreateWorkspace(ctx, "acme", tenant.TierFree); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second CreateWorkspace(acme): %v, want ErrConflict", err)
	}
	if _, err := s.Workspace(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Workspace(nope): %v, want ErrNotFound", err)
	}
	old, err := s.SetWorkspaceTier(ctx, "acme", tenant.TierFree, "cli")
	if err != nil || old.Tier != tenant.TierStandard {
		t.Fatalf("SetWorkspaceTier: %+v, %v; want the old tier standard", old, err)
	}
	w, err := s.Workspace(ctx, "acme")
	if err != nil || w.Tier != tenant.TierFree {
		t.Errorf("after SetWorkspaceTier: %+v, %v", w, err)
	}
	log, _, err := s.AuditLog(ctx, "acme", store.AuditQuery{Limit: 10})
	if err != nil || len(log) != 1 || log[0].Action != "workspace.tier" || log[0].Actor != "cli" {
		t.Errorf("audit after a tier change: %+v, %v; want one workspace.tier line by cli", log, err)
	}
	if _, err := s.SetWorkspaceTier(ctx, "acme", tenant.TierFree, "cli"); err != nil {
		t.Fatal(err)
	}
	if log, _, _ := s.AuditLog(ctx, "acme", store.AuditQuery{Limit: 10}); len(log) != 1 {
		t.Errorf("setting the tier a workspace has audited it: %d lines", len(log))
	}
	mustWorkspace(t, s, "beta")
	ws, err := s.Workspaces(ctx)
	if err != nil || len(ws) != 2 {
		t.Errorf("Workspaces: %+v, %v; want acme and beta", ws, err)
	}
}

func testKeys(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme", "beta")
	k := tenant.APIKey{ID: "k1", Workspace: "acme", Scope: tenant.ScopeAdmin, Name: "first", Prefix: "vgl_k1",
		Hash: []byte("hash-of-k1"), Created: T0}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.KeyByHash(ctx, []byte("hash-of-k1"))
	if err != nil || got.ID != "k1" || got.Workspace != "acme" || got.Scope != tenant.ScopeAdmin {
		t.Fatalf("KeyByHash: %+v, %v", got, err)
	}
	if _, err := s.KeyByHash(ctx, []byte("other")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KeyByHash(unknown): %v, want ErrNotFound", err)
	}
	if err := s.RevokeKey(ctx, "acme", "k1", T0); !errors.Is(err, store.ErrLastAdminKey) {
		t.Errorf("revoking the last admin key: %v, want ErrLastAdminKey", err)
	}
	if err := s.RevokeKey(ctx, "beta", "k1", T0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking another workspace's key: %v, want ErrNotFound", err)
	}
	if keys, err := s.Keys(ctx, "beta"); err != nil || len(keys) != 0 {
		t.Errorf("Keys(beta): %+v, %v; want none", keys, err)
	}
	k2 := k
	k2.ID, k2.Name, k2.Prefix, k2.Hash = "k2", "second", "vgl_k2", []byte("hash-of-k2")
	if err := s.CreateKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, "acme", "k1", T0.Add(time.Minute)); err != nil {
		t.Fatalf("revoking an admin key that has a sibling: %v", err)
	}
	got, err = s.KeyByHash(ctx, []byte("hash-of-k1"))
	if err != nil || got.Revoked == nil || !got.Revoked.Equal(T0.Add(time.Minute)) {
		t.Errorf("a revoked key reads %+v, %v; want it with its revocation time", got, err)
	}
}

func testCommitIdempotent(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	var bs []*store.Batch
	for i := range 3 {
		var evs []store.StoredEvent
		for j := range 10 {
			evs = append(evs, Event("acme", "ssh", T0.Add(time.Duration(i*10+j)*time.Second), fmt.Sprintf("h%d", j%2), "root", "203.0.113.9"))
		}
		b := Batch("acme", "ssh", evs...)
		for _, e := range evs {
			b.Signals = append(b.Signals, Signal("acme", "r1", alert.Medium, e.Common[event.HostName], e))
		}
		b.Rejected = 1
		bs = append(bs, b)
	}
	if n := commit(t, s, bs[0], bs[1]); n != 2 {
		t.Fatalf("first commit: %d new batches, want 2", n)
	}
	if n := commit(t, s, bs[1], bs[0]); n != 0 {
		t.Errorf("replayed batches: %d new, want 0", n)
	}
	if n := commit(t, s, bs[2], bs[0], bs[2]); n != 1 {
		t.Errorf("one new batch (twice) among replays: %d new, want 1", n)
	}
	if evs := allEvents(t, s, "acme", 1000); len(evs) != 30 {
		t.Errorf("%d events, want 30 (each batch once)", len(evs))
	}
	as := allAlerts(t, s, "acme", store.AlertQuery{Limit: 100})
	total := 0
	for _, a := range as {
		total += a.Count
	}
	if len(as) != 2 || total != 30 {
		t.Errorf("%d alerts counting %d signals, want 2 (one a host) counting 30", len(as), total)
	}
	src, err := s.Source(ctx, "acme", "ssh")
	if err != nil || src.Events != 30 || src.Rejected != 3 {
		t.Errorf("source counters %+v, %v; want 30 events and 3 rejected", src, err)
	}
}

func testDedup(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	at := func(d time.Duration) store.StoredEvent {
		return Event("acme", "ssh", T0.Add(d), "web1", "root", "198.51.100.7")
	}
	one := func(e store.StoredEvent, rule string) *store.Batch {
		b := Batch("acme", "ssh", e)
		b.Signals = []alert.Signal{Signal("acme", rule, alert.High, "web1", e)}
		return b
	}
	commit(t, s, one(at(0), "r1"))
	commit(t, s, one(at(time.Hour), "r1"))    // joins: last seen an hour before
	commit(t, s, one(at(30*time.Hour), "r1")) // 29 h after the last: a new alert
	commit(t, s, one(at(30*time.Hour), "r2")) // another rule: its own alert
	as := allAlerts(t, s, "acme", store.AlertQuery{Limit: 100, Sort: store.AlertSortLastSeen})
	if len(as) != 3 {
		t.Fatalf("%d alerts, want 3: %+v", len(as), as)
	}
	counts := map[int]int{}
	for _, a := range as {
		counts[a.Count]++
		if a.Count == 2 && (!a.FirstSeen.Equal(T0) || !a.LastSeen.Equal(T0.Add(time.Hour))) {
			t.Errorf("merged alert spans %v – %v, want %v – %v", a.FirstSeen, a.LastSeen, T0, T0.Add(time.Hour))
		}
	}
	if counts[2] != 1 || counts[1] != 2 {
		t.Errorf("alert counts %v, want one of 2 and two of 1", counts)
	}
	// A resolved alert takes no more signals: the next one opens anew.
	var merged alert.Alert
	for _, a := range as {
		if a.Count == 2 {
			merged = a
		}
	}
	if _, err := s.SetAlertStatus(ctx, "acme", merged.ID, alert.StatusResolved, "test"); err != nil {
		t.Fatal(err)
	}
	commit(t, s, one(at(2*time.Hour), "r1"))
	if a, _ := s.Alert(ctx, "acme", merged.ID); a.Count != 2 {
		t.Errorf("a resolved alert took a signal: count %d", a.Count)
	}
}

func testEventPaging(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	want := map[event.ID]bool{}
	for i := range 5 {
		var evs []store.StoredEvent
		for j := range 50 {
			// Ties in time on purpose: paging must not lose or repeat them.
			e := Event("acme", "ssh", T0.Add(time.Duration(j%7)*time.Second), "h", "u", "10.0.0.1")
			evs = append(evs, e)
			want[e.ID] = true
		}
		b := Batch("acme", "ssh", evs...)
		b.Received = T0.Add(time.Duration(i) * time.Minute)
		commit(t, s, b)
	}
	for _, limit := range []int{1, 7, 100, 1000} {
		got := allEvents(t, s, "acme", limit)
		seen := map[event.ID]bool{}
		for _, e := range got {
			if seen[e.ID] {
				t.Errorf("limit %d: event %s on two pages", limit, e.ID)
			}
			seen[e.ID] = true
			if !want[e.ID] {
				t.Errorf("limit %d: unknown event %s", limit, e.ID)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("limit %d: %d events paged, want %d", limit, len(seen), len(want))
		}
		if limit == 1 {
			continue
		}
		for i := 1; i < len(got); i++ {
			if got[i].Time.After(got[i-1].Time) {
				t.Errorf("limit %d: events not newest first at %d: %v after %v", limit, i, got[i].Time, got[i-1].Time)
				break
			}
		}
	}
	e, err := s.Event(ctx, "acme", allEvents(t, s, "acme", 1)[0].ID)
	if err != nil || len(e.Raw) == 0 || e.Common[event.HostName] != "h" {
		t.Errorf("Event: %+v, %v; want the event with its raw record and fields", e, err)
	}
}

func testAlertPaging(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	sevs := []alert.Severity{alert.Low, alert.Medium, alert.High, alert.Critical}
	var b = Batch("acme", "ssh")
	for i := range 30 {
		e := Event("acme", "ssh", T0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("host%02d", i), "u", "10.0.0.1")
		b.Events = append(b.Events, e)
		b.Signals = append(b.Signals, Signal("acme", "r1", sevs[i%4], e.Common[event.HostName], e))
	}
	commit(t, s, b)
	for _, sort := range []string{store.AlertSortPriority, store.AlertSortLastSeen} {
		got := allAlerts(t, s, "acme", store.AlertQuery{Limit: 7, Sort: sort})
		seen := map[string]bool{}
		for _, a := range got {
			if seen[a.ID] {
				t.Errorf("sort %s: alert %s on two pages", sort, a.ID)
			}
			seen[a.ID] = true
		}
		if len(seen) != 30 {
			t.Errorf("sort %s: %d alerts paged, want 30", sort, len(seen))
		}
	}
	n, err := s.CountAlerts(ctx, "acme", store.AlertQuery{Limit: 7})
	if err != nil || n != 30 {
		t.Errorf("CountAlerts: %d, %v; want 30", n, err)
	}
	high := alert.High
	q := store.AlertQuery{Limit: 100, MinSeverity: &high}
	got := allAlerts(t, s, "acme", q)
	if n, _ := s.CountAlerts(ctx, "acme", q); len(got) != 14 || n != 14 {
		t.Errorf("high or worse: %d listed, %d counted; want 14 (7 high, 7 critical)", len(got), n)
	}
	for _, a := range got {
		if a.Severity < alert.High {
			t.Errorf("severity filter kept a %v alert", a.Severity)
		}
	}
	last := allAlerts(t, s, "acme", store.AlertQuery{Limit: 100, Sort: store.AlertSortLastSeen})
	for i := 1; i < len(last); i++ {
		if last[i].LastSeen.After(last[i-1].LastSeen) {
			t.Fatalf("last_seen order broken at %d", i)
		}
	}
	ent := allAlerts(t, s, "acme", store.AlertQuery{Limit: 100, Entity: "HOST07"})
	if len(ent) != 1 || ent[0].Entities[0].Value != "host07" {
		t.Errorf("entity filter (host names compare without case): %+v", ent)
	}
}

func testAlertStatus(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	e := Event("acme", "ssh", T0, "h1", "u", "10.0.0.1")
	b := Batch("acme", "ssh", e)
	b.Signals = []alert.Signal{Signal("acme", "r1", alert.High, "h1", e)}
	commit(t, s, b)
	as := allAlerts(t, s, "acme", store.AlertQuery{Limit: 10})
	if len(as) != 1 || as[0].Status != alert.StatusNew {
		t.Fatalf("alerts %+v, want one new", as)
	}
	a, err := s.SetAlertStatus(ctx, "acme", as[0].ID, alert.StatusActive, "user:rob")
	if err != nil || a.Status != alert.StatusActive {
		t.Fatalf("SetAlertStatus(active): %+v, %v", a, err)
	}
	open := allAlerts(t, s, "acme", store.AlertQuery{Limit: 10, Status: []alert.Status{alert.StatusResolved}})
	if len(open) != 0 {
		t.Errorf("status filter resolved kept %d alerts", len(open))
	}
	if _, err := s.SetAlertStatus(ctx, "acme", "no-such-alert", alert.StatusActive, "user:rob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetAlertStatus of an unknown alert: %v, want ErrNotFound", err)
	}
}

func testIsolation(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme", "beta")
	e := Event("acme", "ssh", T0, "h1", "u", "10.0.0.1")
	b := Batch("acme", "ssh", e)
	b.Signals = []alert.Signal{Signal("acme", "r1", alert.High, "h1", e)}
	commit(t, s, b)
	if _, err := s.Event(ctx, "beta", e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("beta reads acme's event: %v", err)
	}
	if evs := allEvents(t, s, "beta", 100); len(evs) != 0 {
		t.Errorf("beta lists %d of acme's events", len(evs))
	}
	as := allAlerts(t, s, "acme", store.AlertQuery{Limit: 10})
	if len(as) != 1 {
		t.Fatalf("acme has %d alerts, want 1", len(as))
	}
	if _, err := s.Alert(ctx, "beta", as[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("beta reads acme's alert: %v", err)
	}
	if _, err := s.SetAlertStatus(ctx, "beta", as[0].ID, alert.StatusDismissed, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("beta changes acme's alert: %v", err)
	}
	if n, _ := s.CountAlerts(ctx, "beta", store.AlertQuery{}); n != 0 {
		t.Errorf("beta counts %d of acme's alerts", n)
	}
	if srcs, _ := s.Sources(ctx, "beta"); len(srcs) != 0 {
		t.Errorf("beta lists acme's sources: %+v", srcs)
	}
}

func testRetention(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	old := Event("acme", "ssh", T0, "h1", "u", "10.0.0.1")
	evidence := Event("acme", "ssh", T0, "h2", "u", "10.0.0.1")
	b1 := Batch("acme", "ssh", old)
	b2 := Batch("acme", "ssh", evidence)
	b2.Signals = []alert.Signal{Signal("acme", "r1", alert.High, "h2", evidence)}
	recent := Event("acme", "ssh", T0.Add(48*time.Hour), "h3", "u", "10.0.0.1")
	b3 := Batch("acme", "ssh", recent)
	commit(t, s, b1, b2, b3)
	n, err := s.PurgeEvents(ctx, T0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PurgeEvents: %d, %v; want 1 (the old event; the open alert's evidence stays)", n, err)
	}
	left := map[event.ID]bool{}
	for _, e := range allEvents(t, s, "acme", 100) {
		left[e.ID] = true
	}
	if left[old.ID] || !left[evidence.ID] || !left[recent.ID] {
		t.Errorf("after purge: old %v evidence %v recent %v; want only the old one gone", left[old.ID], left[evidence.ID], left[recent.ID])
	}
	if src, _ := s.Source(ctx, "acme", "ssh"); src.Events != 2 {
		t.Errorf("source counts %d events after the purge, want 2", src.Events)
	}
	as := allAlerts(t, s, "acme", store.AlertQuery{Limit: 10})
	if _, err := s.SetAlertStatus(ctx, "acme", as[0].ID, alert.StatusResolved, "test"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeEvents(ctx, T0.Add(24*time.Hour)); err != nil || n != 1 {
		t.Errorf("PurgeEvents after the alert was resolved: %d, %v; want its evidence gone", n, err)
	}
	// A batch committed before is still known after its events went.
	if n := commit(t, s, b1); n != 0 {
		t.Errorf("a purged batch delivered again was stored again")
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme", "beta")
	const writers, batches, per = 6, 5, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := []string{"acme", "beta"}[w%2]
			for i := range batches {
				var evs []store.StoredEvent
				for j := range per {
					evs = append(evs, Event(ws, fmt.Sprintf("src%d", w), T0.Add(time.Duration(i*per+j)*time.Second), "h", "u", "10.0.0.1"))
				}
				b := Batch(ws, fmt.Sprintf("src%d", w), evs...)
				b.Signals = []alert.Signal{Signal(ws, "r1", alert.Low, "shared-host", evs[0])}
				if _, err := s.Commit(ctx, []*store.Batch{b}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Commit: %v", err)
	}
	for _, ws := range []string{"acme", "beta"} {
		if n := len(allEvents(t, s, ws, 1000)); n != writers/2*batches*per {
			t.Errorf("%s: %d events, want %d", ws, n, writers/2*batches*per)
		}
		as := allAlerts(t, s, ws, store.AlertQuery{Limit: 100})
		if len(as) != 1 || as[0].Count != writers/2*batches {
			t.Errorf("%s: alerts %d (count %d), want one counting %d: concurrent signals of one key make one alert", ws, len(as), func() int {
				if len(as) > 0 {
					return as[0].Count
				}
				return 0
			}(), writers/2*batches)
		}
	}
}
