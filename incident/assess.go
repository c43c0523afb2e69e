package incident

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// EvidenceEvent is an evidence event of an incident's alert, with its
// fields as `vigil decode` shows them.
type EvidenceEvent struct {
	AlertID, EventID string
	Time             time.Time
	Fields           Fields
}

// MaxDataAccessed caps the data an assessment lists: the most sensitive
// come first, so what the cap leaves out matters least.
const MaxDataAccessed = 200

var defaultClassifier = sync.OnceValue(func() *Classifier {
	return MustClassifier(DefaultSensitivityRules(), Internal)
})

// DefaultClassifier is the Classifier of DefaultSensitivityRules with
// Internal for data they do not name.
func DefaultClassifier() *Classifier { return defaultClassifier() }

// Assess fills in an incident's assessment from its alerts and their
// evidence events: the nature of the attack, its origin, its intent, the
// systems it compromised and the data it touched, labelled by cls (the
// default rules when nil). Locked and Updated are left for the caller.
func Assess(alerts []alert.Alert, evidence []EvidenceEvent, cls *Classifier) Assessment {
	if cls == nil {
		cls = DefaultClassifier()
	}
	as := make([]*alert.Alert, len(alerts))
	for i := range alerts {
		as[i] = &alerts[i]
	}
	// Oldest first: every list reads in the order the attack unfolded.
	slices.SortStableFunc(as, func(a, b *alert.Alert) int { return a.FirstSeen.Compare(b.FirstSeen) })
	data := dataAccessed(evidence, cls)
	return Assessment{
		Nature:       nature(as),
		Origin:       origin(as),
		Intent:       intent(as),
		Compromised:  compromised(as, evidence, data),
		DataAccessed: data,
	}
}

// tacticsInOrder sorts tactics into kill-chain order, unknown ones last
// in the order given.
func tacticsInOrder(ts []string) []string {
	slices.SortStableFunc(ts, func(a, b string) int { return cmp.Compare(TacticRank(a), TacticRank(b)) })
	return ts
}

func nature(as []*alert.Alert) Nature {
	n := Nature{AlertTypes: []string{}, ThreatTypes: []string{}, Tactics: []string{}, Techniques: []string{}}
	for _, a := range as {
		if a.Type == "health" {
			continue // a silent source is no part of the attack
		}
		n.AlertTypes = appendNew(n.AlertTypes, a.Rule.Title)
		n.ThreatTypes = appendNew(n.ThreatTypes, alert.ThreatType(a))
		for _, t := range a.Tactics {
			n.Tactics = appendNew(n.Tactics, t)
		}
		for _, t := range a.Techniques {
			n.Techniques = appendNew(n.Techniques, t)
		}
	}
	tacticsInOrder(n.Tactics)
	if len(n.AlertTypes) == 0 {
		return n
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d alert type%s", len(n.AlertTypes), plural(len(n.AlertTypes), "", "s"))
	if len(n.ThreatTypes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(n.ThreatTypes, ", "))
	}
	if len(n.Tactics) > 0 {
		fmt.Fprintf(&b, " across %d tactic%s: %s", len(n.Tactics), plural(len(n.Tactics), "", "s"), strings.Join(n.Tactics, " → "))
	}
	n.Summary = b.String()
	return n
}

func origin(as []*alert.Alert) AssessedOrigin {
	o := AssessedOrigin{Addresses: []string{}, Countries: []string{}, Networks: []string{}, Indicators: []alert.IndicatorRef{}}
	threats := []string{}
	for _, a := range as {
		if a.Origin == nil {
			continue
		}
		o.Addresses = appendNew(o.Addresses, a.Origin.IP)
		o.Countries = appendNew(o.Countries, a.Origin.Country)
		if a.Origin.ASN != 0 {
			o.Networks = appendNew(o.Networks, strings.TrimSpace(fmt.Sprintf("AS%d %s", a.Origin.ASN, a.Origin.ASOrg)))
		}
		for _, r := range a.Origin.Indicators {
			if !slices.ContainsFunc(o.Indicators, func(x alert.IndicatorRef) bool {
				return x.Kind == r.Kind && x.Value == r.Value && x.Feed == r.Feed
			}) {
				o.Indicators = append(o.Indicators, r)
				if r.ThreatType != "" && r.ThreatType != "unknown" {
					threats = appendNew(threats, strings.ToLower(r.ThreatType))
				}
			}
		}
	}
	var parts []string
	switch len(o.Addresses) {
	case 0:
	case 1:
		parts = append(parts, "from "+o.Addresses[0])
	default:
		parts = append(parts, fmt.Sprintf("from %d addresses (%s…)", len(o.Addresses), o.Addresses[0]))
	}
	if len(o.Countries) > 0 {
		parts = append(parts, "in "+strings.Join(o.Countries, ", "))
	}
	if len(o.Networks) > 0 {
		parts = append(parts, "on "+strings.Join(o.Networks, ", "))
	}
	if len(o.Indicators) > 0 {
		s := fmt.Sprintf("%d intelligence match%s", len(o.Indicators), plural(len(o.Indicators), "", "es"))
		if len(threats) > 0 {
			s += " (" + strings.Join(threats, ", ") + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		o.Summary = "no source address known"
	} else {
		o.Summary = strings.Join(parts, "; ")
	}
	return o
}

// followThrough reports whether an intent reason says the source went on
// after getting in (alert.EstimateIntent's strongest signs).
func followThrough(reason string) bool {
	r := strings.ToLower(reason)
	return strings.Contains(r, "succeeded after") || strings.Contains(r, "after a successful login")
}

// intent combines the alerts' estimates: targeted when an alert is
// targeted for following through after getting in, or when the incident
// itself shows it (a success followed by later stages of the kill chain);
// else random when any alert looks random; else targeted when any does;
// else unknown. Every reason of the winning side is listed once.
func intent(as []*alert.Alert) alert.Intent {
	var targeted, random []string
	follow := false
	anyTargeted, anyRandom := false, false
	for _, a := range as {
		if a.Intent == nil {
			continue
		}
		switch a.Intent.Estimate {
		case alert.IntentTargeted:
			anyTargeted = true
			for _, r := range a.Intent.Reasons {
				targeted = appendNew(targeted, r)
				follow = follow || followThrough(r)
			}
		case alert.IntentRandom:
			anyRandom = true
			for _, r := range a.Intent.Reasons {
				random = appendNew(random, r)
			}
		}
	}
	if r := chainAfterSuccess(as); r != "" {
		targeted = appendNew(targeted, r)
		follow = true
	}
	switch {
	case follow:
		return alert.Intent{Estimate: alert.IntentTargeted, Reasons: targeted}
	case anyRandom:
		return alert.Intent{Estimate: alert.IntentRandom, Reasons: random}
	case anyTargeted:
		return alert.Intent{Estimate: alert.IntentTargeted, Reasons: targeted}
	}
	return alert.Intent{Estimate: alert.IntentUnknown, Reasons: []string{"no alert of the incident says either way"}}
}

// chainAfterSuccess says, when it is so, that the attack went on to later
// stages of the kill chain after a rule saw it succeed: someone who got
// in and kept going was after this target.
func chainAfterSuccess(as []*alert.Alert) string {
	for _, s := range as {
		if !strings.EqualFold(s.Rule.Outcome, "success") {
			continue
		}
		rank := minRank(s.Tactics)
		var later []string
		for _, a := range as {
			if a == s || a.LastSeen.Before(s.FirstSeen) {
				continue
			}
			for _, t := range a.Tactics {
				if TacticRank(t) > rank && TacticRank(t) < len(killChain) {
					later = appendNew(later, t)
				}
			}
		}
		if len(later) > 0 {
			tacticsInOrder(later)
			return fmt.Sprintf("after %s succeeded, the attack went on (%s)", s.Rule.Title, strings.Join(later, ", "))
		}
	}
	return ""
}

func minRank(ts []string) int {
	m := len(killChain)
	for _, t := range ts {
		m = min(m, TacticRank(t))
	}
	return m
}

// onHostTactics are tactics whose detection means code ran on, or data
// left, the system the alert names: the attack got in there.
var onHostTactics = map[string]bool{
	"execution": true, "persistence": true, "privilege-escalation": true, "defense-evasion": true,
	"lateral-movement": true, "collection": true, "exfiltration": true, "impact": true, "command-and-control": true,
}

// onHostTechniques are credential-access techniques that need a foothold
// (dumping, reading stores), unlike guessing passwords.
var onHostTechniques = []string{"T1003", "T1552", "T1555", "T1558"}

// compromised lists the systems where the attack succeeded, each once
// with every reason: the entity of an alert whose rule says it succeeded
// (a login after brute force), of one that shows code running or data
// leaving (execution, persistence, collection…), and the databases and
// cloud resources whose data an alert's evidence shows read or changed.
func compromised(as []*alert.Alert, evidence []EvidenceEvent, data []DataAccess) []Compromised {
	out := []Compromised{}
	add := func(e alert.Entity, reason, alertID string, t time.Time) {
		if e.Value == "" {
			return
		}
		for i := range out {
			if out[i].Entity.Type == e.Type && strings.EqualFold(out[i].Entity.Value, e.Value) {
				if !strings.Contains(out[i].Reason, reason) {
					out[i].Reason += "; " + reason
				}
				return
			}
		}
		out = append(out, Compromised{Entity: e, Reason: reason, AlertID: alertID, Time: t})
	}
	bruteForce := func(before time.Time, a *alert.Alert) bool {
		for _, b := range as {
			if b != a && !b.FirstSeen.After(before) && hasTechnique(b, "T1110") {
				return true
			}
		}
		return false
	}
	touched := map[string]bool{} // alert ids whose evidence touched data
	for _, d := range data {
		if d.AlertID != "" {
			touched[d.AlertID] = true
		}
	}
	for _, a := range as {
		if a.Type == "health" {
			continue
		}
		primary := a.Compromised
		if primary == nil {
			primary = alert.CompromisedEntity(a)
		}
		switch {
		case strings.EqualFold(a.Rule.Outcome, "success"):
			reason := a.Rule.Title + " (the rule saw the attack succeed)"
			if isLogin(a) && bruteForce(a.FirstSeen, a) {
				reason = "logon succeeded after brute force (" + a.Rule.Title + ")"
			}
			if primary != nil {
				add(*primary, reason, a.ID, a.FirstSeen)
			}
			if isLogin(a) {
				if h := entityOf(a, alert.EntityHost); h != nil {
					add(*h, reason, a.ID, a.FirstSeen)
				}
			}
		case onHost(a):
			e := entityOf(a, alert.EntityHost, alert.EntityDatabase, alert.EntityCloudResource)
			if e == nil {
				e = primary
			}
			if e != nil {
				add(*e, onHostReason(a), a.ID, a.FirstSeen)
			}
		}
		if touched[a.ID] {
			if e := entityOf(a, alert.EntityDatabase, alert.EntityCloudResource, alert.EntityHost); e != nil {
				add(*e, "data accessed ("+a.Rule.Title+")", a.ID, a.FirstSeen)
			}
		}
	}
	return out
}

func onHost(a *alert.Alert) bool {
	for _, t := range a.Tactics {
		if onHostTactics[t] {
			return true
		}
	}
	for _, t := range onHostTechniques {
		if hasTechnique(a, t) {
			return true
		}
	}
	return false
}

func onHostReason(a *alert.Alert) string {
	for _, t := range a.Tactics {
		switch t {
		case "execution":
			return "command execution (" + a.Rule.Title + ")"
		case "privilege-escalation":
			return "privilege escalation (" + a.Rule.Title + ")"
		case "persistence":
			return "persistence (" + a.Rule.Title + ")"
		case "collection", "exfiltration":
			return "data collected or sent out (" + a.Rule.Title + ")"
		}
	}
	return a.Rule.Title + " (" + strings.Join(a.Tactics, ", ") + ")"
}

func hasTechnique(a *alert.Alert, t string) bool {
	for _, x := range a.Techniques {
		if strings.EqualFold(x, t) || strings.HasPrefix(strings.ToUpper(x), t+".") {
			return true
		}
	}
	return false
}

// isLogin: an alert about a login (ATT&CK Valid Accounts, or a title
// that says logon or login).
func isLogin(a *alert.Alert) bool {
	if hasTechnique(a, "T1078") {
		return true
	}
	t := strings.ToLower(a.Rule.Title)
	return strings.Contains(t, "login") || strings.Contains(t, "logon") || strings.Contains(t, "sign-in")
}

// entityOf returns the alert's first entity of the first type listed that
// it has; an address is never one (it may be the attacker's).
func entityOf(a *alert.Alert, types ...string) *alert.Entity {
	for _, typ := range types {
		for _, e := range a.Entities {
			if e.Type == typ && e.Value != "" {
				c := e
				return &c
			}
		}
	}
	return nil
}

// dataAccessed lists what the evidence touched, labelled, each
// (kind, name, container, action) once — the first time seen —, most
// sensitive first, then in time order.
func dataAccessed(evidence []EvidenceEvent, cls *Classifier) []DataAccess {
	out := []DataAccess{}
	seen := map[[4]string]bool{}
	evs := slices.Clone(evidence)
	slices.SortStableFunc(evs, func(a, b EvidenceEvent) int { return a.Time.Compare(b.Time) })
	for _, ev := range evs {
		if ev.Fields == nil {
			continue
		}
		for _, d := range DataAccessed(ev.Fields) {
			k := [4]string{d.Kind, strings.ToLower(d.Name), strings.ToLower(d.Container), d.Action}
			if seen[k] {
				continue
			}
			seen[k] = true
			d.Sensitivity, d.Rule = cls.Classify(d.Kind, d.Name, d.Container)
			d.AlertID, d.EventID, d.Time = ev.AlertID, ev.EventID, ev.Time
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b DataAccess) int { return cmp.Compare(b.Sensitivity.Rank(), a.Sensitivity.Rank()) })
	if len(out) > MaxDataAccessed {
		out = out[:MaxDataAccessed]
	}
	return out
}
