package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// The fake's source controls and rules turned off, as the embedded store
// keeps them.

func (s *fakeStore) SetSourceControls(_ context.Context, workspace, name string, c tenant.SourceControls) (tenant.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.sources {
		if x.Workspace == workspace && x.Name == name {
			s.sources[i].SourceControls = c
			return s.sources[i], nil
		}
	}
	return tenant.Source{}, fmt.Errorf("source %s: %w", name, store.ErrNotFound)
}

func (s *fakeStore) DisabledRules(_ context.Context, workspace string) ([]store.DisabledRule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.offRules[workspace]), nil
}

func (s *fakeStore) SetRuleEnabled(_ context.Context, workspace, rule string, enabled bool, actor string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workspaces[workspace]; !ok {
		return false, fmt.Errorf("workspace %s: %w", workspace, store.ErrNotFound)
	}
	if s.offRules == nil {
		s.offRules = map[string][]store.DisabledRule{}
	}
	list := s.offRules[workspace]
	i := slices.IndexFunc(list, func(d store.DisabledRule) bool { return d.Rule == rule })
	switch {
	case enabled && i >= 0:
		s.offRules[workspace] = slices.Delete(list, i, i+1)
		return true, nil
	case !enabled && i < 0:
		s.offRules[workspace] = append(list, store.DisabledRule{Rule: rule, Actor: actor})
		return true, nil
	}
	return false, nil
}
