// Package assets is the asset enricher: a workspace's inventory of hosts,
// networks, accounts, databases and cloud resources, each with its
// criticality, owner, environment and tags, and the lookup that tells
// which of them an event touches. The inventory comes from a YAML or JSON
// file (Load) or from any other source that gives []Asset (NewInventory).
package assets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// Asset types.
const (
	TypeHost          = "host"
	TypeNetwork       = "network"
	TypeAccount       = "account"
	TypeDatabase      = "database"
	TypeCloudResource = "cloud_resource"
)

// Criticalities, lowest first.
var criticalities = []string{"low", "medium", "high", "critical"}

// Asset is one inventory entry as the file holds it.
type Asset struct {
	Name string `yaml:"name" json:"name"`
	Type string `yaml:"type" json:"type"`
	// Match lists what else identifies the asset: a host's other names and
	// its addresses, a network's CIDR ranges, an account's other names, a
	// cloud resource's account or resource ids. The name always matches
	// (a network's name too, when it is a CIDR).
	Match       []string `yaml:"match" json:"match,omitempty"`
	Criticality string   `yaml:"criticality" json:"criticality,omitempty"`
	Owner       string   `yaml:"owner" json:"owner,omitempty"`
	Environment string   `yaml:"environment" json:"environment,omitempty"`
	Tags        []string `yaml:"tags" json:"tags,omitempty"`
}

// file is the inventory file: {assets: [...]}.
type file struct {
	Assets []Asset `yaml:"assets" json:"assets"`
}

// Load reads an inventory file, YAML or JSON (JSON is YAML).
func Load(path string) (*Inventory, error) {
	list, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	inv, err := NewInventory(list)
	if err != nil {
		return nil, fmt.Errorf("assets file %s: %w", path, err)
	}
	return inv, nil
}

// ReadFile reads an inventory file's assets, unchecked (NewInventory
// checks them), so that they can be joined with others first.
func ReadFile(path string) ([]Asset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("assets file: %w", err)
	}
	list, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("assets file %s: %w", path, err)
	}
	return list, nil
}

// Parse reads an inventory document.
func Parse(b []byte) (*Inventory, error) {
	list, err := decode(b)
	if err != nil {
		return nil, err
	}
	return NewInventory(list)
}

func decode(b []byte) ([]Asset, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return f.Assets, nil
}

// Inventory is a checked list of assets with its lookup tables. It is
// read-only once built.
type Inventory struct {
	list     []enrich.Asset
	hosts    map[string]int // lowercased name (and short name) → index
	accounts map[string]int
	dbs      map[string]int
	clouds   map[string]int
	addrs    map[netip.Addr]int // a host's own addresses
	nets     []netBucket        // networks by prefix length, longest first
}

type netBucket struct {
	bits int
	m    map[netip.Prefix]int
}

// NewInventory checks list and builds its lookup tables. Every problem is
// reported with the asset's position and name.
func NewInventory(list []Asset) (*Inventory, error) {
	inv := &Inventory{
		hosts: map[string]int{}, accounts: map[string]int{}, dbs: map[string]int{}, clouds: map[string]int{},
		addrs: map[netip.Addr]int{},
	}
	nets := map[int]map[netip.Prefix]int{}
	var errs []error
	for n, a := range list {
		where := fmt.Sprintf("asset %d (%s)", n+1, a.Name)
		if a.Name == "" {
			errs = append(errs, fmt.Errorf("asset %d: no name", n+1))
			continue
		}
		a.Criticality = strings.ToLower(a.Criticality)
		if a.Criticality != "" && !slices.Contains(criticalities, a.Criticality) {
			errs = append(errs, fmt.Errorf("%s: criticality %q: want low, medium, high or critical", where, a.Criticality))
			continue
		}
		i := len(inv.list)
		keys := append([]string{a.Name}, a.Match...)
		bad := false
		switch a.Type {
		case TypeHost:
			for _, k := range keys {
				if ad, err := netip.ParseAddr(k); err == nil {
					inv.addrs[ad.Unmap()] = i
					continue
				}
				k = strings.ToLower(k)
				inv.hosts[k] = i
				if short, _, ok := strings.Cut(k, "."); ok {
					if _, taken := inv.hosts[short]; !taken {
						inv.hosts[short] = i
					}
				}
			}
		case TypeNetwork:
			for j, k := range keys {
				p, err := netip.ParsePrefix(k)
				if err != nil {
					if j == 0 && len(keys) > 1 {
						continue // a name that is not a range, with ranges under match
					}
					errs = append(errs, fmt.Errorf("%s: %q is not a CIDR range", where, k))
					bad = true
					continue
				}
				p = p.Masked()
				if nets[p.Bits()] == nil {
					nets[p.Bits()] = map[netip.Prefix]int{}
				}
				nets[p.Bits()][p] = i
			}
		case TypeAccount:
			for _, k := range keys {
				inv.accounts[strings.ToLower(k)] = i
			}
		case TypeDatabase:
			for _, k := range keys {
				inv.dbs[strings.ToLower(k)] = i
			}
		case TypeCloudResource:
			for _, k := range keys {
				inv.clouds[strings.ToLower(k)] = i
			}
		default:
			errs = append(errs, fmt.Errorf("%s: type %q: want host, network, account, database or cloud_resource", where, a.Type))
			continue
		}
		if bad {
			continue
		}
		inv.list = append(inv.list, enrich.Asset{
			Name: a.Name, Type: a.Type, Criticality: a.Criticality, Owner: a.Owner, Environment: a.Environment, Tags: a.Tags,
		})
	}
	for bits, m := range nets {
		inv.nets = append(inv.nets, netBucket{bits: bits, m: m})
	}
	slices.SortFunc(inv.nets, func(a, b netBucket) int { return b.bits - a.bits })
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return inv, nil
}

// Len returns the number of assets.
func (inv *Inventory) Len() int { return len(inv.list) }

// network returns the most specific network holding a.
func (inv *Inventory) network(a netip.Addr) (int, bool) {
	for _, b := range inv.nets {
		if b.bits > a.BitLen() {
			continue
		}
		p, err := a.Prefix(b.bits)
		if err != nil {
			continue
		}
		if i, ok := b.m[p]; ok {
			return i, true
		}
	}
	return 0, false
}

// Enricher fills the asset fields of events from an Inventory, which can
// be replaced while events flow.
type Enricher struct {
	inv atomic.Pointer[Inventory]
}

// New returns an Enricher over inv.
func New(inv *Inventory) *Enricher {
	e := &Enricher{}
	e.Set(inv)
	return e
}

// Set replaces the inventory.
func (e *Enricher) Set(inv *Inventory) { e.inv.Store(inv) }

var fields = []string{"asset.name", "asset.type", "asset.criticality", "asset.owner", "asset.environment", "asset.tags"}

// Fields implements enrich.Enricher.
func (e *Enricher) Fields() []string { return fields }

// Enrich implements enrich.Enricher: every asset the event names goes to
// out.Assets (once each), the most critical to the event's asset fields.
func (e *Enricher) Enrich(ev *event.Event, out *enrich.Result) {
	inv := e.inv.Load()
	if inv == nil || len(inv.list) == 0 {
		return
	}
	before := len(out.Assets)
	add := func(i int, field string) {
		for _, a := range out.Assets[before:] {
			if a.Name == inv.list[i].Name && a.Type == inv.list[i].Type {
				return
			}
		}
		a := inv.list[i]
		a.Field = field
		out.Assets = append(out.Assets, a)
	}
	if h := ev.Common[event.HostName]; h != "" {
		if i, ok := lookupFold(inv.hosts, h); ok {
			add(i, "host.name")
		}
	}
	for _, f := range [...]struct {
		id   int
		name string
	}{{event.HostIP, "host.ip"}, {event.SourceIP, "source.ip"}, {event.DestinationIP, "destination.ip"}} {
		v := ev.Common[f.id]
		if v == "" {
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			continue
		}
		a = a.Unmap().WithZone("")
		if i, ok := inv.addrs[a]; ok {
			add(i, f.name)
		} else if i, ok := inv.network(a); ok {
			add(i, f.name)
		}
	}
	if u := ev.Common[event.UserName]; u != "" && len(inv.accounts) > 0 {
		if i, ok := lookupFold(inv.accounts, u); ok {
			add(i, "user.name")
		} else if d := ev.Common[event.UserDomain]; d != "" {
			if i, ok := lookupFold(inv.accounts, d+`\`+u); ok {
				add(i, "user.name")
			}
		}
	}
	for _, f := range [...]struct {
		id   int
		name string
	}{{event.DBName, "db.name"}} {
		if v := ev.Common[f.id]; v != "" {
			if i, ok := lookupFold(inv.dbs, v); ok {
				add(i, f.name)
			}
		}
	}
	if v := ev.Common[event.CloudAccountID]; v != "" {
		if i, ok := lookupFold(inv.clouds, v); ok {
			add(i, "cloud.account.id")
		}
	}
	if len(out.Assets) == before {
		return
	}
	best := before
	for i := before + 1; i < len(out.Assets); i++ {
		if rank(out.Assets[i].Criticality) > rank(out.Assets[best].Criticality) {
			best = i
		}
	}
	a := out.Assets[best]
	if ev.Common[event.AssetName] == "" {
		ev.Common[event.AssetName] = a.Name
		ev.Common[event.AssetType] = a.Type
		ev.Common[event.AssetCriticality] = a.Criticality
		ev.Common[event.AssetOwner] = a.Owner
		ev.Common[event.AssetEnvironment] = a.Environment
		ev.Common[event.AssetTags] = strings.Join(a.Tags, ",")
	}
}

// Rank orders criticalities: 0 for none, 1 (low) to 4 (critical).
func Rank(c string) int { return rank(c) }

func rank(c string) int { return slices.Index(criticalities, c) + 1 }

// lookupFold looks v up in a map of lowercased keys, lowercasing only
// when v has capitals.
func lookupFold(m map[string]int, v string) (int, bool) {
	if i, ok := m[v]; ok {
		return i, true
	}
	for j := 0; j < len(v); j++ {
		if c := v[j]; c >= 'A' && c <= 'Z' {
			i, ok := m[strings.ToLower(v)]
			return i, ok
		}
	}
	return 0, false
}
