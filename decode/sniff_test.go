package decode_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode"
)

// TestSniffFixtures checks that Sniff, with every sniffer registered,
// names the right format for the fixtures of these decoders: whole files
// for the JSON formats (one record a file), every line for the line
// formats.
func TestSniffFixtures(t *testing.T) {
	for _, tt := range []struct {
		format, glob string
		lines        bool
		keep         func(line string) bool // nil: every line
	}{
		{"json", "jsonrecord/testdata/*.json", false, nil},
		{"windows", "windows/testdata/*.json", false, nil},
		{"cloudtrail", "cloudtrail/testdata/*.json", false, nil},
		{"cowrie", "cowrie/testdata/*.json", true, nil},
		{"cef", "cef/testdata/*.log", true, nil},
		{"leef", "leef/testdata/*.log", true, nil},
		{"accesslog", "accesslog/testdata/*.log", true, nil},
		{"text", "text/testdata/*.txt", true, nil},
		{"apache-error", "errorlog/testdata/apache_error.log", true, nil},
		{"nginx-error", "errorlog/testdata/nginx_error.log", true, nil},
		{"iis", "iis/testdata/*.log", true, nil},
		{"haproxy", "haproxy/testdata/*.log", true, nil},
		// The sshd decoder reads any syslog line, but only sshd's are its
		// own: a syslog format claims sudo's and CRON's.
		{"sshd", "sshd/testdata/auth.log", true, func(l string) bool {
			return strings.Contains(l, " sshd[") || strings.Contains(l, " sshd-session[")
		}},
	} {
		files, _ := filepath.Glob(tt.glob)
		if len(files) == 0 {
			t.Errorf("%s: no fixtures match %s", tt.format, tt.glob)
		}
		n := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			recs := [][]byte{b}
			if tt.lines {
				recs = nil
				sc := bufio.NewScanner(bytes.NewReader(b))
				for sc.Scan() {
					if l := sc.Text(); l != "" && (tt.keep == nil || tt.keep(l)) {
						recs = append(recs, []byte(l))
					}
				}
			}
			for i, rec := range recs {
				n++
				if got, score := decode.Sniff(rec); got != tt.format {
					t.Errorf("%s record %d: sniffed %q (score %d), want %q", f, i+1, got, score, tt.format)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no records", tt.format)
		}
	}
	if got, score := decode.Sniff(nil); got != "" || score != 0 {
		t.Errorf("empty record sniffed as %q (%d)", got, score)
	}
}
