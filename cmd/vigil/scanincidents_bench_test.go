package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// BenchmarkGroupIncidents measures what `vigil scan --incidents` adds to a
// scan before the assessment: the intent estimate and the correlation of
// 20,000 alerts — 2,000 attackers' public addresses, each with ten alerts
// on one of 500 hosts and accounts, and a shared NAT address in one alert
// of five.
func BenchmarkGroupIncidents(b *testing.B) {
	const attackers, perAttacker = 2000, 10
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	titles := []string{"SSH Brute Force", "SSH Login After Brute Force", "Root Shell Opened through sudo", "Potential SQL Injection", "Vertical Port Scan"}
	tactics := [][]string{{"credential-access"}, {"credential-access", "initial-access"}, {"privilege-escalation"}, {"initial-access"}, {"discovery", "reconnaissance"}}
	make20k := func() []*alert.Alert {
		as := make([]*alert.Alert, 0, attackers*perAttacker)
		for i := range attackers {
			ip := fmt.Sprintf("%d.%d.%d.%d", 23+i%150, (i/150)%250, i%251, 1+i%253)
			for j := range perAttacker {
				at := t0.Add(time.Duration(i)*37*time.Second + time.Duration(j)*time.Minute)
				ents := []alert.Entity{{Type: alert.EntityIP, Value: ip}, {Type: alert.EntityHost, Value: fmt.Sprintf("host-%d", i%500)},
					{Type: alert.EntityAccount, Value: fmt.Sprintf("user%d", i%500)}}
				if j%5 == 4 {
					ents[0].Value = "198.51.100.25"
				}
				k := j % len(titles)
				as = append(as, &alert.Alert{ID: fmt.Sprintf("a%d-%d", i, j), Workspace: "scan", Type: "signature", Severity: alert.Severity(1 + k%3),
					Rule: alert.RuleRef{ID: titles[k], Title: titles[k]}, Entities: ents, Tactics: tactics[k], Techniques: []string{},
					FirstSeen: at, LastSeen: at.Add(30 * time.Second), Count: 3, Origin: &alert.Origin{IP: ents[0].Value}})
			}
		}
		return as
	}
	c := Config{IncidentSharedAddresses: []string{"198.51.100.25"}}
	cfg, err := c.incidentConfig()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var incs []*scanIncident
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		as := make20k()
		b.StartTimer()
		incs = groupIncidents(as, cfg, now)
	}
	b.ReportMetric(float64(attackers*perAttacker*b.N)/b.Elapsed().Seconds(), "alerts/s")
	b.ReportMetric(float64(len(incs)), "incidents")
	_ = incident.DefaultWindow
}
