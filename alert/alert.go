// Package alert holds the alert model: a signal is one detection (a rule's
// match on an event, a correlation, a source that fell silent); an alert is
// the signals of one dedup key gathered while the alert is open, with its
// severity, status, entities, ATT&CK context and evidence.
package alert

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Severity follows Sigma's levels.
type Severity int

const (
	Informational Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"informational", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a Sigma level.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if n == s {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want informational, low, medium, high or critical)", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Entity types.
const (
	EntityIP            = "ip"
	EntityHost          = "host"
	EntityAccount       = "account"
	EntityProcess       = "process"
	EntityFile          = "file"
	EntityURL           = "url"
	EntityDatabase      = "database"
	EntityApplication   = "application"
	EntityCloudResource = "cloud_resource"
	EntityHash          = "hash"
)

// Entity is a thing an alert is about.
type Entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Evidence points at an event behind an alert: by id in the store, by file
// and line offline.
type Evidence struct {
	EventID string    `json:"event_id,omitempty"`
	Time    time.Time `json:"time"`
	File    string    `json:"file,omitempty"`
	Line    int       `json:"line,omitempty"`
}

// RuleRef names the rule that raised an alert, with the metadata that
// travels with it.
type RuleRef struct {
	ID             string   `json:"id"`
	Title          string   `json:"title"`
	Description    string   `json:"description,omitempty"`
	Status         string   `json:"status,omitempty"`
	Author         string   `json:"author,omitempty"`
	References     []string `json:"references,omitempty"`
	FalsePositives []string `json:"falsepositives,omitempty"`
	// Remediation is the rule's advice on what to do (vigil extension).
	Remediation string `json:"remediation,omitempty"`
	// Confidence (low, medium, high) is how sure the rule is of what it
	// names; empty when the rule does not say (taken as medium).
	Confidence string `json:"confidence,omitempty"`
	// Outcome is "success" when the rule's match means the attack
	// succeeded, "attempt" when it was only tried; empty when not stated.
	Outcome string `json:"outcome,omitempty"`
}

// MaxEvidence caps the evidence kept on one alert; Count keeps counting.
const MaxEvidence = 100

// Signal is one detection, before dedupe: a rule's match on one event, a
// correlation's (one signal for each of its evidence events), or a source
// that fell silent.
type Signal struct {
	Workspace  string
	Type       string // "signature" (a rule's match), "correlation" or "health"
	Rule       RuleRef
	Severity   Severity
	Tactics    []string
	Techniques []string
	Entities   []Entity
	DedupKey   string
	Evidence   Evidence
	// Origin is filled by the enrichment step when the event has a source
	// address or matched intelligence; nil otherwise.
	Origin *Origin
	// Assets are the inventory entries the event touches.
	Assets []Asset
	// Anomalies are what behavioural baselines found new or rare on the
	// event.
	Anomalies []Anomaly
	// Window, when set, is how long after its open alert was last seen
	// the signal still joins it (the rule's aggregation window); zero:
	// the store's dedup window.
	Window time.Duration
}

// Alert is the dedupe of signals of one key while the alert is open.
type Alert struct {
	ID         string     `json:"id"`
	Workspace  string     `json:"workspace"`
	Type       string     `json:"type"`
	Rule       RuleRef    `json:"rule"`
	Severity   Severity   `json:"severity"`
	Status     Status     `json:"status"`
	Entities   []Entity   `json:"entities"`
	Tactics    []string   `json:"tactics"`
	Techniques []string   `json:"techniques"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	Count      int        `json:"count"`
	Evidence   []Evidence `json:"evidence"`
	DedupKey   string     `json:"dedup_key"`
	Origin     *Origin    `json:"origin,omitempty"`
	Intent     *Intent    `json:"intent,omitempty"`
	Assets     []Asset    `json:"assets,omitempty"`
	Anomalies  []Anomaly  `json:"anomalies,omitempty"`
	// Compromised is the alert's primary entity (CompromisedEntity); nil
	// when it names none on the defender's side.
	Compromised *Entity `json:"compromised_entity,omitempty"`
	// Priority (0–100) orders alerts for triage; PriorityReasons are the
	// points that make it up (Prioritize). Both are worked out by Assess.
	Priority        int              `json:"priority"`
	PriorityReasons []PriorityReason `json:"priority_reasons"`
	// Reason classifies a resolved or dismissed alert (reason.go).
	Reason  Reason    `json:"reason,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// New starts an alert from its first signal.
func New(id string, s Signal, now time.Time) *Alert {
	a := &Alert{
		ID:         id,
		Workspace:  s.Workspace,
		Type:       s.Type,
		Rule:       s.Rule,
		Severity:   s.Severity,
		Status:     StatusNew,
		Tactics:    nonNil(s.Tactics),
		Techniques: nonNil(s.Techniques),
		FirstSeen:  s.Evidence.Time,
		LastSeen:   s.Evidence.Time,
		DedupKey:   s.DedupKey,
		Created:    now,
		Updated:    now,
		Entities:   []Entity{},
		Evidence:   []Evidence{},
	}
	a.Add(s, now)
	a.Count = 1
	return a
}

// Add joins a signal of the same dedup key: it counts the event, widens the
// time span, merges entities and keeps evidence up to MaxEvidence.
// Exactly-once counting is the caller's part (the store commits each bus
// batch once).
func (a *Alert) Add(s Signal, now time.Time) {
	a.Count++
	if s.Evidence.Time.Before(a.FirstSeen) {
		a.FirstSeen = s.Evidence.Time
	}
	if s.Evidence.Time.After(a.LastSeen) {
		a.LastSeen = s.Evidence.Time
	}
	if s.Severity > a.Severity {
		a.Severity = s.Severity
	}
	a.addOrigin(s.Origin)
	a.addAssets(s.Assets)
	a.addAnomalies(s.Anomalies)
	for _, e := range s.Entities {
		if !hasEntity(a.Entities, e) {
			a.Entities = append(a.Entities, e)
		}
	}
	if len(a.Evidence) < MaxEvidence {
		a.Evidence = append(a.Evidence, s.Evidence)
	}
	a.Updated = now
}

// addOrigin keeps the first origin and gathers indicators not yet listed.
func (a *Alert) addOrigin(o *Origin) {
	if o == nil {
		return
	}
	if a.Origin == nil {
		c := *o
		c.Indicators = append([]IndicatorRef(nil), o.Indicators...)
		a.Origin = &c
		return
	}
	for _, r := range o.Indicators {
		if len(a.Origin.Indicators) >= MaxEvidence {
			break
		}
		dup := false
		for _, x := range a.Origin.Indicators {
			if x.Kind == r.Kind && x.Value == r.Value && x.Feed == r.Feed {
				dup = true
				break
			}
		}
		if !dup {
			a.Origin.Indicators = append(a.Origin.Indicators, r)
		}
	}
}

func hasEntity(es []Entity, e Entity) bool {
	for _, x := range es {
		if x == e {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Entities derives the entities of an event from its common fields.
func Entities(ev *event.Event) []Entity {
	var es []Entity
	add := func(typ string, id int) {
		if v := ev.Common[id]; v != "" && v != "-" {
			e := Entity{Type: typ, Value: v}
			if !hasEntity(es, e) {
				es = append(es, Entity{Type: typ, Value: cloneString(v)})
			}
		}
	}
	add(EntityHost, event.HostName)
	add(EntityAccount, event.UserName)
	add(EntityIP, event.SourceIP)
	add(EntityIP, event.DestinationIP)
	add(EntityProcess, event.ProcessExecutable)
	add(EntityFile, event.FilePath)
	add(EntityURL, event.URLOriginal)
	add(EntityDatabase, event.DBName)
	add(EntityApplication, event.ServiceName)
	add(EntityCloudResource, event.CloudAccountID)
	return es
}

// cloneString copies s: event values alias batch buffers.
func cloneString(s string) string { return string(append([]byte(nil), s...)) }

// DedupKey is the key under which signals of one rule about the same
// entities gather into one alert.
func DedupKey(workspace, ruleID string, es []Entity) string {
	b := make([]byte, 0, 64)
	b = append(b, workspace...)
	b = append(b, '|')
	b = append(b, ruleID...)
	for _, e := range es {
		b = append(b, '|')
		b = append(b, e.Type...)
		b = append(b, '=')
		b = append(b, e.Value...)
	}
	return string(b)
}

// String renders the alert as JSON, for logs and debugging.
func (a *Alert) String() string {
	b, _ := json.Marshal(a)
	return string(b)
}
