package sqlite

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
)

var (
	originSig          = storetest.OriginSignal
	deOrigin, jpOrigin = storetest.DEOrigin, storetest.JPOrigin
)

func commitSignals(t *testing.T, db *DB, ws string, sigs ...alert.Signal) {
	t.Helper()
	b := batch(ws, "src")
	b.Signals = append(b.Signals, sigs...)
	commit(t, db, b)
}

// The alert's origin and intent survive the store.
func TestAlertOriginAndIntentStored(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	s, _ := originSig("acme", "ssh-fail", "SSH Password Login Failed", alert.Medium, []string{"T1110.001"}, t0, "bastion", "root", jpOrigin)
	s.Assets = []alert.Asset{{Name: "bastion", Type: "host", Criticality: "high"}}
	commitSignals(t, db, "acme", s)
	as := allAlerts(t, db, "acme", store.AlertQuery{})
	if len(as) != 1 {
		t.Fatalf("%d alerts", len(as))
	}
	a := as[0]
	if a.Origin == nil || a.Origin.Country != "JP" || len(a.Origin.Indicators) != 1 || a.Origin.Indicators[0].Feed != "test" {
		t.Errorf("origin %+v", a.Origin)
	}
	if a.Intent == nil || a.Intent.Estimate != alert.IntentRandom || !strings.Contains(strings.Join(a.Intent.Reasons, ";"), "scanner") {
		t.Errorf("intent %+v, want random (a known scanner)", a.Intent)
	}
	if len(a.Assets) != 1 || a.Assets[0].Name != "bastion" || a.Assets[0].Criticality != "high" {
		t.Errorf("assets %+v, want the signal's", a.Assets)
	}
}

func intentOf(t *testing.T, db *DB, ws, rule string) alert.Intent {
	t.Helper()
	as := allAlerts(t, db, ws, store.AlertQuery{RuleID: rule})
	if len(as) == 0 || as[0].Intent == nil {
		t.Fatalf("no alert of %s with an intent: %+v", rule, as)
	}
	return *as[0].Intent
}

// The intent is estimated at commit from the recent alerts of the same
// address, stored before and in the same commit.
func TestIntentAtCommit(t *testing.T) {
	db, _ := openTest(t)
	for _, ws := range []string{"a", "b", "c", "d"} {
		mustWorkspace(t, db, ws)
	}
	// Brute force on alice, then a success: targeted.
	fail, _ := originSig("a", "fail", "SSH Password Login Failed", alert.Medium, []string{"T1110.001"}, t0, "bastion", "alice", deOrigin)
	commitSignals(t, db, "a", fail)
	if in := intentOf(t, db, "a", "fail"); in.Estimate != alert.IntentTargeted {
		t.Errorf("failures on a valid non-default user: %+v, want targeted", in)
	}
	ok, _ := originSig("a", "ok", "SSH Login Accepted", alert.High, []string{"T1078.003"}, t0.Add(time.Minute), "bastion", "alice", deOrigin)
	act, _ := originSig("a", "act", "Certutil Used to Download a File", alert.High, []string{"T1105"}, t0.Add(2*time.Minute), "bastion", "", deOrigin)
	commitSignals(t, db, "a", ok, act)
	in := intentOf(t, db, "a", "ok")
	if in.Estimate != alert.IntentTargeted || !strings.Contains(strings.Join(in.Reasons, ";"), "succeeded after failed") {
		t.Errorf("success after failures: %+v", in)
	}
	if in := intentOf(t, db, "a", "act"); !strings.Contains(strings.Join(in.Reasons, ";"), "active after a successful login") {
		t.Errorf("activity after login, in the same commit: %+v", in)
	}

	// One address against many workspaces and only non-existent users: random.
	o := &alert.Origin{IP: "91.121.10.200", Country: "FR"}
	for _, ws := range []string{"b", "c", "d"} {
		s, _ := originSig(ws, "inv", "SSH Login Attempt for a Nonexistent User", alert.Low, []string{"T1110.003"}, t0, "h-"+ws, "oracle", o)
		commitSignals(t, db, ws, s)
	}
	in = intentOf(t, db, "d", "inv")
	if in.Estimate != alert.IntentRandom || !strings.Contains(strings.Join(in.Reasons, ";"), "3 workspaces") {
		t.Errorf("same source against 3 workspaces: %+v", in)
	}
	// A day later the old alerts are out of the look-back.
	s, _ := originSig("b", "inv2", "SSH Login Attempt for a Nonexistent User", alert.Low, []string{"T1110.003"}, t0.Add(48*time.Hour), "h-b", "oracle", o)
	commitSignals(t, db, "b", s)
	in = intentOf(t, db, "b", "inv2")
	if strings.Contains(strings.Join(in.Reasons, ";"), "workspaces") {
		t.Errorf("alerts older than the look-back counted: %+v", in)
	}

	// No origin: unknown, saying why.
	none, _ := originSig("a", "none", "Something", alert.Low, nil, t0, "h", "", nil)
	commitSignals(t, db, "a", none)
	if in := intentOf(t, db, "a", "none"); in.Estimate != alert.IntentUnknown || in.Reasons[0] != "no source address" {
		t.Errorf("no origin: %+v", in)
	}
}

// A store of schema version 7 (alerts with their origin in the document,
// no pane columns) upgrades: migration 8 fills the columns from the
// documents.
func TestMigrateFromVersion7(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	raw, err := sql.Open("sqlite", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`)
	for v := 1; v <= 7; v++ {
		exec(migrations[v-1].sql)
		exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v)
	}
	exec(`INSERT INTO workspaces (name, tier, created) VALUES ('acme', 'standard', 0)`)
	put := func(id string, sev alert.Severity, techs []string, o *alert.Origin, typ string) {
		doc, _ := json.Marshal(alertDoc{Type: typ, Rule: alert.RuleRef{ID: "r-" + id, Title: "rule " + id}, Entities: []alert.Entity{},
			Techniques: techs, Origin: o})
		exec(`INSERT INTO alerts (id, workspace, dedup_key, status, severity, rule_id, first_seen, last_seen, count, created, updated, doc, evidence, evidence_n) VALUES (?, 'acme', ?, 'new', ?, ?, ?, ?, 3, 0, 0, ?, '[]', 0)`,
			id, "k"+id, int64(sev), "r-"+id, nanos(t0), nanos(t0), string(doc))
	}
	put("a1", alert.High, []string{"T1110"}, deOrigin, "signature")
	put("a2", alert.Critical, []string{"T1003"}, jpOrigin, "signature")
	put("a3", alert.Low, nil, nil, "signature")
	put("a4", alert.Low, nil, nil, "health")
	raw.Close()

	db := openAt(t, path, Options{})
	if got := schemaVersions(t, db); len(got) != len(migrations) {
		t.Fatalf("versions after upgrade = %v, want 1..%d", got, len(migrations))
	}
	type cols struct {
		typ, ip, country, org string
		asn                   int64
		lat                   sql.NullFloat64
	}
	for id, want := range map[string]cols{
		"a1": {"brute_force", "88.198.23.77", "DE", "Hetzner Online GmbH", 24940, sql.NullFloat64{}},
		"a2": {"scanner", "49.212.34.45", "JP", "SAKURA Internet Inc.", 9371, sql.NullFloat64{Float64: 34.69, Valid: true}},
		"a3": {"other", "", "", "", 0, sql.NullFloat64{}},
		"a4": {"", "", "", "", 0, sql.NullFloat64{}},
	} {
		var c cols
		if err := db.r.QueryRowContext(ctx, `SELECT threat_type, origin_ip, origin_country, origin_as_org, origin_asn, origin_lat FROM alerts WHERE id = ?`, id).
			Scan(&c.typ, &c.ip, &c.country, &c.org, &c.asn, &c.lat); err != nil {
			t.Fatal(err)
		}
		if c != want {
			t.Errorf("alert %s after upgrade: %+v, want %+v", id, c, want)
		}
	}
	origins, err := db.ThreatOrigins(ctx, "acme", store.ThreatQuery{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil || len(origins) != 3 {
		t.Errorf("origins after upgrade: %+v, %v; want DE, JP and unknown", origins, err)
	}
	a, err := db.Alert(ctx, "acme", "a2")
	if err != nil || a.Origin == nil || a.Origin.City != "Osaka" {
		t.Errorf("alert a2 after upgrade: origin %+v, %v", a.Origin, err)
	}
}
