package json

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as a JSON object: it starts with '{' and ends with '}'.
// It scores below every JSON format that names its shape (windows,
// cloudtrail, cowrie …), which win when they recognise the object.
func Sniff(rec []byte) int {
	rec = bytes.TrimSpace(rec)
	if len(rec) < 2 || rec[0] != '{' || rec[len(rec)-1] != '}' {
		return 0
	}
	return 50
}
