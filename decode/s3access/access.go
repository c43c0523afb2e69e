package s3access

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// accessFields are an access log line's fields in order. Older lines end
// after user_agent or version_id; newer ones may carry fields not listed
// yet, which are ignored.
var accessFields = []string{
	"bucket_owner", "bucket", "time", "remote_ip", "requester", "request_id", "operation", "key",
	"request_uri", "http_status", "error_code", "bytes_sent", "object_size", "total_time",
	"turn_around_time", "referer", "user_agent", "version_id", "host_id", "signature_version",
	"cipher_suite", "authentication_type", "host_header", "tls_version", "access_point_arn",
	"acl_required", "source_region",
}

const (
	aTime, aRemoteIP, aRequester, aOperation, aRequestURI, aStatus, aUserAgent, aHost = 2, 3, 4, 6, 8, 9, 16, 22
	minAccessFields                                                                   = 17
)

// splitAccess cuts an access log line into its fields: bare words,
// [bracketed] time stamps and "quoted" strings (the request line, referer
// and user agent), whose brackets and quotes are dropped.
func (d *Decoder) splitAccess(rec []byte) *decode.Error {
	d.toks = d.toks[:0]
	i := 0
	for i < len(rec) {
		if rec[i] == ' ' {
			i++
			continue
		}
		start := i
		switch rec[i] {
		case '[':
			j := indexByte(rec, i+1, ']')
			if j < 0 {
				return &decode.Error{Format: Format, Offset: i, Reason: "unterminated ["}
			}
			d.toks = append(d.toks, token{view.String(rec[i+1 : j]), start})
			i = j + 1
		case '"':
			j := i + 1
			for j < len(rec) && rec[j] != '"' {
				if rec[j] == '\\' { // S3 escapes quotes inside as \"
					j++
				}
				j++
			}
			if j >= len(rec) {
				return &decode.Error{Format: Format, Offset: i, Reason: "unterminated quoted string"}
			}
			d.toks = append(d.toks, token{view.String(rec[i+1 : j]), start})
			i = j + 1
		default:
			j := indexByte(rec, i, ' ')
			if j < 0 {
				j = len(rec)
			}
			d.toks = append(d.toks, token{view.String(rec[i:j]), start})
			i = j
		}
		if i < len(rec) && rec[i] != ' ' {
			return &decode.Error{Format: Format, Offset: i, Reason: "want a space between fields"}
		}
	}
	return nil
}

func (d *Decoder) decodeAccess(rec []byte, ev *event.Event) error {
	if err := d.splitAccess(rec); err != nil {
		return err
	}
	if len(d.toks) < minAccessFields {
		return &decode.Error{Format: Format, Offset: len(rec), Reason: "has " + strconv.Itoa(len(d.toks)) + " fields, want at least " + strconv.Itoa(minAccessFields)}
	}
	t, ok := parseAccessTime(d.toks[aTime].s)
	if !ok {
		return &decode.Error{Format: Format, Offset: d.toks[aTime].off, Field: "time", Reason: "unreadable time stamp " + decode.QuoteValue(d.toks[aTime].s)}
	}
	status := d.toks[aStatus].s
	if n, ok := atoi(status); status != "-" && (!ok || n < 100 || n > 999) {
		return &decode.Error{Format: Format, Offset: d.toks[aStatus].off, Field: "http_status", Reason: "bad HTTP status " + decode.QuoteValue(status)}
	}
	ev.Time = t
	d.bindAccess(ev.Fields.Dict())
	for i, tk := range d.toks {
		if i >= len(accessFields) {
			break
		}
		if tk.s != "-" && tk.s != "" && d.has[i] {
			ev.Fields.Set(d.ids[i], tk.s)
		}
	}
	ev.Logsource = event.Logsource{Product: "aws", Service: "s3"}
	com := &ev.Common
	com[event.CloudProvider] = "aws"
	com[event.EventCategory] = "web"
	com[event.EventAction] = dash(d.toks[aOperation].s)
	com[event.SourceIP] = addr.IP(d.toks[aRemoteIP].s)
	com[event.UserName] = dash(d.toks[aRequester].s)
	com[event.UserAgentOriginal] = dash(d.toks[aUserAgent].s)
	if len(d.toks) > aHost {
		com[event.URLDomain] = dash(d.toks[aHost].s)
	}
	// The request line: "GET /bucket/key?x HTTP/1.1".
	if m, rest, ok := strings.Cut(d.toks[aRequestURI].s, " "); ok {
		com[event.HTTPRequestMethod] = m
		if j := strings.LastIndexByte(rest, ' '); j >= 0 {
			rest = rest[:j]
		}
		com[event.URLOriginal] = rest
		path, _, _ := strings.Cut(rest, "?")
		com[event.URLPath] = path
	}
	if status != "-" {
		com[event.HTTPResponseStatusCode] = status
		com[event.EventOutcome] = "success"
		if status[0] >= '4' {
			com[event.EventOutcome] = "failure"
		}
	}
	return nil
}

func (d *Decoder) bindAccess(dict *event.Dict) {
	if dict == d.dictFor && d.ids != nil {
		return
	}
	d.dictFor = dict
	d.ids = make([]int32, len(accessFields))
	d.has = make([]bool, len(accessFields))
	if dict == nil {
		return
	}
	for i, n := range accessFields {
		d.ids[i], d.has[i] = dict.ID(n)
	}
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseAccessTime reads "06/Feb/2019:00:00:38 +0000" without allocating
// (a time.FixedZone a record would).
func parseAccessTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := atoi(s[0:2])
	year, ok2 := atoi(s[7:11])
	hh, ok3 := atoi(s[12:14])
	mm, ok4 := atoi(s[15:17])
	ss, ok5 := atoi(s[18:20])
	zh, ok6 := atoi(s[22:24])
	zm, ok7 := atoi(s[24:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || hh > 23 || mm > 59 || ss > 60 || zh > 14 || zm > 59 || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}
	month := 0
	for i, m := range months {
		if s[3:6] == m {
			month = i + 1
		}
	}
	if month == 0 || day < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false
	}
	off := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if s[21] == '+' {
		off = -off
	}
	return t.Add(off), true
}
