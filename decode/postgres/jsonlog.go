package postgres

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// JSONDecoder decodes jsonlog records (PostgreSQL 15+): one JSON object a
// line, its keys mapped onto the csvlog column names.
type JSONDecoder struct {
	loc  *time.Location
	p    fastjson.Parser
	buf  []byte
	nums []byte
}

// NewJSON returns a jsonlog decoder.
func NewJSON() decode.Decoder {
	return &JSONDecoder{buf: make([]byte, 0, 1024), nums: make([]byte, 0, 128)}
}

// Configure implements decode.Configurable: the zone of stamps whose zone
// is an abbreviation.
func (d *JSONDecoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

// Decode implements decode.Decoder.
func (d *JSONDecoder) Decode(rec []byte, ev *event.Event) error {
	d.buf, d.nums = d.buf[:0], d.nums[:0]
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		return jsonrecord.SyntaxError(FormatJSON, rec, err)
	}
	o := v.GetObject()
	if o == nil {
		return jsonrecord.ObjectError(FormatJSON, rec, v)
	}
	var e entry
	o.Visit(func(k []byte, v *fastjson.Value) {
		p := e.slot(k)
		if p == nil {
			return
		}
		*p = d.scalar(v)
	})
	// The server writes both in every record (jsonlog.c): an object
	// without them is no server log record.
	if e.time == "" || e.severity == "" {
		var names []string
		if e.time == "" {
			names = append(names, "timestamp")
		}
		if e.severity == "" {
			names = append(names, "error_severity")
		}
		return jsonrecord.Missing(FormatJSON, jsonrecord.Wrapper(o, "timestamp", "error_severity"), names...)
	}
	if e.txid == "0" {
		e.txid = ""
	}
	if e.queryID == "0" {
		e.queryID = ""
	}
	return fill(ev, &e, FormatJSON, d.loc, &d.buf)
}

// slot is where jsonlog key k goes (elog.c's names).
func (e *entry) slot(k []byte) *string {
	switch string(k) {
	case "timestamp":
		return &e.time
	case "user":
		return &e.user
	case "dbname":
		return &e.db
	case "pid":
		return &e.pid
	case "remote_host":
		return &e.host
	case "remote_port":
		return &e.port
	case "session_id":
		return &e.session
	case "line_num":
		return &e.sessionLine
	case "ps":
		return &e.commandTag
	case "vxid":
		return &e.vxid
	case "txid":
		return &e.txid
	case "error_severity":
		return &e.severity
	case "state_code":
		return &e.sqlstate
	case "message":
		return &e.message
	case "detail":
		return &e.detail
	case "hint":
		return &e.hint
	case "internal_query":
		return &e.internalQuery
	case "context":
		return &e.context
	case "statement":
		return &e.query
	case "application_name":
		return &e.app
	case "backend_type":
		return &e.backendType
	case "query_id":
		return &e.queryID
	}
	return nil
}

// scalar returns a string's text or a number's JSON text; "" for anything
// else.
func (d *JSONDecoder) scalar(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return view.String(b)
	case fastjson.TypeNumber:
		start := len(d.nums)
		d.nums = v.MarshalTo(d.nums)
		return view.String(d.nums[start:])
	}
	return ""
}
