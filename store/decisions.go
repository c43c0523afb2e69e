package store

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
)

// Decision kinds: what a block decision blocks.
const (
	DecisionIP      = "ip"      // one address
	DecisionRange   = "range"   // a network (CIDR)
	DecisionAccount = "account" // an account name
)

// Decision ends: why a decision stopped applying.
const (
	DecisionRevoked = "revoked" // revoked by hand or by the API
	DecisionExpired = "expired" // its duration ran out
)

// Limits of a decision.
const (
	MaxDecisionDuration = 365 * 24 * time.Hour
	MaxDecisionReason   = 1000
	maxDecisionValue    = 256
)

// Decision blocks an address, a network or an account for a while, with
// the reason and the incident it was made for: what firewalls and proxies
// (bouncers) poll and enforce, as CrowdSec's bouncers do.
type Decision struct {
	ID         string    `json:"id"`
	Workspace  string    `json:"workspace"`
	Kind       string    `json:"kind"`  // DecisionIP, DecisionRange or DecisionAccount
	Value      string    `json:"value"` // canonical: "203.0.113.7", "203.0.113.0/24", an account name
	Reason     string    `json:"reason"`
	IncidentID string    `json:"incident_id,omitempty"`
	CreatedBy  string    `json:"created_by"` // "key:<id>", "cli", "vigil:automation:<rule>"
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
	// Ended is when it stopped applying before or at its expiry (revoked,
	// or found expired), with EndReason and, for a revocation, RevokedBy.
	Ended     *time.Time `json:"ended,omitempty"`
	EndReason string     `json:"end_reason,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

// Active reports whether d applies at now: not ended and not expired.
func (d *Decision) Active(now time.Time) bool {
	return d.Ended == nil && now.Before(d.Expires)
}

// Duration is how long d was made for.
func (d *Decision) Duration() time.Duration { return d.Expires.Sub(d.Created) }

// NormalizeDecision checks kind and value and returns the value in its
// canonical form (an address unmapped and without zone, a network
// masked), so that one address is one value whatever its spelling. The
// error wraps ErrInvalid and says what is wrong.
func NormalizeDecision(kind, value string) (string, error) {
	v := strings.TrimSpace(value)
	switch kind {
	case DecisionIP:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("decision value %q is not an IP address: %w", value, ErrInvalid)
		}
		a = a.Unmap()
		if a.IsUnspecified() {
			return "", fmt.Errorf("decision value %q is the unspecified address: %w", value, ErrInvalid)
		}
		return a.String(), nil
	case DecisionRange:
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return "", fmt.Errorf("decision value %q is not a network in CIDR notation: %w", value, ErrInvalid)
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return "", fmt.Errorf("decision value %q: an IPv4-mapped network shorter than /96: %w", value, ErrInvalid)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		p = p.Masked()
		// A block of a whole address family (0.0.0.0/0, ::/0) or near it
		// is a mistake that would cut everything off.
		if min := map[bool]int{true: 8, false: 16}[p.Addr().Is4()]; p.Bits() < min {
			return "", fmt.Errorf("decision value %q: a network wider than /%d is refused: %w", value, min, ErrInvalid)
		}
		return p.String(), nil
	case DecisionAccount:
		if v == "" || len(v) > maxDecisionValue {
			return "", fmt.Errorf("decision value %q: an account name of 1 to %d bytes: %w", value, maxDecisionValue, ErrInvalid)
		}
		for _, r := range v {
			if unicode.IsControl(r) || r == unicode.ReplacementChar {
				return "", fmt.Errorf("decision value %q: an account name holds no control characters: %w", value, ErrInvalid)
			}
		}
		return v, nil
	default:
		return "", fmt.Errorf("decision kind %q: want ip, range or account: %w", kind, ErrInvalid)
	}
}

// CheckDecision checks a decision about to be created: kind and value
// (normalized in place), a reason, and an expiry after its creation within
// MaxDecisionDuration.
func CheckDecision(d *Decision) error {
	v, err := NormalizeDecision(d.Kind, d.Value)
	if err != nil {
		return err
	}
	d.Value = v
	d.Reason = strings.TrimSpace(d.Reason)
	switch {
	case d.Workspace == "":
		return fmt.Errorf("decision without a workspace: %w", ErrInvalid)
	case d.Reason == "" || len(d.Reason) > MaxDecisionReason:
		return fmt.Errorf("decision on %s %s: a reason of 1 to %d bytes is needed: %w", d.Kind, d.Value, MaxDecisionReason, ErrInvalid)
	case d.CreatedBy == "":
		return fmt.Errorf("decision on %s %s: no creator: %w", d.Kind, d.Value, ErrInvalid)
	case !d.Expires.After(d.Created):
		return fmt.Errorf("decision on %s %s: expires before it is made: %w", d.Kind, d.Value, ErrInvalid)
	case d.Duration() > MaxDecisionDuration:
		return fmt.Errorf("decision on %s %s: duration %s is longer than %s: %w", d.Kind, d.Value, d.Duration(), MaxDecisionDuration, ErrInvalid)
	}
	return nil
}

// DecisionQuery selects decisions of one workspace, newest first.
type DecisionQuery struct {
	// Active keeps the decisions that apply at Now (not revoked, not
	// expired).
	Active     bool
	Now        time.Time
	Kind       string
	Value      string // compared in canonical form
	IncidentID string
	Limit      int // default 100, at most 1000
	Cursor     string
}

// DecisionDelta is what a bouncer learns at a poll: the decisions made
// since its last poll that still apply, and those it was given before
// that have since been revoked or expired (each listed once).
type DecisionDelta struct {
	New     []Decision `json:"new"`
	Deleted []Decision `json:"deleted"`
}

// Decisions keeps block decisions and what each bouncer has been told.
// Every create, revocation and expiry is written to the audit log
// (decision.create, decision.revoke, decision.expire) in the same
// transaction. The SQLite store implements it.
type Decisions interface {
	// CreateDecision stores d (CheckDecision), as d.CreatedBy; an active
	// decision of the same kind and value in the workspace is an
	// ErrConflict naming it.
	CreateDecision(ctx context.Context, d Decision) (Decision, error)
	Decision(ctx context.Context, workspace, id string) (Decision, error)
	ListDecisions(ctx context.Context, workspace string, q DecisionQuery) (decisions []Decision, next string, err error)
	// RevokeDecision ends an active decision at now, as actor: ErrNotFound
	// for none, ErrConflict for one that ended already.
	RevokeDecision(ctx context.Context, workspace, id, actor string, now time.Time) (Decision, error)
	// ExpireDecisions ends, as expired, the decisions whose expiry is at
	// or before now, and returns how many.
	ExpireDecisions(ctx context.Context, now time.Time) (int, error)
	// DecisionStream is bouncer's poll at now (ExpireDecisions first):
	// with startup, or at its first poll, every active decision is new
	// and none is deleted; then, the changes since its previous poll.
	DecisionStream(ctx context.Context, workspace, bouncer string, startup bool, now time.Time) (DecisionDelta, error)
	// PurgeDecisions deletes the decisions that ended before before, and
	// returns how many went (their audit lines stay).
	PurgeDecisions(ctx context.Context, before time.Time) (int64, error)
}
