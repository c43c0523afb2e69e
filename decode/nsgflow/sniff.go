package nsgflow

import "bytes"

// Sniff scores rec as an NSG or VNet flow log record: a JSON object
// holding flow tuples.
func Sniff(rec []byte) int {
	if len(rec) > 8192 {
		rec = rec[:8192]
	}
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' || !bytes.Contains(rec, []byte(`"flowTuples"`)) {
		return 0
	}
	if bytes.Contains(rec, []byte("NetworkSecurityGroupFlowEvent")) || bytes.Contains(rec, []byte("FlowLogFlowEvent")) {
		return 95
	}
	return 80
}
