package query

import (
	"reflect"
	"testing"
)

// FuzzParse: no input panics the parser or the matcher, and a query's
// canonical form parses to the same query, whose canonical form is the
// same text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"user.name:alice", `"two words"`, "process.name:power*", "x:a?b",
		"source.ip:10.0.0.0/8", "destination.ip:2001:db8::/32", `fe80\:\:/10`,
		"EventID:[4624 TO 4634]", "bytes:>1000000", "x:{a TO *]", `x:["*" TO "b c"}`,
		"@timestamp:>=2026-03-01T10:00:00Z", "x:*", "a AND b OR NOT c", "-a (b OR c)",
		"x:(a OR -b)", `path:C\:\\Windows\\*`, `x:"a\"b"`, "NOT NOT a", "a\tb\nc",
		"größe", `\-1`, "x:<=-1e3", "((a))", `x:>=\=1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			return
		}
		q.Match(sample)
		c := q.String()
		again, err := Parse(c)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", c, s, err)
		}
		if !reflect.DeepEqual(again.root, q.root) {
			t.Fatalf("canonical %q of %q parses to another query", c, s)
		}
		if c2 := again.String(); c2 != c {
			t.Fatalf("canonical form unstable: %q then %q", c, c2)
		}
	})
}

// FuzzContainsFold: the bare-word fast path agrees with the general
// wildcard matcher.
func FuzzContainsFold(f *testing.F) {
	for _, s := range [][2]string{{"PowerShell", "shell"}, {"\u212Aelvin", "kel"}, {"größe", "SSE"}, {"aaa", "aab"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, lit string) {
		lit = lower(lit)
		p := []elem{{kind: '*'}, {lit: lit}, {kind: '*'}, {kind: '*'}} // not the fast path's shape
		if got, want := containsFold(s, lit), glob(p, s); got != want {
			t.Fatalf("containsFold(%q, %q) = %v, glob says %v", s, lit, got, want)
		}
	})
}
