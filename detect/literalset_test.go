package detect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestLiteralSetScan holds every way a literal set scans a value (the
// anchored dfa, its interleaved passes over long values, the tries, the
// gramSet and the small automaton) to the definition: a pattern is marked
// when the lowered value equals, starts with, ends with or contains its
// literal.
func TestLiteralSetScan(t *testing.T) {
	alphabet := []string{"a", "b", "c", "A", "B", ".", "\\", ":", "é", "É", "\u212a", "k", "\xff", " "}
	rng := rand.New(rand.NewPCG(11, 12))
	word := func(n int) string {
		var b strings.Builder
		for ; n > 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	saved := maxDFA
	defer func() { maxDFA = saved }()
	for round := 0; round < 300; round++ {
		// Sets of every shape: few or many patterns, short or long
		// literals (long-only sets take the gramSet for long values),
		// with or without the dfa.
		maxDFA = saved
		if round%3 == 0 {
			maxDFA = 0
		}
		np := 1 + rng.IntN(40)
		minLit := 1 + rng.IntN(9)
		var pats []pat
		for i := 0; i < np; i++ {
			lit := string(appendLower(nil, word(minLit+rng.IntN(6))))
			pats = append(pats, pat{kind: []patKind{pEqual, pPrefix, pSuffix, pContains}[rng.IntN(4)], lit: lit})
		}
		e := &Engine{}
		b := literalSetBuilder{keywords: round%5 == 0}
		for i := range pats {
			e.fast.vals = append(e.fast.vals, fastVal{atom: int32(i), need: 1})
			b.add(&pats[i], int32(i))
		}
		ls := b.build()
		// A second set, of other literals, scanned side by side with
		// the first through scanField: its atoms follow the first's.
		var patsB []pat
		var bb literalSetBuilder
		for i := 0; i < 1+rng.IntN(10); i++ {
			lit := string(appendLower(nil, word(1+rng.IntN(6))))
			patsB = append(patsB, pat{kind: []patKind{pEqual, pPrefix, pSuffix, pContains}[rng.IntN(4)], lit: lit})
		}
		for i := range patsB {
			e.fast.vals = append(e.fast.vals, fastVal{atom: int32(np + i), need: 1})
			bb.add(&patsB[i], int32(np+i))
		}
		lsB := bb.build()
		sc := &scratch{markGen: make([]uint32, np+len(patsB))}
		var hist []string // the last values, scanned again through scanField
		for v := 0; v < 40; v++ {
			var val string
			switch rng.IntN(5) {
			case 0:
				val = word(rng.IntN(8))
			case 4:
				// ASCII, short, from both sets' literals: the values
				// flushField scans side by side.
				var sb strings.Builder
				for k := 1 + rng.IntN(6); k > 0; k-- {
					lit := patsB[rng.IntN(len(patsB))].lit
					if rng.IntN(2) == 0 {
						lit = pats[rng.IntN(np)].lit
					}
					for _, c := range []byte(strings.ToUpper(lit)) {
						if c < 0x80 {
							sb.WriteByte(c)
						}
					}
					sb.WriteString([]string{"", "a", "B.", "\\"}[rng.IntN(4)])
				}
				val = sb.String()
			case 1:
				val = word(rng.IntN(300))
			case 2:
				val = word(300 + rng.IntN(3000))
			default:
				// Built from literals, so that they occur.
				var sb strings.Builder
				for k := rng.IntN(200); k > 0; k-- {
					if rng.IntN(2) == 0 {
						sb.WriteString(strings.ToUpper(pats[rng.IntN(np)].lit))
					} else {
						sb.WriteString(word(rng.IntN(4)))
					}
				}
				val = sb.String()
			}
			sc.gen++
			sc.marked = sc.marked[:0]
			e.scanValue(ls, val, sc)
			got := slices.Clone(sc.marked)
			slices.Sort(got)
			want := wantMarks(pats, val)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d (dfa %v, skipLong %v), value %q (%d bytes):\nmarked %v\nwant   %v\npatterns %s",
					round, ls.dfa != nil, ls.skipLong, val, len(val), got, want, describe(pats))
			}
			// The same value after some earlier ones, in either set, through
			// scanField, which leaves the short ASCII ones to flushField to
			// scan side by side (scanLanes, up to four at a time, a lane
			// taking the next value when its own is done).
			sc.gen++
			sc.marked = sc.marked[:0]
			want = want[:0]
			hist = append(hist, val)
			if len(hist) > 7 {
				hist = hist[1:]
			}
			for i, h := range hist[rng.IntN(len(hist)):] {
				set, base, hp := ls, int32(0), pats
				if i%2 == 0 {
					set, base, hp = lsB, int32(np), patsB
				}
				e.scanField(set, h, sc)
				for _, m := range wantMarks(hp, h) {
					if !slices.Contains(want, base+m) {
						want = append(want, base+m)
					}
				}
			}
			e.flushField(sc)
			got = slices.Clone(sc.marked)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d, values %q through scanField:\nmarked %v\nwant   %v\npatterns %s",
					round, hist, got, want, describe(pats))
			}
		}
	}
}

// wantMarks is the definition: the patterns whose literal the lowered
// value equals, starts with, ends with or contains.
func wantMarks(pats []pat, val string) []int32 {
	low := string(appendLower(nil, val))
	var want []int32
	for i, p := range pats {
		var hit bool
		switch p.kind {
		case pEqual:
			hit = low == p.lit
		case pPrefix:
			hit = strings.HasPrefix(low, p.lit)
		case pSuffix:
			hit = strings.HasSuffix(low, p.lit)
		case pContains:
			hit = strings.Contains(low, p.lit)
		}
		if hit {
			want = append(want, int32(i))
		}
	}
	return want
}

func describe(pats []pat) string {
	var b strings.Builder
	for i, p := range pats {
		fmt.Fprintf(&b, "%d:%d:%q ", i, p.kind, p.lit)
	}
	return b.String()
}
