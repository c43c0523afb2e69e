package analysis

import (
	"context"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/tenant"
)

// enrichers is workspace ws's enrichment chain as its tier allows: the
// learners (behavioural baselines) are part of the standard tier, so a
// free workspace's events go through the chain without them — neither
// learnt from nor flagged.
func (s *Stage) enrichers(ws string) *enrich.Chain {
	c := s.cfg.Enrichers(ws)
	if c.Learners() > 0 && !s.advanced(ws) {
		return c.Signatures()
	}
	return c
}

// advanced reports whether workspace ws's tier runs stateful detections:
// a free workspace runs signature rules only, a standard one adds
// correlations, so the stage drops a free workspace's matches before they
// reach the correlator. The tier is cached for LookupTTL; a failed lookup
// errs towards detecting.
func (s *Stage) advanced(ws string) bool {
	if s.cfg.Workspaces == nil {
		return true
	}
	tier, err := s.tiers.get(ws, s.cfg.LookupTTL, func() (string, error) {
		w, err := s.cfg.Workspaces.Workspace(context.Background(), ws)
		return w.Tier, err
	})
	if err != nil {
		s.log.Warn("workspace lookup failed", "workspace", ws, "err", err)
		return true
	}
	return tier != tenant.TierFree
}

// ForgetTier drops the cached tier of workspace ws: the batches committed
// next are judged by its tier in the store. Whoever changes a tier in this
// process calls it; a change by another process applies within LookupTTL.
func (s *Stage) ForgetTier(ws string) {
	s.tiers.forget(ws)
}
