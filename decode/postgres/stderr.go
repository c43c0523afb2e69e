package postgres

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Decoder decodes the stderr log: a log_line_prefix, a severity and the
// message ("… LOG:  statement: SELECT 1"). One record is a message with its
// continuation lines (a tab first) and the DETAIL, HINT, CONTEXT, QUERY,
// STATEMENT and LOCATION lines that follow it: Continues joins them.
//
// The prefix is read, not configured: a leading %m or %t stamp, a "[%p]"
// process id, key=value pairs (user=, db=, app=, client=, host=,
// session=, sqlstate=, …; see keys) and Debian's "%u@%d".
type Decoder struct {
	loc *time.Location
	buf []byte
}

// New returns a stderr-log decoder.
func New() decode.Decoder { return &Decoder{buf: make([]byte, 0, 1024)} }

// Configure implements decode.Configurable: the zone of stamps whose zone
// is an abbreviation.
func (d *Decoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

func stderrError(off int, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Reason: reason}
}

// Decode implements decode.Decoder. Values alias rec, or the decoder's
// buffer for text that spans lines.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	d.buf = d.buf[:0]
	s := view.String(rec)
	line, rest := cutLine(s)
	h, ok := splitSeverity(line)
	if !ok {
		return stderrError(0, "no severity (\"LOG:  \", \"ERROR:  \", …) in the line")
	}
	var e entry
	if err := parsePrefix(line[:h.start], &e); err != nil {
		return err
	}
	e.severity = h.severity
	// The first part is the message; the parts after it fill the columns
	// csvlog has for them. A part runs over the tab-indented lines after it.
	text, rest := d.part(line[h.text:], rest)
	e.message = sqlstateFirst(text, &e)
	for rest != "" {
		off := len(s) - len(rest)
		line, rest = cutLine(rest)
		if line == "" {
			continue
		}
		h, ok := splitSeverity(line)
		if !ok {
			return stderrError(off, "a continued line neither starts with a tab nor has a severity")
		}
		var t string
		t, rest = d.part(line[h.text:], rest)
		switch h.severity {
		case "DETAIL":
			e.detail = t
		case "HINT":
			e.hint = t
		case "CONTEXT":
			e.context = t
		case "STATEMENT":
			e.query = t
		case "QUERY":
			e.internalQuery = t
		}
	}
	return fill(ev, &e, Format, d.loc, &d.buf)
}

// part returns the text of one part: first, and the tab-indented lines at
// the start of rest, joined by '\n' without their tabs (a copy in d.buf
// when there are any); and what follows them.
func (d *Decoder) part(first, rest string) (text, after string) {
	if !strings.HasPrefix(rest, "\t") {
		return first, rest
	}
	start := len(d.buf)
	d.buf = append(d.buf, first...)
	for strings.HasPrefix(rest, "\t") {
		var l string
		l, rest = cutLine(rest)
		d.buf = append(d.buf, '\n')
		d.buf = append(d.buf, l[1:]...)
	}
	return view.String(d.buf[start:]), rest
}

// sqlstateFirst takes the SQLSTATE that log_error_verbosity=verbose puts
// before the message ("ERROR:  42601: syntax error …").
func sqlstateFirst(msg string, e *entry) string {
	if len(msg) < 7 || msg[5] != ':' || msg[6] != ' ' {
		return msg
	}
	digit := false // every SQLSTATE has one; "AUDIT: " (pgaudit) has none
	for i := 0; i < 5; i++ {
		c := msg[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return msg
		}
		digit = digit || c <= '9'
	}
	if !digit {
		return msg
	}
	if e.sqlstate == "" {
		e.sqlstate = msg[:5]
	}
	return msg[7:]
}

// cutLine splits s at its first '\n', dropping a '\r' before it.
func cutLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	line = strings.TrimSuffix(line, "\r")
	return line, rest
}

// Continues implements decode.Joiner: a line continues the record when it
// starts with a tab (PostgreSQL's continuation of a multi-line text) or is
// a DETAIL, HINT, CONTEXT, QUERY, STATEMENT or LOCATION line, which the
// server writes right after the message it belongs to.
func (d *Decoder) Continues(rec, line []byte) bool {
	if len(line) > 0 && line[0] == '\t' {
		return true
	}
	h, ok := splitSeverity(view.String(line))
	if !ok {
		return false
	}
	switch h.severity {
	case "DETAIL", "HINT", "CONTEXT", "QUERY", "STATEMENT", "LOCATION":
		return true
	}
	return false
}

// severityAt says where a line's severity is: line[start:] begins with it,
// line[text:] is the message after ":  ".
type severityAt struct {
	start, text int
	severity    string
}

// splitSeverity finds the severity that ends the prefix: the first
// "WORD:  " (two spaces) whose WORD is a severity, at the start of the line
// or after a space.
func splitSeverity(line string) (severityAt, bool) {
	from := 0
	for {
		i := strings.Index(line[from:], ":  ")
		if i < 0 {
			return severityAt{}, false
		}
		end := from + i
		start := end
		for start > 0 && (line[start-1] >= 'A' && line[start-1] <= 'Z' || line[start-1] >= '0' && line[start-1] <= '9') {
			start--
		}
		if start == 0 || line[start-1] == ' ' {
			if sev, ok := severity(line[start:end]); ok {
				return severityAt{start: start, text: end + 3, severity: sev}, true
			}
		}
		from = end + 1
	}
}

// severity returns w as a constant when it is one of the server's
// severities or part labels.
func severity(w string) (string, bool) {
	switch w {
	case "LOG":
		return "LOG", true
	case "ERROR":
		return "ERROR", true
	case "FATAL":
		return "FATAL", true
	case "PANIC":
		return "PANIC", true
	case "WARNING":
		return "WARNING", true
	case "NOTICE":
		return "NOTICE", true
	case "INFO":
		return "INFO", true
	case "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5":
		return "DEBUG", true
	case "DETAIL":
		return "DETAIL", true
	case "HINT":
		return "HINT", true
	case "CONTEXT":
		return "CONTEXT", true
	case "QUERY":
		return "QUERY", true
	case "STATEMENT":
		return "STATEMENT", true
	case "LOCATION":
		return "LOCATION", true
	}
	return "", false
}
