package detect

import (
	"os"
	"testing"
)

// TestDiffKnownEngineBugs holds, as minimal rule and event, each
// disagreement TestDifferential found between the engine and the
// documentation (docs/rules.md, Sigma 2.1 modifiers appendix). The
// differential generator steers clear of them unless VIGIL_DIFF_KNOWN names
// them; this test runs with VIGIL_DIFF_KNOWN set (to all, or to names) and
// passes once the engine is fixed.
func TestDiffKnownEngineBugs(t *testing.T) {
	// The fixed ones always run; the open ones with VIGIL_DIFF_KNOWN.
	if os.Getenv("VIGIL_DIFF_KNOWN") == "" {
		t.Log("open engine disagreements skipped; set VIGIL_DIFF_KNOWN=all to check them")
	}
	cases := []struct {
		name, sel string
		ev        fields
		want      bool
	}{
		// "a referenced field the event lacks compares false": with all,
		// every referenced field must compare true.
		{"fieldref-all", "B|fieldref|all: [A, C]", fields{"A": "x", "B": "x"}, false},
		// Values compare in Unicode lower case: "S" and "ſ" differ, as
		// they do for plain values and for fieldref with a position.
		{"fieldref-fold", "A|fieldref: B", fields{"A": "S", "B": "\u017f"}, false},
		{"fieldref-fold", "A|fieldref|startswith: B", fields{"A": "S", "B": "\u017f"}, false},
		{"fieldref-fold", "A: '\u017f'", fields{"A": "S"}, false},
		// Bytes that are not UTF-8 are kept when lowering, elsewhere.
		{"fieldref-bytes", "A|fieldref|endswith: B", fields{"A": "\xff", "B": "\xfe"}, false},
		// Numbers: the event's decimal is read inexactly.
		{"number", "A|gt: 0.3", fields{"A": "0.3"}, false},
		{"number", "A|lte: 0.3", fields{"A": "0.3"}, true},
		{"number", "A|lte: 12345678901234567890.5", fields{"A": "12345678901234567890.5"}, true},
		// IPv4-mapped IPv6 addresses count as IPv4: also the network.
		{"cidr-mapped", "A|cidr: '::ffff:10.0.0.0/104'", fields{"A": "10.1.1.1"}, true},
		{"cidr-mapped", "A|cidr: '::ffff:10.0.0.0/104'", fields{"A": "::ffff:10.1.1.1"}, true},
		// "A value that is not such a timestamp never matches."
		{"time-edge", "T|day: 31", fields{"T": "2024-02-31"}, false},
		{"time-edge", "T|year: 2024", fields{"T": "2024-05-06Tjunk"}, false},
		{"time-edge", "T|day: 6", fields{"T": "2024-05-06T24:00:00Z"}, false},
		{"time-edge", "T|year: 2024", fields{"T": "2024-05-06 3:04:05"}, false},
	}
	for _, c := range cases {
		if !known(c.name) {
			continue
		}
		e := compileYAML(t, ruleWith(c.sel))
		if got := matches(e, wholeEvent(e, win, c.ev)); got != c.want {
			t.Errorf("%s: %s on %q: engine %v, documented %v", c.name, c.sel, c.ev, got, c.want)
		}
	}
}
