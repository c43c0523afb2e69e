package intel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func values(inds []*Indicator) []string {
	out := make([]string, len(inds))
	for i, ind := range inds {
		out[i] = ind.Feed + ":" + ind.Value
	}
	sort.Strings(out)
	return out
}

func TestSetMatchesAddressesAndOverlappingRanges(t *testing.T) {
	var s Set
	mustReplace(t, &s, "a", []Indicator{
		{Kind: KindCIDR, Value: "10.0.0.0/8"},
		{Kind: KindCIDR, Value: "10.1.0.0/16"},
		{Kind: KindCIDR, Value: "10.1.2.0/24"},
		{Kind: KindCIDR, Value: "10.1.2.0/24", Threat: "again"}, // the same range twice
		{Kind: KindIP, Value: "10.1.2.3"},
		{Kind: KindCIDR, Value: "255.255.255.0/24"},
		{Kind: KindCIDR, Value: "2001:db8::/32"},
		{Kind: KindIP, Value: "2001:db8::1"},
		{Kind: KindCIDR, Value: "192.0.2.9/32"},
	})
	mustReplace(t, &s, "b", []Indicator{
		{Kind: KindCIDR, Value: "10.1.0.0/16"},
		{Kind: KindCIDR, Value: "::/0"},
	})
	cases := []struct {
		addr string
		want []string
	}{
		{"10.1.2.3", []string{"a:10.0.0.0/8", "a:10.1.0.0/16", "a:10.1.2.0/24", "a:10.1.2.0/24", "a:10.1.2.3", "b:10.1.0.0/16"}},
		{"10.1.2.0", []string{"a:10.0.0.0/8", "a:10.1.0.0/16", "a:10.1.2.0/24", "a:10.1.2.0/24", "b:10.1.0.0/16"}},
		{"10.1.2.255", []string{"a:10.0.0.0/8", "a:10.1.0.0/16", "a:10.1.2.0/24", "a:10.1.2.0/24", "b:10.1.0.0/16"}},
		{"10.1.3.0", []string{"a:10.0.0.0/8", "a:10.1.0.0/16", "b:10.1.0.0/16"}},
		{"10.255.255.255", []string{"a:10.0.0.0/8"}},
		{"11.0.0.0", nil},
		{"9.255.255.255", nil},
		{"255.255.255.255", []string{"a:255.255.255.0/24"}},
		{"255.255.254.255", nil},
		{"192.0.2.9", []string{"a:192.0.2.9/32"}},
		{"192.0.2.10", nil},
		{"::ffff:10.1.3.0", []string{"a:10.0.0.0/8", "a:10.1.0.0/16", "b:10.1.0.0/16"}},
		{"2001:db8::1", []string{"a:2001:db8::/32", "a:2001:db8::1", "b:::/0"}},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", []string{"a:2001:db8::/32", "b:::/0"}},
		{"2001:db9::", []string{"b:::/0"}},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"b:::/0"}},
	}
	for _, c := range cases {
		got := values(s.MatchIP(netip.MustParseAddr(c.addr), testNow, nil))
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("MatchIP(%s) = %v, want %v", c.addr, got, c.want)
		}
		if got2 := values(s.Match(KindIP, c.addr, testNow, nil)); !slices.Equal(got, got2) {
			t.Errorf("Match(ip, %s) = %v, MatchIP gave %v", c.addr, got2, got)
		}
	}
	if got := values(s.Match(KindCIDR, "10.1.0.0/20", testNow, nil)); !slices.Equal(got, []string{"a:10.0.0.0/8", "a:10.1.0.0/16", "b:10.1.0.0/16"}) {
		t.Errorf("Match(cidr, 10.1.0.0/20) = %v", got)
	}
}

// TestSetRangesAgreeWithContains checks the interval index, the address
// table and the /24 bitmap against the definition, prefix.Contains, on
// random nested and disjoint ranges and enough single addresses for the
// bitmap to be built.
func TestSetRangesAgreeWithContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var inds []Indicator
	type entry struct {
		p     netip.Prefix
		value string
	}
	var entries []entry
	rand4 := func() netip.Addr {
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
	}
	for i := 0; i < 1500; i++ {
		var p netip.Prefix
		if i%3 == 0 {
			var b [16]byte
			b[0], b[1], b[2] = 0x20, 0x01, byte(rng.IntN(4))
			b[3] = byte(rng.IntN(256))
			b[4] = byte(rng.IntN(4))
			p = netip.PrefixFrom(netip.AddrFrom16(b), 16+rng.IntN(40)).Masked()
		} else {
			p = netip.PrefixFrom(rand4(), 12+rng.IntN(21)).Masked()
		}
		entries = append(entries, entry{p, p.String()})
		inds = append(inds, Indicator{Kind: KindCIDR, Value: p.String()})
	}
	for i := 0; i < blocks4Min; i++ {
		a := netip.AddrFrom4([4]byte{byte(20 + rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		entries = append(entries, entry{netip.PrefixFrom(a, 32), a.String()})
		inds = append(inds, Indicator{Kind: KindIP, Value: a.String()})
	}
	var s Set
	mustReplace(t, &s, "r", inds)
	if s.cur.Load().blocks4 == nil {
		t.Fatal("the /24 bitmap was not built")
	}
	probe := func(a netip.Addr) {
		var want []string
		for _, e := range entries {
			if e.p.Contains(a) {
				want = append(want, "r:"+e.value)
			}
		}
		sort.Strings(want)
		got := values(s.MatchIP(a, testNow, nil))
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("MatchIP(%s) = %v, want %v", a, got, want)
		}
	}
	for _, e := range entries {
		first, last := rangeOf(e.p)
		probe(e.p.Addr())
		probe(addrOfRange(e.p, last))
		probe(addrOfRange(e.p, first).Prev())
		probe(addrOfRange(e.p, last).Next())
	}
	for i := 0; i < 1500; i++ {
		probe(rand4())
		probe(netip.AddrFrom4([4]byte{byte(18 + rng.IntN(8)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}))
	}
}

func addrOfRange(p netip.Prefix, n u128) netip.Addr {
	if p.Addr().Is4() {
		v := uint32(n.lo)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(n.hi >> (56 - 8*i))
		b[8+i] = byte(n.lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}

func TestSetDomainsMatchSubdomains(t *testing.T) {
	var s Set
	mustReplace(t, &s, "d", []Indicator{
		{Kind: KindDomain, Value: "evil.com"},
		{Kind: KindDomain, Value: "b.evil.com"},
		{Kind: KindDomain, Value: "other.org"},
	})
	cases := map[string][]string{
		"evil.com":         {"d:evil.com"},
		"a.b.evil.com":     {"d:b.evil.com", "d:evil.com"},
		"A.B.EVIL.COM.":    {"d:b.evil.com", "d:evil.com"},
		"x.evil.com":       {"d:evil.com"},
		"notevil.com":      nil,
		"evil.com.example": nil,
		"com":              nil,
		"evil.org":         nil,
		"bad..evil.com":    nil,
	}
	for in, want := range cases {
		got := values(s.Match(KindDomain, in, testNow, nil))
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Match(domain, %q) = %v, want %v", in, got, want)
		}
	}
}

func TestSetExactKinds(t *testing.T) {
	md5 := "d41d8cd98f00b204e9800998ecf8427e"
	var s Set
	mustReplace(t, &s, "x", []Indicator{
		{Kind: KindURL, Value: "http://evil.example/dl/Payload.exe?id=1"},
		{Kind: KindMD5, Value: strings.ToUpper(md5)},
		{Kind: KindEmail, Value: "Phish@Evil.Example"},
		{Kind: KindUserAgent, Value: "EvilBot/1.0"},
		{Kind: KindDomain, Value: md5 + ".example"},
	})
	cases := []struct {
		k    Kind
		v    string
		want int
	}{
		{KindURL, "HTTP://EVIL.example:80/dl/Payload.exe?id=1#x", 1},
		{KindURL, "http://evil.example/dl/payload.exe?id=1", 0}, // path case matters
		{KindMD5, md5, 1},
		{KindMD5, strings.ToUpper(md5), 1},
		{KindSHA1, md5, 0},
		{KindEmail, "phish@EVIL.example", 1},
		{KindUserAgent, "EvilBot/1.0", 1},
		{KindUserAgent, "evilbot/1.0", 0},
		{KindDomain, "evil.example", 0},
		{KindURL, "http://evil.example/" + strings.Repeat("a", 3000), 0},
	}
	for _, c := range cases {
		if got := s.Match(c.k, c.v, testNow, nil); len(got) != c.want {
			t.Errorf("Match(%s, %q) = %d matches, want %d", c.k, c.v, len(got), c.want)
		}
	}
}

func TestSetExpiredAndRevokedNeverMatch(t *testing.T) {
	var s Set
	mustReplace(t, &s, "t", []Indicator{
		{Kind: KindIP, Value: "192.0.2.1", ValidUntil: testNow.Add(time.Hour)},
		{Kind: KindCIDR, Value: "198.51.100.0/24", ValidUntil: testNow.Add(time.Hour)},
		{Kind: KindDomain, Value: "evil.example", ValidUntil: testNow.Add(time.Hour)},
		{Kind: KindIP, Value: "192.0.2.2", Revoked: true},
		{Kind: KindDomain, Value: "revoked.example", Revoked: true},
	})
	later := testNow.Add(2 * time.Hour)
	for _, probe := range []struct {
		k Kind
		v string
	}{{KindIP, "192.0.2.1"}, {KindIP, "198.51.100.77"}, {KindDomain, "www.evil.example"}} {
		if got := s.Match(probe.k, probe.v, testNow, nil); len(got) != 1 {
			t.Errorf("before expiry %s %s: %d matches, want 1", probe.k, probe.v, len(got))
		}
		if got := s.Match(probe.k, probe.v, later, nil); len(got) != 0 {
			t.Errorf("after expiry %s %s: %d matches, want 0", probe.k, probe.v, len(got))
		}
	}
	if got := s.Match(KindIP, "192.0.2.2", testNow, nil); len(got) != 0 {
		t.Errorf("revoked address matched")
	}
	if got := s.Match(KindDomain, "revoked.example", testNow, nil); len(got) != 0 {
		t.Errorf("revoked domain matched")
	}
	st := s.Stats(later)
	if len(st) != 1 || st[0].Total != 5 || st[0].Live != 0 || st[0].ByKind[KindIP] != 2 || st[0].ByKind[KindDomain] != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestSetReplaceRemoveAndStats(t *testing.T) {
	var s Set
	if got := s.MatchIP(netip.MustParseAddr("192.0.2.1"), testNow, nil); len(got) != 0 {
		t.Fatal("zero Set matched")
	}
	mustReplace(t, &s, "one", []Indicator{{Kind: KindIP, Value: "192.0.2.1"}, {Kind: KindDomain, Value: "a.example"}})
	mustReplace(t, &s, "two", []Indicator{{Kind: KindIP, Value: "192.0.2.1"}})
	if got := values(s.Match(KindIP, "192.0.2.1", testNow, nil)); !slices.Equal(got, []string{"one:192.0.2.1", "two:192.0.2.1"}) {
		t.Fatalf("two feeds: %v", got)
	}
	mustReplace(t, &s, "one", []Indicator{{Kind: KindIP, Value: "192.0.2.9"}})
	if got := values(s.Match(KindIP, "192.0.2.1", testNow, nil)); !slices.Equal(got, []string{"two:192.0.2.1"}) {
		t.Fatalf("after replacing one: %v", got)
	}
	if got := s.Match(KindDomain, "a.example", testNow, nil); len(got) != 0 {
		t.Fatalf("replaced feed's domain still matches")
	}
	if !slices.Equal(s.Feeds(), []string{"one", "two"}) || s.Len() != 2 {
		t.Fatalf("Feeds %v Len %d", s.Feeds(), s.Len())
	}
	if !s.Remove("two") || s.Remove("two") {
		t.Fatal("Remove reported wrongly")
	}
	if got := s.Match(KindIP, "192.0.2.1", testNow, nil); len(got) != 0 {
		t.Fatalf("removed feed still matches: %v", values(got))
	}
	st := s.Stats(testNow)
	if len(st) != 1 || st[0].Feed != "one" || st[0].Total != 1 || st[0].Live != 1 || st[0].ByKind[KindIP] != 1 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestSetReplaceRefusesBadValuesAndKeepsTheRest(t *testing.T) {
	var s Set
	inds := []Indicator{
		{Kind: KindIP, Value: "192.0.2.1"},
		{Kind: KindIP, Value: "not-an-ip"},
		{Kind: KindDomain, Value: "Good.Example"},
		{Kind: KindMD5, Value: "abc"},
	}
	err := s.Replace("f", inds)
	var rerr *ReplaceError
	if !errors.As(err, &rerr) || rerr.Rejected != 2 || len(rerr.First) != 2 {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "indicator 1") || !strings.Contains(msg, "not-an-ip") || !strings.Contains(msg, "indicator 3") {
		t.Errorf("error does not name the indicators: %s", msg)
	}
	if s.Len() != 2 || len(s.Match(KindDomain, "good.example", testNow, nil)) != 1 {
		t.Errorf("good indicators not loaded: Len %d", s.Len())
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	var s Set
	mustReplace(t, &s, "f", []Indicator{
		{Kind: KindIP, Value: "192.0.2.1"}, {Kind: KindCIDR, Value: "198.51.100.0/24"},
		{Kind: KindCIDR, Value: "2001:db8::/32"}, {Kind: KindDomain, Value: "evil.example"},
		{Kind: KindURL, Value: "http://evil.example/x"}, {Kind: KindSHA256, Value: strings.Repeat("a", 64)},
		{Kind: KindEmail, Value: "a@evil.example"}, {Kind: KindUserAgent, Value: "EvilBot"},
	})
	dst := make([]*Indicator, 0, 8)
	a4, a6 := netip.MustParseAddr("198.51.100.5"), netip.MustParseAddr("2001:db8::5")
	hash := strings.Repeat("A", 64)
	n := testing.AllocsPerRun(200, func() {
		dst = s.MatchIP(a4, testNow, dst[:0])
		dst = s.MatchIP(a6, testNow, dst[:0])
		dst = s.Match(KindIP, "192.0.2.1", testNow, dst[:0])
		dst = s.Match(KindDomain, "A.B.Evil.Example", testNow, dst[:0])
		dst = s.Match(KindURL, "HTTP://evil.example/x", testNow, dst[:0])
		dst = s.Match(KindSHA256, hash, testNow, dst[:0])
		dst = s.Match(KindEmail, "A@evil.example", testNow, dst[:0])
		dst = s.Match(KindUserAgent, "EvilBot", testNow, dst[:0])
		dst = s.Match(KindDomain, "bad..example", testNow, dst[:0])
	})
	if n != 0 {
		t.Errorf("a round of lookups allocates %.1f times, want 0", n)
	}
}

// TestReplaceIsAtomicAndDoesNotStopMatching: while a large feed is being
// rebuilt, a matching goroutine keeps answering, and every answer is the
// feed's old content or its new one, never a mix or nothing.
func TestReplaceIsAtomicAndDoesNotStopMatching(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 20_000
	}
	gen := func(round int) []Indicator {
		inds := make([]Indicator, n)
		for i := range inds {
			inds[i] = Indicator{Kind: KindIP, Value: fmt.Sprintf("10.%d.%d.%d", round, i>>8&0xff, i&0xff), ThreatType: fmt.Sprint(round)}
		}
		inds[0] = Indicator{Kind: KindCIDR, Value: "192.0.2.0/24", ThreatType: fmt.Sprint(round)}
		inds[1] = Indicator{Kind: KindIP, Value: "192.0.2.77", ThreatType: fmt.Sprint(round)}
		return inds
	}
	var s Set
	mustReplace(t, &s, "big", gen(1))
	probe := netip.MustParseAddr("192.0.2.77")
	var stop atomic.Bool
	var during, bad atomic.Int64
	var replacing atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dst := make([]*Indicator, 0, 4)
		for !stop.Load() {
			// One lookup: the exact address and its range come from
			// the same published index, so from the same round.
			dst = s.MatchIP(probe, testNow, dst[:0])
			if len(dst) != 2 || dst[0].ThreatType != dst[1].ThreatType {
				bad.Add(1)
			}
			if replacing.Load() {
				during.Add(1)
			}
		}
	}()
	for round := 2; round <= 3; round++ {
		inds := gen(round)
		replacing.Store(true)
		mustReplace(t, &s, "big", inds)
		replacing.Store(false)
		if got := s.MatchIP(probe, testNow, nil); len(got) != 2 || got[0].ThreatType != fmt.Sprint(round) {
			t.Fatalf("after round %d: %v", round, values(got))
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d lookups saw a partial or empty feed", bad.Load())
	}
	if during.Load() == 0 {
		t.Errorf("no lookup completed while Replace was building")
	}
	t.Logf("%d lookups completed during 2 replaces of %d indicators", during.Load(), n)
}

func mustReplace(t testing.TB, s *Set, feed string, inds []Indicator) {
	t.Helper()
	if err := s.Replace(feed, inds); err != nil {
		t.Fatalf("Replace(%s): %v", feed, err)
	}
}

// TestSetReturnsTheIndicatorAsGiven: what a match hands out carries every
// field given to Replace (times to the microsecond, in UTC), the same
// pointer every time, and the caller's slice is left as it was.
func TestSetReturnsTheIndicatorAsGiven(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	given := Indicator{
		Kind: KindDomain, Value: "Evil.Example.", ThreatType: ThreatPhishing, Threat: "Kit-X", Confidence: 85,
		Feed: "ignored", FirstSeen: time.Date(2026, 1, 2, 3, 4, 5, 6789, paris), LastSeen: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC),
		ValidUntil: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), TLP: "amber", Description: "login page",
		Ref: "indicator--1", Tags: []string{"a", "b"},
	}
	inds := []Indicator{given, {Kind: KindIP, Value: "192.0.2.1"}}
	var s Set
	mustReplace(t, &s, "feed-1", inds)
	if inds[0].Value != "Evil.Example." || inds[0].Feed != "ignored" {
		t.Errorf("Replace changed the caller's indicators: %+v", inds[0])
	}
	inds[0].Tags[0] = "changed"
	got := s.Match(KindDomain, "www.evil.example", testNow, nil)
	if len(got) != 1 {
		t.Fatalf("%d matches", len(got))
	}
	want := given
	want.Value, want.Feed, want.Tags = "evil.example", "feed-1", []string{"a", "b"}
	want.FirstSeen = given.FirstSeen.Truncate(time.Microsecond).UTC()
	g := *got[0]
	if !g.FirstSeen.Equal(want.FirstSeen) || !g.LastSeen.Equal(want.LastSeen) || !g.ValidUntil.Equal(want.ValidUntil) {
		t.Errorf("times: %v %v %v", g.FirstSeen, g.LastSeen, g.ValidUntil)
	}
	g.FirstSeen, g.LastSeen, g.ValidUntil = want.FirstSeen, want.LastSeen, want.ValidUntil
	if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", g, want)
	}
	if again := s.Match(KindDomain, "evil.example", testNow, nil); len(again) != 1 || again[0] != got[0] {
		t.Error("a second match returned another Indicator")
	}
	plain := s.Match(KindIP, "192.0.2.1", testNow, nil)
	if len(plain) != 1 || !plain[0].FirstSeen.IsZero() || !plain[0].ValidUntil.IsZero() || plain[0].Tags != nil {
		t.Errorf("zero fields not kept zero: %+v", plain)
	}
}

// TestSetRangesJumpBelowTheCommonPrefix: many ranges all inside one part
// of the space (IPv6 in 2001:db8::/32 and 2001:db9::/32, IPv4 in
// 10.0.0.0/12) make the jump table index the bits after their common
// prefix; addresses before, inside and after that part, and at every
// range's edges, match exactly the ranges holding them.
func TestSetRangesJumpBelowTheCommonPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var inds []Indicator
	var prefixes []netip.Prefix
	for i := 0; i < 3000; i++ {
		var p netip.Prefix
		if i%2 == 0 {
			var b [16]byte
			b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, byte(0xb8+rng.IntN(2))
			for j := 4; j < 16; j++ {
				b[j] = byte(rng.IntN(256))
			}
			p = netip.PrefixFrom(netip.AddrFrom16(b), 33+rng.IntN(60)).Masked()
		} else {
			a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(16)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			p = netip.PrefixFrom(a, 14+rng.IntN(17)).Masked()
		}
		prefixes = append(prefixes, p)
		inds = append(inds, Indicator{Kind: KindCIDR, Value: p.String()})
	}
	// IPv6 addresses enough for the /32 bitmap, in the same part.
	var addrs []netip.Addr
	for i := 0; i < blocks4Min; i++ {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, byte(0xb8+rng.IntN(2))
		for j := 4; j < 16; j++ {
			b[j] = byte(rng.IntN(256))
		}
		a := netip.AddrFrom16(b)
		addrs = append(addrs, a)
		prefixes = append(prefixes, netip.PrefixFrom(a, 128))
		inds = append(inds, Indicator{Kind: KindIP, Value: a.String()})
	}
	var s Set
	mustReplace(t, &s, "j", inds)
	idx := s.cur.Load()
	if idx.v6.jump == nil || idx.v4.jump == nil {
		t.Fatal("the jump tables were not built")
	}
	if idx.blocks6 == nil {
		t.Fatal("the IPv6 /32 bitmap was not built")
	}
	// The starts share at least 30 bits (IPv6: 2001:db8:: to the address
	// after the last range, 2001:dba:: at most) and 11 (IPv4: 10.0.0.0 to
	// 10.16.0.0 at most).
	if idx.v6.jumpShift > 128-30-16 || idx.v4.jumpShift > 32-11-16 {
		t.Fatalf("jump shifts %d (IPv6), %d (IPv4): the table does not index the bits after the common prefix", idx.v6.jumpShift, idx.v4.jumpShift)
	}
	probe := func(a netip.Addr) {
		var want []string
		for _, p := range prefixes {
			if p.Contains(a) {
				v := p.String()
				if p.Bits() == 128 {
					v = p.Addr().String()
				}
				want = append(want, "j:"+v)
			}
		}
		sort.Strings(want)
		got := values(s.MatchIP(a, testNow, nil))
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("MatchIP(%s) = %v, want %v", a, got, want)
		}
	}
	for _, p := range prefixes {
		_, last := rangeOf(p)
		probe(p.Addr())
		probe(p.Addr().Prev())
		probe(addrOfRange(p, last))
		probe(addrOfRange(p, last).Next())
	}
	for _, a := range addrs {
		probe(a)
		probe(a.Next())
	}
	for _, a := range []string{"::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:dba::", "ffff::1", "2001:db8::", "2001:db9:ffff:ffff:ffff:ffff:ffff:ffff",
		"0.0.0.0", "9.255.255.255", "10.16.0.0", "255.255.255.255", "10.0.0.0", "10.15.255.255"} {
		probe(netip.MustParseAddr(a))
	}
	for i := 0; i < 3000; i++ {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, byte(0xb7+rng.IntN(4))
		for j := 4; j < 16; j++ {
			b[j] = byte(rng.IntN(256))
		}
		probe(netip.AddrFrom16(b))
		probe(netip.AddrFrom4([4]byte{byte(9 + rng.IntN(3)), byte(rng.IntN(20)), byte(rng.IntN(256)), byte(rng.IntN(256))}))
	}
}

// An IPv6 range wider than blocks6 marks leaves the set without the /32
// bitmap, and addresses anywhere in the range still match.
func TestSetWideIPv6RangeTurnsTheBitmapOff(t *testing.T) {
	var inds []Indicator
	for i := 0; i < blocks4Min; i++ {
		inds = append(inds, Indicator{Kind: KindIP, Value: fmt.Sprintf("2001:db8::%x", i+1)})
	}
	inds = append(inds, Indicator{Kind: KindCIDR, Value: "2a00::/12"})
	var s Set
	mustReplace(t, &s, "w", inds)
	if s.cur.Load().blocks6 != nil {
		t.Fatal("a /12 was marked in the /32 bitmap")
	}
	for _, a := range []string{"2a00::1", "2a0f:ffff::1", "2a05:1234:5678::9"} {
		if got := s.MatchIP(netip.MustParseAddr(a), testNow, nil); len(got) != 1 {
			t.Errorf("%s: %d matches, want the /12", a, len(got))
		}
	}
	if got := s.MatchIP(netip.MustParseAddr("2001:db8::5"), testNow, nil); len(got) != 1 {
		t.Errorf("listed address: %d matches", len(got))
	}
}
