package payload

import "strings"

// tokKind is the lexical class of a token of an SQL statement.
type tokKind uint8

const (
	tokWord   tokKind = iota + 1 // keyword or identifier, lower case; @var, @@var
	tokString                    // '…', N'…', E'…', X'…', $$…$$
	tokQuoted                    // "…", `…`, […]: an identifier (a string in MySQL)
	tokNumber                    // 12, 1.5, 1e3, 0x7e
	tokOp                        // = <> != < > <= >= <=> || && :: + - * / % ! ~ ^ | & ?
	tokPunct                     // ( ) , ; .
	tokParam                     // $1, :name
)

type token struct {
	kind tokKind
	text string // lower case for words; a string's content without quotes
	// depth is the parenthesis depth the token sits at (an opening
	// parenthesis has the depth outside it).
	depth int
}

// comment is a comment of the statement: its text, and the number of
// tokens before it.
type comment struct {
	text   string
	at     int
	line   bool // -- or #, to the end of the line
	closed bool // a block comment's */ was found
}

// lexed is a statement cut into tokens, comments apart.
type lexed struct {
	toks       []token
	comments   []comment
	unbalanced bool // a string, quoted name or block comment not closed
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lexSQL tokenizes one statement the way the common dialects read it: a
// doubled quote and a backslash-escaped one inside a string (the
// standard's escape and MySQL's), -- and # line comments (# only where it
// cannot start a SQL Server #temp name), /* */ block comments whose MySQL
// executable form /*! … */ is read as code, PostgreSQL dollar quoting and
// N-, E-, X- and B-prefixed strings.
func lexSQL(s string) lexed {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	var l lexed
	depth := 0
	add := func(k tokKind, text string) {
		t := token{kind: k, text: text, depth: depth}
		if k == tokPunct && text == ")" && depth > 0 {
			depth--
			t.depth = depth
		}
		l.toks = append(l.toks, t)
		if k == tokPunct && text == "(" {
			depth++
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0:
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-',
			c == '#' && (i+1 == len(s) || !isIdentStart(s[i+1]) || i > 0 && !strings.ContainsRune(" \t\n\r(,", rune(s[i-1]))):
			j := i + 1
			if c == '-' {
				j++
			}
			end := strings.IndexByte(s[j:], '\n')
			if end < 0 {
				end = len(s) - j
			}
			l.comments = append(l.comments, comment{text: s[j : j+end], at: len(l.toks), line: true})
			i = j + end
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if i+2 < len(s) && s[i+2] == '!' {
				// MySQL runs the content of /*! … */ (with a version).
				j := i + 3
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				i = j
				continue
			}
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				l.comments = append(l.comments, comment{text: s[i+2:], at: len(l.toks)})
				l.unbalanced = true
				i = len(s)
				continue
			}
			l.comments = append(l.comments, comment{text: s[i+2 : i+2+end], at: len(l.toks), closed: true})
			i += 2 + end + 2
		case c == '*' && i+1 < len(s) && s[i+1] == '/':
			i += 2 // the end of an executable comment
		case c == '\'':
			text, n, ok := lexQuoted(s[i:], '\'', true)
			add(tokString, text)
			l.unbalanced = l.unbalanced || !ok
			i += n
		case (c == 'n' || c == 'N' || c == 'e' || c == 'E' || c == 'x' || c == 'X' || c == 'b' || c == 'B') &&
			i+1 < len(s) && s[i+1] == '\'' && (i == 0 || !isIdentChar(s[i-1])):
			text, n, ok := lexQuoted(s[i+1:], '\'', true)
			add(tokString, text)
			l.unbalanced = l.unbalanced || !ok
			i += 1 + n
		case c == '"' || c == '`':
			text, n, ok := lexQuoted(s[i:], c, c == '"')
			add(tokQuoted, strings.ToLower(text))
			l.unbalanced = l.unbalanced || !ok
			i += n
		case c == '[':
			end := strings.IndexByte(s[i+1:], ']')
			if end < 0 {
				add(tokPunct, "[")
				i++
				continue
			}
			add(tokQuoted, strings.ToLower(s[i+1:i+1+end]))
			i += end + 2
		case c == '$' && i+1 < len(s) && (s[i+1] == '$' || isIdentStart(s[i+1])) && (i == 0 || !isIdentChar(s[i-1])):
			// PostgreSQL dollar quoting: $$…$$ or $tag$…$tag$.
			j := i + 1
			for j < len(s) && s[j] != '$' && isIdentChar(s[j]) {
				j++
			}
			if j < len(s) && s[j] == '$' {
				tag := s[i : j+1]
				end := strings.Index(s[j+1:], tag)
				if end < 0 {
					add(tokString, s[j+1:])
					l.unbalanced = true
					i = len(s)
					continue
				}
				add(tokString, s[j+1:j+1+end])
				i = j + 1 + end + len(tag)
				continue
			}
			add(tokOp, "$")
			i++
		case c == '$' && i+1 < len(s) && isDigit(s[i+1]):
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			add(tokParam, s[i:j])
			i = j
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			j := i
			if c == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
				j += 2
				for j < len(s) && (isDigit(s[j]) || s[j] >= 'a' && s[j] <= 'f' || s[j] >= 'A' && s[j] <= 'F') {
					j++
				}
			} else {
				for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
					j++
				}
				if j < len(s) && (s[j] == 'e' || s[j] == 'E') && j+1 < len(s) && (isDigit(s[j+1]) || (s[j+1] == '-' || s[j+1] == '+') && j+2 < len(s) && isDigit(s[j+2])) {
					j += 2
					for j < len(s) && isDigit(s[j]) {
						j++
					}
				}
			}
			add(tokNumber, strings.ToLower(s[i:j]))
			i = j
		case isIdentStart(c) || c == '@' || c == '#' && i+1 < len(s) && (isIdentStart(s[i+1]) || s[i+1] == '#'):
			// @var, @@var; #temp and ##global temporary tables (SQL Server).
			j := i + 1
			for j < len(s) && (isIdentChar(s[j]) || (s[j] == '@' || s[j] == '#') && j == i+1) {
				j++
			}
			add(tokWord, strings.ToLower(s[i:j]))
			i = j
		case c == ':' && i+1 < len(s) && isIdentStart(s[i+1]) && (i == 0 || s[i-1] != ':'):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			add(tokParam, s[i:j])
			i = j
		case c == '(' || c == ')' || c == ',' || c == ';' || c == '.':
			add(tokPunct, string(c))
			i++
		default:
			for _, op := range [...]string{"<=>", "<>", "!=", "<=", ">=", "||", "&&", "::", "=="} {
				if strings.HasPrefix(s[i:], op) {
					add(tokOp, op)
					i += len(op)
					goto next
				}
			}
			add(tokOp, string(c))
			i++
		next:
		}
	}
	return l
}

// lexQuoted reads a quoted string or name that starts at s[0]: its
// content, the bytes it takes, and whether it was closed. A doubled quote
// is one quote; with backslash, \x escapes x (MySQL).
func lexQuoted(s string, q byte, backslash bool) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && backslash && i+1 < len(s):
			b.WriteByte(s[i+1])
			i++
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case c == q:
			return b.String(), i + 1, true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(s), false
}
