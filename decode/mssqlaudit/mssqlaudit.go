// Package mssqlaudit decodes SQL Server and Azure SQL audit records
// (SQLSecurityAuditEvents) written as JSON: the columns of
// sys.fn_get_audit_file, as a row (FOR JSON, or any export keeping the
// column names), as an Azure diagnostic record (Event Hub or storage:
// {"category":"SQLSecurityAuditEvents","properties":{…}}), or as a Log
// Analytics AzureDiagnostics row, whose columns carry a type suffix
// (statement_s, affected_rows_d, event_time_t). All three give the fields
// under the plain column names, so one rule serves every shape.
package mssqlaudit

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "mssql-audit"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, sniff)
}

// Logsource of SQL Server records; Azure's shapes add Service "azuresql".
var Logsource = event.Logsource{Product: "mssql", Category: "database"}

// Decoder decodes audit records. Values alias its parse buffers and are
// valid until the next Decode.
type Decoder struct {
	p     fastjson.Parser
	flat  *jsonrecord.Flattener
	ev    *event.Event
	c     captured
	azure bool

	// The bound Dict's answer for each name of the names table, asked once
	// per name and Dict: a map lookup for each of a record's ≈ 50 columns
	// was the decoder's largest cost after parsing. dict is held so that
	// the cache cannot outlive it. The answers stay right for an open Dict
	// too: it only adds names, and an id once given does not change.
	dict  *event.Dict
	known [len(names)]uint8 // 0 not asked, wantYes, wantNo
	ids   [len(names)]int32

	toks []token // the record's scalars, by scan
	buf  []byte  // unescaped strings, by take
	slow bool    // always parse with fastjson (tests)
}

const (
	wantYes = 1 + iota
	wantNo
)

// captured holds what the ECS mapping reads, whatever the Dict holds,
// indexed by the slot constants.
type captured [numSlots]string

const (
	noSlot = iota
	sEventTime
	sGenerated
	sTimeKey
	sActionID
	sActionName
	sSucceeded
	sServerPrincipal
	sSessionPrincipal
	sDBPrincipal
	sDatabase
	sStatement
	sClientIP
	sInstance
	sCategory
	numSlots
)

// slots names the columns (and Azure keys) the ECS mapping reads.
var slots = map[string]uint8{
	"event_time":                    sEventTime,
	"TimeGenerated":                 sGenerated,
	"time":                          sTimeKey,
	"action_id":                     sActionID,
	"action_name":                   sActionName,
	"succeeded":                     sSucceeded,
	"server_principal_name":         sServerPrincipal,
	"session_server_principal_name": sSessionPrincipal,
	"database_principal_name":       sDBPrincipal,
	"database_name":                 sDatabase,
	"statement":                     sStatement,
	"client_ip":                     sClientIP,
	"server_instance_name":          sInstance,
	"Category":                      sCategory,
	"category":                      sCategory,
}

// New returns an audit-record decoder.
func New() decode.Decoder {
	d := &Decoder{}
	d.flat = jsonrecord.NewFlattener(d.leaf)
	return d
}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	d.ev, d.c, d.azure = ev, captured{}, false
	if dict := ev.Fields.Dict(); dict != d.dict {
		d.dict, d.known = dict, [len(names)]uint8{}
	}
	if !d.slow && d.scan(rec) {
		d.take()
	} else {
		d.azure = false // scan may have set it
		v, err := d.p.ParseBytes(rec)
		if err != nil {
			d.ev = nil
			return jsonrecord.SyntaxError(Format, rec, err)
		}
		o := v.GetObject()
		if o == nil {
			d.ev = nil
			return jsonrecord.ObjectError(Format, rec, v)
		}
		d.flat.Reset()
		o.Visit(d.top)
	}
	d.ev = nil

	c := &d.c
	// Every audit record has an action and a time (event_time is a
	// column sys.fn_get_audit_file never leaves empty; Azure's shapes add
	// time or TimeGenerated).
	if c[sActionID] == "" {
		return &decode.Error{Format: Format, Offset: -1, Field: "action_id",
			Reason: "not an audit record: no action_id: missing required key action_id (properties.action_id in a diagnostic record, action_id_s in a Log Analytics row)"}
	}
	stamp, field := c[sEventTime], "event_time"
	if stamp == "" {
		stamp, field = first(c[sGenerated], c[sTimeKey]), "TimeGenerated"
	}
	if stamp == "" {
		return jsonrecord.Missing(Format, "", "event_time (or time, TimeGenerated)")
	}
	t, ok := jsonrecord.ParseTime(stamp)
	if !ok {
		return &decode.Error{Format: Format, Offset: -1, Field: field, Reason: "unreadable time stamp " + decode.QuoteValue(stamp)}
	}
	ev.Time = t
	ev.Logsource = Logsource
	com := &ev.Common
	if d.azure || c[sCategory] == "SQLSecurityAuditEvents" {
		ev.Logsource.Service = "azuresql"
		com[event.CloudProvider] = "azure"
	}
	id := strings.TrimSpace(c[sActionID]) // char(4): "BCM "
	com[event.EventCode] = id
	com[event.Message] = c[sActionName]
	switch strings.ToLower(c[sSucceeded]) {
	case "true", "1":
		com[event.EventOutcome] = "success"
	case "false", "0":
		com[event.EventOutcome] = "failure"
	}
	switch id {
	case "LGIS", "DBAS":
		com[event.EventAction], com[event.EventCategory] = actionConnect, "authentication"
	case "LGIF", "DBAF":
		com[event.EventAction], com[event.EventCategory] = actionLoginFailed, "authentication"
		com[event.EventOutcome] = "failure"
	case "LGO", "DBAL":
		com[event.EventAction], com[event.EventCategory] = actionDisconnect, "session"
	default:
		if c[sStatement] != "" {
			com[event.EventAction], com[event.EventCategory] = actionStatement, "database"
		}
	}
	user := first(c[sServerPrincipal], c[sSessionPrincipal])
	com[event.UserName] = user
	com[event.DBUser] = first(c[sDBPrincipal], user)
	com[event.DBName] = c[sDatabase]
	com[event.DBStatement] = c[sStatement]
	com[event.HostName] = c[sInstance]
	if _, err := netip.ParseAddr(c[sClientIP]); err == nil {
		com[event.SourceIP] = c[sClientIP]
	}
	return nil
}

// The actions, shared with the other SQL decoders (postgres, mysql).
const (
	actionConnect     = "connect"
	actionLoginFailed = "login-failed"
	actionDisconnect  = "disconnect"
	actionStatement   = "statement"
)

// top takes one key of the record. The scalars of the top level and of a
// diagnostic record's properties, nearly all of a record, go to leaf
// directly; nested values go through the Flattener, which names them the
// same way.
func (d *Decoder) top(k []byte, v *fastjson.Value) {
	if o := v.GetObject(); o != nil {
		if string(k) == "properties" {
			// A diagnostic record: the columns are inside.
			d.azure = true
			o.Visit(d.inner)
			return
		}
		d.flat.Walk(k, v)
		return
	}
	if v.GetArray() != nil {
		d.flat.Walk(k, v)
		return
	}
	d.leaf(k, v)
}

// inner takes one key of a diagnostic record's properties, named without
// a prefix.
func (d *Decoder) inner(k []byte, v *fastjson.Value) {
	if v.GetObject() != nil || v.GetArray() != nil {
		d.flat.Walk(k, v)
		return
	}
	d.leaf(k, v)
}

// leaf takes one scalar (or null) under its flattened name. It unescapes
// or formats the value only when the Dict or the ECS mapping wants it.
func (d *Decoder) leaf(name []byte, v *fastjson.Value) {
	id, keep, p := d.want(name)
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

// want says whether the Dict wants name, under which id, and where the ECS
// mapping wants its value (nil if nowhere, or already filled).
func (d *Decoder) want(name []byte) (id int32, keep bool, p *string) {
	if i := lookup(name); i >= 0 {
		switch d.known[i] {
		case wantYes:
			id, keep = d.ids[i], true
		case 0:
			if d.dict != nil {
				id, keep = d.dict.ID(names[i].name)
			}
			d.ids[i], d.known[i] = id, wantNo
			if keep {
				d.known[i] = wantYes
			}
		}
		if sl := names[i].slot; sl != noSlot && d.c[sl] == "" {
			p = &d.c[sl]
		}
	} else if d.dict != nil {
		id, keep = d.dict.IDBytes(name)
	}
	return id, keep, p
}

// A name of the names table: an audit column, or a key of Azure's shapes.
type nameInfo struct {
	name   string
	column bool  // a column of the audit schema, whose type suffix goes
	slot   uint8 // where the ECS mapping reads it, noSlot if it does not
}

// names are the names the decoder knows without asking a map: the
// columns, and the keys Azure's shapes put beside them. Other names (nested
// ones, unknown columns) go to the Dict as they are.
var names = [...]nameInfo{
	// sys.fn_get_audit_file's columns (SQL Server 2022, Azure SQL).
	{name: "event_time"}, {name: "sequence_number"}, {name: "action_id"}, {name: "action_name"}, {name: "succeeded"},
	{name: "permission_bitmask"}, {name: "is_column_permission"}, {name: "session_id"}, {name: "server_principal_id"}, {name: "database_principal_id"},
	{name: "target_server_principal_id"}, {name: "target_database_principal_id"}, {name: "object_id"}, {name: "class_type"}, {name: "class_type_description"},
	{name: "securable_class_type"}, {name: "session_server_principal_name"}, {name: "server_principal_name"}, {name: "server_principal_sid"},
	{name: "database_principal_name"}, {name: "target_server_principal_name"}, {name: "target_server_principal_sid"},
	{name: "target_database_principal_name"}, {name: "server_instance_name"}, {name: "database_name"}, {name: "schema_name"}, {name: "object_name"}, {name: "statement"},
	{name: "additional_information"}, {name: "file_name"}, {name: "audit_file_offset"}, {name: "user_defined_event_id"}, {name: "user_defined_information"},
	{name: "audit_schema_version"}, {name: "sequence_group_id"}, {name: "transaction_id"}, {name: "client_ip"}, {name: "application_name"},
	{name: "duration_milliseconds"}, {name: "response_rows"}, {name: "affected_rows"}, {name: "connection_id"}, {name: "data_sensitivity_information"},
	{name: "host_name"}, {name: "session_context"}, {name: "client_tls_version"}, {name: "database_transaction_id"}, {name: "ledger_start_sequence_number"},
	{name: "is_local_secondary_replica"}, {name: "event_id"}, {name: "is_server_level_audit"}, {name: "obo_middle_tier_app_id"},
	// Azure's keys: a diagnostic record's, then Log Analytics'.
	{name: "time"}, {name: "category"}, {name: "originalEventTimestamp"}, {name: "resourceId"}, {name: "operationName"},
	{name: "properties"}, {name: "TimeGenerated"}, {name: "Category"}, {name: "TenantId"}, {name: "ResourceId"},
	{name: "ResourceGroup"}, {name: "SubscriptionId"}, {name: "ResourceProvider"}, {name: "Resource"}, {name: "ResourceType"},
	{name: "OperationName"}, {name: "LogicalServerName_s"}, {name: "Type"}, {name: "SourceSystem"},
}

const numColumns = 52 // the first names are the columns

// nameTable is an open-addressing hash of names: the index in names plus
// one, 0 for an empty cell.
var nameTable [512]uint8

func init() {
	if names[numColumns-1].name != "obo_middle_tier_app_id" || names[numColumns].name != "time" {
		panic("mssqlaudit: numColumns is stale")
	}
	for i := range names {
		n := &names[i]
		n.column = i < numColumns
		n.slot = slots[n.name]
		h := hashName([]byte(n.name))
		for nameTable[h] != 0 {
			if names[nameTable[h]-1].name == n.name {
				panic("mssqlaudit: name listed twice: " + n.name)
			}
			h = (h + 1) % uint32(len(nameTable))
		}
		nameTable[h] = uint8(i + 1)
	}
}

// hashName mixes the length and the first and last eight bytes: the names
// differ there, and it is a few instructions where a byte loop is dozens.
func hashName(b []byte) uint32 {
	n := len(b)
	var h uint64
	if n >= 8 {
		h = binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 29)
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h = (h ^ uint64(n)) * 0x9E3779B97F4A7C15
	return uint32(h>>55) % uint32(len(nameTable))
}

// find returns the index of name in names, -1 if it is not there.
func find(name []byte) int {
	for h := hashName(name); ; h = (h + 1) % uint32(len(nameTable)) {
		e := nameTable[h]
		if e == 0 {
			return -1
		}
		if names[e-1].name == string(name) {
			return int(e - 1)
		}
	}
}

// lookup returns the index in names of a leaf's name, -1 if it is not
// there. Log Analytics' type suffix goes from a column of the audit schema
// (statement_s → statement); other names, Azure's own (TimeGenerated,
// LogicalServerName_s), stay as they are.
func lookup(name []byte) int {
	if n := len(name); n >= 3 && name[n-2] == '_' {
		switch name[n-1] {
		case 's', 'd', 't', 'g', 'b':
			if i := find(name[:n-2]); i >= 0 && names[i].column {
				return i
			}
		}
	}
	return find(name)
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
