package sqlite

import (
	"testing"

	"github.com/vigil-sec/vigil/store/storetest"
)

func TestSignInState(t *testing.T) {
	db, _ := openTest(t)
	storetest.RunSignIn(t, db)
}
