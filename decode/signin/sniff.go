package signin

import jsondec "github.com/vigil-sec/vigil/decode/json"

// Sniff scores rec as a sign-in (or Entra audit) record: a JSON object
// with a sign-in log category or the Graph resources' own keys.
func Sniff(rec []byte) int {
	rec = jsondec.ObjectHead(rec)
	if rec == nil {
		return 0
	}
	s := rec
	switch {
	case containsFold(s, "signinlogs"), containsFold(s, `"auditlogs"`):
		return 85
	case containsFold(s, `"userprincipalname"`) && (containsFold(s, `"createddatetime"`) || containsFold(s, `"errorcode"`)):
		return 85
	case containsFold(s, `"activitydisplayname"`) && containsFold(s, `"initiatedby"`):
		return 80
	}
	return 0
}
