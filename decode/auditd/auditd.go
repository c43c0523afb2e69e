// Package auditd decodes Linux audit records as auditd writes them to
// /var/log/audit/audit.log ("type=SYSCALL msg=audit(1700000000.123:42):
// arch=c000003e syscall=59 … comm=\"curl\" exe=\"/usr/bin/curl\"
// key=\"exec\""), with or without a "node=" prefix and log_format=ENRICHED's
// names after 0x1d, as audisp-syslog forwards them behind a syslog header,
// and Microsoft's AUOMS records ("type=AUOMS_EXECVE audit(…): …"). The
// records of one event (SYSCALL, EXECVE, CWD, PATH, PROCTITLE…) share the
// serial of audit(TIME:SERIAL) and are written one after the other: framing
// joins them (decode.Joiner) and they become one event whose fields are
// every record's, under the names SigmaHQ's `product: linux, service:
// auditd` rules use (type, SYSCALL, a0…aN, exe, comm, key, name, nametype,
// cwd…; a field several records have holds each value). An event with an
// EXECVE record is also `category: process_creation`, with Image,
// CommandLine, CurrentDirectory, User, ProcessId and ParentProcessId.
package auditd

import (
	"strings"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "auditd"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
	for _, p := range [...]string{"audispd", "audisp-syslog", "auoms", "audit", "auditd"} {
		decode.RegisterProgram(p, Format)
	}
}

// Decoder decodes audit events.
type Decoder struct {
	lines []line
	args  []string
	sb    strings.Builder
}

// New returns an audit decoder.
func New() decode.Decoder { return &Decoder{} }

func fail(off int, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Reason: reason}
}

// Continues implements decode.Joiner: a line continues the event when it
// carries the same audit(TIME:SERIAL) as the event's first record.
func (d *Decoder) Continues(rec, line []byte) bool {
	first := view.String(rec)
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	a, _ := stampOf(first)
	b, _ := stampOf(view.String(line))
	return a != "" && a == b
}

// Decode implements decode.Decoder: rec holds the lines of one event.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	s := view.String(rec)
	d.lines = d.lines[:0]
	off := 0
	for s != "" {
		l, rest, _ := strings.Cut(s, "\n")
		start := off
		off += len(l) + 1
		s = rest
		l = strings.TrimRight(l, "\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		body, skip := stripSyslog(l)
		pl, err := d.parseLine(body, start+skip)
		if err != nil {
			return err
		}
		if len(d.lines) > 0 && pl.id != d.lines[0].id {
			return fail(start+skip, "record of another event (audit("+pl.id+") after audit("+d.lines[0].id+"))")
		}
		d.lines = append(d.lines, pl)
	}
	if len(d.lines) == 0 {
		return fail(0, "empty record")
	}
	ev.Time = d.lines[0].time
	d.fill(ev)
	return nil
}

// DecodeMessage implements decode.MessageDecoder for audit records that
// travel as syslog or journald messages.
func (d *Decoder) DecodeMessage(program, msg string, ev *event.Event) error {
	t := ev.Time
	if err := d.Decode(view.Bytes(msg), ev); err != nil {
		return err
	}
	if ev.Time.IsZero() {
		ev.Time = t
	}
	return nil
}

// stripSyslog skips a syslog header in front of a record forwarded by
// audisp-syslog ("Mar  3 10:00:00 host audispd: node=… type=…"), returning
// the record and how many bytes were skipped.
func stripSyslog(l string) (string, int) {
	if strings.HasPrefix(l, "type=") || strings.HasPrefix(l, "node=") {
		return l, 0
	}
	for _, m := range [...]string{": node=", ": type="} {
		if i := strings.Index(l, m); i >= 0 {
			return l[i+2:], i + 2
		}
	}
	return l, 0
}
