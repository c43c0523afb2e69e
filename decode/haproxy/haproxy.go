// Package haproxy decodes HAProxy's logs in its HTTP format ("option
// httplog", configuration manual section 8.2.3) and TCP format ("option
// tcplog", 8.2.2), with or without the syslog header in front:
//
//	Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"
//	haproxy[14387]: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0
//
// Fields keep the manual's names (frontend_name, termination_state, Tr …)
// and the request also takes the W3C names Sigma's webserver rules read.
package haproxy

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/clf"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "haproxy"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes HAProxy log lines. It is not safe for concurrent use.
type Decoder struct {
	// loc is the zone of accept_date, which HAProxy writes in the
	// host's local time without an offset.
	loc *time.Location
}

// New returns a HAProxy log decoder.
func New() decode.Decoder { return &Decoder{} }

// Configure implements decode.Configurable.
func (d *Decoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

var (
	fieldClientIP   = []byte("client_ip")
	fieldClientPort = []byte("client_port")
	fieldFrontend   = []byte("frontend_name")
	fieldBackend    = []byte("backend_name")
	fieldServer     = []byte("server_name")
	fieldStatus     = []byte("status_code")
	fieldBytes      = []byte("bytes_read")
	fieldReqCookie  = []byte("captured_request_cookie")
	fieldResCookie  = []byte("captured_response_cookie")
	fieldTermState  = []byte("termination_state")
	fieldReqHeaders = []byte("captured_request_headers")
	fieldResHeaders = []byte("captured_response_headers")
	fieldRequest    = []byte("http_request")
	fieldPID        = []byte("pid")
	fieldProcess    = []byte("process_name")
	fieldRetries    = []byte("retries")
	// The W3C names of the same values, for Sigma's webserver rules.
	fieldCIP      = []byte("c-ip")
	fieldMethod   = []byte("cs-method")
	fieldURIQuery = []byte("cs-uri-query")
	fieldURIStem  = []byte("cs-uri-stem")
	fieldVersion  = []byte("cs-version")
	fieldSCStatus = []byte("sc-status")
	fieldSCBytes  = []byte("sc-bytes")

	httpTimers = [][]byte{[]byte("TR"), []byte("Tw"), []byte("Tc"), []byte("Tr"), []byte("Ta")}
	tcpTimers  = [][]byte{[]byte("Tw"), []byte("Tc"), []byte("Tt")}
	connNames  = [][]byte{[]byte("actconn"), []byte("feconn"), []byte("beconn"), []byte("srv_conn"), fieldRetries}
	queueNames = [][]byte{[]byte("srv_queue"), []byte("backend_queue")}
)

func fail(off int, field, reason string) *decode.Error {
	return &decode.Error{Format: Format, Offset: off, Field: field, Reason: reason}
}

// Decode implements decode.Decoder. Values alias rec.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	for n := len(rec); n > 0 && (rec[n-1] == '\n' || rec[n-1] == '\r'); n = len(rec) {
		rec = rec[:n-1]
	}
	s := view.String(rec)
	if len(s) == 0 {
		return fail(0, "", "empty line")
	}
	open := acceptDate(s)
	if open < 0 {
		if j := strings.Index(s, "Connect from "); j >= 0 {
			return d.connect(s, j, ev)
		}
		return fail(0, "accept_date", "no client_ip:client_port [accept_date]")
	}
	f, c := &ev.Fields, &ev.Common
	// The client before the date; the syslog header and "haproxy[pid]:"
	// before it.
	head := strings.TrimRight(s[:open], " ")
	ci := strings.LastIndexByte(head, ' ') + 1
	cl := head[ci:]
	if ci > 0 {
		d.tag(ev, head[:ci-1])
	}
	j := strings.LastIndexByte(cl, ':')
	if j < 1 || !addr.IsPort(cl[j+1:]) {
		return fail(ci, "client_ip", "client is not address:port")
	}
	ip, port := cl[:j], cl[j+1:]
	f.SetName(fieldClientIP, ip)
	f.SetName(fieldCIP, ip)
	f.SetName(fieldClientPort, port)
	if addr.IsIP(ip) {
		c[event.SourceIP] = ip
	}
	c[event.SourcePort] = port
	t, n, ok := clf.Stamp(s[open+1:], d.loc)
	if !ok || open+1+n >= len(s) || s[open+1+n] != ']' {
		return fail(open+1, "accept_date", "accept_date is not dd/Mon/yyyy:hh:mm:ss.mmm")
	}
	ev.Time = t
	ev.Logsource = event.Logsource{Category: "webserver", Service: "haproxy"}
	i := open + n + 2
	var w string
	next := func() (string, int) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		at := i
		for i < len(s) && s[i] != ' ' {
			i++
		}
		return s[at:i], at
	}
	w, at := next()
	if w == "" {
		return fail(at, "frontend_name", "no frontend_name")
	}
	f.SetName(fieldFrontend, w)
	c[event.ServiceName] = strings.TrimSuffix(w, "~") // "~": the frontend took TLS
	w, at = next()
	be, srv, ok := strings.Cut(w, "/")
	if !ok {
		return fail(at, "backend_name", "no backend_name/server_name")
	}
	f.SetName(fieldBackend, be)
	f.SetName(fieldServer, srv)
	w, at = next()
	timers := httpTimers
	if strings.Count(w, "/") == 2 {
		timers = tcpTimers
	}
	if !split(f, w, timers, true) {
		return fail(at, "timers", "timers are not TR/Tw/Tc/Tr/Ta (httplog) or Tw/Tc/Tt (tcplog)")
	}
	http := len(timers) == len(httpTimers)
	if http {
		w, at = next()
		if !isStatus(w) && w != "-1" {
			return fail(at, "status_code", "status_code is not a three-digit number")
		}
		if w != "-1" {
			f.SetName(fieldStatus, w)
			f.SetName(fieldSCStatus, w)
			c[event.HTTPResponseStatusCode] = w
		}
	}
	w, at = next()
	if !digits(strings.TrimPrefix(w, "+")) {
		return fail(at, "bytes_read", "bytes_read is not a number")
	}
	f.SetName(fieldBytes, w)
	f.SetName(fieldSCBytes, strings.TrimPrefix(w, "+"))
	if http {
		w, _ = next()
		setValue(f, fieldReqCookie, w)
		w, _ = next()
		setValue(f, fieldResCookie, w)
	}
	w, at = next()
	if w == "" {
		return fail(at, "termination_state", "no termination_state")
	}
	f.SetName(fieldTermState, w)
	w, at = next()
	if !split(f, w, connNames, false) {
		return fail(at, "actconn", "connection counts are not actconn/feconn/beconn/srv_conn/retries")
	}
	w, at = next()
	if !split(f, w, queueNames, false) {
		return fail(at, "srv_queue", "queues are not srv_queue/backend_queue")
	}
	c[event.EventCategory] = "web"
	if !http {
		ev.Logsource.Category = "proxy"
		c[event.EventCategory] = "network"
		c[event.NetworkTransport] = "tcp"
		return nil
	}
	// Captured headers, each set in braces; then the quoted request.
	for k := 0; k < 2; k++ {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) || s[i] != '{' {
			break
		}
		e := strings.Index(s[i:], "} ")
		if e < 0 {
			if strings.HasSuffix(s, "}") {
				e = len(s) - 1 - i
			} else {
				return fail(i, "captured_request_headers", "no } after the captured headers")
			}
		}
		if k == 0 {
			f.SetName(fieldReqHeaders, s[i+1:i+e])
		} else {
			f.SetName(fieldResHeaders, s[i+1:i+e])
		}
		i += e + 1
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != '"' {
		return fail(i, "http_request", "no quoted http_request")
	}
	// HAProxy writes a quote inside the request as #22, so the first
	// quote closes it; what a custom format adds after it (the TLS
	// version) is left alone. A request cut at the log line's length
	// lacks the closing quote.
	req := s[i+1:]
	if q := strings.IndexByte(req, '"'); q >= 0 {
		req = req[:q]
	}
	f.SetName(fieldRequest, req)
	request(ev, req)
	if st := c[event.HTTPResponseStatusCode]; st != "" {
		if st[0] >= '4' {
			c[event.EventOutcome] = "failure"
		} else {
			c[event.EventOutcome] = "success"
		}
	}
	return nil
}

// tag reads "haproxy[14389]:" at the end of the text before the client,
// and the host of a syslog header before it.
func (d *Decoder) tag(ev *event.Event, h string) {
	tg := h
	if sp := strings.LastIndexByte(h, ' '); sp >= 0 {
		tg = h[sp+1:]
		pre := strings.TrimRight(h[:sp], " ")
		if hs := strings.LastIndexByte(pre, ' '); hs >= 0 && hs+1 < len(pre) {
			ev.Common[event.HostName] = pre[hs+1:]
		}
	}
	tg = strings.TrimSuffix(tg, ":")
	if name, pid, ok := strings.Cut(tg, "["); ok && strings.HasSuffix(pid, "]") {
		pid = pid[:len(pid)-1]
		ev.Fields.SetName(fieldProcess, name)
		ev.Fields.SetName(fieldPID, pid)
		ev.Common[event.ProcessName] = name
		ev.Common[event.ProcessPID] = pid
	}
}

// request stores the parts of "GET /index.html HTTP/1.1"; an absolute
// target (HTTP/2, a proxy request) gives its host too.
func request(ev *event.Event, req string) {
	f, c := &ev.Fields, &ev.Common
	m, rest, ok := strings.Cut(req, " ")
	if !ok || m == "" || m[0] == '<' { // <BADREQ>, <NOSRV>
		return
	}
	target, proto := rest, ""
	if j := strings.LastIndexByte(rest, ' '); j >= 0 && strings.HasPrefix(rest[j+1:], "HTTP/") {
		target, proto = rest[:j], rest[j+1:]
	}
	f.SetName(fieldMethod, m)
	c[event.HTTPRequestMethod] = m
	if proto != "" {
		f.SetName(fieldVersion, proto)
	}
	c[event.URLOriginal] = target
	pathq := target
	if k := strings.Index(target, "://"); k > 0 && k < 10 {
		hostpath := target[k+3:]
		host := hostpath
		if p := strings.IndexByte(hostpath, '/'); p >= 0 {
			host, pathq = hostpath[:p], hostpath[p:]
		} else {
			pathq = "/"
		}
		c[event.URLDomain] = host
	}
	path := pathq
	if q := strings.IndexByte(path, '?'); q >= 0 {
		path = path[:q]
	}
	f.SetName(fieldURIQuery, pathq)
	f.SetName(fieldURIStem, path)
	c[event.URLPath] = path
}

// split stores the '/'-separated values of w under names; signed allows
// -1 (a timer that did not run) and "+" (a value that logasap cut).
func split(f *event.Fields, w string, names [][]byte, signed bool) bool {
	if strings.Count(w, "/") != len(names)-1 {
		return false
	}
	for k := range names {
		v, rest, _ := strings.Cut(w, "/")
		n := strings.TrimPrefix(v, "+")
		if signed {
			n = strings.TrimPrefix(n, "-")
		}
		if !digits(n) {
			return false
		}
		f.SetName(names[k], v)
		w = rest
	}
	return true
}

func setValue(f *event.Fields, name []byte, v string) {
	if v != "-" && v != "" {
		f.SetName(name, v)
	}
}

func digits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isStatus(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && digits(s)
}

// connect reads the default format (section 8.2.1), logged when a
// connection is accepted: "Connect from 10.0.1.2:33312 to
// 10.0.3.31:8012 (www/HTTP)". It has no time of its own: the syslog
// header's, if any, else the receive time.
func (d *Decoder) connect(s string, j int, ev *event.Event) error {
	if j > 0 {
		head := strings.TrimRight(s[:j], " ")
		h := sysloghdr.ParsePrefix(head, ev.Received, d.loc)
		ev.Time = h.Time
		d.tag(ev, head)
	}
	f, c := &ev.Fields, &ev.Common
	i := j + len("Connect from ")
	src, rest, ok := strings.Cut(s[i:], " to ")
	sp := strings.LastIndexByte(src, ':')
	if !ok || sp < 1 || !addr.IsPort(src[sp+1:]) {
		return fail(i, "source_ip", "want source_ip:source_port to destination_ip:destination_port")
	}
	dst, mode, _ := strings.Cut(rest, " ")
	dp := strings.LastIndexByte(dst, ':')
	if dp < 1 || !addr.IsPort(dst[dp+1:]) {
		return fail(i+len(src)+4, "destination_ip", "want destination_ip:destination_port")
	}
	f.SetName([]byte("source_ip"), src[:sp])
	f.SetName([]byte("source_port"), src[sp+1:])
	f.SetName([]byte("destination_ip"), dst[:dp])
	f.SetName([]byte("destination_port"), dst[dp+1:])
	if addr.IsIP(src[:sp]) {
		c[event.SourceIP] = src[:sp]
	}
	if addr.IsIP(dst[:dp]) {
		c[event.DestinationIP] = dst[:dp]
	}
	c[event.SourcePort], c[event.DestinationPort] = src[sp+1:], dst[dp+1:]
	if fe, m, ok := strings.Cut(strings.Trim(mode, "()"), "/"); ok {
		f.SetName(fieldFrontend, fe)
		f.SetName([]byte("mode"), m)
		c[event.ServiceName] = fe
	}
	c[event.EventCategory] = "network"
	c[event.EventAction] = "connection-accepted"
	ev.Logsource = event.Logsource{Category: "proxy", Service: "haproxy"}
	return nil
}
