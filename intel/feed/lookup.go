package feed

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// Classify tells what kind of observable a looked-up value is, and gives
// it in the normalized form indicators are kept in (intel.Infer); a value
// that is none of the other kinds is a user agent, kept as written.
func Classify(v string) (intel.Kind, string) {
	v = strings.TrimSpace(v)
	if k, n, err := intel.Infer(v); err == nil {
		return k, n
	}
	return intel.KindUserAgent, v
}

// Normalize checks an indicator given by hand and puts its value in the
// form feeds give (intel.Normalize): a kind left empty is told from the
// value, and an address given as a range or the other way round takes the
// kind its value has.
func Normalize(in intel.Indicator) (intel.Indicator, error) {
	bad := func(why string) (intel.Indicator, error) {
		return in, fmt.Errorf("indicator %q: %s: %w", in.Value, why, store.ErrInvalid)
	}
	v := strings.TrimSpace(in.Value)
	switch {
	case v == "":
		return in, fmt.Errorf("indicator: empty value: %w", store.ErrInvalid)
	case in.Kind == "":
		in.Kind, in.Value = Classify(v)
	case in.Kind == intel.KindIP || in.Kind == intel.KindCIDR:
		k, n, err := intel.Infer(v)
		if err != nil || (k != intel.KindIP && k != intel.KindCIDR) {
			return bad("not an IP address or CIDR range")
		}
		in.Kind, in.Value = k, n
	default:
		n, err := intel.Normalize(in.Kind, v)
		if err != nil {
			return bad(err.Error())
		}
		in.Value = n
	}
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
