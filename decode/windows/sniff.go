package windows

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as a Windows event in JSON: an object with an EventID
// (flat, NXLog, evtx_dump) or a winlog object (Winlogbeat).
func Sniff(rec []byte) int {
	if jsondec.Sniff(rec) == 0 {
		return 0
	}
	if bytes.Contains(rec, []byte(`"EventID"`)) || bytes.Contains(rec, []byte(`"winlog"`)) {
		return 80
	}
	return 0
}
