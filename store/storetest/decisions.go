package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// Promises of store.Decisions: conflicts, the bouncers' stream (each
// decision told new once and deleted once), expiry, purge, audit, and
// workspaces apart.

// decisionStore is store.Decisions with the audit log the tests read.
type decisionStore interface {
	store.Decisions
	AuditLog(ctx context.Context, workspace string, q store.AuditQuery) ([]store.AuditEntry, string, error)
}

func decisionNames(ds []store.Decision) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Kind+" "+d.Value)
	}
	return out
}

func sameList(t *testing.T, what string, got []store.Decision, want ...string) {
	t.Helper()
	g := decisionNames(got)
	if len(g) != len(want) {
		t.Fatalf("%s = %v, want %v", what, g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("%s = %v, want %v", what, g, want)
		}
	}
}

func testDecisionStream(t *testing.T, s store.Store) {
	db := as[decisionStore](t, s, "store.Decisions")
	mk := func(kind, value string, at time.Time, d time.Duration) store.Decision {
		t.Helper()
		dec, err := db.CreateDecision(ctx, store.Decision{Workspace: "acme", Kind: kind, Value: value, Reason: "brute force",
			IncidentID: "inc1", CreatedBy: "key:k1", Created: at, Expires: at.Add(d)})
		if err != nil {
			t.Fatalf("create %s %s: %v", kind, value, err)
		}
		return dec
	}
	a := mk(store.DecisionIP, "::ffff:203.0.113.7", T0, time.Hour)
	if a.Value != "203.0.113.7" {
		t.Fatalf("value = %q, want the unmapped address", a.Value)
	}
	mk(store.DecisionRange, "198.51.100.77/24", T0, 10*time.Minute)

	// An active decision of the same value is a conflict.
	if _, err := db.CreateDecision(ctx, store.Decision{Workspace: "acme", Kind: "ip", Value: "203.0.113.7", Reason: "again",
		CreatedBy: "cli", Created: T0, Expires: T0.Add(time.Hour)}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second active decision: err = %v, want ErrConflict", err)
	}
	// Another workspace is another world.
	if _, err := db.CreateDecision(ctx, store.Decision{Workspace: "other", Kind: "ip", Value: "203.0.113.7", Reason: "x",
		CreatedBy: "cli", Created: T0, Expires: T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	first, err := db.DecisionStream(ctx, "acme", "fw1", false, T0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "first poll new", first.New, "ip 203.0.113.7", "range 198.51.100.0/24")
	sameList(t, "first poll deleted", first.Deleted)

	again, _ := db.DecisionStream(ctx, "acme", "fw1", false, T0.Add(2*time.Minute))
	sameList(t, "second poll new", again.New)
	sameList(t, "second poll deleted", again.Deleted)

	// The range expires at T0+10m: the poll after lists it as deleted,
	// once, and the audit log says it expired.
	b := mk(store.DecisionAccount, "bob", T0.Add(5*time.Minute), time.Hour)
	p3, _ := db.DecisionStream(ctx, "acme", "fw1", false, T0.Add(10*time.Minute))
	sameList(t, "poll at expiry new", p3.New, "account bob")
	sameList(t, "poll at expiry deleted", p3.Deleted, "range 198.51.100.0/24")
	if p3.Deleted[0].EndReason != store.DecisionExpired || !p3.Deleted[0].Ended.Equal(T0.Add(10*time.Minute)) {
		t.Errorf("expired decision = %+v, want ended expired at its expiry", p3.Deleted[0])
	}
	p4, _ := db.DecisionStream(ctx, "acme", "fw1", false, T0.Add(11*time.Minute))
	sameList(t, "poll after expiry deleted", p4.Deleted)

	// Revoked: deleted once; one made and revoked between polls is in
	// neither list.
	if _, err := db.RevokeDecision(ctx, "acme", b.ID, "key:k2", T0.Add(12*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeDecision(ctx, "acme", b.ID, "key:k2", T0.Add(12*time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("revoking twice: err = %v, want ErrConflict", err)
	}
	c := mk(store.DecisionIP, "2001:db8::1", T0.Add(13*time.Minute), time.Hour)
	if _, err := db.RevokeDecision(ctx, "acme", c.ID, "cli", T0.Add(14*time.Minute)); err != nil {
		t.Fatal(err)
	}
	p5, _ := db.DecisionStream(ctx, "acme", "fw1", false, T0.Add(15*time.Minute))
	sameList(t, "poll after revoke new", p5.New)
	sameList(t, "poll after revoke deleted", p5.Deleted, "account bob")

	// A second bouncer, and startup=true, get the active set only.
	fw2, _ := db.DecisionStream(ctx, "acme", "fw2", false, T0.Add(15*time.Minute))
	sameList(t, "fw2 first poll", fw2.New, "ip 203.0.113.7")
	re, _ := db.DecisionStream(ctx, "acme", "fw1", true, T0.Add(16*time.Minute))
	sameList(t, "startup new", re.New, "ip 203.0.113.7")
	sameList(t, "startup deleted", re.Deleted)

	// The value is free again once its decision expired.
	p6, _ := db.DecisionStream(ctx, "acme", "fw1", false, T0.Add(61*time.Minute))
	sameList(t, "poll after the ip expired deleted", p6.Deleted, "ip 203.0.113.7")
	mk(store.DecisionIP, "203.0.113.7", T0.Add(62*time.Minute), time.Hour)

	active, _, err := db.ListDecisions(ctx, "acme", store.DecisionQuery{Active: true, Now: T0.Add(62 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "active", active, "ip 203.0.113.7")
	all, next, _ := db.ListDecisions(ctx, "acme", store.DecisionQuery{Limit: 3})
	if len(all) != 3 || next == "" {
		t.Fatalf("first page: %d decisions, next %q", len(all), next)
	}
	rest, next, _ := db.ListDecisions(ctx, "acme", store.DecisionQuery{Limit: 3, Cursor: next})
	if len(rest) != 2 || next != "" {
		t.Fatalf("second page: %d decisions, next %q", len(rest), next)
	}

	// Every create, revoke and expiry is audited.
	entries, _, err := db.AuditLog(ctx, "acme", store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.Action]++
		if e.Action == "decision.expire" && e.Actor != "vigil:decisions" {
			t.Errorf("expiry audited as %q", e.Actor)
		}
	}
	if count["decision.create"] != 5 || count["decision.revoke"] != 2 || count["decision.expire"] != 2 {
		t.Errorf("audit counts = %v, want 5 creates, 2 revokes, 2 expiries", count)
	}
}

func testDecisionRefusals(t *testing.T, s store.Store) {
	db := as[decisionStore](t, s, "store.Decisions")
	base := store.Decision{Workspace: "acme", Kind: "ip", Value: "203.0.113.7", Reason: "r", CreatedBy: "cli", Created: T0, Expires: T0.Add(time.Hour)}
	for name, mod := range map[string]func(*store.Decision){
		"bad kind":       func(d *store.Decision) { d.Kind = "host" },
		"bad ip":         func(d *store.Decision) { d.Value = "203.0.113.0/24" },
		"wide range":     func(d *store.Decision) { d.Kind, d.Value = "range", "0.0.0.0/0" },
		"no reason":      func(d *store.Decision) { d.Reason = " " },
		"past expiry":    func(d *store.Decision) { d.Expires = T0.Add(-time.Second) },
		"too long":       func(d *store.Decision) { d.Expires = T0.Add(store.MaxDecisionDuration + time.Hour) },
		"no creator":     func(d *store.Decision) { d.CreatedBy = "" },
		"control in acc": func(d *store.Decision) { d.Kind, d.Value = "account", "bob\nmallory" },
	} {
		d := base
		mod(&d)
		if _, err := db.CreateDecision(ctx, d); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := db.RevokeDecision(ctx, "acme", "nope", "cli", T0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: err = %v, want ErrNotFound", err)
	}
}

func testPurgeDecisions(t *testing.T, s store.Store) {
	db := as[decisionStore](t, s, "store.Decisions")
	var made []store.Decision
	for i, v := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		d, err := db.CreateDecision(ctx, store.Decision{Workspace: "acme", Kind: "ip", Value: v, Reason: "r", CreatedBy: "cli",
			Created: T0, Expires: T0.Add(time.Duration(i+1) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, d)
	}
	if _, err := db.DecisionStream(ctx, "acme", "fw", true, T0); err != nil {
		t.Fatal(err)
	}
	// At T0+2h30m: the first two expired; purging those ended before
	// T0+1h30m takes the first only.
	if _, err := db.ExpireDecisions(ctx, T0.Add(150*time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeDecisions(ctx, T0.Add(90*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	if _, err := db.Decision(ctx, "acme", made[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purged decision still read: %v", err)
	}
	// The stream goes on: the second is told deleted, a new one new.
	d, err := db.DecisionStream(ctx, "acme", "fw", false, T0.Add(151*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "deleted after the purge", d.Deleted, "ip 192.0.2.2")
	if _, err := db.CreateDecision(ctx, store.Decision{Workspace: "acme", Kind: "ip", Value: "192.0.2.9", Reason: "r", CreatedBy: "cli",
		Created: T0.Add(152 * time.Minute), Expires: T0.Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	d, _ = db.DecisionStream(ctx, "acme", "fw", false, T0.Add(153*time.Minute))
	sameList(t, "new after the purge", d.New, "ip 192.0.2.9")
}

func testExpireDecisions(t *testing.T, s store.Store) {
	db := as[decisionStore](t, s, "store.Decisions")
	for i, v := range []string{"192.0.2.1", "192.0.2.2"} {
		if _, err := db.CreateDecision(ctx, store.Decision{Workspace: "acme", Kind: "ip", Value: v, Reason: "r", CreatedBy: "cli",
			Created: T0, Expires: T0.Add(time.Duration(i+1) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		at   time.Duration
		want int
	}{{59 * time.Second, 0}, {time.Minute, 1}, {90 * time.Second, 0}, {3 * time.Minute, 1}} {
		n, err := db.ExpireDecisions(ctx, T0.Add(c.at))
		if err != nil || n != c.want {
			t.Errorf("ExpireDecisions(T0+%s) = %d, %v; want %d", c.at, n, err, c.want)
		}
	}
}
