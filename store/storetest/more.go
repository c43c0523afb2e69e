package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// More promises of the contract: refused batches, entity search, time
// ranges and cursors, quarantine, audit repeats, sources, alert filters and
// the forgetting of batch ids.

func testInvalidBatch(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	good := Batch("acme", "ssh", Event("acme", "ssh", T0, "h", "u", "10.0.0.1"))
	bad := Batch("acme", "ssh", Event("beta", "ssh", T0, "h", "u", "10.0.0.1"))
	if _, err := s.Commit(ctx, []*store.Batch{good, bad}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a batch with another workspace's event: %v, want ErrInvalid", err)
	}
	noRule := Batch("acme", "ssh")
	noRule.Signals = []alert.Signal{{Severity: alert.High}}
	if _, err := s.Commit(ctx, []*store.Batch{noRule}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a signal without a rule: %v, want ErrInvalid", err)
	}
	if evs := allEvents(t, s, "acme", 100); len(evs) != 0 {
		t.Errorf("a refused commit stored %d events", len(evs))
	}
	if n := commit(t, s, good); n != 1 {
		t.Errorf("the good batch of a refused commit was taken as committed: %d new", n)
	}
}

func testEntitySearch(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	web := Event("acme", "ssh", T0, "WEB1.corp", "alice", "10.0.0.1")
	path := Event("acme", "ssh", T0.Add(time.Second), "db1", "bob", "10.0.0.2")
	path.Common[event.FilePath] = "/tmp/Payload"
	win := Event("acme", "ssh", T0.Add(2*time.Second), "db2", "-", "10.0.0.3")
	win.Common[event.FilePath] = `C:\Temp\Payload.exe`
	commit(t, s, Batch("acme", "ssh", web, path, win))
	find := func(q store.EventQuery) map[event.ID]bool {
		t.Helper()
		q.Limit = 1 // page through, a match at a time
		got := map[event.ID]bool{}
		for page := 0; ; page++ {
			evs, next, err := s.Events(ctx, "acme", q)
			if err != nil {
				t.Fatalf("Events(%+v): %v", q, err)
			}
			for _, e := range evs {
				got[e.ID] = true
			}
			if next == "" || page > 10 {
				return got
			}
			q.Cursor = next
		}
	}
	for _, tc := range []struct {
		q    store.EventQuery
		want []event.ID
	}{
		{store.EventQuery{Entity: "web1.CORP"}, []event.ID{web.ID}},     // host names ignore case
		{store.EventQuery{Entity: "/tmp/Payload"}, []event.ID{path.ID}}, // Unix paths compare exactly
		{store.EventQuery{Entity: "/tmp/payload"}, nil},
		{store.EventQuery{Entity: `c:\temp\payload.EXE`}, []event.ID{win.ID}}, // Windows paths ignore case
		{store.EventQuery{Entities: []string{"ALICE", "10.0.0.3"}}, []event.ID{web.ID, win.ID}},
		{store.EventQuery{Entities: []string{"-"}}, nil}, // placeholders match nothing, not everything
		{store.EventQuery{Entity: "bob", Entities: []string{"10.0.0.2", "10.0.0.1"}}, []event.ID{path.ID}},
		{store.EventQuery{Entity: "nobody"}, nil},
	} {
		got := find(tc.q)
		if len(got) != len(tc.want) {
			t.Errorf("Events(entity %q, entities %q): %d events, want %d", tc.q.Entity, tc.q.Entities, len(got), len(tc.want))
			continue
		}
		for _, id := range tc.want {
			if !got[id] {
				t.Errorf("Events(entity %q, entities %q) lacks %s", tc.q.Entity, tc.q.Entities, id)
			}
		}
	}
	if _, _, err := s.Events(ctx, "acme", store.EventQuery{Entities: make([]string, store.MaxEventEntities+1)}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("more than MaxEventEntities: %v, want ErrInvalid", err)
	}
}

func testEventRange(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	var evs []store.StoredEvent
	for i := range 10 {
		evs = append(evs, Event("acme", fmt.Sprintf("src%d", i%2), T0.Add(time.Duration(i)*time.Minute), "h", "u", "10.0.0.1"))
	}
	b := Batch("acme", "src0", evs...)
	commit(t, s, b)
	got, _, err := s.Events(ctx, "acme", store.EventQuery{From: T0.Add(2 * time.Minute), To: T0.Add(5 * time.Minute)})
	if err != nil || len(got) != 3 {
		t.Fatalf("events in [2m, 5m): %d, %v; want 3", len(got), err)
	}
	for _, e := range got {
		if e.Time.Before(T0.Add(2*time.Minute)) || !e.Time.Before(T0.Add(5*time.Minute)) {
			t.Errorf("event at %v outside the range", e.Time)
		}
		if !bytes.Equal(e.Raw, evs[e.Time.Sub(T0)/time.Minute].Raw) || e.Logsource.Product != "linux" {
			t.Errorf("event at %v: raw or logsource not as committed", e.Time)
		}
	}
	if _, _, err := s.Events(ctx, "acme", store.EventQuery{From: T0, To: T0}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an empty range: %v, want ErrInvalid", err)
	}
	if _, _, err := s.Events(ctx, "acme", store.EventQuery{Cursor: "not-a-cursor"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a made-up cursor: %v, want ErrInvalid", err)
	}
	_, alertCursor, _ := s.Alerts(ctx, "acme", store.AlertQuery{Limit: 1})
	if alertCursor == "" {
		commitSignals(t, s, 2)
		_, alertCursor, _ = s.Alerts(ctx, "acme", store.AlertQuery{Limit: 1})
	}
	if _, _, err := s.Events(ctx, "acme", store.EventQuery{Cursor: alertCursor}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an alert cursor for events: %v, want ErrInvalid", err)
	}
	if _, _, err := s.Alerts(ctx, "acme", store.AlertQuery{Cursor: alertCursor, Sort: store.AlertSortPriority}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a last-seen cursor for the priority order: %v, want ErrInvalid", err)
	}
}

// commitSignals commits n signals of distinct hosts (n alerts).
func commitSignals(t *testing.T, s store.Store, n int) {
	t.Helper()
	b := Batch("acme", "ssh")
	for i := range n {
		e := Event("acme", "ssh", T0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("sig%d", i), "u", "10.0.0.1")
		b.Events = append(b.Events, e)
		b.Signals = append(b.Signals, Signal("acme", "r1", alert.Medium, e.Common[event.HostName], e))
	}
	commit(t, s, b)
}

func testQuarantine(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme", "beta")
	b := Batch("acme", "ssh")
	b.Rejected = 3
	b.Quarantined = []store.Quarantined{
		{ID: event.NewID(), Line: 1, Reason: "not JSON", Raw: []byte("garbage\x00\xff")},
		{ID: event.NewID(), Line: 2, Reason: "too big", Raw: bytes.Repeat([]byte("x"), store.MaxQuarantinedRaw+10)},
		{ID: event.NewID(), Line: 3, Reason: string(bytes.Repeat([]byte("é"), store.MaxQuarantineReason)), Raw: []byte("{")},
	}
	b2 := Batch("acme", "web")
	b2.Rejected = 1
	b2.Quarantined = []store.Quarantined{{ID: event.NewID(), Line: 7, Reason: "bad", Raw: []byte("<")}}
	commit(t, s, b, b2)
	commit(t, s, b) // a replay quarantines nothing again
	all, _, err := s.Quarantine(ctx, "acme", store.QuarantineQuery{Limit: 10})
	if err != nil || len(all) != 4 {
		t.Fatalf("Quarantine: %d, %v; want 4", len(all), err)
	}
	byLine := map[int]store.QuarantineEntry{}
	for _, q := range all {
		byLine[q.Line] = q
	}
	if q := byLine[1]; q.Raw != "garbage\x00\xff" || q.Reason != "not JSON" || q.BatchID != b.ID.String() || q.Source != "ssh" || q.Truncated {
		t.Errorf("quarantined record 1: %+v", q)
	}
	if q := byLine[2]; len(q.Raw) != store.MaxQuarantinedRaw || !q.Truncated {
		t.Errorf("a record over MaxQuarantinedRaw: %d bytes kept, truncated %v", len(q.Raw), q.Truncated)
	}
	if q := byLine[3]; q.Reason != store.CapReason(b.Quarantined[2].Reason) {
		t.Errorf("a long reason kept as %d bytes, want it capped", len(q.Reason))
	}
	page, next, err := s.Quarantine(ctx, "acme", store.QuarantineQuery{Source: "ssh", Limit: 2})
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("first page of ssh's: %d, %q, %v", len(page), next, err)
	}
	rest, next, err := s.Quarantine(ctx, "acme", store.QuarantineQuery{Source: "ssh", Limit: 2, Cursor: next})
	if err != nil || len(rest) != 1 || next != "" || rest[0].ID >= page[1].ID {
		t.Errorf("second page of ssh's: %+v, %q, %v", rest, next, err)
	}
	if q, _, _ := s.Quarantine(ctx, "beta", store.QuarantineQuery{}); len(q) != 0 {
		t.Errorf("beta lists %d of acme's quarantined records", len(q))
	}
	if src, _ := s.Source(ctx, "acme", "ssh"); src.Rejected != 3 {
		t.Errorf("ssh rejected %d, want 3", src.Rejected)
	}
	n, err := s.PurgeQuarantine(ctx, T0.Add(-time.Hour), 1)
	if err != nil || n != 3 {
		t.Errorf("PurgeQuarantine keeping 1 a workspace: %d, %v; want 3", n, err)
	}
	if n, err := s.PurgeQuarantine(ctx, T0.Add(time.Hour), 0); err != nil || n != 1 {
		t.Errorf("PurgeQuarantine of what was received before: %d, %v; want 1", n, err)
	}
}

func testAuditRepeat(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	e := store.AuditEntry{Workspace: "acme", Time: T0, Actor: "198.51.100.1", Action: "auth.refused", Target: "key", Detail: "bad secret"}
	for i := range 3 {
		e.Time = T0.Add(time.Duration(i) * time.Minute)
		if err := s.AuditRepeat(ctx, e, T0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	other := e
	other.Detail = "expired"
	if err := s.AuditRepeat(ctx, other, T0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.Time = T0.Add(3 * time.Hour)
	if err := s.AuditRepeat(ctx, e, T0.Add(2*time.Hour)); err != nil { // the first line is older than since
		t.Fatal(err)
	}
	if err := s.Audit(ctx, store.AuditEntry{Workspace: "acme", Actor: "cli", Action: "key.create", Target: "k1", Time: T0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, store.AuditEntry{Workspace: "acme", Action: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an entry without actor: %v, want ErrInvalid", err)
	}
	var lines []store.AuditEntry
	q := store.AuditQuery{Limit: 2}
	for {
		page, next, err := s.AuditLog(ctx, "acme", q)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, page...)
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if len(lines) != 4 {
		t.Fatalf("%d audit lines, want 4: %+v", len(lines), lines)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].ID >= lines[i-1].ID {
			t.Errorf("audit log not newest first at %d", i)
		}
	}
	first := lines[3]
	if first.Count != 3 || first.Last == nil || !first.Last.Equal(T0.Add(2*time.Minute)) || first.Detail != "bad secret" {
		t.Errorf("the repeated line: %+v; want count 3, last at 2m", first)
	}
	if lines[2].Count != 1 || lines[2].Last != nil {
		t.Errorf("a line of another detail: %+v; want its own, count 1", lines[2])
	}
	n, err := s.PurgeAudit(ctx, T0.Add(time.Hour))
	if err != nil || n != 3 {
		t.Errorf("PurgeAudit: %d, %v; want 3 (the repeated line lasts to its last repeat, 2m)", n, err)
	}
}

func testSources(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	for i := range 5 {
		if err := s.CreateSource(ctx, tenant.Source{Workspace: "acme", Name: fmt.Sprintf("s%d", i), Format: "json"}, 5); err != nil {
			t.Fatalf("CreateSource %d: %v", i, err)
		}
	}
	if err := s.CreateSource(ctx, tenant.Source{Workspace: "acme", Name: "s0", Format: "json"}, 0); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a source of a taken name: %v, want ErrConflict", err)
	}
	if err := s.CreateSource(ctx, tenant.Source{Workspace: "acme", Name: "s9", Format: "json"}, 5); !errors.Is(err, tenant.ErrSourceLimit) {
		t.Errorf("a sixth source under a limit of 5: %v, want ErrSourceLimit", err)
	}
	if err := s.CreateSource(ctx, tenant.Source{Workspace: "nope", Name: "s", Format: "json"}, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a source of an absent workspace: %v, want ErrNotFound", err)
	}
	put := tenant.Source{Workspace: "acme", Name: "s1", Format: "syslog", TimeZone: "Europe/Paris",
		Logsource: event.Logsource{Product: "linux", Service: "sshd"}}
	if err := s.PutSource(ctx, put); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSource(ctx, tenant.Source{Workspace: "acme", Name: "s2", Format: "json", TimeZone: "Mars/Olympus"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown time zone: %v, want ErrInvalid", err)
	}
	got, err := s.Source(ctx, "acme", "s1")
	if err != nil || got.Format != "syslog" || got.TimeZone != "Europe/Paris" || got.Logsource != put.Logsource {
		t.Errorf("after PutSource: %+v, %v", got, err)
	}
	var names []string
	q := store.SourceQuery{Limit: 2}
	for page := 0; page < 10; page++ {
		srcs, next, err := s.SourcePage(ctx, "acme", q)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range srcs {
			names = append(names, src.Name)
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if fmt.Sprint(names) != "[s0 s1 s2 s3 s4]" {
		t.Errorf("SourcePage by 2: %v", names)
	}
}

func testKeyLifecycle(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	k := tenant.APIKey{ID: "k1", Workspace: "acme", Scope: tenant.ScopeRead, Prefix: "vgl_k1", Hash: []byte("h1"), Created: T0,
		Allow: []string{"10.0.0.0/8", "192.0.2.1/32"}}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	dup := k
	dup.ID = "k9"
	if err := s.CreateKey(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a key of a taken hash: %v, want ErrConflict", err)
	}
	if err := s.TouchKey(ctx, "k1", T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchKey(ctx, "k1", T0.Add(time.Minute)); err != nil { // never moves back
		t.Fatal(err)
	}
	if err := s.TouchKey(ctx, "nope", T0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchKey(unknown): %v, want ErrNotFound", err)
	}
	succ := tenant.APIKey{ID: "k2", Workspace: "acme", Scope: tenant.ScopeRead, Prefix: "vgl_k2", Hash: []byte("h2"), Created: T0}
	if err := s.RotateKey(ctx, "acme", "k1", succ, T0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.KeyByHash(ctx, []byte("h1"))
	if err != nil || got.LastUsed == nil || !got.LastUsed.Equal(T0.Add(time.Hour)) || got.Expires == nil ||
		!got.Expires.Equal(T0.Add(48*time.Hour)) || fmt.Sprint(got.Allow) != fmt.Sprint(k.Allow) {
		t.Errorf("k1 after use and rotation: %+v, %v", got, err)
	}
	succ.ID, succ.Hash = "k3", []byte("h3")
	if err := s.RotateKey(ctx, "acme", "k1", succ, T0.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.KeyByHash(ctx, []byte("h1")); got.Expires == nil || !got.Expires.Equal(T0.Add(48*time.Hour)) {
		t.Errorf("a second rotation moved the expiry later: %v", got.Expires)
	}
	if keys, err := s.Keys(ctx, "acme"); err != nil || len(keys) != 3 {
		t.Errorf("Keys: %d, %v; want 3", len(keys), err)
	}
	if err := s.RevokeKey(ctx, "acme", "k2", T0); err != nil {
		t.Fatal(err)
	}
	succ.ID, succ.Hash = "k4", []byte("h4")
	if err := s.RotateKey(ctx, "acme", "k2", succ, T0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("rotating a revoked key: %v, want ErrInvalid", err)
	}
}

func testAlertFilters(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	b := Batch("acme", "ssh")
	for i, rule := range []string{"r1", "r2", "r1"} {
		e := Event("acme", "ssh", T0.Add(time.Duration(i)*time.Hour), fmt.Sprintf("h%d", i), "u", "10.0.0.1")
		b.Events = append(b.Events, e)
		b.Signals = append(b.Signals, Signal("acme", rule, alert.Medium, e.Common[event.HostName], e))
	}
	commit(t, s, b)
	count := func(q store.AlertQuery) int {
		t.Helper()
		as := allAlerts(t, s, "acme", q)
		n, err := s.CountAlerts(ctx, "acme", q)
		if err != nil || n != len(as) {
			t.Errorf("CountAlerts(%+v) = %d, %v; Alerts lists %d", q, n, err, len(as))
		}
		return len(as)
	}
	if n := count(store.AlertQuery{RuleID: "r1"}); n != 2 {
		t.Errorf("rule r1: %d alerts, want 2", n)
	}
	if n := count(store.AlertQuery{Since: T0.Add(time.Hour)}); n != 2 {
		t.Errorf("since 1h: %d alerts, want 2", n)
	}
	if n := count(store.AlertQuery{Until: T0.Add(time.Hour)}); n != 1 {
		t.Errorf("until 1h: %d alerts, want 1", n)
	}
	if n := count(store.AlertQuery{Status: []alert.Status{alert.StatusNew, alert.StatusActive}}); n != 3 {
		t.Errorf("open: %d alerts, want 3", n)
	}
	if _, _, err := s.Alerts(ctx, "acme", store.AlertQuery{Status: []alert.Status{"closed"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown status: %v, want ErrInvalid", err)
	}
	if _, _, err := s.Alerts(ctx, "acme", store.AlertQuery{Sort: "severity"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown order: %v, want ErrInvalid", err)
	}
	// A rule's own window: r1's alert on h2 was last seen at 2h. A signal
	// at 4h under a window of an hour starts a new alert; one at 5h30
	// under a window of three hours joins that one, the key's open alert
	// seen last.
	for _, sw := range []struct{ at, window time.Duration }{{4 * time.Hour, time.Hour}, {5*time.Hour + 30*time.Minute, 3 * time.Hour}} {
		e := Event("acme", "ssh", T0.Add(sw.at), "h2", "u", "10.0.0.1")
		sb := Batch("acme", "ssh", e)
		sig := Signal("acme", "r1", alert.Medium, "h2", e)
		sig.Window = sw.window
		sb.Signals = []alert.Signal{sig}
		commit(t, s, sb)
	}
	byCount := map[int]alert.Alert{}
	for _, a := range allAlerts(t, s, "acme", store.AlertQuery{RuleID: "r1", Entity: "H2"}) {
		byCount[a.Count] = a
	}
	if len(byCount) != 2 || !byCount[1].LastSeen.Equal(T0.Add(2*time.Hour)) || !byCount[2].FirstSeen.Equal(T0.Add(4*time.Hour)) {
		t.Errorf("alerts of r1 on h2 by count %+v; want the first (count 1, last seen 2h) and one from 4h counting 2", byCount)
	}
	a := allAlerts(t, s, "acme", store.AlertQuery{RuleID: "r2"})[0]
	if _, err := s.SetAlertStatus(ctx, "acme", a.ID, alert.Status("gone"), "x"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown status: %v, want ErrInvalid", err)
	}
	got, err := s.SetAlertStatus(ctx, "acme", a.ID, alert.StatusDismissed, "user:rita")
	if err != nil || got.Status != alert.StatusDismissed || got.Count != 1 || got.Rule.ID != "r2" {
		t.Errorf("SetAlertStatus returns %+v, %v; want the alert, dismissed", got, err)
	}
	if log, _, _ := s.AuditLog(ctx, "acme", store.AuditQuery{}); len(log) != 1 || log[0].Action != "alert.status" || log[0].Target != a.ID {
		t.Errorf("audit of a status change: %+v", log)
	}
}

func testForgetBatches(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme")
	b := Batch("acme", "ssh", Event("acme", "ssh", T0, "h", "u", "10.0.0.1"))
	commit(t, s, b)
	if n, err := s.PurgeCommittedBatches(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("PurgeCommittedBatches of an hour ago: %d, %v; want 0 (committed just now)", n, err)
	}
	if n, err := s.PurgeCommittedBatches(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("PurgeCommittedBatches: %d, %v; want 1", n, err)
	}
}

func testChecks(t *testing.T, s store.Store) {
	for _, name := range []string{"", "Acme", "a b", "ünï", string(make([]byte, 65))} {
		if _, err := s.CreateWorkspace(ctx, name, tenant.TierFree); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateWorkspace(%q): %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.CreateWorkspace(ctx, "acme", "gold"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown tier: %v, want ErrInvalid", err)
	}
	mustWorkspace(t, s, "acme")
	if _, err := s.SetWorkspaceTier(ctx, "acme", "gold", "cli"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("SetWorkspaceTier to an unknown tier: %v, want ErrInvalid", err)
	}
	if _, err := s.SetWorkspaceTier(ctx, "nope", tenant.TierFree, "cli"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetWorkspaceTier of an absent workspace: %v, want ErrNotFound", err)
	}
	good := tenant.APIKey{ID: "k", Workspace: "acme", Scope: tenant.ScopeRead, Prefix: "vgl_k", Hash: []byte("h")}
	for name, spoil := range map[string]func(*tenant.APIKey){
		"no id":          func(k *tenant.APIKey) { k.ID = "" },
		"unknown scope":  func(k *tenant.APIKey) { k.Scope = "root" },
		"no hash":        func(k *tenant.APIKey) { k.Hash = nil },
		"comma in allow": func(k *tenant.APIKey) { k.Allow = []string{"10.0.0.0/8,192.0.2.0/24"} },
	} {
		k := good
		spoil(&k)
		if err := s.CreateKey(ctx, k); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a key with %s: %v, want ErrInvalid", name, err)
		}
	}
	k := good
	k.Workspace = "nope"
	if err := s.CreateKey(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a key of an absent workspace: %v, want ErrNotFound", err)
	}
	if keys, _ := s.Keys(ctx, "acme"); len(keys) != 0 {
		t.Errorf("refused keys were stored: %+v", keys)
	}
}
