// Package rule holds vigil's rule model and its loader: Sigma detection
// rules parsed from YAML into an AST (named searches and a condition tree)
// that the detect package compiles, Sigma correlation rules and filters
// over them, and the taxonomy that maps rule logsources onto event ones.
package rule

import (
	"net/netip"
	"regexp"

	"github.com/vigil-sec/vigil/event"
)

// Rule is one parsed detection rule.
type Rule struct {
	Meta
	Fields    []string
	Logsource event.Logsource
	Detection *Detection

	// Aggregation (vigil extension) is how the rule's signals gather
	// into alerts; nil: by host, account and source address, within the
	// store's dedup window.
	Aggregation *Aggregation

	// Filters lists the ids of the Sigma filters applied to the rule (see
	// ApplyFilters), in the order they were applied.
	Filters []string

	// File and Line locate the rule's document (the line of its first key).
	File string
	Line int
}

// Detection is a rule's detection section: named searches and the
// condition over them.
type Detection struct {
	// Searches in document order.
	Searches []*Search
	// Condition is the parsed condition; a condition list is an Or of its
	// items.
	Condition Expr
	// Pos locates the condition's value in the file.
	Pos Pos
}

// Search returns the search named name, or nil.
func (d *Detection) Search(name string) *Search {
	for _, s := range d.Searches {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Search is a named search identifier. It matches when every matcher of at
// least one of its groups matches: a map is one group, a list of maps is
// one group per map, and a keyword list is one group holding one keyword
// matcher.
type Search struct {
	Name   string
	Pos    Pos
	Groups [][]*Matcher
}

// Op is what a matcher compares.
type Op uint8

const (
	// OpMatch compares against wildcard patterns (plain values, contains,
	// startswith, endswith, windash).
	OpMatch Op = iota
	// OpRegexp matches a regular expression (re).
	OpRegexp
	// OpCIDR tests IP membership in a network (cidr).
	OpCIDR
	// OpLT, OpLTE, OpGT and OpGTE compare numbers (lt, lte, gt, gte).
	OpLT
	OpLTE
	OpGT
	OpGTE
	// OpExists tests the presence of the field (exists: true/false).
	OpExists
	// OpNull matches an absent or empty field (value null).
	OpNull
	// OpEqual compares numbers for equality: a time part (minute…year)
	// without lt, lte, gt or gte.
	OpEqual
	// OpFieldRef compares the field with another field of the same event
	// (fieldref); Value.Ref names it.
	OpFieldRef
	// OpPayload looks for an attack payload in a web request value (sqli,
	// xss, cmdi, traversal); Matcher.Payload names the kind and
	// Value.Exists whether one must be found (true) or not (false).
	OpPayload
)

var opNames = [...]string{"match", "re", "cidr", "lt", "lte", "gt", "gte", "exists", "null", "eq", "fieldref", "payload"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op?"
}

// Matcher is one field of a search with its values: `Field|mod1|mod2:
// values`. Field is empty for a keyword search, which looks at every value
// of the event and whose patterns are substring patterns.
//
// A field with several values matches, by default, when any value matches
// any of the field's values; with All, when every value matches some value
// of the field. Neq negates the match and requires the field to be present.
type Matcher struct {
	Field     string
	Modifiers []string // as written, in order
	Op        Op
	All       bool
	Cased     bool
	Neq       bool
	// Time, when set, makes the field a timestamp whose part (minute…year)
	// is compared as a number by OpEqual or OpLT…OpGTE.
	Time TimePart
	// Position is how OpFieldRef compares: "" (equal), "contains",
	// "startswith" or "endswith".
	Position string
	// Payload is the kind of attack payload OpPayload looks for: sqli,
	// xss, cmdi or traversal; sqli-statement for sqli|statement (a
	// whole SQL statement).
	Payload string
	Values  []Value
	Pos     Pos
}

// TimePart is the part of a timestamp a time modifier extracts.
type TimePart uint8

const (
	NoTime TimePart = iota
	Minute          // 0–59
	Hour            // 0–23
	Day             // 1–31, day of the month
	Week            // 1–53, ISO 8601 week of the year
	Month           // 1–12
	Year
)

var timeNames = [...]string{"", "minute", "hour", "day", "week", "month", "year"}

func (t TimePart) String() string {
	if int(t) < len(timeNames) {
		return timeNames[t]
	}
	return "time?"
}

// Value is one value as written in the rule, made ready to compare.
type Value struct {
	// Raw is the scalar as written (numbers and booleans keep their text).
	Raw string
	// Patterns (OpMatch) are alternatives, any of which matching is a
	// match: one pattern, or one per variant a transformation such as
	// windash produced. Patterns of case-insensitive matchers are in lower
	// case.
	Patterns []Pattern
	// Regexp (OpRegexp) is the compiled expression, flags applied.
	Regexp *regexp.Regexp
	// Prefix (OpCIDR) is the network.
	Prefix netip.Prefix
	// Number (OpLT…OpGTE) is the bound.
	Number float64
	// Exists (OpExists) is whether the field must be present.
	Exists bool
	// Ref (OpFieldRef) is the name of the field to compare with.
	Ref string
}
