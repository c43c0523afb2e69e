// Package baseline is the behavioural-baselines enricher: per-entity
// models of the values seen — the principals, client addresses,
// countries, networks and applications of each database server, the
// countries and user agents of each account, the processes of each host —
// that flag a value never seen for its entity (first_seen) or seen rarely
// (rare), once the model has learnt for its learning period. Models are
// declared (Model), not coded: a new model is one more entry in a table.
// Their state is bounded in memory and kept in the store, so that a
// restart resumes where it stopped.
package baseline

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// Model declares one baseline: for each entity, the first of the Entity
// fields the event has, the values of the first of the Value fields it
// has, on the events of Logsources that meet Where.
type Model struct {
	// Name names the model in the event fields rules read
	// (baseline.first_seen: sql.principal) and in alerts' anomalies.
	Name string
	// Logsources are the events the model learns from: the event's
	// logsource must match one of them, a part left empty matching any.
	Logsources []event.Logsource
	// Where are further conditions on the event, all of which must hold.
	Where []Cond
	// Entity lists the fields naming what the model is kept for (a
	// server, an account, a host): the first the event has is taken.
	// SourceName ("@source") is the vigil source the event came in by;
	// "a+b" joins fields a and b ("host.name+user.name": a principal on
	// a server), present only when both are.
	Entity []string
	// Value lists the fields of the value learnt, the first present taken.
	Value []string
	// Part takes a part of the value: "" the whole value; PartDomain the
	// domain of an account name (CORP\alice, alice@corp.example); a value
	// without one is not learnt.
	Part string
	// Fold compares values case-insensitively (they are kept lowercased).
	Fold bool
	// Rare flags a value seen before, but fewer than Rare times, on an
	// entity seen at least RareMinTotal times; 0: first_seen only.
	Rare int
	// Volume makes the model one of amounts: Value is a number (rows
	// read), and the model keeps each entity's largest, flagging
	// (KindVolume) an amount of at least VolumeMin that is more than
	// VolumeFactor times the largest the entity had before.
	Volume bool
	// VolumeMin overrides the package's VolumeMin for this model: the
	// smallest amount worth flagging depends on the unit (rows, bytes).
	VolumeMin int64
}

// Anomaly kinds.
const (
	KindFirstSeen = "first_seen"
	KindRare      = "rare"
	KindVolume    = "volume" // an amount far above the entity's largest
)

// Bounds of a volume model's flags.
const (
	VolumeFactor = 10
	VolumeMin    = 1000
)

// Cond is a condition on an event field: its value is one of Values
// (case-insensitively), or with Not, none of them. A missing field has
// the value "". With Scopes, the field is an IP address instead whose
// scope (enrich.Scope: public, private, cgnat…) is one of Scopes, or
// with Not, none of them; a value that is no address fails either way.
type Cond struct {
	Field  string
	Values []string
	Scopes []string
	Not    bool
}

// SourceName, as an Entity or Value field, is the name of the vigil
// source the event came in by: the server whose log it is when the
// records themselves do not name it.
const SourceName = "@source"

// PartDomain is Model.Part for the domain of an account name.
const PartDomain = "domain"

// RareMinTotal is the number of observations an entity needs before any
// of its values can be rare: on a thinly seen entity every value is.
const RareMinTotal = 20

// Fields rules read. Each holds the names of the models that flagged the
// event (several values: a selection "baseline.first_seen: sql.principal"
// matches when that model is among them).
const (
	FieldFirstSeen = "baseline.first_seen"
	FieldRare      = "baseline.rare"
	FieldVolume    = "baseline.volume"
	FieldLearning  = "baseline.learning" // models that learnt from the event while still learning
)

// Logsources of the default models.
var (
	sqlServers = []event.Logsource{{Category: "database"}}
	signIns    = []event.Logsource{{Product: "azure", Service: "signinlogs"}, {Product: "aws", Service: "cloudtrail"}}
	processes  = []event.Logsource{{Category: "process_creation"}}
	flows      = []event.Logsource{{Product: "aws", Service: "vpcflowlogs"}, {Product: "azure", Service: "nsgflowlogs"}, {Product: "azure", Service: "vnetflowlogs"}}

	notFailed = []Cond{{Field: "event.outcome", Values: []string{"failure"}, Not: true}}
	succeeded = []Cond{{Field: "event.outcome", Values: []string{"success"}}}
	server    = []string{"host.name", SourceName}
	principal = []string{"host.name+user.name", SourceName + "+user.name"}
	// egress is a flow from an internal address (the private ranges and
	// the shared CGNAT range, which cloud networks use inside) to a
	// public one: the bytes of such a record (VPC) or tuple (NSG, VNet)
	// are what the internal host sent out.
	egress = []Cond{
		{Field: "source.ip", Scopes: []string{enrich.ScopePrivate, enrich.ScopeCGNAT}},
		{Field: "destination.ip", Scopes: []string{enrich.ScopePublic}},
	}
)

// Defaults are vigil's models. SQL models learn from the database audit
// sources' logins and statements that did not fail (a failed login's user
// name is the attacker's guess, not a principal of the server).
var Defaults = []Model{
	{Name: "sql.principal", Logsources: sqlServers, Where: notFailed, Entity: server, Value: []string{"user.name", "db.user"}, Fold: true},
	{Name: "sql.client_ip", Logsources: sqlServers, Where: notFailed, Entity: server, Value: []string{"source.ip"}, Rare: 3},
	{Name: "sql.country", Logsources: sqlServers, Where: notFailed, Entity: server, Value: []string{"source.geo.country_iso_code"}, Rare: 3},
	{Name: "sql.network", Logsources: sqlServers, Where: notFailed, Entity: server, Value: []string{"source.as.number"}, Rare: 3},
	{Name: "sql.application", Logsources: sqlServers, Where: notFailed, Entity: server, Value: []string{"application_name"}, Rare: 3},
	{Name: "sql.domain", Logsources: sqlServers, Where: notFailed, Entity: server, Value: []string{"user.name"}, Part: PartDomain, Fold: true},
	{Name: "sql.rows_read", Logsources: sqlServers, Where: notFailed, Entity: principal, Value: []string{"response_rows"}, Volume: true},
	{Name: "account.country", Logsources: signIns, Where: succeeded, Entity: []string{"user.name"}, Value: []string{"source.geo.country_iso_code"}, Fold: true, Rare: 3},
	{Name: "account.user_agent", Logsources: signIns, Where: succeeded, Entity: []string{"user.name"}, Value: []string{"user_agent.original"}, Rare: 3},
	{Name: "host.process", Logsources: processes, Entity: []string{"host.name"}, Value: []string{"process.executable", "process.name"}, Fold: true},
	// A flow record's bytes, not a sum: records cover one capture window
	// (1 to 10 minutes for VPC, one tuple interval for NSG), so a host
	// that sends ten times its largest window to one address is flagged
	// even below the fixed hourly threshold of network_egress_volume.
	{Name: "host.egress_bytes", Logsources: flows, Where: egress, Entity: []string{"source.ip"}, Value: []string{"bytes", "bytesSrcToDst"}, Volume: true, VolumeMin: 100 << 20},
}

// SourceFields lists the fields models read that are a source's own (not
// common fields): decoders keep only the fields someone asks for, so the
// rule set must be compiled with them (detect.Options.ExtraFields).
func SourceFields(models []Model) []string {
	var out []string
	add := func(f string) {
		if _, common := event.CommonID(f); common || f == SourceName {
			return
		}
		for _, x := range out {
			if x == f {
				return
			}
		}
		out = append(out, f)
	}
	for _, m := range models {
		for _, f := range m.Entity {
			for _, part := range strings.Split(f, "+") {
				add(part)
			}
		}
		for _, f := range m.Value {
			add(f)
		}
		for _, c := range m.Where {
			add(c.Field)
		}
	}
	return out
}

// getter reads one field of an event.
type getter struct {
	name   string
	common int // common field id, or -1
	source bool
}

func newGetter(name string) getter {
	g := getter{name: name, common: -1, source: name == SourceName}
	if id, ok := event.CommonID(name); ok {
		g.common = id
	}
	return g
}

func (g getter) get(ev *event.Event) string {
	if g.source {
		return ev.Source
	}
	if g.common >= 0 {
		if v := ev.Common[g.common]; v != "" {
			return v
		}
		if ev.Fields.Dict() == nil {
			return ""
		}
	}
	v, _ := ev.Get(g.name)
	return v
}

func first(gs []getter, ev *event.Event) string {
	for _, g := range gs {
		if v := g.get(ev); v != "" {
			return v
		}
	}
	return ""
}

type cond struct {
	g      getter
	values []string
	scopes []string
	not    bool
}

func (c cond) holds(ev *event.Event) bool {
	v := c.g.get(ev)
	if c.scopes != nil {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		return slices.Contains(c.scopes, enrich.Scope(a)) != c.not
	}
	in := false
	for _, x := range c.values {
		if strings.EqualFold(v, x) {
			in = true
			break
		}
	}
	return in != c.not
}

// joined is an Entity spec: one field, or several joined ("a+b").
type joined []getter

func (j joined) get(ev *event.Event) string {
	if len(j) == 1 {
		return j[0].get(ev)
	}
	var b strings.Builder
	for i, g := range j {
		v := g.get(ev)
		if v == "" {
			return ""
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(v)
	}
	return b.String()
}

// compiled is a Model with its fields resolved.
type compiled struct {
	Model
	entity []joined
	value  []getter
	where  []cond
}

func compile(m Model) (*compiled, error) {
	if m.Name == "" {
		return nil, fmt.Errorf("baseline model without a name")
	}
	if len(m.Entity) == 0 || len(m.Value) == 0 {
		return nil, fmt.Errorf("baseline model %s: no entity or value field", m.Name)
	}
	if m.Part != "" && m.Part != PartDomain {
		return nil, fmt.Errorf("baseline model %s: unknown part %q (known: %s)", m.Name, m.Part, PartDomain)
	}
	if m.VolumeMin < 0 || (m.VolumeMin > 0 && !m.Volume) {
		return nil, fmt.Errorf("baseline model %s: volume minimum %d without a volume model or negative", m.Name, m.VolumeMin)
	}
	if m.Rare < 0 {
		return nil, fmt.Errorf("baseline model %s: rare %d is negative", m.Name, m.Rare)
	}
	c := &compiled{Model: m}
	for _, f := range m.Entity {
		var j joined
		for _, part := range strings.Split(f, "+") {
			j = append(j, newGetter(part))
		}
		c.entity = append(c.entity, j)
	}
	for _, f := range m.Value {
		c.value = append(c.value, newGetter(f))
	}
	for _, w := range m.Where {
		c.where = append(c.where, cond{g: newGetter(w.Field), values: w.Values, scopes: w.Scopes, not: w.Not})
	}
	return c, nil
}

// wants reports whether the model learns from ev's logsource.
func (c *compiled) wants(ls event.Logsource) bool {
	return matchLogsource(c.Logsources, ls)
}

// matchLogsource reports whether ls matches one of list, a part left
// empty matching any.
func matchLogsource(list []event.Logsource, ls event.Logsource) bool {
	for _, l := range list {
		if (l.Product == "" || l.Product == ls.Product) && (l.Category == "" || l.Category == ls.Category) &&
			(l.Service == "" || l.Service == ls.Service) {
			return true
		}
	}
	return false
}

// observation is the entity and value ev gives the model, "" when it
// gives none (a condition fails, a field is missing).
func (c *compiled) observation(ev *event.Event) (entity, value string) {
	for _, w := range c.where {
		if !w.holds(ev) {
			return "", ""
		}
	}
	value = first(c.value, ev)
	if c.Part == PartDomain {
		value = domainOf(value)
	}
	if value == "" {
		return "", "" // before the entity, which may cost a join
	}
	for _, j := range c.entity {
		if entity = j.get(ev); entity != "" {
			break
		}
	}
	return entity, value
}

// domainOf is the domain of an account name: CORP in CORP\alice,
// corp.example in alice@corp.example; "" for a name without one.
func domainOf(name string) string {
	if i := strings.IndexByte(name, '\\'); i > 0 {
		return name[:i]
	}
	if i := strings.LastIndexByte(name, '@'); i >= 0 && i < len(name)-1 {
		return name[i+1:]
	}
	return ""
}
