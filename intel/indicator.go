// Package intel holds threat intelligence: indicators of compromise, the
// feeds they come from, and the set that events are matched against.
// Parsers of feed formats live in sub-packages named for their format
// (intel/stix, intel/taxii, intel/misp, intel/list); each yields
// []Indicator through the same Parser shape.
package intel

import (
	"io"
	"net/netip"
	"time"
)

// Kind is what an indicator's value is.
type Kind string

const (
	KindIP        Kind = "ip"   // one IPv4 or IPv6 address
	KindCIDR      Kind = "cidr" // an IPv4 or IPv6 prefix
	KindDomain    Kind = "domain"
	KindURL       Kind = "url"
	KindMD5       Kind = "md5"
	KindSHA1      Kind = "sha1"
	KindSHA256    Kind = "sha256"
	KindEmail     Kind = "email"
	KindUserAgent Kind = "user_agent"
)

// Threat types: what an indicator is evidence of. Feeds name more; these
// are the ones vigil maps feed vocabularies onto.
const (
	ThreatBotnet     = "botnet"
	ThreatC2         = "c2"
	ThreatMalware    = "malware"
	ThreatPhishing   = "phishing"
	ThreatScanner    = "scanner"
	ThreatTorExit    = "tor_exit"
	ThreatSpam       = "spam"
	ThreatBruteForce = "brute_force"
	ThreatExploit    = "exploit"
	ThreatAnonymizer = "anonymizer"
	ThreatUnknown    = "unknown"
)

// Indicator is one observable known to be bad, with what is known of it.
type Indicator struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"` // normalized: lowercased domains, hashes and e-mails; canonical IP and prefix text
	// ThreatType is one of the Threat constants (or a feed's own word when
	// none fits); Threat names the malware, actor or campaign when known.
	ThreatType  string    `json:"threat_type"`
	Threat      string    `json:"threat,omitempty"`
	Confidence  int       `json:"confidence"` // 0–100
	Feed        string    `json:"feed"`
	FirstSeen   time.Time `json:"first_seen,omitzero"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
	ValidUntil  time.Time `json:"valid_until,omitzero"` // zero: no end
	Revoked     bool      `json:"revoked,omitempty"`
	TLP         string    `json:"tlp,omitempty"` // clear, green, amber, amber+strict, red
	Description string    `json:"description,omitempty"`
	Ref         string    `json:"ref,omitempty"` // the feed's own id (a STIX id, a MISP attribute uuid)
	Tags        []string  `json:"tags,omitempty"`
}

// Live reports whether the indicator still matches at now: not revoked and
// not past its end of validity.
func (i *Indicator) Live(now time.Time) bool {
	return !i.Revoked && (i.ValidUntil.IsZero() || now.Before(i.ValidUntil))
}

// Matcher is what the enrichment step asks of the loaded intelligence: the
// live indicators an observed value falls under (an address under its CIDR
// ranges, a domain under its parent domains). Results are appended to dst
// so that the hot path allocates nothing; the indicators are shared and
// must not be changed.
type Matcher interface {
	MatchIP(a netip.Addr, now time.Time, dst []*Indicator) []*Indicator
	Match(k Kind, value string, now time.Time, dst []*Indicator) []*Indicator
}

// Problem is a part of a feed that could not be read, and where it is
// (a line, a JSON path or object id, a file of a MISP feed).
type Problem struct {
	Where  string `json:"where"`
	Reason string `json:"reason"`
}

func (p Problem) Error() string { return p.Where + ": " + p.Reason }

// Parser reads one feed document. A malformed entry is reported to problem
// with its position and the rest is read; an error is returned only when
// the document as a whole cannot be read.
type Parser interface {
	Parse(r io.Reader, feed string, problem func(Problem)) ([]Indicator, error)
}

// Specificity orders threat types from the most to the least telling, for
// a feed that names several for one value: lower is more specific. A
// feed's own word sits between the known kinds and the catch-alls
// (malware, unknown), which say least.
func Specificity(threatType string) int {
	switch threatType {
	case ThreatC2:
		return 0
	case ThreatBotnet:
		return 1
	case ThreatPhishing:
		return 2
	case ThreatTorExit:
		return 3
	case ThreatExploit:
		return 4
	case ThreatAnonymizer:
		return 5
	case ThreatBruteForce:
		return 6
	case ThreatScanner:
		return 7
	case ThreatSpam:
		return 8
	case ThreatMalware:
		return 10
	case ThreatUnknown:
		return 11
	}
	return 9
}
