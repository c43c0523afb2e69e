package sysloghdr

import "time"

// YearRule is how a stamp without a year (RFC 3164's) is dated by the time
// its record was received.
type YearRule int

const (
	// RecentYear is ref's year, or the one before when that would put the
	// stamp more than a day after ref (a December line read in January).
	// Stamp dates by it, and the sshd decoder.
	RecentYear YearRule = iota
	// LatestYear is the latest of ref's next, own and previous years that
	// does not put the stamp more than a day after ref. So a December line
	// read in January is last year's, and a "Jan 1" line from a sender
	// whose clock runs a little ahead, received on December 31, is next
	// year's: the year never jumps at New Year. The syslog decoder dates by
	// it.
	LatestYear
)

// Date dates month, day and clock in loc by the receive time ref (now
// when zero). ok is false for a date that exists in none of the years the
// rule considers (Feb 30; Feb 29 far from a leap year).
func (r YearRule) Date(month time.Month, day, h, m, s int, ref time.Time, loc *time.Location) (time.Time, bool) {
	if r == LatestYear {
		return latestYear(month, day, h, m, s, ref, loc)
	}
	return civil{h, m, s, 0}.recent(int(month), day, 0, ref, loc)
}

func latestYear(month time.Month, day, h, m, s int, ref time.Time, loc *time.Location) (time.Time, bool) {
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.In(loc)
	limit := ref.Add(24 * time.Hour)
	for y := ref.Year() + 1; y >= ref.Year()-1; y-- {
		t := time.Date(y, month, day, h, m, s, 0, loc)
		if t.Day() != day { // normalised: no such day that year
			continue
		}
		if !t.After(limit) {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
