// Package sysmonlinux decodes Sysmon for Linux events: the XML <Event>
// Sysmon writes to syslog ("Mar  3 10:00:00 host sysmon: <Event><System>
// <Provider Name=\"Linux-Sysmon\" …/><EventID>1</EventID>…</System>
// <EventData><Data Name=\"Image\">/usr/bin/curl</Data>…</EventData></Event>"),
// with or without the syslog header. The event's Data become fields under
// Sysmon's names (Image, CommandLine, ParentImage, User, DestinationIp,
// TargetFilename…) and System's under the Windows decoder's (EventID,
// Provider_Name, Channel, Computer…), so that SigmaHQ's `product: linux`
// rules of the process_creation, network_connection, file_event…
// categories read them; the EventID gives the category as Sysmon's does
// on Windows.
package sysmonlinux

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "sysmonlinux"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
	decode.RegisterProgram("sysmon", Format)
}

// Decoder decodes Sysmon for Linux events.
type Decoder struct {
	name []byte // scratch: the field name of a System attribute
}

// New returns a Sysmon for Linux decoder.
func New() decode.Decoder { return &Decoder{} }

func fail(off int, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Reason: reason}
}

// categories maps Sysmon for Linux's event ids to Sigma categories.
var categories = map[string]string{
	"1": "process_creation", "3": "network_connection", "4": "sysmon_status", "5": "process_termination",
	"9": "raw_access_thread", "11": "file_event", "16": "sysmon_status", "23": "file_delete", "255": "sysmon_error",
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	s := strings.TrimRight(view.String(rec), "\r\n")
	start := strings.Index(s, "<Event")
	if start < 0 {
		return fail(0, "no <Event> element")
	}
	return d.decodeXML(s, start, ev)
}

// DecodeMessage implements decode.MessageDecoder: msg is the XML.
func (d *Decoder) DecodeMessage(program, msg string, ev *event.Event) error {
	return d.Decode(view.Bytes(msg), ev)
}

var (
	fieldEventID = []byte("EventID")
	fieldTime    = []byte("TimeCreated")
	// set when the event is cut short inside a Data value
	fieldTruncated = []byte("truncated")
)

func (d *Decoder) decodeXML(s string, start int, ev *event.Event) error {
	f := &ev.Fields
	c := &ev.Common
	sys := strings.Index(s[start:], "<System>")
	if sys < 0 {
		return fail(start, "no <System> in the event")
	}
	i := start + sys + len("<System>")
	sysEnd := strings.Index(s[i:], "</System>")
	if sysEnd < 0 {
		return fail(i, "<System> not closed")
	}
	sysEnd += i
	var id string
	// System's children: <Name>text</Name> or <Name attr="v" …/>.
	for i < sysEnd {
		lt := strings.IndexByte(s[i:sysEnd], '<')
		if lt < 0 {
			break
		}
		i += lt
		el, attrs, text, next, err := element(s, i)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			v := unescape(a.val)
			if el == "TimeCreated" && a.key == "SystemTime" {
				f.SetName(fieldTime, v)
				if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
					ev.Time = t
				}
				continue
			}
			d.name = append(append(append(d.name[:0], el...), '_'), a.key...)
			f.SetName(d.name, v)
		}
		if text != "" {
			v := unescape(text)
			f.SetName(view.Bytes(el), v)
			switch el {
			case "EventID":
				id = v
			case "Computer":
				c[event.HostName] = v
			}
		}
		i = next
	}
	if id == "" {
		return fail(start, "no <EventID> in <System>")
	}
	c[event.EventCode] = id
	ev.Logsource = event.Logsource{Product: "linux", Category: categories[id], Service: "sysmon"}
	// EventData's <Data Name="…">value</Data>.
	i = sysEnd
	if ed := strings.Index(s[i:], "<EventData>"); ed >= 0 {
		i += ed + len("<EventData>")
		for {
			lt := strings.Index(s[i:], "<Data Name=\"")
			if lt < 0 {
				break
			}
			i += lt + len("<Data Name=\"")
			q := strings.IndexByte(s[i:], '"')
			if q < 0 {
				return fail(i, "Data Name attribute not closed")
			}
			name := s[i : i+q]
			i += q + 1
			if strings.HasPrefix(s[i:], "/>") {
				i += 2
				continue
			}
			if !strings.HasPrefix(s[i:], ">") {
				return fail(i, "malformed <Data> element")
			}
			i++
			end := strings.Index(s[i:], "</Data>")
			if end < 0 && strings.IndexByte(s[i:], '<') < 0 {
				// The message was cut by syslog's size limit (1 KiB, 2
				// KiB) inside this value: what is there is kept.
				v := unescape(s[i:])
				f.SetName(view.Bytes(name), v)
				common(c, name, v)
				f.SetName(fieldTruncated, "true")
				break
			}
			if end < 0 {
				return fail(i, "<Data Name=\""+name+"\"> not closed")
			}
			v := unescape(s[i : i+end])
			i += end + len("</Data>")
			f.SetName(view.Bytes(name), v)
			common(c, name, v)
		}
	}
	return nil
}

// common maps Sysmon's fields to the ECS common fields.
func common(c *[event.NumCommon]string, name, v string) {
	switch name {
	case "Image":
		c[event.ProcessExecutable] = v
		c[event.ProcessName] = v[strings.LastIndexByte(v, '/')+1:]
	case "CommandLine":
		c[event.ProcessCommandLine] = v
	case "ProcessId":
		c[event.ProcessPID] = v
	case "ParentImage":
		c[event.ProcessParentExecutable] = v
	case "User":
		c[event.UserName] = v
	case "SourceIp":
		c[event.SourceIP] = v
	case "SourcePort":
		c[event.SourcePort] = v
	case "DestinationIp":
		c[event.DestinationIP] = v
	case "DestinationPort":
		c[event.DestinationPort] = v
	case "Protocol":
		c[event.NetworkTransport] = v
	case "TargetFilename":
		c[event.FilePath] = v
	}
}

type attr struct{ key, val string }

// element reads the element starting at s[i] ('<'): its name, attributes,
// text (up to its end tag, for one without children) and where what
// follows it starts.
func element(s string, i int) (name string, attrs []attr, text string, next int, err error) {
	j := i + 1
	for j < len(s) && s[j] != ' ' && s[j] != '>' && s[j] != '/' {
		j++
	}
	name = s[i+1 : j]
	if name == "" {
		return "", nil, "", 0, fail(i, "element without a name")
	}
	for {
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) {
			return "", nil, "", 0, fail(i, "<"+name+"> not closed")
		}
		switch {
		case strings.HasPrefix(s[j:], "/>"):
			return name, attrs, "", j + 2, nil
		case s[j] == '>':
			j++
			end := strings.Index(s[j:], "</"+name+">")
			if end < 0 {
				return "", nil, "", 0, fail(i, "<"+name+"> has no end tag")
			}
			return name, attrs, s[j : j+end], j + end + len(name) + 3, nil
		}
		eq := strings.IndexByte(s[j:], '=')
		if eq <= 0 || j+eq+1 >= len(s) || s[j+eq+1] != '"' {
			return "", nil, "", 0, fail(j, "malformed attribute in <"+name+">")
		}
		key := s[j : j+eq]
		k := j + eq + 2
		q := strings.IndexByte(s[k:], '"')
		if q < 0 {
			return "", nil, "", 0, fail(k, "attribute value not closed in <"+name+">")
		}
		attrs = append(attrs, attr{key, s[k : k+q]})
		j = k + q + 1
	}
}

// unescape replaces XML's entities; s is returned as is when it has none.
func unescape(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 || semi > 10 {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		ent := s[1:semi]
		switch ent {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			if r, ok := charRef(ent); ok {
				b.WriteRune(r)
			} else {
				b.WriteString(s[:semi+1])
			}
		}
		s = s[semi+1:]
	}
}

// charRef reads "#65" or "#x41".
func charRef(ent string) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	base, digits := 10, ent[1:]
	if digits[0] == 'x' || digits[0] == 'X' {
		base, digits = 16, digits[1:]
	}
	if digits == "" {
		return 0, false
	}
	var r rune
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var v rune
		switch {
		case c >= '0' && c <= '9':
			v = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			v = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			v = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*rune(base) + v
		if r > 0x10FFFF {
			return 0, false
		}
	}
	return r, true
}

// Sniff scores rec as a Sysmon for Linux event: its <Event> with the
// Linux-Sysmon provider.
func Sniff(rec []byte) int {
	s := view.String(rec[:min(len(rec), 512)])
	i := strings.Index(s, "<Event>")
	if i < 0 || i > 200 {
		return 0
	}
	if strings.Contains(s[i:], `<Provider Name="Linux-Sysmon"`) {
		return 95
	}
	return 0
}
