package mysql

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// AuditDecoder decodes MariaDB's server_audit log (server_audit_output_type
// = file): one line an event,
//
//	20261127 16:50:36,vm,webapp,127.0.0.1,7,3,QUERY,shop,'SELECT 1',0
//
// timestamp, serverhost, username, host, connectionid, queryid, operation,
// database, object, retcode. A query's object is quoted with ' and its
// quotes, backslashes, newlines and tabs escaped with a backslash, so a
// record is one line.
type AuditDecoder struct {
	loc *time.Location
	buf []byte
}

// NewAudit returns a server_audit decoder.
func NewAudit() decode.Decoder { return &AuditDecoder{buf: make([]byte, 0, 512)} }

// Configure implements decode.Configurable: the zone of the stamps, which
// carry none.
func (d *AuditDecoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

var (
	fServerHost   = []byte("serverhost")
	fUsername     = []byte("username")
	fAuditHost    = []byte("host")
	fConnectionID = []byte("connectionid")
	fQueryID      = []byte("queryid")
	fOperation    = []byte("operation")
	fDatabase     = []byte("database")
	fObject       = []byte("object")
	fRetcode      = []byte("retcode")
)

func auditError(off int, field, reason string) error {
	return &decode.Error{Format: FormatAudit, Offset: off, Field: field, Reason: reason}
}

var auditColumns = [...]string{"serverhost", "username", "host", "connectionid", "queryid", "operation", "database"}

// Decode implements decode.Decoder. Values alias rec, or the decoder's
// buffer for an object with escapes.
func (d *AuditDecoder) Decode(rec []byte, ev *event.Event) error {
	d.buf = d.buf[:0]
	s := strings.TrimRight(view.String(rec), "\r\n")
	// "YYYYMMDD HH:MM:SS,"
	if len(s) < 18 || s[8] != ' ' || s[17] != ',' {
		return auditError(0, "timestamp", "no \"YYYYMMDD HH:MM:SS\" time stamp")
	}
	y, ok1 := num(s, 0, 4)
	mo, ok2 := num(s, 4, 2)
	dd, ok3 := num(s, 6, 2)
	h, ok4 := num(s, 9, 2)
	mi, ok5 := num(s, 12, 2)
	sec, ok6 := num(s, 15, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[11] != ':' || s[14] != ':' {
		return auditError(0, "timestamp", "unreadable time stamp")
	}
	t, ok := localTime(y, mo, dd, h, mi, sec, 0, d.loc)
	if !ok {
		return auditError(0, "timestamp", "no such date or time")
	}
	ev.Time = t

	var cols [len(auditColumns)]string
	i := 18
	for k := range cols {
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			next := "object"
			if k+1 < len(auditColumns) {
				next = auditColumns[k+1]
			}
			return auditError(len(s), next, "line ends before the "+next+" column")
		}
		cols[k] = s[i : i+j]
		i += j + 1
	}
	// object may hold commas: retcode is after the last one.
	last := strings.LastIndexByte(s[i:], ',')
	if last < 0 {
		return auditError(len(s), "retcode", "line ends before the retcode column")
	}
	object, retcode := s[i:i+last], s[i+last+1:]
	if !digits(strings.TrimPrefix(retcode, "-")) {
		return auditError(i+last+1, "retcode", "retcode is not a number")
	}
	if len(object) >= 2 && object[0] == '\'' && object[len(object)-1] == '\'' {
		object = d.unescape(object[1 : len(object)-1])
	}
	serverHost, user, host, conn, query, op, db := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]

	ev.Logsource = Logsource
	f := &ev.Fields
	for k, v := range [...]string{serverHost, user, host, conn, query, op, db, object, retcode} {
		if v != "" {
			f.SetName(auditFieldNames[k], v)
		}
	}
	c := &ev.Common
	c[event.HostName] = serverHost
	c[event.UserName], c[event.DBUser] = user, user
	setSource(c, host)
	c[event.DBName] = db
	failed := retcode != "0"
	if failed {
		c[event.EventCode] = retcode
	}
	switch op {
	case "CONNECT", "CHANGEUSER":
		c[event.EventAction], c[event.EventCategory] = actionConnect, "authentication"
		c[event.EventOutcome] = outcome(failed)
		if failed {
			c[event.EventAction] = actionLoginFailed
		}
	case "FAILED_CONNECT":
		c[event.EventAction], c[event.EventOutcome], c[event.EventCategory] = actionLoginFailed, "failure", "authentication"
	case "DISCONNECT":
		c[event.EventAction], c[event.EventCategory] = actionDisconnect, "session"
	case "QUERY", "QUERY_DDL", "QUERY_DML", "QUERY_DCL", "QUERY_DML_NO_SELECT":
		c[event.EventAction], c[event.EventCategory] = actionStatement, "database"
		c[event.EventOutcome] = outcome(failed)
		c[event.DBStatement] = object
	default:
		// READ, WRITE, CREATE, ALTER, RENAME, DROP: table events, whose
		// object is the table.
		c[event.EventCategory] = "database"
	}
	c[event.Message] = object
	return nil
}

var auditFieldNames = [...][]byte{fServerHost, fUsername, fAuditHost, fConnectionID, fQueryID, fOperation, fDatabase, fObject, fRetcode}

func outcome(failed bool) string {
	if failed {
		return "failure"
	}
	return "success"
}

// unescape undoes the plugin's escapes (\' \\ \n \r \t) into d.buf; an
// object without a backslash is returned as it is.
func (d *AuditDecoder) unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	start := len(d.buf)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			switch c = s[i]; c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			}
		}
		d.buf = append(d.buf, c)
	}
	return view.String(d.buf[start:])
}
