// Package iis decodes IIS logs in the W3C Extended Log File Format (W3C
// working draft WD-logfile-960323, as IIS writes it): directive lines
// (#Software, #Version, #Date, #Fields) and entries whose space-separated
// values follow the last #Fields line. Values hold no spaces: "-" is no
// value, and IIS writes a space in the user agent and cookies as "+".
// Dates and times are UTC.
package iis

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/headerline"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "iis"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// DefaultFields are the fields IIS 8.5 and later log by default, for
// entries read before any #Fields line.
var DefaultFields = []string{"date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip",
	"cs(User-Agent)", "cs(Referer)", "sc-status", "sc-substatus", "sc-win32-status", "time-taken"}

type role uint8

const (
	roleOther role = iota
	roleDate
	roleTime
	roleClientIP
	roleClientPort
	roleServerIP
	roleServerPort
	roleUser
	roleMethod
	roleStem
	roleQuery
	roleURI // cs-uri: stem and query together
	roleHost
	roleStatus
	roleAgent
	roleReferer
	roleVersion
	roleSite
	roleComputer
)

var roles = map[string]role{
	"date": roleDate, "time": roleTime, "c-ip": roleClientIP, "c-port": roleClientPort, "s-ip": roleServerIP, "s-port": roleServerPort,
	"cs-username": roleUser, "cs-method": roleMethod, "cs-uri-stem": roleStem, "cs-uri-query": roleQuery, "cs-uri": roleURI,
	"cs-host": roleHost, "sc-status": roleStatus, "cs(user-agent)": roleAgent, "cs(referer)": roleReferer, "cs-version": roleVersion,
	"s-sitename": roleSite, "s-computername": roleComputer,
}

// Decoder decodes W3C log lines. It is an Expander so that a directive
// yields no event: #Fields sets the columns of the entries after it, and
// #Date the date of entries without a date field. It is not safe for
// concurrent use.
type Decoder struct {
	names [][]byte
	roles []role
	vals  []string
	offs  []int
	date  string // from #Date, for entries without a date field
	loc   *time.Location
	// buf holds the values this decoder rewrites (a user agent's "+"
	// made spaces, the stem and query joined); valid until the next
	// record.
	buf []byte
}

// New returns an IIS decoder using DefaultFields.
func New() decode.Decoder {
	d := &Decoder{buf: make([]byte, 0, 512)}
	d.setFields(DefaultFields)
	return d
}

// Configure implements decode.Configurable: Options.Fields names the
// columns of a log whose #Fields line the source does not send; the
// Location is the zone of the IIS log file format's local times.
func (d *Decoder) Configure(o decode.Options) error {
	d.loc = o.Location
	if len(o.Fields) == 0 {
		return nil
	}
	var names []string
	for _, f := range o.Fields {
		names = append(names, strings.Fields(strings.TrimPrefix(f, "#Fields:"))...)
	}
	for _, n := range names {
		if strings.ContainsAny(n, "\"=,") {
			return fmt.Errorf("iis: %q is not a W3C field name", n)
		}
	}
	d.setFields(names)
	return nil
}

func (d *Decoder) setFields(names []string) {
	d.names = d.names[:0]
	d.roles = d.roles[:0]
	for _, n := range names {
		r := roles[strings.ToLower(n)]
		name := n
		// Sigma's webserver rules name the user agent and referer as
		// Apache-derived logs do.
		switch r {
		case roleAgent:
			name = "cs-user-agent"
		case roleReferer:
			name = "cs-referer"
		}
		if strings.EqualFold(n, "cs(Content-Type)") {
			name = "cs-content-type"
		}
		d.names = append(d.names, []byte(name))
		d.roles = append(d.roles, r)
	}
	d.vals = make([]string, len(names))
	d.offs = make([]int, len(names))
}

// Expand implements decode.Expander: an entry gives one event, a
// directive none.
func (d *Decoder) Expand(rec []byte, ev *event.Event, emit func(*event.Event)) error {
	return headerline.Expand(d.decode, rec, ev, emit)
}

// Decode implements decode.Decoder. A directive is refused as an event,
// since it holds none; callers that read directives use Expand.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	return headerline.Decode(d.decode, rec, ev, Format, "directive line: describes the entries that follow, holds no event")
}

func (d *Decoder) decode(rec []byte, ev *event.Event) (bool, error) {
	for n := len(rec); n > 0 && (rec[n-1] == '\n' || rec[n-1] == '\r'); n = len(rec) {
		rec = rec[:n-1]
	}
	s := view.String(rec)
	if len(s) == 0 {
		return false, &decode.Error{Format: Format, Offset: 0, Reason: "empty line"}
	}
	if s[0] == '#' {
		return true, d.directive(s)
	}
	if strings.Count(s, ", ") >= 13 {
		return false, d.native(s, ev)
	}
	n := 0
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		if n == len(d.vals) {
			return false, &decode.Error{Format: Format, Offset: i, Reason: "more values than the " + strconv.Itoa(len(d.vals)) + " fields of #Fields"}
		}
		d.vals[n], d.offs[n] = s[i:j], i
		n++
		i = j
	}
	if n < len(d.vals) {
		return false, &decode.Error{Format: Format, Offset: len(s), Reason: strconv.Itoa(n) + " values, #Fields names " + strconv.Itoa(len(d.vals))}
	}
	return false, d.fill(ev)
}

// directive reads #Fields and #Date; the others (#Software, #Version,
// #Start-Date, #End-Date, #Remark) change nothing.
func (d *Decoder) directive(s string) error {
	name, v, ok := strings.Cut(s[1:], ":")
	if !ok {
		return &decode.Error{Format: Format, Offset: 1, Reason: "directive without \":\""}
	}
	voff := len(s) - len(strings.TrimLeft(v, " \t")) // where the value starts
	v = strings.TrimSpace(v)
	switch name {
	case "Fields":
		if v == "" {
			return &decode.Error{Format: Format, Offset: len(s), Field: "Fields", Reason: "#Fields names no field"}
		}
		d.setFields(strings.Fields(v))
	case "Date":
		if _, err := time.Parse("2006-01-02", firstWord(v)); err != nil {
			return &decode.Error{Format: Format, Offset: voff, Field: "Date", Reason: "#Date is not yyyy-mm-dd hh:mm:ss"}
		}
		d.date = strings.Clone(firstWord(v))
	}
	return nil
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

func (d *Decoder) fill(ev *event.Event) error {
	f, c := &ev.Fields, &ev.Common
	ev.Logsource = event.Logsource{Category: "webserver", Service: "iis"}
	d.buf = d.buf[:0]
	date, clock, stem, query := d.date, "", "", ""
	dateOff, uri := 0, false
	for i, v := range d.vals {
		if v == "-" || v == "" {
			continue
		}
		switch d.roles[i] {
		case roleDate:
			date, dateOff = v, d.offs[i]
		case roleTime:
			clock = v
		case roleClientIP:
			if addr.IsIP(v) {
				c[event.SourceIP] = v
			}
		case roleClientPort:
			c[event.SourcePort] = v
		case roleServerIP:
			if addr.IsIP(v) {
				c[event.DestinationIP] = v
			}
		case roleServerPort:
			c[event.DestinationPort] = v
		case roleUser:
			c[event.UserName] = v
		case roleMethod:
			c[event.HTTPRequestMethod] = v
		case roleStem:
			stem = v
			c[event.URLPath] = v
		case roleQuery:
			query = v
			f.SetName(fieldQuery, v)
			continue // stored below, with the stem
		case roleURI:
			uri = true
			c[event.URLOriginal] = v
		case roleHost:
			c[event.URLDomain] = v
		case roleStatus:
			if len(v) != 3 || v[0] < '1' || v[0] > '5' {
				return &decode.Error{Format: Format, Offset: d.offs[i], Field: "sc-status", Reason: "status is not a three-digit number"}
			}
			c[event.HTTPResponseStatusCode] = v
		case roleAgent:
			v = d.unplus(v)
			c[event.UserAgentOriginal] = v
		case roleSite:
			c[event.ServiceName] = v
		case roleComputer:
			c[event.HostName] = v
		}
		f.SetName(d.names[i], v)
	}
	if clock == "" || date == "" {
		return &decode.Error{Format: Format, Offset: 0, Field: "time", Reason: "entry has no date and time (no date or time field, and no #Date)"}
	}
	t, ok := stamp(date, clock)
	if !ok {
		return &decode.Error{Format: Format, Offset: dateOff, Field: "time", Reason: "date and time are not yyyy-mm-dd hh:mm:ss"}
	}
	ev.Time = t
	// Sigma's webserver rules look for paths and queries alike in
	// cs-uri-query (as vigil's accesslog gives it), so it holds the
	// target, stem and query; IIS's query alone is url.query.
	if !uri && stem != "" {
		target := stem
		if query != "" {
			start := len(d.buf)
			d.buf = append(append(append(d.buf, stem...), '?'), query...)
			target = view.String(d.buf[start:])
		}
		c[event.URLOriginal] = target
		f.SetName(fieldURIQuery, target)
	} else if query != "" {
		f.SetName(fieldURIQuery, query)
	}
	c[event.EventCategory] = "web"
	if s := c[event.HTTPResponseStatusCode]; s != "" {
		if s[0] >= '4' {
			c[event.EventOutcome] = "failure"
		} else {
			c[event.EventOutcome] = "success"
		}
	}
	return nil
}

// unplus returns v with IIS's "+" for a space made a space again, in
// d.buf when there is one.
func (d *Decoder) unplus(v string) string {
	if strings.IndexByte(v, '+') < 0 {
		return v
	}
	start := len(d.buf)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '+' {
			c = ' '
		}
		d.buf = append(d.buf, c)
	}
	return view.String(d.buf[start:])
}

var (
	fieldQuery    = []byte("url.query")
	fieldURIQuery = []byte("cs-uri-query")
)

// stamp reads the UTC "yyyy-mm-dd" and "hh:mm:ss" (a fraction allowed).
func stamp(date, clock string) (time.Time, bool) {
	if len(date) != 10 || date[4] != '-' || date[7] != '-' || len(clock) < 8 || clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, false
	}
	y, ok1 := num(date[0:4])
	mo, ok2 := num(date[5:7])
	dd, ok3 := num(date[8:10])
	h, ok4 := num(clock[0:2])
	mi, ok5 := num(clock[3:5])
	sec, ok6 := num(clock[6:8])
	ns := 0
	if len(clock) > 8 {
		if clock[8] != '.' || len(clock) == 9 || len(clock) > 18 {
			return time.Time{}, false
		}
		frac, ok := num(clock[9:])
		if !ok {
			return time.Time{}, false
		}
		ns = frac
		for k := len(clock) - 9; k < 9; k++ {
			ns *= 10
		}
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || mo < 1 || mo > 12 || dd < 1 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), dd, h, mi, sec, ns, time.UTC)
	return t, t.Day() == dd
}

func num(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}
