package analysis

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/tenant"
)

// packRules compiles vigil's own rule pack with its correlations, as serve
// does.
func packRules(t *testing.T) *Rules {
	t.Helper()
	names, err := fs.Glob(content.Rules, "rules/*.yml")
	if err != nil || len(names) == 0 {
		t.Fatalf("rule pack: %v (%d files)", err, len(names))
	}
	set := &rule.Set{}
	for _, n := range names {
		data, err := content.Rules.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		// As serve loads it: rules on site lists nobody set are left out.
		s, errs := (&rule.Options{OptionalPlaceholders: true}).ParseSet(n, data)
		errs = append(errs, s.ApplyFilters()...)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", n, errs)
		}
		set.Add(s)
	}
	rs, errs := CompileSet(set, detect.Options{Taxonomy: rule.DefaultTaxonomy()}, detect.CorrelatorConfig{Lateness: time.Hour})
	if len(errs) > 0 {
		t.Fatalf("rule pack: %v", errs)
	}
	if rs.Correlations() == 0 {
		t.Fatal("the rule pack has no correlations")
	}
	return rs
}

// remoteFailures are n failed remote logons (4625) of user from one
// address, a minute apart.
func remoteFailures(user, ip string, n int) []string {
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(`{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":%q,"IpAddress":%q,"LogonType":3,"TimeCreated":"2026-01-02T03:%02d:00Z"}`,
			user, ip, i))
	}
	return lines
}

// TestTiersWithRulePack: with vigil's own pack, a free workspace gets the
// signature alerts (Windows Logon Failure, one an event) but no
// correlation alert; a standard workspace gets both, brute force included.
func TestTiersWithRulePack(t *testing.T) {
	rs := packRules(t)
	for _, tc := range []struct {
		tier        string
		correlation bool
	}{{tenant.TierFree, false}, {tenant.TierStandard, true}} {
		t.Run(tc.tier, func(t *testing.T) {
			b := openBus(t)
			if err := b.Publish(context.Background(), batchOf("windows", remoteFailures("alice", "203.0.113.50", 12)...)); err != nil {
				t.Fatal(err)
			}
			st := newCountingStore()
			stop := startStage(t, NewStage(StageConfig{Bus: b, Store: st, Rules: func() *Rules { return rs },
				Workspaces: tiers{"w": tc.tier}}))
			if !waitUntil(20*time.Second, 10*time.Millisecond, func() bool {
				st.mu.Lock()
				defer st.mu.Unlock()
				return len(st.batches) > 0
			}) {
				t.Fatal("nothing committed")
			}
			if tc.correlation {
				waitUntil(20*time.Second, 10*time.Millisecond, func() bool { n, _ := st.correlationSignals(); return n > 0 })
			} else {
				time.Sleep(300 * time.Millisecond) // time for a correlation batch to follow, were there one
			}
			stop()
			byType := map[string][]string{}
			st.mu.Lock()
			for _, bt := range st.batches {
				for _, s := range bt.Signals {
					if !slices.Contains(byType[s.Type], s.Rule.Title) {
						byType[s.Type] = append(byType[s.Type], s.Rule.Title)
					}
				}
			}
			st.mu.Unlock()
			if !slices.Contains(byType["signature"], "Windows Logon Failure") {
				t.Errorf("tier %s: signature alerts %v, want Windows Logon Failure", tc.tier, byType["signature"])
			}
			gotBF := slices.Contains(byType["correlation"], "RDP/Windows Logon Brute Force")
			switch {
			case tc.correlation && !gotBF:
				t.Errorf("standard: correlation alerts %v, want RDP/Windows Logon Brute Force", byType["correlation"])
			case !tc.correlation && len(byType["correlation"]) > 0:
				t.Errorf("free: correlation alerts %v, want none", byType["correlation"])
			}
		})
	}
}

// TestPackAnalyticsAreCorrelations: the analytics the standard tier adds
// (brute force, password spraying, credential stuffing, scans, bursts) are
// correlation rules in vigil's pack, so the free tier's gate on
// correlations covers them; no per-event rule of the pack claims one of
// those names.
func TestPackAnalyticsAreCorrelations(t *testing.T) {
	rs := packRules(t)
	analytic := func(title string) bool {
		for _, w := range []string{"Brute Force", "Password Spraying", "Credential Stuffing", "Password Guessing", "Burst", "Probing", "Many Distinct"} {
			if strings.Contains(title, w) {
				return true
			}
		}
		return false
	}
	n := 0
	for _, c := range rs.corr.list {
		if analytic(c.Title) {
			n++
		}
	}
	if n < 10 {
		t.Errorf("%d analytics among the pack's correlations, want the brute-force and scan families (10 or more)", n)
	}
	for _, r := range rs.Engine.Rules() {
		if analytic(r.Title) && r.Level != "informational" {
			t.Errorf("per-event rule %q (%s) is named as an analytic but would run in the free tier", r.Title, r.File)
		}
	}
}
