package intel

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// A set large enough to keep a hash filter finds every listed hash
// however it is written, and the filter turns most unlisted ones away
// before the table.
func TestHashFilterFindsEveryListedHash(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	hexOf := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			fmt.Fprintf(&b, "%016x", r.Uint64())
		}
		return b.String()[:n]
	}
	var inds []Indicator
	listed := map[Kind][]string{}
	for i := range 3 * hashFilterMin {
		k := []Kind{KindMD5, KindSHA1, KindSHA256}[i%3]
		n := map[Kind]int{KindMD5: 32, KindSHA1: 40, KindSHA256: 64}[k]
		v := hexOf(n)
		if i%7 == 0 { // a short number written out: all but its end is zeros
			v = fmt.Sprintf("%0*x", n, r.Uint64())
		}
		if i%2 == 0 {
			v = strings.ToUpper(v)
		}
		inds = append(inds, Indicator{Kind: k, Value: v})
		listed[k] = append(listed[k], v)
	}
	var s Set
	mustReplace(t, &s, "hashes", inds)
	idx := s.cur.Load()
	if idx.hashes.bits == nil {
		t.Fatal("no hash filter for a set this large")
	}
	for k, vs := range listed {
		for _, v := range vs {
			for _, w := range []string{v, strings.ToLower(v), strings.ToUpper(v)} {
				if got := s.Match(k, w, testNow, nil); len(got) != 1 {
					t.Fatalf("Match(%s, %s) = %d matches, want 1", k, w, len(got))
				}
			}
		}
	}
	skipped, tries := 0, 30000
	for i := range tries {
		k := []Kind{KindMD5, KindSHA1, KindSHA256}[i%3]
		v := hexOf(map[Kind]int{KindMD5: 32, KindSHA1: 40, KindSHA256: 64}[k])
		if got := s.Match(k, v, testNow, nil); len(got) != 0 {
			t.Fatalf("unlisted %s %s matched", k, v)
		}
		if idx.hashes.skip(kind8(k), v) {
			skipped++
		}
	}
	if skipped < tries*8/10 {
		t.Errorf("the filter turned away %d of %d unlisted hashes, want most", skipped, tries)
	}
	// Not a hash of the kind: never turned away by the filter (the
	// table's normalization refuses it).
	for _, v := range []string{"", "xyz", strings.Repeat("g", 32), strings.Repeat("a", 33)} {
		if idx.hashes.skip(kind8(KindMD5), v) {
			t.Errorf("filter decided on %q", v)
		}
	}
}

// A kind no feed lists is not looked up, and a listed one still is.
func TestUnlistedKindIsNotLookedUp(t *testing.T) {
	var s Set
	mustReplace(t, &s, "x", []Indicator{{Kind: KindDomain, Value: "evil.example"}})
	if got := s.Match(KindDomain, "a.evil.example", testNow, nil); len(got) != 1 {
		t.Fatalf("domain: %d matches", len(got))
	}
	idx := s.cur.Load()
	for _, k := range []Kind{KindMD5, KindURL, KindEmail, KindUserAgent} {
		if idx.strKinds&(1<<kind8(k)) != 0 {
			t.Errorf("%s marked as listed", k)
		}
	}
}
