package sqlite

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// The count tables answer the pane as reading every alert of the range
// does, for ranges with and without whole days and hours, as alerts are raised, joined
// (moving to a later day, rising in severity, counting more events) and
// given new origins; and what Commit keeps in it equals what the
// migration computes from the alerts afresh.
func TestThreatDays(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	origins := []*alert.Origin{deOrigin, jpOrigin, nil,
		{IP: "203.0.113.5", Scope: "public", Country: "US", ASN: 64500, ASOrg: "Example", City: "Ashburn", Lat: 39.04, Lon: -77.49},
		{IP: "203.0.113.6", Scope: "public", Country: "US", ASN: 64500, ASOrg: "Example", City: "", Lat: 39.04, Lon: -77.49}}
	sevs := []alert.Severity{alert.Low, alert.Medium, alert.High, alert.Critical}
	techs := [][]string{{"T1110"}, {"T1190"}, {"T1046"}}
	// 4 rounds: each raises signals over 6 days; each round's signals
	// come back 5 hours later in the next and join the open alerts, a
	// later day for some, at another severity.
	for round := range 4 {
		var sigs []alert.Signal
		for i := range 60 {
			at := day0.Add(time.Duration(i*137+round*300)*time.Minute + time.Duration(round)*time.Second)
			s, _ := originSig("acme", fmt.Sprint("r", i%3), fmt.Sprint("rule ", i%3), sevs[(i+round)%4], techs[i%3], at,
				fmt.Sprint("h", i%17), fmt.Sprint("u", i%5), origins[i%len(origins)])
			sigs = append(sigs, s)
		}
		commitSignals(t, db, "acme", sigs...)
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
	n := 0
	for _, r := range ranges {
		for _, bucket := range []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
			q := store.ThreatQuery{From: r[0], To: r[1], Bucket: bucket}
			if r[1].Sub(r[0])/bucket >= store.MaxThreatBuckets {
				continue
			}
			db.paneFromAlerts = false
			gs, err1 := db.ThreatSeries(ctx, "acme", q)
			go_, err2 := db.ThreatOrigins(ctx, "acme", q)
			gp, err3 := db.ThreatPoints(ctx, "acme", q, 1000)
			db.paneFromAlerts = true
			ws, err4 := db.ThreatSeries(ctx, "acme", q)
			wo, err5 := db.ThreatOrigins(ctx, "acme", q)
			wp, err6 := db.ThreatPoints(ctx, "acme", q, 1000)
			for _, err := range []error{err1, err2, err3, err4, err5, err6} {
				if err != nil {
					t.Fatal(err)
				}
			}
			what := fmt.Sprintf("%v to %v by %v", r[0], r[1], bucket)
			if !reflect.DeepEqual(gs, ws) {
				t.Errorf("%s: series\n%+v\nwant\n%+v", what, gs, ws)
			}
			if !reflect.DeepEqual(go_, wo) {
				t.Errorf("%s: origins\n%+v\nwant\n%+v", what, go_, wo)
			}
			// Where a place's alerts name different cities (Ashburn and
			// none), reading the alerts takes the newest alert's and
			// threat_days the greatest name: not compared.
			for _, pts := range [][]store.ThreatPoint{gp, wp} {
				for i := range pts {
					if pts[i].Lat == 39.04 {
						pts[i].City = ""
					}
				}
			}
			if !reflect.DeepEqual(gp, wp) {
				t.Errorf("%s: points\n%+v\nwant\n%+v", what, gp, wp)
			}
			for _, o := range wo {
				n += int(o.Alerts)
			}
		}
	}
	db.paneFromAlerts = false
	if n == 0 {
		t.Fatal("the ranges hold no alerts: the test compares nothing")
	}
	var joined int
	if err := db.r.QueryRow(`SELECT count(*) FROM alerts WHERE count > 1`).Scan(&joined); err != nil || joined == 0 {
		t.Fatalf("no alert was joined by a later signal (%v): the test moves nothing", err)
	}

	// Commit's increments equal the migration's count afresh.
	kept := map[string][]string{}
	for _, pt := range paneTables {
		kept[pt.Name] = threatDayRows(t, db, pt.Name)
	}
	if _, err := db.w.Exec(`DROP TABLE threat_days; DROP TABLE threat_hours`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(sqlMigrateThreatDays); err != nil {
		t.Fatal(err)
	}
	for _, pt := range paneTables {
		if fresh := threatDayRows(t, db, pt.Name); !reflect.DeepEqual(kept[pt.Name], fresh) || len(fresh) == 0 {
			t.Errorf("%s as Commit kept it\n%v\nas counted afresh\n%v", pt.Name, kept[pt.Name], fresh)
		}
	}
}

func threatDayRows(t *testing.T, db *DB, table string) []string {
	t.Helper()
	rows, err := list(ctx, db, "threat days", func(rs scanner) (string, error) {
		var ws, tt, country, org, city string
		var day, sev, asn, located, alerts, events int64
		var lat, lon float64
		err := rs.Scan(&ws, &day, &tt, &sev, &country, &asn, &org, &located, &lat, &lon, &city, &alerts, &events)
		return fmt.Sprint(ws, day, tt, sev, country, asn, org, located, lat, lon, city, alerts, events), err
	}, `SELECT * FROM `+table+` WHERE alerts > 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11`)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
