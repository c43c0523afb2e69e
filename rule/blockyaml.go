package rule

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v4"
)

// parseBlockYAML reads the plain block style that rule files are written
// in — mappings, sequences, plain and quoted one-line scalars, literal and
// folded block scalars, comments, documents split by "---" — into the
// same nodes (kind, style, tag, value, line, column) as the YAML library,
// about ten times faster: parsing YAML was most of a start with SigmaHQ's
// thousands of files. Anything else (flow collections, anchors, aliases,
// tags, multi-line plain or quoted scalars, tabs, odd characters, syntax
// errors) makes it report false, and the caller parses the text with the
// YAML library, which also words the errors. Empty documents are left out.
// FuzzBlockYAML holds it to the library's result.
func parseBlockYAML(data []byte) ([]*yaml.Node, bool) {
	if !plainText(data) {
		return nil, false
	}
	// The lines are split at once: sized first, they are one allocation.
	p := blockParser{data: data, lines: make([][]byte, 0, bytes.Count(data, []byte{'\n'})+1)}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		p.noFinalBreak = true
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		l := data[:i]
		if isMarker(l) && !isDocStart(l) {
			return nil, false // "..." or "---" with content after it
		}
		p.lines = append(p.lines, l)
		data = data[min(i+1, len(data)):]
	}
	var docs []*yaml.Node
	for {
		if !p.skipBlank() {
			break
		}
		l := p.lines[p.i]
		if isDocStart(l) {
			p.i++
			continue
		}
		if l[0] == '%' || bytes.HasPrefix(l, []byte("...")) || indentOf(l) != 0 {
			return nil, false
		}
		n := p.block(-1)
		if n == nil || p.failed {
			return nil, false
		}
		if p.skipBlank() && !isDocStart(p.lines[p.i]) {
			return nil, false
		}
		docs = append(docs, n)
	}
	return docs, !p.failed
}

type blockParser struct {
	data         []byte
	lines        [][]byte
	i            int // the line being read
	depth        int
	failed       bool
	noFinalBreak bool // the text's last line has no line break
}

// plainText reports whether data holds only characters that the YAML
// library takes as they are: printable UTF-8 and line feeds (no tabs,
// carriage returns, byte order marks or the line breaks of YAML 1.1).
func plainText(data []byte) bool {
	for i := 0; i < len(data); {
		b := data[i]
		if b < utf8.RuneSelf {
			if (b < 0x20 && b != '\n') || b == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError || r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
			return false
		}
		i += size
	}
	return true
}

func indentOf(l []byte) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

// blank reports whether a line holds nothing but spaces and a comment.
func blank(l []byte) bool {
	n := indentOf(l)
	return n == len(l) || l[n] == '#'
}

// isMarker reports whether a line starts with a document marker, "---"
// or "...", which ends any node before it.
func isMarker(l []byte) bool {
	return (bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("..."))) && (len(l) == 3 || l[3] == ' ')
}

func isDocStart(l []byte) bool {
	if !bytes.HasPrefix(l, []byte("---")) {
		return false
	}
	rest := l[3:]
	return len(rest) == 0 || rest[0] == ' ' && blank(rest)
}

// skipBlank moves to the next line with content; false at the end.
func (p *blockParser) skipBlank() bool {
	for p.i < len(p.lines) && blank(p.lines[p.i]) {
		p.i++
	}
	return p.i < len(p.lines)
}

func (p *blockParser) fail() *yaml.Node {
	p.failed = true
	return nil
}

// col is the 1-based column of byte off of line i, in characters.
func (p *blockParser) col(i, off int) int {
	return utf8.RuneCount(p.lines[i][:off]) + 1
}

// block reads the node that starts on the next line with content, indented
// more than parent.
func (p *blockParser) block(parent int) *yaml.Node {
	if p.depth++; p.depth > 64 {
		return p.fail()
	}
	defer func() { p.depth-- }()
	if !p.skipBlank() {
		return p.fail()
	}
	l := p.lines[p.i]
	n := indentOf(l)
	if n <= parent {
		return p.fail()
	}
	if isItem(l[n:]) {
		return p.seq(n)
	}
	if _, _, ok := p.key(p.i, n); ok {
		return p.mapping(n)
	}
	return p.fail() // a scalar on a line of its own
}

func isItem(s []byte) bool { return len(s) > 0 && s[0] == '-' && (len(s) == 1 || s[1] == ' ') }

// mapping reads the keys at indent n from the current line on.
func (p *blockParser) mapping(n int) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: p.i + 1, Column: p.col(p.i, n)}
	for !p.failed && p.skipBlank() {
		l := p.lines[p.i]
		ind := indentOf(l)
		if ind < n || isDocStart(l) {
			break
		}
		if ind > n {
			return p.fail()
		}
		if isItem(l[n:]) {
			break // a sequence at the same indent ends a map only if it is its value; the caller checks
		}
		k, after, ok := p.key(p.i, n)
		if !ok {
			return p.fail()
		}
		v := p.value(n, after)
		if v == nil {
			return p.fail()
		}
		m.Content = append(m.Content, k, v)
	}
	if p.failed {
		return nil
	}
	return m
}

// seq reads the items at indent n from the current line on.
func (p *blockParser) seq(n int) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: p.i + 1, Column: p.col(p.i, n)}
	for !p.failed && p.skipBlank() {
		l := p.lines[p.i]
		ind := indentOf(l)
		if ind < n || isDocStart(l) {
			break
		}
		if ind > n {
			return p.fail()
		}
		if !isItem(l[n:]) {
			break
		}
		at := n + 1
		for at < len(l) && l[at] == ' ' {
			at++
		}
		if at == len(l) || l[at] == '#' || isItem(l[at:]) {
			return p.fail() // an empty item or a sequence in a sequence: rare, left to the library
		}
		if _, _, ok := p.key(p.i, at); ok {
			// "- key: value": a map whose keys are at the column of the
			// first; read it from a copy of the line without the dash.
			cp := append([]byte(nil), l...)
			cp[n] = ' '
			p.lines[p.i] = cp
			if p.depth++; p.depth > 64 {
				return p.fail()
			}
			v := p.mapping(at)
			p.depth--
			if v == nil {
				return p.fail()
			}
			s.Content = append(s.Content, v)
			continue
		}
		v := p.value(n, at)
		if v == nil {
			return p.fail()
		}
		s.Content = append(s.Content, v)
	}
	if p.failed {
		return nil
	}
	return s
}

// key reads the key of a "key: value" line starting at byte off of line
// i; it returns the key and the offset after its colon.
func (p *blockParser) key(i, off int) (*yaml.Node, int, bool) {
	l := p.lines[i]
	if off >= len(l) {
		return nil, 0, false
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Line: i + 1, Column: p.col(i, off)}
	end := 0
	switch c := l[off]; c {
	case '\'', '"':
		v, e, ok := quoted(l, off)
		if !ok {
			return nil, 0, false
		}
		for e < len(l) && l[e] == ' ' {
			e++
		}
		if e >= len(l) || l[e] != ':' || (e+1 < len(l) && l[e+1] != ' ') {
			return nil, 0, false
		}
		k.Value, k.Tag, end = v, "!!str", e+1
		k.Style = yaml.SingleQuotedStyle
		if c == '"' {
			k.Style = yaml.DoubleQuotedStyle
		}
	default:
		if !plainStart(l[off:]) {
			return nil, 0, false
		}
		colon := -1
		for j := off; j < len(l); j++ {
			if l[j] == '#' && l[j-1] == ' ' {
				return nil, 0, false
			}
			if l[j] == ':' && (j+1 == len(l) || l[j+1] == ' ') {
				colon = j
				break
			}
		}
		if colon < 0 {
			return nil, 0, false
		}
		k.Value = string(bytes.TrimRight(l[off:colon], " "))
		k.Tag, end = resolveTag(k.Value), colon+1
	}
	if end-off > 1000 { // the library's bound on a one-line key
		return nil, 0, false
	}
	return k, end, true
}

// plainStart reports whether s may start a plain scalar in block context.
func plainStart(s []byte) bool {
	switch s[0] {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '-', '?', ':':
		return len(s) > 1 && s[1] != ' '
	}
	return true
}

// value reads what follows a key's colon or an item's dash (at byte off of
// the current line) in a collection at indent n, and moves past it.
func (p *blockParser) value(n, off int) *yaml.Node {
	i := p.i
	l := p.lines[i]
	at := off
	for at < len(l) && l[at] == ' ' {
		at++
	}
	if at == len(l) || (l[at] == '#' && at > off) {
		p.i++
		if p.skipBlank() {
			next := p.lines[p.i]
			ind := indentOf(next)
			if ind > n && !isDocStart(next) {
				return p.block(n)
			}
			if ind == n && isItem(next[n:]) && p.isMapValue(i, off) {
				return p.seq(n)
			}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: i + 1, Column: p.col(i, off)}
	}
	if at == off && off > 0 && l[off-1] == ':' {
		return p.fail() // "key:value" is a plain scalar, not a pair
	}
	v := &yaml.Node{Kind: yaml.ScalarNode, Line: i + 1, Column: p.col(i, at)}
	var end int
	switch c := l[at]; c {
	case '|', '>':
		return p.blockScalar(n, at)
	case '\'', '"':
		s, e, ok := quoted(l, at)
		if !ok {
			return p.fail()
		}
		v.Value, v.Tag, end = s, "!!str", e
		v.Style = yaml.SingleQuotedStyle
		if c == '"' {
			v.Style = yaml.DoubleQuotedStyle
		}
	default:
		if !plainStart(l[at:]) {
			return p.fail()
		}
		end = len(l)
		for j := at; j < len(l); j++ {
			if l[j] == '#' && l[j-1] == ' ' {
				end = j
				break
			}
			if l[j] == ':' && (j+1 == len(l) || l[j+1] == ' ') {
				return p.fail() // a map where a value should be: the library's error
			}
		}
		v.Value = string(bytes.TrimRight(l[at:end], " "))
		v.Tag = resolveTag(v.Value)
		end = len(l)
	}
	if rest := l[end:]; len(rest) > 0 && (rest[0] != ' ' || !blank(rest)) {
		return p.fail()
	}
	p.i++
	// A more indented line after a scalar would continue it (a multi-line
	// plain scalar) or be an error: both left to the library.
	if p.skipBlank() && indentOf(p.lines[p.i]) > n && !isDocStart(p.lines[p.i]) {
		return p.fail()
	}
	return v
}

// isMapValue reports whether off on line i follows a key's colon (a
// sequence at the key's own indent is then its value), not an item's dash.
func (p *blockParser) isMapValue(i, off int) bool { return off > 0 && p.lines[i][off-1] == ':' }

// quoted reads a single- or double-quoted scalar that ends on its line,
// starting at off; it returns the value and the offset after the quote.
func quoted(l []byte, off int) (string, int, bool) {
	q := l[off]
	var b []byte
	for j := off + 1; j < len(l); j++ {
		c := l[j]
		switch {
		case c == q && q == '\'':
			if j+1 < len(l) && l[j+1] == '\'' {
				b = append(b, '\'')
				j++
				continue
			}
			return string(b), j + 1, true
		case c == q:
			return string(b), j + 1, true
		case c == '\\' && q == '"':
			if j+1 >= len(l) {
				return "", 0, false
			}
			j++
			switch e := l[j]; e {
			case '\\', '"', '/':
				b = append(b, e)
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case 'r':
				b = append(b, '\r')
			case '0':
				b = append(b, 0)
			case ' ':
				b = append(b, ' ')
			default:
				return "", 0, false // rarer escapes: the library's
			}
		default:
			b = append(b, c)
		}
	}
	return "", 0, false // goes on past the line
}

// blockScalar reads a literal (|) or folded (>) scalar whose indicator is
// at byte at of the current line, in a collection at indent n.
func (p *blockParser) blockScalar(n, at int) *yaml.Node {
	i := p.i
	l := p.lines[i]
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.LiteralStyle, Line: i + 1, Column: p.col(i, at)}
	folded := l[at] == '>'
	if folded {
		v.Style = yaml.FoldedStyle
	}
	strip := false
	h := at + 1
	if h < len(l) && l[h] == '-' {
		strip = true
		h++
	}
	if h < len(l) && l[h] != ' ' {
		return p.fail() // keep (+), an indentation digit: the library's
	}
	if !blank(l[h:]) {
		return p.fail()
	}
	p.i++
	if p.i >= len(p.lines) {
		return p.fail()
	}
	first := p.lines[p.i]
	bi := indentOf(first)
	if bi <= n || bi == len(first) {
		return p.fail() // empty, or starting with an empty line
	}
	var lines [][]byte
	for p.i < len(p.lines) {
		cur := p.lines[p.i]
		ind := indentOf(cur)
		if ind == len(cur) {
			if ind > bi {
				return p.fail()
			}
			lines = append(lines, nil)
			p.i++
			continue
		}
		if ind < bi {
			break
		}
		if folded && ind > bi {
			return p.fail() // more indented folded lines keep their breaks: the library's
		}
		lines = append(lines, cur[bi:])
		p.i++
	}
	last := len(lines)
	for last > 0 && lines[last-1] == nil {
		last--
	}
	if last == len(lines) && p.i == len(p.lines) && p.noFinalBreak {
		return p.fail()
	}
	var b strings.Builder
	for j, x := range lines[:last] {
		if j > 0 {
			switch {
			case !folded:
				b.WriteByte('\n')
			case x == nil:
				b.WriteByte('\n')
			case lines[j-1] != nil:
				b.WriteByte(' ')
			}
		}
		b.Write(x)
	}
	if !strip {
		b.WriteByte('\n')
	}
	v.Value = b.String()
	if p.skipBlank() && indentOf(p.lines[p.i]) > n && !isDocStart(p.lines[p.i]) {
		return p.fail()
	}
	return v
}

// resolveTag is the tag YAML 1.2's core schema, as the library reads it,
// gives a plain scalar.
func resolveTag(s string) string {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return "!!null"
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "-0", "-0.0":
		return "!!float"
	case "<<":
		return "!!merge"
	}
	switch c := s[0]; {
	case c == '.':
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return "!!float"
		}
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		if isTimestamp(s) {
			return "!!timestamp"
		}
		plain := strings.ReplaceAll(s, "_", "")
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return "!!int"
		}
		if _, err := strconv.ParseUint(strings.TrimPrefix(plain, "+"), 0, 64); err == nil {
			return "!!int"
		}
		if yamlFloat.MatchString(plain) {
			if _, err := strconv.ParseFloat(plain, 64); err == nil {
				return "!!float"
			}
		}
	}
	return "!!str"
}

var yamlFloat = regexp.MustCompile(`^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$`)

// isTimestamp: the date and date-time forms of YAML's timestamp type that
// the library accepts (four-digit year first).
func isTimestamp(s string) bool {
	if len(s) < 5 || s[4] != '-' {
		return false
	}
	for _, c := range s[:4] {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, layout := range []string{"2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999", "2006-1-2"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
