package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// paneSignal is a signal of rule from origin o (nil: none) at time at.
func paneSignal(rule, title string, sev alert.Severity, techs []string, at time.Time, host string, o *alert.Origin) alert.Signal {
	ents := []alert.Entity{{Type: alert.EntityHost, Value: host}}
	if o != nil {
		ents = append(ents, alert.Entity{Type: alert.EntityIP, Value: o.IP})
	}
	return alert.Signal{Type: "signature", Rule: alert.RuleRef{ID: rule, Title: title}, Severity: sev, Techniques: techs,
		Entities: ents, DedupKey: alert.DedupKey("pa", rule, ents), Evidence: alert.Evidence{Time: at}, Origin: o}
}

func TestThreatRoutes(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	keys := map[string]string{}
	for _, ws := range []string{"pa", "pb"} {
		if _, err := db.CreateWorkspace(ctx, ws, tenant.TierStandard); err != nil {
			t.Fatal(err)
		}
		secret, k, err := NewKey(ws, tenant.ScopeRead, "r", now)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		keys[ws] = secret
	}
	de := &alert.Origin{IP: "88.198.23.77", Country: "DE", ASN: 24940, ASOrg: "Hetzner Online GmbH"}
	fr := &alert.Origin{IP: "91.121.10.200", Country: "FR", ASN: 16276, ASOrg: "OVH SAS"}
	jp := &alert.Origin{IP: "49.212.34.45", Country: "JP", ASN: 9371, City: "Osaka", Lat: 34.69, Lon: 135.5,
		Indicators: []alert.IndicatorRef{{Kind: "ip", Value: "49.212.34.45", ThreatType: "scanner", Confidence: 70, Feed: "t"}}}
	at := func(h int) time.Time { return now.Add(time.Duration(-h) * time.Hour) }
	sigs := []alert.Signal{
		paneSignal("fail", "Login Failed", alert.Medium, []string{"T1110"}, at(3), "h1", de),
		paneSignal("fail", "Login Failed", alert.Medium, []string{"T1110"}, at(3), "h2", de),
		paneSignal("dump", "LSASS", alert.High, []string{"T1003.001"}, at(2), "h1", de),
		paneSignal("fail", "Login Failed", alert.Low, []string{"T1110"}, at(1), "h3", fr),
		paneSignal("fail", "Login Failed", alert.Medium, []string{"T1110"}, at(1), "h4", jp),
		paneSignal("ps", "Encoded PowerShell", alert.Critical, nil, at(1), "h5", nil),
		paneSignal("old", "Login Failed", alert.Critical, []string{"T1110"}, at(30), "h6", fr), // out of the default range
	}
	sigs[5].Tactics = []string{"execution"}
	theirs := paneSignal("fail", "Login Failed", alert.Critical, []string{"T1110"}, at(1), "x", &alert.Origin{IP: "186.202.153.60", Country: "BR"})
	for _, b := range []*store.Batch{
		{ID: event.NewID(), Workspace: "pa", Source: "s", Format: "json", Received: now, Signals: sigs},
		{ID: event.NewID(), Workspace: "pb", Source: "s", Format: "json", Received: now, Signals: []alert.Signal{theirs}},
	} {
		if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
			t.Fatal(err)
		}
	}
	api, err := New(Config{Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, ws string, code int, v any) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+keys[ws])
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != code {
			t.Fatalf("GET %s: %d, want %d: %s", path, rec.Code, code, rec.Body)
		}
		if v != nil {
			if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
				t.Fatalf("GET %s: %v: %s", path, err, rec.Body)
			}
		}
	}

	var types struct {
		Bucket string `json:"bucket"`
		Types  []struct {
			ThreatType string           `json:"threat_type"`
			Alerts     int64            `json:"alerts"`
			BySeverity map[string]int64 `json:"by_severity"`
		} `json:"types"`
		Severities []struct {
			Severity string `json:"severity"`
			Alerts   int64  `json:"alerts"`
		} `json:"severities"`
		Series []store.ThreatBucket `json:"series"`
	}
	get("/api/v1/threats/types", "pa", 200, &types)
	if types.Bucket != "1h0m0s" || len(types.Series) != 3 {
		t.Errorf("default bucket %s and %d buckets, want 1h and 3 (hours with alerts)", types.Bucket, len(types.Series))
	}
	want := map[string]int64{"brute_force": 3, "credential_dumping": 1, "scanner": 1, "execution": 1}
	if len(types.Types) != len(want) || types.Types[0].ThreatType != "brute_force" {
		t.Errorf("types %+v, want %v, most first", types.Types, want)
	}
	for _, ty := range types.Types {
		if want[ty.ThreatType] != ty.Alerts {
			t.Errorf("type %s: %d alerts, want %d", ty.ThreatType, ty.Alerts, want[ty.ThreatType])
		}
	}
	if len(types.Severities) != 4 || types.Severities[0].Severity != "critical" || types.Severities[0].Alerts != 1 {
		t.Errorf("severities %+v, want critical first, once (the old critical is out of range)", types.Severities)
	}
	get("/api/v1/threats/types?bucket=1d&from=2026-11-24T12:00:00Z", "pa", 200, &types)
	if types.Bucket != "24h0m0s" || len(types.Series) != 2 {
		t.Errorf("1d buckets over 2 days: %s, %d buckets; want 2 (the old alert's day, today's)", types.Bucket, len(types.Series))
	}
	get("/api/v1/threats/types?bucket=1s", "pa", 422, nil)
	get("/api/v1/threats/types?bucket=1m&from=2026-01-01T00:00:00Z", "pa", 422, nil) // too many buckets
	get("/api/v1/threats/origins?from=2026-11-27T00:00:00Z", "pa", 422, nil)         // from after to

	var origins struct {
		Countries []struct {
			Country string `json:"country"`
			Numeric string `json:"numeric"`
			Name    string `json:"country_name"`
			Alerts  int64  `json:"alerts"`
			Worst   string `json:"worst_severity"`
			Top     []struct {
				ThreatType string `json:"threat_type"`
				Alerts     int64  `json:"alerts"`
			} `json:"top_threat_types"`
		} `json:"countries"`
		Networks []struct {
			ASN     uint32 `json:"asn"`
			ASOrg   string `json:"as_org"`
			Country string `json:"country"`
			Alerts  int64  `json:"alerts"`
		} `json:"networks"`
		Unknown struct {
			Alerts int64 `json:"alerts"`
		} `json:"unknown"`
	}
	get("/api/v1/threats/origins", "pa", 200, &origins)
	if len(origins.Countries) != 3 {
		t.Fatalf("countries %+v, want DE, FR, JP (not pb's BR)", origins.Countries)
	}
	c := origins.Countries[0]
	if c.Country != "DE" || c.Numeric != "276" || c.Name != "Germany" || c.Alerts != 3 || c.Worst != "high" ||
		len(c.Top) != 2 || c.Top[0].ThreatType != "brute_force" || c.Top[0].Alerts != 2 {
		t.Errorf("first country %+v, want Germany: 3 alerts, worst high, brute force first", c)
	}
	if origins.Unknown.Alerts != 1 {
		t.Errorf("unknown origin: %d alerts, want 1", origins.Unknown.Alerts)
	}
	if len(origins.Networks) != 3 || origins.Networks[0].ASN != 24940 || origins.Networks[0].Country != "DE" || origins.Networks[0].ASOrg != "Hetzner Online GmbH" {
		t.Errorf("networks %+v", origins.Networks)
	}

	var m struct {
		Countries []struct {
			Country string `json:"country"`
			Numeric string `json:"numeric"`
		} `json:"countries"`
		Points []struct {
			Lat, Lon float64
			City     string `json:"city"`
			Alerts   int64  `json:"alerts"`
			Worst    string `json:"worst_severity"`
		} `json:"points"`
	}
	get("/api/v1/threats/map", "pa", 200, &m)
	nums := map[string]string{}
	for _, c := range m.Countries {
		nums[c.Country] = c.Numeric
	}
	if nums["DE"] != "276" || nums["FR"] != "250" || nums["JP"] != "392" || len(nums) != 3 {
		t.Errorf("map countries %v", nums)
	}
	if len(m.Points) != 1 || m.Points[0].City != "Osaka" || m.Points[0].Lat != 34.69 || m.Points[0].Worst != "medium" {
		t.Errorf("points %+v, want Osaka", m.Points)
	}

	var theirsView struct {
		Countries []struct {
			Country string `json:"country"`
		} `json:"countries"`
	}
	get("/api/v1/threats/map", "pb", 200, &theirsView)
	if len(theirsView.Countries) != 1 || theirsView.Countries[0].Country != "BR" {
		t.Errorf("pb's map %+v, want its own BR only", theirsView.Countries)
	}
}

func TestParseBucket(t *testing.T) {
	for in, want := range map[string]time.Duration{"1h": time.Hour, "15m": 15 * time.Minute, "1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "90s": 90 * time.Second} {
		if d, ok := parseBucket(in); !ok || d != want {
			t.Errorf("parseBucket(%q) = %v, %v; want %v", in, d, ok, want)
		}
	}
	for _, in := range []string{"", "1s", "0d", "-1d", "d", "1.5d", "1w", "-1h", "abc"} {
		if d, ok := parseBucket(in); ok {
			t.Errorf("parseBucket(%q) = %v, accepted", in, d)
		}
	}
}

func FuzzParseBucket(f *testing.F) {
	for _, s := range []string{"1h", "15m", "7d", "0d", "-1d", "1.5d", "99999999999999d", "1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := parseBucket(s); ok && d < time.Minute {
			t.Errorf("parseBucket(%q) accepted %v, under a minute", s, d)
		}
	})
}
