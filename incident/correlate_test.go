package incident

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func ids() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("inc-%d", n) }
}

// mk makes an alert of rule title at t0+at with entities given as
// "type=value".
func mk(id, title string, sev alert.Severity, at time.Duration, tactics []string, ents ...string) *alert.Alert {
	a := &alert.Alert{ID: id, Workspace: "acme", Type: "signature", Rule: alert.RuleRef{ID: strings.ReplaceAll(strings.ToLower(title), " ", "_"), Title: title},
		Severity: sev, Tactics: tactics, FirstSeen: t0.Add(at), LastSeen: t0.Add(at + time.Minute), Priority: 10 * int(sev)}
	for _, e := range ents {
		typ, v, _ := strings.Cut(e, "=")
		a.Entities = append(a.Entities, alert.Entity{Type: typ, Value: v})
	}
	return a
}

func TestCorrelatorPublicAttackerGlues(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{}, ids())
	now := t0.Add(time.Hour)
	u1 := c.Add(mk("a1", "Port scan", alert.Low, 0, []string{"discovery"}, "ip=203.0.113.7", "ip=10.0.0.5"), now)
	u2 := c.Add(mk("a2", "SSH brute force", alert.Medium, 10*time.Minute, []string{"credential-access"}, "ip=203.0.113.7", "host=web-01", "account=root"), now)
	u3 := c.Add(mk("a3", "SQL injection", alert.High, 30*time.Minute, []string{"initial-access"}, "ip=203.0.113.7", "database=shop"), now)
	if !u1.New || u2.New || u3.New {
		t.Fatalf("new flags %v %v %v, want only the first new", u1.New, u2.New, u3.New)
	}
	if u1.Incident.ID != u2.Incident.ID || u2.Incident.ID != u3.Incident.ID {
		t.Fatalf("incidents %s %s %s, want one", u1.Incident.ID, u2.Incident.ID, u3.Incident.ID)
	}
	inc := u3.Incident
	if inc.AlertCount != 3 || inc.Severity != alert.High {
		t.Errorf("count %d severity %s, want 3 high", inc.AlertCount, inc.Severity)
	}
	if want := []string{"initial-access", "credential-access", "discovery"}; !reflect.DeepEqual(inc.Tactics, want) {
		t.Errorf("tactics %v, want %v", inc.Tactics, want)
	}
	if want := "SQL injection and 2 more alerts on shop"; inc.Title != want {
		t.Errorf("title %q, want %q", inc.Title, want)
	}
	if !inc.FirstSeen.Equal(t0) || !inc.LastSeen.Equal(t0.Add(31*time.Minute)) {
		t.Errorf("span %s..%s", inc.FirstSeen, inc.LastSeen)
	}
	if len(u1.Timeline) != 2 || u1.Timeline[0].Kind != TimelineCreated || u1.Timeline[1].Kind != TimelineAlert || u1.Timeline[1].AlertID != "a1" {
		t.Errorf("first timeline %+v, want created then alert a1", u1.Timeline)
	}
	if len(u3.Timeline) != 1 || u3.Timeline[0].Summary != "SQL injection" || !u3.Timeline[0].Time.Equal(t0.Add(30*time.Minute)) || u3.Timeline[0].Actor != CorrelationActor {
		t.Errorf("third timeline %+v", u3.Timeline)
	}
	if u3.AlertID != "a3" || inc.Stage != StageDetect || inc.Status != StatusNew {
		t.Errorf("alert %q stage %s status %s", u3.AlertID, inc.Stage, inc.Status)
	}
}

func TestCorrelatorSharedNATStaysApart(t *testing.T) {
	nat := netip.MustParsePrefix("198.51.100.10/32")
	c := NewCorrelator(CorrelationConfig{SharedAddresses: []netip.Prefix{nat}}, ids())
	now := t0.Add(time.Hour)
	u1 := c.Add(mk("a1", "SSH brute force", alert.Medium, 0, nil, "ip=198.51.100.10", "host=web-01", "account=alice"), now)
	u2 := c.Add(mk("a2", "SQL injection", alert.High, time.Minute, nil, "ip=198.51.100.10", "database=billing", "account=bob"), now)
	if u1.Incident.ID == u2.Incident.ID {
		t.Fatal("two attacks through one shared NAT address became one incident")
	}
	// Without the setting, the same public address glues them.
	c = NewCorrelator(CorrelationConfig{}, ids())
	u1 = c.Add(mk("a1", "SSH brute force", alert.Medium, 0, nil, "ip=198.51.100.10", "host=web-01", "account=alice"), now)
	u2 = c.Add(mk("a2", "SQL injection", alert.High, time.Minute, nil, "ip=198.51.100.10", "database=billing", "account=bob"), now)
	if u1.Incident.ID != u2.Incident.ID {
		t.Fatal("a shared public address did not glue the alerts")
	}
}

func TestCorrelatorWeakIdentifiers(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{}, ids())
	now := t0.Add(time.Hour)
	// A private address alone does not glue.
	u1 := c.Add(mk("a1", "Encoded PowerShell", alert.High, 0, nil, "ip=10.0.0.5", "host=ws-01"), now)
	u2 := c.Add(mk("a2", "Port scan", alert.Low, time.Minute, nil, "ip=10.0.0.5", "host=ws-02"), now)
	if u1.Incident.ID == u2.Incident.ID {
		t.Fatal("a private address alone glued two alerts")
	}
	// A common account alone does not glue, in any spelling.
	u3 := c.Add(mk("a3", "Sudo", alert.Low, 2*time.Minute, nil, `account=CORP\Administrator`, "host=db-01"), now)
	u4 := c.Add(mk("a4", "Login", alert.Low, 3*time.Minute, nil, "account=administrator@corp.example", "host=db-02"), now)
	if u3.Incident.ID == u4.Incident.ID {
		t.Fatal("a common account glued two alerts")
	}
	// Two weak identifiers together do.
	u5 := c.Add(mk("a5", "Mimikatz", alert.High, 4*time.Minute, nil, "ip=10.0.0.5", "process=C:\\Tools\\m.exe"), now)
	u6 := c.Add(mk("a6", "LSASS access", alert.High, 5*time.Minute, nil, "ip=10.0.0.5", "process=c:\\tools\\M.EXE", "host=ws-09"), now)
	if u5.Incident.ID != u6.Incident.ID {
		t.Fatal("two shared weak identifiers did not glue")
	}
	// A strong account compares across domain spellings.
	u7 := c.Add(mk("a7", "Login after brute force", alert.High, 6*time.Minute, nil, `account=CORP\Alice`, "ip=192.168.1.1"), now)
	u8 := c.Add(mk("a8", "Role change", alert.High, 7*time.Minute, nil, "account=alice@corp.example", "cloud_resource=arn:aws:iam::1:role/x"), now)
	if u7.Incident.ID != u8.Incident.ID {
		t.Fatal("one account in two spellings did not glue")
	}
}

func TestCorrelatorHealthAlertsIgnored(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{}, ids())
	a := mk("h1", "Source silent", alert.Medium, 0, nil, "host=web-01")
	a.Type = "health"
	if u := c.Add(a, t0); u.Incident.ID != "" || c.Len() != 0 {
		t.Fatalf("a health alert made incident %q", u.Incident.ID)
	}
}

func TestCorrelatorWindow(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{Window: time.Hour}, ids())
	now := t0.Add(4 * time.Hour)
	u1 := c.Add(mk("a1", "SSH brute force", alert.Medium, 0, nil, "host=web-01"), now)
	u2 := c.Add(mk("a2", "Sudo", alert.Medium, 50*time.Minute, nil, "host=web-01"), now)
	u3 := c.Add(mk("a3", "Sudo", alert.Medium, 3*time.Hour, nil, "host=web-01"), now)
	if u1.Incident.ID != u2.Incident.ID {
		t.Fatal("an alert within the window did not join")
	}
	if u3.Incident.ID == u2.Incident.ID || !u3.New {
		t.Fatal("an alert past the window joined")
	}
	// The sweep drops the incident that can no longer be joined.
	c.Expire(now)
	if c.Holds("acme", u1.Incident.ID) || !c.Holds("acme", u3.Incident.ID) || c.Len() != 1 {
		t.Fatalf("after expiry: holds old %v new %v, len %d", c.Holds("acme", u1.Incident.ID), c.Holds("acme", u3.Incident.ID), c.Len())
	}
}

func TestCorrelatorReopen(t *testing.T) {
	closed := t0.Add(2 * time.Hour)
	inc := Incident{ID: "old", Workspace: "acme", Title: "SSH brute force on web-01", Stage: StageClose, Status: StatusClosed,
		Severity: alert.Medium, AlertCount: 1, FirstSeen: t0, LastSeen: t0, Closed: &closed, Classification: FalsePositive,
		Entities: []alert.Entity{{Type: "host", Value: "web-01"}}, Tactics: []string{"credential-access"}}
	for _, tc := range []struct {
		after  time.Duration
		reopen bool
	}{{71 * time.Hour, true}, {73 * time.Hour, false}} {
		c := NewCorrelator(CorrelationConfig{Window: time.Hour}, ids())
		c.Load([]Incident{inc})
		now := closed.Add(tc.after)
		u := c.Add(mk("a2", "Sudo", alert.High, tc.after+2*time.Hour, []string{"privilege-escalation"}, "host=WEB-01"), now)
		if tc.reopen {
			if u.Incident.ID != "old" || !u.Reopened || u.New || u.Incident.Stage != StageAssess || u.Incident.Closed != nil || u.Incident.Reopened != 1 {
				t.Fatalf("after %s: %+v, want old reopened into assess", tc.after, u)
			}
			if len(u.Timeline) != 2 || u.Timeline[0].Kind != TimelineReopened || u.Timeline[0].Actor != CorrelationActor || u.Timeline[1].Kind != TimelineAlert {
				t.Fatalf("timeline %+v", u.Timeline)
			}
			if u.Incident.Title != "Sudo and 1 more alert on WEB-01" || u.Incident.AlertCount != 2 {
				t.Errorf("title %q count %d", u.Incident.Title, u.Incident.AlertCount)
			}
		} else if u.Incident.ID == "old" || !u.New {
			t.Fatalf("after %s: joined %s, want a new incident", tc.after, u.Incident.ID)
		}
	}
}

func TestCorrelatorUpdatedAlert(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{}, ids())
	a := mk("a1", "SSH brute force", alert.Medium, 0, []string{"credential-access"}, "host=web-01")
	u1 := c.Add(a, t0)
	b := *a
	b.Severity, b.LastSeen = alert.High, t0.Add(time.Hour)
	b.Entities = append(append([]alert.Entity{}, a.Entities...), alert.Entity{Type: "ip", Value: "203.0.113.9"})
	u2 := c.Add(&b, t0)
	if u2.Incident.ID != u1.Incident.ID || u2.AlertID != "" || u2.Incident.AlertCount != 1 || len(u2.Timeline) != 0 {
		t.Fatalf("update: %+v, want the same incident, no join", u2)
	}
	if u2.Incident.Severity != alert.High || !u2.Incident.LastSeen.Equal(t0.Add(time.Hour)) || len(u2.Incident.Entities) != 2 {
		t.Errorf("aggregates not refreshed: %+v", u2.Incident)
	}
	// A bound alert (after a restart) is an update too.
	c2 := NewCorrelator(CorrelationConfig{}, ids())
	c2.Load([]Incident{u2.Incident})
	c2.Bind("acme", "a1", u2.Incident.ID)
	if u := c2.Add(&b, t0); u.AlertID != "" || u.Incident.AlertCount != 1 || u.Incident.ID != u1.Incident.ID {
		t.Fatalf("bound update: %+v", u)
	}
}

func TestCorrelatorSeverityRaisedByChain(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{}, ids())
	u := c.Add(mk("a1", "Phish", alert.Medium, 0, []string{"initial-access"}, "host=ws-01"), t0)
	u = c.Add(mk("a2", "Discovery", alert.Medium, time.Minute, []string{"discovery"}, "host=ws-01"), t0)
	if u.Incident.Severity != alert.Medium {
		t.Fatalf("severity %s before the chain, want medium", u.Incident.Severity)
	}
	p := u.Incident.Priority
	u = c.Add(mk("a3", "Exfiltration", alert.Medium, 2*time.Minute, []string{"exfiltration"}, "host=ws-01"), t0)
	if u.Incident.Severity != alert.High {
		t.Fatalf("severity %s with a chain, want high", u.Incident.Severity)
	}
	if u.Incident.Priority <= p {
		t.Errorf("priority %d did not grow with the chain (was %d)", u.Incident.Priority, p)
	}
	if want := []string{"initial-access", "discovery", "exfiltration"}; !reflect.DeepEqual(u.Incident.Tactics, want) {
		t.Errorf("tactics %v", u.Incident.Tactics)
	}
	// Critical stays critical.
	u = c.Add(mk("a4", "Ransom", alert.Critical, 3*time.Minute, []string{"impact"}, "host=ws-01"), t0)
	if u.Incident.Severity != alert.Critical {
		t.Errorf("severity %s, want critical", u.Incident.Severity)
	}
}

func TestCorrelatorPicksBestMatch(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{}, ids())
	u1 := c.Add(mk("a1", "A", alert.Low, 0, nil, "host=web-01"), t0)
	u2 := c.Add(mk("a2", "B", alert.Low, time.Minute, nil, "database=shop", "account=carol"), t0)
	if u1.Incident.ID == u2.Incident.ID {
		t.Fatal("setup: unrelated alerts glued")
	}
	u3 := c.Add(mk("a3", "C", alert.Low, 2*time.Minute, nil, "host=web-01", "database=shop", "account=carol"), t0)
	if u3.Incident.ID != u2.Incident.ID {
		t.Fatalf("joined %s, want %s which shares two strong identifiers", u3.Incident.ID, u2.Incident.ID)
	}
}

func TestCorrelatorEntitiesBounded(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{}, ids())
	var u Update
	for i := range 300 {
		u = c.Add(mk(fmt.Sprint("a", i), "Scan", alert.Low, time.Duration(i)*time.Second, nil, "host=web-01", fmt.Sprintf("url=/p/%d", i)), t0)
	}
	if len(u.Incident.Entities) != MaxEntities || u.Incident.AlertCount != 300 {
		t.Fatalf("%d entities, %d alerts; want %d and 300", len(u.Incident.Entities), u.Incident.AlertCount, MaxEntities)
	}
}

func TestCorrelatorDeterministic(t *testing.T) {
	run := func() []Incident {
		c := NewCorrelator(CorrelationConfig{}, ids())
		for i := range 200 {
			c.Add(mk(fmt.Sprint("a", i), fmt.Sprint("R", i%7), alert.Severity(i%5), time.Duration(i)*time.Minute, []string{killChain[i%len(killChain)]},
				fmt.Sprintf("host=h%d", i%13), fmt.Sprintf("ip=10.0.0.%d", i%5), fmt.Sprintf("account=u%d", i%11)), t0)
		}
		return c.Incidents()
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs over the same alerts gave different incidents")
	}
}

func TestParseTitle(t *testing.T) {
	es := []alert.Entity{{Type: "host", Value: "web-01"}}
	for _, tc := range []struct {
		in         string
		count      int
		lead, main string
	}{
		{"SSH brute force and 4 more alerts on web-01", 5, "SSH brute force", "web-01"},
		{"SSH brute force and 1 more alert", 2, "SSH brute force", ""},
		{"Logon on holiday", 1, "Logon on holiday", ""},
		{"Tom and Jerry on web-01", 1, "Tom and Jerry", "web-01"},
		// A rule title that looks like the suffix is kept whole.
		{"Scan and 2 more alerts", 1, "Scan and 2 more alerts", ""},
	} {
		lead, main := parseTitle(tc.in, tc.count, es)
		if lead != tc.lead || main != tc.main {
			t.Errorf("parseTitle(%q) = %q, %q; want %q, %q", tc.in, lead, main, tc.lead, tc.main)
		}
		if got := title(lead, tc.count, main); got != tc.in {
			t.Errorf("title(parseTitle(%q)) = %q", tc.in, got)
		}
	}
}

func TestCorrelatorFutureEventKeepsIncidents(t *testing.T) {
	c := NewCorrelator(CorrelationConfig{Window: 3 * time.Hour}, ids())
	now := t0.Add(time.Hour)
	u1 := c.Add(mk("a1", "SSH brute force", alert.Medium, 0, nil, "host=web-01"), now)
	// A source whose clock is a year ahead.
	c.Add(mk("a2", "Odd", alert.Low, 365*24*time.Hour, nil, "host=far-01"), now)
	c.Expire(now)
	u3 := c.Add(mk("a3", "Sudo", alert.Medium, 30*time.Minute, nil, "host=web-01"), now)
	if u3.Incident.ID != u1.Incident.ID {
		t.Fatal("an event dated a year ahead expired the open incidents")
	}
}
