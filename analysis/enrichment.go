package analysis

import (
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
)

// enrichment is a Processor's enrichment step: the batch's chain and the
// current event's results. Detectors (intelligence) run on every event;
// the other enrichers run before matching only when a rule reads a field
// they fill, and otherwise after matching, only for an event that raised
// a signal (its alert's origin and assets): enrichment costs nothing more
// than the intelligence lookups when no rule needs it. Learners
// (behavioural baselines) are the exception: an event one of them wants
// goes through the whole chain before matching, whether or not a rule
// reads its fields, so that the baselines learn from every such event.
type enrichment struct {
	chain *enrich.Chain
	eager bool
	now   time.Time
	done  bool // the whole chain ran on the current event
	res   enrich.Result
	dict  *event.Dict
	reads map[*enrich.Chain]bool

	org     *alert.Origin
	orgDone bool
	assts   []alert.Asset
	astDone bool
	anoms   []alert.Anomaly
	anDone  bool
}

// begin picks the chain of the batch's workspace.
func (e *enrichment) begin(p *Processor, b *bus.Batch) {
	e.chain = nil
	if p.Enrichers == nil {
		return
	}
	c := p.Enrichers(b.Workspace)
	if c.Len() == 0 {
		return
	}
	if d := p.ev.Fields.Dict(); d != e.dict || len(e.reads) > 64 {
		e.dict, e.reads = d, map[*enrich.Chain]bool{}
	}
	r, ok := e.reads[c]
	if !ok {
		r = c.Reads(e.dict)
		e.reads[c] = r
	}
	e.chain, e.eager, e.now = c, r, b.Received
}

// before runs the detectors, and the whole chain when rules read it or a
// learner wants the event.
func (e *enrichment) before(ev *event.Event) {
	e.res.Reset(e.now)
	e.done, e.org, e.orgDone, e.assts, e.astDone = false, nil, false, nil, false
	e.anoms, e.anDone = nil, false
	e.chain.Detect(ev, &e.res)
	if e.eager || e.chain.Learns(ev) {
		e.chain.Enrich(ev, &e.res)
		e.done = true
	}
}

// after runs the rest of the chain on an event that will raise a signal.
func (e *enrichment) after(ev *event.Event, hit bool) {
	if !e.done && (hit || len(e.res.Matches) > 0) {
		e.chain.Enrich(ev, &e.res)
		e.done = true
	}
}

// origin is the current event's origin for its signals: its source
// address as GeoIP knows it and its intelligence matches; nil when there
// is neither. Built once per event, shared by its signals (read-only).
func (e *enrichment) origin(ev *event.Event) *alert.Origin {
	if e.orgDone {
		return e.org
	}
	e.orgDone = true
	src := &e.res.Source
	if !src.IP.IsValid() {
		// No GeoIP in the chain: the address and its scope still say
		// where the activity comes from.
		if a, err := netip.ParseAddr(ev.Common[event.SourceIP]); err == nil {
			src.IP = a.Unmap().WithZone("")
			src.Scope = enrich.Scope(src.IP)
		}
	}
	if !src.IP.IsValid() && len(e.res.Matches) == 0 {
		return nil
	}
	o := &alert.Origin{}
	if src.IP.IsValid() {
		o.IP, o.Scope = src.IP.String(), src.Scope
		o.Country, o.CountryName, o.City = src.Country, src.CountryName, src.City
		o.Lat, o.Lon = src.Lat, src.Lon
		o.ASN, o.ASOrg = src.ASN, src.ASOrg
	}
	for _, m := range e.res.Matches {
		o.Indicators = append(o.Indicators, indicatorRef(m))
	}
	e.org = o
	return o
}

func indicatorRef(m enrich.Match) alert.IndicatorRef {
	ind := m.Indicator
	r := alert.IndicatorRef{
		Kind: string(ind.Kind), Value: ind.Value, Field: m.Field, ThreatType: ind.ThreatType,
		Threat: ind.Threat, Confidence: ind.Confidence, Feed: ind.Feed,
	}
	if !strings.EqualFold(m.Value, ind.Value) {
		r.Matched = strings.Clone(m.Value)
	}
	return r
}

// assets are the current event's assets for its signals.
func (e *enrichment) assets() []alert.Asset {
	if e.astDone {
		return e.assts
	}
	e.astDone = true
	for _, a := range e.res.Assets {
		e.assts = append(e.assts, alert.Asset{
			Name: a.Name, Type: a.Type, Criticality: a.Criticality, Owner: a.Owner, Environment: a.Environment, Tags: a.Tags,
		})
	}
	return e.assts
}

// anomalies are the current event's baseline anomalies for its signals,
// copied out of the event's buffers once, shared by its signals.
func (e *enrichment) anomalies() []alert.Anomaly {
	if e.anDone {
		return e.anoms
	}
	e.anDone = true
	for _, a := range e.res.Anomalies {
		e.anoms = append(e.anoms, alert.Anomaly{
			Model: a.Model, Entity: strings.Clone(a.Entity), Value: strings.Clone(a.Value), Kind: a.Kind, Seen: a.Seen,
		})
	}
	return e.anoms
}

// intelSignals adds a threat-intelligence signal for each indicator the
// event matched: the indicator is the rule (intel:<threat type>), the event
// the evidence. Signals of one indicator about the same observable, host
// and account gather into one alert.
func (p *Processor) intelSignals(ev *event.Event, out []alert.Signal) []alert.Signal {
	e := &p.enr
	ents := alert.Entities(ev)
	seen := make([]*intel.Indicator, 0, len(e.res.Matches))
	for _, m := range e.res.Matches {
		ind := m.Indicator
		dup := false
		for _, s := range seen {
			dup = dup || s == ind
		}
		if dup {
			continue
		}
		seen = append(seen, ind)
		obs := alert.Entity{Type: entityOf(ind.Kind), Value: strings.Clone(m.Value)}
		es := ents
		if !containsEntity(es, obs) {
			es = append(append([]alert.Entity(nil), ents...), obs)
		}
		key := []alert.Entity{obs}
		for _, x := range ents {
			if (x.Type == alert.EntityHost || x.Type == alert.EntityAccount) && x != obs {
				key = append(key, x)
			}
		}
		ref := alert.RuleRef{
			ID:          "intel:" + ind.ThreatType,
			Title:       intelTitle(ind),
			Description: ind.Description,
		}
		if ind.Ref != "" {
			ref.References = []string{ind.Ref}
		}
		s := alert.Signal{
			Workspace: ev.Workspace, Type: "intel", Rule: ref, Severity: IntelSeverity(ind),
			Tactics: intelTactics[ind.ThreatType], Entities: es,
			DedupKey: alert.DedupKey(ev.Workspace, "intel:"+string(ind.Kind)+":"+ind.Value, key),
			Evidence: alert.Evidence{Time: ev.Time},
			Origin:   e.origin(ev), Assets: e.assets(), Anomalies: e.anomalies(),
		}
		if p.Offline != "" {
			s.Evidence.File, s.Evidence.Line = p.Offline, ev.Line
		} else {
			s.Evidence.EventID = ev.ID.String()
		}
		out = append(out, s)
	}
	return out
}

func containsEntity(es []alert.Entity, e alert.Entity) bool {
	for _, x := range es {
		if x == e {
			return true
		}
	}
	return false
}

func entityOf(k intel.Kind) string {
	switch k {
	case intel.KindIP, intel.KindCIDR:
		return alert.EntityIP
	case intel.KindDomain, intel.KindURL:
		return alert.EntityURL
	case intel.KindMD5, intel.KindSHA1, intel.KindSHA256:
		return alert.EntityHash
	case intel.KindEmail:
		return alert.EntityAccount
	}
	return alert.EntityApplication // a user agent
}

func intelTitle(ind *intel.Indicator) string {
	var b strings.Builder
	b.WriteString("Threat intelligence: ")
	b.WriteString(strings.ReplaceAll(ind.ThreatType, "_", " "))
	if ind.Threat != "" {
		b.WriteString(" (" + ind.Threat + ")")
	}
	b.WriteString(" indicator " + string(ind.Kind) + " " + ind.Value)
	if ind.Feed != "" {
		b.WriteString(" from " + ind.Feed)
	}
	return b.String()
}

// intelTactics are the ATT&CK tactics a threat type is evidence of.
var intelTactics = map[string][]string{
	intel.ThreatC2:         {"command-and-control"},
	intel.ThreatBotnet:     {"command-and-control"},
	intel.ThreatMalware:    {"execution"},
	intel.ThreatPhishing:   {"initial-access"},
	intel.ThreatExploit:    {"initial-access"},
	intel.ThreatScanner:    {"reconnaissance"},
	intel.ThreatBruteForce: {"credential-access"},
	intel.ThreatTorExit:    {"command-and-control"},
	intel.ThreatAnonymizer: {"command-and-control"},
}

// IntelSeverity rates an intelligence match: the threat type gives the
// base (malware, C2, botnets, phishing and exploitation high; scanners,
// spam, Tor exits and anonymizers low — they touch every network; brute
// force and unknown types medium), and the indicator's confidence moves
// it a step down (below 50) or up (90 and over).
func IntelSeverity(ind *intel.Indicator) alert.Severity {
	var s alert.Severity
	switch ind.ThreatType {
	case intel.ThreatMalware, intel.ThreatC2, intel.ThreatBotnet, intel.ThreatPhishing, intel.ThreatExploit:
		s = alert.High
	case intel.ThreatScanner, intel.ThreatSpam, intel.ThreatTorExit, intel.ThreatAnonymizer:
		s = alert.Low
	default:
		s = alert.Medium
	}
	switch {
	case ind.Confidence >= 90 && s < alert.Critical:
		s++
	case ind.Confidence < 50 && s > alert.Informational:
		s--
	}
	return s
}
