package cloudtrail

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as a CloudTrail record: an object with eventSource and
// eventName (or their lowercased export spelling) at its top level, naming
// an AWS service. The whole record is looked through, not its head: the
// keys may follow a large userIdentity.
func Sniff(rec []byte) int {
	if jsonrecord.Sniff(rec) == 0 {
		return 0
	}
	k := jsonrecord.TopKeys(rec, false, "eventSource", "eventsource", "eventName", "eventname")
	if k&0b0011 != 0 && k&0b1100 != 0 && bytes.Contains(rec, []byte("amazonaws.com")) {
		return 85
	}
	return 0
}
