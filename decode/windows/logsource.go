package windows

import "strings"

// channelServices maps a channel to the Sigma logsource service, compared
// case-insensitively (exports spell "Security" as "security" too). A
// prefix entry, ending in '/', covers every channel under it.
var channelServices = []struct{ channel, service string }{
	{"Security", "security"},
	{"System", "system"},
	{"Application", "application"},
	{"Microsoft-Windows-Sysmon/Operational", "sysmon"},
	{"Windows PowerShell", "powershell-classic"},
	{"Microsoft-Windows-PowerShell/Operational", "powershell"},
	{"PowerShellCore/Operational", "powershell"},
	{"Microsoft-Windows-TaskScheduler/Operational", "taskscheduler"},
	{"Microsoft-Windows-WMI-Activity/Operational", "wmi"},
	{"Microsoft-Windows-Windows Defender/Operational", "windefend"},
	{"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall", "firewall-as"},
	{"Microsoft-Windows-DNS-Client/Operational", "dns-client"},
	{"DNS Server", "dns-server"},
	{"Microsoft-Windows-Bits-Client/Operational", "bits-client"},
	{"Microsoft-Windows-CodeIntegrity/Operational", "codeintegrity-operational"},
	{"Microsoft-Windows-NTLM/Operational", "ntlm"},
	{"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", "terminalservices-localsessionmanager"},
	{"Microsoft-Windows-DriverFrameworks-UserMode/Operational", "driver-framework"},
	{"Microsoft-Windows-SMBClient/Security", "smbclient-security"},
	{"Microsoft-Windows-PrintService/Admin", "printservice-admin"},
	{"Microsoft-Windows-PrintService/Operational", "printservice-operational"},
	{"Microsoft-Windows-Shell-Core/Operational", "shell-core"},
	{"OpenSSH/Operational", "openssh"},
	{"Microsoft-Windows-LDAP-Client/Debug", "ldap_debug"},
	{"Microsoft-Windows-AppLocker/", "applocker"},
	{"Microsoft-Windows-Security-Mitigations/", "security-mitigations"},
}

// exactServices answers the usual spelling without the case-folding scan.
var exactServices = func() map[string]string {
	m := make(map[string]string, len(channelServices))
	for _, cs := range channelServices {
		if !strings.HasSuffix(cs.channel, "/") {
			m[cs.channel] = cs.service
		}
	}
	return m
}()

// serviceMemo remembers the service of the last channel looked up: a
// source's records mostly share their channel, and one the list does not
// name costs a case-folding compare with every entry. It keeps its own
// copy of the channel, which is a slice of the record.
type serviceMemo struct {
	channel [96]byte
	n       int // len of the channel remembered
	known   bool
	service string
}

// of is serviceOf(channel), remembered; a nil memo only looks it up.
func (m *serviceMemo) of(channel string) string {
	if m == nil {
		return serviceOf(channel)
	}
	if m.known && len(channel) == m.n && string(m.channel[:m.n]) == channel {
		return m.service
	}
	s := serviceOf(channel)
	if len(channel) <= len(m.channel) {
		m.n = copy(m.channel[:], channel)
		m.known, m.service = true, s
	}
	return s
}

func serviceOf(channel string) string {
	if s, ok := exactServices[channel]; ok {
		return s
	}
	for _, cs := range channelServices {
		if strings.HasSuffix(cs.channel, "/") {
			if len(channel) > len(cs.channel) && strings.EqualFold(channel[:len(cs.channel)], cs.channel) {
				return cs.service
			}
			continue
		}
		if strings.EqualFold(channel, cs.channel) {
			return cs.service
		}
	}
	return ""
}

// sysmonCategories maps a Sysmon EventID to the Sigma logsource category.
// 12 is settled by EventType in categoryOf.
var sysmonCategories = [256]string{
	1:   "process_creation",
	2:   "file_change",
	3:   "network_connection",
	4:   "sysmon_status",
	5:   "process_termination",
	6:   "driver_load",
	7:   "image_load",
	8:   "create_remote_thread",
	9:   "raw_access_thread",
	10:  "process_access",
	11:  "file_event",
	12:  "registry_add",
	13:  "registry_set",
	14:  "registry_rename",
	15:  "create_stream_hash",
	16:  "sysmon_status",
	17:  "pipe_created",
	18:  "pipe_created",
	19:  "wmi_event",
	20:  "wmi_event",
	21:  "wmi_event",
	22:  "dns_query",
	23:  "file_delete",
	25:  "process_tampering",
	26:  "file_delete",
	27:  "file_block_executable",
	28:  "file_block_shredding",
	29:  "file_executable_detected",
	255: "sysmon_error",
}

// categoryOf returns the Sigma category an event of service and id falls in.
func categoryOf(service string, id int, eventType string) string {
	switch service {
	case "sysmon":
		if id == 12 && strings.HasPrefix(eventType, "Delete") {
			return "registry_delete" // DeleteKey, DeleteValue
		}
		if id >= 0 && id < len(sysmonCategories) {
			return sysmonCategories[id]
		}
	case "security":
		if id == 4688 {
			return "process_creation"
		}
	case "powershell":
		switch id {
		case 4104:
			return "ps_script"
		case 4103:
			return "ps_module"
		}
	case "powershell-classic":
		switch id {
		case 400:
			return "ps_classic_start"
		case 600:
			return "ps_classic_provider_start"
		case 800:
			return "ps_classic_script"
		}
	}
	return ""
}

// ecsCategory maps a Sigma category to ECS event.category. A switch: it
// runs for every event, and needs no hashing of the name.
func ecsCategory(category string) string {
	switch category {
	case "process_creation", "process_termination", "process_access":
		return "process"
	case "network_connection", "dns_query":
		return "network"
	case "file_event", "file_change", "file_delete":
		return "file"
	case "registry_add", "registry_delete", "registry_set", "registry_rename":
		return "registry"
	case "driver_load":
		return "driver"
	case "image_load":
		return "library"
	}
	return ""
}
