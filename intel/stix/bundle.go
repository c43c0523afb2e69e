// Package stix reads STIX 2.1 bundles into indicators and writes
// indicators as a STIX 2.1 bundle.
package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// object holds the properties of any STIX object that vigil reads; the
// rest of an object is ignored.
type object struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	SpecVersion string `json:"spec_version"`
	Modified    string `json:"modified"`
	Name        string `json:"name"`
	Description string `json:"description"`

	Pattern        string   `json:"pattern"`
	PatternType    string   `json:"pattern_type"`
	IndicatorTypes []string `json:"indicator_types"`
	Labels         []string `json:"labels"`
	ValidFrom      string   `json:"valid_from"`
	ValidUntil     string   `json:"valid_until"`
	Revoked        bool     `json:"revoked"`
	Confidence     *int     `json:"confidence"`
	Markings       []string `json:"object_marking_refs"`

	MalwareTypes        []string `json:"malware_types"`
	InfrastructureTypes []string `json:"infrastructure_types"`

	RelationshipType string `json:"relationship_type"`
	SourceRef        string `json:"source_ref"`
	TargetRef        string `json:"target_ref"`

	DefinitionType string                     `json:"definition_type"`
	Definition     json.RawMessage            `json:"definition"`
	Extensions     map[string]json.RawMessage `json:"extensions"`

	SightingOf string `json:"sighting_of_ref"`
	LastSeen   string `json:"last_seen"` // sighting

	Value  string            `json:"value"`  // ipv4-addr, domain-name, url, email-addr…
	Hashes map[string]string `json:"hashes"` // file

	// vigil's own properties, written by Export so that a round trip
	// keeps what STIX has no place for.
	XThreatType string `json:"x_vigil_threat_type"`
	XLastSeen   string `json:"x_vigil_last_seen"`

	where    string
	modified time.Time
}

// Parser reads STIX 2.1 bundles (a JSON object with "objects"; also a
// lone STIX object, and a TAXII envelope, which has the same "objects").
type Parser struct {
	// DefaultConfidence is given to objects without a confidence; 0 means 50.
	DefaultConfidence int
}

var _ intel.Parser = Parser{}

// Parse reads one bundle. It returns an error only when the document is
// not JSON or not a STIX object; every malformed object, unreadable
// pattern or unsupported operator is reported to problem with the
// object's position and id.
func (p Parser) Parse(r io.Reader, feed string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("stix: read bundle: %w", err)
	}
	var top struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("stix: bundle: %s", jsonError(data, err))
	}
	objs := top.Objects
	if top.Type != "bundle" && objs == nil {
		if top.Type == "" || top.ID == "" {
			return nil, fmt.Errorf("stix: not a bundle or STIX object (no type and id, no objects)")
		}
		objs = []json.RawMessage{json.RawMessage(data)}
	}
	return p.ParseObjects(objs, feed, problem), nil
}

// ParseObjects reads STIX objects gathered from anywhere (the pages of a
// TAXII collection): relationships and markings are resolved across all
// of them, so pass them together.
func (p Parser) ParseObjects(raw []json.RawMessage, feed string, problem func(intel.Problem)) []intel.Indicator {
	if problem == nil {
		problem = func(intel.Problem) {}
	}
	g := graph{
		byID:     map[string]*object{},
		tlp:      map[string]string{},
		outgoing: map[string][]*object{},
		incoming: map[string][]*object{},
		sighted:  map[string]time.Time{},
	}
	var order []*object
	for i, r := range raw {
		where := fmt.Sprintf("objects[%d]", i)
		o := new(object)
		if err := json.Unmarshal(r, o); err != nil {
			problem(intel.Problem{Where: where, Reason: "malformed object: " + jsonError(r, err)})
			continue
		}
		if o.Type == "" || o.ID == "" || !strings.HasPrefix(o.ID, o.Type+"--") {
			problem(intel.Problem{Where: where + idSuffix(o.ID), Reason: fmt.Sprintf("object without a valid type and id (type %q, id %q)", o.Type, o.ID)})
			continue
		}
		o.where = where + " (" + o.ID + ")"
		if o.Modified != "" {
			t, err := time.Parse(time.RFC3339Nano, o.Modified)
			if err != nil {
				problem(intel.Problem{Where: o.where, Reason: fmt.Sprintf("modified %q is not a timestamp", o.Modified)})
				continue
			}
			o.modified = t
		}
		// Several versions of one object: the latest modified wins, the
		// later one in the document on a tie.
		if prev, ok := g.byID[o.ID]; ok {
			if o.modified.Before(prev.modified) {
				continue
			}
			*prev = *o
			continue
		}
		g.byID[o.ID] = o
		order = append(order, o)
	}
	for _, o := range order {
		switch o.Type {
		case "marking-definition":
			if l := markingTLP(o); l != "" {
				g.tlp[o.ID] = l
			}
		case "relationship":
			g.outgoing[o.SourceRef] = append(g.outgoing[o.SourceRef], o)
			g.incoming[o.TargetRef] = append(g.incoming[o.TargetRef], o)
		case "sighting":
			// A sighting of an indicator says when it was last seen.
			if t, err := time.Parse(time.RFC3339Nano, o.LastSeen); err == nil && !o.Revoked && t.After(g.sighted[o.SightingOf]) {
				g.sighted[o.SightingOf] = t.UTC()
			}
		}
	}
	var out []intel.Indicator
	for _, o := range order {
		switch o.Type {
		case "indicator":
			out = p.indicator(out, o, &g, feed, problem)
		case "infrastructure":
			out = p.infrastructure(out, o, &g, feed, problem)
		}
	}
	return out
}

func idSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " (" + id + ")"
}

type graph struct {
	byID     map[string]*object
	tlp      map[string]string // marking-definition id → TLP level, from the document
	outgoing map[string][]*object
	incoming map[string][]*object
	sighted  map[string]time.Time // indicator id → latest last_seen of its sightings
}

func (p Parser) confidence(o *object, problem func(intel.Problem)) int {
	if o.Confidence == nil {
		if p.DefaultConfidence > 0 {
			return min(p.DefaultConfidence, 100)
		}
		return 50
	}
	c := *o.Confidence
	if c < 0 || c > 100 {
		problem(intel.Problem{Where: o.where, Reason: fmt.Sprintf("confidence %d outside 0–100, clamped", c)})
		c = max(0, min(c, 100))
	}
	return c
}

func (p Parser) indicator(out []intel.Indicator, o *object, g *graph, feed string, problem func(intel.Problem)) []intel.Indicator {
	if o.PatternType != "" && o.PatternType != "stix" {
		problem(intel.Problem{Where: o.where, Reason: fmt.Sprintf("pattern_type %q is not read (only stix)", o.PatternType)})
		return out
	}
	types := o.IndicatorTypes
	if len(types) == 0 {
		types = o.Labels // STIX 2.0 wrote the indicator's types as labels
	}
	for _, t := range types {
		if t == "benign" {
			problem(intel.Problem{Where: o.where, Reason: "indicator_types benign: not an indicator of compromise, not imported"})
			return out
		}
	}
	pat, err := ParsePattern(o.Pattern)
	if err != nil {
		problem(intel.Problem{Where: o.where, Reason: fmt.Sprintf("pattern %q: %v", o.Pattern, err)})
		return out
	}
	found, skipped, err := pat.observables()
	if err != nil {
		problem(intel.Problem{Where: o.where, Reason: fmt.Sprintf("pattern %q: %v", o.Pattern, err)})
		return out
	}
	switch {
	case len(found) == 0:
		problem(intel.Problem{Where: o.where, Reason: fmt.Sprintf("pattern %q has no observable vigil matches: %s", o.Pattern, strings.Join(skipped, "; "))})
		return out
	case len(skipped) > 0:
		problem(intel.Problem{Where: o.where, Reason: fmt.Sprintf("pattern %q: kept %d observable(s), not imported: %s", o.Pattern, len(found), strings.Join(skipped, "; "))})
	}
	base := intel.Indicator{
		Feed:        feed,
		Confidence:  p.confidence(o, problem),
		Revoked:     o.Revoked,
		TLP:         strictest(o.Markings, g.tlp),
		Description: o.Description,
		Ref:         o.ID,
		Tags:        tags(o.Labels),
	}
	if base.Description == "" {
		base.Description = o.Name
	}
	var ok bool
	if base.FirstSeen, ok = stamp(o, "valid_from", o.ValidFrom, problem); !ok {
		return out
	}
	if base.ValidUntil, ok = stamp(o, "valid_until", o.ValidUntil, problem); !ok {
		return out
	}
	if base.LastSeen, ok = stamp(o, "x_vigil_last_seen", o.XLastSeen, problem); !ok {
		return out
	}
	if base.LastSeen.IsZero() {
		base.LastSeen = g.sighted[o.ID]
	}
	related := g.related(o.ID, "indicates")
	base.Threat = threatName(related)
	for _, f := range found {
		ind := base
		ind.Kind, ind.Value = f.kind, f.value
		ind.ThreatType = o.XThreatType
		if ind.ThreatType == "" {
			ind.ThreatType = threatType(related, f.kind)
		}
		if ind.ThreatType == "" {
			ind.ThreatType = indicatorType(types)
		}
		ind.Tags = cloneTags(base.Tags)
		out = append(out, ind)
	}
	return out
}

// infrastructure turns the observables that attacker infrastructure
// consists of (its addresses and domains) into indicators: STIX bundles
// state them so, without an indicator object.
func (p Parser) infrastructure(out []intel.Indicator, o *object, g *graph, feed string, problem func(intel.Problem)) []intel.Indicator {
	tt := infrastructureType(o.InfrastructureTypes)
	if tt == "" {
		return out // defensive or unknown infrastructure: its parts are not bad
	}
	name := threatName(g.related(o.ID, "controls", "delivers", "hosts"))
	if name == "" {
		name = threatName(g.relatedFrom(o.ID, "uses"))
	}
	if name == "" {
		name = o.Name
	}
	for _, r := range g.outgoing[o.ID] {
		if r.RelationshipType != "consists-of" || r.Revoked {
			continue
		}
		sco := g.byID[r.TargetRef]
		if sco == nil {
			continue
		}
		kind := map[string]intel.Kind{
			"ipv4-addr": intel.KindIP, "ipv6-addr": intel.KindIP, "domain-name": intel.KindDomain,
			"url": intel.KindURL, "email-addr": intel.KindEmail,
		}[sco.Type]
		var vals []observed
		switch {
		case kind != "":
			vals = append(vals, observed{kind, sco.Value})
		case sco.Type == "file":
			for alg, h := range sco.Hashes {
				if k := hashKind(alg); k != "" {
					vals = append(vals, observed{k, h})
				}
			}
		default:
			continue
		}
		for _, v := range vals {
			k, val, err := fixed(v.kind)(v.value)
			if err != nil {
				problem(intel.Problem{Where: sco.where, Reason: err.Error()})
				continue
			}
			markings := sco.Markings
			if len(markings) == 0 {
				markings = o.Markings
			}
			out = append(out, intel.Indicator{
				Kind: k, Value: val, ThreatType: tt, Threat: name,
				Confidence: p.confidence(o, problem), Feed: feed,
				Revoked: o.Revoked, TLP: strictest(markings, g.tlp),
				Description: o.Name, Ref: sco.ID,
			})
		}
	}
	return out
}

// related returns the objects that id points at through relationships of
// the given types, in document order.
func (g *graph) related(id string, types ...string) []*object {
	var out []*object
	for _, r := range g.outgoing[id] {
		if !r.Revoked && contains(types, r.RelationshipType) {
			if t := g.byID[r.TargetRef]; t != nil && !t.Revoked {
				out = append(out, t)
			}
		}
	}
	return out
}

// relatedFrom returns the objects that point at id.
func (g *graph) relatedFrom(id string, types ...string) []*object {
	var out []*object
	for _, r := range g.incoming[id] {
		if !r.Revoked && contains(types, r.RelationshipType) {
			if s := g.byID[r.SourceRef]; s != nil && !s.Revoked {
				out = append(out, s)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func stamp(o *object, field, s string, problem func(intel.Problem)) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		problem(intel.Problem{Where: o.where + "." + field, Reason: fmt.Sprintf("%q is not a timestamp", s)})
		return time.Time{}, false
	}
	return t.UTC(), true
}

func tags(labels []string) []string {
	if len(labels) == 0 {
		return nil
	}
	return labels
}

func cloneTags(t []string) []string {
	if t == nil {
		return nil
	}
	return append([]string(nil), t...)
}

// jsonError names where in data a decoding error happened, by line and
// column.
func jsonError(data []byte, err error) string {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
		if e.Field != "" {
			return fmt.Sprintf("field %s: %v", e.Field, err)
		}
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d column %d: %v", line, col, err)
}
