package rule

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TokenKind is the kind of a pattern token.
type TokenKind uint8

const (
	// Lit is literal text.
	Lit TokenKind = iota
	// Star matches any run of characters, also none.
	Star
	// One matches exactly one character.
	One
)

// Token is one piece of a pattern.
type Token struct {
	Kind TokenKind
	Text string // Lit only
}

// Pattern is a value with Sigma wildcards, parsed: literal runs, `*` and
// `?`. Adjacent literals are merged and runs of Star are collapsed, so
// equal patterns have equal tokens.
type Pattern []Token

// ParsePattern parses a Sigma value: `*` and `?` are wildcards; a backslash
// escapes `*`, `?` and itself; any other backslash is literal. So `\*` is a
// literal star, `\\*` a backslash then a wildcard, `\\\*` a backslash and a
// literal star, and `\\\\` two backslashes.
func ParsePattern(s string) Pattern {
	var p Pattern
	// A literal run is s[from:i], a substring, unless it holds an escape:
	// then it is gathered in esc. Most values have no escape (a backslash
	// before other characters is literal, as in Windows paths).
	var esc []byte
	escaped := false
	from := 0
	flush := func(i int) {
		t := s[from:i]
		if escaped {
			esc = append(esc, t...)
			t, esc, escaped = string(esc), esc[:0], false
		}
		p = p.appendLit(t)
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				esc = append(esc, s[from:i]...)
				esc = append(esc, s[i+1])
				escaped = true
				i++
				from = i + 1
			}
		case '*':
			flush(i)
			p = p.appendStar()
			from = i + 1
		case '?':
			flush(i)
			p = append(p, Token{Kind: One})
			from = i + 1
		}
	}
	flush(len(s))
	return p
}

func (p Pattern) appendLit(s string) Pattern {
	if s == "" {
		return p
	}
	if n := len(p); n > 0 && p[n-1].Kind == Lit {
		p[n-1].Text += s
		return p
	}
	return append(p, Token{Kind: Lit, Text: s})
}

func (p Pattern) appendStar() Pattern {
	if n := len(p); n > 0 && p[n-1].Kind == Star {
		return p
	}
	return append(p, Token{Kind: Star})
}

// Concat returns p followed by q, normalised.
func (p Pattern) Concat(q Pattern) Pattern {
	return append(Pattern(nil), p...).appendAll(q)
}

// appendAll appends q's tokens to p, merging literals and stars where
// they meet.
func (p Pattern) appendAll(q Pattern) Pattern {
	out := p
	for _, t := range q {
		switch t.Kind {
		case Lit:
			out = out.appendLit(t.Text)
		case Star:
			out = out.appendStar()
		default:
			out = append(out, t)
		}
	}
	return out
}

// wrap is p with a star before it (lead) and after it (trail), normalised,
// with its literals in lower case when lowerCase is set: what Concat and
// Lower would give, built in one allocation (p itself when nothing
// changes).
func (p Pattern) wrap(lead, trail, lowerCase bool) Pattern {
	if !lead && !trail {
		if lowerCase {
			return p.Lower()
		}
		return p
	}
	out := make(Pattern, 0, len(p)+2)
	if !lead {
		out = append(out, p...) // as Concat takes its receiver: unchanged
	} else {
		out = out.appendStar().appendAll(p)
	}
	if trail {
		out = out.appendStar()
	}
	if lowerCase {
		for i, t := range out {
			if t.Kind == Lit {
				out[i].Text = lower(t.Text)
			}
		}
	}
	return out
}

// Lower returns p with its literals in lower case. Bytes that are not
// valid UTF-8 (in encoded values: utf16, a byte order mark) stay as they
// are, as the engine keeps them in the values it lowers, where
// strings.ToLower would turn them into U+FFFD.
func (p Pattern) Lower() Pattern {
	out := make(Pattern, len(p))
	for i, t := range p {
		if t.Kind == Lit {
			t.Text = lower(t.Text)
		}
		out[i] = t
	}
	return out
}

func lower(s string) string {
	if utf8.ValidString(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[0])
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		s = s[n:]
	}
	return b.String()
}

// String writes p back in Sigma's escaped form.
func (p Pattern) String() string {
	var b strings.Builder
	for _, t := range p {
		switch t.Kind {
		case Star:
			b.WriteByte('*')
		case One:
			b.WriteByte('?')
		default:
			for i := 0; i < len(t.Text); i++ {
				c := t.Text[i]
				if c == '*' || c == '?' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// Match reports whether s matches p exactly (case-sensitively; lower both
// for a case-insensitive match). `?` matches one UTF-8 character (or one
// byte of invalid UTF-8). It is the plain reference algorithm, linear in
// len(s) times len(p) thanks to backtracking only to the last star; the
// detect engine compiles patterns to faster forms.
func (p Pattern) Match(s string) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for pi < len(p) || si < len(s) {
		if pi < len(p) {
			switch t := p[pi]; t.Kind {
			case Star:
				starPi, starSi = pi, si
				pi++
				continue
			case One:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			default:
				if strings.HasPrefix(s[si:], t.Text) {
					si += len(t.Text)
					pi++
					continue
				}
			}
		}
		if starPi >= 0 && starSi < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSi:])
			starSi += n
			pi, si = starPi+1, starSi
			continue
		}
		return false
	}
	return true
}

// Literal returns the text of a pattern without wildcards.
func (p Pattern) Literal() (string, bool) {
	switch {
	case len(p) == 0:
		return "", true
	case len(p) == 1 && p[0].Kind == Lit:
		return p[0].Text, true
	}
	return "", false
}
