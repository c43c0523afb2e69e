package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// signInStates keeps sign-in state — single sign-on flows, sign-in
// tickets — where every API process of the store finds it (store/sqlite,
// store/postgres): the provider's callback, or a sign-in link, may reach
// another process than the one that started it. A state is taken once:
// the first process to take it has it, the others find nothing.
type signInStates interface {
	// PutSignInState stores s, dropping expired states; store.ErrConflict
	// when max states of its kind wait to be used already.
	PutSignInState(ctx context.Context, s store.SignInState, max int, now time.Time) error
	// TakeSignInState removes and returns the state of kind with hash,
	// expired or not; store.ErrNotFound when there is none.
	TakeSignInState(ctx context.Context, kind string, hash []byte) (store.SignInState, error)
}

// signIns is the store's sign-in state, or this process's memory for a
// store that keeps none (then every sign-in must come back to this
// process).
func (a *API) signIns() signInStates {
	if s, ok := a.store.(signInStates); ok {
		return s
	}
	return &a.memSignIns
}

// secretHash is the hash a sign-in state is kept under.
func secretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// memSignIns keeps sign-in state in this process.
type memSignIns struct {
	mu sync.Mutex
	m  map[string]store.SignInState // by kind and hash
}

func (m *memSignIns) PutSignInState(_ context.Context, s store.SignInState, max int, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]store.SignInState{}
	}
	n := 0
	for k, v := range m.m {
		if !now.Before(v.Expires) {
			delete(m.m, k)
			continue
		}
		if v.Kind == s.Kind {
			n++
		}
	}
	if max > 0 && n >= max {
		return fmt.Errorf("sign-in state %s: %d wait to be used already: %w", s.Kind, n, store.ErrConflict)
	}
	s.Hash, s.Data = bytes.Clone(s.Hash), bytes.Clone(s.Data)
	m.m[s.Kind+"\x00"+string(s.Hash)] = s
	return nil
}

func (m *memSignIns) TakeSignInState(_ context.Context, kind string, hash []byte) (store.SignInState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := kind + "\x00" + string(hash)
	s, ok := m.m[k]
	if !ok {
		return s, fmt.Errorf("take sign-in state %s: %w", kind, store.ErrNotFound)
	}
	delete(m.m, k)
	return s, nil
}
