package detect

import "testing"

// TestDiffFixedDisagreements holds, as minimal rule and event, each
// disagreement TestDifferential found between the engine and the
// documentation (docs/rules.md, Sigma 2.1 modifiers appendix). All are
// fixed: the cases run in every test run, and the differential generator
// meets them freely. A disagreement found later and not fixed at once goes
// here too, with the generator steering clear of it until it is.
func TestDiffFixedDisagreements(t *testing.T) {
	cases := []struct {
		name, sel string
		ev        fields
		want      bool
	}{
		// "A referenced field the event lacks compares false": with all,
		// every referenced field must compare true.
		{"fieldref-all", "B|fieldref|all: [A, C]", fields{"A": "x", "B": "x"}, false},
		{"fieldref-all", "B|fieldref|all: [A, C]", fields{"A": "x", "B": "X", "C": "x"}, true},
		{"fieldref-all", "B|fieldref: [C, A]", fields{"A": "x", "B": "x"}, true},
		{"fieldref-all", "B|fieldref|neq: C", fields{"B": "x"}, true},
		// Values compare in Unicode lower case: "S" and "ſ" differ, as
		// they do for plain values and for fieldref with a position.
		{"fieldref-fold", "A|fieldref: B", fields{"A": "S", "B": "\u017f"}, false},
		{"fieldref-fold", "A|fieldref: B", fields{"A": "\u212a", "B": "k"}, true}, // Kelvin sign lowers to k
		{"fieldref-fold", "A|fieldref: B", fields{"A": "\u00c4X", "B": "\u00e4x"}, true},
		{"fieldref-fold", "A|fieldref|cased: B", fields{"A": "\u00c4X", "B": "\u00e4x"}, false},
		{"fieldref-fold", "A|fieldref|startswith: B", fields{"A": "S", "B": "\u017f"}, false},
		{"fieldref-fold", "A: '\u017f'", fields{"A": "S"}, false},
		// Bytes that are not UTF-8 are kept when lowering, as elsewhere.
		{"fieldref-bytes", "A|fieldref|endswith: B", fields{"A": "\xff", "B": "\xfe"}, false},
		{"fieldref-bytes", "A|fieldref: B", fields{"A": "\xff", "B": "\xfe"}, false},
		{"fieldref-bytes", "A|fieldref: B", fields{"A": "X\xff", "B": "x\xff"}, true},
		// Numbers: the event's decimal is read as exactly as the rule's.
		{"number", "A|gt: 0.3", fields{"A": "0.3"}, false},
		{"number", "A|lte: 0.3", fields{"A": "0.3"}, true},
		{"number", "A|lte: 12345678901234567890.5", fields{"A": "12345678901234567890.5"}, true},
		// IPv4-mapped IPv6 addresses count as IPv4: also the network.
		{"cidr-mapped", "A|cidr: '::ffff:10.0.0.0/104'", fields{"A": "10.1.1.1"}, true},
		{"cidr-mapped", "A|cidr: '::ffff:10.0.0.0/104'", fields{"A": "::ffff:10.1.1.1"}, true},
		// "A value that is not such a timestamp never matches."
		{"time-edge", "T|day: 31", fields{"T": "2024-02-31"}, false},
		{"time-edge", "T|day: 31", fields{"T": "2024-04-31"}, false},
		{"time-edge", "T|day: 29", fields{"T": "2023-02-29"}, false},
		{"time-edge", "T|day: 29", fields{"T": "1900-02-29"}, false},
		{"time-edge", "T|day: 29", fields{"T": "2000-02-29"}, true},
		{"time-edge", "T|year: 2024", fields{"T": "2024-05-06Tjunk"}, false},
		{"time-edge", "T|day: 6", fields{"T": "2024-05-06T24:00:00Z"}, false},
		{"time-edge", "T|year: 2024", fields{"T": "2024-05-06 3:04:05"}, false},
		{"time-edge", "T|minute: 4", fields{"T": "2024-05-06T03:04"}, false},
		{"time-edge", "T|year: 2024", fields{"T": " 2024-05-06"}, false},
		{"time-edge", "T|year: 2024", fields{"T": "2024-05-06 "}, false},
		{"time-edge", "T|hour: 3", fields{"T": "2024-05-06t03:04:05z"}, false},
		{"time-edge", "T|hour: 3", fields{"T": "2024-05-06T03:04:05."}, false},
		{"time-edge", "T|hour: 3", fields{"T": "2024-05-06T03:04:05+24:00"}, false},
		{"time-edge", "T|hour: 3", fields{"T": "2024-05-06T03:04:05+0200"}, false},
		{"time-edge", "T|hour: 3", fields{"T": "2024-05-06T03:04:60Z"}, true}, // a leap second
		{"time-edge", "T|hour: 3", fields{"T": "2024-05-06T03:04:05.123456789-07:30"}, true},
		{"time-edge", "T|hour|neq: 3", fields{"T": "2024-05-06"}, true}, // no hour: not 3
	}
	for _, c := range cases {
		e := compileYAML(t, ruleWith(c.sel))
		if got := matches(e, wholeEvent(e, win, c.ev)); got != c.want {
			t.Errorf("%s: %s on %q: engine %v, documented %v", c.name, c.sel, c.ev, got, c.want)
		}
	}
}
