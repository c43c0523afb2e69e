package signin

import (
	"cmp"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// signInOutcome: Entra's error code 0 is success and any other code a
// failure (50126 bad password, 50053 locked out, 50074 MFA required…). The
// diagnostic shape's resultType holds the same code, or Success/Failure.
func signInOutcome(errorCode, resultType string) string {
	code := cmp.Or(errorCode, resultType)
	switch {
	case code == "":
		return ""
	case code == "0" || strings.EqualFold(code, "success"):
		return "success"
	case strings.EqualFold(code, "failure") || numeric(code) != "":
		return "failure"
	}
	return "unknown"
}

// auditOutcome reads a directoryAudit's result (success, failure, timeout).
func auditOutcome(result, resultType string) string {
	r := cmp.Or(result, resultType)
	switch {
	case r == "":
		return ""
	case strings.EqualFold(r, "success"):
		return "success"
	case strings.EqualFold(r, "failure"), strings.EqualFold(r, "failed"), strings.EqualFold(r, "timeout"):
		return "failure"
	}
	return "unknown"
}

// extMarker marks a guest's UPN in the inviting tenant: the guest's own
// address with its @ written as _, then #EXT#@ and the tenant's domain
// (bob_fabrikam.example#EXT#@contoso.onmicrosoft.com).
const extMarker = "#ext#"

// upnDomain returns the domain of a UPN or mail address: what follows the
// last @, or for a guest's #EXT# UPN the home domain encoded before the
// marker (after its last _: a domain name holds no _). "" when there is
// none. It is a slice of upn: lower it (lowerInto) before comparing.
func upnDomain(upn string) string {
	if i := indexFold(upn, extMarker); i >= 0 {
		if j := strings.LastIndexByte(upn[:i], '_'); j >= 0 && j+1 < i {
			return upn[j+1 : i]
		}
		// An #EXT# UPN without the _: the tenant's domain is all there is.
	}
	i := strings.LastIndexByte(upn, '@')
	if i < 0 || i == len(upn)-1 {
		return ""
	}
	return upn[i+1:]
}

// lowerInto returns s in lower case (ASCII: domain names), s itself when
// it has no capital, else a view of the copy appended to *buf. Views stay
// valid when buf grows later: the old array is left as it was.
func lowerInto(buf *[]byte, s string) string {
	if !hasUpper(s) {
		return s
	}
	start := len(*buf)
	for i := 0; i < len(s); i++ {
		*buf = append(*buf, lowerByte(s[i]))
	}
	return view.String((*buf)[start:])
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// indexFold is the index of sub (lower case) in s, ignoring ASCII case;
// -1 when absent.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lowerByte(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

// numeric returns s when it is a decimal number, else "".
func numeric(s string) string {
	if s == "" || len(s) > 12 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ""
		}
	}
	return s
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// containsFold reports whether s contains sub (lower case), ignoring ASCII
// case.
func containsFold[T string | []byte](s T, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lowerByte(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// recordKeys are the diagnostic shape's top-level keys. Some pipelines
// lowercase them (calleripaddress, resulttype); they are given back the
// schema's spelling so that rules match whatever the export.
var recordKeys = jsonrecord.NewSpelling(
	"time", "resourceId", "operationName", "operationVersion", "category", "tenantId",
	"resultType", "resultSignature", "resultDescription", "durationMs", "callerIpAddress",
	"correlationId", "identity", "Level", "location", "properties",
)
