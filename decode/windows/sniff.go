package windows

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as a Windows event in JSON: an object with, at its top
// level, an EventID (flat, NXLog, Log Analytics), an Event holding one
// (evtx_dump) or a winlog object (Winlogbeat). A record wrapped in another
// object is not claimed: the decoder refuses it.
func Sniff(rec []byte) int {
	if jsonrecord.Sniff(rec) == 0 {
		return 0
	}
	k := jsonrecord.TopKeys(rec, false, "EventID", "winlog", "Event")
	if k&0b011 != 0 || k&0b100 != 0 && bytes.Contains(rec, []byte(`"EventID"`)) {
		return 80
	}
	return 0
}
