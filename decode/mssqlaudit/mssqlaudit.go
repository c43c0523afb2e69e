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
	"net/netip"
	"strconv"
	"strings"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
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
	flat  *jsondec.Flattener
	ev    *event.Event
	c     captured
	azure bool
}

// captured holds what the ECS mapping reads, whatever the Dict holds.
type captured struct {
	eventTime, generated, timeKey                  string
	actionID, actionName, succeeded                string
	serverPrincipal, sessionPrincipal, dbPrincipal string
	database, statement, clientIP, instance        string
	category                                       string
}

func (c *captured) slot(name string) *string {
	switch name {
	case "event_time":
		return &c.eventTime
	case "TimeGenerated":
		return &c.generated
	case "time":
		return &c.timeKey
	case "action_id":
		return &c.actionID
	case "action_name":
		return &c.actionName
	case "succeeded":
		return &c.succeeded
	case "server_principal_name":
		return &c.serverPrincipal
	case "session_server_principal_name":
		return &c.sessionPrincipal
	case "database_principal_name":
		return &c.dbPrincipal
	case "database_name":
		return &c.database
	case "statement":
		return &c.statement
	case "client_ip":
		return &c.clientIP
	case "server_instance_name":
		return &c.instance
	case "Category", "category":
		return &c.category
	}
	return nil
}

// New returns an audit-record decoder.
func New() decode.Decoder {
	d := &Decoder{}
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
	d.ev, d.c, d.azure = ev, captured{}, false
	d.flat.Reset()
	o.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) == "properties" && v.Type() == fastjson.TypeObject {
			// A diagnostic record: the columns are inside.
			d.azure = true
			d.flat.Walk(nil, v)
			return
		}
		d.flat.Walk(k, v)
	})
	d.ev = nil

	c := &d.c
	if c.actionID == "" {
		return &decode.Error{Format: Format, Offset: -1, Field: "action_id", Reason: "not an audit record: no action_id"}
	}
	stamp, field := c.eventTime, "event_time"
	if stamp == "" {
		stamp, field = first(c.generated, c.timeKey), "TimeGenerated"
	}
	if stamp != "" {
		t, ok := jsondec.ParseTime(stamp)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: field, Reason: "unreadable time stamp " + strconv.Quote(stamp)}
		}
		ev.Time = t
	}
	ev.Logsource = Logsource
	com := &ev.Common
	if d.azure || c.category == "SQLSecurityAuditEvents" {
		ev.Logsource.Service = "azuresql"
		com[event.CloudProvider] = "azure"
	}
	id := strings.TrimSpace(c.actionID) // char(4): "BCM "
	com[event.EventCode] = id
	com[event.Message] = c.actionName
	switch strings.ToLower(c.succeeded) {
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
		if c.statement != "" {
			com[event.EventAction], com[event.EventCategory] = actionStatement, "database"
		}
	}
	user := first(c.serverPrincipal, c.sessionPrincipal)
	com[event.UserName] = user
	com[event.DBUser] = first(c.dbPrincipal, user)
	com[event.DBName] = c.database
	com[event.DBStatement] = c.statement
	com[event.HostName] = c.instance
	if _, err := netip.ParseAddr(c.clientIP); err == nil {
		com[event.SourceIP] = c.clientIP
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

func (d *Decoder) leaf(name []byte, v *fastjson.Value) {
	name = column(name)
	n := bytesString(name)
	var id int32
	keep := false
	if dict := d.ev.Fields.Dict(); dict != nil {
		id, keep = dict.IDBytes(name)
	}
	p := d.c.slot(n)
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

// column strips Log Analytics' type suffix from a column of the audit
// schema (statement_s → statement); other names, Azure's own
// (TimeGenerated, LogicalServerName_s), stay as they are.
func column(name []byte) []byte {
	n := len(name)
	if n < 3 || name[n-2] != '_' {
		return name
	}
	switch name[n-1] {
	case 's', 'd', 't', 'g', 'b':
	default:
		return name
	}
	if _, ok := columns[string(name[:n-2])]; ok {
		return name[:n-2]
	}
	return name
}

// columns are sys.fn_get_audit_file's (SQL Server 2022, Azure SQL).
var columns = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, c := range strings.Fields(`event_time sequence_number action_id action_name succeeded
		permission_bitmask is_column_permission session_id server_principal_id database_principal_id
		target_server_principal_id target_database_principal_id object_id class_type class_type_description
		securable_class_type session_server_principal_name server_principal_name server_principal_sid
		database_principal_name target_server_principal_name target_server_principal_sid
		target_database_principal_name server_instance_name database_name schema_name object_name statement
		additional_information file_name audit_file_offset user_defined_event_id user_defined_information
		audit_schema_version sequence_group_id transaction_id client_ip application_name
		duration_milliseconds response_rows affected_rows connection_id data_sensitivity_information
		host_name session_context client_tls_version database_transaction_id ledger_start_sequence_number
		is_local_secondary_replica event_id is_server_level_audit obo_middle_tier_app_id`) {
		m[c] = struct{}{}
	}
	return m
}()

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
