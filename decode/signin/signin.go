// Package signin decodes one Microsoft Entra ID (Azure AD) sign-in record,
// in either shape Microsoft writes it: the Microsoft Graph signIn resource
// (createdDateTime, userPrincipalName, status.errorCode at the top) and the
// diagnostic-settings record (time, category, resultType, callerIpAddress,
// with the Graph fields under properties). Entra audit records
// (directoryAudit: activityDisplayName, initiatedBy, targetResources) arrive
// by the same routes, so they decode too, with logsource service auditlogs.
//
// A record must hold the required keys of one shape: time, operationName
// and category (diagnostic settings), createdDateTime and
// userPrincipalName (Graph signIn), or activityDateTime and
// activityDisplayName (Graph directoryAudit).
//
// Fields keep the record's own names, nested ones dotted. A field under
// properties is also given its Graph name (properties.status.errorCode is
// also status.errorCode), so that a rule written for either shape matches
// both.
package signin

import (
	"bytes"
	"cmp"
	"math/bits"
	"strings"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "signin"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

var propertiesPrefix = []byte("properties.")

// Decoder decodes sign-in and audit records. The values it stores alias its
// parse buffers and are valid until the next Decode.
type Decoder struct {
	rec *jsonrecord.Record[captured]
	key []byte // scratch: an alias's name
	low []byte // the record's domains in lower case (lowerInto)
}

// captured holds what the ECS mapping reads, whatever the Dict holds.
type captured struct {
	time, created, activityTime                          string
	upn, initiatorUPN, initiatorApp, spName, identity    string
	ip, callerIP, initiatorIP                            string
	errorCode, failureReason, resultType, resultDesc     string
	result, operation, activityName, category, userAgent string
	tenant                                               string
	country                                              string // Entra's own location of the sign-in
	targetUPN                                            string // targetResources.userPrincipalName (the first)
	detailPart, detailKey, invitee                       string // additionalDetails key/value pairs; invitedUserEmailAddress
	audit                                                bool   // a directoryAudit marker was seen
	top                                                  uint8
}

// The top-level keys of the shapes' required keys, as captured.top marks
// them: the diagnostic record's operationName, the Graph resources' own.
// (time and category are captured from the top level only.)
const (
	topOperation uint8 = 1 << iota
	topCreated
	topUPN
	topActivityTime
	topActivityName
)

// shapes are the required keys of each shape, in the order of the bits
// have sets for them.
var shapes = [...]struct {
	name string
	keys []string
}{
	{"diagnostic-settings", []string{"time", "operationName", "category"}},
	{"Graph signIn", []string{"createdDateTime", "userPrincipalName"}},
	{"Graph directoryAudit", []string{"activityDateTime", "activityDisplayName"}},
}

// have returns, for each shape, which of its required keys the record
// holds (bit i for keys[i]).
func (c *captured) have() [len(shapes)]uint8 {
	bit := func(ok bool, i uint) uint8 {
		if ok {
			return 1 << i
		}
		return 0
	}
	return [...]uint8{
		bit(c.time != "", 0) | bit(c.top&topOperation != 0 && c.operation != "", 1) | bit(c.category != "", 2),
		bit(c.top&topCreated != 0 && c.created != "", 0) | bit(c.top&topUPN != 0 && c.upn != "", 1),
		bit(c.top&topActivityTime != 0 && c.activityTime != "", 0) | bit(c.top&topActivityName != 0 && c.activityName != "", 1),
	}
}

// required returns nil when the record holds every required key of one of
// the shapes; else the error naming what the shape it comes closest to
// lacks (every shape's keys when it holds none).
func (d *Decoder) required() error {
	have := d.rec.C.have()
	best, most := -1, 0
	for i, sh := range shapes {
		n := bits.OnesCount8(have[i])
		if n == len(sh.keys) {
			return nil
		}
		if n > most {
			best, most = i, n
		}
	}
	var names []string
	under := ""
	for i, sh := range shapes {
		if best >= 0 && i != best {
			continue
		}
		for j, k := range sh.keys {
			if have[i]&(1<<j) == 0 {
				names = append(names, k)
			}
		}
		if under == "" {
			under = jsonrecord.Wrapper(d.rec.Object(), sh.keys...)
		}
	}
	e := jsonrecord.Missing(Format, "", names...)
	if best >= 0 {
		e.Reason += " of a " + shapes[best].name + " record"
	} else {
		e.Reason += " (a diagnostic-settings record has the first three, a Graph signIn the next two, a Graph directoryAudit the last two)"
	}
	e.Reason += jsonrecord.WrapHint(under)
	return e
}

// slot returns where the value of name goes. Names under properties are
// matched by their Graph name; the first value seen wins.
func (c *captured) slot(name []byte) *string {
	switch string(name) { // top-level names of the diagnostic shape
	case "operationName":
		c.top |= topOperation
	case "createdDateTime":
		c.top |= topCreated
	case "userPrincipalName":
		c.top |= topUPN
	case "activityDateTime":
		c.top |= topActivityTime
	case "activityDisplayName":
		c.top |= topActivityName
	case "time":
		return &c.time
	case "callerIpAddress":
		return &c.callerIP
	case "identity":
		return &c.identity
	case "category":
		return &c.category
	}
	name = bytes.TrimPrefix(name, propertiesPrefix)
	switch string(name) {
	case "createdDateTime":
		return &c.created
	case "activityDateTime":
		c.audit = true
		return &c.activityTime
	case "userPrincipalName":
		return &c.upn
	case "initiatedBy.user.userPrincipalName":
		return &c.initiatorUPN
	case "initiatedBy.app.displayName":
		return &c.initiatorApp
	case "servicePrincipalName":
		return &c.spName
	case "ipAddress":
		return &c.ip
	case "initiatedBy.user.ipAddress":
		return &c.initiatorIP
	case "status.errorCode":
		return &c.errorCode
	case "status.failureReason":
		return &c.failureReason
	case "resultType":
		return &c.resultType
	case "resultDescription", "resultReason":
		return &c.resultDesc
	case "result":
		return &c.result
	case "operationName":
		return &c.operation
	case "activityDisplayName":
		c.audit = true
		return &c.activityName
	case "loggedByService":
		c.audit = true
	case "userAgent":
		return &c.userAgent
	case "tenantId":
		return &c.tenant
	case "location.countryOrRegion":
		return &c.country
	case "targetResources.userPrincipalName":
		return &c.targetUPN
	case "additionalDetails.key", "additionalDetails.value":
		// Each {key, value} pair arrives as two leaves in order: the
		// Filled hook (detail) pairs them, so the slot is emptied for each.
		c.detailPart = ""
		return &c.detailPart
	}
	return nil
}

// detail pairs an additionalDetails value with the key seen just before it
// (the Flattener walks each {key, value} object in order) and keeps the
// invited address of an invitation. It is the Record's Filled hook.
func detail(c *captured, _ *event.Event, name []byte, s string) {
	if bytes.HasSuffix(name, []byte(".key")) {
		c.detailKey = s
		return
	}
	k := c.detailKey
	c.detailKey = ""
	if strings.EqualFold(k, "invitedUserEmailAddress") && c.invitee == "" {
		c.invitee = s
	}
}

// New returns a sign-in log decoder.
func New() decode.Decoder {
	return &Decoder{
		rec: jsonrecord.NewRecord(Format, jsonrecord.Hooks[captured]{
			Slot:     (*captured).slot,
			Spelling: recordKeys,
			Unprefix: propertiesPrefix, // the Graph name
			Watched:  func(c *captured) *string { return &c.detailPart },
			Filled:   detail,
		}),
		key: make([]byte, 0, 32),
		low: make([]byte, 0, 64),
	}
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	if err := d.rec.Decode(rec, ev); err != nil {
		return err
	}
	if err := d.required(); err != nil {
		return err
	}
	c := &d.rec.C
	d.low = d.low[:0]
	for _, f := range [...]struct{ name, v string }{{"createdDateTime", c.created}, {"activityDateTime", c.activityTime}, {"time", c.time}} {
		if f.v != "" {
			if err := jsonrecord.FieldTime(Format, f.name, f.v, &ev.Time); err != nil {
				return err
			}
			break
		}
	}
	signIn := containsFold(c.category, "signinlogs") || (!c.audit && !strings.EqualFold(c.category, "auditlogs"))
	com := &ev.Common
	com[event.CloudProvider] = "azure"
	com[event.CloudAccountID] = c.tenant
	com[event.UserAgentOriginal] = c.userAgent
	com[event.SourceIP] = addr.IP(cmp.Or(c.ip, c.callerIP, c.initiatorIP))
	com[event.UserName] = cmp.Or(c.upn, c.initiatorUPN, c.spName, c.initiatorApp, c.identity)
	// The directory the account belongs to, from its UPN: a sign-in's
	// user, an audit record's initiating user (an application has none).
	com[event.UserDomain] = lowerInto(&d.low, upnDomain(cmp.Or(c.upn, c.initiatorUPN)))
	if signIn {
		ev.Logsource = event.Logsource{Product: "azure", Service: "signinlogs"}
		com[event.EventCategory] = "authentication"
		com[event.EventAction] = cmp.Or(c.operation, "Sign-in activity")
		com[event.EventCode] = cmp.Or(c.errorCode, numeric(c.resultType))
		com[event.EventOutcome] = signInOutcome(c.errorCode, c.resultType)
		// Entra locates each sign-in itself (alpha-2, as GeoIP gives
		// it); GeoIP enrichment leaves a field a source filled as it is.
		com[event.SourceGeoCountryISOCode] = c.country
	} else {
		ev.Logsource = event.Logsource{Product: "azure", Service: "auditlogs"}
		com[event.EventCategory] = "iam"
		com[event.EventAction] = cmp.Or(c.operation, c.activityName)
		com[event.EventOutcome] = auditOutcome(c.result, c.resultType)
	}
	// SigmaHQ's sign-in rules name the error code and its text as Log
	// Analytics does.
	d.alias(ev, "ResultType", cmp.Or(c.errorCode, c.resultType))
	d.alias(ev, "ResultDescription", cmp.Or(c.failureReason, c.resultDesc))
	if !signIn {
		// The user an audit record acts on: the address an invitation was
		// sent to, else the target's UPN (a guest's #EXT# UPN names its
		// home domain), so that a rule can compare the two directories.
		target := cmp.Or(c.invitee, c.targetUPN)
		d.alias(ev, "user.target.name", target)
		d.alias(ev, "user.target.domain", lowerInto(&d.low, upnDomain(target)))
	}
	return nil
}

func (d *Decoder) alias(ev *event.Event, name, v string) {
	if v == "" {
		return
	}
	d.key = append(d.key[:0], name...)
	if dict := ev.Fields.Dict(); dict != nil {
		if id, ok := dict.IDBytes(d.key); ok && !ev.Fields.Has(id) {
			ev.Fields.Set(id, v)
		}
	}
}
