// Package suppress holds noise control's suppressions: rules that keep
// signals from raising or growing alerts — an allow-listed address or
// network, an entity, an event field value, a rule (for everything or for
// one entity) — each with the reason it exists, who made it and when it
// ends. A suppression always wins: a signal it matches never reaches an
// alert. The Set matches signals against a workspace's suppressions.
package suppress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

// ErrInvalid is wrapped by the errors of Validate.
var ErrInvalid = errors.New("invalid suppression")

// Suppression is one suppression rule of a workspace. Its conditions —
// Rule, Entity, Field with Value, CIDR — all hold for a signal it matches
// (at least one is set); a suppression past its Expires no longer applies.
type Suppression struct {
	ID        string `json:"id"`
	Workspace string `json:"workspace"`
	// Rule is the id of the rule (or correlation) whose signals it
	// suppresses; empty: the signals of every rule.
	Rule string `json:"rule,omitempty"`
	// Entity is an entity of the signal (type and value; values compare
	// as alert entities do: addresses, hosts, accounts… without regard
	// to case).
	Entity *alert.Entity `json:"entity,omitempty"`
	// Field is a common event field (ECS name, such as user.name or
	// source.ip); with Value, the event's field must hold that value
	// (exactly); with CIDR, an address within it.
	Field string `json:"field,omitempty"`
	Value string `json:"value,omitempty"`
	// CIDR is a network (or one address): the event's Field, or without
	// a Field any address entity of the signal, lies within it.
	CIDR string `json:"cidr,omitempty"`
	// Reason says why the signals are not worth an alert; mandatory.
	Reason string `json:"reason"`
	// Author is who made it ("key:<id>" through the API, or a name).
	Author  string     `json:"author"`
	Expires *time.Time `json:"expires,omitempty"`
	Created time.Time  `json:"created"`
	Updated time.Time  `json:"updated"`
	// Hits counts the signals it suppressed; LastHit is when the last
	// one was.
	Hits    int64      `json:"hits"`
	LastHit *time.Time `json:"last_hit,omitempty"`
}

// Limits on what a suppression holds.
const (
	MaxReason = 1000
	MaxValue  = 1000
)

// Validate checks s and normalises it: text trimmed, the CIDR in its
// canonical form (a bare address becomes /32 or /128), the entity type
// lower case.
func (s *Suppression) Validate() error {
	s.Rule = strings.TrimSpace(s.Rule)
	s.Field = strings.TrimSpace(s.Field)
	s.CIDR = strings.TrimSpace(s.CIDR)
	s.Reason = strings.TrimSpace(s.Reason)
	s.Author = strings.TrimSpace(s.Author)
	if s.Reason == "" {
		return fmt.Errorf("%w: a reason is required (why are these signals not worth an alert?)", ErrInvalid)
	}
	if len(s.Reason) > MaxReason {
		return fmt.Errorf("%w: reason of %d bytes (at most %d)", ErrInvalid, len(s.Reason), MaxReason)
	}
	for _, f := range []struct{ name, v string }{{"rule", s.Rule}, {"author", s.Author}, {"cidr", s.CIDR}} {
		if len(f.v) > MaxValue {
			return fmt.Errorf("%w: %s of %d bytes (at most %d)", ErrInvalid, f.name, len(f.v), MaxValue)
		}
	}
	if s.Entity != nil {
		s.Entity.Type = strings.ToLower(strings.TrimSpace(s.Entity.Type))
		if s.Entity.Type == "" || s.Entity.Value == "" {
			return fmt.Errorf("%w: entity needs a type and a value", ErrInvalid)
		}
		if !knownEntity(s.Entity.Type) {
			return fmt.Errorf("%w: entity type %q (want one of %s)", ErrInvalid, s.Entity.Type, strings.Join(entityTypes, ", "))
		}
		if len(s.Entity.Value) > MaxValue {
			return fmt.Errorf("%w: entity value of %d bytes (at most %d)", ErrInvalid, len(s.Entity.Value), MaxValue)
		}
	}
	if s.Field != "" {
		if _, ok := event.CommonID(s.Field); !ok {
			return fmt.Errorf("%w: field %q is not a common event field (such as source.ip, user.name, host.name, process.executable)", ErrInvalid, s.Field)
		}
		if (s.Value == "") == (s.CIDR == "") {
			return fmt.Errorf("%w: field %s needs either a value or a cidr", ErrInvalid, s.Field)
		}
	} else if s.Value != "" {
		return fmt.Errorf("%w: value %q without a field", ErrInvalid, s.Value)
	}
	if len(s.Value) > MaxValue {
		return fmt.Errorf("%w: value of %d bytes (at most %d)", ErrInvalid, len(s.Value), MaxValue)
	}
	if s.CIDR != "" {
		p, err := parsePrefix(s.CIDR)
		if err != nil {
			return fmt.Errorf("%w: cidr %q: %v", ErrInvalid, s.CIDR, err)
		}
		s.CIDR = p.String()
	}
	if s.Rule == "" && s.Entity == nil && s.Field == "" && s.CIDR == "" {
		return fmt.Errorf("%w: it matches nothing: give a rule, an entity, a field with a value, or a cidr", ErrInvalid)
	}
	return nil
}

// Active reports whether s applies at now: it has not expired.
func (s *Suppression) Active(now time.Time) bool {
	return s.Expires == nil || now.Before(*s.Expires)
}

// parsePrefix reads a CIDR or a single address, masked to its network.
func parsePrefix(v string) (netip.Prefix, error) {
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

var entityTypes = []string{alert.EntityIP, alert.EntityHost, alert.EntityAccount, alert.EntityProcess, alert.EntityFile,
	alert.EntityURL, alert.EntityDatabase, alert.EntityApplication, alert.EntityCloudResource, alert.EntityHash}

func knownEntity(t string) bool {
	for _, x := range entityTypes {
		if x == t {
			return true
		}
	}
	return false
}
