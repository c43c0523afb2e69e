package incident

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
)

var fuzzTypes = [...]string{alert.EntityIP, alert.EntityHost, alert.EntityAccount, alert.EntityProcess, alert.EntityFile,
	alert.EntityURL, alert.EntityDatabase, alert.EntityApplication, alert.EntityCloudResource, alert.EntityHash, "other"}

// FuzzCorrelatorAdd feeds entity values of every type through the
// identifier parsing (addresses, accounts, hosts, paths) and checks what
// must hold whatever they are: an alert added again is an update of its
// incident, not a second placement; entities stay bounded; tactics stay
// in kill-chain order; the title parses back into its lead and entity.
func FuzzCorrelatorAdd(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "10.0.0.1", "::ffff:192.0.2.1", "[2001:db8::1]:22", "fe80::1%eth0",
		`CORP\Administrator`, "alice@corp.example", `nt authority\system`, "@", `\`, "web-01.", `C:\Windows\x.exe`,
		`\\srv\share`, "-", "", " on x and 3 more alerts", "100.64.1.1", "0.0.0.0"} {
		f.Add(uint8(0), s, "initial-access", "rule and 2 more alerts")
		f.Add(uint8(2), s, "impact", "t")
	}
	f.Fuzz(func(t *testing.T, typ uint8, value, tactic, ruleTitle string) {
		c := NewCorrelator(CorrelationConfig{}, ids())
		mkA := func(id string, typ uint8, v string) *alert.Alert {
			return &alert.Alert{ID: id, Workspace: "w", Type: "signature", Rule: alert.RuleRef{ID: "r", Title: ruleTitle},
				Tactics: []string{tactic, "execution"}, FirstSeen: t0, LastSeen: t0,
				Entities: []alert.Entity{{Type: fuzzTypes[int(typ)%len(fuzzTypes)], Value: v}, {Type: alert.EntityHost, Value: v}}}
		}
		a := mkA("a1", typ, value)
		u1 := c.Add(a, t0)
		u2 := c.Add(a, t0)
		if u1.Incident.ID == "" || u2.Incident.ID != u1.Incident.ID || u2.AlertID != "" || u2.Incident.AlertCount != 1 {
			t.Fatalf("the same alert twice: %+v then %+v", u1, u2)
		}
		u3 := c.Add(mkA("a2", typ+1, strings.ToUpper(value)), t0)
		if u3.Incident.AlertCount > 2 || len(u3.Incident.Entities) > MaxEntities {
			t.Fatalf("bounds: %+v", u3.Incident)
		}
		if !slices.IsSortedFunc(u3.Incident.Tactics, func(x, y string) int { return TacticRank(x) - TacticRank(y) }) {
			t.Fatalf("tactics out of order: %v", u3.Incident.Tactics)
		}
		inc := u3.Incident
		lead, main := parseTitle(inc.Title, inc.AlertCount, inc.Entities)
		if title(lead, inc.AlertCount, main) != inc.Title {
			t.Fatalf("title %q parses into %q, %q, which gives %q", inc.Title, lead, main, title(lead, inc.AlertCount, main))
		}
	})
}
