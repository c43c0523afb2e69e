package sysloghdr

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// The time stamps of syslog headers, read strictly: the decoders of whole
// syslog lines (syslog, sshd) refuse a line whose header is malformed, and
// say where.

// NoStamp is the reason Read3164 gives for text that does not start with
// an RFC 3164 stamp at all.
const NoStamp = "no RFC 3164 or RFC 3339 time stamp"

// Read3164 reads "Mmm dd hh:mm:ss " (with its space) at the start of s,
// dates it by year, and returns the time and the 16 bytes read. On
// failure it returns the offset of the fault in s and the reason, NoStamp
// when s does not start with a month's name and a space.
func Read3164(s string, ref time.Time, loc *time.Location, year YearRule) (time.Time, int, string) {
	if len(s) < 16 {
		return time.Time{}, 0, NoStamp
	}
	month := monthNumber(s[:3])
	if month == 0 || s[3] != ' ' {
		return time.Time{}, 0, NoStamp
	}
	day := 0
	for j := 4; j < 6; j++ {
		switch c := s[j]; {
		case c == ' ' && j == 4:
		case isDigit(c):
			day = day*10 + int(c-'0')
		default:
			return time.Time{}, j, "malformed day of month"
		}
	}
	if day < 1 || day > 31 || s[6] != ' ' {
		return time.Time{}, 4, "malformed day of month"
	}
	clock := s[7:15]
	if clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, 7, "malformed time of day"
	}
	var hms [3]int
	for k := range 3 {
		a, b := clock[k*3], clock[k*3+1]
		if !isDigit(a) || !isDigit(b) {
			return time.Time{}, 7 + k*3, "malformed time of day"
		}
		hms[k] = int(a-'0')*10 + int(b-'0')
	}
	if hms[0] > 23 || hms[1] > 59 || hms[2] > 60 || s[15] != ' ' {
		return time.Time{}, 7, "malformed time of day"
	}
	// YearRule.Date, spelled out: one call fewer, the record's hot path.
	var t time.Time
	var ok bool
	if year == LatestYear {
		t, ok = latestYear(time.Month(month), day, hms[0], hms[1], hms[2], ref, loc)
	} else {
		t, ok = civil{hms[0], hms[1], hms[2], 0}.recent(month, day, 0, ref, loc)
	}
	if !ok {
		return time.Time{}, 4, "no such day in the month"
	}
	return t, 16, ""
}

// Read3339 reads the RFC 3339 stamp that starts s (rsyslog's
// high-precision header) up to the space after it, and returns the time
// and the bytes read with the space. On failure it returns the reason; the
// fault is the stamp, at offset 0.
func Read3339(s string) (time.Time, int, string) {
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		return time.Time{}, 0, "line ends after the time stamp"
	}
	t, ok := jsonrecord.ParseTime(s[:end])
	if !ok {
		return time.Time{}, 0, "unreadable RFC 3339 time stamp"
	}
	return t, end + 1, ""
}

// monthNumber is the number of a month's name as RFC 3164 writes it, "Jan"
// to "Dec", or 0. A switch, not a loop over the names: every line of a
// syslog file asks.
func monthNumber(name string) int {
	switch name {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}
