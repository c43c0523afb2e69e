package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/vigil-sec/vigil/alertstream"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// The assessment in `vigil serve`: a consumer of the incident stream that
// fills in the assessment of each incident correlation or a responder
// created or changed, from its alerts and their evidence events
// (docs/assessment.md).

const (
	// compAssess is the assessment's log component.
	compAssess = "assess"
	// assessConsumer is the assessment's cursor on the incident stream.
	assessConsumer = "assess"
	// assessActor is who the store records SetAssessment's writes by:
	// the stream's changes of this actor are the assessment's own, and
	// assessing them again would change nothing.
	assessActor = "vigil:assessment"
	// maxAssessEvidence caps the evidence events read for one incident,
	// taken from every alert in turn; maxAssessAlerts the alerts read
	// (the oldest and the newest half each).
	maxAssessEvidence = 200
	maxAssessAlerts   = 500
)

func init() { logComponents = append(logComponents, compAssess) }

// sensitivityRuleConfig is one entry of the config file's sensitivity
// list.
type sensitivityRuleConfig struct {
	Name    string `koanf:"name"`
	Kind    string `koanf:"kind"`
	Pattern string `koanf:"pattern"`
	Label   string `koanf:"label"`
}

// parseSensitivity compiles the sensitivity settings: the config file's
// rules in order (vigil's defaults when it has none) and the label of
// data they do not name.
func (c *Config) parseSensitivity() error {
	rules := incident.DefaultSensitivityRules()
	if c.Sensitivity != nil {
		rules = make([]incident.SensitivityRule, len(c.Sensitivity))
		for i, r := range c.Sensitivity {
			rules[i] = incident.SensitivityRule{Name: r.Name, Kind: r.Kind, Pattern: r.Pattern, Label: incident.Sensitivity(r.Label)}
		}
	}
	cls, err := incident.NewClassifier(rules, incident.Sensitivity(strings.ToLower(strings.TrimSpace(c.SensitivityDefault))))
	if err != nil {
		return fmt.Errorf("setting sensitivity: %w", err)
	}
	c.classifier = cls
	return nil
}

// assessStore is what the assessment needs of the store.
type assessStore interface {
	alertstream.IncidentStream
	IncidentAlerts(ctx context.Context, workspace, id string) ([]string, error)
	AlertsByID(ctx context.Context, workspace string, ids []string) (map[string]alert.Alert, error)
	EventsByID(ctx context.Context, workspace string, ids []event.ID) (map[event.ID]store.StoredEvent, error)
	SetAssessment(ctx context.Context, workspace, id string, a incident.Assessment) error
}

// assessor is the consumer. Delivery is at least once: after a crash it
// assesses the last incidents again, and the store writes an assessment
// equal to the stored one as nothing.
type assessor struct {
	store assessStore
	cls   *incident.Classifier
	log   *slog.Logger
	// poll is how often the stream is read when no signal came (another
	// process's changes); retry the first pause after a failure.
	poll, retry time.Duration
	// render decodes stored records again, as the API shows them.
	render *decode.Renderer
	// every is the shortest time between two assessments of one incident
	// (default assessEvery; negative: no interval): an incident that grows with every commit
	// during an attack is assessed again when the interval has passed,
	// not on each commit — its evidence is read from the store, which
	// costs far more than the detection that grew it. last and pending
	// are when each incident was assessed, and the incidents waiting.
	every time.Duration
	// kept is, by incident, the evidence its last assessment read and
	// decoded (stored events never change): an incident assessed again
	// reads only its new evidence. keptN counts the events kept.
	kept    map[[2]string]*keptEvidence
	keptN   int
	last    map[[2]string]time.Time
	pending map[[2]string]time.Time // incident → when it is due
	now     func() time.Time
}

// assessEvery is the assessor's default interval per incident;
// maxRenderedEvidence bounds the decoded evidence kept between assessments
// (the incidents assessed longest ago give theirs up first).
const (
	assessEvery         = 10 * time.Second
	maxRenderedEvidence = 5000
)

// keptEvidence is one incident's evidence as its last assessment read it:
// the decoded events by id, and the ids no longer stored (past
// retention: they do not come back).
type keptEvidence struct {
	used   time.Time
	events map[string]incident.EvidenceEvent
	gone   map[string]bool
}

// startAssessment runs the assessment in the background when the store
// keeps incidents.
func startAssessment(ctx context.Context, wg *sync.WaitGroup, db any, cls *incident.Classifier, log *slog.Logger) {
	st, ok := db.(assessStore)
	if !ok {
		return
	}
	a := &assessor{store: st, cls: cls, log: log.With("component", compAssess)}
	wg.Add(1)
	go func() { defer wg.Done(); a.run(ctx) }()
}

// consumer is the assessment's consumer of the incident stream: it
// assesses what changed, and the incidents held back by their interval
// when the stream is idle.
func (a *assessor) consumer() *alertstream.Consumer[store.IncidentChange] {
	c := alertstream.Incidents(assessConsumer, a.store, a.handle)
	c.Idle = a.duePending
	c.Poll, c.Retry, c.Logger = a.poll, a.retry, a.log
	return c
}

// run consumes the incident stream until ctx ends.
func (a *assessor) run(ctx context.Context) { _ = a.consumer().Run(ctx) }

// step assesses the incidents the next changes after the cursor name and
// moves the cursor past them; it returns how many changes it read.
func (a *assessor) step(ctx context.Context, batch int) (int, error) {
	return a.consumer().Step(ctx, batch)
}

// handle assesses the incidents that changes name (each once however
// often it changed), or holds them back until their interval has passed.
func (a *assessor) handle(ctx context.Context, changes []store.IncidentChange) error {
	seen := map[[2]string]bool{}
	for _, ch := range changes {
		k := [2]string{ch.Workspace, ch.IncidentID}
		if seen[k] || !assessOn(ch) {
			continue
		}
		seen[k] = true
		if due, ok := a.due(k); !ok {
			a.pending[k] = due // assessed again when the interval has passed
			continue
		}
		if err := a.assessNow(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// due reports whether incident k may be assessed now, else when it may.
func (a *assessor) due(k [2]string) (time.Time, bool) {
	if a.last == nil {
		a.last, a.pending = map[[2]string]time.Time{}, map[[2]string]time.Time{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	every := a.every
	if every == 0 {
		every = assessEvery
	}
	at := a.last[k].Add(every)
	return at, every < 0 || a.last[k].IsZero() || !a.now().Before(at)
}

// assessNow assesses incident k and notes when.
func (a *assessor) assessNow(ctx context.Context, k [2]string) error {
	delete(a.pending, k)
	if err := a.assess(ctx, k[0], k[1]); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			a.log.Info("incident gone before its assessment", "workspace", k[0], "incident", k[1])
			return nil
		}
		return err
	}
	a.last[k] = a.now()
	// Bounded: incidents not assessed for a while are forgotten (they
	// are assessed at once on their next change).
	if len(a.last) > 10000 {
		for x, t := range a.last {
			if a.now().Sub(t) > time.Hour {
				delete(a.last, x)
			}
		}
	}
	return nil
}

// duePending assesses the waiting incidents whose interval has passed and
// returns when the next one is due (zero when none waits).
func (a *assessor) duePending(ctx context.Context) (time.Time, error) {
	var next time.Time
	for k, at := range a.pending {
		if a.now().Before(at) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		if err := a.assessNow(ctx, k); err != nil {
			return time.Time{}, err
		}
	}
	return next, nil
}

// assessOn: the changes that may change what the evidence says — alerts
// joined or left (created, updated, reopened, merged, split); not a stage
// move, and not the assessment's own write.
func assessOn(ch store.IncidentChange) bool {
	if ch.Actor == assessActor {
		return false
	}
	switch ch.Kind {
	case store.IncidentCreated, store.IncidentUpdated, store.IncidentReopened, store.IncidentMerged, store.IncidentSplit:
		return true
	}
	return false
}

// assess fills in one incident's assessment.
func (a *assessor) assess(ctx context.Context, workspace, id string) error {
	ids, err := a.store.IncidentAlerts(ctx, workspace, id)
	if err != nil {
		return fmt.Errorf("alerts of incident %s: %w", id, err)
	}
	if len(ids) == 0 {
		return nil // merged into another: nothing left to assess
	}
	if len(ids) > maxAssessAlerts {
		ids = append(ids[:maxAssessAlerts/2:maxAssessAlerts/2], ids[len(ids)-maxAssessAlerts/2:]...)
	}
	// One query for all of them: an incident of hundreds of alerts,
	// grown by an attack, is assessed again every few seconds.
	byID, err := a.store.AlertsByID(ctx, workspace, ids)
	if err != nil {
		return fmt.Errorf("alerts of incident %s: %w", id, err)
	}
	alerts := make([]alert.Alert, 0, len(ids))
	for _, aid := range ids {
		if al, ok := byID[aid]; ok { // gone meanwhile: left out
			alerts = append(alerts, al)
		}
	}
	if a.render == nil {
		a.render = decode.NewRenderer()
	}
	picks := evidenceToRead(alerts, maxAssessEvidence)
	// In id order: the events of one stored block come one after the
	// other, and the store decodes each block once for them.
	slices.SortStableFunc(picks, func(x, y evidencePick) int { return strings.Compare(x.EventID, y.EventID) })
	k := [2]string{workspace, id}
	old := a.kept[k]
	if old == nil {
		old = &keptEvidence{}
	}
	// The stored events this incident's last assessment did not read,
	// read together: each stored block is decoded once for all of them.
	var toRead []event.ID
	for _, p := range picks {
		if _, ok := old.events[p.EventID]; ok || old.gone[p.EventID] {
			continue
		}
		if eid, err := event.ParseID(p.EventID); err == nil {
			toRead = append(toRead, eid) // offline evidence (file and line) has no stored event
		}
	}
	stored, err := a.store.EventsByID(ctx, workspace, toRead)
	if err != nil {
		return fmt.Errorf("evidence events of incident %s: %w", id, err)
	}
	// What this assessment read is what the next one may reuse: the
	// evidence no longer picked is let go.
	now := time.Now()
	if a.now != nil {
		now = a.now()
	}
	kept := &keptEvidence{used: now, events: map[string]incident.EvidenceEvent{}, gone: map[string]bool{}}
	var evidence []incident.EvidenceEvent
	for _, p := range picks {
		if e, ok := old.events[p.EventID]; ok {
			kept.events[p.EventID] = e
			e.AlertID = p.AlertID
			evidence = append(evidence, e)
			continue
		}
		eid, err := event.ParseID(p.EventID)
		if err != nil {
			continue
		}
		se, ok := stored[eid]
		if !ok {
			kept.gone[p.EventID] = true // past retention
			continue
		}
		ev0 := se.Event()
		// A record that no longer decodes keeps its stored common
		// fields (db.statement, file.path…), which still say much.
		ev, _ := a.render.Render(&ev0)
		e := incident.EvidenceEvent{AlertID: p.AlertID, EventID: p.EventID, Time: ev.Time, Fields: incident.FieldMapOf(ev)}
		kept.events[p.EventID] = e
		evidence = append(evidence, e)
	}
	a.keep(k, kept)
	as := incident.Assess(alerts, evidence, a.cls)
	if err := a.store.SetAssessment(ctx, workspace, id, as); err != nil {
		return fmt.Errorf("assessment of incident %s: %w", id, err)
	}
	a.log.Debug("incident assessed", "workspace", workspace, "incident", id, "alerts", len(alerts), "evidence", len(evidence),
		"intent", as.Intent.Estimate, "compromised", len(as.Compromised), "data_accessed", len(as.DataAccessed))
	return nil
}

// keep keeps incident k's evidence for its next assessment, letting go of
// the evidence of the incidents assessed longest ago while more than
// maxRenderedEvidence events are kept.
func (a *assessor) keep(k [2]string, e *keptEvidence) {
	if a.kept == nil {
		a.kept = map[[2]string]*keptEvidence{}
	}
	if old := a.kept[k]; old != nil {
		a.keptN -= len(old.events)
	}
	a.kept[k] = e
	a.keptN += len(e.events)
	for a.keptN > maxRenderedEvidence && len(a.kept) > 1 {
		var oldest [2]string
		var at time.Time
		for x, o := range a.kept {
			if x != k && (at.IsZero() || o.used.Before(at)) {
				oldest, at = x, o.used
			}
		}
		a.keptN -= len(a.kept[oldest].events)
		delete(a.kept, oldest)
	}
}

// evidencePick is one evidence event to read, with its alert.
type evidencePick struct {
	AlertID string
	alert.Evidence
}

// evidenceToRead picks up to max evidence events from the alerts, one of
// each alert in turn, so that an alert with a hundred failed logins does
// not crowd out the one statement that read a table.
func evidenceToRead(alerts []alert.Alert, max int) []evidencePick {
	var out []evidencePick
	for i := 0; len(out) < max; i++ {
		more := false
		for _, al := range alerts {
			if i >= len(al.Evidence) {
				continue
			}
			more = true
			out = append(out, evidencePick{AlertID: al.ID, Evidence: al.Evidence[i]})
			if len(out) == max {
				break
			}
		}
		if !more {
			break
		}
	}
	return out
}

// assessOffline is the assessment `vigil scan --incidents` gives an
// incident: the server's, over the scan's alerts and their evidence
// events read again (pick them with evidenceToRead), labelled by cls (the
// default rules when nil).
func assessOffline(alerts []*alert.Alert, evidence []incident.EvidenceEvent, cls *incident.Classifier) incident.Assessment {
	as := make([]alert.Alert, 0, len(alerts))
	for _, a := range alerts {
		as = append(as, *a)
	}
	return incident.Assess(as, evidence, cls)
}
