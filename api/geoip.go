package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// GeoIPDatabase describes a GeoIP database the enrichment step uses: the
// licence of the default one asks that its source be shown with its build
// date.
type GeoIPDatabase struct {
	Path        string    `json:"path" doc:"the file, or embedded:NAME for the built-in database"`
	Type        string    `json:"type" doc:"the database_type of the file's metadata"`
	Built       time.Time `json:"built" doc:"build date of the data (the file's build_epoch)"`
	Description string    `json:"description,omitempty"`
	Attribution string    `json:"attribution,omitempty" doc:"the data's attribution, to show wherever its results are shown"`
	LoadedAt    time.Time `json:"loaded_at" doc:"when the file was (re)loaded"`
}

type geoIPOutput struct {
	Body struct {
		Databases []GeoIPDatabase `json:"databases" nullable:"false"`
	}
}

func (a *API) registerGeoIP(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "get-geoip",
		Method:      http.MethodGet,
		Path:        "/api/v1/geoip",
		Summary:     "GeoIP databases in use",
		Description: "The databases that give alerts their origin (country, city, AS), with their build dates and attributions.",
		Tags:        []string{"enrichment"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden},
	}, a.getGeoIP)
}

func (a *API) getGeoIP(ctx context.Context, _ *struct{}) (*geoIPOutput, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	out := &geoIPOutput{}
	out.Body.Databases = a.geoIPDatabases()
	return out, nil
}

// geoIPDatabases lists the databases in use, never nil.
func (a *API) geoIPDatabases() []GeoIPDatabase {
	out := []GeoIPDatabase{}
	if a.geoIP != nil {
		out = append(out, a.geoIP()...)
	}
	return out
}

// GeoIPCredit is what an answer located with GeoIP data carries so that
// whoever shows it can credit the data as its licence asks: the databases
// (name, build date, attribution) and their attributions in one line.
type GeoIPCredit struct {
	GeoIP       []GeoIPDatabase `json:"geoip" nullable:"false" doc:"The GeoIP databases the origins were located with (as GET /api/v1/geoip lists them); empty when the server has none."`
	Attribution string          `json:"attribution,omitempty" doc:"The databases' attributions joined with '; ': show it with the countries, networks and map points."`
}

func (a *API) geoIPCredit() GeoIPCredit {
	c := GeoIPCredit{GeoIP: a.geoIPDatabases()}
	var parts []string
	for _, d := range c.GeoIP {
		if d.Attribution != "" && !slices.Contains(parts, d.Attribution) {
			parts = append(parts, d.Attribution)
		}
	}
	c.Attribution = strings.Join(parts, "; ")
	return c
}
