// Package cloudtrail decodes one AWS CloudTrail record (an element of a log
// file's Records array; ingest splits the envelope). Fields keep
// CloudTrail's own names, nested ones dotted (userIdentity.arn,
// requestParameters.bucketName), as SigmaHQ's aws rules name them.
package cloudtrail

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "cloudtrail"

func init() { decode.Register(Format, New) }

// Decoder decodes CloudTrail records. The values it stores alias its parse
// buffers and are valid until the next Decode.
type Decoder struct {
	p    fastjson.Parser
	flat *jsondec.Flattener
	ev   *event.Event
	c    captured
	key  []byte
}

// captured holds what the ECS mapping reads, whatever the Dict holds.
type captured struct {
	eventTime, eventName, eventSource, sourceIP, userAgent string
	userName, arn, principalID, accountID                  string
	errorCode, consoleLogin, recipientAccount, region      string
}

func (c *captured) slot(name []byte) *string {
	switch string(name) {
	case "eventTime":
		return &c.eventTime
	case "eventName":
		return &c.eventName
	case "eventSource":
		return &c.eventSource
	case "sourceIPAddress":
		return &c.sourceIP
	case "userAgent":
		return &c.userAgent
	case "userIdentity.userName":
		return &c.userName
	case "userIdentity.arn":
		return &c.arn
	case "userIdentity.principalId":
		return &c.principalID
	case "userIdentity.accountId":
		return &c.accountID
	case "errorCode":
		return &c.errorCode
	case "responseElements.ConsoleLogin":
		return &c.consoleLogin
	case "recipientAccountId":
		return &c.recipientAccount
	case "awsRegion":
		return &c.region
	}
	return nil
}

// New returns a CloudTrail decoder.
func New() decode.Decoder {
	d := &Decoder{key: make([]byte, 0, 32)}
	d.flat = jsondec.NewFlattener(d.leaf)
	return d
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		return jsondec.SyntaxError(Format, rec, err)
	}
	o := v.GetObject()
	if o == nil {
		return jsondec.ObjectError(Format, rec, v)
	}
	d.ev, d.c = ev, captured{}
	d.flat.Reset()
	o.Visit(func(k []byte, v *fastjson.Value) {
		d.flat.Walk(d.canonical(k), v)
	})
	d.ev = nil

	c := &d.c
	if c.eventTime != "" {
		t, ok := jsondec.ParseTime(c.eventTime)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: "eventTime", Reason: "unreadable time stamp " + strconv.Quote(c.eventTime)}
		}
		ev.Time = t
	}
	ev.Logsource = event.Logsource{Product: "aws", Service: "cloudtrail"}
	com := &ev.Common
	com[event.EventAction] = c.eventName
	com[event.CloudProvider] = "aws"
	com[event.CloudRegion] = c.region
	com[event.CloudAccountID] = first(c.recipientAccount, c.accountID)
	com[event.UserAgentOriginal] = c.userAgent
	com[event.UserName] = first(c.userName, arnName(c.arn), c.principalID)
	if _, err := netip.ParseAddr(c.sourceIP); err == nil {
		// Calls made by AWS services carry the service's name instead.
		com[event.SourceIP] = c.sourceIP
	}
	if c.eventName != "" {
		com[event.EventOutcome] = "success"
		if c.errorCode != "" || c.consoleLogin == "Failure" {
			com[event.EventOutcome] = "failure"
		}
	}
	if c.eventName == "ConsoleLogin" {
		com[event.EventCategory] = "authentication"
	}
	return nil
}

func (d *Decoder) leaf(name []byte, v *fastjson.Value) {
	var id int32
	keep := false
	if dict := d.ev.Fields.Dict(); dict != nil {
		id, keep = dict.IDBytes(name)
	}
	p := d.c.slot(name)
	if p != nil && *p != "" {
		p = nil
	}
	if !keep && p == nil {
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
}

// recordKeys are CloudTrail's top-level keys. Some exports (Athena, Glue,
// SIEM pipelines) lowercase them; they are given back their own spelling so
// that rules written against CloudTrail match.
var recordKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
		"sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
		"responseElements", "additionalEventData", "requestID", "eventID", "eventType",
		"apiVersion", "managementEvent", "readOnly", "resources", "recipientAccountId",
		"serviceEventDetails", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
		"eventCategory", "tlsDetails", "sessionCredentialFromConsole", "edgeDeviceDetails",
		"insightDetails",
	} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

func (d *Decoder) canonical(k []byte) []byte {
	for _, c := range k {
		if c >= 'A' && c <= 'Z' {
			return k // already camelCase
		}
	}
	if n, ok := recordKeys[string(k)]; ok {
		d.key = append(d.key[:0], n...)
		return d.key
	}
	return k
}

// arnName is the last part of an ARN: the user, role session or "root".
func arnName(arn string) string {
	if arn == "" {
		return ""
	}
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
