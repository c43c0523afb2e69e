package text

import "github.com/vigil-sec/vigil/decode"

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff claims every record, with the lowest score: text is the fallback
// when no other format recognises a record.
func Sniff(rec []byte) int {
	if len(rec) == 0 {
		return 0
	}
	return 1
}
