package api

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/country"
	"github.com/vigil-sec/vigil/store"
)

// The pane's defaults and bounds.
const (
	defaultThreatRange = 24 * time.Hour
	maxThreatRange     = 366 * 24 * time.Hour
	topThreatTypes     = 3
	maxThreatPoints    = 1000
)

// ThreatRange is the time range of every pane route. (Exported because huma
// only walks exported embedded structs.)
type ThreatRange struct {
	From time.Time `query:"from" doc:"Start of the range (RFC 3339): alerts last seen at or after it. Default: to minus 24 hours."`
	To   time.Time `query:"to" doc:"End of the range (RFC 3339), exclusive. Default: now."`
}

// query checks the range and fills the defaults.
func (r ThreatRange) query(now time.Time) (store.ThreatQuery, error) {
	q := store.ThreatQuery{From: r.From, To: r.To}
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-defaultThreatRange)
	}
	if !q.From.Before(q.To) {
		return q, invalid("query.to", "to must be after from", r.To)
	}
	if q.To.Sub(q.From) > maxThreatRange {
		return q, invalid("query.from", "the range may span at most 366 days", r.From)
	}
	return q, nil
}

type threatTypesInput struct {
	ThreatRange
	Bucket string `query:"bucket" doc:"Width of the series' buckets: a duration such as 15m, 1h or 1d. Default: 1h for ranges up to 2 days, 1d beyond. At most 1000 buckets."`
}

// paneCount is a count with its worst severity.
type paneCount struct {
	Alerts int64 `json:"alerts" doc:"Alerts last seen in the range."`
	Events int64 `json:"events" doc:"Events (signals) those alerts count."`
}

type typeTotal struct {
	ThreatType string `json:"threat_type"`
	paneCount
	BySeverity map[string]int64 `json:"by_severity" doc:"Alerts by severity."`
}

type severityTotal struct {
	Severity string `json:"severity"`
	paneCount
}

type threatTypesOutput struct {
	Body struct {
		From       time.Time            `json:"from"`
		To         time.Time            `json:"to"`
		Bucket     string               `json:"bucket" doc:"The buckets' width, as a Go duration."`
		Types      []typeTotal          `json:"types" doc:"Threat types, most alerts first."`
		Severities []severityTotal      `json:"severities" doc:"Alerts by severity, worst first."`
		Series     []store.ThreatBucket `json:"series" doc:"Counts by threat type and severity in each bucket that has alerts."`
		GeoIPCredit
	}
}

type typeCount struct {
	ThreatType string `json:"threat_type"`
	Alerts     int64  `json:"alerts"`
}

type originTotal struct {
	paneCount
	Worst string      `json:"worst_severity"`
	Top   []typeCount `json:"top_threat_types" doc:"The threat types with most alerts, at most 3."`
	types map[string]int64
}

func (o *originTotal) add(r store.ThreatOrigin) {
	o.Alerts += r.Alerts
	o.Events += r.Events
	if w, err := alert.ParseSeverity(o.Worst); err != nil || r.Worst > w {
		o.Worst = r.Worst.String()
	}
	if o.types == nil {
		o.types = map[string]int64{}
	}
	o.types[r.ThreatType] += r.Alerts
}

func (o *originTotal) finish() {
	o.Top = topTypes(o.types)
}

func topTypes(m map[string]int64) []typeCount {
	out := make([]typeCount, 0, len(m))
	for t, n := range m {
		out = append(out, typeCount{t, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Alerts != out[j].Alerts {
			return out[i].Alerts > out[j].Alerts
		}
		return out[i].ThreatType < out[j].ThreatType
	})
	if len(out) > topThreatTypes {
		out = out[:topThreatTypes]
	}
	return out
}

type countryTotal struct {
	Country     string `json:"country" doc:"ISO 3166-1 alpha-2."`
	Numeric     string `json:"numeric,omitempty" doc:"ISO 3166-1 numeric: the id of the country's feature on the world-atlas map."`
	CountryName string `json:"country_name,omitempty"`
	originTotal
}

type networkTotal struct {
	ASN     uint32 `json:"asn"`
	ASOrg   string `json:"as_org,omitempty"`
	Country string `json:"country,omitempty" doc:"The country most of the network's alerts come from."`
	originTotal
}

type threatOriginsOutput struct {
	Body struct {
		From      time.Time      `json:"from"`
		To        time.Time      `json:"to"`
		Countries []countryTotal `json:"countries" doc:"Origin countries, most alerts first."`
		Networks  []networkTotal `json:"networks" doc:"Origin networks (autonomous systems), most alerts first; only when the GeoIP database gives ASNs."`
		Unknown   paneCount      `json:"unknown" doc:"Alerts whose origin country is not known (no source address, private or unlisted addresses)."`
		GeoIPCredit
	}
}

type threatPoint struct {
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Country string  `json:"country,omitempty"`
	City    string  `json:"city,omitempty"`
	originTotal
}

type threatMapOutput struct {
	Body struct {
		From      time.Time      `json:"from"`
		To        time.Time      `json:"to"`
		Countries []countryTotal `json:"countries" doc:"Per country, with its numeric id on the world-atlas map (countries-110m), most alerts first."`
		Points    []threatPoint  `json:"points" doc:"Per located origin (city databases only), most alerts first, at most 1000."`
		GeoIPCredit
	}
}

func (a *API) registerThreats(h huma.API) {
	errs := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity}
	huma.Register(h, huma.Operation{
		OperationID: "threat-types",
		Method:      http.MethodGet,
		Path:        "/api/v1/threats/types",
		Summary:     "Detected threat types over time",
		Description: "Alerts of the key's workspace last seen in the range, by threat type and severity, in total and by bucket.",
		Tags:        []string{"threats"},
		Security:    bearer,
		Errors:      errs,
	}, a.threatTypes)
	huma.Register(h, huma.Operation{
		OperationID: "threat-origins",
		Method:      http.MethodGet,
		Path:        "/api/v1/threats/origins",
		Summary:     "Where threats come from",
		Description: "Alerts of the key's workspace last seen in the range, by origin country and network, with the worst severity and top threat types.",
		Tags:        []string{"threats"},
		Security:    bearer,
		Errors:      errs,
	}, a.threatOrigins)
	huma.Register(h, huma.Operation{
		OperationID: "threat-map",
		Method:      http.MethodGet,
		Path:        "/api/v1/threats/map",
		Summary:     "The threat map",
		Description: "Per country (with its ISO numeric id, the world-atlas map's feature id) and per located origin: alerts, top threat types, worst severity.",
		Tags:        []string{"threats"},
		Security:    bearer,
		Errors:      errs,
	}, a.threatMap)
}

// threats is the store's pane side; every store of vigil has it.
func (a *API) threats() (store.Threats, error) {
	t, ok := a.store.(store.Threats)
	if !ok {
		return nil, huma.Error501NotImplemented("this store does not answer the threat-intelligence pane")
	}
	return t, nil
}

// threatScope is what every pane route starts from: the caller's
// workspace, the store's pane side and the time range asked for.
func (a *API) threatScope(ctx context.Context, r ThreatRange) (string, store.Threats, store.ThreatQuery, error) {
	k, err := caller(ctx)
	if err != nil {
		return "", nil, store.ThreatQuery{}, err
	}
	ts, err := a.threats()
	if err != nil {
		return "", nil, store.ThreatQuery{}, err
	}
	q, err := r.query(a.now().UTC())
	if err != nil {
		return "", nil, store.ThreatQuery{}, err
	}
	return k.Workspace, ts, q, nil
}

// parseBucket reads a bucket width: a Go duration, or whole days ("7d").
func parseBucket(s string) (time.Duration, bool) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 366 { // no wider than the widest range; no overflow
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= time.Minute
}

func (a *API) threatTypes(ctx context.Context, in *threatTypesInput) (*threatTypesOutput, error) {
	ws, ts, q, err := a.threatScope(ctx, in.ThreatRange)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Bucket != "":
		d, ok := parseBucket(in.Bucket)
		if !ok {
			return nil, invalid("query.bucket", "want a duration of at least 1m, such as 15m, 1h or 1d", in.Bucket)
		}
		q.Bucket = d
	case q.To.Sub(q.From) <= 48*time.Hour:
		q.Bucket = time.Hour
	default:
		q.Bucket = 24 * time.Hour
	}
	series, err := ts.ThreatSeries(ctx, ws, q)
	if err != nil {
		return nil, a.storeError(ctx, "threat types", err)
	}
	types := map[string]*typeTotal{}
	sevs := map[alert.Severity]*severityTotal{}
	for _, b := range series {
		for _, c := range b.Counts {
			t := types[c.ThreatType]
			if t == nil {
				t = &typeTotal{ThreatType: c.ThreatType, BySeverity: map[string]int64{}}
				types[c.ThreatType] = t
			}
			t.Alerts += c.Alerts
			t.Events += c.Events
			t.BySeverity[c.Severity.String()] += c.Alerts
			s := sevs[c.Severity]
			if s == nil {
				s = &severityTotal{Severity: c.Severity.String()}
				sevs[c.Severity] = s
			}
			s.Alerts += c.Alerts
			s.Events += c.Events
		}
	}
	out := &threatTypesOutput{}
	out.Body.From, out.Body.To, out.Body.Bucket = q.From, q.To, q.Bucket.String()
	out.Body.GeoIPCredit = a.geoIPCredit()
	out.Body.Series = nonNil(series)
	out.Body.Types = []typeTotal{}
	for _, t := range types {
		out.Body.Types = append(out.Body.Types, *t)
	}
	sort.Slice(out.Body.Types, func(i, j int) bool {
		x, y := out.Body.Types[i], out.Body.Types[j]
		return x.Alerts > y.Alerts || x.Alerts == y.Alerts && x.ThreatType < y.ThreatType
	})
	out.Body.Severities = []severityTotal{}
	for s := alert.Critical; s >= alert.Informational; s-- {
		if t := sevs[s]; t != nil {
			out.Body.Severities = append(out.Body.Severities, *t)
		}
	}
	return out, nil
}

// countryTotals folds origin rows into countries, most alerts first; rows
// without a country go to unknown.
func countryTotals(rows []store.ThreatOrigin, unknown *paneCount) []countryTotal {
	by := map[string]*countryTotal{}
	for _, r := range rows {
		if r.Country == "" {
			if unknown != nil {
				unknown.Alerts += r.Alerts
				unknown.Events += r.Events
			}
			continue
		}
		c := by[r.Country]
		if c == nil {
			iso, _ := country.ByAlpha2(r.Country)
			c = &countryTotal{Country: r.Country, Numeric: iso.Numeric, CountryName: iso.Name}
			by[r.Country] = c
		}
		c.add(r)
	}
	out := make([]countryTotal, 0, len(by))
	for _, c := range by {
		c.finish()
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Alerts > out[j].Alerts || out[i].Alerts == out[j].Alerts && out[i].Country < out[j].Country
	})
	return out
}

func (a *API) threatOrigins(ctx context.Context, in *ThreatRange) (*threatOriginsOutput, error) {
	ws, ts, q, err := a.threatScope(ctx, *in)
	if err != nil {
		return nil, err
	}
	rows, err := ts.ThreatOrigins(ctx, ws, q)
	if err != nil {
		return nil, a.storeError(ctx, "threat origins", err)
	}
	out := &threatOriginsOutput{}
	out.Body.From, out.Body.To = q.From, q.To
	out.Body.GeoIPCredit = a.geoIPCredit()
	out.Body.Countries = countryTotals(rows, &out.Body.Unknown)
	nets := map[uint32]*networkTotal{}
	lead := map[uint32]map[string]int64{} // alerts by country of each network
	for _, r := range rows {
		if r.ASN == 0 {
			continue
		}
		n := nets[r.ASN]
		if n == nil {
			n = &networkTotal{ASN: r.ASN}
			nets[r.ASN] = n
			lead[r.ASN] = map[string]int64{}
		}
		if n.ASOrg == "" {
			n.ASOrg = r.ASOrg
		}
		lead[r.ASN][r.Country] += r.Alerts
		n.add(r)
	}
	out.Body.Networks = make([]networkTotal, 0, len(nets))
	for asn, n := range nets {
		n.finish()
		if top := topTypes(lead[asn]); len(top) > 0 {
			n.Country = top[0].ThreatType // the key of the count: a country here
		}
		out.Body.Networks = append(out.Body.Networks, *n)
	}
	sort.Slice(out.Body.Networks, func(i, j int) bool {
		x, y := out.Body.Networks[i], out.Body.Networks[j]
		return x.Alerts > y.Alerts || x.Alerts == y.Alerts && x.ASN < y.ASN
	})
	return out, nil
}

func (a *API) threatMap(ctx context.Context, in *ThreatRange) (*threatMapOutput, error) {
	ws, ts, q, err := a.threatScope(ctx, *in)
	if err != nil {
		return nil, err
	}
	rows, err := ts.ThreatOrigins(ctx, ws, q)
	if err != nil {
		return nil, a.storeError(ctx, "threat map", err)
	}
	pts, err := ts.ThreatPoints(ctx, ws, q, maxThreatPoints*topThreatTypes)
	if err != nil {
		return nil, a.storeError(ctx, "threat map", err)
	}
	out := &threatMapOutput{}
	out.Body.From, out.Body.To = q.From, q.To
	out.Body.GeoIPCredit = a.geoIPCredit()
	out.Body.Countries = countryTotals(rows, nil)
	type place struct{ lat, lon float64 }
	by := map[place]*threatPoint{}
	var order []place
	for _, p := range pts {
		k := place{p.Lat, p.Lon}
		t := by[k]
		if t == nil {
			t = &threatPoint{Lat: p.Lat, Lon: p.Lon, Country: p.Country, City: p.City}
			by[k] = t
			order = append(order, k)
		}
		t.add(store.ThreatOrigin{ThreatType: p.ThreatType, Worst: p.Worst, Alerts: p.Alerts, Events: p.Events})
	}
	out.Body.Points = make([]threatPoint, 0, len(order))
	for _, k := range order {
		t := by[k]
		t.finish()
		out.Body.Points = append(out.Body.Points, *t)
	}
	sort.SliceStable(out.Body.Points, func(i, j int) bool { return out.Body.Points[i].Alerts > out.Body.Points[j].Alerts })
	if len(out.Body.Points) > maxThreatPoints {
		out.Body.Points = out.Body.Points[:maxThreatPoints]
	}
	return out, nil
}
