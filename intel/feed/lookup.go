package feed

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// Classify tells what kind of observable a looked-up value is, and gives
// it in the normalized form indicators are kept in: an address or range
// (canonical text), a URL (has a scheme), an e-mail address (has an @), a
// hash (32, 40 or 64 hex digits), a domain (a dotted name), else a user
// agent.
func Classify(v string) (intel.Kind, string) {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(v); err == nil {
		return intel.KindIP, a.Unmap().WithZone("").String()
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return intel.KindCIDR, p.Masked().String()
	}
	if strings.Contains(v, "://") {
		return intel.KindURL, v
	}
	lower := strings.ToLower(v)
	if strings.Count(v, "@") == 1 && !strings.ContainsAny(v, " /") {
		return intel.KindEmail, lower
	}
	if isHex(lower) {
		switch len(lower) {
		case 32:
			return intel.KindMD5, lower
		case 40:
			return intel.KindSHA1, lower
		case 64:
			return intel.KindSHA256, lower
		}
	}
	if d := strings.TrimSuffix(lower, "."); isDomain(d) {
		return intel.KindDomain, d
	}
	return intel.KindUserAgent, v
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func isDomain(s string) bool {
	if !strings.Contains(s, ".") || len(s) > 253 || strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// Normalize checks an indicator given by hand and puts its value in the
// form feeds give: a kind left empty is told from the value.
func Normalize(in intel.Indicator) (intel.Indicator, error) {
	k, v := Classify(in.Value)
	if in.Value == "" {
		return in, fmt.Errorf("indicator: empty value: %w", store.ErrInvalid)
	}
	if in.Kind == "" {
		in.Kind = k
	}
	bad := func(why string) (intel.Indicator, error) {
		return in, fmt.Errorf("indicator %q: %s: %w", in.Value, why, store.ErrInvalid)
	}
	switch in.Kind {
	case intel.KindIP, intel.KindCIDR:
		if k != intel.KindIP && k != intel.KindCIDR {
			return bad("not an IP address or CIDR range")
		}
		in.Kind = k // 192.0.2.1/32 stays a range; an address is an ip
	case intel.KindMD5, intel.KindSHA1, intel.KindSHA256:
		if k != in.Kind {
			return bad("not a " + string(in.Kind) + " hash in hex")
		}
	case intel.KindDomain:
		if k != intel.KindDomain {
			return bad("not a domain name")
		}
	case intel.KindEmail:
		if k != intel.KindEmail {
			return bad("not an e-mail address")
		}
	case intel.KindURL:
		if u, err := url.Parse(in.Value); err != nil || u.Scheme == "" || u.Host == "" {
			return bad("not an absolute URL")
		}
	case intel.KindUserAgent:
		v = in.Value
	default:
		return bad("unknown kind " + string(in.Kind))
	}
	in.Value = v
	if in.Confidence < 0 || in.Confidence > 100 {
		return bad(fmt.Sprintf("confidence %d not within 0 to 100", in.Confidence))
	}
	if in.ThreatType == "" {
		in.ThreatType = intel.ThreatUnknown
	}
	return in, nil
}

// Lookup returns the live indicators of a workspace that a value falls
// under, as the matcher sees them (an address under its ranges, a domain
// under its parents). A workspace whose feeds are not loaded yet is
// loaded from the store.
func (m *Manager) Lookup(ctx context.Context, workspace, value string) (intel.Kind, string, []intel.Indicator, error) {
	k, v := Classify(value)
	if m.o.Sets == nil {
		return k, v, nil, errors.New("feed: lookup without Options.Sets")
	}
	set := m.o.Sets.Matcher(workspace)
	if set == nil {
		if err := m.Load(ctx, workspace); err != nil {
			return k, v, nil, err
		}
		if set = m.o.Sets.Matcher(workspace); set == nil {
			return k, v, nil, nil // no feed at all
		}
	}
	now := m.now()
	var hits []*intel.Indicator
	if k == intel.KindIP {
		a, _ := netip.ParseAddr(v)
		hits = set.MatchIP(a, now, hits)
	} else {
		hits = set.Match(k, v, now, hits)
	}
	out := make([]intel.Indicator, len(hits))
	for i, h := range hits {
		out[i] = *h
	}
	return k, v, out, nil
}

// Add stores indicators given by hand in the workspace's manual feed
// (made on first use) and publishes the feed; it returns the feed's name
// and how many indicators it holds.
func (m *Manager) Add(ctx context.Context, workspace string, inds []intel.Indicator) (string, int, error) {
	n, err := m.add(ctx, workspace, inds)
	return ManualFeed, n, err
}

func (m *Manager) add(ctx context.Context, workspace string, inds []intel.Indicator) (int, error) {
	for i := range inds {
		n, err := Normalize(inds[i])
		if err != nil {
			return 0, fmt.Errorf("indicators[%d]: %w", i, err)
		}
		n.Feed = ManualFeed
		inds[i] = n
	}
	if _, err := m.o.Store.Feed(ctx, workspace, ManualFeed); errors.Is(err, store.ErrNotFound) {
		if err := m.o.Store.PutFeed(ctx, store.Feed{Workspace: workspace, Name: ManualFeed, Format: ManualFeed, Enabled: true}); err != nil {
			return 0, err
		}
	} else if err != nil {
		return 0, err
	}
	n, err := m.o.Store.AddIndicators(ctx, workspace, ManualFeed, inds)
	if err != nil {
		return 0, err
	}
	m.o.Metrics.count(workspace, ManualFeed, n)
	if err := m.publishStored(ctx, workspace, ManualFeed); err != nil {
		return n, err
	}
	return n, nil
}
