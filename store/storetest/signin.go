package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// SignInStore is a store that keeps sign-in state (store.SignInState).
type SignInStore interface {
	PutSignInState(ctx context.Context, s store.SignInState, max int, now time.Time) error
	TakeSignInState(ctx context.Context, kind string, hash []byte) (store.SignInState, error)
}

// RunSignIn checks a store's sign-in state: a state is taken once (also
// by many takers at once), kinds are apart, expired states are dropped
// when states are put, and max bounds the unexpired ones of a kind.
func RunSignIn(t *testing.T, st SignInStore) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	put := func(kind, secret string, exp time.Time, max int) error {
		return st.PutSignInState(ctx, store.SignInState{Kind: kind, Hash: hash(secret), Data: []byte(`{"s":"` + secret + `"}`), Expires: exp}, max, now)
	}
	if err := put(store.SignInTicket, "one", now.Add(time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeSignInState(ctx, store.SignInOIDC, hash("one")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ticket taken as an oidc flow: %v, want ErrNotFound", err)
	}
	got, err := st.TakeSignInState(ctx, store.SignInTicket, hash("one"))
	if err != nil || !bytes.Equal(got.Data, []byte(`{"s":"one"}`)) || !got.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("take: %+v, %v", got, err)
	}
	if _, err := st.TakeSignInState(ctx, store.SignInTicket, hash("one")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("taken twice: %v, want ErrNotFound", err)
	}

	// An expired state is still taken (the caller tells the user it
	// expired) until a put drops it.
	if err := put(store.SignInTicket, "old", now.Add(-time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if got, err := st.TakeSignInState(ctx, store.SignInTicket, hash("old")); err != nil || !got.Expires.Before(now) {
		t.Errorf("expired state: %+v, %v", got, err)
	}
	if err := put(store.SignInTicket, "old2", now.Add(-time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if err := put(store.SignInOIDC, "flow", now.Add(time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeSignInState(ctx, store.SignInTicket, hash("old2")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired state outlived a put: %v", err)
	}

	// max counts the unexpired states of the kind only.
	for i := range 3 {
		if err := put(store.SignInTicket, fmt.Sprint("t", i), now.Add(time.Hour), 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := put(store.SignInTicket, "t3", now.Add(time.Hour), 3); !errors.Is(err, store.ErrConflict) {
		t.Errorf("fourth of max 3: %v, want ErrConflict", err)
	}
	if err := put(store.SignInOIDC, "flow2", now.Add(time.Hour), 3); err != nil {
		t.Errorf("another kind is bounded apart: %v", err)
	}

	// Many takers at once: one has it.
	if err := put(store.SignInOIDC, "race", now.Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.TakeSignInState(ctx, store.SignInOIDC, hash("race"))
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("take: %v", err)
			}
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("12 takers at once: %d had it, want 1", won)
	}
}
