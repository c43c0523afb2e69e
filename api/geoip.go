package api

import (
	"context"
	"net/http"
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
	out.Body.Databases = []GeoIPDatabase{}
	if a.geoIP != nil {
		out.Body.Databases = append(out.Body.Databases, a.geoIP()...)
	}
	return out, nil
}
