package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// The incident workflow's policy that every store shares: how an
// incident's aggregates follow from its alerts, how correlation's view
// merges into a stored incident, how similar two incidents are, what a
// request made by hand may ask, and how its actions read in the audit log.

const (
	// MaxIncidentEntities bounds an incident's entity list: an incident
	// spread over more is read through its alerts.
	MaxIncidentEntities = 200
	// MaxHandAlerts bounds the alerts one request moves by hand.
	MaxHandAlerts = 1000
	// MaxIncidentTitle bounds a title given by hand, in bytes.
	MaxIncidentTitle = 200
	// ActorAssessment is who SetAssessment's writes are by.
	ActorAssessment = "vigil:assessment"
	// MaxMergeHops bounds the walk from a merged incident to the one it
	// was merged into.
	MaxMergeHops = 8
	// SimilarCandidates bounds the incidents SimilarIncidents scores: the
	// most recent of those sharing an entity, and of those sharing a rule.
	SimilarCandidates = 200
)

// Refusedf is a refused request: ErrInvalid with the reason.
func Refusedf(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrInvalid)
}

// AggregateAlerts sets inc's aggregates from its alerts (oldest first):
// AlertCount, Severity (the worst), Priority (the highest), Tactics in
// kill-chain order, Techniques and RuleIDs in the order first seen,
// Entities (union, at most MaxIncidentEntities) and FirstSeen/LastSeen. An
// incident without alerts keeps its time span and severity for the
// record.
func AggregateAlerts(inc *incident.Incident, as []alert.Alert) {
	inc.AlertCount = len(as)
	inc.Tactics, inc.Techniques, inc.RuleIDs, inc.Entities = []string{}, []string{}, []string{}, []alert.Entity{}
	if len(as) == 0 {
		return
	}
	seen := map[alert.Entity]bool{}
	inc.Severity, inc.Priority = as[0].Severity, as[0].Priority
	inc.FirstSeen, inc.LastSeen = as[0].FirstSeen, as[0].LastSeen
	for _, a := range as {
		inc.Severity = max(inc.Severity, a.Severity)
		inc.Priority = max(inc.Priority, a.Priority)
		if a.FirstSeen.Before(inc.FirstSeen) {
			inc.FirstSeen = a.FirstSeen
		}
		if a.LastSeen.After(inc.LastSeen) {
			inc.LastSeen = a.LastSeen
		}
		inc.Tactics = appendNew(inc.Tactics, a.Tactics...)
		inc.Techniques = appendNew(inc.Techniques, a.Techniques...)
		inc.RuleIDs = appendNew(inc.RuleIDs, a.Rule.ID)
		for _, e := range a.Entities {
			k := e
			if EntityIgnoresCase(e.Type, e.Value) {
				k.Value = FoldCase(e.Value)
			}
			if seen[k] || len(inc.Entities) >= MaxIncidentEntities {
				continue
			}
			seen[k] = true
			inc.Entities = append(inc.Entities, e)
		}
	}
	slices.SortStableFunc(inc.Tactics, func(a, b string) int { return incident.TacticRank(a) - incident.TacticRank(b) })
}

func appendNew(list []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// MergeCorrelation folds correlation's view c of an incident into the
// stored one s: s's workflow fields (stage, owner, tags, classification,
// tasks, assessment), the union of both aggregates. It reopens s when it
// is closed (and not merged away), reporting so.
func MergeCorrelation(s, c incident.Incident, now time.Time) (incident.Incident, bool) {
	out := s
	if s.ID == c.ID {
		out.Title = c.Title
	} // else the alerts went to the incident c was merged into, titled as it is
	out.Severity = max(s.Severity, c.Severity)
	out.Priority = max(s.Priority, c.Priority)
	out.Tactics = slices.Clone(s.Tactics)
	for _, t := range c.Tactics {
		if !slices.Contains(out.Tactics, t) {
			out.Tactics = append(out.Tactics, t)
		}
	}
	incident.SortTactics(out.Tactics)
	out.Techniques = unionStrings(s.Techniques, c.Techniques)
	out.RuleIDs = unionStrings(s.RuleIDs, c.RuleIDs)
	out.Entities = slices.Clone(s.Entities)
	have := entitySet(out.Entities)
	for _, e := range c.Entities {
		if k := IncidentEntityKey(e); !have[k] && len(out.Entities) < incident.MaxEntities {
			have[k] = true
			out.Entities = append(out.Entities, e)
		}
	}
	if out.FirstSeen.IsZero() || !c.FirstSeen.IsZero() && c.FirstSeen.Before(out.FirstSeen) {
		out.FirstSeen = c.FirstSeen
	}
	if c.LastSeen.After(out.LastSeen) {
		out.LastSeen = c.LastSeen
	}
	out.Updated = now
	if s.Stage == incident.StageClose && s.MergedInto == "" {
		out.Stage, out.Closed = incident.StageAssess, nil
		out.Reopened++
		return out, true
	}
	return out, false
}

func unionStrings(a, b []string) []string {
	out := slices.Clone(a)
	if out == nil {
		out = []string{}
	}
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// IncidentEntityKey is how an incident's entities compare: by type and
// value, folded for the types compared without regard to case.
func IncidentEntityKey(e alert.Entity) string {
	v := e.Value
	if EntityIgnoresCase(e.Type, v) {
		v = FoldCase(v)
	}
	return e.Type + "\x00" + v
}

func entitySet(es []alert.Entity) map[string]bool {
	m := make(map[string]bool, len(es))
	for _, e := range es {
		m[IncidentEntityKey(e)] = true
	}
	return m
}

// Similarity scores other against inc for SimilarIncidents: the mean of
// the overlap (Jaccard index) of their rule ids and of their entities, so
// that an incident with the same rules against the same systems scores 1,
// and one sharing either alone at most 0.5. shared names what they share.
func Similarity(inc, other incident.Incident) (score float64, shared []string) {
	mine := entitySet(inc.Entities)
	rules := 0
	for _, r := range other.RuleIDs {
		if slices.Contains(inc.RuleIDs, r) {
			rules++
			shared = append(shared, "rule "+r)
		}
	}
	ents := 0
	theirs := entitySet(other.Entities)
	for _, e := range other.Entities {
		if k := IncidentEntityKey(e); mine[k] && theirs[k] {
			ents++
			shared = append(shared, e.Type+" "+e.Value)
			delete(theirs, k) // once
		}
	}
	score = 0.5*jaccard(rules, len(inc.RuleIDs), len(other.RuleIDs)) + 0.5*jaccard(ents, len(mine), len(entitySet(other.Entities)))
	return score, shared
}

// SortSimilar orders similar incidents best first (then the latest, then
// by id) and keeps n.
func SortSimilar(out []incident.Similar, n int) []incident.Similar {
	slices.SortFunc(out, func(a, b incident.Similar) int {
		switch {
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case !a.Incident.LastSeen.Equal(b.Incident.LastSeen):
			return b.Incident.LastSeen.Compare(a.Incident.LastSeen)
		}
		return strings.Compare(a.Incident.ID, b.Incident.ID)
	})
	if len(out) > n {
		out = out[:n]
	}
	if out == nil {
		out = []incident.Similar{}
	}
	return out
}

func jaccard(shared, a, b int) float64 {
	if u := a + b - shared; u > 0 {
		return float64(shared) / float64(u)
	}
	return 0
}

// HandAlert is what a hand operation needs of an alert for its timeline
// entry and a title.
type HandAlert struct {
	Title    string
	Severity alert.Severity
	First    time.Time
}

// HandTitle names an incident made by hand after its most severe alert.
func HandTitle(s map[string]HandAlert) string {
	var best HandAlert
	found := false
	for _, h := range s {
		if !found || h.Severity > best.Severity || (h.Severity == best.Severity && h.Title < best.Title) {
			best, found = h, true
		}
	}
	if n := len(s) - 1; n > 0 {
		return fmt.Sprintf("%s and %d more %s", best.Title, n, PluralWord(n, "alert", "alerts"))
	}
	return best.Title
}

// HandAlertEntries are the timeline entries of alerts joining an incident
// by hand, at each alert's first activity.
func HandAlertEntries(incidentID string, ids []string, s map[string]HandAlert, actor string) []incident.TimelineEntry {
	out := make([]incident.TimelineEntry, 0, len(ids))
	for _, id := range ids {
		out = append(out, incident.TimelineEntry{IncidentID: incidentID, Time: s[id].First, Kind: incident.TimelineAlert,
			Actor: actor, Summary: s[id].Title, AlertID: id})
	}
	return out
}

// CheckHandAlerts checks the alerts and actor of a request made by hand,
// returning the ids without repeats.
func CheckHandAlerts(ids []string, actor string) ([]string, error) {
	if strings.TrimSpace(actor) == "" {
		return nil, Refusedf("a change needs an actor")
	}
	if len(ids) == 0 {
		return nil, Refusedf("name at least one alert")
	}
	if len(ids) > MaxHandAlerts {
		return nil, Refusedf("%d alerts, at most %d at a time", len(ids), MaxHandAlerts)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == "" {
			return nil, Refusedf("an empty alert id")
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// CheckIncidentTitle checks a title given by hand.
func CheckIncidentTitle(t string) error {
	if len(t) > MaxIncidentTitle {
		return Refusedf("title of %d bytes, at most %d", len(t), MaxIncidentTitle)
	}
	if strings.IndexFunc(t, unicode.IsControl) >= 0 {
		return Refusedf("title %q: one line, no control characters", t)
	}
	return nil
}

// CheckMerge checks a merge's request: an actor, incidents to merge, none
// of them into itself or named twice.
func CheckMerge(into string, from []string, actor string) error {
	if strings.TrimSpace(actor) == "" {
		return Refusedf("a merge needs an actor")
	}
	if len(from) == 0 {
		return Refusedf("name the incidents to merge")
	}
	for i, f := range from {
		if f == into {
			return Refusedf("an incident is not merged into itself")
		}
		if slices.Contains(from[:i], f) {
			return Refusedf("incident %s named twice", f)
		}
	}
	return nil
}

// CheckTimelineEntries checks entries vigil adds to incident id's
// timeline and readies them: each names the incident, has no Seq yet,
// and a time (now when it had none).
func CheckTimelineEntries(id string, entries []incident.TimelineEntry, now time.Time) ([]incident.TimelineEntry, error) {
	entries = slices.Clone(entries)
	for i := range entries {
		e := &entries[i]
		switch {
		case e.IncidentID != "" && e.IncidentID != id:
			return nil, Refusedf("entry %d names incident %s", i, e.IncidentID)
		case e.Kind == "" || strings.TrimSpace(e.Actor) == "":
			return nil, Refusedf("entry %d needs a kind and an actor", i)
		case strings.IndexFunc(e.Kind, func(r rune) bool { return r != '_' && !unicode.IsLower(r) }) >= 0:
			return nil, Refusedf("entry %d: kind %q: lower-case letters and _ only", i, e.Kind)
		}
		e.IncidentID, e.Seq = id, 0
		if e.Time.IsZero() {
			e.Time = now
		}
	}
	return entries, nil
}

// UnionTags adds to tags those of more it lacks.
func UnionTags(tags, more []string) []string {
	for _, t := range more {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// IncidentAuditAction names a timeline entry's action in the audit log.
func IncidentAuditAction(e incident.TimelineEntry) string {
	switch e.Kind {
	case incident.TimelineStage:
		if e.Stage == incident.StageClose {
			return "incident.close"
		}
		return "incident.stage"
	case incident.TimelineReopened:
		return "incident.reopen"
	case incident.TimelineOwner:
		return "incident.assign"
	}
	return "incident." + e.Kind
}

// IncidentAuditDetail is a timeline entry as an audit line's detail: its
// summary, and its text (a comment, a close reason, a failure) up to 500
// bytes.
func IncidentAuditDetail(e incident.TimelineEntry) string {
	if e.Text == "" {
		return e.Summary
	}
	text := e.Text
	if len(text) > 500 {
		text = strings.ToValidUTF8(text[:500], "") + "…"
	}
	return e.Summary + ": " + text
}

// SameAssessment compares two assessments apart from when they were made.
func SameAssessment(a, b incident.Assessment) bool {
	a.Updated, b.Updated = time.Time{}, time.Time{}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// AssessmentSummary is the timeline's summary of an automatic assessment.
func AssessmentSummary(a incident.Assessment) string {
	summary := "assessment filled in from the evidence"
	if len(a.Locked) > 0 {
		summary += " (edited sections kept: " + strings.Join(a.Locked, ", ") + ")"
	}
	return summary
}

// PluralWord is one when n is 1, else many.
func PluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
