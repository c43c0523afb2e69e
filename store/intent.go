package store

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// Bounds of the intent estimate's look-back: the alerts of a source
// address it reads, and how far back.
const (
	IntentLookback = 24 * time.Hour
	IntentPeers    = 200 // recent alerts of the address in the workspace
	IntentSpread   = 100 // alerts of the address read to count workspaces
)

// IntentSource is what the intent estimate reads of a store, inside the
// commit that asks (so that it sees the commit's own writes).
type IntentSource interface {
	// RecentAlerts are the alerts of workspace whose origin is ip, last
	// seen at or after since, the latest first, at most limit (their
	// evidence may be left out).
	RecentAlerts(ctx context.Context, workspace, ip string, since time.Time, limit int) ([]alert.Alert, error)
	// AlertWorkspaces are the workspaces of the first limit alerts whose
	// origin is ip, last seen at or after since.
	AlertWorkspaces(ctx context.Context, ip string, since time.Time, limit int) ([]string, error)
}

// EstimateIntents sets the intent of every alert a commit touched, from the
// recent alerts of its source address in the store and in the commit.
// Alerts of one workspace and address share their facts but for their own
// indicators, so the store is asked once for each.
func EstimateIntents(ctx context.Context, touched []*alert.Alert, src IntentSource) error {
	type group struct {
		ws, ip string
		since  time.Time
		alerts []*alert.Alert
	}
	groups := map[string]*group{}
	var order []*group
	for _, a := range touched {
		if a.Origin == nil || a.Origin.IP == "" {
			in := alert.EstimateIntent(alert.IntentFactsOf(a, nil, 0))
			a.Intent = &in
			continue
		}
		k := a.Workspace + "\x00" + a.Origin.IP
		g := groups[k]
		if g == nil {
			g = &group{ws: a.Workspace, ip: a.Origin.IP, since: a.LastSeen}
			groups[k] = g
			order = append(order, g)
		}
		if a.LastSeen.Before(g.since) {
			g.since = a.LastSeen
		}
		g.alerts = append(g.alerts, a)
	}
	spread := map[string]map[string]bool{} // address → workspaces
	for _, g := range order {
		since := g.since.Add(-IntentLookback)
		peers, err := src.RecentAlerts(ctx, g.ws, g.ip, since, IntentPeers)
		if err != nil {
			return fmt.Errorf("intent: recent alerts of %s: %w", g.ip, err)
		}
		ws := spread[g.ip]
		if ws == nil {
			ws = map[string]bool{}
			names, err := src.AlertWorkspaces(ctx, g.ip, since, IntentSpread)
			if err != nil {
				return fmt.Errorf("intent: workspaces of %s: %w", g.ip, err)
			}
			for _, n := range names {
				ws[n] = true
			}
			spread[g.ip] = ws
		}
		ws[g.ws] = true
		// This commit's alerts stand for their stored versions.
		mine := make(map[string]bool, len(g.alerts))
		all := make([]alert.Alert, 0, len(g.alerts)+len(peers))
		for _, a := range g.alerts {
			mine[a.ID] = true
			if len(all) < IntentPeers {
				all = append(all, *a)
			}
		}
		for _, p := range peers {
			if !mine[p.ID] {
				all = append(all, p)
			}
		}
		f := alert.IntentFactsOf(g.alerts[0], all, 0)
		for _, a := range g.alerts {
			f.Workspaces = len(spread[g.ip])
			f.MassThreats = alert.MassThreats(a.Origin)
			in := alert.EstimateIntent(f)
			a.Intent = &in
		}
	}
	return nil
}
