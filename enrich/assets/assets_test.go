package assets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

const inventory = `
assets:
  - name: DC01.corp.example
    type: host
    match: [10.0.0.10]
    criticality: critical
    owner: it-ops
    environment: production
    tags: [domain-controller, tier0]
  - name: office
    type: network
    match: [10.0.0.0/16, "2001:db8:1::/48"]
    criticality: low
  - name: servers
    type: network
    match: [10.0.0.0/24]
    criticality: high
  - name: 'CORP\svc-backup'
    type: account
    match: [svc-backup@corp.example]
    criticality: high
  - name: payroll
    type: database
    criticality: critical
  - name: "123456789012"
    type: cloud_resource
    environment: production
`

func enrichOne(t *testing.T, inv *Inventory, set func(c *[event.NumCommon]string)) ([]enrich.Asset, *event.Event) {
	t.Helper()
	ev := &event.Event{}
	set(&ev.Common)
	var out enrich.Result
	New(inv).Enrich(ev, &out)
	return out.Assets, ev
}

func names(as []enrich.Asset) string {
	var s []string
	for _, a := range as {
		s = append(s, a.Name+"@"+a.Field)
	}
	return strings.Join(s, " ")
}

func TestMatching(t *testing.T) {
	inv, err := Parse([]byte(inventory))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Len() != 6 {
		t.Fatalf("%d assets", inv.Len())
	}
	as, ev := enrichOne(t, inv, func(c *[event.NumCommon]string) {
		c[event.HostName] = "dc01" // short name, other case
		c[event.SourceIP] = "10.0.5.1"
		c[event.DestinationIP] = "10.0.0.77"
	})
	if got, want := names(as), `DC01.corp.example@host.name office@source.ip servers@destination.ip`; got != want {
		t.Errorf("assets %q, want %q", got, want)
	}
	if ev.Common[event.AssetName] != "DC01.corp.example" || ev.Common[event.AssetCriticality] != "critical" ||
		ev.Common[event.AssetTags] != "domain-controller,tier0" || ev.Common[event.AssetOwner] != "it-ops" {
		t.Errorf("asset fields %q %q %q", ev.Common[event.AssetName], ev.Common[event.AssetCriticality], ev.Common[event.AssetTags])
	}
	as, _ = enrichOne(t, inv, func(c *[event.NumCommon]string) { c[event.HostIP] = "10.0.0.10" })
	if got := names(as); got != "DC01.corp.example@host.ip" {
		t.Errorf("host by address: %q", got)
	}
	as, _ = enrichOne(t, inv, func(c *[event.NumCommon]string) {
		c[event.UserName], c[event.UserDomain] = "SVC-Backup", "corp"
		c[event.DBName] = "PAYROLL"
		c[event.CloudAccountID] = "123456789012"
		c[event.SourceIP] = "2001:db8:1::5"
	})
	if got, want := names(as), `office@source.ip CORP\svc-backup@user.name payroll@db.name 123456789012@cloud.account.id`; got != want {
		t.Errorf("assets %q, want %q", got, want)
	}
	as, ev = enrichOne(t, inv, func(c *[event.NumCommon]string) { c[event.SourceIP] = "8.8.8.8"; c[event.HostName] = "web01" })
	if len(as) != 0 || ev.Common[event.AssetName] != "" {
		t.Errorf("unknown host matched %q", names(as))
	}
}

func TestJSONInventory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "assets.json")
	doc := `{"assets":[{"name":"db1","type":"database","criticality":"HIGH","tags":["pci"]}]}`
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	as, _ := enrichOne(t, inv, func(c *[event.NumCommon]string) { c[event.DBName] = "db1" })
	if len(as) != 1 || as[0].Criticality != "high" {
		t.Errorf("%+v", as)
	}
}

func TestProblemsNamed(t *testing.T) {
	for doc, want := range map[string]string{
		"assets: [{name: a, type: router}]":                     `asset 1 (a): type "router"`,
		"assets: [{name: a, type: host, criticality: urgent}]":  `asset 1 (a): criticality "urgent"`,
		"assets: [{name: n, type: network, match: [10.0.0.0]}]": `asset 1 (n): "10.0.0.0" is not a CIDR range`,
		"assets: [{type: host}]":                                `asset 1: no name`,
		"assets: [{name: a, type: host, colour: red}]":          `colour`,
		"assets: [{name: a, type: host}, {name: b, type: bad}]": `asset 2 (b)`,
	} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", doc, err, want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "assets file") {
		t.Errorf("missing file: %v", err)
	}
	inv, err := Parse(nil)
	if err != nil || inv.Len() != 0 {
		t.Errorf("empty document: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(inventory))
	f.Add([]byte(`{"assets":[{"name":"x","type":"network"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := Parse(b)
		if err != nil {
			return
		}
		var ev event.Event
		ev.Common[event.SourceIP] = "10.0.0.1"
		ev.Common[event.HostName] = "x"
		var out enrich.Result
		New(inv).Enrich(&ev, &out)
	})
}
