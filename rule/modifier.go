package rule

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// posError is a problem at a place in the file; the loader adds the file
// name and turns it into an *Error.
type posError struct {
	pos    Pos
	reason string
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

// laterModifiers are Sigma modifiers this version recognises but does not
// evaluate yet; rules using them are rejected with a clear reason.
var laterModifiers = map[string]bool{
	"base64": true, "base64offset": true, "utf16": true, "utf16le": true,
	"utf16be": true, "wide": true, "expand": true, "fieldref": true,
	"minute": true, "hour": true, "day": true, "week": true, "month": true,
	"year": true,
}

// windashChars are the characters windash makes interchangeable.
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// maxWindash bounds the dashes of one value under windash: the variants
// grow as 5^n.
const maxWindash = 4

// newMatcher builds the matcher of `key: values`. key is the map key as
// written (field and modifiers), keyPos its position and keyShift 1 when the
// key was quoted (so that modifier columns come out right). list tells
// whether the values were written as a YAML list.
func newMatcher(key string, keyPos Pos, keyShift int, vals []scalar, list bool) (*Matcher, *posError) {
	parts := strings.Split(key, "|")
	m := &Matcher{Field: parts[0], Pos: keyPos}
	if len(parts) > 1 {
		m.Modifiers = parts[1:]
	}
	var (
		position string // contains, startswith, endswith
		typed    string // re, cidr, lt, lte, gt, gte, exists
		reFlags  string
		windash  bool
	)
	col := keyPos.Col + keyShift + len(parts[0]) + 1
	for _, mod := range m.Modifiers {
		at := Pos{keyPos.Line, col}
		col += len(mod) + 1
		switch mod {
		case "contains", "startswith", "endswith":
			if position != "" {
				return nil, errAt(at, "modifier %q cannot follow %q", mod, position)
			}
			position = mod
		case "re", "cidr", "lt", "lte", "gt", "gte", "exists":
			if typed != "" {
				return nil, errAt(at, "modifier %q cannot follow %q", mod, typed)
			}
			typed = mod
		case "i", "m", "s":
			if typed != "re" {
				return nil, errAt(at, "modifier %q applies only after 're'", mod)
			}
			if !strings.Contains(reFlags, mod) {
				reFlags += mod
			}
		case "all":
			m.All = true
		case "cased":
			m.Cased = true
		case "windash":
			windash = true
		case "neq":
			m.Neq = true
		case "":
			return nil, errAt(at, "empty modifier in %q", key)
		default:
			if laterModifiers[mod] {
				return nil, errAt(at, "modifier %q is not supported yet", mod)
			}
			return nil, errAt(at, "unknown modifier %q", mod)
		}
	}
	if typed != "" && (position != "" || windash || m.Neq) {
		other := position
		if other == "" {
			other = map[bool]string{true: "windash", false: "neq"}[windash]
		}
		return nil, errAt(keyPos, "modifier %q cannot be combined with %q", typed, other)
	}
	if m.Cased && typed != "" && typed != "re" {
		return nil, errAt(keyPos, "modifier 'cased' cannot be combined with %q", typed)
	}
	if m.Neq && m.All {
		return nil, errAt(keyPos, "modifier 'neq' cannot be combined with 'all'")
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
	if m.Field == "" && (typed == "exists" || m.Neq) {
		return nil, errAt(keyPos, "a keyword search (no field name) cannot use %q", m.Modifiers)
	}

	switch typed {
	case "":
		m.Op = OpMatch
		if vals[0].null {
			m.Op = OpNull
			m.Values = []Value{{Raw: "null"}}
			return m, nil
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
	}

	for _, v := range vals {
		val := Value{Raw: v.text}
		switch m.Op {
		case OpMatch:
			variants := []string{v.text}
			if windash {
				var err *posError
				if variants, err = windashVariants(v.text, v.pos); err != nil {
					return nil, err
				}
			}
			for _, raw := range variants {
				p := ParsePattern(raw)
				switch {
				case position == "contains" || m.Field == "":
					// Keywords are substring searches over the event's values.
					p = Pattern{{Kind: Star}}.Concat(p).Concat(Pattern{{Kind: Star}})
				case position == "startswith":
					p = p.Concat(Pattern{{Kind: Star}})
				case position == "endswith":
					p = Pattern{{Kind: Star}}.Concat(p)
				}
				if !m.Cased {
					p = p.Lower()
				}
				val.Patterns = append(val.Patterns, p)
			}
		case OpRegexp:
			src := v.text
			if reFlags != "" {
				src = "(?" + reFlags + ")" + src
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
			val.Prefix = p.Masked()
		case OpLT, OpLTE, OpGT, OpGTE:
			f, err := strconv.ParseFloat(v.text, 64)
			if err != nil {
				return nil, errAt(v.pos, "modifier %q needs a number, not %q", typed, v.text)
			}
			val.Number = f
		case OpExists:
			switch strings.ToLower(v.text) {
			case "true", "yes":
				val.Exists = true
			case "false", "no":
			default:
				return nil, errAt(v.pos, "'exists' takes true or false, not %q", v.text)
			}
		}
		m.Values = append(m.Values, val)
	}
	return m, nil
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
