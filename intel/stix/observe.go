package stix

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/internal/observable"
)

// observed is one value a pattern names.
type observed struct {
	kind  intel.Kind
	value string
}

// observables returns the values a pattern names that vigil can match, and
// why the rest of the pattern was not taken.
//
// How operators become indicators:
//   - OR (of comparisons or of observations) and IN: each side is an
//     indicator of its own.
//   - AND (of comparisons on one object, or of observations): each
//     comparison vigil can match is kept as an indicator of its own, which
//     is broader than the pattern (a file's MD5 alone, without its name).
//     Conditions it cannot match are listed in skipped.
//   - FOLLOWEDBY and the qualifiers WITHIN, REPEATS and START/STOP describe
//     a sequence or a frequency, not a value: the whole pattern is refused.
//   - NOT, !=, <, >, LIKE, MATCHES, ISSUPERSET and paths other than those
//     below are not values either; they are listed in skipped.
func (pat *Pattern) observables() (found []observed, skipped []string, err error) {
	if why := sequential(pat.Root); why != "" {
		return nil, nil, fmt.Errorf("%s: a sequence or frequency of observations is not an indicator of one value", why)
	}
	found, skipped = obsValues(pat.Root)
	return dedupe(found), skipped, nil
}

func sequential(o *Observation) string {
	if len(o.Qualifiers) > 0 {
		return o.Qualifiers[0]
	}
	if o.Op == "FOLLOWEDBY" {
		return "FOLLOWEDBY"
	}
	for _, t := range o.Terms {
		if why := sequential(t); why != "" {
			return why
		}
	}
	return ""
}

func obsValues(o *Observation) (found []observed, skipped []string) {
	if o.Comparison != nil {
		return cmpValues(o.Comparison)
	}
	for _, t := range o.Terms {
		f, s := obsValues(t)
		found = append(found, f...)
		skipped = append(skipped, s...)
	}
	return found, skipped
}

func cmpValues(c *Comparison) (found []observed, skipped []string) {
	if c.Test != nil {
		return testValues(c.Test)
	}
	for _, t := range c.Terms {
		f, s := cmpValues(t)
		found = append(found, f...)
		skipped = append(skipped, s...)
	}
	return found, skipped
}

func testValues(t *Test) (found []observed, skipped []string) {
	// what names the comparison in a reason; built only when one is given.
	what := func() string {
		if t.Not {
			return t.Path.String() + " NOT " + t.Op
		}
		return t.Path.String() + " " + t.Op
	}
	conv, addressy := converter(t.Path)
	switch {
	case conv == nil:
		return nil, []string{what() + ": not an observable vigil matches"}
	case t.Not:
		return nil, []string{what() + ": a negation is not an indicator"}
	case t.Op == "=" || t.Op == "IN" || t.Op == "ISSUBSET" && addressy:
	default:
		return nil, []string{what() + ": operator not supported"}
	}
	for _, v := range t.Values {
		if v.Kind != "string" {
			skipped = append(skipped, fmt.Sprintf("%s: a %s literal, not a string", what(), v.Kind))
			continue
		}
		k, val, err := conv(v.Text)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", what(), err))
			continue
		}
		found = append(found, observed{k, val})
	}
	return found, skipped
}

type convert func(string) (intel.Kind, string, error)

func fixed(k intel.Kind) convert {
	return func(s string) (intel.Kind, string, error) { return observable.Normalize(k, s) }
}

func addressOf(version int) convert {
	return func(s string) (intel.Kind, string, error) {
		k, v, err := observable.Address(s)
		if err != nil {
			return k, v, err
		}
		if four := !strings.Contains(v, ":"); four != (version == 4) {
			return k, v, fmt.Errorf("%q is not an IPv%d address", s, version)
		}
		return k, v, nil
	}
}

// converter says how a path's value becomes an indicator, and whether it
// is an address (for which ISSUBSET means "inside this prefix").
func converter(p Path) (convert, bool) {
	steps := p.Steps
	is := func(want ...string) bool {
		if len(steps) != len(want) {
			return false
		}
		for i := range want {
			if steps[i] != want[i] {
				return false
			}
		}
		return true
	}
	switch p.Type {
	case "ipv4-addr":
		if is("value") {
			return addressOf(4), true
		}
	case "ipv6-addr":
		if is("value") {
			return addressOf(6), true
		}
	case "domain-name":
		if is("value") {
			return fixed(intel.KindDomain), false
		}
	case "url":
		if is("value") {
			return fixed(intel.KindURL), false
		}
	case "email-addr":
		if is("value") {
			return fixed(intel.KindEmail), false
		}
	case "email-message":
		if is("from_ref", "value") || is("sender_ref", "value") {
			return fixed(intel.KindEmail), false
		}
	case "file", "artifact":
		if len(steps) == 2 && steps[0] == "hashes" {
			if k := hashKind(steps[1]); k != "" {
				return fixed(k), false
			}
		}
	case "network-traffic":
		if is("dst_ref", "value") || is("src_ref", "value") {
			return observable.HostOrAddress, true
		}
		if len(steps) == 4 && steps[0] == "extensions" && steps[1] == "http-request-ext" &&
			steps[2] == "request_header" && strings.EqualFold(steps[3], "User-Agent") {
			return fixed(intel.KindUserAgent), false
		}
	}
	return nil, false
}

// hashKind reads a hash algorithm name of the STIX vocabulary (MD5,
// SHA-1, SHA-256), tolerating the case and hyphen variants feeds write.
func hashKind(name string) intel.Kind {
	switch strings.ReplaceAll(strings.ToUpper(name), "-", "") {
	case "MD5":
		return intel.KindMD5
	case "SHA1":
		return intel.KindSHA1
	case "SHA256":
		return intel.KindSHA256
	}
	return ""
}

func dedupe(in []observed) []observed {
	seen := make(map[observed]bool, len(in))
	out := in[:0]
	for _, o := range in {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}
