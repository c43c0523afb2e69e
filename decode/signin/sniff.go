package signin

import "github.com/vigil-sec/vigil/decode/jsonrecord"

// Sniff scores rec as a sign-in (or Entra audit) record: a JSON object
// with, at its top level, a category (a sign-in log's or AuditLogs) or the
// Graph resources' own keys.
func Sniff(rec []byte) int {
	rec = jsonrecord.ObjectHead(rec)
	if rec == nil {
		return 0
	}
	const (
		category = 1 << iota
		upn
		created
		activityName
		activityTime
	)
	k := jsonrecord.TopKeys(rec, true, "category", "userPrincipalName", "createdDateTime", "activityDisplayName", "activityDateTime")
	switch {
	case k&category != 0 && (containsFold(rec, "signinlogs") || containsFold(rec, `"auditlogs"`)):
		return 85
	case k&(upn|created) == upn|created:
		return 85
	case k&(activityName|activityTime) == activityName|activityTime:
		return 80
	case k&category != 0 && containsFold(rec, `"activitydisplayname"`) && containsFold(rec, `"initiatedby"`):
		// An Entra audit record by diagnostic settings: its category
		// names the audit's (Policy, ApplicationManagement …), the
		// directoryAudit is under properties.
		return 80
	}
	return 0
}
