package awswaf

import (
	"net/netip"
	"strings"
	"unsafe"
)

// arnRegionAccount returns the region and account of an ARN
// (arn:aws:wafv2:us-east-1:123456789012:regional/webacl/…), "" for parts
// it lacks. The results are slices of arn.
func arnRegionAccount(arn string) (region, account string) {
	if !strings.HasPrefix(arn, "arn:") {
		return "", ""
	}
	rest := arn
	for i := 0; i < 3; i++ { // arn, partition, service
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return "", ""
		}
		rest = rest[j+1:]
	}
	j := strings.IndexByte(rest, ':')
	if j < 0 {
		return "", ""
	}
	region, rest = rest[:j], rest[j+1:]
	if j = strings.IndexByte(rest, ':'); j >= 0 {
		account = rest[:j]
	}
	return region, account
}

// ipOnly returns s when it is an IP address. Names are screened out first:
// netip's errors allocate.
func ipOnly(s string) string {
	if s == "" {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return ""
		}
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return ""
	}
	return s
}

// bytesString views b as a string without copying; b is the decoder's
// scratch buffer, rewritten only by the next record.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
