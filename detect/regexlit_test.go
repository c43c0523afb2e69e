package detect

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestRequiredLiterals holds the regexp proxies to their promise: whenever
// an expression matches a value, the lowered value contains one of its
// required literals.
func TestRequiredLiterals(t *testing.T) {
	exprs := []string{
		`(?i)(set).*&&\s?set.*(environment|invoke|\$\{?input).*&&.*"`,
		`abc|abd`, `(?i)\.\.exe$`, `foo(bar)+baz`, `(?i)sekurlsa`, `(?i)kerberos::`,
		`ab[cd]ef`, `x?yz`, `(?i)İstanbul`, `Ab{2,}C`, `(a|bc)de`, `^\s*cmd(\.exe)?\s+/c`,
	}
	values := []string{
		"SET x && set environment && \"", "xabdx", "c:\\a..EXE", "FOObarbarbaz", "foobarbarbaz",
		"ſekurlſa", "SEKURLSA", "\u212aerberos::", "abdef", "yz", "xyz", "İSTANBUL", "istanbul",
		"ABBC", "AbbC", "ade", "bcde", "  CMD.exe /c", "cmd /c",
	}
	for _, x := range exprs {
		re := regexp.MustCompile(x)
		lits := requiredLiterals(x)
		for _, v := range values {
			if !re.MatchString(v) || len(lits) == 0 {
				continue
			}
			low := string(appendLower(nil, v))
			found := false
			for _, l := range lits {
				found = found || strings.Contains(low, l)
			}
			if !found {
				t.Errorf("%q matches %q, but its lowered form holds none of %q", x, v, lits)
			}
		}
	}
	for x, want := range map[string]bool{`.{1000,}`: false, `(?i)sekurlsa`: true, `a*b?`: false, `(x|y*)abc`: true} {
		if got := len(requiredLiterals(x)) > 0; got != want {
			t.Errorf("requiredLiterals(%q) = %q", x, requiredLiterals(x))
		}
	}
}

// TestRegexFacts holds regexFacts to the expressions they describe: where
// the facts decide a value, the expression must agree.
func TestRegexFacts(t *testing.T) {
	exprs := []string{
		`.{5,}`, `(?s).{5,}`, `(.{3,})`, `.+`, `(?i)^ab[c-e]{2,4}$`, `^C:\\Windows\\[a-z0-9]{4,6}\|x$`,
		`^(?:ab|cdef)?é$`, `(?i)^k$`, `^a.b$`, `^a|b$`, `(?m)^ab$`, `^ab`, `ab$`, `^a+$`,
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "c", "\n", "é", "K", "\u212a", "\xff", "C:\\Windows\\", "x", "|", "0"}
	decided := 0
	for _, x := range exprs {
		re := regexp.MustCompile(x)
		f := factsOf(x)
		for i := 0; i < 3000; i++ {
			var b strings.Builder
			for n := rng.IntN(12); n > 0; n-- {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			v := b.String()
			if m, ok := f.decide(v); ok {
				decided++
				if m != re.MatchString(v) {
					t.Fatalf("%q on %q: facts say %v, the expression %v", x, v, m, !m)
				}
			}
		}
	}
	if decided == 0 {
		t.Fatal("the facts decided nothing")
	}
	for x, want := range map[string]int{`^ab$`: 2, `(?i)^k$`: 3, `^a.b$`: 6, `^ab`: -1, `^a+$`: -1, `(?m)^ab$`: -1} {
		if got := factsOf(x).maxLen; got != want {
			t.Errorf("factsOf(%q).maxLen = %d, want %d", x, got, want)
		}
	}
	if f := factsOf(`.{1000,}`); f.run != 1000 || f.runAny {
		t.Errorf("factsOf(.{1000,}) = %+v", f)
	}
}
