package store

import (
	"context"
	"errors"

	"github.com/vigil-sec/vigil/tenant"
)

// Sources adapts a Store to a source's lookup and creation on first use
// (ingest.Sources), so that its users need not know the store's errors:
// an absent source is not an error, and one that a concurrent request
// created meanwhile is no conflict.
type Sources struct {
	Store Store
	// Max caps the sources of a workspace that CreateSource makes (0: no
	// cap); past it, it returns an error wrapping tenant.ErrSourceLimit.
	Max int
}

// LookupSource returns the workspace's source of that name; found is
// false, with no error, when there is none.
func (s Sources) LookupSource(ctx context.Context, workspace, name string) (tenant.Source, bool, error) {
	src, err := s.Store.Source(ctx, workspace, name)
	switch {
	case err == nil:
		return src, true, nil
	case errors.Is(err, ErrNotFound):
		return tenant.Source{}, false, nil
	}
	return tenant.Source{}, false, err
}

// CreateSource creates src unless a source of its name exists, or the
// workspace has Max sources.
func (s Sources) CreateSource(ctx context.Context, src tenant.Source) error {
	if err := s.Store.CreateSource(ctx, src, s.Max); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	return nil
}
