package rule

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
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
	var p blockParser
	return p.parse(data)
}

// parsers keeps blockParsers, with their slabs, between files: the nodes
// of one file's parse are dead once its rules are read from them, so the
// next file's nodes reuse their memory instead of growing the heap by
// some 40 MB on a first start with SigmaHQ's rules.
var parsers = sync.Pool{New: func() any { return new(blockParser) }}

// release clears what the parse left (its nodes' strings hold the text)
// and returns p to parsers: the nodes it gave must no longer be read.
func (p *blockParser) release() {
	clear(p.nodes)
	clear(p.ptrs)
	clear(p.lines)
	clear(p.text[:cap(p.text)])
	clear(p.stack[:cap(p.stack)])
	*p = blockParser{nodes: p.nodes[:0], ptrs: p.ptrs[:0], lines: p.lines[:0], text: p.text[:0], stack: p.stack[:0]}
	parsers.Put(p)
}

func (p *blockParser) parse(data []byte) ([]*yaml.Node, bool) {
	ok, ascii := plainText(data)
	if !ok {
		return nil, false
	}
	// The text is made a string once, and every scalar that needs no
	// unescaping is a substring of it: one allocation for the file instead
	// of one for each key and value (the rules keep most of the text
	// anyway: titles, descriptions, references, fields and values).
	text := string(data)
	// The lines are split at once: sized first, they are one allocation.
	nl := strings.Count(text, "\n") + 1
	if cap(p.lines) < nl {
		p.lines = make([]string, 0, nl)
	}
	p.ascii = ascii
	// A rule file has about one and a half nodes a line.
	p.slab = nl*3/2 + 8
	if cap(p.nodes)-len(p.nodes) < p.slab {
		p.nodes = make([]yaml.Node, 0, p.slab)
	}
	if cap(p.ptrs)-len(p.ptrs) < p.slab {
		p.ptrs = make([]*yaml.Node, 0, p.slab)
	}
	if len(text) > 0 && text[len(text)-1] != '\n' {
		p.noFinalBreak = true
	}
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			i = len(text)
		}
		l := text[:i]
		if isMarker(l) && !isDocStart(l) {
			return nil, false // "..." or "---" with content after it
		}
		p.lines = append(p.lines, l)
		text = text[min(i+1, len(text)):]
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
		if l[0] == '%' || strings.HasPrefix(l, "...") || indentOf(l) != 0 {
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
	lines        []string
	i            int // the line being read
	depth        int
	failed       bool
	noFinalBreak bool // the text's last line has no line break
	ascii        bool // the text is ASCII: a column is a byte offset

	// The nodes, and the children lists of collections, are cut from
	// slabs: a file's nodes are a few allocations, not one each (none
	// when parsers gives back a parser whose slabs are large enough), and
	// each collection's Content is sized exactly (its children are
	// gathered on stack first).
	nodes []yaml.Node
	ptrs  []*yaml.Node
	stack []*yaml.Node
	slab  int      // the size of a new slab
	text  []string // the lines of a block scalar, reused
}

// node returns a new node from the slab.
func (p *blockParser) node(kind yaml.Kind, tag string, line, col int) *yaml.Node {
	if len(p.nodes) == cap(p.nodes) {
		p.slab = p.slab/3 + 8 // the estimate was short: a smaller slab more
		p.nodes = make([]yaml.Node, 0, p.slab)
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	n.Kind, n.Tag, n.Line, n.Column = kind, tag, line, col
	return n
}

// children moves the nodes pushed on the stack since base into an exactly
// sized slice (cut from a slab, its capacity its length, so that an
// append elsewhere copies rather than overwrites).
func (p *blockParser) children(base int) []*yaml.Node {
	k := len(p.stack) - base
	if k == 0 {
		return nil
	}
	if cap(p.ptrs)-len(p.ptrs) < k {
		p.ptrs = make([]*yaml.Node, 0, max(k, p.slab))
	}
	at := len(p.ptrs)
	p.ptrs = append(p.ptrs, p.stack[base:]...)
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return p.ptrs[at:len(p.ptrs):len(p.ptrs)]
}

// plainText reports whether data holds only characters that the YAML
// library takes as they are: printable UTF-8 and line feeds (no tabs,
// carriage returns, byte order marks or the line breaks of YAML 1.1);
// and whether they are all ASCII.
func plainText(data []byte) (ok, ascii bool) {
	ascii = true
	for i := 0; i < len(data); {
		b := data[i]
		if b < utf8.RuneSelf {
			if (b < 0x20 && b != '\n') || b == 0x7f {
				return false, false
			}
			i++
			continue
		}
		ascii = false
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError || r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
			return false, false
		}
		i += size
	}
	return true, ascii
}

func indentOf(l string) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

// blank reports whether a line holds nothing but spaces and a comment.
func blank(l string) bool {
	n := indentOf(l)
	return n == len(l) || l[n] == '#'
}

// isMarker reports whether a line starts with a document marker, "---"
// or "...", which ends any node before it.
func isMarker(l string) bool {
	return (strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...")) && (len(l) == 3 || l[3] == ' ')
}

func isDocStart(l string) bool {
	if !strings.HasPrefix(l, "---") {
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
	if p.ascii {
		return off + 1
	}
	return utf8.RuneCountInString(p.lines[i][:off]) + 1
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

func isItem(s string) bool { return len(s) > 0 && s[0] == '-' && (len(s) == 1 || s[1] == ' ') }

// mapping reads the keys at indent n from the current line on.
func (p *blockParser) mapping(n int) *yaml.Node {
	m := p.node(yaml.MappingNode, "!!map", p.i+1, p.col(p.i, n))
	base := len(p.stack)
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
		p.stack = append(p.stack, k, v)
	}
	if p.failed {
		return nil
	}
	m.Content = p.children(base)
	return m
}

// seq reads the items at indent n from the current line on.
func (p *blockParser) seq(n int) *yaml.Node {
	s := p.node(yaml.SequenceNode, "!!seq", p.i+1, p.col(p.i, n))
	base := len(p.stack)
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
			p.lines[p.i] = l[:n] + " " + l[n+1:]
			if p.depth++; p.depth > 64 {
				return p.fail()
			}
			v := p.mapping(at)
			p.depth--
			if v == nil {
				return p.fail()
			}
			p.stack = append(p.stack, v)
			continue
		}
		v := p.value(n, at)
		if v == nil {
			return p.fail()
		}
		p.stack = append(p.stack, v)
	}
	if p.failed {
		return nil
	}
	s.Content = p.children(base)
	return s
}

// key reads the key of a "key: value" line starting at byte off of line
// i; it returns the key and the offset after its colon.
func (p *blockParser) key(i, off int) (*yaml.Node, int, bool) {
	l := p.lines[i]
	if off >= len(l) {
		return nil, 0, false
	}
	end := 0
	var value, tag string
	var style yaml.Style
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
		value, tag, end = v, "!!str", e+1
		style = yaml.SingleQuotedStyle
		if c == '"' {
			style = yaml.DoubleQuotedStyle
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
		value = strings.TrimRight(l[off:colon], " ")
		tag, end = resolveTag(value), colon+1
	}
	if end-off > 1000 { // the library's bound on a one-line key
		return nil, 0, false
	}
	k := p.node(yaml.ScalarNode, tag, i+1, p.col(i, off))
	k.Value, k.Style = value, style
	return k, end, true
}

// plainStart reports whether s may start a plain scalar in block context.
func plainStart(s string) bool {
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
		return p.node(yaml.ScalarNode, "!!null", i+1, p.col(i, off))
	}
	if at == off && off > 0 && l[off-1] == ':' {
		return p.fail() // "key:value" is a plain scalar, not a pair
	}
	var end int
	var value, tag string
	var style yaml.Style
	switch c := l[at]; c {
	case '|', '>':
		return p.blockScalar(n, at)
	case '\'', '"':
		s, e, ok := quoted(l, at)
		if !ok {
			return p.fail()
		}
		value, tag, end = s, "!!str", e
		style = yaml.SingleQuotedStyle
		if c == '"' {
			style = yaml.DoubleQuotedStyle
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
		value = strings.TrimRight(l[at:end], " ")
		tag = resolveTag(value)
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
	v := p.node(yaml.ScalarNode, tag, i+1, p.col(i, at))
	v.Value, v.Style = value, style
	return v
}

// isMapValue reports whether off on line i follows a key's colon (a
// sequence at the key's own indent is then its value), not an item's dash.
func (p *blockParser) isMapValue(i, off int) bool { return off > 0 && p.lines[i][off-1] == ':' }

// quoted reads a single- or double-quoted scalar that ends on its line,
// starting at off; it returns the value and the offset after the quote.
func quoted(l string, off int) (string, int, bool) {
	q := l[off]
	// Most quoted values hold no escape: they are the text between the
	// quotes as it is.
	j := off + 1
	for j < len(l) && l[j] != q && (q == '\'' || l[j] != '\\') {
		j++
	}
	if j < len(l) && l[j] == q && (q == '"' || j+1 == len(l) || l[j+1] != '\'') {
		return l[off+1 : j], j + 1, true
	}
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
	style := yaml.LiteralStyle
	folded := l[at] == '>'
	if folded {
		style = yaml.FoldedStyle
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
	// The lines are gathered (an empty one as "": a line with content is
	// never empty after its indent) and their length summed, so that the
	// value is built in one allocation.
	lines := p.text[:0]
	size := 1
	for p.i < len(p.lines) {
		cur := p.lines[p.i]
		ind := indentOf(cur)
		if ind == len(cur) {
			if ind > bi {
				return p.fail()
			}
			lines = append(lines, "")
			size++
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
		size += len(cur) - bi + 1
		p.i++
	}
	p.text = lines[:0]
	last := len(lines)
	for last > 0 && lines[last-1] == "" {
		last--
	}
	if last == len(lines) && p.i == len(p.lines) && p.noFinalBreak {
		return p.fail()
	}
	var b strings.Builder
	b.Grow(size)
	for j, x := range lines[:last] {
		if j > 0 {
			switch {
			case !folded:
				b.WriteByte('\n')
			case x == "":
				b.WriteByte('\n')
			case lines[j-1] != "":
				b.WriteByte(' ')
			}
		}
		b.WriteString(x)
	}
	if !strip {
		b.WriteByte('\n')
	}
	if p.skipBlank() && indentOf(p.lines[p.i]) > n && !isDocStart(p.lines[p.i]) {
		return p.fail()
	}
	v := p.node(yaml.ScalarNode, "!!str", i+1, p.col(i, at))
	v.Value, v.Style = b.String(), style
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

var timestampLayouts = []struct {
	layout string
	sep    byte
}{
	{"2006-1-2T15:4:5.999999999Z07:00", 'T'},
	{"2006-1-2t15:4:5.999999999Z07:00", 't'},
	{"2006-1-2 15:4:5.999999999", ' '},
	{"2006-1-2", 0},
}

func parses(layout, s string) bool {
	_, err := time.Parse(layout, s)
	return err == nil
}

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
	// A layout is tried only when s has its separator, which time.Parse
	// requires: a date such as every rule's would otherwise fail three
	// parses first.
	for _, l := range timestampLayouts {
		if (l.sep == 0 || strings.IndexByte(s, l.sep) >= 0) && parses(l.layout, s) {
			return true
		}
	}
	return false
}
