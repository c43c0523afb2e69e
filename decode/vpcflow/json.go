package vpcflow

import (
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// ocsfRoles maps the fields of OCSF Network Activity records (the shape
// security lakes store flow logs in) to the roles of the AWS fields.
var ocsfRoles = map[string]int{
	"src_endpoint.ip": roleSrcAddr, "dst_endpoint.ip": roleDstAddr,
	"src_endpoint.port": roleSrcPort, "dst_endpoint.port": roleDstPort,
	"connection_info.protocol_num": roleProtocol, "status_code": roleLogStatus,
	"cloud.account.uid": roleAccount, "cloud.region": roleRegion,
	"start_time": roleStart, "end_time": roleEnd, "time": roleEnd, "disposition": roleAction,
}

// decodeJSON decodes a flow record exported as a JSON object. Top-level
// keys that name a flow log field in another spelling (srcAddr,
// account_id, logStatus) take AWS's name; other keys stay as they are.
//
// An export keeps only some of the fields every flow log line has, but a
// flow record names at least one of the flow's addresses or its log
// status (NODATA, SKIPDATA): an object with none of them is refused.
func (d *Decoder) decodeJSON(rec []byte, ev *event.Event) error {
	if err := d.rec.Decode(rec, ev); err != nil {
		return err
	}
	c := &d.rec.C
	if c.src == "" && c.dst == "" && c.status == "" {
		under := jsonrecord.Wrapper(d.rec.Object(), "srcaddr (or dstaddr, log-status, status, src_endpoint, dst_endpoint)")
		return &decode.Error{Format: Format, Offset: -1,
			Reason: "not a flow record: missing required key srcaddr, dstaddr or log-status (OCSF: src_endpoint.ip, dst_endpoint.ip or status_code)" + jsonrecord.WrapHint(under)}
	}
	return c.apply(ev)
}

func (d *Decoder) canonical(k []byte) []byte {
	d.key = d.key[:0]
	for _, c := range k {
		switch {
		case c == '-' || c == '_':
		case c >= 'A' && c <= 'Z':
			d.key = append(d.key, c+'a'-'A')
		default:
			d.key = append(d.key, c)
		}
	}
	if n, ok := squashed[string(d.key)]; ok {
		d.key = append(d.key[:0], n...)
		return d.key
	}
	return k
}

// jsonSlot is where the value of a JSON record's leaf goes: by its AWS
// name, else its OCSF one.
func (c *captured) jsonSlot(name []byte) *string {
	role, isAWS := knownFields[string(name)]
	if !isAWS {
		role = ocsfRoles[string(name)]
	}
	return c.slot(role)
}
