// Package clf reads the time stamp of the Common Log Format,
// "10/Oct/2000:13:55:36 -0700", which Apache and nginx access logs and
// HAProxy's accept_date ("06/Feb/2009:12:14:14.655", no offset) write.
package clf

import "time"

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Stamp reads "10/Oct/2000:13:55:36 -0700" (a fraction after the seconds
// is allowed, as some nginx formats and HAProxy write; the offset may be
// missing) at the start of s and returns the time in UTC and the bytes
// read. Without an offset the time is in loc (UTC when nil). It does not
// allocate: the offset is applied by arithmetic.
func Stamp(s string, loc *time.Location) (time.Time, int, bool) {
	if len(s) < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' {
		return time.Time{}, 0, false
	}
	day, ok1 := digits(s[0:2])
	year, ok2 := digits(s[7:11])
	h, ok3 := digits(s[12:14])
	m, ok4 := digits(s[15:17])
	sec, ok5 := digits(s[18:20])
	month := 0
	for i, name := range months {
		if s[3:6] == name {
			month = i + 1
		}
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || month == 0 || day < 1 || h > 23 || m > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	i, ns := 20, 0
	if i < len(s) && s[i] == '.' {
		i++
		scale := 100_000_000
		for start := i; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if i-start < 9 {
				ns += int(s[i]-'0') * scale
				scale /= 10
			}
		}
	}
	off, zone := 0, false
	if i+6 <= len(s) && s[i] == ' ' && (s[i+1] == '+' || s[i+1] == '-') {
		zh, ok1 := digits(s[i+2 : i+4])
		zm, ok2 := digits(s[i+4 : i+6])
		if !ok1 || !ok2 || zh > 14 || zm > 59 {
			return time.Time{}, 0, false
		}
		off, zone = zh*3600+zm*60, true
		if s[i+1] == '-' {
			off = -off
		}
		i += 6
	}
	if loc == nil || zone {
		loc = time.UTC
	}
	t := time.Date(year, time.Month(month), day, h, m, sec, ns, loc)
	if t.Day() != day {
		return time.Time{}, 0, false
	}
	return t.Add(-time.Duration(off) * time.Second).UTC(), i, true
}

func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}
