package decode_test

import (
	"testing"

	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/all"
)

// FuzzSniff runs every registered sniffer on arbitrary input: sniffers run
// on the first records of any file `vigil scan` opens and on every record
// of an `auto` source, so none may panic.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{
		"", "0", "{}", "[]", "CEF:0|a|b|c|d|e|f|", "LEEF:2.0|a|b|c|d|^|", "000000 00000000",
		"Nov 26 10:02:05 h sshd[1]: Invalid user x from 192.0.2.1 port 1",
		`{"EventID":1,"Channel":"Security"}`, `{"eventSource":"x","eventName":"y"}`,
		"2 123456789012 eni-0 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK",
		"2026-01-02 03:04:05.678 UTC [1] LOG:  connection received: host=127.0.0.1 port=1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		if f, score := decode.Sniff(rec); score < 0 || score > 100 || (score > 0) != (f != "") {
			t.Fatalf("Sniff = %q, %d", f, score)
		}
	})
}
