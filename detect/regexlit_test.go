package detect

import (
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
