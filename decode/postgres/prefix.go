package postgres

import (
	"strings"

	"github.com/vigil-sec/vigil/decode"
)

// keys are the prefix keys read, each the column it fills. The recommended
// prefix (docs/sql-audit.md) is
//
//	'%m [%p] %qsession=%c,user=%u,db=%d,app=%a,client=%r,sqlstate=%e '
//
// and pgBadger's "user=%u,db=%d,app=%a,client=%h" reads as well.
var keys = [...]struct {
	name string
	col  int
}{
	{"user", colUser}, {"usr", colUser}, {"db", colDB}, {"database", colDB}, {"dbname", colDB},
	{"app", colApp}, {"appname", colApp}, {"application_name", colApp},
	{"client", colClient}, {"host", colClient}, {"remote", colClient}, {"rhost", colClient},
	{"session", colSession}, {"session_id", colSession}, {"sqlstate", colSQLState}, {"state", colSQLState},
	{"xid", colTXID}, {"txid", colTXID}, {"vxid", colVXID}, {"line", colLine},
	{"backend", colBackend}, {"backend_type", colBackend}, {"query_id", colQueryID}, {"pid", colPID},
}

const (
	colUser = iota
	colDB
	colApp
	colClient
	colSession
	colSQLState
	colTXID
	colVXID
	colLine
	colBackend
	colQueryID
	colPID
)

func (e *entry) setColumn(col int, v string) {
	if v == "[unknown]" || v == "" {
		return
	}
	switch col {
	case colUser:
		e.user = v
	case colDB:
		e.db = v
	case colApp:
		e.app = v
	case colClient:
		e.host, e.port = splitClient(v)
	case colSession:
		e.session = v
	case colSQLState:
		e.sqlstate = v
	case colTXID:
		e.txid = v
	case colVXID:
		e.vxid = v
	case colLine:
		e.sessionLine = v
	case colBackend:
		e.backendType = v
	case colQueryID:
		e.queryID = v
	case colPID:
		e.pid = v
	}
}

// splitClient splits %r's "host(port)", or "host:port" for an IPv4 address
// or a name; %h and "[local]" have no port.
func splitClient(v string) (host, port string) {
	if i := strings.IndexByte(v, '('); i > 0 && strings.HasSuffix(v, ")") {
		return v[:i], v[i+1 : len(v)-1]
	}
	if i := strings.IndexByte(v, ':'); i > 0 && strings.LastIndexByte(v, ':') == i {
		return v[:i], v[i+1:]
	}
	return v, ""
}

// parsePrefix reads the prefix before the severity into e.
func parsePrefix(p string, e *entry) error {
	i := 0
	// %m "2024-05-06 08:00:00.123 UTC" or %t "2024-05-06 08:00:00 UTC".
	if len(p) >= 19 && p[4] == '-' && p[10] == ' ' && p[13] == ':' {
		end := 19
		for end < len(p) && p[end] != ' ' {
			end++
		}
		// The zone, when the next word is not the pid or a key.
		if z := end + 1; z < len(p) && p[z] != '[' {
			ze := z
			for ze < len(p) && p[ze] != ' ' {
				ze++
			}
			if w := p[z:ze]; !strings.ContainsAny(w, "=@") && isZoneAbbrev(w) {
				end = ze
			}
		}
		e.time = p[:end]
		i = end
	}
	for i < len(p) && p[i] == ' ' {
		i++
	}
	// "[%p]", "[%p-%l]" (pgBadger), either with a colon after.
	if i < len(p) && p[i] == '[' {
		end := strings.IndexByte(p[i:], ']')
		if end < 0 {
			return stderrError(i, "unterminated \"[\" in the prefix")
		}
		pid := p[i+1 : i+end]
		if j := strings.IndexByte(pid, '-'); j >= 0 {
			e.sessionLine = pid[j+1:]
			pid = pid[:j]
		}
		if !digitsOnly(pid) {
			return &decode.Error{Format: Format, Offset: i + 1, Field: "process_id", Reason: "process id is not a number"}
		}
		e.pid = pid
		i += end + 1
		if i < len(p) && p[i] == ':' {
			i++
		}
	}
	parsePairs(strings.TrimSpace(p[i:]), e)
	return nil
}

// parsePairs reads key=value pairs separated by ',' or ' '. A value runs to
// the next separator followed by a known key and '=', so that an
// application name may hold spaces and commas. Without any pair, "u@d" is
// Debian's "%u@%d".
func parsePairs(r string, e *entry) {
	col, val := -1, 0
	found := false
	for i := 0; i < len(r); i++ {
		if i > 0 && r[i-1] != ',' && r[i-1] != ' ' {
			continue
		}
		c, n := keyAt(r[i:])
		if n == 0 {
			continue
		}
		if col >= 0 {
			e.setColumn(col, strings.TrimRight(r[val:i-1], " ,:"))
		}
		col, val, found = c, i+n, true
		i += n - 1
	}
	if col >= 0 {
		e.setColumn(col, strings.TrimRight(r[val:], " ,:"))
	}
	if !found && r != "" && !strings.ContainsAny(r, " =") {
		if u, d, ok := strings.Cut(strings.TrimRight(r, ":"), "@"); ok {
			e.setColumn(colUser, u)
			e.setColumn(colDB, d)
		}
	}
}

// keyAt reports the column of the key=... at the start of s and the length
// of "key=".
func keyAt(s string) (col, n int) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 || eq > 16 {
		return 0, 0
	}
	for _, k := range keys {
		if s[:eq] == k.name {
			return k.col, eq + 1
		}
	}
	return 0, 0
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
