package suppress

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func ev(fields map[int]string) *event.Event {
	e := &event.Event{}
	for id, v := range fields {
		e.Common[id] = v
	}
	return e
}

func TestValidate(t *testing.T) {
	bad := []struct {
		s    Suppression
		want string
	}{
		{Suppression{CIDR: "10.0.0.0/8"}, "reason is required"},
		{Suppression{Reason: "x"}, "matches nothing"},
		{Suppression{Reason: "x", Field: "no.such.field", Value: "v"}, "not a common event field"},
		{Suppression{Reason: "x", Field: "user.name"}, "either a value or a cidr"},
		{Suppression{Reason: "x", Field: "source.ip", Value: "1.2.3.4", CIDR: "1.2.3.0/24"}, "either a value or a cidr"},
		{Suppression{Reason: "x", Value: "v"}, "without a field"},
		{Suppression{Reason: "x", CIDR: "10.0.0.300/8"}, "cidr"},
		{Suppression{Reason: "x", Entity: &alert.Entity{Type: "planet", Value: "mars"}}, "entity type"},
		{Suppression{Reason: "x", Entity: &alert.Entity{Type: "ip"}}, "type and a value"},
	}
	for _, c := range bad {
		err := c.s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error saying %q", c.s, err, c.want)
		}
	}
	s := Suppression{Reason: " scanner ", CIDR: "10.1.2.3/8"}
	if err := s.Validate(); err != nil || s.CIDR != "10.0.0.0/8" || s.Reason != "scanner" {
		t.Errorf("normalised to %+v, %v", s, err)
	}
	s = Suppression{Reason: "x", CIDR: "192.0.2.7"}
	if err := s.Validate(); err != nil || s.CIDR != "192.0.2.7/32" {
		t.Errorf("bare address: %+v, %v", s, err)
	}
}

func TestMatch(t *testing.T) {
	exp := now.Add(-time.Minute)
	list := []Suppression{
		{ID: "scanner-net", CIDR: "198.51.100.0/24", Reason: "our scanner"},
		{ID: "svc-on-rule", Rule: "r-brute", Entity: &alert.Entity{Type: "account", Value: "SVC_Backup"}, Reason: "backup job"},
		{ID: "field-value", Field: "process.executable", Value: "/usr/bin/updatedb", Reason: "cron"},
		{ID: "field-cidr", Field: "destination.ip", CIDR: "10.9.0.0/16", Reason: "lab"},
		{ID: "expired", Rule: "r-old", Reason: "was noisy", Expires: &exp},
		{ID: "mute", Rule: "r-mute", Reason: "being rewritten"},
	}
	set, errs := NewSet(list)
	if len(errs) > 0 || set.Len() != len(list) {
		t.Fatalf("NewSet: %d, %v", set.Len(), errs)
	}
	ip := func(v string) alert.Entity { return alert.Entity{Type: "ip", Value: v} }
	acct := func(v string) alert.Entity { return alert.Entity{Type: "account", Value: v} }
	cases := []struct {
		name string
		rule string
		ents []alert.Entity
		ev   *event.Event
		want string
	}{
		{"address in the network", "r-any", []alert.Entity{ip("198.51.100.23")}, nil, "scanner-net"},
		{"mapped address in the network", "r-any", []alert.Entity{ip("::ffff:198.51.100.23")}, nil, "scanner-net"},
		{"address outside", "r-any", []alert.Entity{ip("198.51.101.23")}, nil, ""},
		{"account entity on its rule, other case", "r-brute", []alert.Entity{acct("svc_backup")}, nil, "svc-on-rule"},
		{"account entity on another rule", "r-other", []alert.Entity{acct("svc_backup")}, nil, ""},
		{"field value", "r-x", nil, ev(map[int]string{event.ProcessExecutable: "/usr/bin/updatedb"}), "field-value"},
		{"field value differs", "r-x", nil, ev(map[int]string{event.ProcessExecutable: "/usr/bin/updatedb2"}), ""},
		{"field value without an event", "r-x", nil, nil, ""},
		{"field in network", "r-x", nil, ev(map[int]string{event.DestinationIP: "10.9.3.4"}), "field-cidr"},
		{"other field in network", "r-x", nil, ev(map[int]string{event.SourceIP: "10.9.3.4"}), ""},
		{"expired", "r-old", nil, nil, ""},
		{"muted rule", "r-mute", []alert.Entity{ip("203.0.113.1")}, nil, "mute"},
	}
	for _, c := range cases {
		got := set.Match(c.rule, c.ents, c.ev, now)
		id := ""
		if got != nil {
			id = got.ID
		}
		if id != c.want {
			t.Errorf("%s: matched %q, want %q", c.name, id, c.want)
		}
	}
	// Before its expiry the expired one applied.
	if got := set.Match("r-old", nil, nil, exp.Add(-time.Second)); got == nil || got.ID != "expired" {
		t.Errorf("before expiry: %v", got)
	}
	var none *Set
	if none.Match("r", nil, nil, now) != nil || none.Len() != 0 {
		t.Error("a nil set matched")
	}
}

func TestNewSetLeavesOutInvalid(t *testing.T) {
	set, errs := NewSet([]Suppression{{ID: "bad"}, {ID: "ok", Rule: "r", Reason: "x"}})
	if set.Len() != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "bad") {
		t.Fatalf("len %d, errs %v", set.Len(), errs)
	}
}

func TestTally(t *testing.T) {
	var tl Tally
	a, b := &Suppression{ID: "a"}, &Suppression{ID: "b"}
	tl.Add(a, "r1", now)
	tl.Add(a, "r1", now.Add(time.Hour))
	tl.Add(a, "r2", now)
	tl.Add(b, "r1", now)
	if len(tl.Hits) != 3 || tl.Hits[0].Count != 2 || !tl.Hits[0].Last.Equal(now.Add(time.Hour)) || tl.Hits[1].Rule != "r2" {
		t.Fatalf("hits %+v", tl.Hits)
	}
	kept := tl.Hits
	tl.Reset()
	tl.Add(b, "r1", now)
	if len(kept) != 3 || kept[0].Count != 2 || len(tl.Hits) != 1 {
		t.Fatalf("reset reused the handed-on hits: %+v / %+v", kept, tl.Hits)
	}
}

func TestParseFile(t *testing.T) {
	doc := `
suppressions:
  - cidr: 198.51.100.0/24
    reason: vulnerability scanner
    author: secops
    expires: 2027-01-01
  - rule: r-brute
    entity: {type: account, value: svc_backup}
    reason: backup job
`
	list, err := Parse([]byte(doc), "noise.yml", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "noise.yml#1" || list[0].Expires == nil || list[0].Expires.Year() != 2027 ||
		list[1].Entity == nil || list[1].Entity.Value != "svc_backup" || list[0].Author != "secops" {
		t.Fatalf("parsed %+v", list)
	}
	for _, bad := range []string{
		"suppressions:\n  - cidr: 10.0.0.0/8\n",                                 // no reason
		"suppressions:\n  - cidr: 10.0.0.0/8\n    reason: x\n    colour: red\n", // unknown key
		"suppressions:\n  - cidr: 10.0.0.0/8\n    reason: x\n    expires: soon\n",
	} {
		if _, err := Parse([]byte(bad), "f", now); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestMatchFirstWins: whatever index finds them, the suppression listed
// first is credited; addresses meet in their canonical form.
func TestMatchFirstWins(t *testing.T) {
	set, errs := NewSet([]Suppression{
		{ID: "net", CIDR: "203.0.113.0/24", Reason: "x"},
		{ID: "rule-ip", Rule: "r", Entity: &alert.Entity{Type: "ip", Value: "::ffff:203.0.113.5"}, Reason: "x"},
		{ID: "ip", Entity: &alert.Entity{Type: "ip", Value: "203.0.113.5"}, Reason: "x"},
		{ID: "user", Field: "user.name", Value: "bob", Reason: "x"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ip := []alert.Entity{{Type: "ip", Value: "203.0.113.5"}}
	if got := set.Match("r", ip, nil, now); got == nil || got.ID != "net" {
		t.Errorf("matched %v, want the first listed (net)", got)
	}
	set, _ = NewSet([]Suppression{
		{ID: "user", Field: "user.name", Value: "bob", Reason: "x"},
		{ID: "rule-ip", Rule: "r", Entity: &alert.Entity{Type: "ip", Value: "::ffff:203.0.113.5"}, Reason: "x"},
	})
	if got := set.Match("r", ip, nil, now); got == nil || got.ID != "rule-ip" {
		t.Errorf("mapped address: matched %v, want rule-ip", got)
	}
	if got := set.Match("r", ip, ev(map[int]string{event.UserName: "bob"}), now); got == nil || got.ID != "user" {
		t.Errorf("matched %v, want user (listed first)", got)
	}
}

// TestManyNetworks: networks of every length are found among thousands,
// IPv4 and IPv6 apart.
func TestManyNetworks(t *testing.T) {
	var list []Suppression
	for i := 0; i < 2000; i++ {
		list = append(list, Suppression{ID: fmt.Sprintf("n%d", i), CIDR: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), Reason: "x"})
	}
	list = append(list,
		Suppression{ID: "wide", CIDR: "172.16.0.0/12", Reason: "x"},
		Suppression{ID: "host", CIDR: "192.0.2.77", Reason: "x"},
		Suppression{ID: "v6", CIDR: "2001:db8::/32", Reason: "x"},
		Suppression{ID: "v6-short", CIDR: "a00::/8", Reason: "x"}) // 10.0.0.0/8's bits, of the other family
	set, errs := NewSet(list)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for addr, want := range map[string]string{
		"10.7.208.9":      "", // 7*256+208 = 2000: past the last listed
		"10.7.207.9":      "n1999",
		"10.0.0.1":        "n0",
		"172.31.255.1":    "wide",
		"172.32.0.1":      "",
		"192.0.2.77":      "host",
		"192.0.2.78":      "",
		"2001:db8:1::5":   "v6",
		"::ffff:10.0.1.2": "n1",
		"0a00:0000::1":    "v6-short",
		"11.0.0.1":        "",
		"2001:db9::1":     "",
	} {
		got := set.Match("r", []alert.Entity{{Type: alert.EntityIP, Value: addr}}, nil, now)
		id := ""
		if got != nil {
			id = got.ID
		}
		if id != want {
			t.Errorf("%s: matched %q, want %q", addr, id, want)
		}
	}
}
