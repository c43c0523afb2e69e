package jsonrecord

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
)

// FieldTime reads stamp, the text of the record's field that holds its
// time, into *t with ParseTime. An empty stamp leaves *t alone; one
// ParseTime cannot read fails the record with a *decode.Error naming the
// field, since the field is known to hold a time.
func FieldTime(format, field, stamp string, t *time.Time) error {
	if stamp == "" {
		return nil
	}
	tt, ok := ParseTime(stamp)
	if !ok {
		return &decode.Error{Format: format, Offset: -1, Field: field, Reason: "unreadable time stamp " + decode.QuoteValue(stamp)}
	}
	*t = tt
	return nil
}

// ParseTime reads the time stamps JSON logs carry: RFC 3339 and its ISO 8601
// relatives ("2006-01-02T15:04:05.999Z", "2006-01-02 15:04:05.999",
// "+07:00", "+0700", "+07" or " UTC" zones, a date alone), and epoch
// seconds, milliseconds, microseconds or nanoseconds as digits (with an
// optional fraction for seconds). A stamp without a zone is taken as UTC. The
// result is always in UTC. It does not allocate.
//
// Epoch numbers need at least 9 integer digits (1973 onwards) so that a
// "time" field holding a duration such as 0.25 is not read as 1970.
func ParseTime(s string) (time.Time, bool) {
	if len(s) == 0 {
		return time.Time{}, false
	}
	if s[0] >= '0' && s[0] <= '9' && (len(s) < 5 || s[4] != '-') {
		return parseEpoch(s)
	}
	return parseISO(s)
}

func parseEpoch(s string) (time.Time, bool) {
	i := 0
	var n uint64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if i >= 19 {
			return time.Time{}, false
		}
		n = n*10 + uint64(s[i]-'0')
		i++
	}
	digits := i
	var frac int64 // nanoseconds
	if i < len(s) && s[i] == '.' {
		i++
		scale := int64(100_000_000)
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			frac += int64(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}
	if i != len(s) || digits < 9 {
		return time.Time{}, false
	}
	switch {
	case digits <= 10:
		return time.Unix(int64(n), frac).UTC(), true
	case frac != 0:
		return time.Time{}, false // fractions only make sense on seconds
	case digits <= 13:
		return time.UnixMilli(int64(n)).UTC(), true
	case digits <= 16:
		return time.UnixMicro(int64(n)).UTC(), true
	default:
		return time.Unix(0, int64(n)).UTC(), true
	}
}

// digits reads exactly n decimal digits at s[i:].
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func parseISO(s string) (time.Time, bool) {
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	var hour, min, sec, nsec int
	i := 10
	if i < len(s) && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') {
		var ok bool
		if hour, ok = digits(s, i+1, 2); !ok || hour > 23 {
			return time.Time{}, false
		}
		if i+3 >= len(s) || s[i+3] != ':' {
			return time.Time{}, false
		}
		if min, ok = digits(s, i+4, 2); !ok || min > 59 {
			return time.Time{}, false
		}
		i += 6
		if i < len(s) && s[i] == ':' {
			if sec, ok = digits(s, i+1, 2); !ok || sec > 60 {
				return time.Time{}, false
			}
			i += 3
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				i++
				start := i
				scale := 100_000_000
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					nsec += int(s[i]-'0') * scale
					scale /= 10
					i++
				}
				if i == start {
					return time.Time{}, false
				}
			}
		}
	}
	offset, ok := parseZone(s[i:])
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if t.Day() != day { // 2021-02-30 would roll over into March
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// parseZone reads the zone suffix and returns its offset east of UTC in
// seconds. Offsets are applied by arithmetic rather than time.FixedZone,
// which would allocate a Location per record.
func parseZone(z string) (int, bool) {
	switch z {
	case "", "Z", "z", " UTC", "UTC", " GMT", "GMT", " Z":
		return 0, true
	}
	if z[0] == ' ' {
		z = z[1:]
	}
	if len(z) < 3 || (z[0] != '+' && z[0] != '-') {
		return 0, false
	}
	h, ok := digits(z, 1, 2)
	if !ok || h > 14 {
		return 0, false
	}
	m := 0
	switch rest := z[3:]; {
	case rest == "":
	case len(rest) == 3 && rest[0] == ':':
		if m, ok = digits(rest, 1, 2); !ok {
			return 0, false
		}
	case len(rest) == 2:
		if m, ok = digits(rest, 0, 2); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	if m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}
