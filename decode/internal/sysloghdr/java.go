package sysloghdr

import "time"

// JavaStamp reads s laid out by a Java SimpleDateFormat pattern, as LEEF's
// devTimeFormat names one ("MMM dd yyyy HH:mm:ss.SSS z"). It knows the
// letters devices use: y, M (number or name), d, H, k, h, K, a, m, s, S, E
// (skipped), z, Z and X, and 'quoted' literals. A stamp without a zone is in
// loc; without a year, see Stamp. It does not allocate.
func JavaStamp(layout, s string, ref time.Time, loc *time.Location) (time.Time, bool) {
	year, month, day := 0, 0, 1
	var c civil
	pm, has12 := false, false
	zone := ""
	i := 0 // position in s
	for j := 0; j < len(layout); {
		ch := layout[j]
		if ch == '\'' { // quoted literal; '' is a quote
			j++
			for j < len(layout) {
				if layout[j] == '\'' {
					if j+1 < len(layout) && layout[j+1] == '\'' {
						j++
					} else {
						break
					}
				}
				if i >= len(s) || s[i] != layout[j] {
					return time.Time{}, false
				}
				i++
				j++
			}
			j++
			continue
		}
		if !isLetter(ch) {
			if i >= len(s) || s[i] != ch {
				return time.Time{}, false
			}
			i++
			j++
			continue
		}
		n := 1
		for j+n < len(layout) && layout[j+n] == ch {
			n++
		}
		j += n
		var v, w int
		var ok bool
		switch ch {
		case 'y':
			if n == 2 {
				v, w, ok = digitsAt(s, i, 2, 2)
				v += 2000
			} else {
				v, w, ok = digitsAt(s, i, 4, 4)
			}
			year = v
		case 'M':
			if n >= 3 {
				w = letters(s, i)
				if w >= 3 {
					v = monthOf(s[i : i+3])
				}
				ok = v != 0
			} else {
				v, w, ok = digitsAt(s, i, 1, 2)
				ok = ok && v >= 1 && v <= 12
			}
			month = v
		case 'd':
			v, w, ok = digitsAt(s, i, 1, 2)
			day = v
		case 'H', 'k', 'h', 'K':
			v, w, ok = digitsAt(s, i, 1, 2)
			if ch == 'k' && v == 24 {
				v = 0
			}
			has12 = has12 || ch == 'h' || ch == 'K'
			c.h = v
		case 'm':
			c.m, w, ok = digitsAt(s, i, 1, 2)
		case 's':
			c.s, w, ok = digitsAt(s, i, 1, 2)
		case 'S':
			v, w, ok = digitsAt(s, i, 1, 9)
			for k := w; k < 9; k++ {
				v *= 10
			}
			c.ns = v
		case 'a':
			w = letters(s, i)
			ok = w == 2
			if ok {
				pm = s[i]|0x20 == 'p'
			}
		case 'E':
			w = letters(s, i)
			ok = w > 0
		case 'z', 'Z', 'X':
			w = zoneLen(s, i)
			ok = w > 0
			zone = s[i : i+w]
		default:
			return time.Time{}, false
		}
		if !ok {
			return time.Time{}, false
		}
		i += w
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i != len(s) || month == 0 {
		return time.Time{}, false
	}
	if has12 {
		if c.h > 12 {
			return time.Time{}, false
		}
		c.h %= 12
		if pm {
			c.h += 12
		}
	}
	if c.h > 23 || c.m > 59 || c.s > 60 {
		return time.Time{}, false
	}
	return c.at(year, month, day, zone, ref, loc)
}

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// digitsAt reads min to max digits at s[i:].
func digitsAt(s string, i, min, max int) (v, n int, ok bool) {
	for n < max && i+n < len(s) && isDigit(s[i+n]) {
		v = v*10 + int(s[i+n]-'0')
		n++
	}
	return v, n, n >= min
}

func letters(s string, i int) int {
	n := 0
	for i+n < len(s) && isLetter(s[i+n]) {
		n++
	}
	return n
}

// zoneLen is the length of the zone at s[i:]: letters, or a sign with
// digits and colons.
func zoneLen(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	if s[i] == '+' || s[i] == '-' {
		n := 1
		for i+n < len(s) && (isDigit(s[i+n]) || s[i+n] == ':') {
			n++
		}
		return n
	}
	return letters(s, i)
}
