package tenant

import "time"

// Scopes of an API key.
const (
	ScopeIngest = "ingest" // may push records, nothing else
	ScopeRead   = "read"   // may read (GET) everything but the audit log and the keys
	// ScopeResponder may read what read may and work alerts, incidents,
	// block decisions and suppressions — not keys, the workspace, feeds,
	// assets or sources.
	ScopeResponder = "responder"
	ScopeAdmin     = "admin" // may do everything in its workspace
	// ScopeMetrics may read /metrics only, when the server requires a key
	// there. The metrics cover every workspace: such keys are the
	// operator's, made with the CLI.
	ScopeMetrics = "metrics"
	// ScopeBouncer may read the block decisions only (GET
	// /api/v1/decisions…): the key a firewall or proxy polls with.
	ScopeBouncer = "bouncer"
)

// ValidScope reports whether s is a scope.
func ValidScope(s string) bool {
	return s == ScopeIngest || s == ScopeRead || s == ScopeResponder || s == ScopeAdmin || s == ScopeMetrics || s == ScopeBouncer
}

// APIKey is a workspace's key. The secret is shown once at creation and
// stored only as its hash.
type APIKey struct {
	ID        string     `json:"id"`
	Workspace string     `json:"workspace"`
	Name      string     `json:"name,omitempty"`
	Scope     string     `json:"scope"`
	Prefix    string     `json:"prefix"` // first characters of the secret, to recognize it
	Hash      []byte     `json:"-"`
	Created   time.Time  `json:"created"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	Revoked   *time.Time `json:"revoked,omitempty"`
	// Expires, when set, is when the key stops working (a rotated key's
	// end of overlap).
	Expires *time.Time `json:"expires,omitempty"`
	// Allow, when set, lists the addresses (CIDRs) the key may be used
	// from.
	Allow []string `json:"allow,omitempty"`
	// User is set on the principal the API makes of a signed-in user's
	// session (ID is then the session's id, Scope the role's scope); it is
	// empty for API keys and never stored.
	User string `json:"-"`
}

// Actor names who acts with k in the audit log: "user:<name>" for a
// session, "key:<id>" for an API key.
func (k APIKey) Actor() string {
	if k.User != "" {
		return "user:" + k.User
	}
	return "key:" + k.ID
}

// Expired reports whether the key has expired at now.
func (k APIKey) Expired(now time.Time) bool { return k.Expires != nil && !now.Before(*k.Expires) }
