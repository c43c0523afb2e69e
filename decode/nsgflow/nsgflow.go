// Package nsgflow decodes Azure network flow logs: network security group
// (NSG) flow logs, versions 1 and 2, and virtual network (VNet) flow logs,
// version 4. One record (an element of a PT1H.json blob's `records` array;
// ingest splits the envelope) holds many flow tuples; each tuple is one
// event (decode.Expander), carrying the record's fields, its rule group's
// fields and its own.
package nsgflow

import (
	"bytes"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/azure"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "nsgflow"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes flow log records. The values it stores alias its parse
// buffers and are valid until the next record.
type Decoder struct {
	// doc reads the record; doc.C is what the mapping reads of it.
	doc     *jsonrecord.Record[recordInfo]
	names   fieldIDs
	tupleOK bool // the current emit asked for more
	// A flattened record's tuples (flow.0, flow.1, …) and its top-level
	// rule, aclID and mac.
	flatTuples        [][]byte
	topRule, topOwner string
}

// recordInfo is what the mapping reads from the record.
type recordInfo struct {
	time, resourceID, targetResourceID string
	t                                  time.Time
	vnet                               bool // VNet flow log layout (flowRecords)
}

// New returns a flow log decoder.
func New() decode.Decoder {
	// The record's own fields are kept once and given to each tuple's
	// event.
	return &Decoder{doc: jsonrecord.NewRecord(Format, jsonrecord.Hooks[recordInfo]{Slot: (*recordInfo).slot, Keep: true})}
}

// Expand implements decode.Expander: one event a flow tuple, in the order
// the record holds them. A malformed tuple does not stop the others; the
// first fault is returned once all good tuples are out.
func (d *Decoder) Expand(rec []byte, ev *event.Event, emit func(*event.Event)) error {
	return d.expand(rec, ev, func(ev *event.Event) bool { emit(ev); return true })
}

// Decode implements decode.Decoder with the record's first flow tuple, the
// event whose id is the record's own (event.SubID(id, 0)). A record without
// tuples gives an event with the record's fields alone.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	n := 0
	err := d.expand(rec, ev, func(*event.Event) bool { n++; return false })
	if err == nil && n == 0 {
		d.fillRecord(ev)
	}
	return err
}

// expand walks the tuples; emit returns false to stop after an event,
// which then stays in ev.
func (d *Decoder) expand(rec []byte, ev *event.Event, emit func(*event.Event) bool) error {
	o, err := d.doc.Open(rec, ev)
	if err != nil {
		return err
	}
	d.names.bind(ev.Fields.Dict())
	var flows []*fastjson.Value
	hasFlows := false
	d.flatTuples, d.topRule, d.topOwner = d.flatTuples[:0], "", ""
	o.Visit(func(k []byte, v *fastjson.Value) {
		if isFlatTuple(k) && v.Type() == fastjson.TypeString {
			d.flatTuples = append(d.flatTuples, v.GetStringBytes())
			return
		}
		switch string(k) {
		case "rule", "aclID", "mac":
			// A flattened record's group fields: given to its tuples.
			if sv := v.GetStringBytes(); v.Type() == fastjson.TypeString {
				if string(k) == "rule" {
					d.topRule = view.String(sv)
				} else {
					d.topOwner = view.String(sv)
				}
				if string(k) == "aclID" {
					d.doc.C.vnet = true
				}
				return
			}
		case "flowLogVersion":
			// Only VNet flow logs (version 4) carry it at the top.
			d.doc.C.vnet = true
		case "properties":
			// properties holds Version and the flows; only Version and
			// other scalars are record fields.
			if po := v.GetObject(); po != nil {
				po.Visit(func(k []byte, pv *fastjson.Value) {
					if string(k) == "flows" && pv.Type() == fastjson.TypeArray {
						flows, hasFlows = pv.GetArray(), true
						return
					}
					d.walkUnder("properties", k, pv)
				})
				return
			}
		case "flowRecords":
			if fv := v.Get("flows"); fv != nil && fv.Type() == fastjson.TypeArray {
				d.doc.C.vnet = true
				flows, hasFlows = fv.GetArray(), true
				return
			}
		}
		d.doc.Walk(k, v)
	})
	d.doc.Close()
	flat := !hasFlows && len(d.flatTuples) > 0
	if !hasFlows && !flat {
		under := jsonrecord.Wrapper(o, "properties (or flowRecords, flow.0)")
		return &decode.Error{Format: Format, Offset: -1, Field: "properties.flows",
			Reason: "no flows array: missing required key properties.flows (VNet flow logs: flowRecords.flows; a flattened record: flow.0)" + jsonrecord.WrapHint(under)}
	}
	if err := jsonrecord.FieldTime(Format, "time", d.doc.C.time, &d.doc.C.t); err != nil {
		return err
	}
	id := ev.ID
	var firstErr *decode.Error
	n := 0
	// one gives the event of the n-th tuple; false when emit wants no more.
	one := func(tuple []byte, isString bool, rule, owner string) bool {
		i := n
		n++
		if !isString {
			if firstErr == nil {
				firstErr = &decode.Error{Format: Format, Offset: -1, Field: "flowTuples", Reason: "flow tuple " + strconv.Itoa(i+1) + " is not a string"}
			}
			return true
		}
		ev.ResetFor(event.SubID(id, i))
		d.fillRecord(ev)
		d.names.set(ev, fRule, rule)
		if d.doc.C.vnet {
			d.names.set(ev, fACL, owner)
		} else {
			d.names.set(ev, fMAC, owner)
		}
		if perr := d.tuple(ev, tuple); perr != nil {
			if firstErr == nil {
				firstErr = d.tupleError(rec, tuple, i, perr)
			}
			return true
		}
		return emit(ev)
	}
	if flat {
		// A flattened record (some collectors forward one tuple a record:
		// the group's rule and aclID or mac at the top, the tuple under
		// flow.0).
		for _, tuple := range d.flatTuples {
			if !one(tuple, true, d.topRule, d.topOwner) {
				break
			}
		}
		return errOrNil(firstErr)
	}
	groupsKey, ownerKey := "flows", "mac"
	if d.doc.C.vnet {
		groupsKey, ownerKey = "flowGroups", "aclID"
	}
	for _, outer := range flows {
		// v1/v2: flows[] = {rule, flows[] = {mac, flowTuples[]}};
		// v4: flows[] = {aclID, flowGroups[] = {rule, flowTuples[]}}.
		rule, owner := str(outer, "rule"), str(outer, ownerKey)
		for _, g := range outer.GetArray(groupsKey) {
			if r := str(g, "rule"); r != "" {
				rule = r
			}
			if m := str(g, "mac"); m != "" {
				owner = m
			}
			for _, tv := range g.GetArray("flowTuples") {
				tuple, err := tv.StringBytes()
				if !one(tuple, err == nil, rule, owner) {
					return errOrNil(firstErr)
				}
			}
		}
	}
	return errOrNil(firstErr)
}

// isFlatTuple reports whether a top-level key names a flattened record's
// tuple: flow.0, flow.1, …
func isFlatTuple(k []byte) bool {
	if len(k) < 6 || string(k[:5]) != "flow." {
		return false
	}
	for _, c := range k[5:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// errOrNil keeps a nil *decode.Error from becoming a non-nil error.
func errOrNil(e *decode.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// fillRecord gives ev the record's own fields and the common fields they
// imply.
func (d *Decoder) fillRecord(ev *event.Event) {
	for _, f := range d.doc.Kept() {
		ev.Fields.Set(f.ID, f.Value)
	}
	r := &d.doc.C
	ev.Time = r.t // the tuple's own time replaces it
	ev.Logsource = event.Logsource{Product: "azure", Service: "nsgflowlogs"}
	if r.vnet {
		ev.Logsource.Service = "vnetflowlogs"
	}
	ev.Common[event.CloudProvider] = "azure"
	ev.Common[event.CloudAccountID] = azure.Subscription(r.resourceID)
	if ev.Common[event.CloudAccountID] == "" {
		ev.Common[event.CloudAccountID] = azure.Subscription(r.targetResourceID)
	}
}

func (d *Decoder) walkUnder(prefix string, k []byte, v *fastjson.Value) {
	d.names.scratch = append(append(append(d.names.scratch[:0], prefix...), '.'), k...)
	d.doc.Walk(d.names.scratch, v)
}

// slot is where the value of a record's leaf goes.
func (r *recordInfo) slot(name []byte) *string {
	switch string(name) {
	case "time":
		return &r.time
	case "resourceId":
		return &r.resourceID
	case "targetResourceID":
		return &r.targetResourceID
	}
	return nil
}

func str(v *fastjson.Value, key string) string {
	b := v.GetStringBytes(key)
	if len(b) == 0 {
		return ""
	}
	return view.String(b)
}

// tupleError locates the bad tuple in the record for the error's offset
// (tuples hold no escapes, so their text appears as it is).
func (d *Decoder) tupleError(rec, tuple []byte, i int, perr *tupleErr) *decode.Error {
	off := -1
	if j := bytes.Index(rec, tuple); j >= 0 && len(tuple) > 0 {
		off = j + perr.pos
	}
	return &decode.Error{Format: Format, Offset: off, Field: "flowTuples", Reason: "flow tuple " + strconv.Itoa(i+1) + ": " + perr.reason}
}
