package nsgflow

import "bytes"

// Sniff scores rec as an NSG or VNet flow log record: a JSON object
// holding flow tuples, or a flattened record of one tuple (flow.0).
func Sniff(rec []byte) int {
	if len(rec) > 8192 {
		rec = rec[:8192]
	}
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	if !bytes.Contains(rec, []byte(`"flowTuples"`)) {
		if bytes.Contains(rec, []byte(`"flow.0"`)) && bytes.Contains(rec, []byte(`"flowLogVersion"`)) {
			return 90
		}
		return 0
	}
	if bytes.Contains(rec, []byte("NetworkSecurityGroupFlowEvent")) || bytes.Contains(rec, []byte("FlowLogFlowEvent")) {
		return 95
	}
	return 80
}
