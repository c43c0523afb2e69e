package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// The dashboard's pages against a store of the size the issue names
// (100,000 alerts, 5,000 incidents): every page must render on the server
// in under 200 ms. BenchmarkPage measures them; TestSeededPages checks
// that each answers 200, so that a broken page fails the suite.

const (
	seedWorkspace = "bench"
	seedAlerts    = 100_000
	seedIncidents = 5_000
	// seedPerIncident alerts are in each incident.
	seedPerIncident = 4
	seedSecret      = "vgs_bench-session-secret"
)

// seedEnd is the newest alert's time; the alerts span the 30 days
// before it, as the demo's data lies in the past.
var seedEnd = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// pagePaths are the page paths measured and checked. {alert} and
// {incident} stand for a seeded alert's and incident's id. Add a page
// here when it is built.
var pagePaths = []string{
	"/", "/alerts", "/alerts/{alert}", "/incidents", "/incidents/{incident}", "/threats",
	"/databases", "/sources", "/rules", "/intel", "/assets", "/settings",
	// Filters and ranges that read more than the first page.
	"/?range=all", "/alerts?severity=high&status=new,active", "/alerts?sort=last_seen&status=resolved",
	"/incidents?stage=close", "/incidents?q=host", "/threats?range=365d",
}

// seededSite is the dashboard over the seeded store, with a signed-in
// admin's session cookie.
type seededSite struct {
	handler    *Handler
	alertID    string
	incidentID string
	seedTime   time.Duration
	// seedCPU is the CPU time the seeding took (0 where unknown).
	seedCPU time.Duration
	// phases says how long each part of the seeding took.
	phases string
}

// seedStore is what the seeding and the pages need of a store. It is the
// suite's store (SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres:
// internal/teststore).
type seedStore interface {
	store.Store
	store.Assets
	store.Users
	store.IncidentCorrelation
}

var (
	seedOnce sync.Once
	seedDir  string
	seeded   *seededSite
	seedErr  error
	// seedDone closes the seeded store (and drops its PostgreSQL schema).
	seedDone func() error
)

// TestMain removes the process's seeded store when the tests end.
func TestMain(m *testing.M) {
	code := m.Run()
	if seedDone != nil {
		if err := seedDone(); err != nil {
			fmt.Fprintf(os.Stderr, "remove the seeded store: %v\n", err)
		}
	}
	if seedDir != "" {
		os.RemoveAll(seedDir)
	}
	os.Exit(code)
}

// seededDashboard seeds the store on first use (once a process, in a
// temporary directory) and builds the API and dashboard over it.
func seededDashboard(tb testing.TB) *seededSite {
	tb.Helper()
	seedOnce.Do(func() {
		seedDir, seedErr = os.MkdirTemp("", "vigil-web-bench-")
		if seedErr == nil {
			seeded, seedErr = seedSite(context.Background(), seedDir)
		}
	})
	if seedErr != nil {
		tb.Fatal(seedErr)
	}
	return seeded
}

func seedSite(ctx context.Context, dir string) (*seededSite, error) {
	start := time.Now()
	cpu0, _ := cpuTime()
	// s2 blocks on SQLite: a third of zstd's CPU, and the pages read
	// alerts more than events.
	db, done, err := teststore.OpenShared[seedStore](ctx, dir, teststore.Options{Compression: "s2"})
	seedDone = done
	if err != nil {
		return nil, fmt.Errorf("open seed store: %w", err)
	}
	// The store stays open for the process: every test and benchmark
	// reads it.
	if _, err := db.CreateWorkspace(ctx, seedWorkspace, tenant.TierStandard); err != nil {
		return nil, fmt.Errorf("create workspace: %w", err)
	}
	if err := seedAlertsInto(ctx, db); err != nil {
		return nil, err
	}
	alertsDone := time.Since(start)
	incID, alertID, err := seedIncidentsInto(ctx, db)
	if err != nil {
		return nil, err
	}
	phases := fmt.Sprintf("alerts %s, incidents %s", alertsDone.Round(time.Millisecond), (time.Since(start) - alertsDone).Round(time.Millisecond))
	if err := seedSession(ctx, db); err != nil {
		return nil, err
	}
	a, err := api.New(api.Config{Store: db, Assets: db, Version: "bench"})
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	h, err := New(Config{API: a, Version: "bench"})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return &seededSite{handler: h, alertID: alertID, incidentID: incID, seedTime: time.Since(start), seedCPU: cpuSince(cpu0), phases: phases}, nil
}

// seedRules are the rules the seeded alerts come from: varied severities
// and tactics, as the threat-type and overview charts group them.
var seedRules = []struct {
	id, title, tactic string
	sev               alert.Severity
}{
	{"ssh-brute-force", "SSH brute force", "credential-access", alert.High},
	{"sql-injection", "SQL injection attempt", "initial-access", alert.Critical},
	{"port-scan", "Port scan", "discovery", alert.Low},
	{"impossible-travel", "Impossible travel", "initial-access", alert.Medium},
	{"admin-created", "Administrator account created", "persistence", alert.High},
	{"db-mass-read", "Unusual bulk read from a database", "collection", alert.Medium},
	{"malware-hash", "Known malware hash", "execution", alert.Critical},
	{"tor-exit", "Connection from a Tor exit node", "command-and-control", alert.Informational},
}

var seedCountries = []struct {
	code, name string
	lat, lon   float64
}{
	{"RU", "Russia", 55.75, 37.62}, {"CN", "China", 39.9, 116.4}, {"US", "United States", 38.9, -77.04},
	{"BR", "Brazil", -23.55, -46.63}, {"NL", "Netherlands", 52.37, 4.9}, {"IN", "India", 28.61, 77.21},
	{"DE", "Germany", 52.52, 13.4}, {"VN", "Vietnam", 21.03, 105.85},
}

var seedSources = []string{"fw01", "sql01", "auth01", "web01"}

// seedAlertsInto commits the alerts as the detect stage does: batches of
// events, each with the signal it raised (one alert each: distinct keys).
func seedAlertsInto(ctx context.Context, db seedStore) error {
	for _, s := range seedSources {
		if err := db.PutSource(ctx, tenant.Source{Workspace: seedWorkspace, Name: s, Format: "json", Created: seedEnd.Add(-60 * 24 * time.Hour)}); err != nil {
			return fmt.Errorf("put source %s: %w", s, err)
		}
	}
	const perBatch = 5_000
	ids := event.NewIDSource()
	span := 30 * 24 * time.Hour
	received := seedEnd.Add(time.Minute)
	for from := 0; from < seedAlerts; from += perBatch {
		src := seedSources[(from/perBatch)%len(seedSources)]
		b := &store.Batch{ID: ids.New(received), Workspace: seedWorkspace, Source: src, Format: "json", Received: received}
		for i := from; i < min(from+perBatch, seedAlerts); i++ {
			// span/seedAlerts first: time.Duration(i)*span overflows int64
			// past i = 3,558 and scattered the alerts over a few days.
			at := seedEnd.Add(-span + span/seedAlerts*time.Duration(i))
			r := seedRules[i%len(seedRules)]
			c := seedCountries[(i/3)%len(seedCountries)]
			// 2,000 attacking addresses, each back every few hours.
			ip := fmt.Sprintf("198.51.%d.%d", (i%2000)/250, i%250+1)
			ev := store.StoredEvent{ID: ids.New(at), Workspace: seedWorkspace, Source: src, Format: "json",
				Time: at, Received: received, Raw: fmt.Appendf(nil, `{"src":%q,"user":"u%d","rule":%q}`, ip, i%500, r.id)}
			ev.Common[event.SourceIP] = ip
			ev.Common[event.UserName] = fmt.Sprintf("u%d", i%500)
			ents := []alert.Entity{{Type: alert.EntityIP, Value: ip}, {Type: alert.EntityHost, Value: fmt.Sprintf("host-%d", i%300)},
				{Type: alert.EntityAccount, Value: fmt.Sprintf("u%d", i%500)}}
			if r.id == "db-mass-read" || r.id == "sql-injection" {
				ents = append(ents, alert.Entity{Type: alert.EntityDatabase, Value: fmt.Sprintf("sql%02d/db%d", i%4, i%7)})
				// A SQL audit record: the databases page groups these
				// alerts (a quarter of all) by server and database.
				ev.Logsource.Category = "database"
				ev.Common[event.HostName] = fmt.Sprintf("sql%02d", i%4)
				ev.Common[event.DBName] = fmt.Sprintf("db%d", i%7)
			}
			b.Events = append(b.Events, ev)
			// One origin in a hundred names its address: an address
			// makes the store estimate intent from the address's recent
			// alerts, the seeding's dearest step, and the pages group
			// origins by country and network.
			origin := &alert.Origin{Scope: "public", Country: c.code, CountryName: c.name, Lat: c.lat, Lon: c.lon, ASN: uint32(64500 + i%20), ASOrg: "Example AS"}
			if i%100 == 0 {
				origin.IP = ip
			}
			b.Signals = append(b.Signals, alert.Signal{Workspace: seedWorkspace, Type: "signature",
				Rule: alert.RuleRef{ID: r.id, Title: r.title}, Severity: r.sev, Tactics: []string{r.tactic},
				Entities: ents, DedupKey: alert.DedupKey(seedWorkspace, fmt.Sprintf("%s-%d", r.id, i), ents),
				Evidence: alert.Evidence{EventID: ev.ID.String(), Time: at},
				Origin:   origin})
		}
		if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
			return fmt.Errorf("commit seed batch at alert %d: %w", from, err)
		}
	}
	return nil
}

// seedIncidentsInto groups alerts into incidents as correlation does
// (ApplyIncidents, in batches), spread over the five stages. It returns
// an incident's and an alert's id.
func seedIncidentsInto(ctx context.Context, db seedStore) (incidentID, alertID string, err error) {
	need := seedIncidents * seedPerIncident
	var alertIDs []string
	cursor := ""
	for len(alertIDs) < need {
		page, next, err := db.Alerts(ctx, seedWorkspace, store.AlertQuery{Limit: 1000, Cursor: cursor})
		if err != nil {
			return "", "", fmt.Errorf("list seeded alerts: %w", err)
		}
		for _, a := range page {
			alertIDs = append(alertIDs, a.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(alertIDs) < need {
		return "", "", fmt.Errorf("seeded %d alerts, want at least %d", len(alertIDs), need)
	}
	stages := []incident.Stage{incident.StageDetect, incident.StageAssess, incident.StageDiagnose, incident.StageStabilize, incident.StageClose}
	const perBatch = 500
	seq := int64(0)
	for from := 0; from < seedIncidents; from += perBatch {
		ups := make([]store.IncidentUpdate, 0, perBatch)
		for n := from; n < min(from+perBatch, seedIncidents); n++ {
			r := seedRules[n%len(seedRules)]
			first := seedEnd.Add(-time.Duration(seedIncidents-n) * 8 * time.Minute)
			st := stages[n%len(stages)]
			inc := incident.Incident{ID: fmt.Sprintf("inc-%05d", n), Workspace: seedWorkspace, Title: r.title + " and more",
				Severity: r.sev, Priority: 20 + n%80, Stage: st, Status: incident.StatusOf(st), Tactics: []string{r.tactic},
				RuleIDs: []string{r.id}, FirstSeen: first, LastSeen: first.Add(time.Hour), AlertCount: seedPerIncident,
				Entities: []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("host-%d", n%300)}},
				Created:  first, Updated: first.Add(time.Hour)}
			if st == incident.StageClose {
				inc.Classification = incident.TruePositiveNoImpact
				closed := first.Add(2 * time.Hour)
				inc.Closed = &closed
			}
			up := store.IncidentUpdate{Incident: inc, New: true, AddAlerts: alertIDs[n*seedPerIncident : (n+1)*seedPerIncident]}
			for _, aid := range up.AddAlerts {
				up.Timeline = append(up.Timeline, incident.TimelineEntry{IncidentID: inc.ID, Time: first, Kind: incident.TimelineAlert,
					Actor: incident.CorrelationActor, Summary: r.title, AlertID: aid})
			}
			ups = append(ups, up)
		}
		seq += int64(len(ups))
		if err := db.ApplyIncidents(ctx, "incidents", seq, ups); err != nil {
			return "", "", fmt.Errorf("apply seed incidents at %d: %w", from, err)
		}
	}
	return "inc-00000", alertIDs[0], nil
}

// seedSession makes an admin user and a session whose secret is
// seedSecret, as a sign-in would.
func seedSession(ctx context.Context, db seedStore) error {
	hash, err := tenant.HashPassword("bench admin's password")
	if err != nil {
		return err
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "bench-admin", PasswordHash: hash, Created: seedEnd,
		Roles: []tenant.Membership{{Workspace: seedWorkspace, Role: tenant.RoleAdmin}}}); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	sum := sha256.Sum256([]byte(seedSecret))
	now := time.Now().UTC()
	// Far from expiring, and touched recently enough that a request
	// does not write its last use.
	return db.CreateSession(ctx, tenant.Session{ID: "bench-session", Hash: sum[:], User: "bench-admin", Workspace: seedWorkspace,
		Role: tenant.RoleAdmin, CSRF: "bench-csrf", Created: now, LastSeen: now.Add(24 * time.Hour), Expires: now.Add(48 * time.Hour)})
}

func cpuSince(cpu0 time.Duration) time.Duration {
	cpu1, ok := cpuTime()
	if !ok {
		return 0
	}
	return cpu1 - cpu0
}

// path is p with the seeded ids in place.
func (s *seededSite) path(p string) string {
	return strings.NewReplacer("{alert}", s.alertID, "{incident}", s.incidentID).Replace(p)
}

// built reports whether the dashboard has a page at path yet: a page
// not built answers 404 from the catch-all, which is no failure of it.
func (s *seededSite) built(path string) bool {
	_, pattern := s.handler.mux.Handler(httptest.NewRequest(http.MethodGet, path, nil))
	return pattern != "/"
}

// get asks the dashboard for path as the signed-in admin.
func (s *seededSite) get(path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: seedSecret})
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	return w
}

// TestSeededPages: every page answers 200 with a full page over the
// seeded store.
func TestSeededPages(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 alerts")
	}
	s := seededDashboard(t)
	t.Logf("seeded %d alerts and %d incidents in %s, %s of CPU (%s)", seedAlerts, seedIncidents,
		s.seedTime.Round(time.Millisecond), s.seedCPU.Round(time.Millisecond), s.phases)
	// The budget is CPU time: on a machine shared with other work, wall
	// time says more about the others.
	if s.seedCPU > 60*time.Second {
		t.Errorf("seeding took %s of CPU, want under 60 s", s.seedCPU)
	}
	for _, p := range pagePaths {
		if !s.built(s.path(p)) {
			t.Logf("GET %s: no such page yet", p)
			continue
		}
		w := s.get(s.path(p))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200; %.300s", p, w.Code, w.Body)
			continue
		}
		if body := w.Body.String(); !strings.Contains(body, "</html>") || !strings.Contains(body, "bench-admin") {
			t.Errorf("GET %s: not a signed-in page: %.300s", p, body)
		}
	}
}

// BenchmarkPage renders each page of pagePaths over the seeded store.
func BenchmarkPage(b *testing.B) {
	s := seededDashboard(b)
	for _, p := range pagePaths {
		path := s.path(p)
		if !s.built(path) {
			b.Logf("%s: no such page yet", p)
			continue
		}
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			// The process's CPU time a page too: on a machine shared with
			// other work, wall time says more about the others.
			cpu0, cpuOK := cpuTime()
			for b.Loop() {
				if w := s.get(path); w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d: %.300s", path, w.Code, w.Body)
				}
			}
			if cpuOK && b.N > 0 {
				b.ReportMetric(float64(cpuSince(cpu0))/float64(b.N)/1e6, "cpu-ms/op")
			}
		})
	}
}
