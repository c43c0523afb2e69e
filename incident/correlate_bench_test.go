package incident

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// benchAlert makes a realistic alert: a public or private source address,
// a host, often an account (some of them common), sometimes a process,
// database, URL or cloud resource, drawn from pools the size of a mid-size
// estate under attack from many addresses.
func benchAlert(r *rand.Rand, i int, at time.Time) *alert.Alert {
	a := &alert.Alert{
		ID: fmt.Sprintf("al-%d", i), Workspace: fmt.Sprintf("ws-%d", r.IntN(4)), Type: "signature",
		Rule:     alert.RuleRef{ID: fmt.Sprintf("rule-%d", r.IntN(300)), Title: fmt.Sprintf("Rule %d", r.IntN(300))},
		Severity: alert.Severity(r.IntN(5)), Priority: r.IntN(80),
		Tactics:   []string{killChain[r.IntN(len(killChain))]},
		FirstSeen: at, LastSeen: at.Add(time.Duration(r.IntN(600)) * time.Second),
	}
	if r.IntN(3) == 0 {
		a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityIP, Value: fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(16), r.IntN(250))})
	} else {
		a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityIP, Value: fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(200), r.IntN(250), r.IntN(250), 1+r.IntN(250))})
	}
	a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityHost, Value: fmt.Sprintf("host-%d", r.IntN(5000))})
	if r.IntN(2) == 0 {
		if r.IntN(4) == 0 {
			a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityAccount, Value: DefaultCommonAccounts[r.IntN(6)]})
		} else {
			a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityAccount, Value: fmt.Sprintf(`CORP\user%d`, r.IntN(3000))})
		}
	}
	switch r.IntN(5) {
	case 0:
		a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityProcess, Value: fmt.Sprintf(`C:\Windows\System32\p%d.exe`, r.IntN(200))})
	case 1:
		a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityDatabase, Value: fmt.Sprintf("db-%d", r.IntN(300))})
	case 2:
		a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityURL, Value: fmt.Sprintf("/app/%d?id=1'--", r.IntN(100000))})
	case 3:
		a.Entities = append(a.Entities, alert.Entity{Type: alert.EntityCloudResource, Value: fmt.Sprintf("arn:aws:iam::1:role/r%d", r.IntN(500))})
	}
	return a
}

// BenchmarkCorrelator measures Add with 100,000 open alerts held (the
// incidents they formed, their entities indexed), as a server holds them
// after its warm-up: alerts/s is the rate correlation sustains.
func BenchmarkCorrelator(b *testing.B) {
	const open = 100_000
	r := rand.New(rand.NewPCG(1, 2))
	n := 0
	c := NewCorrelator(CorrelationConfig{}, func() string { n++; return fmt.Sprintf("inc-%d", n) })
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(13 * time.Hour)
	// 100,000 alerts over 12 hours of event time: all within the window.
	for i := range open {
		c.Add(benchAlert(r, i, start.Add(time.Duration(i)*12*time.Hour/open)), now)
	}
	held := c.Len()
	alerts := make([]*alert.Alert, 1<<14)
	for i := range alerts {
		alerts[i] = benchAlert(r, open+i, start.Add(12*time.Hour+time.Duration(i)*time.Millisecond))
	}
	b.ResetTimer()
	cpu0, cpuOK := cpuTime()
	i := 0
	for b.Loop() {
		a := alerts[i%len(alerts)]
		if i >= len(alerts) {
			// A fresh id: placed as a new alert, not an update.
			cp := *a
			cp.ID = fmt.Sprintf("al-x%d", i)
			a = &cp
		}
		c.Add(a, now)
		i++
	}
	if cpu1, ok := cpuTime(); ok && cpuOK {
		// With GC's work, on whatever cores it ran: alerts a CPU-second.
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "alerts/cpu-s")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
	b.ReportMetric(float64(held), "incidents")
}
