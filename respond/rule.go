// Package respond automates the first moves of the response: automation
// rules that act on new alerts, new incidents and stage changes (assign,
// tag, set severity, run a playbook, block an address or account),
// playbooks (a webhook with a templated JSON body, e-mail over SMTP, a
// command), throttled notifications, and the engine that follows the alert
// and incident streams and runs them.
package respond

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// Trigger is what an automation rule reacts to.
type Trigger string

const (
	TriggerAlertCreated    Trigger = "alert_created"    // the store created an alert
	TriggerIncidentCreated Trigger = "incident_created" // correlation or a responder created an incident
	TriggerIncidentStage   Trigger = "incident_stage"   // an incident moved to another stage (reopening included)
)

// Rule is one automation rule: when Trigger happens to something When
// holds for, Actions run in order, as actor "vigil:automation:<name>".
type Rule struct {
	Name    string  `koanf:"name" json:"name"`
	Trigger Trigger `koanf:"trigger" json:"trigger"`
	// Stage narrows incident_stage to moves into this stage.
	Stage    incident.Stage `koanf:"stage" json:"stage,omitempty"`
	When     Conditions     `koanf:"when" json:"when"`
	Actions  []Action       `koanf:"actions" json:"actions"`
	Disabled bool           `koanf:"disabled" json:"disabled,omitempty"`
}

// Conditions are what an alert or incident must hold for a rule to act:
// every condition set must hold; a list holds when any of its items does.
type Conditions struct {
	Workspaces []string `koanf:"workspaces" json:"workspaces,omitempty"`
	// MinSeverity: severity at or above (informational … critical).
	MinSeverity string `koanf:"min-severity" json:"min_severity,omitempty"`
	// MinPriority: priority (0–100) at or above.
	MinPriority int `koanf:"min-priority" json:"min_priority,omitempty"`
	// Rules: the alert's rule id, or one of the incident's rule ids.
	Rules []string `koanf:"rules" json:"rules,omitempty"`
	// Tactics: one of its ATT&CK tactics (e.g. credential-access).
	Tactics []string `koanf:"tactics" json:"tactics,omitempty"`
	// EntityTypes: it names an entity of one of these types (ip, host,
	// account…).
	EntityTypes []string `koanf:"entity-types" json:"entity_types,omitempty"`
	// Entities: it names one of these values (without regard to case), or
	// an address within one of these networks (CIDR).
	Entities []string `koanf:"entities" json:"entities,omitempty"`
	// Tags: the incident has one of these tags (alerts have none, so a
	// rule on alert_created with tags never acts).
	Tags []string `koanf:"tags" json:"tags,omitempty"`

	minSev   *alert.Severity
	networks []netip.Prefix
	values   []string
}

// Action is one thing a rule does; exactly one field is set.
type Action struct {
	// Assign sets the incident's owner.
	Assign string `koanf:"assign" json:"assign,omitempty"`
	// Tag adds a tag to the incident.
	Tag string `koanf:"tag" json:"tag,omitempty"`
	// Severity sets the incident's severity.
	Severity string `koanf:"severity" json:"severity,omitempty"`
	// Playbook runs the playbook of this name.
	Playbook string `koanf:"playbook" json:"playbook,omitempty"`
	// Block makes block decisions for bouncers to enforce.
	Block *Block `koanf:"block" json:"block,omitempty"`

	severity alert.Severity
}

// Block is the block action: a decision on each attacking address (the
// alert's origin, the incident's assessed origin; public addresses only),
// on its network, or on each account the alert or incident names.
type Block struct {
	Kind     string        `koanf:"kind" json:"kind"` // ip, range or account
	Duration time.Duration `koanf:"duration" json:"duration"`
	// Prefix is the network length of kind range: default 24 for IPv4,
	// 64 for IPv6 (the IPv4 length applies to IPv4 addresses only).
	Prefix int `koanf:"prefix" json:"prefix,omitempty"`
	// Reason is the decisions' reason; default "automation rule <name>:
	// <title>".
	Reason string `koanf:"reason" json:"reason,omitempty"`
}

// Actor is the rule's name as the timeline and the audit log show it.
func (r *Rule) Actor() string { return "vigil:automation:" + r.Name }

// check validates the rule and prepares its conditions; playbooks are
// the names that exist. Errors name the rule and the field.
func (r *Rule) check(i int, playbooks map[string]*Playbook) error {
	where := fmt.Sprintf("automation rule %q (respond.automation[%d])", r.Name, i)
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("%s: %s: %s", where, field, fmt.Sprintf(format, args...))
	}
	if !validName(r.Name) {
		return fail("name", "want 1-64 of A-Z a-z 0-9 . _ -, got %q", r.Name)
	}
	switch r.Trigger {
	case TriggerAlertCreated, TriggerIncidentCreated:
		if r.Stage != "" {
			return fail("stage", "only a rule on incident_stage takes a stage")
		}
	case TriggerIncidentStage:
		if r.Stage != "" && !r.Stage.Valid() {
			return fail("stage", "unknown stage %q (want detect, assess, diagnose, stabilize or close)", r.Stage)
		}
	default:
		return fail("trigger", "%q is not alert_created, incident_created or incident_stage", r.Trigger)
	}
	if err := r.When.prepare(); err != nil {
		return fail("when."+err.field, "%s", err.msg)
	}
	if len(r.Actions) == 0 {
		return fail("actions", "a rule needs at least one action")
	}
	for j := range r.Actions {
		a := &r.Actions[j]
		field := fmt.Sprintf("actions[%d]", j)
		set := 0
		for _, on := range []bool{a.Assign != "", a.Tag != "", a.Severity != "", a.Playbook != "", a.Block != nil} {
			if on {
				set++
			}
		}
		if set != 1 {
			return fail(field, "set exactly one of assign, tag, severity, playbook or block")
		}
		switch {
		case a.Severity != "":
			s, err := alert.ParseSeverity(a.Severity)
			if err != nil {
				return fail(field+".severity", "%v", err)
			}
			a.severity = s
		case a.Playbook != "":
			if playbooks[a.Playbook] == nil {
				return fail(field+".playbook", "no playbook is named %q", a.Playbook)
			}
		case a.Block != nil:
			b := a.Block
			switch b.Kind {
			case store.DecisionIP, store.DecisionAccount:
				if b.Prefix != 0 {
					return fail(field+".block.prefix", "only kind range takes a prefix")
				}
			case store.DecisionRange:
				if b.Prefix < 0 || b.Prefix > 128 || b.Prefix != 0 && b.Prefix < 8 {
					return fail(field+".block.prefix", "%d is not a network length from 8 to 128", b.Prefix)
				}
			default:
				return fail(field+".block.kind", "%q is not ip, range or account", b.Kind)
			}
			if b.Duration <= 0 || b.Duration > store.MaxDecisionDuration {
				return fail(field+".block.duration", "%s is not a duration from 1s to %s", b.Duration, store.MaxDecisionDuration)
			}
		}
	}
	return nil
}

type fieldError struct{ field, msg string }

func (c *Conditions) prepare() *fieldError {
	c.minSev, c.networks, c.values = nil, nil, nil
	if c.MinSeverity != "" {
		s, err := alert.ParseSeverity(c.MinSeverity)
		if err != nil {
			return &fieldError{"min-severity", err.Error()}
		}
		c.minSev = &s
	}
	if c.MinPriority < 0 || c.MinPriority > 100 {
		return &fieldError{"min-priority", fmt.Sprintf("%d is not from 0 to 100", c.MinPriority)}
	}
	for _, e := range c.Entities {
		e = strings.TrimSpace(e)
		if e == "" {
			return &fieldError{"entities", "an empty value"}
		}
		if strings.Contains(e, "/") {
			if p, err := netip.ParsePrefix(e); err == nil {
				c.networks = append(c.networks, p.Masked())
				continue
			}
		}
		c.values = append(c.values, strings.ToLower(e))
	}
	for _, s := range [][]string{c.Workspaces, c.Rules, c.Tactics, c.EntityTypes, c.Tags} {
		if slices.Contains(s, "") {
			return &fieldError{"lists", "an empty item"}
		}
	}
	return nil
}

// subject is what conditions look at, of an alert or an incident.
type subject struct {
	workspace string
	severity  alert.Severity
	priority  int
	rules     []string
	tactics   []string
	entities  []alert.Entity
	tags      []string
}

func alertSubject(a *alert.Alert) subject {
	return subject{workspace: a.Workspace, severity: a.Severity, priority: a.Priority, rules: []string{a.Rule.ID},
		tactics: a.Tactics, entities: a.Entities}
}

func incidentSubject(inc *incident.Incident) subject {
	return subject{workspace: inc.Workspace, severity: inc.Severity, priority: inc.Priority, rules: inc.RuleIDs,
		tactics: inc.Tactics, entities: inc.Entities, tags: inc.Tags}
}

func anyOf(want, have []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

// holds reports whether every condition set holds for s (prepare first).
func (c *Conditions) holds(s subject) bool {
	if len(c.Workspaces) > 0 && !slices.Contains(c.Workspaces, s.workspace) {
		return false
	}
	if c.minSev != nil && s.severity < *c.minSev || s.priority < c.MinPriority {
		return false
	}
	if !anyOf(c.Rules, s.rules) || !anyOf(c.Tactics, s.tactics) || !anyOf(c.Tags, s.tags) {
		return false
	}
	if len(c.EntityTypes) > 0 && !slices.ContainsFunc(s.entities, func(e alert.Entity) bool { return slices.Contains(c.EntityTypes, e.Type) }) {
		return false
	}
	if len(c.values)+len(c.networks) > 0 && !slices.ContainsFunc(s.entities, c.entityMatches) {
		return false
	}
	return true
}

func (c *Conditions) entityMatches(e alert.Entity) bool {
	if slices.Contains(c.values, strings.ToLower(e.Value)) {
		return true
	}
	if len(c.networks) == 0 {
		return false
	}
	a, err := netip.ParseAddr(e.Value)
	if err != nil {
		return false
	}
	a = a.Unmap()
	return slices.ContainsFunc(c.networks, func(p netip.Prefix) bool { return p.Contains(a) })
}

// validName is the names of rules, playbooks and notifications: they go
// into actors and metrics labels.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// MarshalJSON writes the duration as text ("4h0m0s"), as the
// configuration file gives it, not in nanoseconds.
func (b Block) MarshalJSON() ([]byte, error) {
	type plain Block
	return marshal(struct {
		plain
		Duration string `json:"duration"`
	}{plain(b), b.Duration.String()})
}
