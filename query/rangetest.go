package query

import (
	"strconv"
	"time"
)

// How a range compares: numbers when both its ends are numbers (or open),
// times when both are RFC 3339 times or dates, text otherwise.
const (
	byText = iota
	byNumber
	byTime
)

// bound is one end of a range; open is *.
type bound struct {
	text string
	open bool
	num  float64
	t    time.Time
}

// rangeTest keeps values between lo and hi. A value that does not read
// as the range's kind (a word in a numeric range) is outside it.
type rangeTest struct {
	lo, hi         bound
	loIncl, hiIncl bool
	kind           int
}

func newRangeTest(lo, hi bound, loIncl, hiIncl bool) *rangeTest {
	r := &rangeTest{lo: lo, hi: hi, loIncl: loIncl || lo.open, hiIncl: hiIncl || hi.open}
	r.kind = byNumber
	for _, b := range []*bound{&r.lo, &r.hi} {
		if b.open {
			continue
		}
		n, ok := parseNumber(b.text)
		if !ok {
			r.kind = byText
			break
		}
		b.num = n
	}
	if r.kind == byText {
		r.kind = byTime
		for _, b := range []*bound{&r.lo, &r.hi} {
			if b.open {
				continue
			}
			t, ok := parseTime(b.text)
			if !ok {
				r.kind = byText
				break
			}
			b.t = t
		}
	}
	if r.kind == byText {
		r.lo.num, r.hi.num = 0, 0
		r.lo.t, r.hi.t = time.Time{}, time.Time{}
	}
	return r
}

func (r *rangeTest) MatchValue(v string) bool {
	var lo, hi int // the value compared with each end: -1, 0, 1
	switch r.kind {
	case byNumber:
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		lo, hi = cmpFloat(n, r.lo.num), cmpFloat(n, r.hi.num)
	case byTime:
		t, ok := parseTime(v)
		if !ok {
			return false
		}
		return r.matchTime(t)
	default:
		lo, hi = compareFold(v, r.lo.text), compareFold(v, r.hi.text)
	}
	return r.within(lo, hi)
}

func (r *rangeTest) matchTime(t time.Time) bool {
	return r.within(t.Compare(r.lo.t), t.Compare(r.hi.t))
}

// within reports whether a value that compares lo with the low end and hi
// with the high end is inside the range.
func (r *rangeTest) within(lo, hi int) bool {
	if !r.lo.open && (lo < 0 || lo == 0 && !r.loIncl) {
		return false
	}
	if !r.hi.open && (hi > 0 || hi == 0 && !r.hiIncl) {
		return false
	}
	return true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseNumber reads a decimal number: digits with an optional sign,
// fraction and exponent. Not NaN, Inf, hex or underscores: "Inf" in an
// event is a word.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range: ±Inf, which still orders
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return n, true
}

// parseTime reads an RFC 3339 time, or a date (midnight UTC).
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func (r *rangeTest) appendTo(b []byte) []byte {
	switch {
	case !r.lo.open && r.hi.open:
		if r.loIncl {
			b = append(b, ">="...)
		} else {
			b = append(b, '>')
		}
		return appendBound(b, r.lo)
	case r.lo.open && !r.hi.open:
		if r.hiIncl {
			b = append(b, "<="...)
		} else {
			b = append(b, '<')
		}
		return appendBound(b, r.hi)
	}
	if r.loIncl {
		b = append(b, '[')
	} else {
		b = append(b, '{')
	}
	b = appendBound(b, r.lo)
	b = append(b, " TO "...)
	b = appendBound(b, r.hi)
	if r.hiIncl {
		return append(b, ']')
	}
	return append(b, '}')
}

func appendBound(b []byte, x bound) []byte {
	switch {
	case x.open:
		return append(b, '*')
	case x.text == "" || x.text == "*" || x.text == "=" || x.text[0] == '=':
		return appendQuoted(b, x.text)
	}
	return appendEscaped(b, x.text, boundSpecial)
}
