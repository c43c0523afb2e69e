package errorlog

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Apache decodes Apache httpd error_log lines. Both layouts open with the
// time and then bracketed groups, the message last:
//
//	2.2: [Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] (13)Permission denied: msg
//	2.4: [Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234:tid 5678] (13)Permission denied: [client 127.0.0.1:54321] AH00035: msg, referer: http://…
//
// 2.4's do_errorlog_default writes the groups in that order; a debug
// message has "file.c(123): " before the status; a request to a backend
// has [remote …] for [client …]. The groups are read by what they hold, so
// that ErrorLogFormat variants of the same items decode too. It is not
// safe for concurrent use.
type Apache struct{ loc *time.Location }

// NewApache returns an Apache error log decoder.
func NewApache() decode.Decoder { return &Apache{} }

// Configure implements decode.Configurable: the time stamps carry no zone.
func (d *Apache) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

// Decode implements decode.Decoder. Values alias rec.
func (d *Apache) Decode(rec []byte, ev *event.Event) error {
	s := view.String(trimEOL(rec))
	if len(s) == 0 {
		return fail(FormatApache, 0, "", "empty line")
	}
	if s[0] != '[' {
		return fail(FormatApache, 0, "time", "no [time stamp] at the start")
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return fail(FormatApache, 1, "time", "no ] after the time stamp")
	}
	t, ok := apacheTime(s[1:end], d.loc)
	if !ok {
		return fail(FormatApache, 1, "time", "time stamp is not \"Www Mmm dd hh:mm:ss[.uuuuuu] yyyy\"")
	}
	ev.Time = t
	ev.Logsource = event.Logsource{Service: "apache"}
	f, c := &ev.Fields, &ev.Common
	level := ""
	v24 := false // a [module:level] group: 2.4 writes the client's port
	i := skip(s, end+1)
	for i < len(s) {
		switch {
		case s[i] == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				goto message
			}
			g := s[i+1 : i+j]
			switch {
			case strings.HasPrefix(g, "pid "):
				pid, tid, _ := strings.Cut(g[4:], ":tid ")
				f.SetName(fieldPID, pid)
				c[event.ProcessPID] = pid
				if tid != "" {
					f.SetName(fieldTID, tid)
				}
			case strings.HasPrefix(g, "client ") || strings.HasPrefix(g, "remote "):
				if c[event.SourceIP] == "" {
					client(ev, g[7:], v24)
				}
			case level == "":
				mod, lv, ok := strings.Cut(g, ":")
				if !ok {
					mod, lv = "", g
				}
				v24 = ok
				if !isLevel(lv) {
					goto message
				}
				level = lv
				f.SetName(fieldLevel, lv)
				if mod != "" {
					f.SetName(fieldModule, mod)
				}
			default:
				goto message
			}
			i = skip(s, i+j+1)
		case s[i] == '(':
			// "(13)Permission denied: ": the APR status of the failure.
			j := strings.IndexByte(s[i:], ')')
			k := strings.Index(s[i:], ": ")
			if j < 2 || k < j {
				goto message
			}
			code, ok := num(strings.TrimPrefix(s[i+1:i+j], "-"))
			if !ok || code < 0 {
				goto message
			}
			f.SetName([]byte("error.errno"), s[i+1:i+j])
			f.SetName(fieldErrText, s[i+j+1:i+k])
			i = skip(s, i+k+2)
		default:
			// "mod_ssl.c(1234): " in front of a debug message (2.4
			// writes it from level debug on).
			if level != "debug" && !strings.HasPrefix(level, "trace") {
				goto message
			}
			k := strings.Index(s[i:], "): ")
			sp := strings.IndexByte(s[i:], ' ')
			if k < 0 || sp != k+2 {
				goto message
			}
			p := strings.LastIndexByte(s[i:i+k], '(')
			if _, ok := num(s[i+p+1 : i+k]); p < 1 || !ok {
				goto message
			}
			f.SetName(fieldSource, s[i:i+k+1])
			i = skip(s, i+k+3)
		}
	}
message:
	if level == "" {
		return fail(FormatApache, skip(s, end+1), "log.level", "no [level] or [module:level] after the time stamp")
	}
	msg := s[i:]
	if j := strings.LastIndex(msg, ", referer: "); j >= 0 {
		f.SetName(fieldReferer, msg[j+11:])
		msg = msg[:j]
	}
	// "AH00035: …": the message's number in httpd's catalogue.
	if len(msg) > 9 && msg[0] == 'A' && msg[1] == 'H' && msg[7] == ':' && msg[8] == ' ' {
		if _, ok := num(msg[2:7]); ok {
			f.SetName(fieldErrCode, msg[:7])
			c[event.EventCode] = msg[:7]
			msg = msg[9:]
		}
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

func skip(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// isLevel reports whether s is one of httpd's log levels (2.4 adds trace1
// to trace8).
func isLevel(s string) bool {
	switch s {
	case "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug":
		return true
	}
	return len(s) == 6 && strings.HasPrefix(s, "trace") && s[5] >= '1' && s[5] <= '8'
}

// apacheTime reads ap_recent_ctime's "Wed Oct 11 14:32:52 2000", with
// 2.4's ".123456" after the seconds, in loc; and ErrorLogFormat's %{cu}t,
// "2000-10-11 14:32:52.123456".
func apacheTime(s string, loc *time.Location) (time.Time, bool) {
	if len(s) >= 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' {
		y, ok1 := num(s[0:4])
		mo, ok2 := num(s[5:7])
		d, ok3 := num(s[8:10])
		t, ok4 := clock(s[11:], y, mo, d, loc)
		return t, ok1 && ok2 && ok3 && ok4
	}
	// "Www Mmm dd " then the clock, then " yyyy".
	if len(s) < 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[len(s)-5] != ' ' {
		return time.Time{}, false
	}
	mo := month(s[4:7])
	d, ok1 := num(strings.TrimLeft(s[8:10], " "))
	y, ok2 := num(s[len(s)-4:])
	t, ok3 := clock(s[11:len(s)-5], y, mo, d, loc)
	return t, ok1 && ok2 && ok3 && mo > 0
}

// clock reads "hh:mm:ss[.fraction]" for the date y-mo-d.
func clock(s string, y, mo, d int, loc *time.Location) (time.Time, bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return time.Time{}, false
	}
	h, ok1 := num(s[0:2])
	mi, ok2 := num(s[3:5])
	sec, ok3 := num(s[6:8])
	ns := 0
	if len(s) > 8 {
		if s[8] != '.' || len(s) == 9 || len(s) > 18 {
			return time.Time{}, false
		}
		frac, ok := num(s[9:])
		if !ok {
			return time.Time{}, false
		}
		ns = frac
		for k := len(s) - 9; k < 9; k++ {
			ns *= 10
		}
	}
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return date(y, mo, d, h, mi, sec, ns, loc)
}
