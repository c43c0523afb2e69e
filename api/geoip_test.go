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
