// Package errorlog decodes web server error logs: Apache httpd's
// error_log in its 2.2 layout and 2.4's default ErrorLogFormat, and
// nginx's error.log, as their sources write them (httpd's server/log.c,
// nginx's ngx_log_error_core and ngx_http_log_error). ModSecurity's
// messages inside either become fields: the rule's id, message, severity,
// tags, the URI and the transaction's unique id.
package errorlog

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/event"
)

// Formats the decoders are registered under.
const (
	FormatApache = "apache-error"
	FormatNginx  = "nginx-error"
)

func init() {
	decode.Register(FormatApache, NewApache)
	decode.RegisterSniffer(FormatApache, SniffApache)
	decode.Register(FormatNginx, NewNginx)
	decode.RegisterSniffer(FormatNginx, SniffNginx)
}

// Field names both servers' events share: ECS where it has a name.
var (
	fieldLevel     = []byte("log.level")
	fieldModule    = []byte("log.logger")
	fieldPID       = []byte("process.pid")
	fieldTID       = []byte("process.thread.id")
	fieldClient    = []byte("c-ip")
	fieldErrCode   = []byte("error.code")
	fieldErrText   = []byte("error.type")
	fieldMessage   = []byte("error.message")
	fieldReferer   = []byte("cs-referer")
	fieldRequest   = []byte("request")
	fieldMethod    = []byte("cs-method")
	fieldURIQuery  = []byte("cs-uri-query")
	fieldURIStem   = []byte("cs-uri-stem")
	fieldVersion   = []byte("cs-version")
	fieldHost      = []byte("cs-host")
	fieldServer    = []byte("s-sitename")
	fieldUpstream  = []byte("upstream")
	fieldConnID    = []byte("connection.id")
	fieldSource    = []byte("source.file")
	fieldClientKey = []byte("client")
)

func fail(format string, off int, field, reason string) *decode.Error {
	return &decode.Error{Format: format, Offset: off, Field: field, Reason: reason}
}

// client stores a client address: "1.2.3.4" or, when port, with the
// port after it as httpd 2.4 writes it ("1.2.3.4:5678", "::1:5678").
// Only what may be an address goes to netip, whose errors allocate.
func client(ev *event.Event, v string, port bool) {
	if v == "" {
		return
	}
	ev.Fields.SetName(fieldClient, v)
	if port {
		if j := strings.LastIndexByte(v, ':'); j > 0 && addr.IsPort(v[j+1:]) && addr.IsIP(v[:j]) {
			ev.Common[event.SourceIP], ev.Common[event.SourcePort] = v[:j], v[j+1:]
			return
		}
	}
	if addr.IsIP(v) {
		ev.Common[event.SourceIP] = v
	}
}

// request stores a request line "GET /a?b HTTP/1.1" and its parts.
func request(ev *event.Event, v string) {
	f, c := &ev.Fields, &ev.Common
	f.SetName(fieldRequest, v)
	m, rest, ok := strings.Cut(v, " ")
	if !ok || m == "" {
		return
	}
	target, proto := rest, ""
	if j := strings.LastIndexByte(rest, ' '); j >= 0 && strings.HasPrefix(rest[j+1:], "HTTP/") {
		target, proto = rest[:j], rest[j+1:]
	}
	f.SetName(fieldMethod, m)
	c[event.HTTPRequestMethod] = m
	f.SetName(fieldURIQuery, target)
	path := target
	if j := strings.IndexByte(path, '?'); j >= 0 {
		path = path[:j]
	}
	f.SetName(fieldURIStem, path)
	if proto != "" {
		f.SetName(fieldVersion, proto)
	}
	if c[event.URLOriginal] == "" {
		c[event.URLOriginal], c[event.URLPath] = target, path
	}
}

// outcome sets event.kind and, for levels that report a failure, the
// outcome. Both servers name their levels alike (emerg … debug).
func outcome(ev *event.Event, level string) {
	ev.Common[event.EventKind] = "event"
	switch level {
	case "emerg", "alert", "crit", "error":
		ev.Common[event.EventOutcome] = "failure"
	}
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func month(s string) int {
	for i, m := range months {
		if s == m {
			return i + 1
		}
	}
	return 0
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

// date builds a time in loc (UTC when nil), checking the day exists.
func date(y, mo, d, h, mi, s, ns int, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	// Years before 1000 are not a server's clock (and year 1 would be
	// the zero time, which callers read as none).
	if y < 1000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, loc)
	return t.UTC(), t.Day() == d
}

func trimEOL(rec []byte) []byte {
	for n := len(rec); n > 0 && (rec[n-1] == '\n' || rec[n-1] == '\r'); n = len(rec) {
		rec = rec[:n-1]
	}
	return rec
}
