package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
)

func TestSignInState(t *testing.T) {
	db := openTest(t, Options{})
	storetest.RunSignIn(t, db)

	// A second store over the same schema, as a second API process is:
	// it takes what the first put, once.
	ctx := context.Background()
	other, err := Open(ctx, testDSN(), Options{Schema: db.schema})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	h := sha256.Sum256([]byte("shared"))
	now := time.Now()
	if err := db.PutSignInState(ctx, store.SignInState{Kind: store.SignInTicket, Hash: h[:], Data: []byte("x"), Expires: now.Add(time.Hour)}, 0, now); err != nil {
		t.Fatal(err)
	}
	if got, err := other.TakeSignInState(ctx, store.SignInTicket, h[:]); err != nil || string(got.Data) != "x" {
		t.Fatalf("take at the second store: %+v, %v", got, err)
	}
	if _, err := db.TakeSignInState(ctx, store.SignInTicket, h[:]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("taken again at the first: %v, want ErrNotFound", err)
	}
}
