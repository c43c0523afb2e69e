package analysis

import (
	"net/netip"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// locator places every public address in Germany.
type locator struct{ calls int }

func (l *locator) Fields() []string                    { return []string{"source.geo.country_iso_code"} }
func (l *locator) Enrich(*event.Event, *enrich.Result) {}
func (l *locator) Geo(a netip.Addr) enrich.Geo {
	l.calls++
	g := enrich.Geo{IP: a, Scope: enrich.Scope(a)}
	if g.Scope == enrich.ScopePublic {
		g.Country, g.CountryName = "DE", "Germany"
	}
	return g
}

func TestCorrelationOrigin(t *testing.T) {
	l := &locator{}
	chain := enrich.NewChain(l)
	ents := []alert.Entity{{Type: alert.EntityAccount, Value: "root"}, {Type: alert.EntityIP, Value: "88.198.23.77"}}
	o := CorrelationOrigin(chain, ents)
	if o == nil || o.IP != "88.198.23.77" || o.Scope != enrich.ScopePublic || o.Country != "DE" {
		t.Fatalf("origin = %+v, want the grouped-by address placed in DE", o)
	}
	// Without a locator the address and its scope still say where.
	o = CorrelationOrigin(nil, []alert.Entity{{Type: alert.EntityIP, Value: "10.1.2.3"}})
	if o == nil || o.IP != "10.1.2.3" || o.Scope != enrich.ScopePrivate || o.Country != "" {
		t.Errorf("origin without GeoIP = %+v", o)
	}
	if o := CorrelationOrigin(chain, []alert.Entity{{Type: alert.EntityHost, Value: "dc1"}, {Type: alert.EntityIP, Value: "not an address"}}); o != nil {
		t.Errorf("origin of a correlation without an address = %+v, want nil", o)
	}
}
