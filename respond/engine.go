package respond

import (
	"context"
	"errors"
	"fmt"
	"github.com/vigil-sec/vigil/alertstream"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// Cursor names of the engine's two consumers.
const (
	AlertsConsumer    = "respond-alerts"
	IncidentsConsumer = "respond-incidents"
)

// Alerts is what the engine needs of the store's alerts and the alert
// stream (whose cursors it keeps for the incident stream too).
type Alerts interface {
	Alert(ctx context.Context, workspace, id string) (alert.Alert, error)
	AlertChanges(ctx context.Context, afterSeq int64, limit int) ([]store.AlertChange, error)
	AlertChangesSignal() <-chan struct{}
	ConsumerCursor(ctx context.Context, name string) (int64, error)
	SetConsumerCursor(ctx context.Context, name string, seq int64) error
}

// Incidents is what the engine needs of the store's incidents: reading
// them, acting on them as an automation rule, and their stream.
type Incidents interface {
	Incident(ctx context.Context, workspace, id string) (incident.Incident, error)
	IncidentOfAlerts(ctx context.Context, workspace string, alertIDs []string) (map[string]string, error)
	ChangeIncident(ctx context.Context, workspace, id string, ch incident.Change, actor string) (incident.Incident, error)
	AppendTimeline(ctx context.Context, workspace, id string, entries []incident.TimelineEntry) error
	IncidentChanges(ctx context.Context, afterSeq int64, limit int) ([]store.IncidentChange, error)
	IncidentChangesSignal() <-chan struct{}
}

// The store's contracts hold what the engine needs: a store that keeps
// incidents (store.Incidents) serves as Incidents, one that keeps
// decisions as Decider.
var (
	_ Incidents = store.Incidents(nil)
	_ Decider   = store.Decisions(nil)
	_ Alerts    = interface {
		store.Store
		store.AlertStream
	}(nil)
)

// Decider makes block decisions.
type Decider interface {
	CreateDecision(ctx context.Context, d store.Decision) (store.Decision, error)
}

// EngineConfig wires an Engine.
type EngineConfig struct {
	Config Config // checked by NewEngine
	Alerts Alerts
	// Incidents, when nil, leaves the incident stream unread: rules on
	// incidents and notifications do nothing, and incident actions of
	// alert rules are skipped.
	Incidents Incidents
	// Decisions, when nil, makes block actions fail (logged).
	Decisions Decider
	Logger    *slog.Logger
	Now       func() time.Time
	// Poll is how often the streams are read without a signal (default
	// 5s); Parallel how many changes of a batch are acted on at once
	// (default 4).
	Poll     time.Duration
	Parallel int
}

// Engine runs automation rules and notifications on the alert and
// incident streams, each under its own cursor: delivery is at least once,
// so a crash between acting and acknowledging acts again on the last
// changes after the restart (a webhook may be posted twice; a block
// decision is not made twice, since an active one for the value is
// kept).
type Engine struct {
	cfg       Config
	alerts    Alerts
	incidents Incidents
	decisions Decider
	log       *slog.Logger
	now       func() time.Time
	poll      time.Duration
	parallel  int
	playbooks map[string]*Playbook
	throttles map[string]*throttle

	// status and fired are kept per workspace and name: a workspace
	// sees how its own runs went.
	mu     sync.Mutex
	status map[[2]string]*PlaybookStatus
	fired  map[[2]string]*RuleStatus
}

// PlaybookStatus is how a playbook's runs went.
type PlaybookStatus struct {
	Playbook string     `json:"playbook"`
	Runs     int        `json:"runs"`
	Failures int        `json:"failures"`
	LastRun  *time.Time `json:"last_run,omitempty"`
	LastOK   bool       `json:"last_ok"`
	// LastError is the last failed run's message.
	LastError string `json:"last_error,omitempty"`
}

// RuleStatus is how often a rule acted.
type RuleStatus struct {
	Rule      string     `json:"rule"`
	Fired     int        `json:"fired"`
	LastFired *time.Time `json:"last_fired,omitempty"`
}

// NewEngine checks the configuration and builds the engine.
func NewEngine(c EngineConfig) (*Engine, error) {
	if c.Alerts == nil {
		return nil, errors.New("respond: EngineConfig.Alerts is nil")
	}
	if err := c.Config.Check(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: c.Config, alerts: c.Alerts, incidents: c.Incidents, decisions: c.Decisions, log: c.Logger,
		now: c.Now, poll: c.Poll, parallel: c.Parallel, playbooks: map[string]*Playbook{}, throttles: map[string]*throttle{},
		status: map[[2]string]*PlaybookStatus{}, fired: map[[2]string]*RuleStatus{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.poll <= 0 {
		e.poll = 5 * time.Second
	}
	if e.parallel <= 0 {
		e.parallel = 4
	}
	for i := range e.cfg.Playbooks {
		pb := &e.cfg.Playbooks[i]
		e.playbooks[pb.Name] = pb
	}
	for i := range e.cfg.Notifications {
		n := &e.cfg.Notifications[i]
		e.throttles[n.Name] = &throttle{max: n.Max, window: n.Window}
	}
	return e, nil
}

// Config is the engine's checked configuration.
func (e *Engine) Config() Config { return e.cfg }

// Status returns workspace's figures of the rules that apply to it and
// of every playbook, in configuration order. (Throttle summaries, which
// stand for several workspaces, are counted under workspace "".)
func (e *Engine) Status(workspace string) ([]RuleStatus, []PlaybookStatus) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var rs []RuleStatus
	for _, r := range e.cfg.Automation {
		if len(r.When.Workspaces) > 0 && !slices.Contains(r.When.Workspaces, workspace) {
			continue
		}
		st := RuleStatus{Rule: r.Name}
		if s := e.fired[[2]string{workspace, r.Name}]; s != nil {
			st = *s
		}
		rs = append(rs, st)
	}
	var ps []PlaybookStatus
	for _, p := range e.cfg.Playbooks {
		st := PlaybookStatus{Playbook: p.Name}
		if s := e.status[[2]string{workspace, p.Name}]; s != nil {
			st = *s
		}
		ps = append(ps, st)
	}
	return rs, ps
}

// Run follows both streams and flushes the notification throttles until
// ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	alerts := alertstream.Alerts(AlertsConsumer, e.alerts, e.HandleAlerts)
	consumers := []interface{ Run(context.Context) error }{alerts}
	alerts.Poll, alerts.Logger = e.poll, e.log
	if e.incidents != nil {
		// The incident stream's cursors are kept where the alert stream's are.
		incidents := alertstream.Incidents(IncidentsConsumer, struct {
			Incidents
			alertstream.Cursors
		}{e.incidents, e.alerts}, e.HandleIncidents)
		incidents.Poll, incidents.Logger = e.poll, e.log
		consumers = append(consumers, incidents)
	}
	for _, c := range consumers {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Run(ctx) }()
	}
	if len(e.cfg.Notifications) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					e.Flush(ctx)
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// each runs fn on every item, e.parallel at a time, and joins the errors.
func each[T any](e *Engine, items []T, fn func(T) error) error {
	sem := make(chan struct{}, e.parallel)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// HandleAlerts acts on alert stream changes: rules on alert_created for
// each created alert. An error (the store failing to read an alert)
// delivers the changes again.
func (e *Engine) HandleAlerts(ctx context.Context, changes []store.AlertChange) error {
	var created []store.AlertChange
	for _, c := range changes {
		if c.Kind == store.ChangeCreated {
			created = append(created, c)
		}
	}
	if !slices.ContainsFunc(e.cfg.Automation, func(r Rule) bool { return r.Trigger == TriggerAlertCreated && !r.Disabled }) {
		return nil
	}
	return each(e, created, func(c store.AlertChange) error {
		a, err := e.alerts.Alert(ctx, c.Workspace, c.AlertID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("alert %s: %w", c.AlertID, err)
		}
		s := alertSubject(&a)
		var inc *incident.Incident
		looked := false
		for i := range e.cfg.Automation {
			r := &e.cfg.Automation[i]
			if r.Disabled || r.Trigger != TriggerAlertCreated || !r.When.holds(s) {
				continue
			}
			if !looked && e.incidents != nil {
				looked = true
				inc = e.incidentOf(ctx, &a)
			}
			e.act(ctx, r, &target{ws: a.Workspace, alert: &a, inc: inc})
		}
		return nil
	})
}

// incidentOf is the incident an alert is in, if correlation placed it
// already.
func (e *Engine) incidentOf(ctx context.Context, a *alert.Alert) *incident.Incident {
	m, err := e.incidents.IncidentOfAlerts(ctx, a.Workspace, []string{a.ID})
	if err != nil || m[a.ID] == "" {
		return nil
	}
	inc, err := e.incidents.Incident(ctx, a.Workspace, m[a.ID])
	if err != nil {
		return nil
	}
	return &inc
}

// HandleIncidents acts on incident stream changes: rules on
// incident_created and incident_stage, and notifications.
func (e *Engine) HandleIncidents(ctx context.Context, changes []store.IncidentChange) error {
	return each(e, changes, func(c store.IncidentChange) error {
		var trig Trigger
		var stage incident.Stage
		switch c.Kind {
		case store.IncidentCreated:
			trig = TriggerIncidentCreated
		case store.IncidentStaged, store.IncidentReopened:
			trig, stage = TriggerIncidentStage, c.Stage
		default:
			return nil
		}
		inc, err := e.incidents.Incident(ctx, c.Workspace, c.IncidentID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("incident %s: %w", c.IncidentID, err)
		}
		s := incidentSubject(&inc)
		for i := range e.cfg.Automation {
			r := &e.cfg.Automation[i]
			if r.Disabled || r.Trigger != trig || (r.Stage != "" && r.Stage != stage) || !r.When.holds(s) {
				continue
			}
			e.act(ctx, r, &target{ws: inc.Workspace, inc: &inc, stage: stage, by: c.Actor})
		}
		for i := range e.cfg.Notifications {
			n := &e.cfg.Notifications[i]
			if n.wants(&inc, stage) {
				e.notify(ctx, n, &inc, stage, c.Actor)
			}
		}
		return nil
	})
}

// target is what a rule acts on: an alert (and its incident, if any) or
// an incident.
type target struct {
	ws    string
	alert *alert.Alert
	inc   *incident.Incident
	stage incident.Stage // the stage moved to, for a stage change
	by    string         // who moved it
}

func (t *target) payload(by string, now time.Time) *Payload {
	p := &Payload{Workspace: t.ws, By: by, Time: now, Alert: t.alert, Incident: t.inc}
	switch {
	case t.alert != nil:
		a := t.alert
		p.Kind, p.Severity, p.Priority = "alert", a.Severity.String(), a.Priority
		p.Title = fmt.Sprintf("%s alert: %s", a.Severity, a.Rule.Title)
		p.Text = fmt.Sprintf("Alert %s (%s) in workspace %s about %s, first seen %s.", a.ID, a.Rule.ID, a.Workspace,
			entityList(a.Entities), a.FirstSeen.Format(time.RFC3339))
	case t.stage != "":
		inc := t.inc
		p.Kind, p.Severity, p.Priority, p.Stage = "stage", inc.Severity.String(), inc.Priority, string(t.stage)
		p.Title = fmt.Sprintf("Incident moved to %s: %s", t.stage, inc.Title)
		p.Text = fmt.Sprintf("Incident %s in workspace %s (%s, priority %d) moved to %s", inc.ID, inc.Workspace, inc.Severity, inc.Priority, t.stage)
		if t.by != "" {
			p.Text += " by " + t.by
		}
		p.Text += "."
	default:
		inc := t.inc
		p.Kind, p.Severity, p.Priority, p.Stage = "incident", inc.Severity.String(), inc.Priority, string(inc.Stage)
		p.Title = fmt.Sprintf("New %s incident: %s", inc.Severity, inc.Title)
		p.Text = fmt.Sprintf("Incident %s in workspace %s: priority %d, %d alerts, tactics %s, about %s.", inc.ID, inc.Workspace,
			inc.Priority, inc.AlertCount, orNone(strings.Join(inc.Tactics, ", ")), entityList(inc.Entities))
	}
	return p
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func entityList(es []alert.Entity) string {
	var parts []string
	for i, e := range es {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("%d more", len(es)-i))
			break
		}
		parts = append(parts, e.Type+" "+e.Value)
	}
	return orNone(strings.Join(parts, ", "))
}

// act runs a rule's actions on t, in order, and writes what happened to
// the incident's timeline (when there is an incident). Failures are
// logged and on the timeline; they do not stop the other actions.
func (e *Engine) act(ctx context.Context, r *Rule, t *target) {
	now := e.now().UTC()
	e.mu.Lock()
	key := [2]string{t.ws, r.Name}
	st := e.fired[key]
	if st == nil {
		st = &RuleStatus{Rule: r.Name}
		e.fired[key] = st
	}
	st.Fired++
	st.LastFired = &now
	e.mu.Unlock()
	log := e.log.With("rule", r.Name, "workspace", t.ws)
	var entries []incident.TimelineEntry
	entry := func(kind, summary, text string, failed bool) {
		entries = append(entries, incident.TimelineEntry{Time: now, Kind: kind, Actor: r.Actor(), Summary: summary, Text: text, Failed: failed})
	}
	var done []string
	for _, a := range r.Actions {
		switch {
		case a.Assign != "", a.Tag != "", a.Severity != "":
			what, ch := incidentAction(a)
			if t.inc == nil {
				log.Info("automation: no incident to act on yet", "action", what)
				continue
			}
			inc, err := e.incidents.ChangeIncident(ctx, t.ws, t.inc.ID, ch, r.Actor())
			if err != nil {
				log.Warn("automation: incident action failed", "incident", t.inc.ID, "action", what, "err", err)
				entry(incident.TimelineAutomation, fmt.Sprintf("automation rule %s could not %s", r.Name, what), err.Error(), true)
				continue
			}
			*t.inc = inc
			done = append(done, what)
		case a.Playbook != "":
			pb := e.playbooks[a.Playbook]
			res := e.runPlaybook(ctx, pb, t.payload("automation rule "+r.Name, now), log)
			entry(incident.TimelinePlaybook, playbookSummary(pb, res), errText(res.Err), res.Err != nil)
			done = append(done, "playbook "+pb.Name)
		case a.Block != nil:
			for _, d := range e.block(ctx, r, a.Block, t, now, log) {
				entry(incident.TimelineDecision, d.summary, d.text, d.failed)
			}
			done = append(done, "block "+a.Block.Kind)
		}
	}
	if t.inc == nil || e.incidents == nil {
		return
	}
	on := "incident"
	if t.alert != nil {
		on = "alert " + t.alert.ID
	}
	head := incident.TimelineEntry{Time: now, Kind: incident.TimelineAutomation, Actor: r.Actor(),
		Summary: fmt.Sprintf("automation rule %s acted on the %s: %s", r.Name, on, orNone(strings.Join(done, ", ")))}
	entries = append([]incident.TimelineEntry{head}, entries...)
	for i := range entries {
		entries[i].IncidentID = t.inc.ID
	}
	if err := e.incidents.AppendTimeline(ctx, t.ws, t.inc.ID, entries); err != nil {
		log.Warn("automation: timeline not written", "incident", t.inc.ID, "err", err)
	}
}

func incidentAction(a Action) (string, incident.Change) {
	switch {
	case a.Assign != "":
		owner := a.Assign
		return "assign " + owner, incident.Change{Owner: &owner}
	case a.Tag != "":
		return "tag " + a.Tag, incident.Change{AddTags: []string{a.Tag}}
	default:
		s := a.severity
		return "set severity " + s.String(), incident.Change{Severity: &s}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func playbookSummary(pb *Playbook, res Result) string {
	tries := "1 attempt"
	if res.Attempts != 1 {
		tries = fmt.Sprintf("%d attempts", res.Attempts)
	}
	if res.Err != nil {
		return fmt.Sprintf("playbook %s (%s) failed after %s", pb.Name, pb.Type, tries)
	}
	return fmt.Sprintf("playbook %s (%s) ran (%s)", pb.Name, pb.Type, tries)
}

// runPlaybook runs pb and records the outcome.
func (e *Engine) runPlaybook(ctx context.Context, pb *Playbook, p *Payload, log *slog.Logger) Result {
	res := pb.Run(ctx, p)
	now := e.now().UTC()
	e.mu.Lock()
	key := [2]string{p.Workspace, pb.Name}
	st := e.status[key]
	if st == nil {
		st = &PlaybookStatus{Playbook: pb.Name}
		e.status[key] = st
	}
	st.Runs++
	st.LastRun, st.LastOK = &now, res.Err == nil
	if res.Err != nil {
		st.Failures++
		st.LastError = res.Err.Error()
	}
	e.mu.Unlock()
	if res.Err != nil {
		log.Warn("respond: playbook failed", "playbook", pb.Name, "attempts", res.Attempts, "err", res.Err)
	} else {
		log.Info("respond: playbook ran", "playbook", pb.Name, "attempts", res.Attempts)
	}
	return res
}

type blockOutcome struct {
	summary, text string
	failed        bool
}

// block makes the block action's decisions.
func (e *Engine) block(ctx context.Context, r *Rule, b *Block, t *target, now time.Time, log *slog.Logger) []blockOutcome {
	values := blockValues(b, t)
	if len(values) == 0 {
		return []blockOutcome{{summary: fmt.Sprintf("automation rule %s found no %s to block", r.Name, b.Kind)}}
	}
	reason := b.Reason
	if reason == "" {
		title := ""
		switch {
		case t.inc != nil:
			title = t.inc.Title
		case t.alert != nil:
			title = t.alert.Rule.Title
		}
		reason = fmt.Sprintf("automation rule %s: %s", r.Name, title)
	}
	var out []blockOutcome
	for _, v := range values {
		if e.decisions == nil {
			out = append(out, blockOutcome{fmt.Sprintf("could not block %s %s", b.Kind, v), "this server keeps no decisions", true})
			continue
		}
		d := store.Decision{Workspace: t.ws, Kind: b.Kind, Value: v, Reason: reason, CreatedBy: r.Actor(),
			Created: now, Expires: now.Add(b.Duration)}
		if t.inc != nil {
			d.IncidentID = t.inc.ID
		}
		d, err := e.decisions.CreateDecision(ctx, d)
		switch {
		case errors.Is(err, store.ErrConflict):
			out = append(out, blockOutcome{summary: fmt.Sprintf("%s %s is blocked already", b.Kind, v), text: err.Error()})
		case err != nil:
			log.Warn("automation: block failed", "kind", b.Kind, "value", v, "err", err)
			out = append(out, blockOutcome{fmt.Sprintf("could not block %s %s", b.Kind, v), err.Error(), true})
		default:
			log.Info("automation: blocked", "kind", b.Kind, "value", d.Value, "until", d.Expires, "decision", d.ID)
			out = append(out, blockOutcome{summary: fmt.Sprintf("blocked %s %s for %s (decision %s)", b.Kind, d.Value, b.Duration, d.ID)})
		}
	}
	return out
}

// blockValues are what a block action blocks: the attacking public
// addresses (or their networks) or the accounts named.
func blockValues(b *Block, t *target) []string {
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if b.Kind == store.DecisionAccount {
		var es []alert.Entity
		if t.alert != nil {
			es = t.alert.Entities
		} else if t.inc != nil {
			es = t.inc.Entities
		}
		for _, e := range es {
			if e.Type == alert.EntityAccount {
				add(e.Value)
			}
		}
		return out
	}
	var addrs []string
	if t.alert != nil {
		if t.alert.Origin != nil {
			addrs = append(addrs, t.alert.Origin.IP)
		}
	} else if t.inc != nil {
		addrs = t.inc.Assessment.Origin.Addresses
	}
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		a = a.Unmap()
		// Never one of ours: private, loopback, link-local and other
		// special addresses are left alone.
		if !a.IsGlobalUnicast() || a.IsPrivate() {
			continue
		}
		if b.Kind == store.DecisionIP {
			add(a.String())
			continue
		}
		bits := b.Prefix
		if bits == 0 || a.Is4() && bits > 32 {
			bits = map[bool]int{true: 24, false: 64}[a.Is4()]
		}
		p, err := a.Prefix(bits)
		if err == nil {
			add(p.String())
		}
	}
	return out
}

// notify tells a channel of a new incident or a stage change, unless its
// throttle holds it.
func (e *Engine) notify(ctx context.Context, n *Notification, inc *incident.Incident, stage incident.Stage, by string) {
	now := e.now().UTC()
	t := &target{ws: inc.Workspace, inc: inc, stage: stage, by: by}
	p := t.payload("notification "+n.Name, now)
	log := e.log.With("notification", n.Name, "workspace", inc.Workspace)
	if !e.throttles[n.Name].allow(now, p.Title) {
		log.Debug("respond: notification held by the throttle", "incident", inc.ID)
		return
	}
	pb := e.playbooks[n.Playbook]
	res := e.runPlaybook(ctx, pb, p, log)
	if e.incidents == nil {
		return
	}
	actor := "vigil:notify:" + n.Name
	err := e.incidents.AppendTimeline(ctx, inc.Workspace, inc.ID, []incident.TimelineEntry{{IncidentID: inc.ID, Time: now,
		Kind: incident.TimelinePlaybook, Actor: actor, Summary: "notification " + n.Name + ": " + playbookSummary(pb, res),
		Text: errText(res.Err), Failed: res.Err != nil}})
	if err != nil {
		log.Warn("respond: timeline not written", "incident", inc.ID, "err", err)
	}
}

// Flush sends the summaries of throttle windows that ended (overflow
// summary) or logs how many were dropped (overflow drop). Run calls it
// every second.
func (e *Engine) Flush(ctx context.Context) {
	now := e.now().UTC()
	for i := range e.cfg.Notifications {
		n := &e.cfg.Notifications[i]
		held := e.throttles[n.Name].due(now)
		if len(held) == 0 {
			continue
		}
		log := e.log.With("notification", n.Name)
		if n.Overflow == OverflowDrop {
			log.Warn("respond: notifications dropped by the throttle", "dropped", len(held), "window", n.Window)
			continue
		}
		e.runPlaybook(ctx, e.playbooks[n.Playbook], summary(n, held, now), log)
	}
}
