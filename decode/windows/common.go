package windows

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// securityAuth lists the Security events that are authentication, and how
// their outcome is known: fixed, or from the Status field (0x0 = success).
var securityAuth = map[int]string{
	4624: "success",
	4625: "failure",
	4648: "success",
	4771: "failure",
	4768: "status",
	4769: "status",
	4776: "status",
}

// Keyword bits Windows sets on audit events.
const (
	keywordAuditFailure = 0x0010000000000000
	keywordAuditSuccess = 0x0020000000000000
)

// mapCommon fills the ECS fields from what was captured.
func (c *captured) mapCommon(ev *event.Event, id int, service string) {
	com := &ev.Common
	com[event.EventCode] = c.v[capEventID]
	com[event.HostName] = present(c.v[capComputer])

	com[event.SourceIP] = ip(c.v[capIPAddress], c.v[capSourceIP], c.v[capSourceAddress])
	com[event.SourcePort] = port(c.v[capIPPort], c.v[capSourcePort])
	com[event.DestinationIP] = ip(c.v[capDestinationIP])
	com[event.DestinationPort] = port(c.v[capDestinationPort])
	if c.v[capProtocol] != "" {
		com[event.NetworkTransport] = c.v[capProtocol]
	}

	switch {
	case present(c.v[capTargetUser]) != "":
		com[event.UserName] = c.v[capTargetUser]
		com[event.UserDomain] = present(c.v[capTargetDomain])
	case present(c.v[capSubjectUser]) != "":
		com[event.UserName] = c.v[capSubjectUser]
		com[event.UserDomain] = present(c.v[capSubjectDomain])
	case present(c.v[capUser]) != "":
		// Sysmon writes DOMAIN\user.
		if i := strings.IndexByte(c.v[capUser], '\\'); i >= 0 {
			com[event.UserDomain], com[event.UserName] = c.v[capUser][:i], c.v[capUser][i+1:]
		} else {
			com[event.UserName] = c.v[capUser]
		}
	}

	exe := first(c.v[capImage], c.v[capNewProcessName])
	com[event.ProcessExecutable] = exe
	com[event.ProcessName] = baseName(exe)
	com[event.ProcessCommandLine] = present(c.v[capCommandLine])
	com[event.ProcessParentExecutable] = first(c.v[capParentImage], c.v[capParentProcessName])
	// In 4688 ProcessId is the creator; the new process is NewProcessId.
	com[event.ProcessPID] = c.pid(first(c.v[capNewProcessID], c.v[capProcessID]))
	com[event.FilePath] = present(c.v[capTargetFilename])

	if service == "security" {
		if how, ok := securityAuth[id]; ok {
			com[event.EventCategory] = "authentication"
			switch how {
			case "status":
				if c.v[capStatus] != "" {
					if c.v[capStatus] == "0x0" || c.v[capStatus] == "0" {
						com[event.EventOutcome] = "success"
					} else {
						com[event.EventOutcome] = "failure"
					}
				}
			default:
				com[event.EventOutcome] = how
			}
		}
	}
	if com[event.EventOutcome] == "" {
		com[event.EventOutcome] = auditOutcome(c.v[capKeywords], c.nxlogType)
	}
	if com[event.EventCategory] == "" {
		com[event.EventCategory] = ecsCategory(ev.Logsource.Category)
	}
}

// auditOutcome reads success or failure from the audit keywords (hex as in
// the event XML, or the names Winlogbeat writes) or NXLog's EventType.
func auditOutcome(keywords, nxlogType string) string {
	switch {
	case strings.HasPrefix(keywords, "0x") || strings.HasPrefix(keywords, "0X"):
		k, err := strconv.ParseUint(keywords[2:], 16, 64)
		if err == nil && k&keywordAuditFailure != 0 {
			return "failure"
		}
		if err == nil && k&keywordAuditSuccess != 0 {
			return "success"
		}
	case keywords != "" && (keywords[0] == '-' || keywords[0] >= '0' && keywords[0] <= '9'):
		// NXLog writes the 64-bit mask as a signed decimal.
		k, err := strconv.ParseInt(keywords, 10, 64)
		if err == nil && uint64(k)&keywordAuditFailure != 0 {
			return "failure"
		}
		if err == nil && uint64(k)&keywordAuditSuccess != 0 {
			return "success"
		}
	case keywords == "Audit Success":
		return "success"
	case keywords == "Audit Failure":
		return "failure"
	}
	switch nxlogType {
	case "AUDIT_SUCCESS":
		return "success"
	case "AUDIT_FAILURE":
		return "failure"
	}
	return ""
}

// present drops the placeholders Windows writes for "no value".
func present(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func first(ss ...string) string {
	for _, s := range ss {
		if s = present(s); s != "" {
			return s
		}
	}
	return ""
}

// ip returns the first value that is an IP address, with an IPv4-mapped
// IPv6 address ("::ffff:10.0.0.1", as Security logs write) shortened to
// IPv4 so that it matches IPv4 indicators.
func ip(ss ...string) string {
	for _, s := range ss {
		if s == "" || s == "-" {
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		if a.Is4In6() {
			if i := strings.LastIndexByte(s, ':'); i >= 0 {
				return s[i+1:]
			}
		}
		return s
	}
	return ""
}

// port returns the first value that is a port; "0" means none in Security
// events.
func port(ss ...string) string {
	for _, s := range ss {
		if s == "" || s == "-" || s == "0" {
			continue
		}
		return s
	}
	return ""
}

// baseName is the file name of a Windows or POSIX path. The file name is
// short, so a loop from the end beats strings.LastIndexAny's set.
func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '\\' || p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// pid returns a process id in decimal; Security events write it in hex.
func (c *captured) pid(s string) string {
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return s
	}
	n, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		return s
	}
	b := strconv.AppendUint(c.pidBuf[:0], n, 10)
	return bytesString(b)
}
