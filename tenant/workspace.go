package tenant

import "time"

// Tiers of a workspace: free runs signature rules; standard adds the
// stateful (correlation) and behavioural detections.
const (
	TierFree     = "free"
	TierStandard = "standard"
)

// ValidTier reports whether t is a tier.
func ValidTier(t string) bool { return t == TierFree || t == TierStandard }

// Workspace holds one tenant's data.
type Workspace struct {
	Name    string    `json:"name"`
	Tier    string    `json:"tier"`
	Created time.Time `json:"created"`
}
