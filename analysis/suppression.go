package analysis

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

// SuppressionLookup gives a workspace's suppressions (store.Noise).
type SuppressionLookup interface {
	Suppressions(ctx context.Context, workspace string) ([]suppress.Suppression, error)
}

// suppressMatches drops the rule matches of ev that a suppression
// matches, counting each against its suppression: a suppressed match
// neither raises a signal nor feeds a correlation, so it can neither
// start nor grow an alert.
func (p *Processor) suppressMatches(ev *event.Event) {
	set := p.sup
	if set.Len() == 0 || len(p.hits) == 0 {
		return
	}
	ents := alert.Entities(ev)
	p.hits = slices.DeleteFunc(p.hits, func(r *rule.Rule) bool {
		if s := set.Match(r.ID, ents, ev, p.supNow); s != nil {
			p.tally.Add(s, r.ID, ev.Time)
			return true
		}
		return false
	})
}

// suppressSignals drops the signals of sigs from index from on (those
// raised for ev, nil for signals without an event) that a suppression
// matches.
func suppressSignals(set *suppress.Set, tally *suppress.Tally, sigs []alert.Signal, from int, ev *event.Event, now time.Time) []alert.Signal {
	if set.Len() == 0 || from >= len(sigs) {
		return sigs
	}
	kept := sigs[:from]
	for _, s := range sigs[from:] {
		if sp := set.Match(s.Rule.ID, s.Entities, ev, now); sp != nil {
			tally.Add(sp, s.Rule.ID, s.Evidence.Time)
			continue
		}
		kept = append(kept, s)
	}
	clear(sigs[len(kept):]) // let go of the dropped signals' slices
	return kept
}

// suppressions returns workspace ws's suppressions, compiled and cached
// for LookupTTL. A failed lookup keeps the last set known (an
// allow-list must not lapse because the store was busy), or none.
func (s *Stage) suppressions(ws string) *suppress.Set {
	if s.cfg.Suppressions == nil {
		return nil
	}
	set, err := s.sups.get(ws, s.cfg.LookupTTL, func() (*suppress.Set, error) {
		list, err := s.cfg.Suppressions.Suppressions(context.Background(), ws)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		set, errs := suppress.NewSet(list)
		for _, err := range errs {
			s.log.Warn("suppression left out", "workspace", ws, "err", err)
		}
		return set, nil
	})
	if err != nil {
		s.log.Warn("suppressions lookup failed; the last ones known apply", "workspace", ws, "err", err)
	}
	return set
}

// ForgetSuppressions drops the cached suppressions of workspace ws: the
// batches processed next use those in the store. Whoever changes a
// suppression in this process calls it; a change by another process
// applies within LookupTTL.
func (s *Stage) ForgetSuppressions(ws string) {
	s.sups.forget(ws)
}
