package vpcflow

import (
	"github.com/valyala/fastjson"

	jsondec "github.com/vigil-sec/vigil/decode/json"
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
func (d *Decoder) decodeJSON(rec []byte, ev *event.Event) error {
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
	return d.c.apply(ev)
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

func (d *Decoder) leaf(name []byte, v *fastjson.Value) {
	role, isAWS := knownFields[string(name)]
	if !isAWS {
		role = ocsfRoles[string(name)]
	}
	var id int32
	keep := false
	if dict := d.ev.Fields.Dict(); dict != nil {
		id, keep = dict.IDBytes(name)
	}
	if !keep && role == roleOther {
		return
	}
	s, ok := d.flat.Scalar(v)
	if !ok {
		return
	}
	if keep {
		d.ev.Fields.Set(id, s)
	}
	d.c.set(role, s)
}
