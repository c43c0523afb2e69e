package awswaf

import (
	"strings"
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
