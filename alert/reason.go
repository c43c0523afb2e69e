package alert

import "fmt"

// Reason is why an alert was closed: the analyst's classification given
// with a status change. A dismissal as ReasonFalsePositive counts against
// the rule (per-rule false-positive counts).
type Reason string

const (
	// ReasonFalsePositive: the rule fired on something that is not what
	// it looks for.
	ReasonFalsePositive Reason = "false_positive"
	// ReasonBenignPositive: the detection is right, the activity expected
	// (an admin's scan, a test).
	ReasonBenignPositive Reason = "benign_positive"
	// ReasonTruePositive: a real threat, handled.
	ReasonTruePositive Reason = "true_positive"
	// ReasonDuplicate: another alert covers it.
	ReasonDuplicate Reason = "duplicate"
	ReasonOther     Reason = "other"
)

// Valid reports whether r is empty or one of the reasons.
func (r Reason) Valid() bool {
	switch r {
	case "", ReasonFalsePositive, ReasonBenignPositive, ReasonTruePositive, ReasonDuplicate, ReasonOther:
		return true
	}
	return false
}

// CheckReason checks that reason fits a change to status: a reason is
// given only when an alert is resolved or dismissed.
func CheckReason(status Status, reason Reason) error {
	if !reason.Valid() {
		return fmt.Errorf("reason %q (want false_positive, benign_positive, true_positive, duplicate or other)", reason)
	}
	if reason != "" && status.Open() {
		return fmt.Errorf("reason %q with status %s: a reason classifies a resolved or dismissed alert", reason, status)
	}
	return nil
}
