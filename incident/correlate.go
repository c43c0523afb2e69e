package incident

import (
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// CorrelationActor is the actor of what correlation writes to a timeline
// and to the incident stream.
const CorrelationActor = "vigil:correlation"

// Correlation defaults and bounds.
const (
	DefaultWindow       = 24 * time.Hour
	DefaultReopenWindow = 72 * time.Hour
	// MaxEntities bounds the entities an incident lists (and the
	// correlator indexes); later ones are left out.
	MaxEntities = 200
	// maxCompromised bounds the compromised entities counted for priority.
	maxCompromised = 16
	// expireEvery is how many Adds pass between two sweeps of expired
	// incidents: a sweep visits every incident held.
	expireEvery = 1024
)

// DefaultCommonAccounts are the accounts many people, services or attacks
// share: weak identifiers unless CorrelationConfig.CommonAccounts says
// otherwise.
var DefaultCommonAccounts = []string{
	"root", "admin", "administrator", "guest", "sa", "system", `nt authority\system`,
	`nt authority\local service`, `nt authority\network service`, "local service", "network service",
	"anonymous", "anonymous logon", "test", "user", "nobody", "www-data", "daemon", "ubuntu",
	"ec2-user", "centos", "pi", "oracle", "postgres", "mysql", "ftp", "support", "operator", "-",
}

// CorrelationConfig sets how alerts group into incidents.
type CorrelationConfig struct {
	// Window: an alert joins an open incident whose activity (FirstSeen
	// to LastSeen, event time) is within Window of the alert's (default
	// DefaultWindow).
	Window time.Duration
	// ReopenWindow: a matching alert reopens a closed incident closed at
	// most this long before (wall time; default DefaultReopenWindow).
	ReopenWindow time.Duration
	// SharedAddresses are NAT addresses, proxies and gateways: weak
	// identifiers, like private and reserved addresses.
	SharedAddresses []netip.Prefix
	// CommonAccounts are accounts many people or attacks share: weak
	// identifiers. Nil means DefaultCommonAccounts; a list replaces them.
	CommonAccounts []string
}

// Update is what one Add changed: the incident's new state, whether it
// was created or reopened, the alert that joined it ("" when the alert was
// in it already and only its aggregates moved) and the timeline entries to
// append. A zero Update (Incident.ID "") changed nothing: a health alert,
// or an update of an alert whose incident the correlator no longer holds.
// Incident.Entities, RuleIDs and Techniques are shared with the
// correlator: read them, append to them, but do not change their elements.
type Update struct {
	Incident Incident
	New      bool
	Reopened bool
	AlertID  string
	Timeline []TimelineEntry
}

// Correlator groups alerts into incidents by the entities they share
// (correlation), in memory and deterministically: the same alerts in the
// same order with the same ids give the same incidents. It is not safe for
// concurrent use. Its memory is bounded by the incidents that can still
// be joined: open ones active within Window of the latest alert, closed
// ones closed within ReopenWindow.
//
// An alert's entities are strong or weak identifiers. Strong: host,
// database, cloud resource, hash, file, URL, a public address not in
// SharedAddresses, an account not in CommonAccounts. Weak: private,
// reserved and shared addresses, common accounts, processes, applications.
// An alert joins an incident when they share a strong identifier or two
// weak ones; of several, the one sharing the most strong ones, then the
// most weak ones, an open one before a closed one, then the most recent.
type Correlator struct {
	cfg    CorrelationConfig
	newID  func() string
	common map[string]bool

	incs   map[key]*tracked
	index  map[ident][]*tracked
	alerts map[key]*tracked // (workspace, alert id) → its incident

	watermark time.Time // the latest alert activity seen (event time)
	adds      int
	scratch   map[*tracked]int // match's counts, kept to spare an allocation an Add
}

// key names an incident or an alert within a workspace.
type key struct{ ws, id string }

// ident is one identifier of a workspace: an entity type and its
// normalized value.
type ident struct{ ws, typ, value string }

// tracked is an incident the correlator holds, with what it needs to keep
// the aggregates that the stored incident does not carry.
type tracked struct {
	inc Incident
	ids map[ident]bool // its identifiers, strong or not

	worst       alert.Severity // the worst alert severity, before the chain's raise
	basePrio    int            // the highest alert priority
	assetPts    int
	compromised map[string]bool
	rules       map[string]bool // RuleIDs as a set
	leadTitle   string
	leadSev     alert.Severity
	leadPrio    int
	main        string // the main entity's value, for the title
	alertIDs    []string
}

// NewCorrelator returns a correlator that names new incidents with newID.
func NewCorrelator(cfg CorrelationConfig, newID func() string) *Correlator {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.ReopenWindow <= 0 {
		cfg.ReopenWindow = DefaultReopenWindow
	}
	common := cfg.CommonAccounts
	if common == nil {
		common = DefaultCommonAccounts
	}
	c := &Correlator{
		cfg:     cfg,
		newID:   newID,
		common:  make(map[string]bool, len(common)),
		incs:    make(map[key]*tracked),
		index:   make(map[ident][]*tracked),
		alerts:  make(map[key]*tracked),
		scratch: make(map[*tracked]int),
	}
	for _, a := range common {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			c.common[a] = true
		}
	}
	return c
}

// Load gives the correlator incidents it did not make (the warm-up after a
// restart, or an incident a responder changed): each replaces the one held
// under its id, keeping the alerts bound to it. A merged incident is
// dropped; one that can no longer be joined goes at the next Expire.
func (c *Correlator) Load(incs []Incident) {
	for i := range incs {
		inc := incs[i]
		k := key{inc.Workspace, inc.ID}
		old := c.incs[k]
		if inc.MergedInto != "" {
			if old != nil {
				c.drop(old)
			}
			continue
		}
		t := old
		if t != nil {
			c.unindex(t)
		} else {
			t = &tracked{}
			t.worst = inc.Severity
			if chain(inc.Tactics) && inc.Severity > alert.Informational && inc.Severity < alert.Critical {
				t.worst = inc.Severity - 1
			}
			t.basePrio = max(0, inc.Priority-chainPoints(inc.Tactics))
			t.leadSev, t.leadPrio = t.worst, t.basePrio
			t.leadTitle, t.main = parseTitle(inc.Title, inc.AlertCount, inc.Entities)
			t.compromised = map[string]bool{}
		}
		t.rules = make(map[string]bool, len(inc.RuleIDs))
		for _, id := range inc.RuleIDs {
			t.rules[id] = true
		}
		t.inc = cloneIncident(inc)
		c.incs[k] = t
		c.indexEntities(t)
		if inc.LastSeen.After(c.watermark) {
			c.watermark = inc.LastSeen
		}
	}
}

// Bind tells the correlator that an alert belongs to an incident (as the
// store knows it), so that an update of the alert refreshes that incident
// rather than being placed again.
func (c *Correlator) Bind(workspace, alertID, incidentID string) {
	t := c.incs[key{workspace, incidentID}]
	if t == nil {
		return
	}
	ak := key{workspace, alertID}
	if c.alerts[ak] == t {
		return
	}
	c.alerts[ak] = t
	t.alertIDs = append(t.alertIDs, alertID)
}

// Holds reports whether the correlator holds the incident.
func (c *Correlator) Holds(workspace, incidentID string) bool {
	return c.incs[key{workspace, incidentID}] != nil
}

// Forget drops an incident (merged away, deleted).
func (c *Correlator) Forget(workspace, incidentID string) {
	if t := c.incs[key{workspace, incidentID}]; t != nil {
		c.drop(t)
	}
}

// Len is how many incidents the correlator holds.
func (c *Correlator) Len() int { return len(c.incs) }

// Incidents returns copies of the incidents held, oldest first (FirstSeen,
// then id). Offline, where nothing expires before the end, that is every
// incident made; a server keeps the Updates instead.
func (c *Correlator) Incidents() []Incident {
	out := make([]Incident, 0, len(c.incs))
	for _, t := range c.incs {
		out = append(out, cloneIncident(t.inc))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FirstSeen.Equal(out[j].FirstSeen) {
			return out[i].FirstSeen.Before(out[j].FirstSeen)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Add places an alert (new or updated) at wall time now and returns what
// changed.
func (c *Correlator) Add(a *alert.Alert, now time.Time) Update {
	if a == nil || a.Type == "health" {
		return Update{}
	}
	c.adds++
	// An event time far ahead of the clock (a source's wrong clock) would
	// expire every incident: the watermark goes no further than an hour
	// past now.
	if seen := minTime(a.LastSeen, now.Add(time.Hour)); seen.After(c.watermark) {
		c.watermark = seen
	}
	if c.adds%expireEvery == 0 {
		c.Expire(now)
	}
	ids := c.identify(a)
	if t := c.alerts[key{a.Workspace, a.ID}]; t != nil {
		return c.join(t, a, ids, now, false)
	}
	if t := c.match(a, ids, now); t != nil {
		return c.join(t, a, ids, now, true)
	}
	t := &tracked{
		inc: Incident{
			ID: c.newID(), Workspace: a.Workspace, Stage: StageDetect, Status: StatusNew,
			Tags: []string{}, Tactics: []string{}, Techniques: []string{}, Entities: []alert.Entity{},
			RuleIDs: []string{}, Tasks: []Task{}, Created: now,
		},
		ids:         map[ident]bool{},
		rules:       map[string]bool{},
		compromised: map[string]bool{},
		leadSev:     -1,
		leadPrio:    -1,
	}
	c.incs[key{a.Workspace, t.inc.ID}] = t
	u := c.join(t, a, ids, now, true)
	u.New = true
	u.Timeline = append([]TimelineEntry{{
		IncidentID: t.inc.ID, Time: now, Kind: TimelineCreated, Actor: CorrelationActor,
		Summary: "created by correlation from alert " + ruleTitle(a), AlertID: a.ID, Stage: StageDetect,
	}}, u.Timeline...)
	return u
}

// Expire drops the incidents that can no longer be joined: open ones
// whose activity ended more than Window before the latest alert's, closed
// ones closed more than ReopenWindow before now.
func (c *Correlator) Expire(now time.Time) {
	horizon := c.watermark.Add(-c.cfg.Window)
	for _, t := range c.incs {
		switch {
		case t.inc.Stage == StageClose:
			if t.inc.Closed == nil || now.Sub(*t.inc.Closed) > c.cfg.ReopenWindow {
				c.drop(t)
			}
		case t.inc.LastSeen.Before(horizon):
			c.drop(t)
		}
	}
}

// match finds the incident a new alert joins, nil for none. Strong
// identifiers are looked at first: an incident sharing one always beats
// any sharing only weak ones, so the weak ones are counted only when no
// strong match can be joined.
func (c *Correlator) match(a *alert.Alert, ids []identity, now time.Time) *tracked {
	if t := c.best(a, ids, now, true); t != nil {
		return t
	}
	return c.best(a, ids, now, false)
}

// best returns the best joinable incident sharing a strong identifier
// (strong) or, else, at least two weak ones.
func (c *Correlator) best(a *alert.Alert, ids []identity, now time.Time, strong bool) *tracked {
	counts := c.scratch
	defer clear(counts)
	for _, id := range ids {
		if id.strong != strong {
			continue
		}
		for _, t := range c.index[id.ident] {
			counts[t]++
		}
	}
	var best *tracked
	var bs share
	for t, n := range counts {
		s := share{weak: n}
		if strong {
			if s = (share{strong: n}); !c.joinable(t, a, now) {
				continue
			}
			for _, id := range ids {
				if !id.strong && t.ids[id.ident] {
					s.weak++
				}
			}
		} else if n < 2 || !c.joinable(t, a, now) {
			continue
		}
		if best == nil || better(t, s, best, bs) {
			best, bs = t, s
		}
	}
	return best
}

// share is how many strong and weak identifiers an alert shares with an
// incident.
type share struct{ strong, weak int }

// better orders candidates: most strong identifiers shared, most weak
// ones, open before closed, most recent activity, then the smaller id.
func better(t *tracked, s share, u *tracked, us share) bool {
	if s.strong != us.strong {
		return s.strong > us.strong
	}
	if s.weak != us.weak {
		return s.weak > us.weak
	}
	if to, uo := t.inc.Stage != StageClose, u.inc.Stage != StageClose; to != uo {
		return to
	}
	if !t.inc.LastSeen.Equal(u.inc.LastSeen) {
		return t.inc.LastSeen.After(u.inc.LastSeen)
	}
	return t.inc.ID < u.inc.ID
}

// joinable reports whether alert a may join t in time: an open incident
// whose activity is within Window of the alert's, or one closed within
// ReopenWindow of now.
func (c *Correlator) joinable(t *tracked, a *alert.Alert, now time.Time) bool {
	if t.inc.MergedInto != "" {
		return false
	}
	if t.inc.Stage == StageClose {
		return t.inc.Closed != nil && now.Sub(*t.inc.Closed) <= c.cfg.ReopenWindow
	}
	w := c.cfg.Window
	return !a.FirstSeen.After(t.inc.LastSeen.Add(w)) && !a.LastSeen.Before(t.inc.FirstSeen.Add(-w))
}

// join folds alert a into t (joined: a is new to it) and returns the
// update, reopening t when it was closed.
func (c *Correlator) join(t *tracked, a *alert.Alert, ids []identity, now time.Time, joined bool) Update {
	u := Update{}
	inc := &t.inc
	if inc.Stage == StageClose {
		if inc.Closed == nil || now.Sub(*inc.Closed) > c.cfg.ReopenWindow {
			return Update{} // an update of an alert in an incident closed for good
		}
		inc.Stage, inc.Status, inc.Closed = StageAssess, StatusActive, nil
		inc.Reopened++
		u.Reopened = true
		u.Timeline = append(u.Timeline, TimelineEntry{
			IncidentID: inc.ID, Time: now, Kind: TimelineReopened, Actor: CorrelationActor,
			Summary: "reopened by alert " + ruleTitle(a), AlertID: a.ID, Stage: StageAssess,
		})
	}
	if joined {
		inc.AlertCount++
		ak := key{a.Workspace, a.ID}
		c.alerts[ak] = t
		t.alertIDs = append(t.alertIDs, a.ID)
		if id := a.Rule.ID; id != "" && !t.rules[id] {
			t.rules[id] = true
			inc.RuleIDs = append(inc.RuleIDs, id)
		}
		u.AlertID = a.ID
		u.Timeline = append(u.Timeline, TimelineEntry{
			IncidentID: inc.ID, Time: a.FirstSeen, Kind: TimelineAlert, Actor: CorrelationActor,
			Summary: ruleTitle(a), AlertID: a.ID,
		})
	}
	c.fold(t, a, ids)
	inc.Updated = now
	u.Incident = *inc
	// The entities and rule ids, often hundreds, are shared rather than
	// copied: the correlator only appends to them, beyond the length
	// handed out.
	u.Incident.Entities = inc.Entities[:len(inc.Entities):len(inc.Entities)]
	u.Incident.Tactics = append([]string{}, inc.Tactics...)
	u.Incident.Techniques = inc.Techniques[:len(inc.Techniques):len(inc.Techniques)]
	u.Incident.RuleIDs = inc.RuleIDs[:len(inc.RuleIDs):len(inc.RuleIDs)]
	u.Incident.Tags = append([]string{}, inc.Tags...)
	u.Incident.Tasks = append([]Task{}, inc.Tasks...)
	return u
}

// fold adds alert a's aggregates to t and works out t's title, severity
// and priority again.
func (c *Correlator) fold(t *tracked, a *alert.Alert, ids []identity) {
	inc := &t.inc
	if inc.FirstSeen.IsZero() || a.FirstSeen.Before(inc.FirstSeen) {
		inc.FirstSeen = a.FirstSeen
	}
	if a.LastSeen.After(inc.LastSeen) {
		inc.LastSeen = a.LastSeen
	}
	for _, x := range a.Tactics {
		if !slices.Contains(inc.Tactics, x) && x != "" {
			// A new slice: the one handed out in an Update stays as it was.
			inc.Tactics = append(slices.Clip(inc.Tactics), x)
			SortTactics(inc.Tactics)
		}
	}
	for _, x := range a.Techniques {
		inc.Techniques = appendNew(inc.Techniques, x)
	}
	for _, id := range ids {
		if t.ids[id.ident] || len(inc.Entities) >= MaxEntities {
			continue
		}
		t.ids[id.ident] = true
		inc.Entities = append(inc.Entities, id.entity)
		c.indexOne(t, id.ident)
	}
	t.worst = max(t.worst, a.Severity)
	t.basePrio = max(t.basePrio, a.Priority)
	if a.Compromised != nil && len(t.compromised) < maxCompromised {
		t.compromised[a.Compromised.Type+"\x00"+strings.ToLower(a.Compromised.Value)] = true
	}
	for _, x := range a.Assets {
		t.assetPts = max(t.assetPts, assetPoints[strings.ToLower(x.Criticality)])
	}
	if a.Severity > t.leadSev || a.Severity == t.leadSev && a.Priority > t.leadPrio || t.leadTitle == "" {
		t.leadSev, t.leadPrio, t.leadTitle, t.main = a.Severity, a.Priority, ruleTitle(a), mainEntity(a)
	}

	inc.Severity = t.worst
	if chain(inc.Tactics) && inc.Severity < alert.Critical {
		inc.Severity++
	}
	inc.Priority = min(alert.MaxPriority, t.basePrio+chainPoints(inc.Tactics)+
		min(maxCompromisedPoints, compromisedPoints*len(t.compromised))+t.assetPts)
	inc.Title = title(t.leadTitle, inc.AlertCount, t.main)
}

// Priority points an incident adds to its highest alert priority (see
// docs/incidents.md).
const (
	chainTacticPoints    = 5  // each distinct tactic after the first…
	maxChainPoints       = 20 // …up to this
	compromisedPoints    = 5  // each distinct compromised entity…
	maxCompromisedPoints = 15 // …up to this
)

// assetPoints are the points of the most critical inventory asset its
// alerts touch.
var assetPoints = map[string]int{"high": 5, "critical": 10}

func chainPoints(tactics []string) int {
	n := 0
	for _, t := range tactics {
		if TacticRank(t) < len(killChain) {
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return min(maxChainPoints, chainTacticPoints*(n-1))
}

// Tactics that make a chain (chain): a foothold and what follows it.
var (
	chainEarly = map[string]bool{"initial-access": true, "execution": true, "privilege-escalation": true, "credential-access": true}
	chainLate  = map[string]bool{"collection": true, "exfiltration": true, "impact": true, "persistence": true, "lateral-movement": true}
)

// chain reports whether tactics form an attack chain: at least three
// distinct kill-chain tactics, one of them a foothold (initial access,
// execution, privilege escalation, credential access) and one what an
// attacker does with it (persistence, lateral movement, collection,
// exfiltration, impact). Such an incident's severity is raised one level.
func chain(tactics []string) bool {
	n, early, late := 0, false, false
	for _, t := range tactics {
		if TacticRank(t) == len(killChain) {
			continue
		}
		n++
		early = early || chainEarly[t]
		late = late || chainLate[t]
	}
	return n >= 3 && early && late
}

// SortTactics sorts tactics in kill-chain order, names it does not know
// last in alphabetical order.
func SortTactics(ts []string) {
	sort.SliceStable(ts, func(i, j int) bool {
		ri, rj := TacticRank(ts[i]), TacticRank(ts[j])
		if ri != rj {
			return ri < rj
		}
		return ts[i] < ts[j]
	})
}

func title(lead string, count int, main string) string {
	var b strings.Builder
	b.WriteString(lead)
	if count > 1 {
		b.WriteString(" and ")
		b.WriteString(strconv.Itoa(count - 1))
		if count == 2 {
			b.WriteString(" more alert")
		} else {
			b.WriteString(" more alerts")
		}
	}
	if main != "" {
		b.WriteString(" on ")
		b.WriteString(main)
	}
	return b.String()
}

// parseTitle recovers the lead alert's title and the main entity from a
// title that title made for count alerts, for incidents loaded from the
// store: the count says exactly which suffix title added.
func parseTitle(s string, count int, es []alert.Entity) (lead, main string) {
	for _, e := range es {
		if e.Value != "" && strings.HasSuffix(s, " on "+e.Value) && len(e.Value) > len(main) {
			main = e.Value
		}
	}
	if main != "" {
		s = strings.TrimSuffix(s, " on "+main)
	}
	if count > 1 {
		if more := title("", count, ""); strings.HasSuffix(s, more) {
			s = strings.TrimSuffix(s, more)
		}
	}
	return s, main
}

func ruleTitle(a *alert.Alert) string {
	switch {
	case a.Rule.Title != "":
		return a.Rule.Title
	case a.Rule.ID != "":
		return a.Rule.ID
	}
	return "alert " + a.ID
}

// mainEntity is what an incident's title names: the lead alert's
// compromised entity, else its first host, database, cloud resource,
// account or application.
func mainEntity(a *alert.Alert) string {
	if a.Compromised != nil && a.Compromised.Value != "" {
		return a.Compromised.Value
	}
	for _, typ := range [...]string{alert.EntityHost, alert.EntityDatabase, alert.EntityCloudResource, alert.EntityAccount, alert.EntityApplication} {
		for _, e := range a.Entities {
			if e.Type == typ && e.Value != "" {
				return e.Value
			}
		}
	}
	return ""
}

// identity is one of an alert's identifiers with the entity it came from.
type identity struct {
	ident
	strong bool
	entity alert.Entity
}

// identify returns an alert's identifiers, each once.
func (c *Correlator) identify(a *alert.Alert) []identity {
	out := make([]identity, 0, len(a.Entities))
	for _, e := range a.Entities {
		typ, v, strong, ok := c.classify(e)
		if !ok {
			continue
		}
		id := ident{a.Workspace, typ, v}
		dup := false
		for _, x := range out {
			if x.ident == id {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, identity{ident: id, strong: strong, entity: e})
		}
	}
	return out
}

// classify normalizes an entity for comparison and says whether it is a
// strong identifier; ok is false for an empty value.
func (c *Correlator) classify(e alert.Entity) (typ, v string, strong, ok bool) {
	v = strings.TrimSpace(e.Value)
	if v == "" || v == "-" {
		return "", "", false, false
	}
	typ = e.Type
	switch typ {
	case alert.EntityIP:
		v, strong = c.address(v)
		return typ, v, strong, true
	case alert.EntityHost:
		v = strings.TrimSuffix(strings.ToLower(v), ".")
		if _, err := netip.ParseAddr(v); err == nil {
			v, strong = c.address(v) // a host named by its address is that address
			return alert.EntityIP, v, strong, true
		}
		return typ, v, true, true
	case alert.EntityAccount:
		v = strings.ToLower(v)
		name := v
		if i := strings.LastIndexByte(name, '\\'); i >= 0 {
			name = name[i+1:]
		}
		if i := strings.IndexByte(name, '@'); i > 0 {
			name = name[:i]
		}
		if name == "" {
			return "", "", false, false
		}
		return typ, name, !c.common[v] && !c.common[name], true
	case alert.EntityDatabase, alert.EntityCloudResource, alert.EntityHash:
		return typ, strings.ToLower(v), true, true
	case alert.EntityFile:
		if windowsPath(v) {
			v = strings.ToLower(v)
		}
		return typ, v, true, true
	case alert.EntityURL:
		return typ, v, true, true
	}
	// Processes, applications and types not known: many incidents share
	// them.
	return typ, strings.ToLower(v), false, true
}

// address normalizes an address and says whether it is strong: a public
// address not in SharedAddresses. Carrier-grade NAT space counts as shared.
func (c *Correlator) address(v string) (string, bool) {
	ip, err := netip.ParseAddr(v)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(v)
		if err2 != nil {
			return strings.ToLower(v), false
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	s := ip.String()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || cgnat.Contains(ip) {
		return s, false
	}
	for _, p := range c.cfg.SharedAddresses {
		if p.Contains(ip) {
			return s, false
		}
	}
	return s, true
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// windowsPath reports whether v looks like a Windows path (C:\…, C:/…,
// \\server\share), compared without regard to case.
func windowsPath(v string) bool {
	if strings.HasPrefix(v, `\\`) {
		return true
	}
	return len(v) >= 3 && (v[0]|0x20 >= 'a' && v[0]|0x20 <= 'z') && v[1] == ':' && (v[2] == '\\' || v[2] == '/')
}

func (c *Correlator) indexEntities(t *tracked) {
	t.ids = make(map[ident]bool, len(t.inc.Entities))
	for _, e := range t.inc.Entities {
		typ, v, _, ok := c.classify(e)
		if !ok {
			continue
		}
		id := ident{t.inc.Workspace, typ, v}
		t.ids[id] = true
		c.indexOne(t, id)
	}
}

// indexOne adds t under id; t.ids keeps it from being added twice.
func (c *Correlator) indexOne(t *tracked, id ident) {
	c.index[id] = append(c.index[id], t)
}

func (c *Correlator) unindex(t *tracked) {
	for id := range t.ids {
		ts := c.index[id]
		for i, x := range ts {
			if x == t {
				ts[i] = ts[len(ts)-1]
				ts[len(ts)-1] = nil
				ts = ts[:len(ts)-1]
				break
			}
		}
		if len(ts) == 0 {
			delete(c.index, id)
		} else {
			c.index[id] = ts
		}
	}
}

func (c *Correlator) drop(t *tracked) {
	c.unindex(t)
	for _, id := range t.alertIDs {
		ak := key{t.inc.Workspace, id}
		if c.alerts[ak] == t {
			delete(c.alerts, ak)
		}
	}
	delete(c.incs, key{t.inc.Workspace, t.inc.ID})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func appendNew(s []string, v string) []string {
	if v == "" {
		return s
	}
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// cloneIncident copies inc so that the copy shares no slice with it.
func cloneIncident(inc Incident) Incident {
	inc.Tags = append([]string{}, inc.Tags...)
	inc.Tactics = append([]string{}, inc.Tactics...)
	inc.Techniques = append([]string{}, inc.Techniques...)
	inc.Entities = append([]alert.Entity{}, inc.Entities...)
	inc.RuleIDs = append([]string{}, inc.RuleIDs...)
	inc.Tasks = append([]Task{}, inc.Tasks...)
	if inc.Closed != nil {
		t := *inc.Closed
		inc.Closed = &t
	}
	return inc
}
