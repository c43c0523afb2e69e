package api

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestGeoIPRoute(t *testing.T) {
	built := time.Date(2026, 6, 17, 19, 51, 40, 0, time.UTC)
	f := newFixtureWith(t, newFakeStore(), func(c *Config) {
		c.GeoIP = func() []GeoIPDatabase {
			return []GeoIPDatabase{{Path: "embedded:x", Type: "country", Built: built, Attribution: "data by nro.net, CC BY 4.0"}}
		}
	})
	if rec := f.do(http.MethodGet, "/api/v1/geoip", "", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("no key: %d", rec.Code)
	}
	rec := f.do(http.MethodGet, "/api/v1/geoip", "b-read", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var out struct {
		Databases []GeoIPDatabase `json:"databases"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Databases) != 1 || !out.Databases[0].Built.Equal(built) || out.Databases[0].Attribution == "" {
		t.Errorf("%+v", out)
	}
	// Without GeoIP the list is empty, not null.
	g := newFixture(t, newFakeStore())
	rec = g.do(http.MethodGet, "/api/v1/geoip", "a-read", nil)
	if rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) || string(rec.Body.Bytes()) == "" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Databases == nil || len(out.Databases) != 0 {
		t.Errorf("without GeoIP: %s", rec.Body)
	}
}

// The pane's answers carry the GeoIP databases they were located with and
// the attribution to show with them; without GeoIP an empty list and no
// attribution.
func TestThreatAnswersCreditGeoIP(t *testing.T) {
	db := openSQLite(t)
	built := time.Date(2026, 6, 17, 19, 51, 40, 0, time.UTC)
	dbs := []GeoIPDatabase{
		{Path: "embedded:geo-whois-asn-country@2.3.2026061719", Type: "country", Built: built, Attribution: "RIR data by nro.net, CC BY 4.0"},
		{Path: "/var/lib/vigil/asn.mmdb", Type: "asn", Built: built, Attribution: "ASN data, CC BY 4.0"},
	}
	f := newFixtureWith(t, db, func(c *Config) { c.GeoIP = func() []GeoIPDatabase { return dbs } })
	g := newFixture(t, openSQLite(t))
	for _, route := range []string{"/api/v1/threats/types", "/api/v1/threats/origins", "/api/v1/threats/map"} {
		var out GeoIPCredit
		want(t, f.do(http.MethodGet, route, "a-read", nil), http.StatusOK, &out)
		if len(out.GeoIP) != 2 || out.GeoIP[0].Path != dbs[0].Path || !out.GeoIP[0].Built.Equal(built) ||
			out.Attribution != "RIR data by nro.net, CC BY 4.0; ASN data, CC BY 4.0" {
			t.Errorf("%s: credit %+v", route, out)
		}
		rec := g.do(http.MethodGet, route, "a-read", nil)
		var bare map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &bare); err != nil || string(bare["geoip"]) != "[]" || bare["attribution"] != nil {
			t.Errorf("%s without GeoIP: %s", route, rec.Body)
		}
	}
}
