// Package awswaf decodes one AWS WAF web ACL log record (a JSON object a
// line, as WAF writes to CloudWatch Logs, S3 or Firehose), which must
// hold timestamp, webaclId and action, as every WAF record does. Fields keep
// WAF's names, nested ones dotted (httpRequest.clientIp,
// ruleGroupList.terminatingRule.ruleId). Request headers, an array of
// {name, value} pairs, are also given one field each,
// httpRequest.header.<name in lower case>, so that a rule can test one
// header by name.
package awswaf

import (
	"strings"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
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
	rec  *jsonrecord.Record[captured]
	name []byte // scratch: a header's field name
	url  []byte // scratch: url.original
}

// captured holds what the ECS mapping reads, whatever the Dict holds.
type captured struct {
	timestamp, action, clientIP, uri, args, method, webACL, status string
	host, userAgent, headerName, headerPart                        string
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
	case "httpRequest.headers.name", "httpRequest.headers.value":
		// Every header's, not the first only: header pairs them.
		c.headerPart = ""
		return &c.headerPart
	}
	return nil
}

// New returns a WAF log decoder.
func New() decode.Decoder {
	d := &Decoder{name: make([]byte, 0, 64), url: make([]byte, 0, 256)}
	d.rec = jsonrecord.NewRecord(Format, jsonrecord.Hooks[captured]{
		Slot:    (*captured).slot,
		Watched: func(c *captured) *string { return &c.headerPart },
		Filled:  d.header,
	})
	return d
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	if err := d.rec.Decode(rec, ev); err != nil {
		return err
	}
	c := &d.rec.C
	// Keys every WAF log record has.
	if err := d.rec.Require("timestamp", c.timestamp, "webaclId", c.webACL, "action", c.action); err != nil {
		return err
	}
	if err := jsonrecord.FieldTime(Format, "timestamp", c.timestamp, &ev.Time); err != nil {
		return err
	}
	ev.Logsource = event.Logsource{Product: "aws", Service: "waf"}
	com := &ev.Common
	com[event.CloudProvider] = "aws"
	com[event.CloudRegion], com[event.CloudAccountID] = arnRegionAccount(c.webACL)
	com[event.SourceIP] = addr.IP(c.clientIP)
	com[event.URLPath] = c.uri
	com[event.URLOriginal] = c.uri
	if c.args != "" {
		d.url = append(append(append(d.url[:0], c.uri...), '?'), c.args...)
		com[event.URLOriginal] = view.String(d.url)
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

// header pairs a header's value with the name seen just before it (the
// Flattener walks each {name, value} object in order). It is the Record's
// Filled hook, called for the slot of the headers' names and values.
func (d *Decoder) header(c *captured, ev *event.Event, name []byte, s string) {
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
	dict := ev.Fields.Dict()
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
		ev.Fields.Set(id, s)
	}
}
