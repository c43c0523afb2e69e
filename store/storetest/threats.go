package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// Promises of store.Threats and of the alert filters by threat type,
// origin country and source.

// OriginSignal is a signal of rule about host h and account user, from the
// origin o, at time at.
func OriginSignal(ws, rule, title string, sev alert.Severity, techs []string, at time.Time, h, user string, o *alert.Origin) (alert.Signal, store.StoredEvent) {
	e := Event(ws, "src", at, h, user, "")
	if o != nil {
		e.Common[event.SourceIP] = o.IP
	}
	ents := []alert.Entity{{Type: alert.EntityHost, Value: h}}
	if user != "" {
		ents = append(ents, alert.Entity{Type: alert.EntityAccount, Value: user})
	}
	if o != nil {
		ents = append(ents, alert.Entity{Type: alert.EntityIP, Value: o.IP})
	}
	return alert.Signal{
		Workspace: ws, Type: "signature",
		Rule:     alert.RuleRef{ID: rule, Title: title},
		Severity: sev, Techniques: techs, Entities: ents,
		DedupKey: alert.DedupKey(ws, rule, ents),
		Evidence: alert.Evidence{EventID: e.ID.String(), Time: at},
		Origin:   o,
	}, e
}

func commitOriginSignals(t *testing.T, s store.Store, ws string, sigs ...alert.Signal) {
	t.Helper()
	b := Batch(ws, "src")
	for _, s := range sigs {
		b.Signals = append(b.Signals, s)
	}
	commit(t, s, b)
}

// DEOrigin and JPOrigin are origins as GeoIP gives them: a country
// database's (no location), and a city database's with an indicator.
var (
	DEOrigin = &alert.Origin{IP: "88.198.23.77", Scope: "public", Country: "DE", ASN: 24940, ASOrg: "Hetzner Online GmbH"}
	JPOrigin = &alert.Origin{IP: "49.212.34.45", Scope: "public", Country: "JP", ASN: 9371, ASOrg: "SAKURA Internet Inc.",
		City: "Osaka", Lat: 34.69, Lon: 135.5,
		Indicators: []alert.IndicatorRef{{Kind: "ip", Value: "49.212.34.45", ThreatType: "scanner", Confidence: 80, Feed: "test"}}}
)

func testThreatQueries(t *testing.T, s store.Store) {
	db := as[store.Threats](t, s, "store.Threats")
	mustWorkspace(t, s, "acme", "other")
	h := func(n int) time.Time { return T0.Add(time.Duration(n) * time.Hour) }
	s1, _ := OriginSignal("acme", "ssh-fail", "SSH Password Login Failed", alert.Medium, []string{"T1110.001"}, h(1), "bastion", "root", DEOrigin)
	s1b, _ := OriginSignal("acme", "ssh-fail", "SSH Password Login Failed", alert.Medium, []string{"T1110.001"}, h(1).Add(time.Minute), "bastion", "root", DEOrigin)
	s2, _ := OriginSignal("acme", "lsass", "LSASS read", alert.High, []string{"T1003.001"}, h(2), "ws1", "", DEOrigin)
	s3, _ := OriginSignal("acme", "ssh-fail", "SSH Password Login Failed", alert.Low, []string{"T1110.001"}, h(2), "web", "admin", JPOrigin)
	s4, _ := OriginSignal("acme", "ps", "Encoded PowerShell", alert.Critical, []string{"T1059.001"}, h(3), "ws2", "", nil)
	s4.Tactics = []string{"execution"}
	old, _ := OriginSignal("acme", "ssh-fail", "SSH Password Login Failed", alert.High, []string{"T1110.001"}, h(-30), "old", "root", DEOrigin)
	theirs, _ := OriginSignal("other", "ssh-fail", "SSH Password Login Failed", alert.High, []string{"T1110.001"}, h(1), "x", "root", DEOrigin)
	health := alert.Signal{Workspace: "acme", Type: "health", Rule: alert.RuleRef{ID: "silent", Title: "source silent"},
		Severity: alert.Medium, Evidence: alert.Evidence{Time: h(1)}}
	commitOriginSignals(t, s, "acme", s1, s1b, s2, s3, s4, old, health)
	commitOriginSignals(t, s, "other", theirs)

	q := store.ThreatQuery{From: T0, To: h(24), Bucket: time.Hour}
	series, err := db.ThreatSeries(ctx, "acme", q)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.ThreatCount{}
	for _, b := range series {
		for _, c := range b.Counts {
			got[b.Start.Format("15")+" "+c.ThreatType+" "+c.Severity.String()] = c
		}
	}
	want := map[string][2]int64{ // hour type severity → alerts, events
		"13 brute_force medium":      {1, 2},
		"14 credential_dumping high": {1, 1},
		"14 scanner low":             {1, 1}, // the indicator's threat type wins over the rule's
		"15 execution critical":      {1, 1},
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v (no health alert, nothing out of range or of another workspace)", got, want)
	}
	for k, w := range want {
		if c := got[k]; c.Alerts != w[0] || c.Events != w[1] {
			t.Errorf("series %s = %d alerts, %d events; want %d, %d", k, c.Alerts, c.Events, w[0], w[1])
		}
	}

	origins, err := db.ThreatOrigins(ctx, "acme", q)
	if err != nil {
		t.Fatal(err)
	}
	type ok struct {
		country string
		asn     uint32
		typ     string
	}
	og := map[ok]store.ThreatOrigin{}
	for _, o := range origins {
		og[ok{o.Country, o.ASN, o.ThreatType}] = o
	}
	if len(og) != 4 {
		t.Errorf("origins %+v, want 4 groups", origins)
	}
	if o := og[ok{"DE", 24940, "brute_force"}]; o.Alerts != 1 || o.Events != 2 || o.Worst != alert.Medium || o.ASOrg != "Hetzner Online GmbH" {
		t.Errorf("DE brute force = %+v", o)
	}
	if o := og[ok{"", 0, "execution"}]; o.Alerts != 1 || o.Worst != alert.Critical {
		t.Errorf("unknown origin = %+v", o)
	}

	pts, err := db.ThreatPoints(ctx, "acme", q, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || pts[0].Country != "JP" || pts[0].City != "Osaka" || pts[0].Lat != 34.69 || pts[0].ThreatType != "scanner" {
		t.Errorf("points %+v, want the one located origin (Osaka)", pts)
	}

	for _, bad := range []store.ThreatQuery{
		{From: h(2), To: h(1), Bucket: time.Hour},
		{From: T0, To: h(24)},
		{From: T0, To: h(24 * 365), Bucket: time.Minute},
	} {
		if _, err := db.ThreatSeries(ctx, "acme", bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ThreatSeries(%+v) err = %v, want ErrInvalid", bad, err)
		}
	}
}

// testAlertOriginFilters: the alert list filters by threat type, origin
// country (in any case) and the source whose batch brought a signal, and
// counts what it lists, in its workspace only.
func testAlertOriginFilters(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "acme", "other")
	de, _ := OriginSignal("acme", "ssh-fail", "SSH Password Login Failed", alert.Medium, []string{"T1110.001"}, T0, "bastion", "root", DEOrigin)
	jp, _ := OriginSignal("acme", "ssh-fail", "SSH Password Login Failed", alert.Low, []string{"T1110.001"}, T0.Add(time.Minute), "web", "admin", JPOrigin)
	ps, _ := OriginSignal("acme", "ps", "Encoded PowerShell", alert.Critical, []string{"T1059.001"}, T0.Add(2*time.Minute), "ws2", "", nil)
	ps.Tactics = []string{"execution"}
	theirs, _ := OriginSignal("other", "ssh-fail", "SSH Password Login Failed", alert.High, []string{"T1110.001"}, T0, "x", "root", DEOrigin)
	b1 := Batch("acme", "ssh")
	b1.Signals = []alert.Signal{de, jp}
	b2 := Batch("acme", "winlog")
	b2.Signals = []alert.Signal{ps}
	b3 := Batch("other", "ssh")
	b3.Signals = []alert.Signal{theirs}
	commit(t, s, b1, b2, b3)
	// A later signal of the DE alert's key from another source: the
	// alert is then of both sources.
	de2, _ := OriginSignal("acme", "ssh-fail", "SSH Password Login Failed", alert.Medium, []string{"T1110.001"}, T0.Add(3*time.Minute), "bastion", "root", DEOrigin)
	b4 := Batch("acme", "vpn")
	b4.Signals = []alert.Signal{de2}
	commit(t, s, b4)

	list := func(ws string, q store.AlertQuery) []string {
		t.Helper()
		q.Limit = 1 // paged, one a page
		as := allAlerts(t, s, ws, q)
		n, err := s.CountAlerts(ctx, ws, q)
		if err != nil || n != len(as) {
			t.Errorf("CountAlerts(%+v) = %d, %v; Alerts lists %d", q, n, err, len(as))
		}
		var hosts []string
		for _, a := range as {
			for _, e := range a.Entities {
				if e.Type == alert.EntityHost {
					hosts = append(hosts, e.Value)
				}
			}
		}
		return hosts
	}
	same := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
	}
	same("brute force", list("acme", store.AlertQuery{ThreatType: "brute_force"}), "bastion")
	same("scanner", list("acme", store.AlertQuery{ThreatType: "scanner"}), "web")
	same("execution", list("acme", store.AlertQuery{ThreatType: "execution"}), "ws2")
	same("country de", list("acme", store.AlertQuery{Country: "de"}), "bastion")
	same("country JP", list("acme", store.AlertQuery{Country: "JP"}), "web")
	same("source ssh", list("acme", store.AlertQuery{Source: "ssh"}), "bastion", "web")
	same("source vpn", list("acme", store.AlertQuery{Source: "vpn"}), "bastion")
	same("source winlog", list("acme", store.AlertQuery{Source: "winlog"}), "ws2")
	same("source ssh, country DE", list("acme", store.AlertQuery{Source: "ssh", Country: "DE"}), "bastion")
	same("source ssh by priority", list("acme", store.AlertQuery{Source: "ssh", Sort: store.AlertSortPriority, ThreatType: "scanner"}), "web")
	same("source nowhere", list("acme", store.AlertQuery{Source: "nowhere"}))
	same("other's brute force", list("other", store.AlertQuery{ThreatType: "brute_force", Source: "ssh", Country: "DE"}), "x")
	if a := allAlerts(t, s, "acme", store.AlertQuery{Country: "DE"}); len(a) != 1 || a[0].Origin == nil || a[0].Origin.ASN != DEOrigin.ASN || a[0].Count != 2 {
		t.Errorf("the DE alert: %+v", a)
	}
}

// testThreatCountsAsScanning: the pane answers as counting every alert of
// the range does (the alerts as the store lists them), for ranges with and
// without whole days and hours and buckets of hours, days and weeks, as
// alerts are raised and joined by later signals (moving to a later hour
// or day, changing severity, counting more events): a store that keeps
// counts by day and hour must move an alert's count as it changes.
func testThreatCountsAsScanning(t *testing.T, s store.Store) {
	db := as[store.Threats](t, s, "store.Threats")
	mustWorkspace(t, s, "acme", "other")
	day0 := T0.Truncate(24 * time.Hour)
	us := &alert.Origin{IP: "203.0.113.5", Scope: "public", Country: "US", ASN: 64500, ASOrg: "Example", City: "Ashburn", Lat: 39.04, Lon: -77.49}
	origins := []*alert.Origin{DEOrigin, JPOrigin, nil, us}
	sevs := []alert.Severity{alert.Low, alert.Medium, alert.High, alert.Critical}
	techs := [][]string{{"T1110"}, {"T1190"}, {"T1046"}}
	// 4 rounds over 6 days; a round's signals of a key come back 5 hours
	// later in the next and join its open alert, at another severity.
	for round := range 4 {
		var sigs []alert.Signal
		for i := range 60 {
			at := day0.Add(time.Duration(i*137+round*300)*time.Minute + time.Duration(round)*time.Second)
			sg, _ := OriginSignal("acme", fmt.Sprint("r", i%3), fmt.Sprint("rule ", i%3), sevs[(i+round)%4], techs[i%3], at,
				fmt.Sprint("h", i%17), fmt.Sprint("u", i%5), origins[i%len(origins)])
			sigs = append(sigs, sg)
		}
		theirs, _ := OriginSignal("other", "r0", "rule 0", alert.High, techs[0], day0.Add(time.Duration(round)*time.Hour), "x", "u", DEOrigin)
		commitOriginSignals(t, s, "acme", sigs...)
		commitOriginSignals(t, s, "other", theirs)
	}
	alerts := allAlerts(t, s, "acme", store.AlertQuery{Limit: 500})
	joined := 0
	for _, a := range alerts {
		if a.Count > 1 {
			joined++
		}
	}
	if joined == 0 {
		t.Fatal("no alert was joined by a later signal: the test moves nothing")
	}
	ranges := [][2]time.Time{
		{day0, day0.Add(7 * 24 * time.Hour)},
		{day0.Add(5 * time.Hour), day0.Add(6*24*time.Hour + 3*time.Hour)},
		{day0.Add(-24 * time.Hour), day0.Add(3 * 24 * time.Hour)},
		{day0.Add(2*time.Hour + time.Minute), day0.Add(20 * time.Hour)}, // no whole day
		{day0.Add(24 * time.Hour), day0.Add(2*24*time.Hour + 90*time.Minute)},
		{day0.Add(3 * time.Hour), day0.Add(27 * time.Hour)}, // whole hours, no whole day
		{day0.Add(30*time.Minute + 7*time.Second), day0.Add(90 * time.Minute)},
	}
	counted := 0
	for _, r := range ranges {
		for _, bucket := range []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
			q := store.ThreatQuery{From: r[0], To: r[1], Bucket: bucket}
			if r[1].Sub(r[0])/bucket >= store.MaxThreatBuckets {
				continue
			}
			what := fmt.Sprintf("%v to %v by %v", r[0], r[1], bucket)
			ws, wo, wp := scanThreats(alerts, q, 1000)
			gs, err := db.ThreatSeries(ctx, "acme", q)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !equalLists(gs, ws) {
				t.Errorf("%s: series\n%+v\nwant (counting every alert)\n%+v", what, gs, ws)
			}
			gor, err := db.ThreatOrigins(ctx, "acme", q)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !equalLists(gor, wo) {
				t.Errorf("%s: origins\n%+v\nwant (counting every alert)\n%+v", what, gor, wo)
			}
			gp, err := db.ThreatPoints(ctx, "acme", q, 1000)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !equalLists(gp, wp) {
				t.Errorf("%s: points\n%+v\nwant (counting every alert)\n%+v", what, gp, wp)
			}
			for _, o := range wo {
				counted += int(o.Alerts)
			}
		}
	}
	if counted == 0 {
		t.Fatal("the ranges hold no alerts: the test compares nothing")
	}
}

// equalLists is reflect.DeepEqual, an empty list equal to none.
func equalLists[T any](a, b []T) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// scanThreats counts alerts (of one workspace) as store.Threats defines its
// answers.
func scanThreats(alerts []alert.Alert, q store.ThreatQuery, limit int) ([]store.ThreatBucket, []store.ThreatOrigin, []store.ThreatPoint) {
	type sk struct {
		b   int64
		tt  string
		sev alert.Severity
	}
	type ok struct {
		country string
		asn     uint32
		tt      string
	}
	type pk struct {
		lat, lon float64
		tt       string
	}
	series := map[sk]*store.ThreatCount{}
	origins := map[ok]*store.ThreatOrigin{}
	points := map[pk]*store.ThreatPoint{}
	for i := range alerts {
		a := &alerts[i]
		tt := alert.ThreatType(a)
		if tt == "" || a.LastSeen.Before(q.From) || !a.LastSeen.Before(q.To) {
			continue
		}
		b := int64(a.LastSeen.Sub(q.From) / q.Bucket)
		c := series[sk{b, tt, a.Severity}]
		if c == nil {
			c = &store.ThreatCount{ThreatType: tt, Severity: a.Severity}
			series[sk{b, tt, a.Severity}] = c
		}
		c.Alerts++
		c.Events += int64(a.Count)
		var o alert.Origin
		if a.Origin != nil {
			o = *a.Origin
		}
		og := origins[ok{o.Country, o.ASN, tt}]
		if og == nil {
			og = &store.ThreatOrigin{Country: o.Country, ASN: o.ASN, ThreatType: tt, Worst: a.Severity}
			origins[ok{o.Country, o.ASN, tt}] = og
		}
		og.Alerts++
		og.Events += int64(a.Count)
		og.Worst, og.ASOrg = max(og.Worst, a.Severity), max(og.ASOrg, o.ASOrg)
		if o.Lat == 0 && o.Lon == 0 {
			continue
		}
		p := points[pk{o.Lat, o.Lon, tt}]
		if p == nil {
			p = &store.ThreatPoint{Lat: o.Lat, Lon: o.Lon, ThreatType: tt, Worst: a.Severity}
			points[pk{o.Lat, o.Lon, tt}] = p
		}
		p.Alerts++
		p.Events += int64(a.Count)
		p.Worst, p.Country, p.City = max(p.Worst, a.Severity), max(p.Country, o.Country), max(p.City, o.City)
	}
	sks := make([]sk, 0, len(series))
	for k := range series {
		sks = append(sks, k)
	}
	slices.SortFunc(sks, func(x, y sk) int {
		return cmp.Or(cmp.Compare(x.b, y.b), strings.Compare(x.tt, y.tt), cmp.Compare(x.sev, y.sev))
	})
	var bs []store.ThreatBucket
	for _, k := range sks {
		start := q.From.Add(time.Duration(k.b) * q.Bucket).UTC()
		if len(bs) == 0 || !bs[len(bs)-1].Start.Equal(start) {
			bs = append(bs, store.ThreatBucket{Start: start})
		}
		bs[len(bs)-1].Counts = append(bs[len(bs)-1].Counts, *series[k])
	}
	var os []store.ThreatOrigin
	for _, o := range origins {
		os = append(os, *o)
	}
	slices.SortFunc(os, func(x, y store.ThreatOrigin) int {
		return cmp.Or(strings.Compare(x.Country, y.Country), cmp.Compare(x.ASN, y.ASN), strings.Compare(x.ThreatType, y.ThreatType))
	})
	var ps []store.ThreatPoint
	for _, p := range points {
		ps = append(ps, *p)
	}
	slices.SortFunc(ps, func(x, y store.ThreatPoint) int {
		return cmp.Or(cmp.Compare(y.Alerts, x.Alerts), cmp.Compare(x.Lat, y.Lat), cmp.Compare(x.Lon, y.Lon), strings.Compare(x.ThreatType, y.ThreatType))
	})
	if len(ps) > limit {
		ps = ps[:limit]
	}
	return bs, os, ps
}
