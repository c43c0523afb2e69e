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

// ObjectHead is what the sniffers of JSON formats look in: the first 4 KiB
// of rec without its leading white space, nil when that does not start an
// object. Sniffing a whole record would cost as much as decoding it.
func ObjectHead(rec []byte) []byte {
	if len(rec) > 4096 {
		rec = rec[:4096]
	}
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' {
		return nil
	}
	return rec
}
