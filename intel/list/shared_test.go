package list

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// ipListsDir is ../shared/data/threat_intel/ip_lists from the repository
// root (FireHOL snapshots of Feodo, Tor exits and DShield; not copied
// into the repository).
var ipListsDir = filepath.Join("..", "..", "..", "shared", "data", "threat_intel", "ip_lists")

type sharedList struct {
	file    string
	format  Format
	entries int // what the file's own "Entries" header says
	kind    intel.Kind
	threat  string
}

var sharedLists = []sharedList{
	{"feodo.ipset", FormatIP, 235, intel.KindIP, intel.ThreatMalware},
	{"tor_exits.ipset", FormatTor, 977, intel.KindIP, intel.ThreatTorExit},
	{"dshield.netset", FormatIP, 20, intel.KindCIDR, intel.ThreatScanner},
}

func loadShared(t *testing.T, validUntil time.Time) (map[string][]intel.Indicator, *intel.Set) {
	t.Helper()
	if _, err := os.Stat(ipListsDir); err != nil {
		t.Skipf("shared IP lists not found at %s (they live outside the repository): %v", ipListsDir, err)
	}
	got := map[string][]intel.Indicator{}
	set := new(intel.Set)
	for _, l := range sharedLists {
		f, err := os.Open(filepath.Join(ipListsDir, l.file))
		if err != nil {
			t.Fatal(err)
		}
		var probs []intel.Problem
		p := Parser{Format: l.format, Options: Options{ValidUntil: validUntil}}
		inds, err := p.Parse(f, l.file, func(pr intel.Problem) { probs = append(probs, pr) })
		f.Close()
		if err != nil || len(probs) != 0 {
			t.Fatalf("%s: %v, problems %v", l.file, err, probs)
		}
		got[l.file] = inds
		// Replace keeps its own copy; inds stays the test's oracle.
		if err := set.Replace(l.file, slices.Clone(inds)); err != nil {
			t.Fatal(err)
		}
	}
	return got, set
}

// TestSharedIPListsImport reads the three snapshots: every data line is
// one indicator, as many as each file's header announces, of the kind
// and threat type its format and FireHOL category give.
func TestSharedIPListsImport(t *testing.T) {
	got, _ := loadShared(t, time.Time{})
	for _, l := range sharedLists {
		inds := got[l.file]
		t.Logf("%s: %d indicators (%s)", l.file, len(inds), l.kind)
		if len(inds) != l.entries {
			t.Errorf("%s: %d indicators, the file lists %d", l.file, len(inds), l.entries)
		}
		for _, ind := range inds {
			if ind.Kind != l.kind || ind.ThreatType != l.threat || ind.LastSeen.IsZero() || ind.LastSeen.Year() != 2015 {
				t.Errorf("%s: %+v", l.file, ind)
				break
			}
		}
	}
}

// TestSharedIPListsMatchExactlyWhatTheyList is the "Done when" at
// the Set's level: with the lists loaded, every listed address and the
// first and last address of every listed range match (each to its own
// list), the addresses just outside them match only if another entry
// lists them, and nothing matches once the indicators have expired.
func TestSharedIPListsMatchExactlyWhatTheyList(t *testing.T) {
	now := time.Date(2015, 12, 1, 0, 0, 0, 0, time.UTC)
	lists, set := loadShared(t, now.Add(24*time.Hour))
	type entry struct {
		feed string
		p    netip.Prefix
	}
	var all []entry
	for file, inds := range lists {
		for _, ind := range inds {
			p, err := netip.ParsePrefix(ind.Value)
			if ind.Kind == intel.KindIP {
				a := netip.MustParseAddr(ind.Value)
				p, err = a.Prefix(a.BitLen())
			}
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, entry{file, p})
		}
	}
	// oracle: the lists an address is in, by definition.
	oracle := func(a netip.Addr) []string {
		var feeds []string
		for _, e := range all {
			if e.p.Contains(a) {
				feeds = append(feeds, e.feed)
			}
		}
		slices.Sort(feeds)
		return feeds
	}
	matched := func(a netip.Addr, at time.Time) []string {
		var feeds []string
		for _, ind := range set.MatchIP(a, at, nil) {
			feeds = append(feeds, ind.Feed)
		}
		slices.Sort(feeds)
		return feeds
	}
	var probes []netip.Addr
	for _, e := range all {
		first := e.p.Addr()
		last := first
		for i := 0; i < 1<<(first.BitLen()-e.p.Bits())-1; i++ {
			last = last.Next()
		}
		probes = append(probes, first, last, first.Prev(), last.Next())
	}
	inside, outside := 0, 0
	for _, a := range probes {
		want := oracle(a)
		if got := matched(a, now); !slices.Equal(got, want) {
			t.Errorf("%s: matched %v, listed in %v", a, got, want)
		}
		if len(want) > 0 {
			inside++
		} else {
			outside++
		}
		if got := matched(a, now.Add(48*time.Hour)); len(got) != 0 {
			t.Errorf("%s: matched %v after the indicators expired", a, got)
		}
	}
	for _, e := range all {
		if !slices.Contains(oracle(e.p.Addr()), e.feed) {
			t.Fatalf("oracle broken for %v", e)
		}
	}
	if inside < 1232 || outside == 0 {
		t.Errorf("probed %d listed and %d unlisted addresses", inside, outside)
	}
	t.Logf("probed %d listed and %d unlisted addresses; %d indicators loaded", inside, outside, set.Len())
}
