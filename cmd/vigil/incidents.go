package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/alertstream"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// incidentsConsumer is the alert stream consumer that correlates alerts
// into incidents; its cursor moves in the transaction that writes the
// incidents (ApplyIncidents), so each alert change is correlated once.
const incidentsConsumer = "incidents"

// incidentChangeHorizon is how long the incident stream keeps its
// changes: longer than any outage of its consumers.
const incidentChangeHorizon = 7 * 24 * time.Hour

// incidentStore is what correlation needs of the store.
type incidentStore interface {
	alertstream.Stream
	Alert(ctx context.Context, workspace, id string) (alert.Alert, error)
	Incident(ctx context.Context, workspace, id string) (incident.Incident, error)
	IncidentOfAlerts(ctx context.Context, workspace string, alertIDs []string) (map[string]string, error)
	IncidentChanges(ctx context.Context, afterSeq int64, limit int) ([]store.IncidentChange, error)
	PurgeIncidentChanges(ctx context.Context, before time.Time) (int64, error)
	store.IncidentCorrelation
}

// correlation runs the incident correlator over the alert stream in
// `vigil serve`. Its correlator is rebuilt from the store at start and
// after a failed write, so that memory never runs ahead of what is stored.
type correlation struct {
	store incidentStore
	cfg   incident.CorrelationConfig
	log   *slog.Logger
	now   func() time.Time
	// crash, in crashpoint builds, may end the process between the
	// correlation of a batch and its write (incidents_crash.go).
	crash func()

	c      *incident.Correlator
	incSeq int64 // the incident stream read up to
}

// incidentConfig is the correlation's part of the settings.
func (c *Config) incidentConfig() (incident.CorrelationConfig, error) {
	cfg := incident.CorrelationConfig{Window: c.IncidentWindow, ReopenWindow: c.IncidentReopenWindow}
	for _, s := range splitListAll(c.IncidentSharedAddresses) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return cfg, fmt.Errorf("setting incident-shared-addresses: %q is neither an address nor a CIDR", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		cfg.SharedAddresses = append(cfg.SharedAddresses, p.Masked())
	}
	if accts := splitListAll(c.IncidentCommonAccounts); len(accts) > 0 {
		cfg.CommonAccounts = accts
	}
	if c.IncidentWindow < 0 || c.IncidentReopenWindow < 0 {
		return cfg, errors.New("settings incident-window and incident-reopen-window cannot be negative")
	}
	return cfg, nil
}

// startIncidents runs the correlation consumer, and the hourly purge of
// the incident stream, until ctx ends; log is the server's logger.
func (s *server) startIncidents(ctx context.Context, log *slog.Logger) error {
	cfg, err := s.cfg.incidentConfig()
	if err != nil {
		return err
	}
	co := &correlation{store: s.store, cfg: cfg, log: log.With("component", compIncidents), now: time.Now, crash: incidentCrashpoint()}
	sub := alertstream.Alerts(incidentsConsumer, s.store, co.handle)
	sub.Batch, sub.Logger = 500, log.With("component", compAlertStream)
	s.bg.Add(2)
	go func() { defer s.bg.Done(); _ = sub.Run(ctx) }()
	go func() { defer s.bg.Done(); co.purge(ctx) }()
	return nil
}

func (co *correlation) purge(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := co.store.PurgeIncidentChanges(ctx, co.now().Add(-incidentChangeHorizon)); err != nil && ctx.Err() == nil {
			co.log.Warn("incident stream purge failed", "err", err)
		} else if n > 0 {
			co.log.Info("retention purged incident stream changes", "changes", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// warmUp builds the correlator from the stored incidents that can still
// be joined. The incident stream's position is taken first: a change
// made during the load is read again by refresh, which is harmless.
func (co *correlation) warmUp(ctx context.Context) error {
	seq := int64(0)
	for {
		cs, err := co.store.IncidentChanges(ctx, seq, 1000)
		if err != nil {
			return fmt.Errorf("incident correlation warm-up: %w", err)
		}
		if len(cs) == 0 {
			break
		}
		seq = cs[len(cs)-1].Seq
	}
	incs, err := co.store.CorrelationCandidates(ctx, co.now().Add(-co.reopenWindow()))
	if err != nil {
		return fmt.Errorf("incident correlation warm-up: %w", err)
	}
	co.c = incident.NewCorrelator(co.cfg, func() string { return event.NewID().String() })
	co.c.Load(incs)
	co.incSeq = seq
	co.log.Info("incident correlation warmed up", "incidents", co.c.Len())
	return nil
}

func (co *correlation) reopenWindow() time.Duration {
	if co.cfg.ReopenWindow > 0 {
		return co.cfg.ReopenWindow
	}
	return incident.DefaultReopenWindow
}

// refresh takes in what responders changed since the last batch (stage,
// merges, splits, incidents made by hand), so that the correlator does not
// act on an incident as it was.
func (co *correlation) refresh(ctx context.Context) error {
	for {
		cs, err := co.store.IncidentChanges(ctx, co.incSeq, 1000)
		if err != nil {
			return fmt.Errorf("incident correlation: read the incident stream: %w", err)
		}
		if len(cs) == 0 {
			return nil
		}
		for _, ch := range cs {
			if ch.Actor == incident.CorrelationActor {
				continue // what the correlator wrote itself
			}
			if err := co.reload(ctx, ch.Workspace, ch.IncidentID); err != nil {
				return err
			}
		}
		co.incSeq = cs[len(cs)-1].Seq
	}
}

// reload reads an incident from the store into the correlator.
func (co *correlation) reload(ctx context.Context, ws, id string) error {
	inc, err := co.store.Incident(ctx, ws, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		co.c.Forget(ws, id)
		return nil
	case err != nil:
		return fmt.Errorf("incident correlation: %w", err)
	}
	co.c.Load([]incident.Incident{inc})
	return nil
}

// handle correlates the alerts a batch of alert changes created or
// updated and writes the incidents with the consumer's cursor.
func (co *correlation) handle(ctx context.Context, changes []store.AlertChange) (err error) {
	defer func() {
		if err != nil {
			co.c = nil // rebuilt from the store before the retry
		}
	}()
	if co.c == nil {
		if err := co.warmUp(ctx); err != nil {
			return err
		}
	}
	if err := co.refresh(ctx); err != nil {
		return err
	}
	// The alerts' incidents as the store knows them: an update of an
	// alert in an incident refreshes that incident.
	byWS := map[string][]string{}
	for _, ch := range changes {
		if ch.Kind != store.ChangeStatus {
			byWS[ch.Workspace] = append(byWS[ch.Workspace], ch.AlertID)
		}
	}
	for ws, ids := range byWS {
		of, err := co.store.IncidentOfAlerts(ctx, ws, ids)
		if err != nil {
			return fmt.Errorf("incident correlation: %w", err)
		}
		for aid, iid := range of {
			if !co.c.Holds(ws, iid) {
				if err := co.reload(ctx, ws, iid); err != nil {
					return err
				}
			}
			co.c.Bind(ws, aid, iid)
		}
	}
	now := co.now().UTC()
	var ups []store.IncidentUpdate
	index := map[[2]string]int{} // (workspace, incident id) → its update in ups
	for _, ch := range changes {
		if ch.Kind == store.ChangeStatus {
			continue // a status says nothing new about what the alert links
		}
		a, err := co.store.Alert(ctx, ch.Workspace, ch.AlertID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("incident correlation: %w", err)
		}
		u := co.c.Add(&a, now)
		if u.Incident.ID == "" {
			continue
		}
		k := [2]string{u.Incident.Workspace, u.Incident.ID}
		i, ok := index[k]
		if !ok {
			i = len(ups)
			index[k] = i
			ups = append(ups, store.IncidentUpdate{})
		}
		up := &ups[i]
		up.Incident = u.Incident
		up.New = up.New || u.New
		up.Reopened = (up.Reopened || u.Reopened) && !up.New
		if u.AlertID != "" {
			up.AddAlerts = append(up.AddAlerts, u.AlertID)
		}
		up.Timeline = append(up.Timeline, u.Timeline...)
	}
	if co.crash != nil {
		co.crash()
	}
	ids := make([]string, len(ups))
	for i := range ups {
		ids[i] = ups[i].Incident.ID
	}
	if err := co.store.ApplyIncidents(ctx, incidentsConsumer, changes[len(changes)-1].Seq, ups); err != nil {
		return fmt.Errorf("incident correlation: %w", err)
	}
	// The incidents as stored (a responder's stage kept, a merge
	// followed) are what the correlator goes on from.
	for i := range ups {
		if ups[i].Incident.ID != ids[i] {
			co.c.Forget(ups[i].Incident.Workspace, ids[i])
		}
		co.c.Load([]incident.Incident{ups[i].Incident})
		for _, aid := range ups[i].AddAlerts {
			co.c.Bind(ups[i].Incident.Workspace, aid, ups[i].Incident.ID)
		}
	}
	if len(ups) > 0 {
		co.log.Debug("incidents correlated", "alert_changes", len(changes), "incidents", len(ups))
	}
	return nil
}
