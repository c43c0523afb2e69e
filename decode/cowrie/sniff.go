package cowrie

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// Sniff scores rec as a Cowrie event: a JSON object with a "cowrie."
// eventid at its top level.
func Sniff(rec []byte) int {
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	i := bytes.Index(rec, []byte(`"eventid"`))
	if i < 0 {
		return 0
	}
	rest := bytes.TrimLeft(rec[i+9:], " \t:")
	if !bytes.HasPrefix(rest, []byte(`"cowrie.`)) || jsonrecord.TopKeys(rec, false, "eventid") == 0 {
		return 0
	}
	return 95
}
