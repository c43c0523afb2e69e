package main

import (
	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
)

// backend is everything `vigil serve` and the commands that open the data
// dir ask of a store. SQLite (the default) and PostgreSQL (store: postgres)
// both provide it; the compile-time checks below keep them in step.
type backend interface {
	store.Store
	store.Users
	store.Incidents
	store.IncidentCorrelation
	store.AlertStream
	store.Assets
	store.BulkAlerts
	store.Decisions
	store.Intel
	incidentStore
	store.Noise
	store.Threats
	analysis.CorrelationStates
	analysis.SuppressionLookup
	analysis.DisabledRuleLookup
	baselineDB // the baselines' entries (baseline.go)
	Close() error
}

var _ backend = (*sqlite.DB)(nil)

var _ backend = (*postgres.DB)(nil)
