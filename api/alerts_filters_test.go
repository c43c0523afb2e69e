package api

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// The alert list's filters by threat type, origin country and source
// (the dashboard's queue and the threat map's links), against the
// embedded store, which keeps them in indexes.
func TestAlertFiltersSQLite(t *testing.T) {
	db := openStore[store.Store](t)
	f := newFixture(t, db)
	ctx := context.Background()
	seededIDs := f.seeds["a"].alertIDs // source a-src, no techniques: threat type "other"

	if err := db.PutSource(ctx, tenant.Source{Workspace: "a", Name: "a-edge", Format: testFormat, Created: t0}); err != nil {
		t.Fatal(err)
	}
	ids := event.NewIDSource()
	brute := []alert.Entity{{Type: alert.EntityIP, Value: "203.0.113.7"}}
	scan := []alert.Entity{{Type: alert.EntityIP, Value: "198.51.100.9"}}
	// The seed's first alert, joined by a signal of a-edge: found by both
	// sources.
	joined, err := db.Alert(ctx, "a", seededIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	b := &store.Batch{ID: ids.New(t0), Workspace: "a", Source: "a-edge", Format: testFormat, Received: t0,
		Signals: []alert.Signal{
			{Type: "signature", Rule: alert.RuleRef{ID: "brute", Title: "Brute force"}, Severity: alert.High,
				Techniques: []string{"T1110.001"}, Entities: brute, DedupKey: alert.DedupKey("a", "brute", brute),
				Origin:   &alert.Origin{IP: "203.0.113.7", Country: "DE", ASN: 64500, ASOrg: "Example Net"},
				Evidence: alert.Evidence{Time: t0.Add(5 * time.Minute)}},
			{Type: "signature", Rule: alert.RuleRef{ID: "scan", Title: "Port scan"}, Severity: alert.Medium,
				Techniques: []string{"T1046"}, Entities: scan, DedupKey: alert.DedupKey("a", "scan", scan),
				Origin:   &alert.Origin{IP: "198.51.100.9", Country: "FR"},
				Evidence: alert.Evidence{Time: t0.Add(6 * time.Minute)}},
			{Type: joined.Type, Rule: joined.Rule, Severity: joined.Severity, Entities: joined.Entities,
				DedupKey: joined.DedupKey, Evidence: alert.Evidence{Time: t0.Add(7 * time.Minute)}},
		}}
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	byRule := map[string]string{}
	all, _, err := db.Alerts(ctx, "a", store.AlertQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		byRule[a.Rule.ID] = a.ID
	}
	if len(all) != 5 {
		t.Fatalf("%d alerts in a, want 5 (3 seeded, 2 new, one joined)", len(all))
	}

	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for _, c := range []struct {
		query, key string
		want       []string
	}{
		{"threat_type=brute_force", "a-read", []string{byRule["brute"]}},
		{"threat_type=scanner", "a-read", []string{byRule["scan"]}},
		{"threat_type=other", "a-read", seededIDs},
		{"threat_type=phishing", "a-read", nil},
		{"country=DE", "a-read", []string{byRule["brute"]}},
		{"country=fr", "a-read", []string{byRule["scan"]}},
		{"country=US", "a-read", nil},
		{"source=a-edge", "a-read", []string{byRule["brute"], byRule["scan"], seededIDs[0]}},
		{"source=a-src", "a-read", seededIDs},
		{"source=a-edge&country=DE&severity=high", "a-read", []string{byRule["brute"]}},
		{"source=a-edge&threat_type=scanner&status=resolved", "a-read", nil},
		// Another workspace's source names nothing here.
		{"source=a-edge", "b-read", nil},
		{"country=DE", "b-read", nil},
	} {
		var p struct {
			alertPage
			Total int `json:"total"`
		}
		want(t, f.do(http.MethodGet, "/api/v1/alerts?"+c.query, c.key, nil), http.StatusOK, &p)
		got := []string{}
		for _, a := range p.Alerts {
			got = append(got, a.ID)
		}
		if !slices.Equal(sorted(got), sorted(append([]string{}, c.want...))) {
			t.Errorf("%s as %s: %v, want %v", c.query, c.key, got, c.want)
		}
		if p.Total != len(c.want) {
			t.Errorf("%s as %s: total %d, want %d", c.query, c.key, p.Total, len(c.want))
		}
	}
	for _, q := range []string{"country=DEU", "country=1A", "country=D"} {
		wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts?"+q, "a-read", nil), http.StatusUnprocessableEntity, "country")
	}

	// Paging through a filter in priority order keeps to it.
	var first struct {
		alertPage
		Total int `json:"total"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/alerts?source=a-edge&limit=2", "a-read", nil), http.StatusOK, &first)
	if len(first.Alerts) != 2 || first.Next == nil || first.Total != 3 {
		t.Fatalf("first page of a-edge: %d alerts, next %v, total %d; want 2, a cursor, 3", len(first.Alerts), first.Next, first.Total)
	}
	var second alertPage
	want(t, f.do(http.MethodGet, "/api/v1/alerts?source=a-edge&limit=2&cursor="+*first.Next, "a-read", nil), http.StatusOK, &second)
	if len(second.Alerts) != 1 || second.Next != nil {
		t.Fatalf("second page of a-edge: %d alerts, next %v; want 1 and no cursor", len(second.Alerts), second.Next)
	}
}

// An alert says which incident it belongs to, once it is in one.
func TestAlertIncidentSQLite(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	id := f.seeds["a"].alertIDs[1]
	var got struct {
		ID       string  `json:"id"`
		Incident *string `json:"incident"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/alerts/"+id, "a-read", nil), http.StatusOK, &got)
	if got.ID != id || got.Incident != nil {
		t.Fatalf("alert %s before any incident: id %q, incident %v; want no incident", id, got.ID, got.Incident)
	}
	var inc struct {
		ID string `json:"id"`
	}
	want(t, f.do(http.MethodPost, "/api/v1/incidents", "a-responder", map[string]any{"alert_ids": []string{id}}), http.StatusCreated, &inc)
	want(t, f.do(http.MethodGet, "/api/v1/alerts/"+id, "a-read", nil), http.StatusOK, &got)
	if got.Incident == nil || *got.Incident != inc.ID {
		t.Fatalf("alert %s: incident %v, want %s", id, got.Incident, inc.ID)
	}
}

// PATCH /api/v1/alerts changes several alerts in one transaction: all,
// each audited, or none.
func TestAlertsBulkStatusSQLite(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	ids := f.seeds["a"].alertIDs
	status := func(id string) alert.Status {
		t.Helper()
		a, err := db.Alert(ctx, "a", id)
		if err != nil {
			t.Fatal(err)
		}
		return a.Status
	}
	body := func(status string, ids ...string) map[string]any {
		return map[string]any{"ids": ids, "status": status}
	}

	var out struct {
		Alerts []alert.Alert `json:"alerts"`
	}
	want(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-responder", body("active", ids[0], ids[1], ids[0])), http.StatusOK, &out)
	if len(out.Alerts) != 2 || out.Alerts[0].ID != ids[0] || out.Alerts[1].ID != ids[1] {
		t.Fatalf("answer %v, want alerts %s and %s once each", out.Alerts, ids[0], ids[1])
	}
	for _, id := range ids[:2] {
		if s := status(id); s != alert.StatusActive {
			t.Errorf("alert %s is %s, want active", id, s)
		}
	}
	var log struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit", "a-admin", nil), http.StatusOK, &log)
	audited := map[string]int{}
	for _, e := range log.Entries {
		if e.Action == "alert.status" && e.Detail == "new -> active" {
			audited[e.Target]++
		}
	}
	if audited[ids[0]] != 1 || audited[ids[1]] != 1 {
		t.Errorf("audit lines new -> active: %v, want one for each of %s, %s", audited, ids[0], ids[1])
	}

	// None changes when one is missing, or may not move, or is another
	// workspace's.
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-responder", body("dismissed", ids[2], "no-such-alert")), http.StatusNotFound, "no-such-alert")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-responder", body("new", ids[2], ids[0])), http.StatusConflict, ids[0])
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-responder", body("dismissed", ids[2], f.seeds["b"].alertIDs[0])), http.StatusNotFound)
	if s := status(ids[2]); s != alert.StatusNew {
		t.Errorf("alert %s is %s after refused bulk changes, want new", ids[2], s)
	}
	if a, err := db.Alert(ctx, "b", f.seeds["b"].alertIDs[0]); err != nil || a.Status != alert.StatusNew {
		t.Errorf("b's alert: %v, %v; want it new", a.Status, err)
	}
	// A reason classifies closed alerts only; readers change nothing.
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-responder", map[string]any{"ids": []string{ids[2]}, "status": "active", "reason": "false_positive"}), http.StatusUnprocessableEntity, "reason")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-read", body("dismissed", ids[2])), http.StatusForbidden)
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-responder", map[string]any{"ids": []string{}, "status": "active"}), http.StatusUnprocessableEntity)
	want(t, f.do(http.MethodPatch, "/api/v1/alerts", "a-responder", map[string]any{"ids": []string{ids[2]}, "status": "dismissed", "reason": "false_positive"}), http.StatusOK, nil)
	if a, _ := db.Alert(ctx, "a", ids[2]); a.Status != alert.StatusDismissed || a.Reason != alert.ReasonFalsePositive {
		t.Errorf("alert %s: %s (%s), want dismissed (false_positive)", ids[2], a.Status, a.Reason)
	}
}
