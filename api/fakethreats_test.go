package api

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Threats = (*fakeStore)(nil)

// paneAlerts are the workspace's alerts the pane counts in q's range.
func (s *fakeStore) paneAlerts(ws string, q store.ThreatQuery) ([]alert.Alert, error) {
	if !q.From.Before(q.To) {
		return nil, fmt.Errorf("threats of %s: %w", ws, store.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []alert.Alert
	for _, a := range s.alerts {
		if a.Workspace == ws && !a.LastSeen.Before(q.From) && a.LastSeen.Before(q.To) && alert.ThreatType(&a) != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *fakeStore) ThreatSeries(_ context.Context, ws string, q store.ThreatQuery) ([]store.ThreatBucket, error) {
	as, err := s.paneAlerts(ws, q)
	if err != nil || q.Bucket <= 0 {
		return nil, fmt.Errorf("threats of %s: %v: %w", ws, err, store.ErrInvalid)
	}
	var out []store.ThreatBucket
	for _, a := range as {
		start := q.From.Add(a.LastSeen.Sub(q.From) / q.Bucket * q.Bucket)
		out = append(out, store.ThreatBucket{Start: start, Counts: []store.ThreatCount{{
			ThreatType: alert.ThreatType(&a), Severity: a.Severity, Alerts: 1, Events: int64(a.Count)}}})
	}
	return out, nil
}

func (s *fakeStore) ThreatOrigins(_ context.Context, ws string, q store.ThreatQuery) ([]store.ThreatOrigin, error) {
	as, err := s.paneAlerts(ws, q)
	var out []store.ThreatOrigin
	for _, a := range as {
		o := store.ThreatOrigin{ThreatType: alert.ThreatType(&a), Worst: a.Severity, Alerts: 1, Events: int64(a.Count)}
		if a.Origin != nil {
			o.Country, o.ASN, o.ASOrg = a.Origin.Country, a.Origin.ASN, a.Origin.ASOrg
		}
		out = append(out, o)
	}
	return out, err
}

func (s *fakeStore) ThreatPoints(_ context.Context, ws string, q store.ThreatQuery, limit int) ([]store.ThreatPoint, error) {
	as, err := s.paneAlerts(ws, q)
	var out []store.ThreatPoint
	for _, a := range as {
		if a.Origin != nil && (a.Origin.Lat != 0 || a.Origin.Lon != 0) && len(out) < limit {
			out = append(out, store.ThreatPoint{Lat: a.Origin.Lat, Lon: a.Origin.Lon, Country: a.Origin.Country, City: a.Origin.City,
				ThreatType: alert.ThreatType(&a), Worst: a.Severity, Alerts: 1, Events: int64(a.Count)})
		}
	}
	return out, err
}
