package windows

// captured holds the values the logsource and the ECS mapping are made
// from, read while walking the record whatever the Dict holds. The first
// value of a name wins. The values are kept by index (capEventID, …) so
// that a key's slot is found without a branch once its index is known.
type captured struct {
	v         [numCaptured]string
	nxlogType string // NXLog's EventType when it is a severity

	pidBuf [20]byte // decimal form of a hex process id
}

// slot returns where a field of this name is captured, or nil.
func (c *captured) slot(name []byte) *string { return c.at(captureIndex(name)) }

// The captured values by index, so that a key's slot can be looked up once
// and remembered (keyCache).
const (
	capNone int8 = iota - 1
	capEventID
	capChannel
	capComputer
	capEventType
	capKeywords
	capStatus
	capIPAddress
	capSourceIP
	capSourceAddress
	capIPPort
	capSourcePort
	capDestinationIP
	capDestinationPort
	capProtocol
	capTargetUser
	capSubjectUser
	capUser
	capTargetDomain
	capSubjectDomain
	capImage
	capNewProcessName
	capCommandLine
	capProcessID
	capNewProcessID
	capParentImage
	capParentProcessName
	capTargetFilename
	capTimeCreated
	capTimestamp
	capEventTime
	capTimeGenerated
	numCaptured
)

// captureIndex returns the index of the slot a field of this name is
// captured in, or capNone.
func captureIndex(name []byte) int8 {
	switch string(name) {
	case "EventID":
		return capEventID
	case "Channel":
		return capChannel
	case "Computer":
		return capComputer
	case "EventType":
		return capEventType
	case "Keywords":
		return capKeywords
	case "Status":
		return capStatus
	case "IpAddress":
		return capIPAddress
	case "SourceIp":
		return capSourceIP
	case "SourceAddress":
		return capSourceAddress
	case "IpPort":
		return capIPPort
	case "SourcePort":
		return capSourcePort
	case "DestinationIp":
		return capDestinationIP
	case "DestinationPort":
		return capDestinationPort
	case "Protocol":
		return capProtocol
	case "TargetUserName":
		return capTargetUser
	case "SubjectUserName":
		return capSubjectUser
	case "User":
		return capUser
	case "TargetDomainName":
		return capTargetDomain
	case "SubjectDomainName":
		return capSubjectDomain
	case "Image":
		return capImage
	case "NewProcessName":
		return capNewProcessName
	case "CommandLine":
		return capCommandLine
	case "ProcessId":
		return capProcessID
	case "NewProcessId":
		return capNewProcessID
	case "ParentImage":
		return capParentImage
	case "ParentProcessName":
		return capParentProcessName
	case "TargetFilename":
		return capTargetFilename
	case "TimeCreated":
		return capTimeCreated
	case "@timestamp":
		return capTimestamp
	case "EventTime":
		return capEventTime
	case "TimeGenerated":
		return capTimeGenerated
	}
	return capNone
}

// at returns the slot of index i, or nil for capNone.
func (c *captured) at(i int8) *string {
	if i < 0 {
		return nil
	}
	return &c.v[i]
}

// unfilled is at(i) while the slot is empty, and nil once a value is in:
// the first value of a name wins.
func (c *captured) unfilled(i int8) *string {
	if i < 0 || c.v[i] != "" {
		return nil
	}
	return &c.v[i]
}
