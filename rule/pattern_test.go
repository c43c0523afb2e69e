package rule

import (
	"regexp"
	"strings"
	"testing"
)

func TestParsePatternEscapes(t *testing.T) {
	cases := []struct {
		in   string
		want Pattern
	}{
		{``, nil},
		{`abc`, Pattern{{Lit, "abc"}}},
		{`a*b`, Pattern{{Lit, "a"}, {Star, ""}, {Lit, "b"}}},
		{`a**b`, Pattern{{Lit, "a"}, {Star, ""}, {Lit, "b"}}},
		{`prog?.exe`, Pattern{{Lit, "prog"}, {One, ""}, {Lit, ".exe"}}},
		{`a\*b`, Pattern{{Lit, "a*b"}}},
		{`a\?b`, Pattern{{Lit, "a?b"}}},
		{`C:\Windows\`, Pattern{{Lit, `C:\Windows\`}}},     // plain backslashes stay
		{`a\\b`, Pattern{{Lit, `a\b`}}},                    // double backslash is one
		{`a\\*`, Pattern{{Lit, `a\`}, {Star, ""}}},         // backslash, then wildcard
		{`a\\\*`, Pattern{{Lit, `a\*`}}},                   // backslash and a literal star
		{`a\\\\`, Pattern{{Lit, `a\\`}}},                   // four are two
		{`a\\\b`, Pattern{{Lit, `a\\b`}}},                  // three before a plain char are two
		{`\*\?*`, Pattern{{Lit, `*?`}, {Star, ""}}},        // escapes then a wildcard
		{`*`, Pattern{{Star, ""}}},                         // lone star
		{`\`, Pattern{{Lit, `\`}}},                         // trailing backslash
		{`?*?`, Pattern{{One, ""}, {Star, ""}, {One, ""}}}, // wildcards only
		{`A\*b*C\\d?E\x`, Pattern{{Lit, `A*b`}, {Star, ""}, {Lit, `C\d`}, {One, ""}, {Lit, `E\x`}}},
		{`x\*`, Pattern{{Lit, `x*`}}}, // an escape ends the value
		{`\\`, Pattern{{Lit, `\`}}},   // an escaped backslash alone
		{`*\?`, Pattern{{Star, ""}, {Lit, `?`}}},
	}
	for _, c := range cases {
		got := ParsePattern(c.in)
		if !equalPattern(got, c.want) {
			t.Errorf("ParsePattern(%q) = %v, want %v", c.in, got, c.want)
		}
		// String writes a form that parses back to the same pattern.
		if back := ParsePattern(got.String()); !equalPattern(back, got) {
			t.Errorf("ParsePattern(%q).String() = %q parses to %v", c.in, got.String(), back)
		}
	}
}

// TestPatternWrap: wrap gives what Concat with stars and Lower give.
func TestPatternWrap(t *testing.T) {
	star := Pattern{{Kind: Star}}
	for _, in := range []string{``, `abc`, `*`, `*Ab*`, `?x?`, `a\*B`, `*\?`, `C:\Windows\`} {
		for _, encoded := range []bool{false, true} {
			p := ParsePattern(in)
			if encoded {
				p = Pattern{{Kind: Lit, Text: in}} // an encoded value: one literal, maybe empty
			}
			for _, lead := range []bool{false, true} {
				for _, trail := range []bool{false, true} {
					for _, low := range []bool{false, true} {
						want := append(Pattern(nil), p...)
						if lead {
							want = star.Concat(want)
						}
						if trail {
							want = want.Concat(star)
						}
						if low {
							want = want.Lower()
						}
						if got := p.wrap(lead, trail, low); !equalPattern(got, want) {
							t.Errorf("%v.wrap(%v, %v, %v) = %v, want %v", p, lead, trail, low, got, want)
						}
					}
				}
			}
		}
	}
}

func equalPattern(a, b Pattern) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{`abc`, "abc", true},
		{`abc`, "abcd", false},
		{`*`, "", true},
		{`*`, "anything", true},
		{`a*`, "a", true},
		{`*c`, "abc", true},
		{`*b*`, "abc", true},
		{`*b*`, "ac", false},
		{`a?c`, "abc", true},
		{`a?c`, "ac", false},
		{`a?c`, "aÄc", true}, // ? is one character, not one byte
		{`*a*b*c*`, "xaxbxcx", true},
		{`*a*b*c*`, "xcxbxax", false},
		{`a*a*a*b`, strings.Repeat("a", 40), false},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{``, "", true},
		{``, "x", false},
	}
	for _, c := range cases {
		if got := ParsePattern(c.pat).Match(c.s); got != c.want {
			t.Errorf("%q matching %q: got %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}

// globRegexp is an independent oracle for Pattern.Match.
func globRegexp(p Pattern) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, t := range p {
		switch t.Kind {
		case Star:
			b.WriteString(`.*`)
		case One:
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(t.Text))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{`a*b`, `\\*`, `\\\*`, `?x?`, `C:\Windows\*\cmd.exe`, `**`, `\`} {
		f.Add(s, "C:\\Windows\\x\\cmd.exe")
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		p := ParsePattern(pat)
		if back := ParsePattern(p.String()); !equalPattern(back, p) {
			t.Fatalf("round trip of %q: %v -> %q -> %v", pat, p, p.String(), back)
		}
		if !isValidUTF8(s) || !isValidUTF8(pat) {
			return // the oracle's `.` matches runes of valid text only
		}
		if got, want := p.Match(s), globRegexp(p).MatchString(s); got != want {
			t.Fatalf("%q (%v) matching %q: got %v, oracle %v", pat, p, s, got, want)
		}
	})
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
