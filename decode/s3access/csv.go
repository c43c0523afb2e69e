package s3access

import (
	"bytes"
	"cmp"
	"strconv"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Column roles of the honey-bucket CSV.
const (
	cOther = iota
	cDict  // a Python dict literal: {'k': 'v', …}, flattened under the column's name
	cEventName
	cEventTime
	cSourceIP
	cUserAgent
)

type column struct {
	header string // as the header line writes it
	name   string // the field name: CloudTrail's
	role   int
}

// defaultColumns are the honey-bucket export's columns, used until a
// header line says otherwise: a batch of rows may reach a decoder that
// never saw its file's header.
var defaultColumns = []column{
	{"Event Type", "eventType", cOther},
	{"Event Name", "eventName", cEventName},
	{"Request ID", "requestID", cOther},
	{"User ID", "userIdentity", cDict},
	{"Request Parameters", "requestParameters", cDict},
	{"Alert", "alert", cOther},
	{"Event ID", "eventID", cOther},
	{"Event DateTime", "eventTime", cEventTime},
	{"Alarm DateTime", "alarmTime", cOther},
	{"Source IP", "sourceIPAddress", cSourceIP},
	{"Request User Agent", "userAgent", cUserAgent},
	{"Repeated Attempts", "repeatedAttempts", cOther},
}

var columnsByHeader = func() map[string]column {
	m := map[string]column{}
	for _, c := range defaultColumns {
		m[c.header] = c
	}
	return m
}()

// csvEventTypes start a CSV row: CloudTrail's event types.
var csvEventTypes = [][]byte{[]byte("AwsApiCall,"), []byte("AwsServiceEvent,"), []byte("AwsConsoleAction,"), []byte("AwsConsoleSignIn,")}

var csvHeaderStart = []byte("Event Type,")

// isCSV reports whether rec is a honey-bucket CSV header or row rather
// than an access log line (whose first field, the owner's canonical id,
// has no comma).
func isCSV(rec []byte) bool {
	if bytes.HasPrefix(rec, csvHeaderStart) {
		return true
	}
	for _, p := range csvEventTypes {
		if bytes.HasPrefix(rec, p) {
			return true
		}
	}
	return false
}

type csvCaptured struct {
	eventName, eventTime, sourceIP, userAgent, principal, account, host string
}

// splitCSV cuts a CSV line into fields (RFC 4180: "" inside quotes is a
// quote). Quoted values are unescaped into d.unq, which is sized before
// use so that the strings made from it stay valid.
func (d *Decoder) splitCSV(rec []byte) *decode.Error {
	d.toks = d.toks[:0]
	if cap(d.unq) < len(rec) {
		d.unq = make([]byte, 0, 2*len(rec))
	}
	d.unq = d.unq[:0]
	i := 0
	for {
		start := i
		if i < len(rec) && rec[i] == '"' {
			u := len(d.unq)
			i++
			for {
				if i >= len(rec) {
					return &decode.Error{Format: Format, Offset: start, Reason: "unterminated quoted CSV field"}
				}
				if rec[i] == '"' {
					if i+1 < len(rec) && rec[i+1] == '"' {
						d.unq = append(d.unq, '"')
						i += 2
						continue
					}
					i++
					break
				}
				d.unq = append(d.unq, rec[i])
				i++
			}
			d.toks = append(d.toks, token{view.String(d.unq[u:]), start})
			if i < len(rec) && rec[i] != ',' {
				return &decode.Error{Format: Format, Offset: i, Reason: "want a comma after a quoted CSV field"}
			}
		} else {
			j := indexByte(rec, i, ',')
			if j < 0 {
				j = len(rec)
			}
			d.toks = append(d.toks, token{view.String(rec[i:j]), start})
			i = j
		}
		if i >= len(rec) {
			return nil
		}
		i++ // the comma
	}
}

func (d *Decoder) decodeCSV(rec []byte, ev *event.Event) (bool, error) {
	if err := d.splitCSV(rec); err != nil {
		return false, err
	}
	if bytes.HasPrefix(rec, csvHeaderStart) {
		cols := make([]column, len(d.toks))
		for i, t := range d.toks {
			c, ok := columnsByHeader[t.s]
			if !ok {
				c = column{header: t.s, name: string(bytes.ReplaceAll([]byte(t.s), []byte(" "), nil))}
			}
			cols[i] = c
		}
		d.cols = cols
		return true, nil
	}
	if len(d.toks) != len(d.cols) {
		off := len(rec)
		if len(d.toks) > len(d.cols) {
			off = d.toks[len(d.cols)].off
		}
		return false, &decode.Error{Format: Format, Offset: off, Reason: "CSV row has " + strconv.Itoa(len(d.toks)) + " fields, the header names " + strconv.Itoa(len(d.cols))}
	}
	d.ev, d.csv = ev, csvCaptured{}
	dict := ev.Fields.Dict()
	for i, t := range d.toks {
		c := d.cols[i]
		v := trimSpace(t.s)
		if v == "" {
			continue
		}
		if c.role == cDict {
			if err := d.pyDict(dict, c.name, v); err != nil {
				return false, &decode.Error{Format: Format, Offset: t.off, Field: c.header, Reason: err.Error()}
			}
			continue
		}
		d.name = append(d.name[:0], c.name...)
		d.set(dict, v)
		switch c.role {
		case cEventName:
			d.csv.eventName = v
		case cEventTime:
			d.csv.eventTime = v
		case cSourceIP:
			d.csv.sourceIP = v
		case cUserAgent:
			d.csv.userAgent = v
		}
	}
	d.ev = nil
	c := &d.csv
	if c.eventTime != "" {
		t, ok := jsonrecord.ParseTime(c.eventTime)
		if !ok {
			return false, &decode.Error{Format: Format, Offset: -1, Field: "Event DateTime", Reason: "unreadable time stamp " + decode.QuoteValue(c.eventTime)}
		}
		ev.Time = t
	}
	ev.Logsource = event.Logsource{Product: "aws", Service: "cloudtrail"}
	com := &ev.Common
	com[event.CloudProvider] = "aws"
	com[event.EventAction] = c.eventName
	com[event.SourceIP] = addr.IP(c.sourceIP)
	com[event.UserAgentOriginal] = c.userAgent
	com[event.UserName] = cmp.Or(c.principal, c.account)
	com[event.URLDomain] = c.host
	return false, nil
}

// set stores v under the name in d.name when the Dict holds it.
func (d *Decoder) set(dict *event.Dict, v string) {
	if dict == nil {
		return
	}
	if id, ok := dict.IDBytes(d.name); ok {
		d.ev.Fields.Set(id, v)
	}
}

type pyError string

func (e pyError) Error() string { return string(e) }

// pyDict flattens a Python dict literal of scalars, as the export writes
// CloudTrail's objects ({'type': 'AWSAccount', 'accountId': '…'}), into
// prefix.key fields. Values are quoted strings (unescaped only where they
// hold no backslash), numbers, True, False or None (no value).
func (d *Decoder) pyDict(dict *event.Dict, prefix, s string) error {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return pyError("want a {'key': value} dict")
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return nil
	}
	for {
		key, j, ok := pyString(s, i)
		if !ok {
			return pyError("bad dict key at " + strconv.Itoa(i))
		}
		j = skipSpace(s, j)
		if j >= len(s) || s[j] != ':' {
			return pyError("want ':' after a dict key at " + strconv.Itoa(j))
		}
		j = skipSpace(s, j+1)
		var val string
		if j < len(s) && (s[j] == '\'' || s[j] == '"') {
			if val, j, ok = pyString(s, j); !ok {
				return pyError("bad dict value at " + strconv.Itoa(j))
			}
		} else {
			k := j
			for k < len(s) && s[k] != ',' && s[k] != '}' {
				k++
			}
			val = trimSpace(s[j:k])
			if val == "None" || val == "" {
				val = ""
			}
			j = k
		}
		if val != "" {
			d.name = append(append(append(d.name[:0], prefix...), '.'), key...)
			d.set(dict, val)
			switch string(d.name) {
			case "userIdentity.principalId":
				d.csv.principal = val
			case "userIdentity.accountId":
				d.csv.account = val
			case "requestParameters.Host":
				d.csv.host = val
			}
		}
		j = skipSpace(s, j)
		if j >= len(s) {
			return pyError("unterminated dict")
		}
		if s[j] == '}' {
			return nil
		}
		if s[j] != ',' {
			return pyError("want ',' or '}' at " + strconv.Itoa(j))
		}
		i = skipSpace(s, j+1)
	}
}

// pyString reads a quoted Python string at s[i:], returning its content
// (escapes left as they are) and the index after the closing quote.
func pyString(s string, i int) (string, int, bool) {
	if i >= len(s) || (s[i] != '\'' && s[i] != '"') {
		return "", i, false
	}
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return s[i+1 : j], j + 1, true
		}
	}
	return "", i, false
}
