package mysql

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// GeneralDecoder decodes the general query log: one entry a command,
//
//	261127 16:50:36	     3 Connect	webapp@127.0.0.1 on shop using TCP/IP
//			     3 Query	SELECT id, name FROM users WHERE id = 1
//	2024-05-06T08:00:00.123456Z	    5 Query	SELECT 1
//
// (MariaDB and MySQL 5.6 write "YYMMDD H:MM:SS" and only when the second
// changes; MySQL 5.7 and later an ISO stamp on every entry). A statement
// over several lines is written as it is: Continues joins its lines. The
// banner a server writes when it opens the log decodes to a message alone.
type GeneralDecoder struct {
	loc *time.Location
}

// NewGeneral returns a general-log decoder.
func NewGeneral() decode.Decoder { return &GeneralDecoder{} }

// Configure implements decode.Configurable: the zone of MariaDB's stamps,
// which carry none.
func (d *GeneralDecoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

var (
	fThreadID    = []byte("thread_id")
	fCommandType = []byte("command_type")
	fArgument    = []byte("argument")
	fUser        = []byte("user")
	fHost        = []byte("host")
	fDB          = []byte("db")
	fConnType    = []byte("connection_type")
)

func generalError(off int, reason string) error {
	return &decode.Error{Format: FormatGeneral, Offset: off, Reason: reason}
}

// Decode implements decode.Decoder. Values alias rec.
func (d *GeneralDecoder) Decode(rec []byte, ev *event.Event) error {
	s := strings.TrimRight(view.String(rec), "\r\n")
	ev.Logsource = Logsource
	if isBanner(firstLine(s)) {
		ev.Common[event.Message] = s
		return nil
	}
	i, err := d.stamp(s, ev)
	if err != nil {
		return err
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start || i >= len(s) || s[i] != ' ' {
		return generalError(i, "no thread id")
	}
	thread := s[start:i]
	i++
	end := strings.IndexByte(s[i:], '\t')
	if end <= 0 {
		// "Quit" may end the line without a tab after it.
		if strings.ContainsAny(s[i:], " \n") || i == len(s) {
			return generalError(i, "no tab after the command")
		}
		end = len(s) - i
	}
	cmd := s[i : i+end]
	arg := ""
	if i+end < len(s) {
		arg = strings.TrimRight(s[i+end+1:], "\r\n")
	}

	f := &ev.Fields
	f.SetName(fThreadID, thread)
	f.SetName(fCommandType, cmd)
	if arg != "" {
		f.SetName(fArgument, arg)
	}
	c := &ev.Common
	c[event.Message] = arg
	switch cmd {
	case "Connect", "Change user":
		c[event.EventCategory] = "authentication"
		if u, h, ok := accessDenied(arg); ok {
			c[event.EventAction], c[event.EventOutcome] = actionLoginFailed, "failure"
			d.user(ev, u, h)
			break
		}
		c[event.EventAction], c[event.EventOutcome] = actionConnect, "success"
		// "user@host on db using TCP/IP"; MySQL 8 adds nothing more.
		who, rest, _ := strings.Cut(arg, " on ")
		u, h, _ := strings.Cut(who, "@")
		d.user(ev, u, h)
		db, typ, _ := strings.Cut(rest, " using ")
		db = strings.TrimSpace(db)
		if db != "" {
			c[event.DBName] = db
			f.SetName(fDB, db)
		}
		if typ != "" {
			f.SetName(fConnType, typ)
		}
	case "Quit":
		c[event.EventAction], c[event.EventCategory] = actionDisconnect, "session"
	case "Query", "Execute", "Prepare":
		c[event.EventAction], c[event.EventCategory] = actionStatement, "database"
		c[event.DBStatement] = arg
	case "Init DB":
		c[event.EventCategory] = "database"
		if u, h, ok := accessDenied(arg); ok {
			c[event.EventAction], c[event.EventOutcome] = actionError, "failure"
			d.user(ev, u, h)
			break
		}
		c[event.DBName] = arg
		f.SetName(fDB, arg)
	}
	return nil
}

func (d *GeneralDecoder) user(ev *event.Event, user, host string) {
	c := &ev.Common
	c[event.UserName], c[event.DBUser] = user, user
	setSource(c, host)
	if user != "" {
		ev.Fields.SetName(fUser, user)
	}
	if host != "" {
		ev.Fields.SetName(fHost, host)
	}
}

// accessDenied reads "Access denied for user 'u'@'h' (using password: YES)"
// and "… to database 'd'".
func accessDenied(arg string) (user, host string, ok bool) {
	rest, ok := strings.CutPrefix(arg, "Access denied for user '")
	if !ok {
		return "", "", false
	}
	user, rest, _ = strings.Cut(rest, "'@'")
	host, _, _ = strings.Cut(rest, "'")
	return user, host, true
}

// stamp reads the entry's time stamp, if any, and returns where the thread
// id begins.
func (d *GeneralDecoder) stamp(s string, ev *event.Event) (int, error) {
	switch {
	case strings.HasPrefix(s, "\t"):
		return 0, nil // the same second as the entry before: no stamp
	case len(s) >= 15 && s[6] == ' ' && digits(s[:6]):
		// YYMMDD H:MM:SS or YYMMDD HH:MM:SS
		yy, _ := num(s, 0, 2)
		mo, _ := num(s, 2, 2)
		dd, _ := num(s, 4, 2)
		i := 7
		if s[i] == ' ' {
			i++
		}
		colon := strings.IndexByte(s[i:], ':')
		if colon < 1 || colon > 2 {
			return 0, generalError(7, "unreadable time of day")
		}
		h, ok1 := num(s, i, colon)
		mi, ok2 := num(s, i+colon+1, 2)
		sec, ok3 := num(s, i+colon+4, 2)
		end := i + colon + 6
		if !ok1 || !ok2 || !ok3 || s[i+colon+3] != ':' || end > len(s) {
			return 0, generalError(7, "unreadable time of day")
		}
		t, ok := localTime(2000+yy, mo, dd, h, mi, sec, 0, d.loc)
		if !ok {
			return 0, generalError(0, "no such date or time")
		}
		ev.Time = t
		return end, nil
	case len(s) >= 20 && s[4] == '-' && s[10] == 'T':
		end := strings.IndexAny(s, "\t ")
		if end < 0 {
			return 0, generalError(0, "nothing after the time stamp")
		}
		t, ok := jsonrecord.ParseTime(s[:end])
		if !ok {
			return 0, generalError(0, "unreadable ISO 8601 time stamp")
		}
		ev.Time = t
		return end, nil
	}
	return 0, generalError(0, "no time stamp and no tab at the start of the entry")
}

// isBanner reports the lines a server writes when it opens the log:
// "/usr/sbin/mariadbd, Version: … started with:", "Tcp port: 3306  Unix
// socket: …", "Time   Id Command  Argument".
func isBanner(l string) bool {
	return strings.HasPrefix(l, "Tcp port: ") ||
		strings.HasPrefix(l, "Time") && strings.Contains(l, "Id") && strings.HasSuffix(strings.TrimRight(l, " \t"), "Argument") ||
		strings.Contains(l, ", Version: ") && strings.HasSuffix(l, "started with:")
}

// Continues implements decode.Joiner: a line continues the entry before it
// unless it begins an entry (a stamp, or the two tabs of an entry without
// one, then a thread id and a command) or is a banner line.
func (d *GeneralDecoder) Continues(rec, line []byte) bool {
	return !startsEntry(view.String(line))
}

func startsEntry(l string) bool {
	if isBanner(l) {
		return true
	}
	i := 0
	switch {
	case strings.HasPrefix(l, "\t\t"):
		i = 2
	case len(l) >= 16 && l[6] == ' ' && digits(l[:6]) && strings.IndexByte(l[:16], ':') > 7:
		i = strings.IndexByte(l, '\t')
	case len(l) >= 20 && l[4] == '-' && l[10] == 'T' && digits(l[:4]):
		i = strings.IndexByte(l, '\t')
	default:
		return false
	}
	if i < 0 {
		return false
	}
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	start := i
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	return i > start && i+1 < len(l) && l[i] == ' ' && l[i+1] >= 'A' && l[i+1] <= 'Z'
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
