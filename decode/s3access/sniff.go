package s3access

import "bytes"

// Sniff scores rec as an access log line (owner id, bucket, then a
// [dd/Mon/yyyy:…] time) or a honey-bucket CSV header or row.
func Sniff(rec []byte) int {
	if len(rec) > 4096 {
		rec = rec[:4096]
	}
	if bytes.HasPrefix(rec, csvHeaderStart) && bytes.Contains(rec, []byte("Request Parameters")) {
		return 90
	}
	if isCSV(rec) {
		return 75
	}
	// owner bucket [06/Feb/2019:00:00:38 +0000] remote-ip …
	sp1 := bytes.IndexByte(rec, ' ')
	if sp1 <= 0 {
		return 0
	}
	sp2 := bytes.IndexByte(rec[sp1+1:], ' ')
	if sp2 <= 0 {
		return 0
	}
	rest := rec[sp1+1+sp2+1:]
	if len(rest) < 28 || rest[0] != '[' || rest[27] != ']' {
		return 0
	}
	if _, ok := parseAccessTime(string(rest[1:27])); ok {
		return 90
	}
	return 0
}
