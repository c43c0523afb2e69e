package nsgflow

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// Sniff scores rec as an NSG or VNet flow log record: a JSON object
// holding flow tuples under a top-level properties or flowRecords, or a
// flattened record of one tuple (flow.0).
func Sniff(rec []byte) int {
	if len(rec) > 8192 {
		rec = rec[:8192]
	}
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	if !bytes.Contains(rec, []byte(`"flowTuples"`)) {
		if jsonrecord.TopKeys(rec, false, "flow.0", "flowLogVersion") == 0b11 {
			return 90
		}
		return 0
	}
	if jsonrecord.TopKeys(rec, false, "properties", "flowRecords") == 0 {
		return 0
	}
	if bytes.Contains(rec, []byte("NetworkSecurityGroupFlowEvent")) || bytes.Contains(rec, []byte("FlowLogFlowEvent")) {
		return 95
	}
	return 80
}
