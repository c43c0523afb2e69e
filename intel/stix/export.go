package stix

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// Exporter writes indicators as a STIX 2.1 bundle.
type Exporter struct {
	// Now stamps the objects' created and modified; zero means the time
	// of the export.
	Now time.Time
}

// Export writes inds as a STIX 2.1 bundle with the current time.
func Export(w io.Writer, inds []intel.Indicator) error { return Exporter{}.Export(w, inds) }

// namespace is the UUIDv5 namespace of the ids vigil gives exported
// objects, so that exporting the same indicator twice gives the same id.
var namespace = [16]byte{0x3c, 0x1b, 0x7e, 0x52, 0x8a, 0x43, 0x4f, 0x0d, 0x9b, 0x6e, 0x21, 0x5d, 0xa7, 0xc4, 0x90, 0x18}

// uuid5 is RFC 9562's name-based UUID with SHA-1.
func uuid5(name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	s := h.Sum(nil)
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// IndicatorID is the id Export gives an indicator that has no STIX id of
// its own in Ref: derived from its feed, kind and value.
func IndicatorID(ind *intel.Indicator) string {
	if strings.HasPrefix(ind.Ref, "indicator--") {
		return ind.Ref
	}
	return "indicator--" + uuid5("indicator|"+ind.Feed+"|"+string(ind.Kind)+"|"+ind.Value)
}

// PatternOf writes the STIX pattern that matches ind's value.
func PatternOf(ind *intel.Indicator) (string, error) {
	var path string
	switch ind.Kind {
	case intel.KindIP, intel.KindCIDR:
		addr := ind.Value
		if ind.Kind == intel.KindCIDR {
			p, err := netip.ParsePrefix(ind.Value)
			if err != nil {
				return "", fmt.Errorf("cidr %q: %w", ind.Value, err)
			}
			addr = p.Addr().String()
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return "", fmt.Errorf("ip %q: %w", ind.Value, err)
		}
		path = "ipv6-addr:value"
		if a.Is4() {
			path = "ipv4-addr:value"
		}
	case intel.KindDomain:
		path = "domain-name:value"
	case intel.KindURL:
		path = "url:value"
	case intel.KindMD5:
		path = "file:hashes.MD5"
	case intel.KindSHA1:
		path = "file:hashes.'SHA-1'"
	case intel.KindSHA256:
		path = "file:hashes.'SHA-256'"
	case intel.KindEmail:
		path = "email-addr:value"
	case intel.KindUserAgent:
		path = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
	default:
		return "", fmt.Errorf("kind %q has no STIX pattern", ind.Kind)
	}
	return "[" + path + " = " + quote(ind.Value) + "]", nil
}

type sdo struct {
	Type           string   `json:"type"`
	SpecVersion    string   `json:"spec_version"`
	ID             string   `json:"id"`
	Created        string   `json:"created"`
	Modified       string   `json:"modified,omitempty"`
	Name           string   `json:"name,omitempty"`
	Description    string   `json:"description,omitempty"`
	IndicatorTypes []string `json:"indicator_types,omitempty"`
	Pattern        string   `json:"pattern,omitempty"`
	PatternType    string   `json:"pattern_type,omitempty"`
	PatternVersion string   `json:"pattern_version,omitempty"`
	ValidFrom      string   `json:"valid_from,omitempty"`
	ValidUntil     string   `json:"valid_until,omitempty"`
	Revoked        bool     `json:"revoked,omitempty"`
	Confidence     *int     `json:"confidence,omitempty"`
	Labels         []string `json:"labels,omitempty"`
	Markings       []string `json:"object_marking_refs,omitempty"`
	IsFamily       *bool    `json:"is_family,omitempty"`
	MalwareTypes   []string `json:"malware_types,omitempty"`
	RelType        string   `json:"relationship_type,omitempty"`
	SourceRef      string   `json:"source_ref,omitempty"`
	TargetRef      string   `json:"target_ref,omitempty"`
	XThreatType    string   `json:"x_vigil_threat_type,omitempty"`
	XLastSeen      string   `json:"x_vigil_last_seen,omitempty"`

	Extensions map[string]any `json:"extensions,omitempty"`
}

func stixTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Export writes inds as one bundle: the TLP 2.0 marking definitions used,
// a malware object for each threat name with an "indicates" relationship,
// and an indicator a value. Threat type and last seen, which STIX has no
// property for, travel as x_vigil_threat_type and x_vigil_last_seen.
func (e Exporter) Export(w io.Writer, inds []intel.Indicator) error {
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	created := now.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	var markings, malware, indicators, rels []sdo
	usedTLP := map[string]bool{}
	malwareID := map[string]string{}
	seen := map[string]bool{}
	var idsForBundle strings.Builder
	for i := range inds {
		ind := &inds[i]
		pattern, err := PatternOf(ind)
		if err != nil {
			return fmt.Errorf("stix: export indicator %d: %w", i, err)
		}
		id := IndicatorID(ind)
		if seen[id] {
			return fmt.Errorf("stix: export indicator %d: id %s twice (same feed, kind and value)", i, id)
		}
		seen[id] = true
		idsForBundle.WriteString(id)
		conf := ind.Confidence
		o := sdo{
			Type: "indicator", SpecVersion: "2.1", ID: id, Created: created, Modified: created,
			Description:    ind.Description,
			IndicatorTypes: exportIndicatorTypes(ind.ThreatType),
			Pattern:        pattern, PatternType: "stix", PatternVersion: "2.1",
			ValidFrom: created, Revoked: ind.Revoked, Confidence: &conf,
			Labels: ind.Tags, XThreatType: ind.ThreatType,
		}
		if !ind.FirstSeen.IsZero() {
			o.ValidFrom = stixTime(ind.FirstSeen)
		}
		if !ind.ValidUntil.IsZero() {
			o.ValidUntil = stixTime(ind.ValidUntil)
		}
		if !ind.LastSeen.IsZero() {
			o.XLastSeen = stixTime(ind.LastSeen)
		}
		if ind.TLP != "" {
			mid, ok := tlp2ID[ind.TLP]
			if !ok {
				return fmt.Errorf("stix: export indicator %d: unknown TLP %q", i, ind.TLP)
			}
			o.Markings = []string{mid}
			usedTLP[ind.TLP] = true
		}
		indicators = append(indicators, o)
		if ind.Threat != "" {
			mid, ok := malwareID[ind.Threat]
			if !ok {
				mid = "malware--" + uuid5("malware|"+ind.Threat)
				malwareID[ind.Threat] = mid
				family := true
				malware = append(malware, sdo{
					Type: "malware", SpecVersion: "2.1", ID: mid, Created: created, Modified: created,
					Name: ind.Threat, IsFamily: &family, MalwareTypes: exportMalwareTypes(ind.ThreatType),
				})
			}
			rels = append(rels, sdo{
				Type: "relationship", SpecVersion: "2.1", ID: "relationship--" + uuid5("indicates|"+id+"|"+mid),
				Created: created, Modified: created, RelType: "indicates", SourceRef: id, TargetRef: mid,
			})
		}
	}
	for _, level := range []string{"clear", "green", "amber", "amber+strict", "red"} {
		if usedTLP[level] {
			markings = append(markings, tlp2Definition(level))
		}
	}
	objects := make([]sdo, 0, len(markings)+len(malware)+len(indicators)+len(rels))
	objects = append(append(append(append(objects, markings...), malware...), indicators...), rels...)
	bundle := struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Objects []sdo  `json:"objects"`
	}{"bundle", "bundle--" + uuid5("bundle|"+idsForBundle.String()), objects}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(bundle); err != nil {
		return fmt.Errorf("stix: write bundle: %w", err)
	}
	return nil
}

// tlp2Definition is the TLP 2.0 marking definition of a level, as the
// extension publishes it.
func tlp2Definition(level string) sdo {
	return sdo{
		Type: "marking-definition", SpecVersion: "2.1", ID: tlp2ID[level],
		Created: "2022-10-01T00:00:00.000Z", Name: "TLP:" + strings.ToUpper(level),
		Extensions: map[string]any{tlp2Extension: map[string]string{
			"extension_type": "property-extension", "tlp_2_0": level,
		}},
	}
}

func exportIndicatorTypes(threatType string) []string {
	switch threatType {
	case intel.ThreatAnonymizer, intel.ThreatTorExit:
		return []string{"anonymization"}
	case intel.ThreatUnknown, "":
		return []string{"unknown"}
	case "compromised":
		return []string{"compromised"}
	}
	return []string{"malicious-activity"}
}

func exportMalwareTypes(threatType string) []string {
	switch threatType {
	case intel.ThreatBotnet:
		return []string{"bot"}
	case intel.ThreatC2:
		return []string{"remote-access-trojan"}
	case intel.ThreatExploit:
		return []string{"exploit-kit"}
	}
	return nil
}
