package accesslog

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/clf"
	"github.com/vigil-sec/vigil/event"
)

// parseLayout takes s apart by l into vals (one a layout item) and reads
// the time. Text after the layout's end (fields a newer format appends)
// is left alone.
func (l *layout) parse(s string, vals []string, loc *time.Location) (time.Time, *decode.Error) {
	var t time.Time
	i := 0
	for k := range l.items {
		it := &l.items[k]
		if !strings.HasPrefix(s[i:], it.lit) {
			return t, fail(i, string(it.name), "want "+quote(it.lit)+" here, as the layout writes it")
		}
		i += len(it.lit)
		if it.role == roleTime {
			if i >= len(s) || s[i] != '[' {
				return t, fail(i, "time", "no [time stamp]")
			}
			ts, n, ok := clf.Stamp(s[i+1:], loc)
			if !ok {
				return t, fail(i+1, "time", "time stamp is not dd/Mon/yyyy:hh:mm:ss ±hhmm")
			}
			if i+1+n >= len(s) || s[i+1+n] != ']' {
				return t, fail(i+1+n, "time", "no ] after the time stamp")
			}
			t, vals[k] = ts, s[i+1:i+1+n]
			i += n + 2
			continue
		}
		end, ok := l.end(k, s, i)
		if !ok {
			return t, fail(i, string(it.name), "no "+quote(it.stop)+" after this value, as the layout writes it")
		}
		v := s[i:end]
		vals[k] = v
		switch it.role {
		case roleStatus:
			if !isStatus(v) && v != "-" {
				return t, fail(i, "status", "status is not a three-digit number")
			}
		case roleBytes, roleBodyBytes:
			if v != "-" && !allDigits(v) {
				return t, fail(i, "bytes", "byte count is not a number")
			}
		case roleTimeBare, roleTimeISO, roleTimeSec, roleTimeMsec, roleTimeUsec:
			ts, ok := readTime(it.role, v, loc)
			if !ok {
				return t, fail(i, "time", "unreadable time stamp")
			}
			t = ts
		}
		i = end
	}
	if !strings.HasPrefix(s[i:], l.tail) {
		return t, fail(i, "", "want "+quote(l.tail)+" here, as the layout writes it")
	}
	return t, nil
}

// end returns where the value of item k starting at i ends.
func (l *layout) end(k int, s string, i int) (int, bool) {
	it := &l.items[k]
	if it.role == rolePath && k+1 < len(l.items) && l.items[k+1].lit == "" {
		// %U%q: the path ends at the query's "?".
		j := i
		for j < len(s) && s[j] != '?' && s[j] != ' ' && s[j] != '"' {
			j++
		}
		return j, true
	}
	if it.stop == "" {
		if k+1 < len(l.items) {
			return i, true // an empty value before a %q with nothing logged
		}
		// The last value, with nothing after it in the layout: up to the
		// next space, so that fields a format appends stay apart.
		if j := strings.IndexByte(s[i:], ' '); j >= 0 {
			return i + j, true
		}
		return len(s), true
	}
	if it.quoted {
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '"':
				if strings.HasPrefix(s[j:], it.stop) || k+1 == len(l.items) {
					return j, true
				}
			}
		}
		return 0, false
	}
	j := strings.Index(s[i:], it.stop)
	if j < 0 {
		if k+1 == len(l.items) && strings.TrimSpace(it.stop) == "" {
			return len(s), true
		}
		return 0, false
	}
	return i + j, true
}

// readTime reads the time stamps a layout may hold other than %t.
func readTime(r role, v string, loc *time.Location) (time.Time, bool) {
	switch r {
	case roleTimeBare:
		t, n, ok := clf.Stamp(v, loc)
		return t, ok && n == len(v)
	case roleTimeISO:
		for _, f := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05-0700"} {
			if t, err := time.Parse(f, v); err == nil {
				return t.UTC(), true
			}
		}
		if loc == nil {
			loc = time.UTC
		}
		t, err := time.ParseInLocation("2006-01-02T15:04:05", v, loc)
		return t.UTC(), err == nil
	}
	sec, frac, _ := strings.Cut(v, ".")
	if !allDigits(sec) || len(sec) > 19 || frac != "" && !allDigits(frac) {
		return time.Time{}, false
	}
	n := 0
	for i := 0; i < len(sec); i++ {
		n = n*10 + int(sec[i]-'0')
	}
	switch r {
	case roleTimeMsec:
		return time.UnixMilli(int64(n)).UTC(), len(sec) <= 16
	case roleTimeUsec:
		return time.UnixMicro(int64(n)).UTC(), true
	}
	ns, scale := 0, 100_000_000
	for i := 0; i < len(frac) && i < 9; i++ {
		ns += int(frac[i]-'0') * scale
		scale /= 10
	}
	return time.Unix(int64(n), int64(ns)).UTC(), len(sec) <= 12
}

// fill stores the values of a line read by l and its common fields.
func (l *layout) fill(vals []string, t time.Time, ev *event.Event) {
	ev.Time = t
	ev.Logsource = event.Logsource{Category: "webserver", Service: l.service}
	f, c := &ev.Fields, &ev.Common
	var path, query, target string
	for k := range l.items {
		it := &l.items[k]
		v := vals[k]
		if v == "" || v == "-" {
			continue
		}
		if it.name != nil {
			f.SetName(it.name, v)
		}
		switch it.role {
		case roleClient:
			if addr.IsIP(v) {
				c[event.SourceIP] = v
			}
		case roleUser:
			c[event.UserName] = v
		case roleRequest:
			var rl line
			rl.request = v
			rl.splitRequest()
			if rl.method != "" {
				f.SetName(fieldMethod, rl.method)
				c[event.HTTPRequestMethod] = rl.method
			}
			if rl.proto != "" {
				f.SetName(fieldVersion, rl.proto)
			}
			target = rl.target
		case roleMethod:
			c[event.HTTPRequestMethod] = v
		case roleTarget:
			target = v
		case rolePath:
			path = v
		case roleQuery:
			query = v
			if q := strings.TrimPrefix(v, "?"); q != "" {
				f.SetName(fieldURLQuery, q)
			}
		case roleBodyBytes:
			f.SetName(fieldBodyBytes, v)
		case roleStatus:
			c[event.HTTPResponseStatusCode] = v
		case roleAgent:
			c[event.UserAgentOriginal] = v
		case roleHost:
			c[event.URLDomain] = v
		case roleServerPort:
			c[event.DestinationPort] = v
		case roleClientPort:
			c[event.SourcePort] = v
		case roleServerIP:
			if addr.IsIP(v) {
				c[event.DestinationIP] = v
			}
		}
	}
	if target == "" && path != "" {
		// %U%q, $uri?$args: the target is the path and query. Built
		// only when the request line is not logged (it allocates).
		target = path
		if query != "" && query != "?" {
			if query[0] == '?' {
				target = path + query
			} else {
				target = path + "?" + query
			}
		}
	}
	if target != "" {
		if !l.hasTarget {
			f.SetName(fieldURIQuery, target)
		}
		c[event.URLOriginal] = target
		if path == "" {
			path = target
			if j := strings.IndexByte(path, '?'); j >= 0 {
				path = path[:j]
				if query == "" && j+1 < len(target) {
					f.SetName(fieldURLQuery, target[j+1:])
				}
			}
			f.SetName(fieldURIStem, path)
		}
		c[event.URLPath] = path
	}
	c[event.EventCategory] = "web"
	if s := c[event.HTTPResponseStatusCode]; s != "" {
		// ECS: a response the server counts as an error (4xx, 5xx) is a
		// failure.
		if s[0] >= '4' {
			c[event.EventOutcome] = "failure"
		} else {
			c[event.EventOutcome] = "success"
		}
	}
}

var (
	fieldURLQuery  = []byte("url.query")
	fieldBodyBytes = []byte("http.response.body.bytes")
)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func quote(s string) string {
	if s == "" {
		return "the end of the value"
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
