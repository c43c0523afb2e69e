package store

import (
	"context"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// ThreatQuery selects the alerts of one workspace that the
// threat-intelligence pane counts: those last seen in [From, To). Source
// health alerts are no threat and are left out.
type ThreatQuery struct {
	From, To time.Time
	// Bucket is the width of the series' buckets (ThreatSeries), counted
	// from From.
	Bucket time.Duration
}

// MaxThreatBuckets bounds a series: a range and bucket that make more are
// refused (ErrInvalid).
const MaxThreatBuckets = 1000

// ThreatCount is how many alerts (and the events they count) of one threat
// type and severity a group holds.
type ThreatCount struct {
	ThreatType string         `json:"threat_type"`
	Severity   alert.Severity `json:"severity"`
	Alerts     int64          `json:"alerts"`
	Events     int64          `json:"events"`
}

// ThreatBucket is one bucket of a series: its start, and its counts by threat
// type and severity (buckets without alerts are left out).
type ThreatBucket struct {
	Start  time.Time     `json:"start"`
	Counts []ThreatCount `json:"counts"`
}

// ThreatOrigin is the count of one origin country and network (ASN) and one
// threat type, with the worst severity among its alerts. Country is "" and
// ASN 0 for alerts whose origin is not known.
type ThreatOrigin struct {
	Country    string
	ASN        uint32
	ASOrg      string
	ThreatType string
	Worst      alert.Severity
	Alerts     int64
	Events     int64
}

// ThreatPoint is the count of one located origin (latitude and longitude, as
// a city database gives them) and one threat type.
type ThreatPoint struct {
	Lat, Lon   float64
	Country    string
	City       string
	ThreatType string
	Worst      alert.Severity
	Alerts     int64
	Events     int64
}

// Threats is what the threat-intelligence pane asks of a store. Every
// result is grouped in the store: its size is bounded by the number of
// types, origins and buckets, not of alerts.
type Threats interface {
	ThreatSeries(ctx context.Context, workspace string, q ThreatQuery) ([]ThreatBucket, error)
	ThreatOrigins(ctx context.Context, workspace string, q ThreatQuery) ([]ThreatOrigin, error)
	// ThreatPoints returns at most limit points, those with most alerts
	// first.
	ThreatPoints(ctx context.Context, workspace string, q ThreatQuery, limit int) ([]ThreatPoint, error)
}
