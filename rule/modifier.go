package rule

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// posError is a problem at a place in the file; the loader adds the file
// name and turns it into an *Error.
type posError struct {
	pos    Pos
	reason string
	// unset names the placeholder no configuration defines, when that is
	// the reason (Options.OptionalPlaceholders turns it into Unconfigured).
	unset string
}

func (e *posError) Error() string { return fmt.Sprintf("%d:%d: %s", e.pos.Line, e.pos.Col, e.reason) }

func errAt(pos Pos, format string, args ...any) *posError {
	return &posError{pos: pos, reason: fmt.Sprintf(format, args...)}
}

// scalar is one value of a search as the loader found it.
type scalar struct {
	text string
	null bool
	pos  Pos
}

// windashChars are the characters windash makes interchangeable.
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// maxWindash bounds the dashes of one value under windash: the variants
// grow as 5^n.
const maxWindash = 4

// maxVariants bounds the literal alternatives one value may expand to
// (placeholders times windash times encodings), so that a rule cannot make
// the engine's pattern sets explode.
const maxVariants = 4096

var timeParts = map[string]TimePart{
	"minute": Minute, "hour": Hour, "day": Day, "week": Week, "month": Month, "year": Year,
}

// modifiers is what a key's modifier chain asks for, checked for
// combinations that make sense.
type modifiers struct {
	position string // contains, startswith, endswith
	typed    string // re, cidr, lt, lte, gt, gte, exists, fieldref, or a payload kind
	reFlags  string
	windash  bool
	expand   bool
	utf16    string // utf16le, utf16be, utf16 (wide is utf16le)
	base64   string // base64, base64offset
	time     TimePart
	// statement: sqli reads a whole SQL statement, not a web value.
	statement bool
}

// newMatcher builds the matcher of `key: values`. key is the map key as
// written (field and modifiers), keyPos its position and keyShift 1 when the
// key was quoted (so that modifier columns come out right). list tells
// whether the values were written as a YAML list. o supplies the
// placeholders of expand.
func newMatcher(key string, keyPos Pos, keyShift int, vals []scalar, list bool, o *Options) (*Matcher, *posError) {
	parts := strings.Split(key, "|")
	m := &Matcher{Field: parts[0], Pos: keyPos}
	if len(parts) > 1 {
		m.Modifiers = parts[1:]
	}
	var mod modifiers
	col := keyPos.Col + keyShift + len(parts[0]) + 1
	for _, name := range m.Modifiers {
		at := Pos{keyPos.Line, col}
		col += len(name) + 1
		if err := mod.add(m, name, at, key); err != nil {
			return nil, err
		}
	}
	if err := mod.check(m, keyPos); err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, errAt(keyPos, "%q has no values", key)
	}
	if m.All && len(vals) < 2 {
		return nil, errAt(keyPos, "modifier 'all' needs a list of at least two values")
	}
	for _, v := range vals {
		if v.null && (len(vals) > 1 || list) {
			return nil, errAt(v.pos, "null cannot be part of a list of values: write it as its own search")
		}
		if v.null && len(m.Modifiers) > 0 {
			return nil, errAt(v.pos, "null takes no modifiers")
		}
	}

	m.Time = mod.time
	switch mod.typed {
	case "":
		m.Op = OpMatch
		if vals[0].null {
			m.Op = OpNull
			m.Values = []Value{{Raw: "null"}}
			return m, nil
		}
		if mod.time != NoTime {
			m.Op = OpEqual
		}
	case "re":
		m.Op = OpRegexp
	case "cidr":
		m.Op = OpCIDR
	case "lt":
		m.Op = OpLT
	case "lte":
		m.Op = OpLTE
	case "gt":
		m.Op = OpGT
	case "gte":
		m.Op = OpGTE
	case "exists":
		m.Op = OpExists
		if len(vals) != 1 || list {
			return nil, errAt(keyPos, "'exists' takes one value, true or false")
		}
	case "fieldref":
		m.Op = OpFieldRef
		m.Position = mod.position
	case "sqli", "xss", "cmdi", "traversal":
		m.Op = OpPayload
		m.Payload = mod.typed
		if mod.statement {
			m.Payload = "sqli-statement"
		}
		if len(vals) != 1 || list {
			return nil, errAt(keyPos, "%q takes one value, true or false", mod.typed)
		}
	}

	m.Values = make([]Value, 0, len(vals))
	for _, v := range vals {
		val := Value{Raw: v.text}
		switch m.Op {
		case OpMatch:
			pats, err := mod.patterns(m, v, o)
			if err != nil {
				return nil, err
			}
			val.Patterns = pats
		case OpRegexp:
			src := v.text
			if mod.reFlags != "" {
				src = "(?" + mod.reFlags + ")" + src
			}
			re, err := regexp.Compile(src)
			if err != nil {
				return nil, errAt(v.pos, "bad regular expression: %v", err)
			}
			val.Regexp = re
		case OpCIDR:
			p, err := netip.ParsePrefix(v.text)
			if err != nil {
				return nil, errAt(v.pos, "bad CIDR network %q: want address/bits such as 10.0.0.0/8", v.text)
			}
			// An IPv4-mapped IPv6 network is the IPv4 network it maps:
			// addresses are compared unmapped.
			if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			val.Prefix = p.Masked()
		case OpLT, OpLTE, OpGT, OpGTE, OpEqual:
			f, err := strconv.ParseFloat(v.text, 64)
			if err != nil {
				what := mod.typed
				if what == "" {
					what = mod.time.String()
				}
				return nil, errAt(v.pos, "modifier %q needs a number, not %q", what, v.text)
			}
			val.Number = f
		case OpExists, OpPayload:
			switch strings.ToLower(v.text) {
			case "true", "yes":
				val.Exists = true
			case "false", "no":
			default:
				return nil, errAt(v.pos, "%q takes true or false, not %q", mod.typed, v.text)
			}
		case OpFieldRef:
			if v.text == "" || strings.ContainsAny(v.text, "|*?") {
				return nil, errAt(v.pos, "'fieldref' takes a field name, not %q", v.text)
			}
			val.Ref = v.text
		}
		m.Values = append(m.Values, val)
	}
	return m, nil
}

// add records one modifier of the chain.
func (mod *modifiers) add(m *Matcher, name string, at Pos, key string) *posError {
	switch name {
	case "contains", "startswith", "endswith":
		if mod.position != "" {
			return errAt(at, "modifier %q cannot follow %q", name, mod.position)
		}
		mod.position = name
	case "re", "cidr", "lt", "lte", "gt", "gte", "exists", "fieldref", "sqli", "xss", "cmdi", "traversal":
		if mod.typed != "" {
			return errAt(at, "modifier %q cannot follow %q", name, mod.typed)
		}
		mod.typed = name
	case "statement":
		if mod.typed != "sqli" {
			return errAt(at, "modifier %q applies only after 'sqli'", name)
		}
		mod.statement = true
	case "i", "m", "s":
		if mod.typed != "re" {
			return errAt(at, "modifier %q applies only after 're'", name)
		}
		if !strings.Contains(mod.reFlags, name) {
			mod.reFlags += name
		}
	case "all":
		m.All = true
	case "cased":
		m.Cased = true
	case "windash":
		mod.windash = true
	case "neq":
		m.Neq = true
	case "expand":
		mod.expand = true
	case "utf16le", "wide", "utf16be", "utf16":
		if mod.utf16 != "" {
			return errAt(at, "modifier %q cannot follow %q", name, mod.utf16)
		}
		if mod.base64 != "" {
			return errAt(at, "modifier %q must come before %q: the text is encoded first, then base64", name, mod.base64)
		}
		if name == "wide" {
			name = "utf16le"
		}
		mod.utf16 = name
	case "base64", "base64offset":
		if mod.base64 != "" {
			return errAt(at, "modifier %q cannot follow %q", name, mod.base64)
		}
		mod.base64 = name
	case "minute", "hour", "day", "week", "month", "year":
		if mod.time != NoTime {
			return errAt(at, "modifier %q cannot follow %q", name, mod.time)
		}
		mod.time = timeParts[name]
	case "":
		return errAt(at, "empty modifier in %q", key)
	default:
		return errAt(at, "unknown modifier %q", name)
	}
	return nil
}

// check rejects combinations of modifiers that have no meaning.
func (mod *modifiers) check(m *Matcher, keyPos Pos) *posError {
	transforms := mod.windash || mod.expand || mod.utf16 != "" || mod.base64 != ""
	transformName := func() string {
		switch {
		case mod.windash:
			return "windash"
		case mod.expand:
			return "expand"
		case mod.utf16 != "":
			return mod.utf16
		}
		return mod.base64
	}
	keyword := m.Field == ""
	if mod.time != NoTime {
		switch {
		case keyword:
			return errAt(keyPos, "a keyword search (no field name) cannot use %q", mod.time.String())
		case mod.typed != "" && mod.typed != "lt" && mod.typed != "lte" && mod.typed != "gt" && mod.typed != "gte":
			return errAt(keyPos, "modifier %q cannot be combined with %q", mod.time.String(), mod.typed)
		case mod.position != "" || transforms || m.Cased:
			other := mod.position
			if other == "" && transforms {
				other = transformName()
			} else if other == "" {
				other = "cased"
			}
			return errAt(keyPos, "modifier %q cannot be combined with %q", mod.time.String(), other)
		}
		return nil
	}
	switch mod.typed {
	case "":
	case "fieldref":
		if transforms {
			return errAt(keyPos, "modifier %q cannot be combined with %q", mod.typed, transformName())
		}
		if keyword {
			return errAt(keyPos, "a keyword search (no field name) cannot use 'fieldref'")
		}
	default:
		if mod.position != "" || transforms || m.Neq {
			other := mod.position
			if other == "" && transforms {
				other = transformName()
			} else if other == "" {
				other = "neq"
			}
			return errAt(keyPos, "modifier %q cannot be combined with %q", mod.typed, other)
		}
		if m.Cased && mod.typed != "re" {
			return errAt(keyPos, "modifier 'cased' cannot be combined with %q", mod.typed)
		}
	}
	if m.Neq && m.All {
		return errAt(keyPos, "modifier 'neq' cannot be combined with 'all'")
	}
	if keyword && (mod.typed == "exists" || m.Neq || m.Op == OpPayload || isPayload(mod.typed)) {
		return errAt(keyPos, "a keyword search (no field name) cannot use %q", m.Modifiers)
	}
	if mod.base64 == "base64offset" && mod.position != "contains" {
		// Its variants are the inner, position-independent part of the
		// encoding: they can only be found inside a longer value.
		return errAt(keyPos, "modifier 'base64offset' needs 'contains' (write %s|base64offset|contains)", m.Field)
	}
	return nil
}

// patterns turns one value into its alternative patterns: placeholders
// expanded, windash variants, encodings, then the position wildcards and
// case folding. The matching core only ever sees the resulting patterns.
func (mod *modifiers) patterns(m *Matcher, v scalar, o *Options) ([]Pattern, *posError) {
	raws := []string{v.text}
	if mod.expand {
		var err *posError
		if raws, err = expandPlaceholders(v.text, v.pos, o); err != nil {
			return nil, err
		}
	}
	if mod.windash {
		var out []string
		for _, r := range raws {
			vs, err := windashVariants(r, v.pos)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
		raws = out
	}
	if len(raws) > maxVariants {
		return nil, errAt(v.pos, "value expands to %d alternatives (at most %d)", len(raws), maxVariants)
	}
	var pats []Pattern
	for _, raw := range raws {
		p := ParsePattern(raw)
		if mod.utf16 != "" || mod.base64 != "" {
			lit, ok := p.Literal()
			if !ok {
				enc := mod.base64
				if enc == "" {
					enc = mod.utf16
				}
				return nil, errAt(v.pos, "modifier %q cannot encode the wildcards of %q: escape them (\\* \\?) or drop them", enc, raw)
			}
			for _, e := range encode([]byte(lit), mod.utf16, mod.base64) {
				pats = append(pats, Pattern{{Kind: Lit, Text: e}})
			}
			continue
		}
		pats = append(pats, p)
	}
	// Keywords are substring searches over the event's values.
	lead := mod.position == "contains" || mod.position == "endswith" || m.Field == ""
	trail := mod.position == "contains" || mod.position == "startswith" || m.Field == ""
	for i, p := range pats {
		pats[i] = p.wrap(lead, trail, !m.Cased)
	}
	return dedupPatterns(pats), nil
}

// dedupPatterns drops repeated alternatives (base64offset of a short value,
// lower-cased variants), keeping the first of each.
func dedupPatterns(ps []Pattern) []Pattern {
	if len(ps) < 2 {
		return ps
	}
	seen := make(map[string]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		k := p.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// encode applies the text encoding (utf16le, utf16be, utf16 with a byte
// order mark) and then base64 or base64offset to b, returning the
// alternatives as strings of bytes.
func encode(b []byte, utf string, b64 string) []string {
	switch utf {
	case "utf16le", "utf16be", "utf16":
		units := utf16.Encode([]rune(string(b)))
		var out []byte
		if utf == "utf16" {
			out = append(out, 0xFF, 0xFE) // little-endian byte order mark
		}
		for _, u := range units {
			if utf == "utf16be" {
				out = append(out, byte(u>>8), byte(u))
			} else {
				out = append(out, byte(u), byte(u>>8))
			}
		}
		b = out
	}
	switch b64 {
	case "base64":
		return []string{base64.StdEncoding.EncodeToString(b)}
	case "base64offset":
		return base64Offsets(b)
	}
	return []string{string(b)}
}

// base64Offsets returns the part of b's base64 encoding that does not
// depend on what surrounds b, for b starting at each of the three byte
// offsets modulo 3 inside a longer text. Output character k carries input
// bits [6k, 6k+6); with b shifted by s bytes its bits are [8s, 8s+8n), so
// the characters fully inside are ceil(8s/6) up to floor((8s+8n)/6).
func base64Offsets(b []byte) []string {
	var out []string
	for s := 0; s < 3; s++ {
		shifted := append(make([]byte, s), b...)
		enc := base64.StdEncoding.EncodeToString(shifted)
		from := (8*s + 5) / 6
		to := (8*s + 8*len(b)) / 6
		if to > from {
			out = append(out, enc[from:to])
		}
	}
	return out
}

// placeholderName matches %name% in a value under expand.
var placeholderName = regexp.MustCompile(`%([A-Za-z0-9_.\-]+)%`)

// expandPlaceholders replaces each %name% of s by each of the configured
// values of name (a value with two placeholders gives every combination).
// A placeholder no configuration defines rejects the rule.
func expandPlaceholders(s string, pos Pos, o *Options) ([]string, *posError) {
	locs := placeholderName.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return []string{s}, nil
	}
	out := []string{""}
	last := 0
	for _, l := range locs {
		name := s[l[2]:l[3]]
		vals, ok := o.placeholder(name)
		if !ok {
			e := errAt(pos, "placeholder %%%s%% is not defined: set it under placeholders in the configuration", name)
			e.unset = name
			return nil, e
		}
		if len(vals) == 0 {
			return nil, errAt(pos, "placeholder %%%s%% has no values in the configuration", name)
		}
		if len(out)*len(vals) > maxVariants {
			return nil, errAt(pos, "placeholders expand the value to more than %d alternatives", maxVariants)
		}
		lit := s[last:l[0]]
		next := make([]string, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+lit+v)
			}
		}
		out = next
		last = l[1]
	}
	for i := range out {
		out[i] += s[last:]
	}
	return out, nil
}

// windashVariants returns every way of writing s with each of its dashes
// (any of windashChars) replaced by any of windashChars; s first.
func windashVariants(s string, pos Pos) ([]string, *posError) {
	type piece struct {
		text string
		dash bool
	}
	var pieces []piece
	n := 0
	for rest := s; rest != ""; {
		i, w := -1, 0
		for _, d := range windashChars {
			if j := strings.Index(rest, d); j >= 0 && (i < 0 || j < i) {
				i, w = j, len(d)
			}
		}
		if i < 0 {
			pieces = append(pieces, piece{text: rest})
			break
		}
		if i > 0 {
			pieces = append(pieces, piece{text: rest[:i]})
		}
		pieces = append(pieces, piece{text: rest[i : i+w], dash: true})
		n++
		rest = rest[i+w:]
	}
	if n > maxWindash {
		return nil, errAt(pos, "windash on a value with %d dashes (at most %d): split the value", n, maxWindash)
	}
	out := []string{""}
	for _, p := range pieces {
		if !p.dash {
			for i := range out {
				out[i] += p.text
			}
			continue
		}
		next := make([]string, 0, len(out)*len(windashChars))
		for _, o := range out {
			next = append(next, o+p.text) // the written dash first
			for _, d := range windashChars {
				if d != p.text {
					next = append(next, o+d)
				}
			}
		}
		out = next
	}
	return out, nil
}

// isPayload tells the modifiers that look for an attack payload in a web
// request value.
func isPayload(typed string) bool {
	switch typed {
	case "sqli", "xss", "cmdi", "traversal":
		return true
	}
	return false
}
