package haproxy

import (
	"strings"
	"time"
)

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// acceptDate returns where the "[dd/Mon/yyyy:" of accept_date opens in s,
// -1 when there is none: the first '[' that starts one (the syslog tag's
// "[pid]" does not).
func acceptDate(s string) int {
	for off := 0; off < len(s); {
		j := strings.IndexByte(s[off:], '[')
		if j < 0 {
			return -1
		}
		j += off
		if j+13 < len(s) && s[j+3] == '/' && s[j+7] == '/' && s[j+12] == ':' && s[j+1] >= '0' && s[j+1] <= '3' {
			return j
		}
		off = j + 1
	}
	return -1
}

// stamp reads "06/Feb/2009:12:14:14.655" (the milliseconds may be
// missing) at the start of s, a local time in loc (UTC when nil), and
// returns it in UTC and the bytes read.
func stamp(s string, loc *time.Location) (time.Time, int, bool) {
	if len(s) < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' {
		return time.Time{}, 0, false
	}
	day, ok1 := num(s[0:2])
	year, ok2 := num(s[7:11])
	h, ok3 := num(s[12:14])
	m, ok4 := num(s[15:17])
	sec, ok5 := num(s[18:20])
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
	if loc == nil {
		loc = time.UTC
	}
	t := time.Date(year, time.Month(month), day, h, m, sec, ns, loc)
	if t.Day() != day {
		return time.Time{}, 0, false
	}
	return t.UTC(), i, true
}

func num(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, s != ""
}
