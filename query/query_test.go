package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// mapFields is an event as a map of field names to values.
type mapFields map[string][]string

func (m mapFields) Any(name string, t ValueMatcher) bool {
	for k, vs := range m {
		if !strings.EqualFold(k, name) {
			continue
		}
		for _, v := range vs {
			if t.MatchValue(v) {
				return true
			}
		}
	}
	return false
}

func (m mapFields) AnyField(t ValueMatcher) bool {
	for _, vs := range m {
		for _, v := range vs {
			if t.MatchValue(v) {
				return true
			}
		}
	}
	return false
}

var sample = mapFields{
	"source.ip":            {"10.1.2.3"},
	"destination.ip":       {"2001:db8::17"},
	"user.name":            {"Alice"},
	"process.name":         {"PowerShell.exe"},
	"process.command_line": {`powershell -enc SQBFAFgA "two words"`},
	"EventID":              {"4625"},
	"bytes":                {"1500000"},
	"eventName":            {"AssumeRole"},
	"@timestamp":           {"2026-03-01T10:15:00Z"},
	"tags":                 {"a", "b"},
	"empty":                {""},
	"path":                 {`C:\Windows\System32\cmd.exe`},
	"message":              {"Über größe ok"},
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		q    string
		want bool
	}{
		// field:value compares the whole value, without regard to case.
		{"user.name:alice", true},
		{"USER.NAME:ALICE", true},
		{"user.name:alic", false},
		{"user.name:bob", false},
		{"EventID:4625", true},
		{"eventid:4625", true},
		{"EventID:462", false},
		{"nosuchfield:x", false},
		// Bare terms look anywhere in any value.
		{"alice", true},
		{"SQBFAF", true},
		{"nothing-like-this", false},
		{`"two words"`, true},
		{`"words two"`, false},
		{"two words", true}, // implicit AND of two bare terms
		// Quoted field values.
		{`process.command_line:"powershell -enc SQBFAFgA \"two words\""`, true},
		{`user.name:"alice"`, true},
		// Wildcards.
		{"process.name:power*", true},
		{"process.name:*.EXE", true},
		{"process.name:power?hell.exe", true},
		{"process.name:power?shell.exe", false},
		{"process.name:p*s*l*.exe", true},
		{"process.name:*cmd*", false},
		{`process.name:power\*`, false}, // an escaped * is a character
		{"bare*ignored", false},
		{"Power*exe", true},
		// Exists.
		{"user.name:*", true},
		{"empty:*", true},
		{"missing:*", false},
		// CIDR, v4 and v6.
		{"source.ip:10.0.0.0/8", true},
		{"source.ip:10.1.2.0/24", true},
		{"source.ip:192.168.0.0/16", false},
		{"destination.ip:2001:db8::/32", true},
		{"destination.ip:2001:db9::/32", false},
		{"source.ip:2001:db8::/32", false},
		{`source.ip:"10.0.0.0/8"`, false}, // quoted: text
		{`10.0.0.0/8`, true},              // bare: any field
		// Ranges: numeric when the ends are numbers.
		{"EventID:[4624 TO 4634]", true},
		{"EventID:[4626 TO 4634]", false},
		{"EventID:{4625 TO 4634]", false},
		{"EventID:[4620 TO 4625]", true},
		{"EventID:[4620 TO 4625}", false},
		{"EventID:[4625 TO *]", true},
		{"EventID:[* TO 4624]", false},
		{"bytes:>1000000", true},
		{"bytes:>1500000", false},
		{"bytes:>=1500000", true},
		{"bytes:<1500000", false},
		{"bytes:<=1500000", true},
		{"bytes:[9 TO 10]", false}, // numeric, not lexical ("1500000" < "9")
		{"user.name:>5", false},    // a word is outside a numeric range
		// Lexical when an end is a word.
		{"user.name:[a TO b]", true},
		{"user.name:[b TO z]", false},
		{"eventName:[assume TO assumez]", true},
		// Times in RFC 3339 (and dates).
		{"@timestamp:[2026-03-01T10:00:00Z TO 2026-03-01T11:00:00Z]", true},
		{"@timestamp:>2026-03-01T10:15:00Z", false},
		{"@timestamp:>=2026-03-01T10:15:00Z", true},
		{"@timestamp:>=2026-03-01T11:15:00+01:00", true},
		{"@timestamp:<2026-03-02", true},
		{"@timestamp:[2026-03-02 TO *]", false},
		// Boolean: NOT > AND > OR.
		{"user.name:bob OR user.name:alice", true},
		{"user.name:bob AND user.name:alice", false},
		{"NOT user.name:bob", true},
		{"-user.name:alice", false},
		{"user.name:alice -EventID:4625", false},
		{"user.name:alice AND NOT EventID:4624", true},
		{"user.name:bob OR user.name:alice AND EventID:1", false},
		{"(user.name:bob OR user.name:alice) AND EventID:4625", true},
		{"user.name:alice AND EventID:1 OR bytes:>1", true},
		{"NOT user.name:alice OR EventID:4625", true},
		{"NOT (user.name:alice OR EventID:4625)", false},
		{"NOT NOT user.name:alice", true},
		{"user.name:(bob OR alice)", true},
		{"user.name:(bob OR carol)", false},
		{"user.name:(alice AND -bob)", true},
		// Escapes.
		{`path:C\:\\Windows\\System32\\cmd.exe`, true},
		{`path:C:\\windows\\*`, true},
		{`path:"C:\\Windows\\System32\\cmd.exe"`, true},
		// Unicode folds.
		{"message:über*", true},
		{"GRÖSSE", false}, // ß is not ss: folding is rune by rune
		{"größe", true},
		// Multi-valued fields: any value.
		{"tags:b", true},
		{"tags:c", false},
		{"NOT tags:c", true},
		// Empty query: everything.
		{"", true},
		{"   ", true},
	} {
		q, err := Parse(c.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		if got := q.Match(sample); got != c.want {
			t.Errorf("%q (canonical %q) matched %v, want %v", c.q, q.String(), got, c.want)
		}
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a b", "a AND b"},
		{"a AND b OR c", "a AND b OR c"},
		{"a OR b AND c", "a OR b AND c"},
		{"(a OR b) c", "(a OR b) AND c"},
		{"a AND (b AND c)", "a AND b AND c"},
		{"(a OR b) OR (c OR d)", "a OR b OR c OR d"},
		{"-a", "NOT a"},
		{"NOT (a b)", "NOT (a AND b)"},
		{"NOT(a)", "NOT a"},
		{"((a))", "a"},
		{`x:"two words"`, `x:"two words"`},
		{`x:two\ words`, `x:"two words"`},
		{`x:"simple"`, `x:simple`},
		{`"AND"`, `"AND"`},
		{`x:AND`, `x:AND`},
		{`x:"a*"`, `x:a\*`},
		{`x:a*b?`, `x:a*b?`},
		{`x:"*"`, `x:\*`},
		{`x:*`, `x:*`},
		{`"10.0.0.0/8"`, `"10.0.0.0/8"`},
		{`src:10.0.0.0/8`, `src:10.0.0.0/8`},
		{`fe80\:\:/10`, `fe80\:\:/10`},
		{`x:[1 TO 5]`, `x:[1 TO 5]`},
		{`x:{1 TO 5]`, `x:{1 TO 5]`},
		{`x:[1 TO *]`, `x:>=1`},
		{`x:{1 TO *}`, `x:>1`},
		{`x:{* TO 5]`, `x:<=5`},
		{`x:[* TO *]`, `x:[* TO *]`},
		{`x:>="a b"`, `x:>=a\ b`},
		{`x:["*" TO b]`, `x:["*" TO b]`},
		{`x:(a OR b)`, `x:a OR x:b`},
		{`x:(a y:b)`, `x:a AND y:b`},
		{`\-a`, `\-a`},
		{`x:-a`, `x:-a`},
		{`a\:b`, `a\:b`},
		{`x:a:b`, `x:a:b`},
		{`x:""`, `x:""`},
	} {
		q, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := q.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.want)
		}
		again, err := Parse(q.String())
		if err != nil {
			t.Errorf("reparse %q: %v", q.String(), err)
			continue
		}
		if !reflect.DeepEqual(again.root, q.root) {
			t.Errorf("%q reparses to another query", q.String())
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, c := range []struct {
		q      string
		column int
		token  string
		msg    string
	}{
		{"a AND", 6, "", "expected a term"},
		{"AND a", 1, "AND", "expected a term before AND"},
		{"a OR OR b", 6, "OR", "expected a term before OR"},
		{"(a b", 1, "(a", "this ( is not closed"},
		{"a b)", 4, ")", "a ) closes no ("},
		{"()", 1, "()", "empty parentheses"},
		{"user.name:", 1, "user.name:", "expected a value after user.name:"},
		{"user.name: bob", 1, "user.name:", "expected a value after user.name:"},
		{":bob", 1, ":bob", "a field name is missing"},
		{`x:"open`, 3, `"open`, "this quote is not closed"},
		{`x:ab"c"`, 5, `"c"`, "a quote inside a word"},
		{`x:"a"b`, 6, "b", "expected a blank or ) after the closing quote"},
		{"x:[1 5]", 6, "5]", "expected TO"},
		{"x:[1 TO 5", 3, "[1", "this range is not closed"},
		{"x:[1 TO 5)", 10, ")", "expected ] or }"},
		{"x:[1 TO 5]y", 11, "y", "expected a blank or ) after the range"},
		{"x:>", 4, "", "expected a bound"},
		{"x:>*", 4, "*", "a comparison needs a value"},
		{"- a", 1, "-", "a - negates"},
		{`a\`, 2, `\`, "escapes nothing"},
		{"größe AND", 10, "", "expected a term"}, // columns count characters
		{strings.Repeat("(", 70) + "a" + strings.Repeat(")", 70), 65, strings.Repeat("(", 6) + "a" + strings.Repeat(")", 33), "nests deeper"},
		{strings.Repeat("NOT ", 70) + "a", 257, "NOT", "nests deeper"},
	} {
		_, err := Parse(c.q)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a syntax error", c.q, err)
			continue
		}
		if se.Column != c.column || se.Token != c.token || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("Parse(%q): column %d token %q msg %q; want column %d token %q msg ~%q",
				c.q, se.Column, se.Token, se.Msg, c.column, c.token, c.msg)
		}
		if !strings.Contains(err.Error(), "column") {
			t.Errorf("error %q does not say where", err)
		}
	}
	if _, err := Parse(strings.Repeat("a ", MaxLen)); err == nil {
		t.Error("a query over MaxLen parsed")
	}
}
