// Package azureactivity decodes one Azure Activity log record (Azure
// Monitor's control-plane log) as diagnostic settings write it to a storage
// account or an event hub: an element of the `records` array (ingest splits
// the envelope). Fields keep the record's own names, nested ones dotted
// (operationName, resultType, identity.claims.name, properties.statusCode),
// as SigmaHQ's azure activitylogs rules name them.
package azureactivity

import (
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "azureactivity"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// upnClaim is the claim that holds the caller's user principal name.
const upnClaim = "identity.claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"

// Decoder decodes Activity log records. The values it stores alias its
// parse buffers and are valid until the next Decode.
type Decoder struct {
	p    fastjson.Parser
	flat *jsondec.Flattener
	ev   *event.Event
	c    captured
	key  []byte
}

// captured holds what the ECS mapping reads, whatever the Dict holds.
type captured struct {
	time, eventTimestamp, operation, operationValue, resultType, resultSignature    string
	caller, callerIP, upn, claimName, subscription, resourceID, location, userAgent string
	category, categoryValue                                                         string
}

func (c *captured) slot(name []byte) *string {
	switch string(name) {
	case "time":
		return &c.time
	case "eventTimestamp":
		return &c.eventTimestamp
	case "operationName":
		return &c.operation
	case "operationName.value": // the REST API's {value, localizedValue}
		return &c.operationValue
	case "resultType", "resultType.value", "status.value":
		return &c.resultType
	case "resultSignature", "subStatus.value":
		return &c.resultSignature
	case "caller":
		return &c.caller
	case "callerIpAddress", "httpRequest.clientIpAddress":
		return &c.callerIP
	case upnClaim:
		return &c.upn
	case "identity.claims.name":
		return &c.claimName
	case "subscriptionId":
		return &c.subscription
	case "resourceId":
		return &c.resourceID
	case "location":
		return &c.location
	case "properties.userAgentHeader", "properties.userAgent":
		return &c.userAgent
	case "category":
		return &c.category
	case "category.value":
		return &c.categoryValue
	}
	return nil
}

// New returns an Activity log decoder.
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
	field, stamp := "time", c.time
	if stamp == "" {
		field, stamp = "eventTimestamp", c.eventTimestamp
	}
	if stamp != "" {
		t, ok := jsondec.ParseTime(stamp)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: field, Reason: "unreadable time stamp " + strconv.Quote(stamp)}
		}
		ev.Time = t
	}
	ev.Logsource = event.Logsource{Product: "azure", Service: "activitylogs"}
	com := &ev.Common
	com[event.CloudProvider] = "azure"
	com[event.EventAction] = first(c.operation, c.operationValue)
	com[event.EventOutcome] = Outcome(c.resultType, c.resultSignature)
	com[event.UserName] = first(c.caller, c.upn, c.claimName)
	com[event.SourceIP], com[event.SourcePort] = SplitAddr(c.callerIP)
	com[event.CloudAccountID] = first(c.subscription, Subscription(c.resourceID))
	if c.location != "global" {
		com[event.CloudRegion] = c.location
	}
	com[event.UserAgentOriginal] = c.userAgent
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

// recordKeys are the Activity log's top-level keys. Some pipelines change
// their case (all lowercase, or Log Analytics' PascalCase); they are given
// back the schema's own spelling so that rules match whatever the export.
var recordKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"time", "eventTimestamp", "resourceId", "operationName", "operationVersion", "category",
		"resultType", "resultSignature", "resultDescription", "durationMs", "callerIpAddress",
		"correlationId", "identity", "level", "location", "properties", "caller", "tenantId",
		"subscriptionId", "eventDataId", "eventName", "status", "subStatus", "claims",
		"authorization", "httpRequest", "resourceGroupName", "resourceProviderName",
		"submissionTimestamp",
	} {
		m[lower(k)] = k
	}
	return m
}()

func (d *Decoder) canonical(k []byte) []byte {
	d.key = appendLower(d.key[:0], k)
	if n, ok := recordKeys[string(d.key)]; ok {
		d.key = append(d.key[:0], n...)
		return d.key
	}
	return k
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
