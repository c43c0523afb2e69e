package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// sourceStore is the part of a Store that Sources reads; the other
// methods are never called.
type sourceStore struct {
	store.Store
	get error
	put error
}

func (s sourceStore) Source(_ context.Context, ws, name string) (tenant.Source, error) {
	if s.get != nil {
		return tenant.Source{}, s.get
	}
	return tenant.Source{Workspace: ws, Name: name, Format: "sshd"}, nil
}

func (s sourceStore) CreateSource(context.Context, tenant.Source, int) error { return s.put }

func TestSources(t *testing.T) {
	ctx := context.Background()
	broken := errors.New("disk on fire")
	for _, c := range []struct {
		name      string
		st        sourceStore
		found     bool
		lookupErr error
		createErr error
	}{
		{"present", sourceStore{}, true, nil, nil},
		{"absent", sourceStore{get: fmt.Errorf("source a/b: %w", store.ErrNotFound)}, false, nil, nil},
		{"made meanwhile", sourceStore{put: fmt.Errorf("source a/b: %w", store.ErrConflict)}, true, nil, nil},
		{"failing", sourceStore{get: broken, put: broken}, false, broken, broken},
	} {
		s := store.Sources{Store: c.st}
		src, found, err := s.LookupSource(ctx, "a", "b")
		if found != c.found || !errors.Is(err, c.lookupErr) || (err == nil) != (c.lookupErr == nil) {
			t.Errorf("%s: lookup found %v err %v, want %v %v", c.name, found, err, c.found, c.lookupErr)
		}
		if found && (src.Workspace != "a" || src.Name != "b") {
			t.Errorf("%s: lookup gave %+v", c.name, src)
		}
		if err := s.CreateSource(ctx, tenant.Source{Workspace: "a", Name: "b"}); !errors.Is(err, c.createErr) || (err == nil) != (c.createErr == nil) {
			t.Errorf("%s: create err %v, want %v", c.name, err, c.createErr)
		}
	}
}
