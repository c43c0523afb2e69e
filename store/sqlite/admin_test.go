package sqlite

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

func TestWorkspaces(t *testing.T) {
	db, _ := openTest(t)
	w, err := db.CreateWorkspace(ctx, "acme-prod_1", tenant.TierFree)
	if err != nil || w.Name != "acme-prod_1" || w.Tier != tenant.TierFree || !w.Created.Equal(t0) {
		t.Fatalf("CreateWorkspace = %+v, %v", w, err)
	}
	mustWorkspace(t, db, "beta")
	if _, err := db.CreateWorkspace(ctx, "beta", tenant.TierFree); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate: err = %v, want ErrConflict", err)
	}
	for _, name := range []string{"", "Acme", "a b", "a/b", "ä", strings.Repeat("a", 65)} {
		if _, err := db.CreateWorkspace(ctx, name, tenant.TierFree); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("name %q: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := db.CreateWorkspace(ctx, strings.Repeat("a", 64), tenant.TierFree); err != nil {
		t.Errorf("64-character name: %v", err)
	}
	if _, err := db.CreateWorkspace(ctx, "gamma", "premium"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad tier: err = %v, want ErrInvalid", err)
	}
	got, err := db.Workspace(ctx, "beta")
	if err != nil || got.Tier != tenant.TierStandard {
		t.Errorf("Workspace(beta) = %+v, %v", got, err)
	}
	if _, err := db.Workspace(ctx, "gamma"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Workspace(gamma): err = %v, want ErrNotFound", err)
	}
	all, err := db.Workspaces(ctx)
	if err != nil || len(all) != 3 || all[0].Name != strings.Repeat("a", 64) || all[1].Name != "acme-prod_1" || all[2].Name != "beta" {
		t.Errorf("Workspaces = %+v, %v", all, err)
	}
}

func key(ws, id string) tenant.APIKey {
	return tenant.APIKey{ID: id, Workspace: ws, Name: "ingest " + id, Scope: tenant.ScopeIngest, Prefix: "vg_" + id[:2], Hash: []byte("hash-" + id)}
}

func TestKeys(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	if err := db.CreateKey(ctx, key("acme", "k1")); err != nil {
		t.Fatal(err)
	}
	clock.set(t0.Add(time.Minute))
	if err := db.CreateKey(ctx, key("acme", "k2")); err != nil {
		t.Fatal(err)
	}
	dupHash := key("acme", "k3")
	dupHash.Hash = []byte("hash-k1")
	for name, k := range map[string]tenant.APIKey{"id": key("acme", "k1"), "hash": dupHash} {
		if err := db.CreateKey(ctx, k); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate %s: err = %v, want ErrConflict", name, err)
		}
	}
	noScope := key("acme", "k4")
	noScope.Scope = "root"
	noHash := key("acme", "k5")
	noHash.Hash = nil
	for name, k := range map[string]tenant.APIKey{"scope": noScope, "hash": noHash, "id": {Workspace: "acme", Scope: "read", Hash: []byte("x")}} {
		if err := db.CreateKey(ctx, k); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("bad %s: err = %v, want ErrInvalid", name, err)
		}
	}
	if err := db.CreateKey(ctx, key("nowhere", "k6")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("key of a missing workspace: err = %v, want ErrNotFound", err)
	}

	k, err := db.KeyByHash(ctx, []byte("hash-k2"))
	if err != nil || k.ID != "k2" || k.Scope != tenant.ScopeIngest || k.Prefix != "vg_k2" || !k.Created.Equal(t0.Add(time.Minute)) || k.LastUsed != nil || k.Revoked != nil {
		t.Errorf("KeyByHash = %+v, %v", k, err)
	}
	if _, err := db.KeyByHash(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: err = %v", err)
	}

	// Touch moves last_used forward only.
	if err := db.TouchKey(ctx, "k1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchKey(ctx, "k1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchKey(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchKey(unknown): err = %v", err)
	}
	// Revoke keeps the first time; a revoked key is still found by hash.
	if err := db.RevokeKey(ctx, "acme", "k2", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeKey(ctx, "acme", "k2", t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeKey(ctx, "acme", "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeKey(unknown): err = %v", err)
	}
	k, _ = db.KeyByHash(ctx, []byte("hash-k2"))
	if k.Revoked == nil || !k.Revoked.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("revoked = %v, want %v", k.Revoked, t0.Add(2*time.Hour))
	}

	keys, err := db.Keys(ctx, "acme")
	if err != nil || len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" {
		t.Fatalf("Keys = %+v, %v", keys, err)
	}
	if keys[0].LastUsed == nil || !keys[0].LastUsed.Equal(t0.Add(time.Hour)) {
		t.Errorf("k1 last used = %v, want %v", keys[0].LastUsed, t0.Add(time.Hour))
	}
	if string(keys[0].Hash) != "hash-k1" {
		t.Errorf("k1 hash = %q", keys[0].Hash)
	}
}

func TestSources(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	s := tenant.Source{Workspace: "acme", Name: "fw", Format: "cef",
		Logsource: event.Logsource{Product: "paloalto", Category: "firewall"}, TimeZone: "UTC"}
	if err := db.PutSource(ctx, s); err != nil {
		t.Fatal(err)
	}
	b := batch("acme", "fw", ev("acme", "fw", t0, "h", "u", "1.1.1.1"))
	b.Format = "cef"
	commit(t, db, b)

	clock.set(t0.Add(time.Hour))
	s.Format, s.Logsource.Service, s.TimeZone = "leef", "traffic", ""
	s.Events = 999 // counters are not PutSource's
	if err := db.PutSource(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Source(ctx, "acme", "fw")
	if err != nil {
		t.Fatal(err)
	}
	want := tenant.Source{Workspace: "acme", Name: "fw", Format: "leef",
		Logsource: event.Logsource{Product: "paloalto", Category: "firewall", Service: "traffic"},
		Created:   t0, Events: 1}
	if got.LastSeen == nil || !got.LastSeen.Equal(t0) {
		t.Errorf("last seen = %v, want %v", got.LastSeen, t0)
	}
	got.LastSeen = nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Source =\n %+v\nwant\n %+v", got, want)
	}

	for name, bad := range map[string]tenant.Source{
		"no name":   {Workspace: "acme", Format: "cef"},
		"no format": {Workspace: "acme", Name: "x"},
		"time zone": {Workspace: "acme", Name: "x", Format: "cef", TimeZone: "Mars/Olympus"},
	} {
		if err := db.PutSource(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if err := db.PutSource(ctx, tenant.Source{Workspace: "nowhere", Name: "x", Format: "cef"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing workspace: err = %v, want ErrNotFound", err)
	}
	if _, err := db.Source(ctx, "acme", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Source(unknown): err = %v", err)
	}
	if err := db.PutSource(ctx, tenant.Source{Workspace: "acme", Name: "auth", Format: "syslog"}); err != nil {
		t.Fatal(err)
	}
	all, err := db.Sources(ctx, "acme")
	if err != nil || len(all) != 2 || all[0].Name != "auth" || all[1].Name != "fw" {
		t.Errorf("Sources = %+v, %v", all, err)
	}
}

func TestAudit(t *testing.T) {
	db, clock := openTest(t)
	for i := range 12 {
		clock.set(t0.Add(time.Duration(i) * time.Second))
		if err := db.Audit(ctx, store.AuditEntry{Workspace: "acme", Actor: "cli", Action: "key.create", Target: fmt.Sprintf("k%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(-time.Hour)
	if err := db.Audit(ctx, store.AuditEntry{Time: at, Actor: "192.0.2.1:5555", Action: "auth.refused", Detail: "unknown key"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, store.AuditEntry{Workspace: "acme", Actor: "cli"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no action: err = %v, want ErrInvalid", err)
	}

	var targets []string
	q := store.AuditQuery{Limit: 5}
	for pages := 0; ; pages++ {
		es, next, err := db.AuditLog(ctx, "acme", q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			targets = append(targets, e.Target)
		}
		if next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		q.Cursor = next
	}
	if fmt.Sprint(targets) != "[k11 k10 k9 k8 k7 k6 k5 k4 k3 k2 k1 k0]" {
		t.Errorf("audit targets newest first = %v", targets)
	}
	refused, _, err := db.AuditLog(ctx, "", store.AuditQuery{})
	if err != nil || len(refused) != 1 || refused[0].Action != "auth.refused" || !refused[0].Time.Equal(at) || refused[0].ID == 0 {
		t.Errorf("refusals without workspace = %+v, %v", refused, err)
	}
	if _, _, err := db.AuditLog(ctx, "acme", store.AuditQuery{Cursor: "zz"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad cursor: err = %v", err)
	}
}

// Repeats within an interval share a line with a count; another address,
// reason or interval starts a line; the audit log has its own retention.
func TestAuditRepeatAndPurge(t *testing.T) {
	db, clock := openTest(t)
	refused := func(actor, detail string) store.AuditEntry {
		return store.AuditEntry{Actor: actor, Action: "auth.refused", Target: "GET /api/v1/alerts", Detail: detail}
	}
	window := time.Minute
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * 50 * time.Millisecond) // 50 s
		clock.set(now)
		if err := db.AuditRepeat(ctx, refused("192.0.2.1", "unknown key"), now.Truncate(window)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AuditRepeat(ctx, refused("192.0.2.2", "unknown key"), t0.Truncate(window)); err != nil {
		t.Fatal(err)
	}
	if err := db.AuditRepeat(ctx, refused("192.0.2.1", "malformed key"), t0.Truncate(window)); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(10 * time.Minute)
	clock.set(later)
	if err := db.AuditRepeat(ctx, store.AuditEntry{Actor: "192.0.2.1", Action: "auth.refused", Target: "GET /api/v1/alerts",
		Detail: "unknown key", Count: 7}, later.Truncate(window)); err != nil {
		t.Fatal(err)
	}
	es, _, err := db.AuditLog(ctx, "", store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		last := "-"
		if e.Last != nil {
			last = e.Last.Sub(t0).String()
		}
		got = append(got, fmt.Sprintf("%s %s %d %s", e.Actor, e.Detail, e.Count, last))
	}
	want := "[192.0.2.1 unknown key 7 - 192.0.2.1 malformed key 1 - 192.0.2.2 unknown key 1 - 192.0.2.1 unknown key 1000 49.95s]"
	if fmt.Sprint(got) != want {
		t.Errorf("audit lines\n got %v\nwant %s", got, want)
	}

	n, err := db.PurgeAudit(ctx, t0.Add(5*time.Minute))
	if err != nil || n != 3 {
		t.Errorf("PurgeAudit = %d, %v; want the 3 lines of the first minute", n, err)
	}
	if es, _, _ := db.AuditLog(ctx, "", store.AuditQuery{}); len(es) != 1 || es[0].Count != 7 {
		t.Errorf("after the purge: %+v, want the later line", es)
	}
}

// Ingest creates sources up to a cap a workspace; the sources list pages.
func TestCreateSourceCapAndPaging(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	mustWorkspace(t, db, "beta")
	for i := range 5 {
		if err := db.CreateSource(ctx, tenant.Source{Workspace: "acme", Name: fmt.Sprintf("s%d", i), Format: "json"}, 5); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateSource(ctx, tenant.Source{Workspace: "acme", Name: "s2", Format: "json"}, 5); !errors.Is(err, store.ErrConflict) {
		t.Errorf("existing source: %v, want ErrConflict", err)
	}
	if err := db.CreateSource(ctx, tenant.Source{Workspace: "acme", Name: "s5", Format: "json"}, 5); !errors.Is(err, tenant.ErrSourceLimit) {
		t.Errorf("sixth source with a cap of 5: %v, want ErrSourceLimit", err)
	}
	if err := db.CreateSource(ctx, tenant.Source{Workspace: "beta", Name: "s5", Format: "json"}, 5); err != nil {
		t.Errorf("another workspace has its own cap: %v", err)
	}
	var names []string
	q := store.SourceQuery{Limit: 2}
	for pages := 1; ; pages++ {
		srcs, next, err := db.SourcePage(ctx, "acme", q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range srcs {
			names = append(names, s.Name)
		}
		if next == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		q.Cursor = next
	}
	if fmt.Sprint(names) != "[s0 s1 s2 s3 s4]" {
		t.Errorf("paged sources %v", names)
	}
	if _, _, err := db.SourcePage(ctx, "acme", store.SourceQuery{Cursor: "zz"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad cursor: %v, want ErrInvalid", err)
	}
}

// A key keeps its expiry and allow-list; rotation stores the successor and
// ends the old key at the overlap (never later than it ended already); an
// expired admin key does not count as the one that keeps a workspace open.
func TestKeyExpiryAllowAndRotation(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	exp := t0.Add(48 * time.Hour)
	old := tenant.APIKey{ID: "k1", Workspace: "acme", Scope: tenant.ScopeAdmin, Prefix: "vgl_a", Hash: []byte{1}, Created: t0,
		Expires: &exp, Allow: []string{"10.0.0.0/8", "192.0.2.7/32"}}
	if err := db.CreateKey(ctx, old); err != nil {
		t.Fatal(err)
	}
	got, err := db.KeyByHash(ctx, []byte{1})
	if err != nil || got.Expires == nil || !got.Expires.Equal(exp) || fmt.Sprint(got.Allow) != "[10.0.0.0/8 192.0.2.7/32]" {
		t.Fatalf("stored key %+v, %v", got, err)
	}
	next := tenant.APIKey{ID: "k2", Workspace: "acme", Scope: tenant.ScopeAdmin, Prefix: "vgl_b", Hash: []byte{2}, Created: t0, Allow: old.Allow}
	if err := db.RotateKey(ctx, "acme", "k1", next, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.KeyByHash(ctx, []byte{1}); got.Expires == nil || !got.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("old key expires %v, want the end of the overlap", got.Expires)
	}
	if err := db.RotateKey(ctx, "acme", "k1", tenant.APIKey{ID: "k3", Workspace: "acme", Scope: tenant.ScopeAdmin, Prefix: "vgl_c",
		Hash: []byte{3}, Created: t0}, t0.Add(100*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.KeyByHash(ctx, []byte{1}); !got.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("a longer overlap moved the expiry to %v", got.Expires)
	}
	if err := db.RotateKey(ctx, "acme", "nope", tenant.APIKey{ID: "k4", Workspace: "acme", Scope: "read", Prefix: "p", Hash: []byte{4}},
		t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rotate an unknown key: %v", err)
	}
	// k1 expired at t0+1h: revoking k2 leaves k3; revoking k3 then
	// leaves only the expired k1, so it is refused.
	if err := db.RevokeKey(ctx, "acme", "k2", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeKey(ctx, "acme", "k3", t0.Add(2*time.Hour)); !errors.Is(err, store.ErrLastAdminKey) {
		t.Errorf("revoke the last live admin key (another only expired): %v, want ErrLastAdminKey", err)
	}
}
