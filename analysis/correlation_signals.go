package analysis

import (
	"net/netip"
	"strings"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
)

// CorrelationSignals turns correlation hits into signals: one a
// contributing event (the evidence, capped), all with the correlation's
// dedup key, so that the store or `vigil scan` gather them into one alert
// of type "correlation" whose evidence lists those events.
func (rs *Rules) CorrelationSignals(hits []detect.CorrelationHit, dst []alert.Signal) []alert.Signal {
	if rs.corr == nil {
		return dst
	}
	for _, h := range hits {
		m := rs.corr.metas[h.Correlation]
		if m == nil {
			continue
		}
		ents := make([]alert.Entity, 0, len(h.Group))
		for _, g := range h.Group {
			ents = append(ents, alert.Entity{Type: entityType(g.Field), Value: g.Value})
		}
		s := alert.Signal{
			Workspace: h.Workspace, Type: "correlation", Rule: m.ref, Severity: m.severity,
			Tactics: m.tactics, Techniques: m.techniques, Entities: ents,
			DedupKey: alert.DedupKey(h.Workspace, m.ref.ID, ents),
		}
		if len(h.Evidence) == 0 {
			s.Evidence = alert.Evidence{Time: h.Last}
			dst = append(dst, s)
			continue
		}
		for _, e := range h.Evidence {
			s.Evidence = alert.Evidence{EventID: e.EventID, File: e.File, Line: e.Line, Time: e.Time}
			dst = append(dst, s)
		}
	}
	return dst
}

// CorrelationOrigin is the origin of a correlation's signals: its first
// address entity, placed by the workspace's chain (GeoIP) — a correlation
// has no single event to take it from, but the address it is grouped by
// is where its activity comes from. nil when it groups by no address.
func CorrelationOrigin(chain *enrich.Chain, ents []alert.Entity) *alert.Origin {
	for _, e := range ents {
		if e.Type != alert.EntityIP {
			continue
		}
		a, err := netip.ParseAddr(e.Value)
		if err != nil {
			continue
		}
		g := chain.Locate(a)
		return &alert.Origin{IP: g.IP.String(), Scope: g.Scope, Country: g.Country, CountryName: g.CountryName,
			City: g.City, Lat: g.Lat, Lon: g.Lon, ASN: g.ASN, ASOrg: g.ASOrg}
	}
	return nil
}

// entityType guesses what a group-by field holds from its name; a field it
// cannot place keeps its own name as the type.
func entityType(field string) string {
	f := strings.ToLower(field)
	switch {
	case strings.Contains(f, "user") || strings.Contains(f, "account") || f == "subjectusername":
		return alert.EntityAccount
	case strings.HasSuffix(f, "ip") || strings.HasSuffix(f, ".ip") || strings.Contains(f, "ipaddress") || strings.Contains(f, "address"):
		return alert.EntityIP
	case strings.Contains(f, "host") || strings.Contains(f, "computer") || strings.Contains(f, "workstation"):
		return alert.EntityHost
	case strings.Contains(f, "image") || strings.Contains(f, "process"):
		return alert.EntityProcess
	case strings.Contains(f, "url") || strings.Contains(f, "uri"):
		return alert.EntityURL
	case strings.Contains(f, "file") || strings.Contains(f, "path"):
		return alert.EntityFile
	}
	return field
}
