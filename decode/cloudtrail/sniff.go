package cloudtrail

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as a CloudTrail record: an object with eventSource and
// eventName (or their lowercased export spelling) naming an AWS service.
func Sniff(rec []byte) int {
	if jsondec.Sniff(rec) == 0 {
		return 0
	}
	has := func(a, b string) bool { return bytes.Contains(rec, []byte(a)) || bytes.Contains(rec, []byte(b)) }
	if has(`"eventSource"`, `"eventsource"`) && has(`"eventName"`, `"eventname"`) && bytes.Contains(rec, []byte("amazonaws.com")) {
		return 85
	}
	return 0
}
