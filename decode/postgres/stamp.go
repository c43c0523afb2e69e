package postgres

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// parseStamp reads %m / %t stamps ("2024-05-06 08:00:00.123 UTC"), as all
// three destinations write them. A zone Go reads (UTC, GMT, a numeric
// offset) is applied; an abbreviation (CET, EST…), which names no offset
// reliably, is dropped and the stamp is read in loc (UTC when nil).
func parseStamp(s string, loc *time.Location) (time.Time, bool) {
	if t, ok := jsonrecord.ParseTime(s); ok {
		return t, true
	}
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return time.Time{}, false
	}
	local, zone := s[:i], s[i+1:]
	t, ok := jsonrecord.ParseTime(local)
	if !ok || !isZoneAbbrev(zone) {
		return time.Time{}, false
	}
	if loc == nil || loc == time.UTC {
		return t, true
	}
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), loc).UTC(), true
}

func isZoneAbbrev(z string) bool {
	if len(z) < 1 || len(z) > 6 {
		return false
	}
	for i := 0; i < len(z); i++ {
		c := z[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}
