// Package awswaf decodes one AWS WAF web ACL log record (a JSON object a
// line, as WAF writes to CloudWatch Logs, S3 or Firehose). Fields keep
// WAF's names, nested ones dotted (httpRequest.clientIp,
// ruleGroupList.terminatingRule.ruleId). Request headers, an array of
// {name, value} pairs, are also given one field each,
// httpRequest.header.<name in lower case>, so that a rule can test one
// header by name.
package awswaf

import (
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "awswaf"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

const headerPrefix = "httpRequest.header."

// Decoder decodes WAF records. The values it stores alias its parse
// buffers and are valid until the next Decode.
type Decoder struct {
	p    fastjson.Parser
	flat *jsondec.Flattener
	ev   *event.Event
	c    captured
	name []byte // scratch: a header's field name
	url  []byte // scratch: url.original
}

// captured holds what the ECS mapping reads, whatever the Dict holds.
type captured struct {
	timestamp, action, clientIP, uri, args, method, webACL, status string
	host, userAgent, headerName                                    string
}

func (c *captured) slot(name []byte) *string {
	switch string(name) {
	case "timestamp":
		return &c.timestamp
	case "action":
		return &c.action
	case "httpRequest.clientIp":
		return &c.clientIP
	case "httpRequest.uri":
		return &c.uri
	case "httpRequest.args":
		return &c.args
	case "httpRequest.httpMethod":
		return &c.method
	case "webaclId":
		return &c.webACL
	case "responseCodeSent":
		return &c.status
	}
	return nil
}

// New returns a WAF log decoder.
func New() decode.Decoder {
	d := &Decoder{name: make([]byte, 0, 64), url: make([]byte, 0, 256)}
	d.flat = jsondec.NewFlattener(d.leaf)
	return d
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		return jsondec.SyntaxError(Format, rec, err)
	}
	if v.Type() != fastjson.TypeObject {
		return jsondec.ObjectError(Format, rec, v)
	}
	d.ev, d.c = ev, captured{}
	d.flat.Reset()
	d.flat.Walk(nil, v)
	d.ev = nil

	c := &d.c
	if c.timestamp != "" {
		t, ok := jsondec.ParseTime(c.timestamp)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: "timestamp", Reason: "unreadable time stamp " + strconv.Quote(c.timestamp)}
		}
		ev.Time = t
	}
	ev.Logsource = event.Logsource{Product: "aws", Service: "waf"}
	com := &ev.Common
	com[event.CloudProvider] = "aws"
	com[event.CloudRegion], com[event.CloudAccountID] = arnRegionAccount(c.webACL)
	com[event.SourceIP] = ipOnly(c.clientIP)
	com[event.URLPath] = c.uri
	com[event.URLOriginal] = c.uri
	if c.args != "" {
		d.url = append(append(append(d.url[:0], c.uri...), '?'), c.args...)
		com[event.URLOriginal] = bytesString(d.url)
	}
	com[event.URLDomain] = c.host
	com[event.HTTPRequestMethod] = c.method
	com[event.UserAgentOriginal] = c.userAgent
	if c.status != "" && c.status != "null" {
		com[event.HTTPResponseStatusCode] = c.status
	}
	if c.uri != "" || c.clientIP != "" {
		com[event.EventCategory] = "web"
	}
	com[event.EventAction], com[event.EventOutcome] = action(c.action)
	return nil
}

// action maps WAF's terminating action to ECS event.action and
// event.outcome: a blocked request failed, an allowed one succeeded; a
// CAPTCHA or challenge leaves the outcome to the client.
func action(a string) (string, string) {
	switch a {
	case "ALLOW":
		return "allow", "success"
	case "BLOCK":
		return "block", "failure"
	case "COUNT":
		return "count", "success"
	case "CAPTCHA":
		return "captcha", "unknown"
	case "CHALLENGE":
		return "challenge", "unknown"
	}
	return a, ""
}

func (d *Decoder) leaf(name []byte, v *fastjson.Value) {
	var id int32
	keep := false
	dict := d.ev.Fields.Dict()
	if dict != nil {
		id, keep = dict.IDBytes(name)
	}
	p := d.c.slot(name)
	if p != nil && *p != "" {
		p = nil
	}
	header := string(name) == "httpRequest.headers.name" || string(name) == "httpRequest.headers.value"
	if !keep && p == nil && !header {
		return
	}
	s, ok := d.flat.Scalar(v)
	if !ok {
		return
	}
	if keep {
		d.ev.Fields.Set(id, s)
	}
	if p != nil {
		*p = s
	}
	if header {
		d.header(dict, name, s)
	}
}

// header pairs a header's value with the name seen just before it (the
// Flattener walks each {name, value} object in order).
func (d *Decoder) header(dict *event.Dict, name []byte, s string) {
	c := &d.c
	if string(name) == "httpRequest.headers.name" {
		c.headerName = s
		return
	}
	hn := c.headerName
	c.headerName = ""
	if hn == "" {
		return
	}
	switch {
	case strings.EqualFold(hn, "host") && c.host == "":
		c.host = s
	case strings.EqualFold(hn, "user-agent") && c.userAgent == "":
		c.userAgent = s
	}
	if dict == nil {
		return
	}
	d.name = append(d.name[:0], headerPrefix...)
	for i := 0; i < len(hn); i++ {
		b := hn[i]
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		d.name = append(d.name, b)
	}
	if id, ok := dict.IDBytes(d.name); ok {
		d.ev.Fields.Set(id, s)
	}
}
