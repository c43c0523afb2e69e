package sqlite

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// Bounds of the intent estimate's look-back: the alerts of a source address
// it reads, and how far back.
const (
	intentLookback = 24 * time.Hour
	intentPeers    = 200 // recent alerts of the address in the workspace
	intentSpread   = 100 // alerts of the address read to count workspaces
)

// Peers are read without their evidence, which the estimate does not need.
var sqlIntentPeers = `SELECT ` + strings.Replace(alertColumns, "evidence, evidence_n", "NULL, 0", 1) + `
	FROM alerts INDEXED BY alerts_origin_ip
	WHERE origin_ip = ? AND origin_ip != '' AND workspace = ? AND last_seen >= ?
	ORDER BY last_seen DESC LIMIT ` + fmt.Sprint(intentPeers)

const sqlIntentWorkspaces = `SELECT DISTINCT workspace FROM (SELECT workspace FROM alerts INDEXED BY alerts_origin_ip
	WHERE origin_ip = ? AND origin_ip != '' AND last_seen >= ? LIMIT ` + "100" + `)`

// estimateIntents sets the intent of every alert the commit touched, from
// the recent alerts of its source address in the store and in this commit.
// Alerts of one workspace and address share their facts but for their own
// indicators, so the store is asked once for each.
func (c *committer) estimateIntents() error {
	type group struct {
		ws, ip string
		since  time.Time
		alerts []*alert.Alert
	}
	groups := map[string]*group{}
	var order []*group
	for _, a := range c.order {
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
		since := nanos(g.since.Add(-intentLookback))
		peers, err := queryRows(c.ctx, c.tx, sqlIntentPeers, []any{g.ip, g.ws, since}, scanAlert)
		if err != nil {
			return fmt.Errorf("commit: intent: recent alerts of %s: %w", g.ip, err)
		}
		ws := spread[g.ip]
		if ws == nil {
			ws = map[string]bool{}
			names, err := queryRows(c.ctx, c.tx, sqlIntentWorkspaces, []any{g.ip, since}, func(rs scanner) (string, error) {
				var s string
				return s, rs.Scan(&s)
			})
			if err != nil {
				return fmt.Errorf("commit: intent: workspaces of %s: %w", g.ip, err)
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
			if len(all) < intentPeers {
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
