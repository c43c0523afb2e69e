package vpcflow

import "strings"

// Field roles: what the ECS mapping and the value checks make of a field.
const (
	roleOther = iota
	roleVersion
	roleAccount
	roleSrcAddr
	roleDstAddr
	roleSrcPort
	roleDstPort
	roleProtocol
	roleCount // packets, bytes
	roleStart
	roleEnd
	roleAction
	roleLogStatus
	roleRegion
)

// knownFields are the fields AWS documents for flow log records (versions
// 2 to 8), under the names a custom format and the S3 header line use.
var knownFields = map[string]int{
	"version": roleVersion, "account-id": roleAccount, "interface-id": roleOther,
	"srcaddr": roleSrcAddr, "dstaddr": roleDstAddr, "srcport": roleSrcPort, "dstport": roleDstPort,
	"protocol": roleProtocol, "packets": roleCount, "bytes": roleCount, "start": roleStart, "end": roleEnd,
	"action": roleAction, "log-status": roleLogStatus,
	"vpc-id": roleOther, "subnet-id": roleOther, "instance-id": roleOther, "tcp-flags": roleOther,
	"type": roleOther, "pkt-srcaddr": roleOther, "pkt-dstaddr": roleOther,
	"region": roleRegion, "az-id": roleOther, "sublocation-type": roleOther, "sublocation-id": roleOther,
	"pkt-src-aws-service": roleOther, "pkt-dst-aws-service": roleOther, "flow-direction": roleOther,
	"traffic-path":    roleOther,
	"ecs-cluster-arn": roleOther, "ecs-cluster-name": roleOther, "ecs-container-instance-arn": roleOther,
	"ecs-container-instance-id": roleOther, "ecs-container-id": roleOther, "ecs-second-container-id": roleOther,
	"ecs-service-name": roleOther, "ecs-task-definition-arn": roleOther, "ecs-task-arn": roleOther,
	"ecs-task-id": roleOther, "reject-reason": roleOther, "resource-id": roleOther,
	"encryption-status": roleOther,
}

// DefaultFields is the default format (version 2), which every flow log
// without a custom format writes.
var DefaultFields = []string{
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status",
}

// allFields are the fields AWS documents, in its order: version 2's
// (DefaultFields), then those each later version added.
var allFields = []string{
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status",
	// version 3
	"vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
	// version 4
	"region", "az-id", "sublocation-type", "sublocation-id",
	// version 5
	"pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
	// version 7
	"ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
	"ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
	"ecs-task-arn", "ecs-task-id",
	// version 8
	"reject-reason",
}

// versionFields returns the field list of a headerless line of n fields
// whose first field, the version, is version: every field of that version
// in AWS's order, when n is their number; else nil. This is the custom
// format that selects all fields (the Sekoia and Athena samples' shape).
func versionFields(version string, n int) []string {
	want := 0
	switch version {
	case "2":
		want = 14
	case "3":
		want = 21
	case "4":
		want = 25
	case "5":
		want = 29
	case "7":
		want = 39
	case "8":
		want = 40
	}
	if want == 0 || n != want {
		return nil
	}
	return allFields[:n:n]
}

// squashed maps a field name with case, '-' and '_' removed to its AWS
// name, so that the names of JSON exports (srcAddr, account_id, logStatus,
// subNetId) find the field they mean.
var squashed = func() map[string]string {
	m := map[string]string{"status": "log-status", "account": "account-id", "interface": "interface-id"}
	for n := range knownFields {
		m[strings.ReplaceAll(n, "-", "")] = n
	}
	return m
}()

// canonicalName returns the AWS name of a field as a header, a custom
// format ("${srcaddr}") or Athena ("account_id") writes it, and whether the
// name is a known one.
func canonicalName(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "${"), "}")
	s = strings.ReplaceAll(s, "_", "-")
	_, ok := knownFields[s]
	return s, ok
}

// nameLike reports whether s can be a field name in a header line: lower
// case letters, digits, '-' and '_', starting with a letter. Data tokens
// that look like this (eni-0a1b…, vpc-…) never start a line, since a
// header's first name must be a known one.
func nameLike(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// transport maps an IANA protocol number to ECS network.transport.
func transport(p string) string {
	switch p {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58":
		return "ipv6-icmp"
	case "47":
		return "gre"
	case "50":
		return "esp"
	}
	return p
}
