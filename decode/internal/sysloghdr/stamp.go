package sysloghdr

import (
	"time"

	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Stamp reads the time stamps devices write in CEF's rt and LEEF's
// devTime, and syslog headers: epoch seconds or milliseconds, RFC 3339
// and its ISO relatives, and "MMM dd[ yyyy] HH:mm:ss[.SSS][ zone]". A stamp
// without a year takes ref's (the year before when that would put it more
// than a day after ref: a December line read in January); one without a
// zone is in loc (UTC when nil). The result is in UTC. It does not allocate.
func Stamp(s string, ref time.Time, loc *time.Location) (time.Time, bool) {
	if len(s) == 0 {
		return time.Time{}, false
	}
	if isDigit(s[0]) {
		return jsonrecord.ParseTime(s)
	}
	return monthStamp(s, ref, loc)
}

func monthStamp(s string, ref time.Time, loc *time.Location) (time.Time, bool) {
	if len(s) < 15 || s[3] != ' ' {
		return time.Time{}, false
	}
	month := monthOf(s[:3])
	if month == 0 {
		return time.Time{}, false
	}
	day, ok := num(s, 4, 2)
	if !ok {
		return time.Time{}, false
	}
	i := 6
	year := 0
	if len(s) >= 12 && s[6] == ' ' && s[11] == ' ' {
		if y, ok := num(s, 7, 4); ok {
			year, i = y, 11
		}
	}
	if i >= len(s) || s[i] != ' ' {
		return time.Time{}, false
	}
	i++
	c, n, ok := clock(s[i:])
	if !ok {
		return time.Time{}, false
	}
	i += n
	rest := s[i:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return c.at(year, month, day, rest, ref, loc)
}

// civil is a wall-clock time of day.
type civil struct{ h, m, s, ns int }

// clock reads "HH:mm:ss[.fraction]" at the start of s.
func clock(s string) (civil, int, bool) {
	var c civil
	var ok1, ok2, ok3 bool
	c.h, ok1 = num(s, 0, 2)
	c.m, ok2 = num(s, 3, 2)
	c.s, ok3 = num(s, 6, 2)
	if !ok1 || !ok2 || !ok3 || s[2] != ':' || s[5] != ':' || c.h > 23 || c.m > 59 || c.s > 60 {
		return c, 0, false
	}
	i := 8
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		start, scale := i, 100_000_000
		for i < len(s) && isDigit(s[i]) {
			c.ns += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return c, 0, false
		}
	}
	return c, i, true
}

// at builds the instant from the parts; zone is the rest of the stamp
// (empty, an offset or an abbreviation), year 0 means "guess from ref".
func (c civil) at(year, month, day int, zone string, ref time.Time, loc *time.Location) (time.Time, bool) {
	off, hasZone := 0, false
	if zone != "" {
		o, ok := Zone(zone)
		if !ok {
			return time.Time{}, false
		}
		off, hasZone = o, true
	}
	if loc == nil || hasZone {
		loc = time.UTC
	}
	shift := time.Duration(off) * time.Second
	if year == 0 {
		return c.recent(month, day, shift, ref, loc)
	}
	t := time.Date(year, time.Month(month), day, c.h, c.m, c.s, c.ns, loc)
	if t.Day() != day || day < 1 {
		return time.Time{}, false
	}
	return t.Add(-shift).UTC(), true
}

// recent dates a year-less stamp in loc, shift east of UTC: ref's year
// (now's when ref is zero), or the one before when that would put it more
// than a day after ref (a December line read in January) or the day does
// not exist that year (Feb 29).
func (c civil) recent(month, day int, shift time.Duration, ref time.Time, loc *time.Location) (time.Time, bool) {
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.In(loc)
	t := time.Date(ref.Year(), time.Month(month), day, c.h, c.m, c.s, c.ns, loc)
	if t.After(ref.Add(24*time.Hour+shift)) || t.Day() != day {
		t = time.Date(ref.Year()-1, time.Month(month), day, c.h, c.m, c.s, c.ns, loc)
	}
	if t.Day() != day || day < 1 {
		return time.Time{}, false
	}
	if shift != 0 { // most stamps have no zone: spare the call
		t = t.Add(-shift)
	}
	return t.UTC(), true
}

// zones are the abbreviations devices print with %Z. Ambiguous ones (IST,
// CST in China) are read as the most common meaning in logs seen.
var zones = map[string]int{
	"UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0,
	"WEST": 3600, "BST": 3600, "CET": 3600, "MET": 3600,
	"CEST": 7200, "MEST": 7200, "EET": 7200, "EEST": 10800, "MSK": 10800,
	"IST": 19800, "JST": 32400, "KST": 32400, "AEST": 36000, "AEDT": 39600,
	"EST": -18000, "EDT": -14400, "CST": -21600, "CDT": -18000,
	"MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200,
}

// Zone reads a zone suffix: an abbreviation, "+hh:mm", "+hhmm" or "+hh",
// and returns its offset east of UTC in seconds.
func Zone(z string) (int, bool) {
	if off, ok := zones[z]; ok {
		return off, true
	}
	if len(z) < 3 || (z[0] != '+' && z[0] != '-') {
		return 0, false
	}
	h, ok := num(z, 1, 2)
	if !ok || h > 14 {
		return 0, false
	}
	m := 0
	switch rest := z[3:]; {
	case rest == "":
	case len(rest) == 3 && rest[0] == ':':
		m, ok = num(rest, 1, 2)
	case len(rest) == 2:
		m, ok = num(rest, 0, 2)
	default:
		ok = false
	}
	if !ok || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

func monthOf(s string) int {
	for i, m := range months {
		if s == m || (len(s) == 3 && (s[0]|0x20) == (m[0]|0x20) && s[1]|0x20 == m[1] && s[2]|0x20 == m[2]) {
			return i + 1
		}
	}
	return 0
}

// num reads exactly n digits at s[i:]; a leading space stands for a zero
// (syslog pads days with one: "Mar  3").
func num(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := 0; k < n; k++ {
		c := s[i+k]
		switch {
		case isDigit(c):
			v = v*10 + int(c-'0')
		case c == ' ' && k == 0 && n == 2:
		default:
			return 0, false
		}
	}
	return v, true
}
