package windows

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// captured holds the values the logsource and the ECS mapping are made
// from, read while walking the record whatever the Dict holds. The first
// value of a name wins.
type captured struct {
	eventID, channel, computer, eventType, keywords, status, nxlogType string

	ipAddress, sourceIP, sourceAddress, ipPort, sourcePort string
	destinationIP, destinationPort, protocol               string

	targetUser, subjectUser, user, targetDomain, subjectDomain string

	image, newProcessName, commandLine, processID, newProcessID string
	parentImage, parentProcessName, targetFilename              string

	timeCreated, timestamp, eventTime, timeGenerated string
}

// slot returns where a field of this name is captured, or nil.
func (c *captured) slot(name []byte) *string {
	switch string(name) {
	case "EventID":
		return &c.eventID
	case "Channel":
		return &c.channel
	case "Computer":
		return &c.computer
	case "EventType":
		return &c.eventType
	case "Keywords":
		return &c.keywords
	case "Status":
		return &c.status
	case "IpAddress":
		return &c.ipAddress
	case "SourceIp":
		return &c.sourceIP
	case "SourceAddress":
		return &c.sourceAddress
	case "IpPort":
		return &c.ipPort
	case "SourcePort":
		return &c.sourcePort
	case "DestinationIp":
		return &c.destinationIP
	case "DestinationPort":
		return &c.destinationPort
	case "Protocol":
		return &c.protocol
	case "TargetUserName":
		return &c.targetUser
	case "SubjectUserName":
		return &c.subjectUser
	case "User":
		return &c.user
	case "TargetDomainName":
		return &c.targetDomain
	case "SubjectDomainName":
		return &c.subjectDomain
	case "Image":
		return &c.image
	case "NewProcessName":
		return &c.newProcessName
	case "CommandLine":
		return &c.commandLine
	case "ProcessId":
		return &c.processID
	case "NewProcessId":
		return &c.newProcessID
	case "ParentImage":
		return &c.parentImage
	case "ParentProcessName":
		return &c.parentProcessName
	case "TargetFilename":
		return &c.targetFilename
	case "TimeCreated":
		return &c.timeCreated
	case "@timestamp":
		return &c.timestamp
	case "EventTime":
		return &c.eventTime
	case "TimeGenerated":
		return &c.timeGenerated
	}
	return nil
}

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
func (d *Decoder) mapCommon(ev *event.Event, id int, service string) {
	c := &d.c
	com := &ev.Common
	com[event.EventCode] = c.eventID
	com[event.HostName] = present(c.computer)

	com[event.SourceIP] = ip(c.ipAddress, c.sourceIP, c.sourceAddress)
	com[event.SourcePort] = port(c.ipPort, c.sourcePort)
	com[event.DestinationIP] = ip(c.destinationIP)
	com[event.DestinationPort] = port(c.destinationPort)
	if c.protocol != "" {
		com[event.NetworkTransport] = c.protocol
	}

	switch {
	case present(c.targetUser) != "":
		com[event.UserName] = c.targetUser
		com[event.UserDomain] = present(c.targetDomain)
	case present(c.subjectUser) != "":
		com[event.UserName] = c.subjectUser
		com[event.UserDomain] = present(c.subjectDomain)
	case present(c.user) != "":
		// Sysmon writes DOMAIN\user.
		if i := strings.IndexByte(c.user, '\\'); i >= 0 {
			com[event.UserDomain], com[event.UserName] = c.user[:i], c.user[i+1:]
		} else {
			com[event.UserName] = c.user
		}
	}

	exe := first(c.image, c.newProcessName)
	com[event.ProcessExecutable] = exe
	com[event.ProcessName] = baseName(exe)
	com[event.ProcessCommandLine] = present(c.commandLine)
	com[event.ProcessParentExecutable] = first(c.parentImage, c.parentProcessName)
	// In 4688 ProcessId is the creator; the new process is NewProcessId.
	com[event.ProcessPID] = d.pid(first(c.newProcessID, c.processID))
	com[event.FilePath] = present(c.targetFilename)

	if service == "security" {
		if how, ok := securityAuth[id]; ok {
			com[event.EventCategory] = "authentication"
			switch how {
			case "status":
				if c.status != "" {
					if c.status == "0x0" || c.status == "0" {
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
		com[event.EventOutcome] = auditOutcome(c.keywords, c.nxlogType)
	}
	if com[event.EventCategory] == "" {
		com[event.EventCategory] = ecsCategories[ev.Logsource.Category]
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

// baseName is the file name of a Windows or POSIX path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// pid returns a process id in decimal; Security events write it in hex.
func (d *Decoder) pid(s string) string {
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return s
	}
	n, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		return s
	}
	b := strconv.AppendUint(d.pidBuf[:0], n, 10)
	return bytesString(b)
}
