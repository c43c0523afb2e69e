package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/vigil-sec/vigil/respond"
)

// decisionExpiryEvery is how often serve ends the block decisions whose
// time ran out, so that their expiry is audited when it happens; reads
// (lists, the bouncers' stream) compute it themselves in any case.
const decisionExpiryEvery = 10 * time.Second

// decisionKeep is how long an ended decision stays readable (GET
// /api/v1/decisions), purged hourly after; the audit log keeps its lines.
const decisionKeep = 30 * 24 * time.Hour

// startRespond runs the block decisions' expiry and, when the config file
// has a respond section, the automation engine on the alert and incident
// streams, until ctx ends.
func (s *server) startRespond(ctx context.Context, log *slog.Logger) error {
	db := s.store
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(decisionExpiryEvery)
		defer t.Stop()
		var purged time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if n, err := db.ExpireDecisions(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("block decision expiry failed", "err", err)
			} else if n > 0 {
				log.Info("block decisions expired", "decisions", n)
			}
			if time.Since(purged) < time.Hour {
				continue
			}
			purged = time.Now()
			if n, err := db.PurgeDecisions(ctx, purged.Add(-decisionKeep)); err != nil && ctx.Err() == nil {
				log.Warn("ended block decision purge failed", "err", err)
			} else if n > 0 {
				log.Info("ended block decisions purged", "decisions", n)
			}
		}
	}()
	if s.cfg.Respond.Empty() {
		return nil
	}
	// The incident side is there once the store keeps incidents; until
	// then, rules on alerts still run.
	incidents, _ := any(db).(respond.Incidents)
	if incidents == nil {
		log.Warn("this store keeps no incidents: rules on incidents and notifications stay idle")
	}
	e, err := respond.NewEngine(respond.EngineConfig{Config: s.cfg.Respond, Alerts: db, Incidents: incidents, Decisions: db, Logger: log})
	if err != nil {
		return err
	}
	log.Info("response automation running", "rules", len(s.cfg.Respond.Automation), "playbooks", len(s.cfg.Respond.Playbooks),
		"notifications", len(s.cfg.Respond.Notifications))
	s.respond.Store(e)
	s.bg.Add(1)
	go func() { defer s.bg.Done(); e.Run(ctx) }()
	return nil
}

// serverAutomation shows the server's engine to the API
// (GET /api/v1/automation); nothing before it started or without one.
type serverAutomation struct{ s *server }

func (a serverAutomation) Config() respond.Config {
	if e := a.s.respond.Load(); e != nil {
		return e.Config()
	}
	return respond.Config{}
}

func (a serverAutomation) Status(workspace string) ([]respond.RuleStatus, []respond.PlaybookStatus) {
	if e := a.s.respond.Load(); e != nil {
		return e.Status(workspace)
	}
	return nil, nil
}
