package web

import (
	"net/url"
	"time"
)

// overviewRange is the time range the overview's chart and threat types
// cover, chosen with ?range=.
type overviewRange struct {
	// Key is the ?range= value: "" (latest activity), "24h", "7d", "30d"
	// or "all".
	Key      string
	From, To time.Time
	Bucket   time.Duration
	// Note explains a range chosen for the visitor (no alerts lately).
	Note string
	// trim drops the chart's empty buckets before the first alert ("all").
	trim bool
}

// rangeChoice is one entry of the range picker.
type rangeChoice struct {
	Key, Label, Title string
}

// rangeChoices are the picker's entries, in order.
var rangeChoices = []rangeChoice{
	{"", "Latest", "The last 24 hours, or the 24 hours up to the newest alert when the last 24 hours have none"},
	{"24h", "24 h", "The last 24 hours"},
	{"7d", "7 days", "The last 7 days"},
	{"30d", "30 days", "The last 30 days"},
	{"all", "All", "Everything of the last 366 days (the longest range the threat routes take)"},
}

// validRange reports whether key is a picker's entry.
func validRange(key string) bool {
	for _, c := range rangeChoices {
		if c.Key == key {
			return true
		}
	}
	return false
}

// pickRange works out the range of key at now, given when the newest
// alert was last seen (zero when the workspace has none). The default
// shows data to a newcomer whose alerts are old (the demo's sample): the
// last 24 hours when they have alerts, else the 24 hours up to the
// newest alert.
func pickRange(key string, now, newest time.Time) overviewRange {
	now = now.UTC()
	end := now.Truncate(time.Hour).Add(time.Hour) // whole hours: buckets on the hour
	switch key {
	case "24h":
		return overviewRange{Key: key, From: end.Add(-24 * time.Hour), To: end, Bucket: time.Hour}
	case "7d":
		return overviewRange{Key: key, From: end.Add(-7 * 24 * time.Hour), To: end, Bucket: 6 * time.Hour}
	case "30d":
		day := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
		return overviewRange{Key: key, From: day.Add(-30 * 24 * time.Hour), To: day, Bucket: 24 * time.Hour}
	case "all":
		day := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
		return overviewRange{Key: key, From: day.Add(-366 * 24 * time.Hour), To: day, Bucket: 24 * time.Hour, trim: true}
	}
	r := pickRange("24h", now, newest)
	r.Key = ""
	if newest.IsZero() || !newest.Before(r.From) {
		return r
	}
	end = newest.UTC().Truncate(time.Hour).Add(time.Hour)
	r.From, r.To = end.Add(-24*time.Hour), end
	r.Note = "No alerts in the last 24 hours: showing the 24 hours up to the newest alert, last seen " +
		newest.UTC().Format("Jan 2, 2006 15:04 UTC") + "."
	return r
}

// query is the range as the threat routes take it.
func (r overviewRange) query() url.Values {
	return url.Values{"from": {r.From.Format(time.RFC3339)}, "to": {r.To.Format(time.RFC3339)},
		"bucket": {r.Bucket.String()}}
}

// Text says the range for people: hours when it is a day or less, days
// beyond.
func (r overviewRange) Text() string {
	layout := "Jan 2 15:04"
	if r.Bucket >= 24*time.Hour {
		layout = "Jan 2, 2006"
		return r.From.UTC().Format(layout) + " – " + r.To.UTC().Add(-time.Nanosecond).Format(layout) + " (UTC)"
	}
	if r.From.Year() != r.To.Year() || r.To.Sub(r.From) > 24*time.Hour {
		layout = "Jan 2, 2006 15:04"
	}
	return r.From.UTC().Format(layout) + " – " + r.To.UTC().Format(layout) + " UTC"
}
