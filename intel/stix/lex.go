package stix

import (
	"fmt"
	"strings"
)

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tInt
	tFloat
	tTimestamp
	tHex
	tBinary
	tOp // = == != <> < <= > >=
	tLBrack
	tRBrack
	tLParen
	tRParen
	tColon
	tDot
	tComma
	tStar
)

type token struct {
	kind tokKind
	text string // decoded for strings and quoted literals
	off  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end"
	case tString:
		return quote(t.text)
	case tTimestamp:
		return "t'" + t.text + "'"
	case tHex:
		return "h'" + t.text + "'"
	case tBinary:
		return "b'" + t.text + "'"
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits a pattern into tokens. Words run over letters, digits, '_'
// and '-' (object types such as ipv4-addr); whether a word is a keyword
// is the parser's business.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			continue
		case c == '[':
			toks = append(toks, token{tLBrack, "[", i})
			i++
		case c == ']':
			toks = append(toks, token{tRBrack, "]", i})
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == ':':
			toks = append(toks, token{tColon, ":", i})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", i})
			i++
		case c == '*':
			toks = append(toks, token{tStar, "*", i})
			i++
		case c == '.' && !(i+1 < len(s) && isDigit(s[i+1])): // property names never start with a digit
			toks = append(toks, token{tDot, ".", i})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			op := string(c)
			if i+1 < len(s) && (s[i+1] == '=' || c == '<' && s[i+1] == '>') {
				op = s[i : i+2]
			}
			if op == "!" {
				return nil, &PatternError{i, "'!' is not an operator (use != or NOT)"}
			}
			toks = append(toks, token{tOp, op, i})
			i += len(op)
		case c == '\'':
			text, n, err := readString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, text, start})
			i = n
		case (c == 't' || c == 'h' || c == 'b') && i+1 < len(s) && s[i+1] == '\'':
			text, n, err := readString(s, i+1)
			if err != nil {
				return nil, err
			}
			if err := checkTyped(c, text, i); err != nil {
				return nil, err
			}
			kind := map[byte]tokKind{'t': tTimestamp, 'h': tHex, 'b': tBinary}[c]
			toks = append(toks, token{kind, text, start})
			i = n
		case isDigit(c) || (c == '-' || c == '+' || c == '.') && i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == '.'):
			j := i + 1
			float := c == '.'
			for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
				if s[j] == '.' {
					if float {
						return nil, &PatternError{j, "a number with two points"}
					}
					float = true
				}
				j++
			}
			if j < len(s) && (isLetter(s[j]) || s[j] == '_') {
				return nil, &PatternError{j, "a letter inside a number"}
			}
			if s[j-1] == '.' || strings.Trim(s[i:j], "+-.") == "" {
				return nil, &PatternError{i, "an incomplete number"}
			}
			kind := tInt
			if float {
				kind = tFloat
			}
			toks = append(toks, token{kind, s[i:j], i})
			i = j
		case isLetter(c) || c == '_':
			j := i + 1
			for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || s[j] == '_' || s[j] == '-') {
				j++
			}
			toks = append(toks, token{tWord, s[i:j], i})
			i = j
		default:
			return nil, &PatternError{i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	toks = append(toks, token{tEOF, "", len(s)})
	return toks, nil
}

// readString reads a '…' literal starting at s[i] == '\”; inside it only
// \' and \\ are escapes.
func readString(s string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if j+1 >= len(s) || (s[j+1] != '\'' && s[j+1] != '\\') {
				return "", 0, &PatternError{j, `only \' and \\ may be escaped in a string`}
			}
			b.WriteByte(s[j+1])
			j++
		case '\'':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(s[j])
		}
	}
	return "", 0, &PatternError{i, "unterminated string"}
}

func checkTyped(c byte, text string, off int) error {
	switch c {
	case 't':
		// YYYY-MM-DDTHH:MM:SS[.s+]Z, RFC 3339 in UTC as the grammar says.
		if len(text) < 20 || text[len(text)-1] != 'Z' || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' {
			return &PatternError{off, fmt.Sprintf("not a STIX timestamp: t'%s'", text)}
		}
	case 'h':
		if len(text)%2 != 0 || strings.Trim(strings.ToLower(text), "0123456789abcdef") != "" {
			return &PatternError{off, fmt.Sprintf("not hex: h'%s'", text)}
		}
	case 'b':
		if len(text)%4 != 0 || strings.Trim(strings.TrimRight(text, "="), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != "" {
			return &PatternError{off, fmt.Sprintf("not base64: b'%s'", text)}
		}
	}
	return nil
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
