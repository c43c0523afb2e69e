// Package indicators is the intelligence enricher: it checks an event's
// observables — addresses, domains, URLs, file hashes, e-mail addresses,
// user agents — against the loaded indicators (an intel.Matcher) and
// records each match. Matches are detections in themselves: the step runs
// this enricher on every event, and each match raises a
// threat-intelligence alert.
package indicators

import (
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
)

// Enricher matches events against a Matcher, which can be replaced while
// events flow (a feed refresh hands over a new set).
type Enricher struct {
	m atomic.Pointer[holder]
}

type holder struct{ m intel.Matcher }

// New returns an Enricher over m (nil: matches nothing until Set).
func New(m intel.Matcher) *Enricher {
	e := &Enricher{}
	e.Set(m)
	return e
}

// Set replaces the matcher; events in flight finish with the old one.
func (e *Enricher) Set(m intel.Matcher) {
	if m == nil {
		e.m.Store(nil)
		return
	}
	e.m.Store(&holder{m})
}

// Detects marks the enricher as a detector (enrich.Detector).
func (e *Enricher) Detects() {}

var fields = []string{
	"threat.indicator.type", "threat.indicator.name", "threat.indicator.confidence",
	"threat.indicator.threat_type", "threat.feed.name", "threat.enrichments",
}

// Fields implements enrich.Enricher.
func (e *Enricher) Fields() []string { return fields }

// HashFields are the source fields that carry file hashes: Sysmon's
// `Hashes` (process creation, image and driver loads, file deletes:
// "SHA1=…,MD5=…,SHA256=…,IMPHASH=…", the algorithms Sysmon's HashAlgorithms
// setting picks) and `Hash` (FileCreateStreamHash), and the ECS names.
// Decoders fill a source field only when it is asked for, so the caller
// compiles the rules with these as extra fields (detect.Options).
var HashFields = []string{
	"Hashes", "Hash",
	"file.hash.md5", "file.hash.sha1", "file.hash.sha256",
	"process.hash.md5", "process.hash.sha1", "process.hash.sha256",
}

// state is a worker's: the hash fields' ids in the Dict its events use,
// and a buffer for lowercasing.
type state struct {
	dict *event.Dict
	ids  []hashField
	buf  []byte
}

type hashField struct {
	id   int32
	name string
	kind intel.Kind // "" for a Sysmon list of ALGO=value
}

func (e *Enricher) state(ev *event.Event, out *enrich.Result) *state {
	st, _ := out.Scratch(e).(*state)
	if st == nil {
		st = &state{}
		out.SetScratch(e, st)
	}
	if d := ev.Fields.Dict(); d != st.dict {
		st.dict, st.ids = d, st.ids[:0]
		if d != nil && !d.Open() {
			for _, name := range HashFields {
				if id, ok := d.ID(name); ok {
					st.ids = append(st.ids, hashField{id: id, name: name, kind: hashKind(name)})
				}
			}
		}
	}
	return st
}

func hashKind(field string) intel.Kind {
	switch {
	case strings.HasSuffix(field, ".md5"):
		return intel.KindMD5
	case strings.HasSuffix(field, ".sha1"):
		return intel.KindSHA1
	case strings.HasSuffix(field, ".sha256"):
		return intel.KindSHA256
	}
	return ""
}

// matching is one event's pass.
type matching struct {
	m   intel.Matcher
	out *enrich.Result
	st  *state
	dst []*intel.Indicator
}

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ev *event.Event, out *enrich.Result) {
	h := e.m.Load()
	if h == nil {
		return
	}
	st := e.state(ev, out)
	mt := matching{m: h.m, out: out, st: st}
	before := len(out.Matches)
	mt.ip(ev.Common[event.SourceIP], "source.ip")
	mt.ip(ev.Common[event.DestinationIP], "destination.ip")
	mt.ip(ev.Common[event.HostIP], "host.ip")
	if d := ev.Common[event.URLDomain]; d != "" {
		mt.host(d, "url.domain")
	}
	if u := ev.Common[event.URLOriginal]; u != "" {
		mt.value(intel.KindURL, u, "url.original", false)
		if ev.Common[event.URLDomain] == "" {
			if host := urlHost(u); host != "" {
				mt.host(host, "url.original")
			}
		}
	}
	if ua := ev.Common[event.UserAgentOriginal]; ua != "" {
		mt.value(intel.KindUserAgent, ua, "user_agent.original", false)
	}
	if u := ev.Common[event.UserName]; strings.IndexByte(u, '@') > 0 {
		mt.value(intel.KindEmail, u, "user.name", true)
	}
	for i := range st.ids {
		f := &st.ids[i] // not a copy captured by the closure
		ev.Fields.Each(f.id, func(v string) bool {
			mt.hashes(f, v)
			return true
		})
	}
	if len(out.Matches) > before {
		fill(ev, out.Matches[before:])
	}
}

// ip matches an address, when it is one and public: feeds of bad
// networks (FireHOL's level 1, bogon lists) list the private ranges too,
// which say nothing about an event inside a network.
func (mt *matching) ip(v, field string) {
	if v == "" {
		return
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return
	}
	a = a.Unmap().WithZone("")
	if enrich.Scope(a) != enrich.ScopePublic {
		return
	}
	mt.dst = mt.m.MatchIP(a, mt.out.Now, mt.dst[:0])
	mt.add(field, v)
}

// host matches a domain (its parent domains too: the Matcher's part), or
// an address written where a host name goes.
func (mt *matching) host(h, field string) {
	h = strings.TrimSuffix(h, ".")
	if _, err := netip.ParseAddr(h); err == nil {
		mt.ip(h, field)
		return
	}
	mt.value(intel.KindDomain, h, field, true)
}

// value matches one value of kind k, lowercased first when the kind's
// indicators are stored lowercased.
func (mt *matching) value(k intel.Kind, v, field string, fold bool) {
	q := v
	if fold && hasUpper(v) {
		mt.st.buf = appendLower(mt.st.buf[:0], v)
		q = unsafe.String(unsafe.SliceData(mt.st.buf), len(mt.st.buf)) // only for the lookup
	}
	mt.dst = mt.m.Match(k, q, mt.out.Now, mt.dst[:0])
	mt.add(field, v)
}

// hashes matches the value of a hash field: a hash of the field's kind,
// or Sysmon's "ALGO=hex,ALGO=hex" list. Hashes are not lowercased here:
// the Matcher reads them in either case.
func (mt *matching) hashes(f *hashField, v string) {
	if f.kind != "" {
		mt.value(f.kind, v, f.name, false)
		return
	}
	for v != "" {
		part := v
		if i := strings.IndexByte(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		algo, hex, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || hex == "" {
			continue
		}
		var k intel.Kind
		switch {
		case strings.EqualFold(algo, "SHA256"):
			k = intel.KindSHA256
		case strings.EqualFold(algo, "SHA1"):
			k = intel.KindSHA1
		case strings.EqualFold(algo, "MD5"):
			k = intel.KindMD5
		default:
			continue // IMPHASH, SHA384…: no indicator kind
		}
		mt.value(k, hex, f.name, false)
	}
}

func (mt *matching) add(field, v string) {
	for _, ind := range mt.dst {
		mt.out.Matches = append(mt.out.Matches, enrich.Match{Indicator: ind, Field: field, Value: v})
	}
}

// fill writes the event's threat fields: the strongest match (highest
// confidence) in threat.indicator.*, every match in threat.enrichments.
func fill(ev *event.Event, ms []enrich.Match) {
	best := 0
	for i, m := range ms {
		if m.Indicator.Confidence > ms[best].Indicator.Confidence {
			best = i
		}
	}
	b := ms[best].Indicator
	if ev.Common[event.ThreatIndicatorName] == "" {
		ev.Common[event.ThreatIndicatorType] = string(b.Kind)
		ev.Common[event.ThreatIndicatorName] = b.Value
		ev.Common[event.ThreatIndicatorConfidence] = strconv.Itoa(b.Confidence)
		ev.Common[event.ThreatIndicatorThreatType] = b.ThreatType
		ev.Common[event.ThreatFeedName] = b.Feed
	}
	var sb strings.Builder
	for i, m := range ms {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(string(m.Indicator.Kind))
		sb.WriteByte(':')
		sb.WriteString(m.Indicator.Value)
		sb.WriteByte(' ')
		sb.WriteString(m.Indicator.ThreatType)
		sb.WriteByte(' ')
		sb.WriteString(m.Indicator.Feed)
	}
	if ev.Common[event.ThreatEnrichments] == "" {
		ev.Common[event.ThreatEnrichments] = sb.String()
	}
}

// urlHost returns the host of a URL (scheme://[user@]host[:port]/…), or
// "" when u has no scheme.
func urlHost(u string) string {
	i := strings.Index(u, "://")
	if i <= 0 {
		return ""
	}
	h := u[i+3:]
	if j := strings.IndexAny(h, "/?#"); j >= 0 {
		h = h[:j]
	}
	if j := strings.LastIndexByte(h, '@'); j >= 0 {
		h = h[j+1:]
	}
	if strings.HasPrefix(h, "[") { // [v6]:port
		if j := strings.IndexByte(h, ']'); j > 0 {
			return h[1:j]
		}
		return ""
	}
	if j := strings.LastIndexByte(h, ':'); j >= 0 {
		h = h[:j]
	}
	return h
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
