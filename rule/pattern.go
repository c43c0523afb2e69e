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
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = p.appendLit(lit.String())
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
			} else {
				lit.WriteByte('\\')
			}
		case '*':
			flush()
			p = p.appendStar()
		case '?':
			flush()
			p = append(p, Token{Kind: One})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
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
	out := append(Pattern(nil), p...)
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
