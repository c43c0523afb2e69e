// Package azureactivity decodes one Azure Activity log record (Azure
// Monitor's control-plane log) as diagnostic settings write it to a storage
// account or an event hub: an element of the `records` array (ingest splits
// the envelope). Fields keep the record's own names, nested ones dotted
// (operationName, resultType, identity.claims.name, properties.statusCode),
// as SigmaHQ's azure activitylogs rules name them.
package azureactivity

import (
	"cmp"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/azure"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
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
	rec *jsonrecord.Record[captured]
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
	return &Decoder{rec: jsonrecord.NewRecord(Format, jsonrecord.Hooks[captured]{
		Slot:     (*captured).slot,
		Spelling: recordKeys,
	})}
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	if err := d.rec.Decode(rec, ev); err != nil {
		return err
	}
	c := &d.rec.C
	// The top-level schema's required keys (category is one too, but
	// exports drop it), in either shape.
	if err := d.rec.Require("time (or eventTimestamp)", cmp.Or(c.time, c.eventTimestamp),
		"operationName (or operationName.value)", cmp.Or(c.operation, c.operationValue), "resourceId", c.resourceID); err != nil {
		return err
	}
	field, stamp := "time", c.time
	if stamp == "" {
		field, stamp = "eventTimestamp", c.eventTimestamp
	}
	if err := jsonrecord.FieldTime(Format, field, stamp, &ev.Time); err != nil {
		return err
	}
	ev.Logsource = event.Logsource{Product: "azure", Service: "activitylogs"}
	com := &ev.Common
	com[event.CloudProvider] = "azure"
	com[event.EventAction] = cmp.Or(c.operation, c.operationValue)
	com[event.EventOutcome] = Outcome(c.resultType, c.resultSignature)
	com[event.UserName] = cmp.Or(c.caller, c.upn, c.claimName)
	com[event.SourceIP], com[event.SourcePort] = SplitAddr(c.callerIP)
	com[event.CloudAccountID] = cmp.Or(c.subscription, azure.Subscription(c.resourceID))
	if c.location != "global" {
		com[event.CloudRegion] = c.location
	}
	com[event.UserAgentOriginal] = c.userAgent
	return nil
}

// recordKeys are the Activity log's top-level keys. Some pipelines change
// their case (all lowercase, or Log Analytics' PascalCase); they are given
// back the schema's own spelling so that rules match whatever the export.
var recordKeys = jsonrecord.NewSpelling(
	"time", "eventTimestamp", "resourceId", "operationName", "operationVersion", "category",
	"resultType", "resultSignature", "resultDescription", "durationMs", "callerIpAddress",
	"correlationId", "identity", "level", "location", "properties", "caller", "tenantId",
	"subscriptionId", "eventDataId", "eventName", "status", "subStatus", "claims",
	"authorization", "httpRequest", "resourceGroupName", "resourceProviderName",
	"submissionTimestamp",
)
