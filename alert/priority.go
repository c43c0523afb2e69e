package alert

import (
	"fmt"
	"strings"
)

// Priority factors: what a PriorityReason is about.
const (
	FactorSeverity     = "severity"
	FactorConfidence   = "confidence"
	FactorOutcome      = "outcome"
	FactorAsset        = "asset_criticality"
	FactorIntelligence = "intelligence"
	FactorRarity       = "baseline_rarity"
	FactorIntent       = "intent"
)

// PriorityReason is one factor of an alert's priority score and the points
// it adds (or, when negative, takes away).
type PriorityReason struct {
	Factor string `json:"factor"`
	Points int    `json:"points"`
	Detail string `json:"detail"`
}

// The points of each factor. Severity sets the base, the other factors
// move it; the weights are chosen so that no single modifier outweighs a
// step of severity by much, and a critical alert on a critical asset with
// a confirmed success reaches the top whatever else is known. See
// docs/alerts.md, which lists the same table.
var (
	severityPoints = [...]int{Informational: 5, Low: 15, Medium: 30, High: 45, Critical: 60}
	// An unstated confidence counts as medium: Sigma rules do not carry one.
	confidencePoints = map[string]int{"low": -10, "medium": 0, "high": 10}
	criticalPoints   = map[string]int{"low": 0, "medium": 5, "high": 12, "critical": 20}
	// threatPoints are the points of an intelligence match at confidence
	// 100, by threat type: infrastructure of an operation (command and
	// control, malware, exploitation, phishing) weighs most; sources that
	// touch everyone (scanners, Tor exits, spam, botnets) least, since
	// they say little about this alert. Other types get threatOther.
	threatPoints = map[string]int{
		"c2": 20, "malware": 20, "exploit": 20, "phishing": 15,
		"brute_force": 12,
		"anonymizer":  6, "scanner": 6, "botnet": 6, "tor_exit": 6, "spam": 6,
	}
)

const (
	threatOther = 10
	// unstatedIndicatorConfidence stands in for an indicator whose feed
	// gives no confidence (0).
	unstatedIndicatorConfidence = 50
	successPoints               = 15
	firstSeenPoints             = 10
	rarePoints                  = 5
	targetedPoints              = 10
	randomPoints                = -5
	// MaxPriority is the top of the score's range; the bottom is 0.
	MaxPriority = 100
)

// Prioritize scores the alert from 0 to MaxPriority: the sum of the points
// of its reasons, clamped. The reasons are in a fixed order (severity,
// confidence, outcome, asset criticality, intelligence, baseline rarity,
// intent); severity is always one, the others only when they move the
// score. The same alert always gets the same score and reasons.
func Prioritize(a *Alert) (int, []PriorityReason) {
	var rs []PriorityReason
	add := func(factor string, points int, detail string) {
		rs = append(rs, PriorityReason{Factor: factor, Points: points, Detail: detail})
	}
	sev := a.Severity
	if sev < Informational || sev > Critical {
		sev = Medium
	}
	add(FactorSeverity, severityPoints[sev], "severity "+sev.String())

	conf := strings.ToLower(a.Rule.Confidence)
	if p := confidencePoints[conf]; p != 0 {
		add(FactorConfidence, p, "the rule's confidence is "+conf)
	}
	if strings.EqualFold(a.Rule.Outcome, "success") {
		add(FactorOutcome, successPoints, "the rule detects a successful attack, not an attempt")
	}
	if r, ok := assetReason(a.Assets); ok {
		rs = append(rs, r)
	}
	if r, ok := intelReason(a.Origin); ok {
		rs = append(rs, r)
	}
	if r, ok := rarityReason(a.Anomalies); ok {
		rs = append(rs, r)
	}
	if a.Intent != nil {
		switch a.Intent.Estimate {
		case IntentTargeted:
			add(FactorIntent, targetedPoints, "the activity looks aimed at this workspace (intent: targeted)")
		case IntentRandom:
			add(FactorIntent, randomPoints, "the activity looks like a mass campaign (intent: random)")
		}
	}
	score := 0
	for _, r := range rs {
		score += r.Points
	}
	return min(max(score, 0), MaxPriority), rs
}

// assetReason is the points of the most critical inventory asset the alert
// touches (the first listed among equals).
func assetReason(as []Asset) (PriorityReason, bool) {
	best := -1
	for i, x := range as {
		if best < 0 || criticalPoints[strings.ToLower(x.Criticality)] > criticalPoints[strings.ToLower(as[best].Criticality)] {
			best = i
		}
	}
	if best < 0 {
		return PriorityReason{}, false
	}
	x := as[best]
	p := criticalPoints[strings.ToLower(x.Criticality)]
	if p == 0 {
		return PriorityReason{}, false
	}
	return PriorityReason{Factor: FactorAsset, Points: p,
		Detail: fmt.Sprintf("%s %s is of %s criticality", x.Type, x.Name, strings.ToLower(x.Criticality))}, true
}

// intelReason is the points of the weightiest intelligence match: its
// threat type's points scaled by the indicator's confidence, at least 1.
func intelReason(o *Origin) (PriorityReason, bool) {
	if o == nil {
		return PriorityReason{}, false
	}
	best, bestPts := -1, 0
	for i, r := range o.Indicators {
		pts, ok := threatPoints[strings.ToLower(r.ThreatType)]
		if !ok {
			pts = threatOther
		}
		c := r.Confidence
		if c <= 0 {
			c = unstatedIndicatorConfidence
		}
		pts = max((pts*min(c, 100)+50)/100, 1)
		if pts > bestPts {
			best, bestPts = i, pts
		}
	}
	if best < 0 {
		return PriorityReason{}, false
	}
	r := o.Indicators[best]
	d := fmt.Sprintf("%s %s is a %s indicator in feed %s (confidence %d)", r.Kind, r.Value, r.ThreatType, r.Feed, r.Confidence)
	if n := len(o.Indicators); n > 1 {
		d += fmt.Sprintf("; %d indicators matched", n)
	}
	return PriorityReason{Factor: FactorIntelligence, Points: bestPts, Detail: d}, true
}

// rarityReason is the points of the strongest anomaly: a value never seen
// before for its entity outweighs a rare one. Only the strongest counts, so
// that an event new in many ways does not pile up points.
func rarityReason(as []Anomaly) (PriorityReason, bool) {
	best := -1
	for i, x := range as {
		switch {
		case best < 0 && (x.Kind == AnomalyFirstSeen || x.Kind == AnomalyRare):
			best = i
		case best >= 0 && x.Kind == AnomalyFirstSeen && as[best].Kind != AnomalyFirstSeen:
			best = i
		}
	}
	if best < 0 {
		return PriorityReason{}, false
	}
	x := as[best]
	p, d := rarePoints, fmt.Sprintf("%s: %s is rare for %s (seen %d times)", x.Model, x.Value, x.Entity, x.Seen)
	if x.Kind == AnomalyFirstSeen {
		p, d = firstSeenPoints, fmt.Sprintf("%s: %s never seen before for %s", x.Model, x.Value, x.Entity)
	}
	if n := len(as); n > 1 {
		d += fmt.Sprintf("; %d anomalies", n)
	}
	return PriorityReason{Factor: FactorRarity, Points: p, Detail: d}, true
}

// Assess works out what the alert's signals imply as a whole: its
// compromised entity and its priority. The store calls it whenever an alert
// is written after growing, once its intent is estimated.
func (a *Alert) Assess() {
	a.Compromised = CompromisedEntity(a)
	a.Priority, a.PriorityReasons = Prioritize(a)
}
