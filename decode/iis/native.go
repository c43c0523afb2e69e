package iis

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// nativeFields are the columns of Microsoft's IIS log file format, the
// fixed, comma-separated one IIS writes when W3C is not chosen, under
// their W3C names where W3C has the same item.
var nativeFields = [...][]byte{
	[]byte("c-ip"), []byte("cs-username"), []byte("date"), []byte("time"), []byte("s-sitename"), []byte("s-computername"), []byte("s-ip"),
	[]byte("time-taken"), []byte("cs-bytes"), []byte("sc-bytes"), []byte("sc-status"), []byte("sc-win32-status"), []byte("cs-method"),
	[]byte("cs-uri-stem"), []byte("url.query"),
}

// native reads an IIS log file format line:
//
//	192.168.114.201, -, 03/20/01, 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,
//
// Date (m/d/yy or m/d/yyyy) and time are the server's local time.
func (d *Decoder) native(s string, ev *event.Event) error {
	var vals [len(nativeFields)]string
	var offs [len(nativeFields)]int
	i, n := 0, 0
	for ; n < len(vals) && i <= len(s); n++ {
		e := strings.Index(s[i:], ", ")
		if e < 0 {
			e = len(s) - i
		}
		vals[n], offs[n] = strings.TrimSuffix(s[i:i+e], ","), i
		i += e + 2
	}
	if n < len(vals) {
		return &decode.Error{Format: Format, Offset: len(s), Reason: "IIS log file format line has fewer than 15 values"}
	}
	t, ok := nativeTime(vals[2], vals[3], d.loc)
	if !ok {
		return &decode.Error{Format: Format, Offset: offs[2], Field: "date", Reason: "date and time are not m/d/yyyy h:mm:ss"}
	}
	if st := vals[10]; len(st) != 3 || st[0] < '1' || st[0] > '5' {
		return &decode.Error{Format: Format, Offset: offs[10], Field: "sc-status", Reason: "status is not a three-digit number"}
	}
	ev.Time = t
	ev.Logsource = event.Logsource{Category: "webserver", Service: "iis"}
	f, c := &ev.Fields, &ev.Common
	for k, v := range vals {
		if v != "-" && v != "" && k != 2 && k != 3 {
			f.SetName(nativeFields[k], v)
		}
	}
	set := func(id int, v string) {
		if v != "-" {
			c[id] = v
		}
	}
	if addr.IsIP(vals[0]) {
		c[event.SourceIP] = vals[0]
	}
	set(event.UserName, vals[1])
	set(event.ServiceName, vals[4])
	set(event.HostName, vals[5])
	if addr.IsIP(vals[6]) {
		c[event.DestinationIP] = vals[6]
	}
	c[event.HTTPResponseStatusCode] = vals[10]
	set(event.HTTPRequestMethod, vals[12])
	set(event.URLPath, vals[13])
	target := vals[13]
	if q := vals[14]; q != "-" && q != "" && target != "-" {
		d.buf = d.buf[:0]
		d.buf = append(append(append(d.buf, target...), '?'), q...)
		target = view.String(d.buf)
	}
	if target != "-" {
		c[event.URLOriginal] = target
		f.SetName(fieldURIQuery, target)
	}
	c[event.EventCategory] = "web"
	if vals[10][0] >= '4' {
		c[event.EventOutcome] = "failure"
	} else {
		c[event.EventOutcome] = "success"
	}
	return nil
}

// nativeTime reads "03/20/01" or "11/20/2023" and "7:55:20" in loc.
func nativeTime(date, clock string, loc *time.Location) (time.Time, bool) {
	mo, rest, ok1 := strings.Cut(date, "/")
	dd, yy, ok2 := strings.Cut(rest, "/")
	h, rest2, ok3 := strings.Cut(clock, ":")
	mi, sec, ok4 := strings.Cut(rest2, ":")
	if !ok1 || !ok2 || !ok3 || !ok4 || len(mo) > 2 || len(dd) > 2 || len(h) > 2 || len(mi) != 2 || len(sec) != 2 || len(yy) != 2 && len(yy) != 4 {
		return time.Time{}, false
	}
	m, ok1 := num(mo)
	day, ok2 := num(dd)
	y, ok3 := num(yy)
	hh, ok4 := num(h)
	mm, ok5 := num(mi)
	ss, ok6 := num(sec)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || m < 1 || m > 12 || day < 1 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	if len(yy) == 2 {
		y += 1900
		if y < 1970 {
			y += 100
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	t := time.Date(y, time.Month(m), day, hh, mm, ss, 0, loc)
	return t.UTC(), t.Day() == day
}
