package analysis

import (
	"context"
	"errors"
	"slices"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/store"
)

// DisabledRuleLookup gives the rules a workspace turned off (the store).
type DisabledRuleLookup interface {
	DisabledRules(ctx context.Context, workspace string) ([]store.DisabledRule, error)
}

// dropDisabled drops the matches of rules the batch's workspace turned
// off: they neither alert nor feed a correlation.
func (p *Processor) dropDisabled() {
	if len(p.off) == 0 || len(p.hits) == 0 {
		return
	}
	p.hits = slices.DeleteFunc(p.hits, func(r *rule.Rule) bool { return p.off[r.ID] })
}

// dropDisabledSignals drops the signals of sigs from index from on whose
// rule is in off.
func dropDisabledSignals(off map[string]bool, sigs []alert.Signal, from int) []alert.Signal {
	if len(off) == 0 || from >= len(sigs) {
		return sigs
	}
	kept := sigs[:from]
	for _, s := range sigs[from:] {
		if !off[s.Rule.ID] {
			kept = append(kept, s)
		}
	}
	clear(sigs[len(kept):])
	return kept
}

// disabledRules returns the rules workspace ws turned off, cached for
// LookupTTL. A failed lookup keeps the last set known, or none.
func (s *Stage) disabledRules(ws string) map[string]bool {
	if s.cfg.DisabledRules == nil {
		return nil
	}
	off, err := s.offs.get(ws, s.cfg.LookupTTL, func() (map[string]bool, error) {
		list, err := s.cfg.DisabledRules.DisabledRules(context.Background(), ws)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		off := make(map[string]bool, len(list))
		for _, d := range list {
			off[d.Rule] = true
		}
		return off, nil
	})
	if err != nil {
		s.log.Warn("disabled rules lookup failed; the last ones known apply", "workspace", ws, "err", err)
	}
	return off
}

// ForgetDisabledRules drops the cached disabled rules of workspace ws:
// the batches processed next use those in the store. Whoever turns a
// rule on or off in this process calls it; a change by another process
// applies within LookupTTL.
func (s *Stage) ForgetDisabledRules(ws string) {
	s.offs.forget(ws)
}

// RuleInfo is one rule or correlation of a set, as a list shows it.
type RuleInfo struct {
	alert.RuleRef
	Severity    alert.Severity
	Tactics     []string
	Correlation bool
}

// List lists the set's rules and correlations, by id.
func (rs *Rules) List() []RuleInfo {
	out := make([]RuleInfo, 0, len(rs.meta))
	for _, m := range rs.meta {
		out = append(out, RuleInfo{RuleRef: m.ref, Severity: m.severity, Tactics: m.tactics})
	}
	if rs.corr != nil {
		for _, m := range rs.corr.metas {
			out = append(out, RuleInfo{RuleRef: m.ref, Severity: m.severity, Tactics: m.tactics, Correlation: true})
		}
	}
	slices.SortFunc(out, func(a, b RuleInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}
