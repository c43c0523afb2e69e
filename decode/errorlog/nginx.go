package errorlog

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Nginx decodes nginx error.log lines, as ngx_log_error_core writes them:
//
//	2024/01/02 03:04:05 [error] 1234#5678: *9 open() "/usr/share/nginx/html/x" failed (2: No such file or directory), client: 1.2.3.4, server: example.com, request: "GET /x HTTP/1.1", host: "example.com"
//
// the local time, [level], pid#tid, "*connection " when there is one, the
// message, " (errno: text)" after a failed system call, and the request's
// context ngx_http_log_error appends (client, server, request,
// subrequest, upstream, host, referrer). It is not safe for concurrent
// use.
type Nginx struct{ loc *time.Location }

// NewNginx returns an nginx error log decoder.
func NewNginx() decode.Decoder { return &Nginx{} }

// Configure implements decode.Configurable: the time stamps carry no zone.
func (d *Nginx) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

// contextKeys are what ngx_http_log_error appends, in its order.
var contextKeys = [...]string{"client", "server", "request", "subrequest", "upstream", "host", "referrer"}

// Decode implements decode.Decoder. Values alias rec.
func (d *Nginx) Decode(rec []byte, ev *event.Event) error {
	s := view.String(trimEOL(rec))
	if len(s) == 0 {
		return fail(FormatNginx, 0, "", "empty line")
	}
	t, ok := nginxTime(s, d.loc)
	if !ok {
		return fail(FormatNginx, 0, "time", "time stamp is not yyyy/mm/dd hh:mm:ss")
	}
	ev.Time = t
	ev.Logsource = event.Logsource{Service: "nginx"}
	f, c := &ev.Fields, &ev.Common
	i := 20
	if i >= len(s) || s[i] != '[' {
		return fail(FormatNginx, min(i, len(s)), "log.level", "no [level] after the time stamp")
	}
	j := strings.IndexByte(s[i:], ']')
	if j < 0 || !isLevel(s[i+1:i+j]) && s[i+1:i+j] != "stderr" {
		return fail(FormatNginx, i+1, "log.level", "level is not one of emerg, alert, crit, error, warn, notice, info, debug")
	}
	level := s[i+1 : i+j]
	f.SetName(fieldLevel, level)
	i = skip(s, i+j+1)
	// "1234#5678: "
	k := strings.Index(s[i:], ": ")
	pid, tid, ok := strings.Cut(s[i:max(i, i+k)], "#")
	if _, ok1 := num(pid); k < 0 || !ok || !ok1 {
		return fail(FormatNginx, i, "process.pid", "no pid#tid: after the level")
	}
	f.SetName(fieldPID, pid)
	f.SetName(fieldTID, tid)
	c[event.ProcessPID] = pid
	i = skip(s, i+k+2)
	if i < len(s) && s[i] == '*' {
		e := strings.IndexByte(s[i:], ' ')
		if e < 0 {
			e = len(s) - i
		}
		if _, ok := num(s[i+1 : i+e]); ok {
			f.SetName(fieldConnID, s[i+1:i+e])
			i = skip(s, i+e)
		}
	}
	msg := s[i:]
	if ctx := contextStart(msg); ctx >= 0 {
		d.context(ev, msg[ctx+2:])
		msg = msg[:ctx]
	}
	// " (2: No such file or directory)" after a failed call, perhaps
	// followed by what the connection was doing (" while reading …").
	for e := len(msg); ; {
		o := strings.LastIndex(msg[:e], " (")
		if o < 0 {
			break
		}
		code, rest, _ := strings.Cut(msg[o+2:], ": ")
		if _, ok := num(code); ok {
			if k := strings.IndexByte(rest, ')'); k >= 0 {
				f.SetName([]byte("error.errno"), code)
				f.SetName(fieldErrText, rest[:k])
			}
			break
		}
		e = o
	}
	f.SetName(fieldMessage, msg)
	c[event.Message] = msg
	outcome(ev, level)
	basicAuth(ev, msg)
	if j := strings.Index(msg, "ModSecurity: "); j >= 0 {
		modsec(ev, msg[j+13:])
	}
	return nil
}

// contextStart returns where ", client: ADDR" starts the context of msg,
// -1 when it has none: the first such place followed by an address and
// then the next key or the end, since the message before it may quote a
// client's text.
func contextStart(msg string) int {
	for off := 0; ; {
		j := strings.Index(msg[off:], ", client: ")
		if j < 0 {
			return -1
		}
		j += off
		v := msg[j+10:]
		e := strings.Index(v, ", ")
		if e < 0 {
			e = len(v)
		}
		if isAddr(v[:e]) && (e == len(v) || strings.HasPrefix(v[e:], ", server: ")) {
			return j
		}
		off = j + 1
	}
}

func isAddr(s string) bool {
	return s == "unix:" || addr.IsIP(s)
}

// context reads "client: …, server: …, request: "…", …".
func (d *Nginx) context(ev *event.Event, s string) {
	f, c := &ev.Fields, &ev.Common
	for i, k := 0, 0; i < len(s); {
		key, _, ok := strings.Cut(s[i:min(len(s), i+12)], ": ")
		for k < len(contextKeys) && contextKeys[k] != key {
			k++
		}
		if !ok || k == len(contextKeys) {
			return
		}
		i += len(key) + 2
		var v string
		if i < len(s) && s[i] == '"' {
			e := quotedEnd(s, i+1, k)
			v, i = s[i+1:e], min(e+1, len(s))
		} else {
			e := strings.Index(s[i:], ", ")
			if e < 0 {
				e = len(s) - i
			}
			v, i = s[i:i+e], i+e
		}
		switch key {
		case "client":
			client(ev, v, false)
		case "server":
			f.SetName(fieldServer, v)
		case "request":
			request(ev, v)
		case "subrequest":
			f.SetName([]byte("subrequest"), v)
		case "upstream":
			f.SetName(fieldUpstream, v)
		case "host":
			f.SetName(fieldHost, v)
			c[event.URLDomain] = v
		case "referrer":
			f.SetName(fieldReferer, v)
		}
		if !strings.HasPrefix(s[i:], ", ") {
			return
		}
		i += 2
	}
}

// quotedEnd returns where the quoted value starting at i ends: the quote
// before ", <a later key>: " or at the end. nginx writes the value as the
// client sent it, quotes included.
func quotedEnd(s string, i, k int) int {
	for j := i; j < len(s); j++ {
		if s[j] != '"' {
			continue
		}
		if j == len(s)-1 {
			return j
		}
		if strings.HasPrefix(s[j+1:], ", ") {
			for _, key := range contextKeys[k+1:] {
				if strings.HasPrefix(s[j+3:], key+": ") {
					return j
				}
			}
		}
	}
	return len(s) // unterminated: the rest
}

// nginxTime reads "2024/01/02 03:04:05" at the start of s.
func nginxTime(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 19 || s[4] != '/' || s[7] != '/' || s[10] != ' ' {
		return time.Time{}, false
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	t, ok4 := clock(s[11:19], y, mo, d, loc)
	return t, ok1 && ok2 && ok3 && ok4
}
