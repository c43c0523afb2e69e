package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/rule"
)

// base is a detection rule document for tests: name n, id "id-"+n.
func base(n string) string {
	return fmt.Sprintf("title: %s\nid: id-%s\nname: %s\ndetection:\n  sel:\n    EventID: 1\n  condition: sel\n---\n", n, n, n)
}

// newCorr parses and links the documents and compiles the correlator.
func newCorr(t *testing.T, cfg CorrelatorConfig, docs ...string) *Correlator {
	t.Helper()
	set, errs := rule.ParseSet("test.yml", []byte(strings.Join(docs, "")))
	errs = append(errs, set.Link()...)
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	k, errs := NewCorrelator(set.Correlations, cfg)
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	return k
}

var t0 = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

// feeder sends matches of rule ids with named field values.
type feeder struct {
	t    *testing.T
	k    *Correlator
	hits []CorrelationHit
	line int
}

func (f *feeder) send(rule string, at time.Duration, fields map[string]string) int {
	f.t.Helper()
	f.line++
	names := f.k.Fields(rule)
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = fields[n]
	}
	before := len(f.hits)
	f.hits = f.k.Observe(Match{Rule: rule, Workspace: "ws", Time: t0.Add(at), Values: vals,
		Evidence: Evidence{File: "f.log", Line: f.line, Time: t0.Add(at)}}, f.hits)
	return len(f.hits) - before
}

func (f *feeder) flush() int {
	before := len(f.hits)
	f.hits = f.k.Flush(f.hits)
	return len(f.hits) - before
}

func countRule(cond string) string {
	return base("fail") + `title: many failures
id: corr-count
correlation:
  type: event_count
  rules: [fail]
  group-by: [User]
  timespan: 10m
  condition:
` + cond + "\n"
}

func TestEventCountOperators(t *testing.T) {
	// Each case sends n matches for one user within the window and says
	// whether the correlation must hit (at once or when the window closes).
	cases := []struct {
		cond string
		n    int
		want bool
	}{
		{"    gt: 3", 3, false}, {"    gt: 3", 4, true},
		{"    gte: 3", 2, false}, {"    gte: 3", 3, true},
		{"    lt: 3", 2, true}, {"    lt: 3", 3, false},
		{"    lte: 3", 3, true}, {"    lte: 3", 4, false},
		{"    eq: 3", 2, false}, {"    eq: 3", 3, true}, {"    eq: 3", 4, false},
		{"    neq: 3", 3, false}, {"    neq: 3", 4, true},
		{"    gt: 2\n    lte: 4", 2, false}, {"    gt: 2\n    lte: 4", 3, true},
		{"    gt: 2\n    lte: 4", 4, true}, {"    gt: 2\n    lte: 4", 5, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", strings.ReplaceAll(strings.TrimSpace(c.cond), "\n    ", ","), c.n), func(t *testing.T) {
			f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, countRule(c.cond))}
			for i := 0; i < c.n; i++ {
				f.send("id-fail", time.Duration(i)*time.Minute, map[string]string{"User": "bob"})
			}
			f.flush()
			if got := len(f.hits) > 0; got != c.want {
				t.Fatalf("hit = %v, want %v (hits %+v)", got, c.want, f.hits)
			}
			if c.want && f.hits[0].Value != float64(c.n) {
				t.Fatalf("value %v, want %d", f.hits[0].Value, c.n)
			}
		})
	}
}

func TestEventCountSlidingWindowAndGroups(t *testing.T) {
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, countRule("    gte: 3"))}
	bob := map[string]string{"User": "bob"}
	// 0, 6 and 12 minutes: never three within 10 minutes.
	for _, m := range []int{0, 6, 12} {
		if n := f.send("id-fail", time.Duration(m)*time.Minute, bob); n != 0 {
			t.Fatalf("hit at %dm with events spread over more than 10m", m)
		}
	}
	// 13m: 6, 12 and 13 are within 10 minutes: a sliding window sees them
	// although a fixed 10-minute bucket (0–10, 10–20) would not.
	if n := f.send("id-fail", 13*time.Minute, bob); n != 1 {
		t.Fatalf("no hit for 3 events within 10m of a sliding window")
	}
	h := f.hits[0]
	if h.First != t0.Add(6*time.Minute) || h.Last != t0.Add(13*time.Minute) || h.Events != 3 {
		t.Fatalf("hit span %v–%v events %d", h.First, h.Last, h.Events)
	}
	if len(h.Group) != 1 || h.Group[0] != (GroupValue{"User", "bob"}) || h.Workspace != "ws" {
		t.Fatalf("group %+v workspace %q", h.Group, h.Workspace)
	}
	if len(h.Evidence) != 3 || h.Evidence[0].Line != 2 || h.Evidence[2].Line != 4 {
		t.Fatalf("evidence %+v", h.Evidence)
	}
	// Another user's events count apart; the hit emptied bob's window.
	f.send("id-fail", 14*time.Minute, map[string]string{"User": "eve"})
	f.send("id-fail", 14*time.Minute, bob)
	f.send("id-fail", 15*time.Minute, map[string]string{"User": "eve"})
	if len(f.hits) != 1 {
		t.Fatalf("hits %d, want 1", len(f.hits))
	}
	// The boundary: exactly the timespan apart is within it.
	f.send("id-fail", 24*time.Minute, bob)
	if n := f.send("id-fail", 24*time.Minute, bob); n != 1 {
		t.Fatalf("events 14m, 24m, 24m (exactly 10m apart) did not hit")
	}
	// Without the group-by field, nothing counts.
	f.send("id-fail", 25*time.Minute, nil)
	if st := f.k.Stats(); st.MissingGroup != 1 {
		t.Fatalf("missing group-by counted %d", st.MissingGroup)
	}
}

func TestValueCount(t *testing.T) {
	doc := base("fail") + `title: spraying
correlation:
  type: value_count
  rules: [fail]
  group-by: [IpAddress]
  timespan: 1h
  condition:
    field: TargetUserName
    gte: 3
`
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, doc)}
	ev := func(user string) map[string]string {
		return map[string]string{"IpAddress": "10.0.0.1", "TargetUserName": user}
	}
	f.send("id-fail", 0, ev("a"))
	f.send("id-fail", time.Minute, ev("a"))
	f.send("id-fail", 2*time.Minute, ev("b"))
	f.send("id-fail", 3*time.Minute, ev("b"))
	if len(f.hits) != 0 {
		t.Fatal("two distinct values hit gte 3")
	}
	f.send("id-fail", 4*time.Minute, ev(""))
	if len(f.hits) != 0 {
		t.Fatal("an absent value counted as a value")
	}
	f.send("id-fail", 5*time.Minute, ev("c"))
	if len(f.hits) != 1 || f.hits[0].Value != 3 || f.hits[0].Events != 5 {
		t.Fatalf("hits %+v", f.hits)
	}
}

func TestValueSumAvgPercentile(t *testing.T) {
	metric := func(typ, field, cond string) string {
		return base("web") + "title: " + typ + "\ncorrelation:\n  type: " + typ + "\n  rules: [web]\n  group-by: [SourceIP]\n  timespan: 1h\n  condition:\n    field: " + field + "\n" + cond + "\n"
	}
	ev := func(v string) map[string]string {
		return map[string]string{"SourceIP": "1.2.3.4", "bytes": v, "Image": v}
	}

	t.Run("sum", func(t *testing.T) {
		f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, metric("value_sum", "bytes", "    gt: 1000"))}
		f.send("id-web", 0, ev("600"))
		f.send("id-web", time.Minute, ev("not a number"))
		f.send("id-web", 2*time.Minute, ev("400"))
		if len(f.hits) != 0 {
			t.Fatal("sum 1000 hit gt 1000")
		}
		f.send("id-web", 3*time.Minute, ev("0.5"))
		if len(f.hits) != 1 || f.hits[0].Value != 1000.5 {
			t.Fatalf("hits %+v", f.hits)
		}
	})
	t.Run("avg", func(t *testing.T) {
		f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, metric("value_avg", "bytes", "    gt: 500"))}
		f.send("id-web", 0, ev("400"))
		f.send("id-web", time.Minute, ev("600")) // avg 500: not above
		if len(f.hits) != 0 {
			t.Fatal("avg 500 hit gt 500")
		}
		f.send("id-web", 2*time.Minute, ev("800")) // avg 600
		if len(f.hits) != 1 || f.hits[0].Value != 600 {
			t.Fatalf("hits %+v", f.hits)
		}
	})
	t.Run("percentile rare value", func(t *testing.T) {
		// A value making up at most 10% of the group's events, judged when
		// the hour is over.
		f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, metric("value_percentile", "Image", "    lte: 10"))}
		for i := 0; i < 9; i++ {
			f.send("id-web", time.Duration(i)*time.Minute, ev("svchost.exe"))
		}
		f.send("id-web", 10*time.Minute, ev("evil.exe"))
		if len(f.hits) != 0 {
			t.Fatal("judged before the window closed")
		}
		// An event two hours later closes the window.
		f.send("id-web", 2*time.Hour, ev("svchost.exe"))
		if len(f.hits) != 1 || f.hits[0].Values[0] != "evil.exe" || f.hits[0].Value != 10 || f.hits[0].Events != 1 {
			t.Fatalf("hits %+v", f.hits)
		}
	})
}

func temporalDocs(typ string) string {
	return base("a") + base("b") + base("c") + `title: ` + typ + `
id: corr-t
correlation:
  type: ` + typ + `
  rules: [a, b, c]
  group-by: [Host]
  timespan: 5m
`
}

func TestTemporal(t *testing.T) {
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, temporalDocs("temporal"))}
	h := map[string]string{"Host": "h1"}
	f.send("id-c", 0, h)
	f.send("id-a", time.Minute, h)
	f.send("id-a", 2*time.Minute, map[string]string{"Host": "h2"})
	if len(f.hits) != 0 {
		t.Fatal("hit before all three rules matched")
	}
	if f.send("id-b", 5*time.Minute, h) != 1 {
		t.Fatal("c, a, b within 5m on one host did not hit")
	}
	// Too far apart: a at 10m, b at 11m, c at 16m.
	f.send("id-a", 10*time.Minute, h)
	f.send("id-b", 11*time.Minute, h)
	if f.send("id-c", 16*time.Minute, h) != 0 {
		t.Fatal("rules 6 minutes apart hit a 5m temporal correlation")
	}
}

func TestTemporalOrdered(t *testing.T) {
	h := map[string]string{"Host": "h1"}
	t.Run("in order", func(t *testing.T) {
		f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, temporalDocs("temporal_ordered"))}
		f.send("id-a", 0, h)
		f.send("id-b", time.Minute, h)
		if f.send("id-c", 2*time.Minute, h) != 1 {
			t.Fatal("a, b, c in order did not hit")
		}
		if ev := f.hits[0].Evidence; len(ev) != 3 || ev[0].Line != 1 || ev[2].Line != 3 {
			t.Fatalf("evidence %+v", ev)
		}
	})
	t.Run("order violation", func(t *testing.T) {
		f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, temporalDocs("temporal_ordered"))}
		f.send("id-b", 0, h)
		f.send("id-a", time.Minute, h)
		f.send("id-c", 2*time.Minute, h)
		if len(f.hits) != 0 {
			t.Fatal("b, a, c hit an ordered correlation of a, b, c")
		}
		// b again after a completes the order.
		f.send("id-b", 3*time.Minute, h)
		if f.send("id-c", 4*time.Minute, h) != 1 {
			t.Fatal("a, b, c after an out-of-order b did not hit")
		}
	})
	t.Run("late start is kept", func(t *testing.T) {
		// a at 0 and 4m, b at 5m, c at 8m: only the chain from 4m fits 5m.
		f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, temporalDocs("temporal_ordered"))}
		f.send("id-a", 0, h)
		f.send("id-a", 4*time.Minute, h)
		f.send("id-b", 5*time.Minute, h)
		if f.send("id-c", 8*time.Minute, h) != 1 || f.hits[0].First != t0.Add(4*time.Minute) {
			t.Fatalf("hits %+v", f.hits)
		}
	})
	t.Run("event time, not arrival order", func(t *testing.T) {
		// c arrives before b but has an earlier time stamp than b.
		f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{Lateness: time.Minute}, temporalDocs("temporal_ordered"))}
		f.send("id-a", 0, h)
		f.send("id-b", 2*time.Minute, h)
		if f.send("id-c", 90*time.Second, h) != 0 {
			t.Fatal("c stamped before b completed the order")
		}
	})
}

func TestAliases(t *testing.T) {
	// The same address is the destination in one rule's events and the
	// source in the other's.
	doc := base("internal_error") + base("new_conn") + `title: error then connection
correlation:
  type: temporal
  rules: [internal_error, new_conn]
  group-by: [internal_ip]
  timespan: 10s
  aliases:
    internal_ip:
      internal_error: destination.ip
      new_conn: source.ip
`
	k := newCorr(t, CorrelatorConfig{}, doc)
	if got := k.Fields("id-internal_error"); len(got) != 1 || got[0] != "destination.ip" {
		t.Fatalf("fields of internal_error: %v", got)
	}
	f := &feeder{t: t, k: k}
	f.send("id-internal_error", 0, map[string]string{"destination.ip": "10.1.1.1", "source.ip": "9.9.9.9"})
	f.send("id-new_conn", 2*time.Second, map[string]string{"source.ip": "10.1.1.2"})
	if len(f.hits) != 0 {
		t.Fatal("different addresses correlated")
	}
	f.send("id-new_conn", 3*time.Second, map[string]string{"source.ip": "10.1.1.1", "destination.ip": "9.9.9.9"})
	if len(f.hits) != 1 || f.hits[0].Group[0] != (GroupValue{"internal_ip", "10.1.1.1"}) {
		t.Fatalf("hits %+v", f.hits)
	}
}

func TestLateness(t *testing.T) {
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{Lateness: 2 * time.Minute}, countRule("    gte: 3"))}
	bob := map[string]string{"User": "bob"}
	f.send("id-fail", 10*time.Minute, bob)
	f.send("id-fail", 8*time.Minute, bob) // 2m late: allowed
	if st := f.k.Stats(); st.Late != 0 {
		t.Fatalf("an event within the allowed lateness was dropped")
	}
	f.send("id-fail", 7*time.Minute, bob) // 3m late: dropped
	if st := f.k.Stats(); st.Late != 1 || len(f.hits) != 0 {
		t.Fatalf("late %d, hits %d: the event later than allowed counted", st.Late, len(f.hits))
	}
	if f.send("id-fail", 11*time.Minute, bob) != 1 || f.hits[0].First != t0.Add(8*time.Minute) {
		t.Fatalf("hits %+v", f.hits)
	}
}

// The specification's example: many failed logins (a correlation)
// followed by a successful one, by the same user.
func chainDocs(generate string) string {
	return `title: failed then success
id: corr-outer
level: high
correlation:
  type: temporal_ordered
  rules: [multiple_failed, success]
  group-by: [User]
  timespan: 10m
` + generate + `---
title: multiple failed
id: corr-inner
name: multiple_failed
correlation:
  type: event_count
  rules: [fail]
  group-by: [User]
  timespan: 10m
  condition:
    gte: 3
---
` + base("fail") + base("success")
}

func TestChainAndGenerate(t *testing.T) {
	k := newCorr(t, CorrelatorConfig{}, chainDocs(""))
	for _, id := range []string{"id-fail", "id-success", "corr-inner"} {
		if !k.Suppressed(id) {
			t.Errorf("%s raises alerts of its own without generate", id)
		}
	}
	if k.Suppressed("corr-outer") {
		t.Error("the outermost correlation is suppressed")
	}
	f := &feeder{t: t, k: k}
	u := map[string]string{"User": "alice"}
	f.send("id-success", 0, u) // success before the failures: no order
	for i := 1; i <= 3; i++ {
		f.send("id-fail", time.Duration(i)*time.Minute, u)
	}
	if len(f.hits) != 0 {
		t.Fatalf("the inner correlation alerted on its own: %+v", f.hits)
	}
	if f.send("id-success", 5*time.Minute, u) != 1 {
		t.Fatal("failures then success did not hit the chain")
	}
	h := f.hits[0]
	if h.Correlation.ID != "corr-outer" || h.Events != 4 || len(h.Evidence) != 4 || h.Group[0].Value != "alice" {
		t.Fatalf("hit %+v", h)
	}

	gen := newCorr(t, CorrelatorConfig{}, chainDocs("generate: true\n"))
	if gen.Suppressed("id-success") || gen.Suppressed("corr-inner") || !gen.Suppressed("id-fail") {
		t.Fatal("generate: true did not let the outer correlation's rules alert (and only them)")
	}
	f = &feeder{t: t, k: gen}
	for i := 1; i <= 3; i++ {
		f.send("id-fail", time.Duration(i)*time.Minute, u)
	}
	if len(f.hits) != 1 || f.hits[0].Correlation.ID != "corr-inner" {
		t.Fatalf("with generate, the inner correlation should alert: %+v", f.hits)
	}
}

func TestChainFieldNotProvided(t *testing.T) {
	doc := `title: outer
correlation:
  type: event_count
  rules: [inner]
  group-by: [Host]
  timespan: 1h
  condition:
    gte: 2
---
title: inner
name: inner
correlation:
  type: event_count
  rules: [a]
  group-by: [User]
  timespan: 1h
  condition:
    gte: 2
---
` + base("a")
	set, errs := rule.ParseSet("chain.yml", []byte(doc))
	errs = append(errs, set.Link()...)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	_, errs = NewCorrelator(set.Correlations, CorrelatorConfig{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `chain.yml:4:11: correlation "outer" uses field "Host" of correlation "inner"`) {
		t.Fatalf("errors %v", errs)
	}
}

func TestMaxGroupsEvictsOldest(t *testing.T) {
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{MaxGroups: 2}, countRule("    gte: 2"))}
	f.send("id-fail", 0, map[string]string{"User": "a"})
	f.send("id-fail", time.Second, map[string]string{"User": "b"})
	f.send("id-fail", 2*time.Second, map[string]string{"User": "c"}) // evicts a
	if st := f.k.Stats(); st.Evicted != 1 || st.Groups != 2 {
		t.Fatalf("stats %+v", st)
	}
	f.send("id-fail", 3*time.Second, map[string]string{"User": "a"}) // a starts anew, evicts b
	if len(f.hits) != 0 {
		t.Fatal("an evicted group's state survived")
	}
	f.send("id-fail", 4*time.Second, map[string]string{"User": "c"})
	if len(f.hits) != 1 || f.hits[0].Group[0].Value != "c" {
		t.Fatalf("hits %+v", f.hits)
	}
}

func TestExpiry(t *testing.T) {
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, countRule("    gte: 5"))}
	for i := 0; i < 100; i++ {
		f.send("id-fail", time.Duration(i)*time.Second, map[string]string{"User": fmt.Sprint(i)})
	}
	if st := f.k.Stats(); st.Groups != 100 {
		t.Fatalf("groups %d", st.Groups)
	}
	f.send("id-fail", time.Hour, map[string]string{"User": "late"})
	if st := f.k.Stats(); st.Groups != 1 || st.Expired != 100 {
		t.Fatalf("after the window passed: %+v", st)
	}
}
