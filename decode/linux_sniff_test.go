package decode_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/decode"
)

// TestSniffLinuxFormats: with every sniffer registered, the first lines of
// the Linux formats' fixtures go to their format (as `scan` sniffs a file:
// line by line, before framing).
func TestSniffLinuxFormats(t *testing.T) {
	for file, want := range map[string]string{
		"journald/testdata/journal.json":   "journald",
		"journald/testdata/journal.export": "journald-export",
		"auditd/testdata/audit.log":        "auditd",
		"auditd/testdata/enriched.log":     "auditd",
		"sysmonlinux/testdata/sysmon.log":  "sysmonlinux",
		"sshd/testdata/auth.log":           "sshd",
	} {
		fh, err := os.Open(filepath.FromSlash(file))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		scores := map[string]int{}
		for n := 0; n < 5 && sc.Scan(); n++ {
			if f, s := decode.Sniff(sc.Bytes()); s > 0 {
				scores[f] += s
			}
		}
		fh.Close()
		best, top := "", 0
		for f, s := range scores {
			if s > top {
				best, top = f, s
			}
		}
		if best != want {
			t.Errorf("%s sniffed as %s (%v), want %s", file, best, scores, want)
		}
	}
}
