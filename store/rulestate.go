package store

import "time"

// DisabledRule is a rule a workspace turned off: detection does not run
// it for that workspace (its matches neither alert nor feed a
// correlation) until it is turned on again.
type DisabledRule struct {
	Rule  string    `json:"rule"`
	Actor string    `json:"actor"`
	Since time.Time `json:"since"`
}
