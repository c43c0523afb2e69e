// Package cloudtrail decodes one AWS CloudTrail record (an element of a log
// file's Records array; ingest splits the envelope). A record needs
// eventTime, eventName and eventSource, which every CloudTrail record
// has; any other object is refused. Fields keep
// CloudTrail's own names, nested ones dotted (userIdentity.arn,
// requestParameters.bucketName), as SigmaHQ's aws rules name them.
package cloudtrail

import (
	"cmp"
	"net/netip"
	"strings"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "cloudtrail"

func init() { decode.Register(Format, New) }

// Decoder decodes CloudTrail records. The values it stores alias its parse
// buffers and are valid until the next Decode.
type Decoder struct {
	rec *jsonrecord.Record[captured]
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
	return &Decoder{rec: jsonrecord.NewRecord(Format, jsonrecord.Hooks[captured]{
		Slot:     (*captured).slot,
		Spelling: recordKeys, LowerOnly: true,
	})}
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	if err := d.rec.Decode(rec, ev); err != nil {
		return err
	}
	c := &d.rec.C
	// Keys every CloudTrail record has (AWS's record contents: not
	// optional).
	if err := d.rec.Require("eventTime", c.eventTime, "eventName", c.eventName, "eventSource", c.eventSource); err != nil {
		return err
	}
	if err := jsonrecord.FieldTime(Format, "eventTime", c.eventTime, &ev.Time); err != nil {
		return err
	}
	ev.Logsource = event.Logsource{Product: "aws", Service: "cloudtrail"}
	com := &ev.Common
	com[event.EventAction] = c.eventName
	com[event.CloudProvider] = "aws"
	com[event.CloudRegion] = c.region
	com[event.CloudAccountID] = cmp.Or(c.recipientAccount, c.accountID)
	com[event.UserAgentOriginal] = c.userAgent
	com[event.UserName] = cmp.Or(c.userName, arnName(c.arn), c.principalID)
	if _, err := netip.ParseAddr(c.sourceIP); err == nil {
		// Calls made by AWS services carry the service's name instead.
		com[event.SourceIP] = c.sourceIP
	}
	com[event.EventOutcome] = "success"
	if c.errorCode != "" || c.consoleLogin == "Failure" {
		com[event.EventOutcome] = "failure"
	}
	if c.eventName == "ConsoleLogin" {
		com[event.EventCategory] = "authentication"
	}
	return nil
}

// recordKeys are CloudTrail's top-level keys. Some exports (Athena, Glue,
// SIEM pipelines) lowercase them; they are given back their own spelling so
// that rules match. A key with a capital is left as it is.
var recordKeys = jsonrecord.NewSpelling(
	"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
	"sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
	"responseElements", "additionalEventData", "requestID", "eventID", "eventType",
	"apiVersion", "managementEvent", "readOnly", "resources", "recipientAccountId",
	"serviceEventDetails", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
	"eventCategory", "tlsDetails", "sessionCredentialFromConsole", "edgeDeviceDetails",
	"insightDetails",
)

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
