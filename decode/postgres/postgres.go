// Package postgres decodes PostgreSQL server logs in their three
// destinations: stderr (the text log, with any log_line_prefix), csvlog and
// jsonlog (PostgreSQL 15+). Connections, failed authentications,
// statements (log_statement, log_min_duration_statement), errors with the
// statement that caused them, and pgaudit's AUDIT lines become events with
// the database, user, client address and statement as ECS fields, so that
// SQL injection, brute-force and unusual-access detections work on them.
//
// The three formats give the same fields under the same names (csvlog's
// column names), so that one rule serves whichever destination a server
// writes.
package postgres

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// The names the decoders are registered under.
const (
	Format     = "postgres"      // stderr text log
	FormatCSV  = "postgres-csv"  // csvlog
	FormatJSON = "postgres-json" // jsonlog
)

func init() {
	decode.Register(Format, New)
	decode.Register(FormatCSV, NewCSV)
	decode.Register(FormatJSON, NewJSON)
	decode.RegisterSniffer(Format, sniffStderr)
	decode.RegisterSniffer(FormatCSV, sniffCSV)
	decode.RegisterSniffer(FormatJSON, sniffJSON)
}

// Logsource is what every PostgreSQL event is routed by.
var Logsource = event.Logsource{Product: "postgresql", Category: "database"}

// entry is one log message whatever the destination wrote it as: csvlog's
// columns, which the stderr prefix and the jsonlog keys map onto. Empty
// means absent.
type entry struct {
	time                                  string
	user, db, app, host, port, pid        string
	session, sessionLine, commandTag      string
	backendType, vxid, txid, queryID      string
	severity, sqlstate                    string
	message, detail, hint, context, query string
	internalQuery                         string
}

// Names of the fields the decoders store (csvlog's columns, then what the
// message says).
var (
	fUser          = []byte("user_name")
	fDB            = []byte("database_name")
	fPID           = []byte("process_id")
	fHost          = []byte("remote_host")
	fPort          = []byte("remote_port")
	fSession       = []byte("session_id")
	fSessionLine   = []byte("session_line_num")
	fCommandTag    = []byte("command_tag")
	fApp           = []byte("application_name")
	fBackendType   = []byte("backend_type")
	fVXID          = []byte("virtual_transaction_id")
	fTXID          = []byte("transaction_id")
	fQueryID       = []byte("query_id")
	fSeverity      = []byte("error_severity")
	fSQLState      = []byte("sql_state_code")
	fMessage       = []byte("message")
	fDetail        = []byte("detail")
	fHint          = []byte("hint")
	fContext       = []byte("context")
	fQuery         = []byte("query")
	fInternalQuery = []byte("internal_query")
	fStatement     = []byte("statement")
	fDuration      = []byte("duration_ms")
	fSessionTime   = []byte("session_time")
	fAuthIdentity  = []byte("auth_identity")
	fAuthMethod    = []byte("auth_method")
	fAuditType     = []byte("audit_type")
	fStatementID   = []byte("statement_id")
	fSubstatement  = []byte("substatement_id")
	fClass         = []byte("class")
	fCommand       = []byte("command")
	fObjectType    = []byte("object_type")
	fObjectName    = []byte("object_name")
	fParameter     = []byte("parameter")
)

// fill sets ev from e: time, logsource, the fields, and the common fields
// from the fields and from what the message says. format names the decoder
// in errors.
func fill(ev *event.Event, e *entry, format string, loc *time.Location, buf *[]byte) error {
	if e.time != "" {
		t, ok := parseStamp(e.time, loc)
		if !ok {
			return &decode.Error{Format: format, Offset: -1, Field: "timestamp", Reason: "unreadable time stamp"}
		}
		ev.Time = t
	}
	ev.Logsource = Logsource
	if e.sqlstate == "00000" { // successful_completion, on every line %e writes: says nothing
		e.sqlstate = ""
	}
	m := classify(e, buf)

	f := &ev.Fields
	set := func(name []byte, v string) {
		if v != "" {
			f.SetName(name, v)
		}
	}
	set(fUser, e.user)
	set(fDB, e.db)
	set(fPID, e.pid)
	set(fHost, e.host)
	set(fPort, e.port)
	set(fSession, e.session)
	set(fSessionLine, e.sessionLine)
	set(fCommandTag, e.commandTag)
	set(fApp, e.app)
	set(fBackendType, e.backendType)
	set(fVXID, e.vxid)
	set(fTXID, e.txid)
	set(fQueryID, e.queryID)
	set(fSeverity, e.severity)
	set(fSQLState, e.sqlstate)
	set(fMessage, e.message)
	set(fDetail, e.detail)
	set(fHint, e.hint)
	set(fContext, e.context)
	set(fQuery, e.query)
	set(fInternalQuery, e.internalQuery)
	set(fStatement, m.statement)
	set(fDuration, m.duration)
	set(fSessionTime, m.sessionTime)
	set(fAuthIdentity, m.identity)
	set(fAuthMethod, m.method)
	if a := &m.audit; a.class != "" {
		set(fAuditType, a.auditType)
		set(fStatementID, a.statementID)
		set(fSubstatement, a.substatementID)
		set(fClass, a.class)
		set(fCommand, a.command)
		set(fObjectType, a.objectType)
		set(fObjectName, a.objectName)
		set(fParameter, a.parameter)
	}

	c := &ev.Common
	c[event.Message] = e.message
	c[event.EventAction] = m.action
	c[event.EventOutcome] = m.outcome
	c[event.EventCategory] = m.category
	c[event.DBStatement] = m.statement
	c[event.ProcessPID] = e.pid
	c[event.EventCode] = e.sqlstate
	// The message names the user, database and client on the lines that
	// matter most (logins), where a short prefix may not.
	user := first(e.user, m.user)
	c[event.DBUser] = user
	c[event.UserName] = user
	c[event.DBName] = first(e.db, m.db)
	host, port := first(e.host, m.host), first(e.port, m.port)
	if isIP(host) {
		c[event.SourceIP] = host
		c[event.SourcePort] = port
	}
	return nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
