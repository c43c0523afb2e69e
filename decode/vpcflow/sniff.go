package vpcflow

import (
	"bytes"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// Sniff scores rec as a flow log record: a header line of flow log field
// names, a default-format line (version, account, interface, two
// addresses, …, log status), or a JSON object with flow log field names.
func Sniff(rec []byte) int {
	if len(rec) > 4096 {
		rec = rec[:4096]
	}
	rec = bytes.TrimSpace(rec)
	if len(rec) == 0 {
		return 0
	}
	if rec[0] == '{' {
		// Keys at the top level only: a flow record wrapped in another
		// object is not one.
		k := jsonrecord.TopKeys(rec, false, "srcaddr", "dstaddr", "log-status", "interface-id", "srcAddr", "dstAddr", "interfaceId",
			"p_log_type", "dst_endpoint", "src_endpoint", "class_uid")
		switch {
		case k&0b111_1111 != 0, k&(1<<7) != 0 && bytes.Contains(rec, []byte(`"AWS.VPCFlow"`)):
			return 80
		case k&(0b11<<8) != 0, k&(1<<10) != 0 && bytes.Contains(rec, []byte(`"class_uid":4001`)),
			k&(1<<7) != 0 && bytes.Contains(rec, []byte(`"OCSF.NetworkActivity"`)):
			// OCSF Network Activity (class 4001), as security lakes keep
			// flows.
			return 70
		}
		return 0
	}
	toks := strings.Fields(string(rec))
	if n, ok := canonicalName(toks[0]); ok && nameLike(n) {
		for _, t := range toks {
			if n, ok := canonicalName(t); !ok && !nameLike(n) {
				return 0
			}
		}
		return 90
	}
	if len(toks) != len(DefaultFields) {
		// A custom format's line, without its header: an interface id
		// and an action or log status give it away.
		var eni, status bool
		for _, t := range toks {
			eni = eni || strings.HasPrefix(t, "eni-")
			status = status || t == "ACCEPT" || t == "REJECT" || t == "NODATA" || t == "SKIPDATA"
		}
		if eni && status && len(toks) >= 5 {
			return 60
		}
		return 0
	}
	if _, ok := number(toks[0]); !ok {
		return 0
	}
	addrs := (toks[3] == "-" || addr.IP(toks[3]) != "") && (toks[4] == "-" || addr.IP(toks[4]) != "")
	if st := toks[13]; addrs && (st == "OK" || st == "NODATA" || st == "SKIPDATA") {
		return 90
	}
	return 0
}
